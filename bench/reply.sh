#!/usr/bin/env bash
# reply.sh -- how many replies per second go from a composer POST through
# nginx (2 workers) to a committed outbox entry?  A throwaway Redis
# (RediSearch, persistence off) and nginx; T tickets of one group, each
# with a first mail; wrk POSTs /t/N/reply (form, CSRF token, session
# cookie) round-robin over the tickets for D seconds.  Afterwards the
# outbox must hold exactly one entry per 303 -- a reply counted is a
# reply committed.  Prints "reply rate: N replies/s".
#
#   bench/reply.sh [DURATION_S] [TICKETS]     defaults 5 and 500
#   BENCH_KEEP=1 bench/reply.sh               keep the temp dir
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DUR=${1:-5}
NT=${2:-500}
TC=$ROOT/build/ticketctl
MOD=$ROOT/build/ngx_http_ticket_module.so
for b in "$TC" "$MOD"; do
    [ -e "$b" ] || { echo "reply.sh: $b missing (make all)" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "reply.sh: wrk is not installed" >&2; exit 1; }

T=$(mktemp -d /tmp/tk-reply.XXXXXX)
chmod 755 "$T"
REDIS_PID='' NGINX_PID=''
cleanup() {
    [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null || true
    if [ -n "$REDIS_PID" ]; then
        kill "$REDIS_PID" 2>/dev/null || true
        while kill -0 "$REDIS_PID" 2>/dev/null; do sleep 0.1; done
    fi
    if [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT

SOCK=$T/redis.sock
redis-server "$ROOT/redis-schema/redis.conf" --port 0 --unixsocket "$SOCK" --unixsocketperm 777 \
    --dir "$T" --save '' --appendonly no --logfile "$T/redis.log" &
REDIS_PID=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
R="redis-cli -s $SOCK"
tc() { "$TC" --redis "unix:$SOCK" "$@"; }

tc init >/dev/null
tc group add ALSO --email also@example.org --signature 'Solidarische Gruesse' >/dev/null
PW=bench-reply-$$
printf '%s\n' "$PW" | tc user add bench --name Bench --email bench@example.org \
    --groups ALSO:full --password-stdin >/dev/null
for i in $(seq "$NT"); do
    tc ticket create --title "Frage $i" --group ALSO --customer "k$i@example.net" \
        --name "Kundin $i" --body "Hallo, ich habe eine Frage ($i)." >/dev/null
done
FIRST=$($R get tk:seq:ticket)
FIRST=$((FIRST - NT + 1))
# the first mail of each ticket: what the composer answers (reply=A)
A0=$($R lindex "tk:{t:$FIRST}:articles" 0)
ALAST=$($R lindex "tk:{t:$((FIRST + NT - 1))}:articles" 0)
[ "$ALAST" = $((A0 + NT - 1)) ] || { echo "reply.sh: article ids not consecutive" >&2; exit 1; }

PORT=$(perl -MNet::EmptyPort=empty_port -e 'print empty_port()')
mkdir -p "$T/nginx" "$T/static"
cp -r "$ROOT/static/." "$T/static/"
chmod -R a+rX "$T/static"
USER_ARGS=()
[ "$(id -u)" = 0 ] && USER_ARGS=(--user 'nobody nogroup')
"$ROOT/scripts/nginx-conf.sh" --prefix "$T/nginx" --port "$PORT" --redis "unix:$SOCK" \
    --static "$T/static" --workers 2 "${USER_ARGS[@]}" \
    --server 'access_log off;' > "$T/nginx/nginx.conf"
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off;' > "$T/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
BASE=http://127.0.0.1:$PORT
for _ in $(seq 50); do curl -s -o /dev/null "$BASE/login" && break; sleep 0.1; done

# sign in: the CSRF cookie and field of /login, then the session's token
curl -s -c "$T/jar" -o "$T/login.html" "$BASE/login"
LCSRF=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$T/login.html" | head -1)
curl -s -b "$T/jar" -c "$T/jar" -o /dev/null --data-urlencode login=bench \
    --data-urlencode "password=$PW" --data-urlencode "csrf=$LCSRF" "$BASE/login"
SID=$(awk '$6 == "tk_session" { print $7 }' "$T/jar")
[ -n "$SID" ] || { echo "reply.sh: login failed" >&2; exit 1; }
curl -s -b "tk_session=$SID" -o "$T/t.html" "$BASE/t/$FIRST"
CSRF=$(sed -n 's/.*<meta name="csrf" content="\([0-9a-f]*\)".*/\1/p' "$T/t.html" | head -1)
grep -q 'id="compose"' "$T/t.html" || { echo "reply.sh: no composer on /t/$FIRST" >&2; exit 1; }

# the form without rev/arts/hist: every POST is a fresh reply, never a
# conflict (the two-agent check is t/compose.t's); it answers the
# ticket's first mail and names the ticket's group, as the composer's
# form does
cat > "$T/reply.lua" <<LUA
local first, a0, n, i = $FIRST, $A0, $NT, 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "tk_session=$SID"
wrk.body = "csrf=$CSRF&type=reply&group=ALSO&to=Kundin+%3Ckundin%40example.net%3E"
    .. "&subject=Re%3A+Frage&state=3&body=Hallo%2C%0A%0Awir+melden+uns+bald.%0A"
local body = wrk.body
request = function()
    i = i + 1
    local k = (i * 7919) % n
    return wrk.format(nil, "/t/" .. (first + k) .. "/reply", nil,
        body .. "&reply=" .. (a0 + k))
end
LUA

# CPU seconds (utime + stime) of Redis and of the nginx workers
cpu() { awk '{ s += $14 + $15 } END { printf "%.2f", s / '"$(getconf CLK_TCK)"' }' "$@"; }
workers() { for p in $(pgrep -P "$NGINX_PID"); do echo "/proc/$p/stat"; done; }
Q0=$($R xlen 'tk:{ix}:outbox')
$R config resetstat >/dev/null
RC0=$(cpu "/proc/$REDIS_PID/stat") NC0=$(cpu $(workers))
wrk -t2 -c32 -d"${DUR}s" --latency -s "$T/reply.lua" "$BASE" > "$T/wrk.txt" 2>&1
Q1=$($R xlen 'tk:{ix}:outbox')
RC1=$(cpu "/proc/$REDIS_PID/stat") NC1=$(cpu $(workers))
cat "$T/wrk.txt"
# where Redis spends it, per reply (INFO commandstats, top 8)
$R info commandstats | tr -d '\r' | sed -n 's/^cmdstat_\([^:]*\):calls=\([0-9]*\),usec=\([0-9]*\),.*/\3 \1 \2/p' |
    sort -rn | head -8 | awk -v n="$((Q1 - Q0))" '{ printf "  redis %-14s %6.1f us/reply  %5.1f calls/reply\n", $2, $1 / n, $3 / n }'

REQS=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$T/wrk.txt")
BAD=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\)/\1/p' "$T/wrk.txt")
BAD=${BAD:-0}
SECS=$(sed -n 's/.* requests in \([0-9.]*\)s,.*/\1/p' "$T/wrk.txt")
COMMITTED=$((Q1 - Q0))
echo "requests $REQS, non-3xx $BAD, outbox entries committed $COMMITTED"
# wrk counts requests cut at the end as errors, not responses: the outbox
# may hold up to -c more than the 303s wrk saw, never fewer
if [ "$BAD" != 0 ] || [ "$COMMITTED" -lt "$REQS" ]; then
    echo "reply.sh: $BAD responses were not 303, or fewer entries ($COMMITTED) than replies ($REQS)" >&2
    tail -5 "$T/nginx/logs/error.log" >&2
    exit 1
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
perl -e 'my ($n, $r, $g) = @ARGV;
    printf "cpu per reply: redis %.0f us, nginx workers %.0f us (one core for redis: <= %.0f replies/s)\n",
        $r / $n * 1e6, $g / $n * 1e6, $n / ($r || 1e-9);' \
    "$COMMITTED" "$(echo "$RC1 - $RC0" | bc)" "$(echo "$NC1 - $NC0" | bc)"
perl -e 'printf "reply rate: %.0f replies/s\n", $ARGV[0] / $ARGV[1]' "$COMMITTED" "$SECS"
