#!/usr/bin/env bash
# outbox.sh -- how fast does "mailbridge outbox" drain the outbox?
# Queues N plain outbound articles (~1.5 KB body, To + Cc) the way the
# composer writes them (article hash + XADD tk:{ix}:outbox), starts the
# outbox role against Postfix's smtp-sink on loopback and prints mails/s
# from the first to the last accepted mail (one SMTP connection, reused).
#
#   bench/outbox.sh [N]          N defaults to 5000
#   BENCH_KEEP=1 bench/outbox.sh keep the temp dir
#   PGP=1 bench/outbox.sh [N]    the same mails encrypted (To, Cc and the
#                                group's key) and signed with the group key
#                                (throwaway keys in the temp dir's keyring)
# Last line: "outbox drain: R mails/s (N mails in S s)"; target >= 500;
# with PGP=1 "outbox drain pgp: ...", target >= 50.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-5000}
MB=${MAILBRIDGE:-$ROOT/build/mailbridge}
TC=${TICKETCTL:-$ROOT/build/ticketctl}
for b in "$MB" "$TC" /usr/sbin/smtp-sink; do
    [ -x "$b" ] || { echo "outbox.sh: $b missing" >&2; exit 1; }
done

T=$(mktemp -d /tmp/mb-outbox.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
    if [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT

redis-server "$ROOT/redis-schema/redis.conf" --port 0 --unixsocket "$T/redis.sock" --unixsocketperm 700 \
    --dir "$T" --save '' --appendonly no --logfile "$T/redis.log" &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$T/redis.sock" ] && break; sleep 0.1; done
R="redis-cli -s $T/redis.sock"
"$TC" --redis "unix:$T/redis.sock" init >/dev/null

PORT=''
for p in $(seq 10225 10325); do (: <"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { PORT=$p; break; }; done
[ -n "$PORT" ] || { echo "outbox.sh: no free port" >&2; exit 1; }
SINK_USER=$(id -un); [ "$(id -u)" = 0 ] && SINK_USER=nobody
# with PGP the sink keeps what it got (one file a mail): checked below
DUMP=()
if [ -n "${PGP:-}" ]; then mkdir -m 777 "$T/sink"; DUMP=(-d "$T/sink/m."); fi
/usr/sbin/smtp-sink -u "$SINK_USER" "${DUMP[@]}" "127.0.0.1:$PORT" 100 > "$T/sink.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do (: <"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

printf 'redis = unix:%s/redis.sock\nlog_level = warn\nsmtp.url = smtp://127.0.0.1:%s\n' "$T" "$PORT" > "$T/mb.conf"
CRYPT=''
if [ -n "${PGP:-}" ]; then
    # throwaway keys: the group's (signs, is encrypted to) and the two
    # recipients' (To, Cc), in the keyring mailbridge uses
    command -v gpg >/dev/null || { echo "outbox.sh: gpg missing" >&2; exit 1; }
    mkdir -m 700 "$T/gnupg"
    for uid in 'Legal-Team <legal@example.org>' 'Aktivistin <anna@example.net>' 'Akte <akte@example.org>'; do
        GNUPGHOME=$T/gnupg gpg --batch --pinentry-mode loopback --passphrase '' \
            --quick-gen-key "$uid" future-default default never 2>/dev/null
    done
    FPR=$(GNUPGHOME=$T/gnupg gpg --batch --with-colons --list-secret-keys legal@example.org |
          awk -F: '$1 == "fpr" { print $10; exit }')
    [ -n "$FPR" ] || { echo "outbox.sh: no group key" >&2; exit 1; }
    printf 'gnupg_home = %s/gnupg\n' "$T" >> "$T/mb.conf"
    $R HSET 'tk:{t:1}' group legal >/dev/null
    $R HSET 'tk:{g:legal}' name legal email legal@example.org pgp_sign "$FPR" >/dev/null
    CRYPT=encrypt,sign
fi
chmod 600 "$T/mb.conf"

# the queue: RESP through redis-cli --pipe
perl - "$N" "$CRYPT" <<'PERL' | $R --pipe > "$T/pipe.log"
use strict; use warnings;
my ($n, $crypt) = @ARGV;
sub cmd { my $s = '*' . @_ . "\r\n"; $s .= '$' . length($_) . "\r\n$_\r\n" for @_; print $s }
my $body = join '', map { "Zeile $_: wir haben deine Anfrage erhalten und melden uns bald.\n" } 1 .. 24;
for my $i (1 .. $n) {
    cmd('HSET', "tk:{t:1}:a:$i", id => $i, ticket => 1, kind => 'out',
        from => '"Legal-Team" <legal@example.org>',
        to => $crypt ? "Aktivistin $i <anna\@example.net>" : "Aktivistin $i <a$i\@example.net>",
        crypt => $crypt,
        cc => 'akte@example.org', subject => "[Ticket#1] Re: Frage $i",
        message_id => "tk.1.$i.bench\@example.org", in_reply_to => "q$i\@example.net",
        body => $body, author => 'bench', time => 1796281207, attachments => 0,
        delivery => 'queued', delivery_tries => 0);
    cmd('XADD', 'tk:{ix}:outbox', '*', ticket => 1, article => $i, kind => 'article');
}
PERL
echo "queued $(  $R XLEN 'tk:{ix}:outbox') mails ($(nproc) cores)"

T0=$(date +%s.%N)
"$MB" -c "$T/mb.conf" outbox 2> "$T/outbox.log" &
PIDS+=($!)
while [ "$($R XLEN 'tk:{ix}:outbox')" != 0 ]; do
    sleep 0.05
    kill -0 "${PIDS[-1]}" 2>/dev/null || { echo "outbox.sh: mailbridge outbox exited" >&2; tail -5 "$T/outbox.log" >&2; exit 1; }
done
T1=$(date +%s.%N)
SENT=$N
for i in 1 "$N"; do
    st=$($R HGET "tk:{t:1}:a:$i" delivery)
    [ "$st" = sent ] || { echo "outbox.sh: article $i is '$st', not sent" >&2; tail -5 "$T/outbox.log" >&2; exit 1; }
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$CRYPT" ]; then
    # what the sink got: encrypted mails, never the plaintext
    GOT=$(ls "$T/sink" | wc -l)
    ENC=$(grep -l 'multipart/encrypted' "$T"/sink/m.* | wc -l)
    PLAIN=$(grep -l 'Zeile 1: wir haben' "$T"/sink/m.* | wc -l || true)
    echo "sink: $GOT mails, $ENC multipart/encrypted, $PLAIN with plaintext"
    [ "$ENC" = "$N" ] && [ "$PLAIN" = 0 ] || { echo "outbox.sh: not every mail was encrypted" >&2; exit 1; }
fi
perl -e 'my ($n, $t0, $t1, $w) = @ARGV; printf "outbox drain%s: %.0f mails/s (%d mails in %.2f s)\n", $w, $n / ($t1 - $t0), $n, $t1 - $t0' \
    "$SENT" "$T0" "$T1" "${CRYPT:+ pgp}"
