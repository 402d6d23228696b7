#!/usr/bin/env bash
# triggers.sh -- does evaluating triggers slow ingest down?  Imports N
# plain ~5 KB mails ("mailbridge import", the mbox of bench/import.sh:
# some subjects say "frist") into a throwaway Redis while the feed role
# ("mailbridge run --role feed") runs, twice: with no rule at all, and
# with the default rule "dringend" plus 50 more (20 subject, 20 body
# patterns that scan the whole 5 KB body and never match, 10 sender
# patterns; caseless, UTF + UCP).  The ingest rate is N / (start of the
# import .. the feed role has acknowledged every entry); the goal
# (issue 11) is rate(51 rules) >= 0.8 x rate(no rules).
#
#   bench/triggers.sh [N]        N defaults to 3000 (each setting runs
#                                twice, alternating; the faster counts)
#   BENCH_KEEP=1 bench/triggers.sh   keep the temp dir
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-3000}
MB=${MAILBRIDGE:-$ROOT/build/mailbridge}
TC=${TICKETCTL:-$ROOT/build/ticketctl}
for b in "$MB" "$TC"; do
    [ -x "$b" ] || { echo "triggers.sh: $b missing (make all)" >&2; exit 1; }
done

T=$(mktemp -d /tmp/mb-triggers.XXXXXX)
REDIS_PID=
FEED_PID=
stop() {
    if [ -n "$FEED_PID" ]; then kill "$FEED_PID" 2>/dev/null || true; wait "$FEED_PID" 2>/dev/null || true; FEED_PID=; fi
    if [ -n "$REDIS_PID" ]; then
        kill "$REDIS_PID" 2>/dev/null || true
        while kill -0 "$REDIS_PID" 2>/dev/null; do sleep 0.1; done
        REDIS_PID=
    fi
}
cleanup() {
    stop
    if [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT

perl - "$N" > "$T/bench.mbox" <<'PERL'
use strict; use warnings;
my $n = shift;
srand(42);
my @w = qw(polizei anwalt versammlung demonstration anzeige verfahren gericht
    termin vorladung aussage zeuge beschlagnahme handy durchsuchung akteneinsicht
    bussgeld strafbefehl widerspruch frist kosten hilfe rechtshilfe solidaritaet
    kundgebung festnahme gewahrsam protokoll bericht dokument bitte danke gruss
    und oder aber wir ihr sie der die das ein eine mit von zu am im auf fuer nicht);
for my $i (1 .. $n) {
    my $from = sprintf 'aktivistin%d@example.net', int(rand 2000);
    my $body = '';
    while (length $body < 4800) {
        $body .= join(' ', map { $w[int rand @w] } 1 .. 12) . "\n";
    }
    print "From $from Mon Nov 23 10:00:00 2026\n",
        "From: Aktivistin $i <$from>\n",
        "To: legal\@example.org\n",
        "Subject: Frage zu $w[$i % @w] $i\n",
        "Date: Mon, 23 Nov 2026 10:00:00 +0100\n",
        "Message-ID: <trg$i.$$\@example.net>\n",
        "MIME-Version: 1.0\n",
        "Content-Type: text/plain; charset=utf-8\n\n",
        $body, "\n";
}
PERL

TIMEFORMAT='%U %S'
# CPU seconds of a process (utime + stime)
cpu() { awk '{ printf "%.3f", ($14 + $15) / '"$(getconf CLK_TCK)"' }' "/proc/$1/stat"; }

# one run: fresh Redis, init, rules, feed role, import; prints the rate
run() {
    local rules=$1 sock="$T/redis-$1.sock" start end i
    rm -f "$sock"
    redis-server "$ROOT/redis-schema/redis.conf" --port 0 --unixsocket "$sock" --unixsocketperm 700 \
        --dir "$T" --save '' --appendonly no --logfile "$T/redis-$rules.log" &
    REDIS_PID=$!
    for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
    local tc=("$TC" --redis "unix:$sock")
    "${tc[@]}" init >/dev/null
    "${tc[@]}" group add legal --email legal@example.org --all-agents >/dev/null
    if [ "$rules" = 0 ]; then
        "${tc[@]}" trigger del dringend >/dev/null
    else
        "${tc[@]}" trigger set dringend --notify 'mailteam,@legal' >/dev/null
        for i in $(seq 20); do
            "${tc[@]}" trigger add "s$i" --subject "\\bAkte$i-\\d+\\b" --icase 1 --set-priority high >/dev/null
            "${tc[@]}" trigger add "b$i" --body "Aktenzeichen\\s+$i/\\d{2}" --icase 1 --note "Az $i" >/dev/null
        done
        for i in $(seq 10); do
            "${tc[@]}" trigger add "f$i" --from "@gericht$i\\.example\$" --set-group legal >/dev/null
        done
    fi
    printf 'redis = unix:%s\ndefault_group = legal\nlog_level = warn\nfeed_consumer = bench\n' "$sock" > "$T/mb.conf"
    chmod 600 "$T/mb.conf"
    "$MB" -c "$T/mb.conf" run --role feed > "$T/feed-$rules.log" 2>&1 &
    FEED_PID=$!
    sleep 0.5
    start=$(date +%s.%N)
    local c0 c1
    c0=$(cpu "$REDIS_PID")
    { time "$MB" -c "$T/mb.conf" import --no-progress "$T/bench.mbox" > "$T/import-$rules.txt"; } 2> "$T/import-$rules.time"
    # caught up: the group has delivered the newest entry and nothing pends
    while :; do
        local last info
        last=$(redis-cli -s "$sock" --raw xrevrange 'tk:{ix}:feed' + - COUNT 1 | head -1)
        info=$(redis-cli -s "$sock" --raw xinfo groups 'tk:{ix}:feed' | tr '\n' ' ')
        [[ "$info" == *"pending 0 "* && "$info" == *"last-delivered-id $last"* ]] && break
        sleep 0.05
    done
    end=$(date +%s.%N)
    c1=$(cpu "$REDIS_PID")
    # CPU per mail of all three: robust where the wall clock is shared
    perl -e 'my ($n, $r, $f, $u, $s) = @ARGV; printf "%d\n", (($r) + $f + $u + $s) / $n * 1e6' \
        "$N" "$(perl -e 'print $ARGV[1] - $ARGV[0]' "$c0" "$c1")" "$(cpu "$FEED_PID")" \
        $(tail -1 "$T/import-$rules.time") > "$T/cpu-$rules"
    perl -e 'printf "%d\n", $ARGV[1] / $ARGV[0] * 1e6' "$N" "$(cpu "$FEED_PID")" > "$T/feedcpu-$rules"
    local urgent
    urgent=$(redis-cli -s "$sock" --raw xlen 'tk:{ix}:notify')
    perl -e 'printf "%d rules: import %s, with the feed role caught up %.0f mails/s (%d notifications); cpu (import + feed role + redis) %d us per mail, of it feed role %d us\n",
        $ARGV[0], $ARGV[1], $ARGV[2] / ($ARGV[4] - $ARGV[3]), $ARGV[5], $ARGV[6], $ARGV[7]' \
        "$( [ "$rules" = 0 ] && echo 0 || echo 51 )" "$(sed -n 's/.*(\([0-9]*\/s\)).*/\1/p' "$T/import-$rules.txt")" \
        "$N" "$start" "$end" "$urgent" "$(cat "$T/cpu-$rules")" "$(cat "$T/feedcpu-$rules")"
    # the best of the runs counts (the machine is shared)
    perl -e 'my $r = $ARGV[0] / ($ARGV[2] - $ARGV[1]); my $o = $ARGV[3] || 0;
        printf "%.1f\n", $r > $o ? $r : $o' "$N" "$start" "$end" "$(cat "$T/rate-$rules" 2>/dev/null)" > "$T/rate-$rules.new"
    mv "$T/rate-$rules.new" "$T/rate-$rules"
    stop
}

echo "generated $N mails ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
# alternating, best of two each: neighbours on the machine come and go
run 0
run 51
run 51
run 0
perl -e 'printf "ingest rate with 51 rules / without: %.2f wall clock, %.2f by cpu per mail (goal >= 0.80)\n",
    $ARGV[1] / $ARGV[0], $ARGV[2] / $ARGV[3]' \
    "$(cat "$T/rate-0")" "$(cat "$T/rate-51")" "$(cat "$T/cpu-0")" "$(cat "$T/cpu-51")"
