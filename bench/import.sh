#!/usr/bin/env bash
# import.sh -- how fast does "mailbridge import" store an archive?
# Generates N plain ~5 KB mails (an mbox: 70 % new conversations, 30 %
# replies by In-Reply-To, 2000 senders), imports them into a throwaway
# Redis (RediSearch, persistence off, unix socket) and prints mails/s.
# Then imports the same mbox again to show that nothing is stored twice.
#
#   bench/import.sh [N]          N defaults to 20000
#   BENCH_KEEP=1 bench/import.sh keep the temp dir
#   MAILBRIDGE=path TICKETCTL=path   binaries (default: build/)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-20000}
MB=${MAILBRIDGE:-$ROOT/build/mailbridge}
TC=${TICKETCTL:-$ROOT/build/ticketctl}
for b in "$MB" "$TC"; do
    [ -x "$b" ] || { echo "import.sh: $b missing (make build/mailbridge build/ticketctl)" >&2; exit 1; }
done

T=$(mktemp -d /tmp/mb-import.XXXXXX)
REDIS_PID=
cleanup() {
    if [ -n "$REDIS_PID" ]; then
        kill "$REDIS_PID" 2>/dev/null || true
        while kill -0 "$REDIS_PID" 2>/dev/null; do sleep 0.1; done
    fi
    if [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT

redis-server "$ROOT/redis-schema/redis.conf" --port 0 --unixsocket "$T/redis.sock" --unixsocketperm 700 \
    --dir "$T" --save '' --appendonly no --logfile "$T/redis.log" &
REDIS_PID=$!
for _ in $(seq 50); do [ -S "$T/redis.sock" ] && break; sleep 0.1; done
"$TC" --redis "unix:$T/redis.sock" init >/dev/null

printf 'redis = unix:%s/redis.sock\ndefault_group = legal\nlog_level = warn\n' "$T" > "$T/mb.conf"
chmod 600 "$T/mb.conf"

perl - "$N" > "$T/bench.mbox" <<'PERL'
use strict; use warnings;
my $n = shift;
srand(42);
my @w = qw(polizei anwalt versammlung demonstration anzeige verfahren gericht
    termin vorladung aussage zeuge beschlagnahme handy durchsuchung akteneinsicht
    bussgeld strafbefehl widerspruch frist kosten hilfe rechtshilfe solidaritaet
    kundgebung festnahme gewahrsam protokoll bericht dokument bitte danke gruss
    und oder aber wir ihr sie der die das ein eine mit von zu am im auf fuer nicht);
my @ids;
for my $i (1 .. $n) {
    my $from = sprintf 'aktivistin%d@example.net', int(rand 2000);
    my $reply = @ids && rand() < 0.3 ? $ids[int rand @ids] : undef;
    my $id = "bench$i.$$\@example.net";
    push @ids, $id;
    my $body = '';
    while (length $body < 4800) {
        $body .= join(' ', map { $w[int rand @w] } 1 .. 12) . "\n";
    }
    my $subject = $reply ? 'Re: Frage zu ' . $w[$i % @w] : 'Frage zu ' . $w[$i % @w] . " $i";
    print "From $from Mon Nov 23 10:00:00 2026\n",
        "From: Aktivistin $i <$from>\n",
        "To: legal\@example.org\n",
        "Subject: $subject\n",
        "Date: Mon, 23 Nov 2026 10:00:00 +0100\n",
        "Message-ID: <$id>\n",
        ($reply ? "In-Reply-To: <$reply>\n" : ''),
        "MIME-Version: 1.0\n",
        "Content-Type: text/plain; charset=utf-8\n\n",
        $body, "\n";
}
PERL

SIZE=$(du -m "$T/bench.mbox" | cut -f1)
echo "generated $N mails, $SIZE MB ($(nproc) cores)"

# CPU seconds of Redis (from /proc) and of mailbridge (bash's time):
# on a busy machine the wall clock says more about the neighbours
redis_cpu() { awk '{ printf "%.2f", ($14 + $15) / '"$(getconf CLK_TCK)"' }' "/proc/$REDIS_PID/stat"; }
TIMEFORMAT='%U %S'
R0=$(redis_cpu)
{ time "$MB" -c "$T/mb.conf" import --no-progress "$T/bench.mbox" > "$T/first.txt"; } 2> "$T/first.time"
R1=$(redis_cpu)
cat "$T/first.txt"
"$MB" -c "$T/mb.conf" import --no-progress "$T/bench.mbox" | tee "$T/second.txt"

RATE=$(sed -n 's/.*(\([0-9]*\)\/s).*/\1/p' "$T/first.txt")
read -r MU MS < <(tail -1 "$T/first.time")
perl -e 'my ($n, $mu, $ms, $r0, $r1) = @ARGV;
    my ($m, $r) = (($mu + $ms) / $n * 1e6, ($r1 - $r0) / $n * 1e6);
    printf "cpu per mail: mailbridge %.0f us, redis %.0f us (one core each: <= %.0f mails/s; in series: %.0f mails/s)\n",
        $m, $r, 1e6 / ($m > $r ? $m : $r), 1e6 / ($m + $r);' "$N" "$MU" "$MS" "$R0" "$R1"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
TICKETS=$(redis-cli -s "$T/redis.sock" get tk:seq:ticket)
ARTICLES=$(redis-cli -s "$T/redis.sock" get tk:seq:article)
MEM=$(redis-cli -s "$T/redis.sock" info memory | sed -n 's/^used_memory_human:\(.*\)\r$/\1/p')
echo "tickets $TICKETS, articles $ARTICLES, redis memory $MEM"
echo "import rate: $RATE mails/s"
