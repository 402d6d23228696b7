#!/usr/bin/env bash
# run.sh -- "make bench": speed, memory and scale of the ticket system,
# measured against nginx's own limit (a static file of the same size from
# the same nginx), in one run.  Not part of "make test".
#
#   bench/run.sh            full:  10 k and 1 M tickets   (~15 min here: see
#                           docs/performance.md, generating 1 M takes ~16)
#   QUICK=1 bench/run.sh    quick: 10 k and 100 k tickets (<= 2 min)
#
# Starts its own Redis (RediSearch; AOF and RDB off: bench speed, not
# durability) and nginx with the module (2 workers, as in production,
# access log off) on free loopback ports under a temp dir, generates data
# with "ticketctl gen", logs in as the bench user and drives wrk.  Prints
# one table, writes bench/results/latest.json (and, for a full run, the
# table into docs/performance.md).  A part that is missing or broken gives
# its row "n/a: <reason>"; no number is ever made up.
#
# Knobs (environment): BENCH_SCALES="10000 1000000", BENCH_DURATION=3,
# BENCH_CONNECTIONS=32, BENCH_THREADS=2, BENCH_ARTICLES=1 (articles per
# generated ticket; more multiplies the generation time: RediSearch's
# FT.ADD of a 5 kB body is most of it), BENCH_CG_REQUESTS=100, BENCH_KEEP=1 (keep the temp
# dir), BENCH_DOC=0/1 (write docs/performance.md; default: full runs only),
# BENCH_PERF=1 (perf profile of the overview run at the largest scale),
# BENCH_BUDGET=1500 (seconds; QUICK 120): data generation stops when the
# budget is used up and the rows of that scale say so.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
BP="perl $ROOT/bench/bench.pl"
QUICK=${QUICK:-}
[ "$QUICK" = 0 ] && QUICK=

if [ -n "$QUICK" ]; then
    MODE=quick
    SCALES=${BENCH_SCALES:-"10000 100000"}
    DUR=${BENCH_DURATION:-2}
    # FT.ADD of a 5 kB body costs Redis ~0.5 ms: 90 k more would take the
    # whole 2 minutes.  So QUICK's larger set has no full text (search and
    # memory rows say so); the full run indexes all 1 M.
    NOFT_ABOVE=${BENCH_NOFT_ABOVE:-10000}
    BUDGET=${BENCH_BUDGET:-120}   # seconds for the whole run
    RESERVE=35                    # of which after the last gen
    CG_N=${BENCH_CG_REQUESTS:-40}
    WARM=0
else
    MODE=full
    SCALES=${BENCH_SCALES:-"10000 1000000"}
    DUR=${BENCH_DURATION:-3}
    CG_N=${BENCH_CG_REQUESTS:-100}
    WARM=1
    NOFT_ABOVE=${BENCH_NOFT_ABOVE:-0}
    BUDGET=${BENCH_BUDGET:-1500}
    RESERVE=200
fi
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-32}
ARTICLES=${BENCH_ARTICLES:-1}
TICKET_ARTICLES=20            # the ticket page is measured on one with 20
T0=$(date +%s)

say() { printf 'bench: %s\n' "$*" >&2; }

T=$(mktemp -d /tmp/tkbench.XXXXXX)
chmod 755 "$T"                # nginx workers (nobody) traverse it
RES=$T/results.txt
: > "$RES"
put() { printf '%s=%s\n' "$1" "$2" >> "$RES"; }
na() { put "$1.na" "$2"; say "$1: n/a: $2"; }

REDIS_PID='' NGINX_PID='' NGINX2_PID='' CG_PID='' WRITER_PID=''
cleanup() {
    local p
    [ -n "$WRITER_PID" ] && kill "$WRITER_PID" 2>/dev/null
    for p in $CG_PID $NGINX_PID $NGINX2_PID; do
        kill -QUIT "$p" 2>/dev/null
    done
    for p in $CG_PID $NGINX_PID $NGINX2_PID; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    if [ -n "$REDIS_PID" ]; then
        redis-cli -s "$SOCK" shutdown nosave >/dev/null 2>&1 || kill "$REDIS_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$REDIS_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    if [ -n "${BENCH_KEEP:-}" ]; then say "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

label() {
    local n=$1
    if [ "$n" -ge 1000000 ]; then echo "$((n / 1000000))M"
    elif [ "$n" -ge 1000 ]; then echo "$((n / 1000))k"
    else echo "$n"; fi
}

# ---- what is there ----------------------------------------------------------

MODULE=$BUILD/ngx_http_ticket_module.so
TICKETCTL=$BUILD/ticketctl
REDISEARCH=/usr/lib/redis/modules/redisearch.so
HAVE_WRK=1 HAVE_MODULE=1 HAVE_CTL=1 HAVE_VG=1
command -v wrk >/dev/null || HAVE_WRK=0
command -v valgrind >/dev/null || HAVE_VG=0
[ -f "$MODULE" ] || HAVE_MODULE=0
[ -x "$TICKETCTL" ] || HAVE_CTL=0

put meta.mode "$MODE"
put meta.date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
put meta.git "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
put meta.scales "$SCALES"
put meta.host.nproc "$(nproc)"
put meta.host.cpu "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
put meta.host.kernel "$(uname -r)"
put meta.wrk "-t$THREADS -c$CONNS -d${DUR}s --latency"
put meta.articles_per_ticket "$ARTICLES"
put meta.loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"
MODULE_SUM=$(sha256sum "$MODULE" 2>/dev/null | cut -c1-12)
put meta.module_sha256 "${MODULE_SUM:-none}"
put meta.setup "$(nproc) cores shared by wrk, nginx and Redis; wrk -t$THREADS -c$CONNS -d${DUR}s; nginx 2 workers, access log off; Redis AOF/RDB off, unix socket."

if ! command -v redis-server >/dev/null || [ ! -f "$REDISEARCH" ]; then
    say "redis-server or RediSearch missing (make deps): nothing to measure"
    exit 1
fi

# ---- Redis ----------------------------------------------------------------------

mkdir -p "$T/redis"
SOCK=$T/redis/redis.sock
RPORT=$($BP port)
redis-server "$ROOT/redis-schema/redis.conf" --port "$RPORT" --bind 127.0.0.1 --dir "$T/redis" \
    --appendonly no --save '' \
    --unixsocket "$SOCK" --unixsocketperm 777 \
    --logfile "$T/redis/redis.log" --daemonize no >/dev/null 2>&1 &
REDIS_PID=$!
for _ in $(seq 50); do
    redis-cli -s "$SOCK" ping >/dev/null 2>&1 && break
    sleep 0.1
done
R() { redis-cli -s "$SOCK" "$@"; }
R ping >/dev/null || { say "Redis did not start: $(tail -3 "$T/redis/redis.log")"; exit 1; }
put meta.redis "$(R info server | sed -n 's/^redis_version://p' | tr -d '\r')"

# ---- nginx ----------------------------------------------------------------------

mkdir -p "$T/static" "$T/nginx"
cp -r "$ROOT/static/." "$T/static/" 2>/dev/null
# start_nginx DIR PORT SERVER_DIRECTIVES: nginx with the module, 2 workers,
# in the background; sets STARTED_PID, or STARTED_NA to why not
start_nginx() {
    local dir=$1 port=$2 extra=$3
    STARTED_PID='' STARTED_NA=''
    mkdir -p "$dir"
    "$ROOT/scripts/nginx-conf.sh" --prefix "$dir" --port "$port" \
        --redis "unix:$SOCK" --static "$T/static" --workers 2 \
        --server "$extra" > "$dir/nginx.conf" 2> "$dir/conf.err"
    if ! nginx -p "$dir" -c "$dir/nginx.conf" -t >"$dir/t.log" 2>&1; then
        STARTED_NA="nginx -t failed: $(grep -m1 emerg "$dir/t.log")"
        return 1
    fi
    nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' > "$dir/stdout.log" 2>&1 &
    STARTED_PID=$!
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$port/login" && return 0
        sleep 0.1
    done
    STARTED_NA="nginx did not answer: $(tail -2 "$dir/logs/error.log" 2>/dev/null)"
    return 1
}

NPORT=$($BP port)
BASE=http://127.0.0.1:$NPORT
NGINX_NA=''
if [ "$HAVE_MODULE" = 0 ]; then
    NGINX_NA="module not built ($MODULE missing)"
elif [ ! -x "$ROOT/scripts/nginx-conf.sh" ]; then
    NGINX_NA="scripts/nginx-conf.sh missing"
else
    start_nginx "$T/nginx" "$NPORT" 'access_log off;'
    NGINX_PID=$STARTED_PID NGINX_NA=$STARTED_NA
fi
[ -n "$NGINX_NA" ] && say "$NGINX_NA"

# A second nginx with the page cache off (same Redis, same sessions): the
# cost of a page rendered from Redis, i.e. of every first view after a
# change.  Only when the module has the directive.
BASE2='' NGINX2_NA=''
if [ -n "$NGINX_NA" ]; then
    NGINX2_NA=$NGINX_NA
elif ! grep -q ticket_cache_zone "$MODULE"; then
    NGINX2_NA="the module has no page cache (ticket_cache)"
else
    NPORT2=$($BP port)
    start_nginx "$T/nginx2" "$NPORT2" 'access_log off; ticket_cache off;' &&
        BASE2=http://127.0.0.1:$NPORT2
    NGINX2_PID=$STARTED_PID NGINX2_NA=$STARTED_NA
fi
[ -n "$NGINX2_NA" ] && say "cache-off rows: $NGINX2_NA"
put meta.nginx "$(nginx -v 2>&1 | sed 's/.*nginx\///')"

# ---- helpers ----------------------------------------------------------------

tkctl() { TK_REDIS=unix:$SOCK timeout "${TKCTL_TIMEOUT:-60}" "$TICKETCTL" --redis "unix:$SOCK" "$@"; }

# wrk_row KEY NAME URL [HEADER]: one wrk run; req/s, p50, p99 or n/a
wrk_row() {
    local key=$1 name=$2 url=$3 hdr=${4:-} out=$T/wrk.${1//\//_}.txt
    local -a h=()
    [ -n "$hdr" ] && h=(-H "$hdr")
    put "$key.name" "$name"
    put "$key.url" "${url#"$BASE"}"
    if [ "$HAVE_WRK" = 0 ]; then na "$key" "wrk not installed"; return 1; fi
    # warm (full runs: 1 s of load; QUICK: one request, so the page cache
    # holds the page and p99 is not the 32 connections' first render)
    if [ "$WARM" = 1 ]; then wrk -t"$THREADS" -c"$CONNS" -d1s "${h[@]}" "$url" >/dev/null 2>&1
    else curl -s -o /dev/null "${h[@]}" "$url"; fi
    local perf_pid=''
    if [ "${PERF_FOR:-}" = "$key" ] && command -v perf >/dev/null; then
        # CPU profile of the nginx workers and Redis during this run
        local pids
        pids=$( (worker_pids; echo "$REDIS_PID") | paste -sd, -)
        perf record -q -F 499 -g -p "$pids" -o "$T/perf.data" -- sleep "$DUR" \
            > "$T/perf.log" 2>&1 &
        perf_pid=$!
    fi
    timeout $((DUR + 30)) wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency \
        "${h[@]}" "$url" > "$out" 2>&1
    if [ -n "$perf_pid" ]; then
        wait "$perf_pid"
        perf_report "$key"
    fi
    local v
    if ! v=$($BP wrk "$out"); then na "$key" "wrk failed: $(head -c 200 "$out" | tr '\n' ' ')"; return 1; fi
    set -- $v
    if [ "$4" != 0 ] || [ "$5" != 0 ]; then
        put "$key.invalid" "$v"
        na "$key" "$4 non-2xx/3xx responses, $5 socket errors in the wrk run"
        return 1
    fi
    put "$key.rps" "$1"; put "$key.p50" "$2"; put "$key.p99" "$3"
    say "$(printf '%-40s %8s req/s  p50 %7s ms  p99 %7s ms' "$name" "$1" "$2" "$3")"
}

# fetch URL FILE [HEADER] -> prints the HTTP status
fetch() {
    local -a h=()
    [ -n "${3:-}" ] && h=(-H "$3")
    curl -s -o "$2" -w '%{http_code}' "${h[@]}" "$1"
}

# login: GET /login (tk_csrf cookie + hidden csrf field), POST; sets SID
login() {
    local user=$1 pass=$2 csrf cookie
    SID='' LOGIN_WHY=''
    : > "$T/login.h"; : > "$T/login2.h"
    curl -s -D "$T/login.h" -o "$T/login.html" "$BASE/login" ||
        { LOGIN_WHY="GET /login failed (curl $?)"; return 1; }
    cookie=$($BP set-cookie "$T/login.h" tk_csrf) ||
        { LOGIN_WHY="GET /login: no tk_csrf cookie ($(head -1 "$T/login.h" | tr -d '\r'))"; return 1; }
    csrf=$($BP form-csrf "$T/login.html") ||
        { LOGIN_WHY="GET /login: no hidden csrf field"; return 1; }
    curl -s -D "$T/login2.h" -o /dev/null -b "tk_csrf=$cookie" \
        --data-urlencode "login=$user" --data-urlencode "password=$pass" \
        --data-urlencode "csrf=$csrf" "$BASE/login" ||
        { LOGIN_WHY="POST /login failed (curl $?)"; return 1; }
    SID=$($BP set-cookie "$T/login2.h" tk_session) ||
        { LOGIN_WHY="POST /login: no tk_session cookie ($(head -1 "$T/login2.h" | tr -d '\r'))"; return 1; }
}

# pids of the nginx workers (children of our master)
worker_pids() {
    local p pp
    for p in /proc/[0-9]*; do
        pp=$(awk '{print $4}' "$p/stat" 2>/dev/null) || continue
        [ "$pp" = "$NGINX_PID" ] || continue
        grep -q 'worker process' "$p/cmdline" 2>/dev/null || continue
        echo "${p#/proc/}"
    done
}

# worker RSS in kB, from /proc
worker_rss() {
    local p rss out=''
    for p in $(worker_pids); do
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
        [ -n "$rss" ] && out+="$rss "
    done
    echo "$out"
}

# perf report of a wrk run: share of samples per program and library,
# then the top symbols
perf_report() {
    local f=$ROOT/bench/results/perf-${1//./-}.txt
    mkdir -p "$ROOT/bench/results"
    {
        echo "# perf record -F 499 -g on the nginx workers + Redis during wrk ($1)"
        echo "# by program and library:"
        perf report -i "$T/perf.data" --stdio --no-children --sort comm,dso 2>/dev/null |
            grep -E '^ +[0-9.]+%' | head -25
        echo "# top symbols:"
        perf report -i "$T/perf.data" --stdio --no-children --sort comm,dso,sym -g none 2>/dev/null |
            grep -E '^ +[0-9.]+%' | head -50
    } > "$f"
    say "perf profile: ${f#"$ROOT"/}"
}

# Redis commands per request: reset the stats, N requests, count.
cmds_per_request() {
    local key=$1 url=$2 n=20 i
    # one request first: the cost of a page, not of the first view after
    # the writes of the row before (those are in "writes meanwhile")
    curl -s -o /dev/null -H "Cookie: tk_session=$SID" "$url"
    R config resetstat >/dev/null
    for i in $(seq $n); do
        curl -s -o /dev/null -H "Cookie: tk_session=$SID" "$url"
    done
    set -- $($BP cmdstats "$SOCK")
    put "$key.per_req" "$(awk -v t="$1" -v n=$n 'BEGIN { printf "%.2f", t / n }')"
    put "$key.redis_usec_per_req" "$(awk -v t="$3" -v n=$n 'BEGIN { printf "%.1f", t / n }')"
    put "$key.by_command" "$2"
}

# ---- callgrind: instructions per request ------------------------------

# Single-process nginx under callgrind; after 5 warm-up requests the
# counters are zeroed, N requests run, a dump; then zero, the same time
# idle, a dump.  (Ir_requests - Ir_idle) / N.
callgrind_page() {
    local sc=$1 page=$2 url=$3 extra=${4:-} key=cg.$1.$2 P=$T/ngx-cg-$2 port i t0 t1 dt
    if [ "$HAVE_VG" = 0 ]; then na "$key" "valgrind not installed"; return; fi
    rm -rf "$P"; mkdir -p "$P"
    port=$($BP port)
    "$ROOT/scripts/nginx-conf.sh" --prefix "$P" --port "$port" --redis "unix:$SOCK" \
        --static "$T/static" --workers 1 --server "access_log off; $extra" \
        --main 'timer_resolution 500ms;' > "$P/nginx.conf"
    valgrind --tool=callgrind --callgrind-out-file="$P/cg.out" \
        nginx -p "$P" -c "$P/nginx.conf" -g 'daemon off; master_process off;' \
        > "$P/vg.log" 2>&1 &
    CG_PID=$!
    local u=http://127.0.0.1:$port${url#"$BASE"}
    for _ in $(seq 300); do
        curl -s -o /dev/null "http://127.0.0.1:$port/static/bench-overview.html" && break
        sleep 0.2
    done
    for i in 1 2 3 4 5; do
        curl -s -o /dev/null -H "Cookie: tk_session=$SID" "$u"
    done
    : > "$P/curl.cfg"
    for i in $(seq "$CG_N"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$u" >> "$P/curl.cfg"; done
    callgrind_control -z "$CG_PID" >/dev/null 2>&1
    t0=$(date +%s.%N)
    curl -s -K "$P/curl.cfg" -H "Cookie: tk_session=$SID" -w '%{http_code}\n' > "$P/codes"
    t1=$(date +%s.%N)
    callgrind_control -d "$CG_PID" >/dev/null 2>&1
    callgrind_control -z "$CG_PID" >/dev/null 2>&1
    dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    sleep "$dt"
    callgrind_control -d "$CG_PID" >/dev/null 2>&1
    kill -QUIT "$CG_PID"; wait "$CG_PID" 2>/dev/null; CG_PID=''
    local ok ir1 ir2
    ok=$(grep -c '^200$' "$P/codes")
    ir1=$(sed -n 's/^summary: //p' "$P/cg.out.1" 2>/dev/null)
    ir2=$(sed -n 's/^summary: //p' "$P/cg.out.2" 2>/dev/null)
    if [ "$ok" != "$CG_N" ]; then na "$key" "only $ok of $CG_N requests under callgrind answered 200"; return; fi
    if [ -z "$ir1" ] || [ -z "$ir2" ]; then na "$key" "no callgrind dump ($(tail -1 "$P/vg.log"))"; return; fi
    put "$key.requests" "$CG_N"
    put "$key.seconds" "$dt"
    put "$key.ir_requests" "$ir1"
    put "$key.ir_idle" "$ir2"
    put "$key.ir_per_req" "$(( (ir1 - ir2) / CG_N ))"
    mkdir -p "$ROOT/bench/results"
    {
        echo "# callgrind, $CG_N $page requests (${url#"$BASE"}, $(label "$sc") tickets), $(( (ir1 - ir2) / CG_N )) Ir/request"
        echo "# self cost (exclusive), then inclusive; nginx itself is stripped (???)"
        callgrind_annotate --inclusive=no --threshold=100 "$P/cg.out.1" 2>/dev/null |
            grep -E '^ *[0-9,]+ \(' | grep -v 'PROGRAM TOTALS' | head -45
        echo
        callgrind_annotate --inclusive=yes --threshold=100 "$P/cg.out.1" 2>/dev/null |
            grep -E '^ *[0-9,]+ \(' | grep -v 'PROGRAM TOTALS' | head -45
    } > "$ROOT/bench/results/callgrind-$page-$(label "$sc").txt"
    say "callgrind: $(( (ir1 - ir2) / CG_N )) Ir per $page request ($CG_N requests, idle $ir2 Ir subtracted)"
}

# overview_with_writes SCALE OVERVIEW COOKIE: the cached overview under
# wrk while a writer changes a ticket ~20 times a second (ticketctl, one
# MULTI each: far more than a collective's hundreds of mails a week).
# Every write bumps tk:{ix}:gen, so the pages in between are re-rendered.
overview_with_writes() {
    local sc=$1 ov=$2 ck=$3 wt n0 n1
    wt=1    # any ticket: every write bumps the generation; this one
            # moves to the top of an overview sorted by "updated"
    n0=$(R get tk:{ix}:gen)
    ( i=0; while :; do
          tkctl ticket update "$wt" --priority $(( i % 4 + 1 )) >/dev/null 2>&1
          i=$((i + 1)); sleep 0.05
      done ) &
    WRITER_PID=$!
    wrk_row "$sc.overview_writes" "overview /overview/$ov, writes meanwhile" \
        "$BASE/overview/$ov" "$ck"
    kill "$WRITER_PID" 2>/dev/null; wait "$WRITER_PID" 2>/dev/null; WRITER_PID=''
    n1=$(R get tk:{ix}:gen)
    put "$sc.overview_writes.gen_bumps" "$(( ${n1:-0} - ${n0:-0} ))"
    put "$sc.overview_writes.name" "overview /overview/$ov, $(( (${n1:-0} - ${n0:-0}) / (DUR + WARM) )) ticket writes/s meanwhile"
}

# ---- one scale ----------------------------------------------------------------------

RSS_MAX=0
SID='' TOKEN=''

# The scales build on each other: the larger set is the smaller one plus
# the difference (gen numbers on from tk:seq:ticket).
USED_EMPTY='' NOFT=0
gen_data() {
    local sc=$1 t0 t1 base have add
    have=$(R get tk:seq:ticket)
    if [ -z "$USED_EMPTY" ] || [ "${have:-0}" -gt "$sc" ]; then
        R flushall >/dev/null
        if tkctl init > "$T/init.log" 2>&1; then :; else
            say "ticketctl init: $(tail -1 "$T/init.log") (continuing)"
        fi
        USED_EMPTY=$(R info memory | sed -n 's/^used_memory://p' | tr -d '\r')
        have=0
    fi
    base=$USED_EMPTY
    add=$((sc - ${have:-0}))
    put "mem.$sc.used_empty" "$base"
    t0=$(date +%s.%N)
    local -a ft=()
    if [ "$NOFT_ABOVE" -gt 0 ] && [ "$have" -ge "$NOFT_ABOVE" ]; then
        ft=(--no-fulltext)
        NOFT=1
        put "gen.$sc.fulltext" "only the first $have tickets"
    fi
    # Redis must hold it: the smaller set's bytes per ticket, times sc
    local avail need
    avail=$(awk '/^MemAvailable:/ {printf "%.0f", $2 * 1024}' /proc/meminfo)
    if [ -n "${PER_TICKET_SEEN:-}" ]; then
        need=$(( PER_TICKET_SEEN * add * 11 / 10 ))
        if [ "$need" -gt $(( avail - 2 * 1024 * 1024 * 1024 )) ]; then
            GEN_NA="$((need >> 20)) MB for $add more tickets, only $((avail >> 20)) MB available"
            return 1
        fi
    fi
    # the time left of the run's budget, less what the measurements need
    local left rc
    left=$(( BUDGET - ($(date +%s) - T0) - RESERVE ))
    [ "$left" -lt 60 ] && left=60
    TKCTL_TIMEOUT=$left tkctl gen --tickets "$add" --articles "$ARTICLES" "${ft[@]}" \
        > "$T/gen.$sc.log" 2>&1
    rc=$?
    if [ $rc != 0 ]; then
        if [ $rc = 124 ]; then
            GEN_NA="gen reached $(R get tk:seq:ticket) of $sc tickets in the ${left} s left of the ${BUDGET} s budget (load $(cut -d' ' -f1 /proc/loadavg))"
        else
            GEN_NA="ticketctl gen failed: $(tail -1 "$T/gen.$sc.log")"
        fi
        put "gen.$sc.reached" "$(R get tk:seq:ticket)"
        return 1
    fi
    t1=$(date +%s.%N)
    put "gen.$sc.seconds" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
    put "gen.$sc.tickets" "$add"
    put "gen.$sc.tickets_per_s" "$(awk -v a="$t0" -v b="$t1" -v n="$add" 'BEGIN { printf "%.0f", n / (b - a) }')"
    # "login: anna  password: bench-password" (only when gen made the agents)
    local l p
    l=$(sed -n 's/^login:[ ]*\([a-z0-9._-]\+\).*/\1/p' "$T/gen.$sc.log" | head -1)
    p=$(sed -n 's/^login:.*password:[ ]*\([^ ]\+\).*/\1/p' "$T/gen.$sc.log" | head -1)
    [ -n "$l" ] && BENCH_LOGIN=$l BENCH_PASS=$p
    # memory of the generated set, before the few extra tickets below
    local used
    used=$(R info memory | sed -n 's/^used_memory://p' | tr -d '\r')
    put "mem.$sc.used" "$used"
    $BP memsample "$SOCK" 2000 > "$T/mem.$sc" 2>&1
    sed "s/^/mem.$sc./" "$T/mem.$sc" >> "$RES"
    local n raw
    n=$(sed -n 's/^tickets=//p' "$T/mem.$sc")
    raw=$(sed -n 's/^raw_per_ticket=//p' "$T/mem.$sc")
    if [ -n "$n" ] && [ "$n" -gt 0 ]; then
        put "mem.$sc.per_ticket" "$(( (used - base) / n ))"
        PER_TICKET_SEEN=$(( (used - base) / n ))
    fi
    $BP membreak "$SOCK" 200 2>/dev/null | sed "s/^/mem.$sc.per_ticket_by_key./" >> "$RES"
    if [ "$NOFT" = 1 ]; then
        na "mem.$sc" "QUICK: tickets above $NOFT_ABOVE have no full-text index"
    elif [ -z "$raw" ]; then
        na "mem.$sc" "articles carry no raw size (field size), cannot relate to raw mail"
    fi
    # a ticket page with 20 articles: a few extra tickets, if gen has none
    set -- $($BP pick-ticket "$SOCK" "$TICKET_ARTICLES" 2>/dev/null)
    if [ "${2:-0}" != "$TICKET_ARTICLES" ]; then
        tkctl gen --tickets 10 --articles "$TICKET_ARTICLES" >> "$T/gen.$sc.log" 2>&1
    fi
    return 0
}

measure_scale() {
    local sc=$1 L
    L=$(label "$sc")
    say "---- $L tickets ----"
    GEN_NA=''
    if [ "$HAVE_CTL" = 0 ]; then
        GEN_NA="ticketctl not built"
    else
        gen_data "$sc"
    fi
    local rows="static_overview overview static_ticket ticket api search_http search_http_rare search_http_frequent search_frequent search_medium search_rare"
    if [ -n "$GEN_NA" ]; then
        say "$GEN_NA"
        for r in $rows; do na "$sc.$r" "$GEN_NA"; done
        na "mem.$sc" "$GEN_NA"; na "cg.$sc.overview" "$GEN_NA"; na "cg.$sc.ticket" "$GEN_NA"
        return
    fi
    say "generated $(sed -n "s/^gen.$sc.tickets=//p" "$RES") tickets in $(sed -n "s/^gen.$sc.seconds=//p" "$RES") s"
    put "$sc.loadavg" "$(cut -d' ' -f1 /proc/loadavg)"

    # full-text search straight on Redis (the HTTP one is below)
    local words kind w hits v
    if [ "$NOFT" = 1 ]; then
        for kind in frequent medium rare; do
            na "$sc.search_$kind" "QUICK: tickets above $NOFT_ABOVE have no full-text index (full run: all)"
        done
    elif words=${WORDS:-$($BP words "$SOCK" 2>"$T/words.err")} && [ -n "$words" ]; then
        # the terms of the smallest set, so the scale ratio compares like with like
        WORDS=$words
        local what
        for kind in frequent medium rare; do
            w=$(printf '%s\n' "$words" | awk -F'\t' -v k="$kind" '$1 == k { print $2 }')
            hits=$(printf '%s\n' "$words" | awk -F'\t' -v k="$kind" '$1 == k { print $3 }')
            case $kind in
            frequent) what="frequent word" ;;
            medium) what="person's name" ;;
            rare) what="file number" ;;
            esac
            if [ -z "$w" ]; then
                na "$sc.search_$kind" "no $what found in the data"; continue
            fi
            hits=$($BP fthits "$SOCK" "$w" 2>/dev/null || echo "$hits")
            put "$sc.search_$kind.name" "FT.SEARCH $what \"$w\" ($hits hits)"
            if v=$($BP ftbench "$SOCK" "$DUR" FT.SEARCH tk:ft:articles "$w" LIMIT 0 20 NOCONTENT LANGUAGE german 2>&1); then
                set -- $v
                put "$sc.search_$kind.queries" "$1"; put "$sc.search_$kind.p50" "$2"
                put "$sc.search_$kind.p99" "$3"; put "$sc.search_$kind.term" "$w"
                put "$sc.search_$kind.hits" "$hits"
                say "FT.SEARCH $what '$w' ($hits hits): p50 $2 ms p99 $3 ms ($1 queries, 1 client)"
            else
                na "$sc.search_$kind" "FT.SEARCH failed: $v"
            fi
        done
    else
        for kind in frequent medium rare; do
            na "$sc.search_$kind" "no full-text index tk:ft:articles or no words in it ($(head -c 100 "$T/words.err"))"
        done
    fi

    if [ -n "$NGINX_NA" ]; then
        for r in static_overview overview static_ticket ticket api search_http search_http_rare search_http_frequent; do na "$sc.$r" "$NGINX_NA"; done
        na "cg.$sc.overview" "$NGINX_NA"; na "cg.$sc.ticket" "$NGINX_NA"
        return
    fi
    if [ -z "${BENCH_LOGIN:-}" ] || ! login "$BENCH_LOGIN" "$BENCH_PASS"; then
        local why="no session for '${BENCH_LOGIN:-?}': ${LOGIN_WHY:-gen printed no credentials}"
        kill -0 "$NGINX_PID" 2>/dev/null || why+="; nginx exited"
        grep -q 'exited on signal' "$T/nginx/logs/error.log" 2>/dev/null &&
            why+="; workers crash ($(grep -c 'exited on signal' "$T/nginx/logs/error.log")x 'exited on signal' in error.log)"
        for r in static_overview overview static_ticket ticket api search_http search_http_rare search_http_frequent; do na "$sc.$r" "$why"; done
        na "cg.$sc.overview" "$why"; na "cg.$sc.ticket" "$why"
        return
    fi
    local CK="Cookie: tk_session=$SID"

    # overview with >= 50 rows
    local ov='' best=0 bestov='' name code n
    fetch "$BASE/" "$T/home.html" "$CK" >/dev/null
    for name in all open $($BP overviews "$T/home.html" | grep -vxE 'all|open'); do
        code=$(fetch "$BASE/overview/$name" "$T/ov.html" "$CK")
        [ "$code" = 200 ] || continue
        n=$($BP count-rows "$T/ov.html")
        if [ "$n" -gt "$best" ]; then best=$n; bestov=$name; cp "$T/ov.html" "$T/ov.best.html"; fi
        [ "$n" -ge 50 ] && { ov=$name; break; }
    done
    [ -z "$ov" ] && ov=$bestov
    if [ -z "$ov" ]; then
        na "$sc.overview" "no overview answered 200 (/overview/all: $(fetch "$BASE/overview/all" /dev/null "$CK"))"
        na "$sc.static_overview" "no overview page to copy the size of"
    else
        fetch "$BASE/overview/$ov" "$T/ov.html" "$CK" >/dev/null
        local bytes
        bytes=$(stat -c %s "$T/ov.html")
        cp "$T/ov.html" "$T/static/bench-overview.html"
        put "$sc.overview.rows" "$best"
        put "$sc.overview.bytes" "$bytes"
        [ "$best" -lt 50 ] && put "$sc.overview.note" "page shows only $best rows"
        [ -z "$QUICK" ] || [ "$sc" = "${SCALES%% *}" ] &&
            wrk_row "$sc.static_overview" "static file, $bytes B (= overview)" "$BASE/static/bench-overview.html"
        wrk_row "$sc.overview" "overview /overview/$ov ($best rows)" "$BASE/overview/$ov" "$CK"
    fi

    # ticket with 20 articles
    local tn ta
    set -- $($BP pick-ticket "$SOCK" "$TICKET_ARTICLES" 2>/dev/null)
    tn=${1:-} ta=${2:-0}
    if [ -z "$tn" ]; then
        na "$sc.ticket" "no ticket found"; na "$sc.static_ticket" "no ticket page"
    elif [ "$(fetch "$BASE/t/$tn" "$T/t.html" "$CK")" != 200 ]; then
        na "$sc.ticket" "GET /t/$tn answered $(fetch "$BASE/t/$tn" /dev/null "$CK")"
        na "$sc.static_ticket" "no ticket page"
    else
        local bytes arts
        bytes=$(stat -c %s "$T/t.html")
        arts=$(grep -o '<article[^>]*class="article' "$T/t.html" | wc -l)
        cp "$T/t.html" "$T/static/bench-ticket.html"
        put "$sc.ticket.bytes" "$bytes"; put "$sc.ticket.articles" "$arts"
        [ -z "$QUICK" ] || [ "$sc" = "${SCALES%% *}" ] &&
            wrk_row "$sc.static_ticket" "static file, $bytes B (= ticket)" "$BASE/static/bench-ticket.html"
        wrk_row "$sc.ticket" "ticket /t/$tn ($arts articles)" "$BASE/t/$tn" "$CK"
    fi

    # the same pages with the page cache off, and the overview while
    # tickets change (every write invalidates every cached overview)
    if [ -z "$BASE2" ]; then
        na "$sc.overview_nocache" "$NGINX2_NA"; na "$sc.ticket_nocache" "$NGINX2_NA"
        na "$sc.overview_writes" "$NGINX2_NA"
    else
        [ -n "$ov" ] && wrk_row "$sc.overview_nocache" "overview /overview/$ov, page cache off (rows: row cache)" \
            "$BASE2/overview/$ov" "$CK"
        [ -n "$tn" ] && wrk_row "$sc.ticket_nocache" "ticket /t/$tn, cache off" "$BASE2/t/$tn" "$CK"
        [ -n "$ov" ] && overview_with_writes "$sc" "$ov" "$CK"
        # issue 12: a personal overview with three conditions (open states,
        # priority normal -- a full page at 10 k too --, unassigned), page
        # cache off; its definition is what
        # "save as new overview" stores (redis-schema/SCHEMA.md)
        R hset "tk:{u:$BENCH_LOGIN}:overviews" 1 \
            'name=bench&states=12345&priority=2&owner=nobody&sort=updated&dir=desc' >/dev/null
        R incr 'tk:{ix}:gen' >/dev/null
        if [ "$(fetch "$BASE2/overview/1" "$T/saved.html" "$CK")" = 200 ]; then
            put "$sc.overview_saved.rows" "$($BP count-rows "$T/saved.html")"
            wrk_row "$sc.overview_saved" "personal overview /overview/1 (3 conditions, $($BP count-rows "$T/saved.html") rows), cache off" \
                "$BASE2/overview/1" "$CK"
        else
            na "$sc.overview_saved" "GET /overview/1 answered $(fetch "$BASE2/overview/1" /dev/null "$CK")"
        fi
    fi

    # API list, bearer token
    if [ -z "$TOKEN" ]; then
        TOKEN=$(tkctl token add "$BENCH_LOGIN" 2>"$T/token.err" | grep -oE '[A-Za-z0-9_-]{20,}' | head -1)
    fi
    if [ -z "$TOKEN" ]; then
        na "$sc.api" "ticketctl token add gave no token ($(head -c 100 "$T/token.err"))"
    else
        code=$(fetch "$BASE/api/v1/tickets" "$T/api.json" "Authorization: Bearer $TOKEN")
        if [ "$code" != 200 ]; then
            na "$sc.api" "GET /api/v1/tickets answered $code"
        else
            put "$sc.api.bytes" "$(stat -c %s "$T/api.json")"
            wrk_row "$sc.api" "API /api/v1/tickets ($(stat -c %s "$T/api.json") B)" \
                "$BASE/api/v1/tickets" "Authorization: Bearer $TOKEN"
        fi
    fi
    # the token lives in Redis: flushed with the next scale
    TOKEN=''

    # HTTP search: a person's name, a file number, a word in every mail
    . "$ROOT/bench/search.sh"

    # Redis commands per request
    [ -n "$ov" ] && cmds_per_request "cmds.$sc.overview" "$BASE/overview/$ov"
    [ -n "$tn" ] && cmds_per_request "cmds.$sc.ticket" "$BASE/t/$tn"
    if [ -n "$BASE2" ]; then
        [ -n "$ov" ] && cmds_per_request "cmds.$sc.overview_nocache" "$BASE2/overview/$ov"
        [ -n "$tn" ] && cmds_per_request "cmds.$sc.ticket_nocache" "$BASE2/t/$tn"
    fi

    # RSS after the load
    local rss r
    rss=$(worker_rss)
    put "rss.$sc.nginx_workers_kb" "$rss"
    for r in $rss; do [ "$r" -gt "$RSS_MAX" ] && RSS_MAX=$r; done
    say "nginx worker RSS (kB): $rss"

    # callgrind at the smallest scale: Ir per request does not depend on
    # the machine's load, and the pages' cost does not grow with the data
    # (the p99 ratio shows that); with the page cache (a hit) and without
    # (what every first view after a change costs)
    if [ "$sc" = "${SCALES%% *}" ]; then
        if [ -n "$ov" ]; then
            callgrind_page "$sc" overview "$BASE/overview/$ov"
            [ -n "$BASE2" ] && callgrind_page "$sc" overview_nocache "$BASE/overview/$ov" 'ticket_cache off;'
            # and every row rendered too (ticket_row_cache off): info
            [ -n "$BASE2" ] && callgrind_page "$sc" overview_norows "$BASE/overview/$ov" 'ticket_cache off; ticket_row_cache off;'
        else na "cg.$sc.overview" "no overview page"; fi
        if [ -n "$tn" ]; then
            callgrind_page "$sc" ticket "$BASE/t/$tn"
            [ -n "$BASE2" ] && callgrind_page "$sc" ticket_nocache "$BASE/t/$tn" 'ticket_cache off;'
        else na "cg.$sc.ticket" "no ticket page"; fi
    fi
}

# BENCH_PERF=1: CPU profile (perf) of the overview run at the largest scale
[ -n "${BENCH_PERF:-}" ] && PERF_FOR="${SCALES##* }.overview"
for sc in $SCALES; do
    measure_scale "$sc"
done
if [ "$RSS_MAX" -gt 0 ]; then put rss.nginx_worker_max_kb "$RSS_MAX"
else put rss.na "${NGINX_NA:-no worker measured}"; fi

# ---- ingest ------------------------------------------------------------------------

# Peak RSS of mailbridge processes below PID, polled: "VmHWM maxRssAnon
# maxRssFile" in kB (file pages are e.g. an mmap'ed mailbox).
mailbridge_hwm() {
    local parent=$1 max=0 anon=0 file=0 p pp gp h a f
    while kill -0 "$parent" 2>/dev/null; do
        for p in /proc/[0-9]*; do
            [ "$(cat "$p/comm" 2>/dev/null)" = mailbridge ] || continue
            pp=$(awk '{print $4}' "$p/stat" 2>/dev/null)
            gp=$(awk '{print $4}' "/proc/$pp/stat" 2>/dev/null)
            [ "$pp" = "$parent" ] || [ "$gp" = "$parent" ] || continue
            read -r h a f < <(awk '/^VmHWM:/ {h=$2} /^RssAnon:/ {a=$2} /^RssFile:/ {f=$2}
                END {print h+0, a+0, f+0}' "$p/status" 2>/dev/null)
            [ "${h:-0}" -gt "$max" ] && max=$h
            [ "${a:-0}" -gt "$anon" ] && anon=$a
            [ "${f:-0}" -gt "$file" ] && file=$f
        done
        sleep 0.1
    done
    echo "$max $anon $file"
}

# triggers (issue 11): ingest with the default trigger + 50 rules vs none, target >= 0.8
if [ -x "$ROOT/bench/triggers.sh" ]; then
    env -u BENCH_KEEP timeout 300 "$ROOT/bench/triggers.sh" 3000 > "$T/triggers.log" 2>&1
    rc=$?
    line=$(grep '^ingest rate with 51 rules' "$T/triggers.log" | tail -1)
    if [ $rc = 0 ] && [ -n "$line" ]; then
        put triggers.ratio_wall "$(sed -n 's/.*without: \([0-9.]*\) wall clock.*/\1/p' <<< "$line")"
        put triggers.ratio_cpu "$(sed -n 's/.*, \([0-9.]*\) by cpu per mail.*/\1/p' <<< "$line")"
        say "triggers: $line"
    else
        na triggers "bench/triggers.sh: exit $rc: $(tail -1 "$T/triggers.log" | head -c 100)"
    fi
fi
if [ -x "$ROOT/bench/import.sh" ]; then
    # its own Redis and mailbox; QUICK imports fewer mails
    NMAILS=$([ -n "$QUICK" ] && echo 3000 || echo 10000)
    say "---- ingest: bench/import.sh $NMAILS ----"
    env -u BENCH_KEEP timeout $([ -n "$QUICK" ] && echo 120 || echo 400) \
        "$ROOT/bench/import.sh" "$NMAILS" > "$T/import.log" 2>&1 &
    IMPORT_PID=$!
    read -r mbrss mbanon mbfile < <(mailbridge_hwm "$IMPORT_PID")
    wait "$IMPORT_PID"
    rc=$?
    rate=$(sed -n 's/^import rate: *\([0-9.]\+\) *mails\/s.*/\1/p' "$T/import.log" | tail -1)
    if [ $rc = 0 ] && [ -n "$rate" ]; then
        put ingest.rate "$rate"
        put ingest.mails "$NMAILS"
        put ingest.cpu "$(grep -m1 '^cpu per mail' "$T/import.log")"
        put ingest.loadavg "$(sed -n 's/^load average: //p' "$T/import.log")"
        say "ingest: $rate mails/s ($(grep -m1 '^cpu per mail' "$T/import.log"))"
        # Redis memory of the imported mails (raw mail stored too) vs the mbox
        mbox_mb=$(sed -n 's/^generated [0-9]* mails, \([0-9]*\) MB.*/\1/p' "$T/import.log")
        mem_h=$(sed -n 's/.*redis memory \([0-9.]*[KMG]\).*/\1/p' "$T/import.log" | head -1)
        if [ -n "$mbox_mb" ] && [ -n "$mem_h" ]; then
            put ingest.mbox_mb "$mbox_mb"
            put ingest.redis_memory "$mem_h"
            put ingest.tickets "$(sed -n 's/^tickets \([0-9]*\), .*/\1/p' "$T/import.log")"
            put ingest.mem_ratio "$(awk -v m="$mem_h" -v b="$mbox_mb" 'BEGIN {
                u = substr(m, length(m)); v = substr(m, 1, length(m) - 1);
                f = (u == "K") ? 1 / 1024 : (u == "G") ? 1024 : 1;
                printf "%.3f", v * f / b }')"
        fi
    else
        na ingest "bench/import.sh $NMAILS: exit $rc$([ $rc = 124 ] && echo ' (timed out)'): $(grep -v '^kept' "$T/import.log" | tail -1 | head -c 100)"
    fi
    if [ "${mbrss:-0}" -gt 0 ]; then
        put rss.mailbridge_kb "$mbrss"; put rss.mailbridge_what "peak RSS (VmHWM) of mailbridge import"
        put rss.mailbridge_anon_kb "$mbanon"; put rss.mailbridge_file_kb "$mbfile"
    else put rss.mailbridge_na "no mailbridge process seen during bench/import.sh"; fi
else
    na ingest "bench/import.sh not there yet"
    put rss.mailbridge_na "mailbridge not running"
fi

# outbound: drain of plain mails to smtp-sink (target >= 500 mails/s), its own script
[ -x "$ROOT/bench/outbox.sh" ] && { r=$(env -u BENCH_KEEP timeout 120 "$ROOT/bench/outbox.sh" $([ -n "$QUICK" ] && echo 2000 || echo 10000) 2>&1 | tail -1); say "$r"; put outbox.result "$r"; }
# outbound PGP (issue 10): the same drain, each mail encrypted to To, Cc and the group's key and
# signed with it (throwaway keys; the sink's dumps are checked: all encrypted); target >= 50 mails/s
[ -x "$ROOT/bench/outbox.sh" ] && { r=$(PGP=1 env -u BENCH_KEEP timeout 180 "$ROOT/bench/outbox.sh" $([ -n "$QUICK" ] && echo 200 || echo 1000) 2>&1 | tail -1); say "$r"; put outbox.pgp_result "$r"; }
# composer: reply POSTs/s through nginx to committed outbox entries (its own Redis and nginx)
if [ -x "$ROOT/bench/reply.sh" ]; then r=$(env -u BENCH_KEEP timeout 300 "$ROOT/bench/reply.sh" 5 2000 2> "$T/reply.err" | sed -n 's/^reply rate: \([0-9]*\).*/\1/p'); if [ -n "$r" ]; then put reply.rps "$r"; say "reply: $r replies/s"; else na reply "bench/reply.sh: $(tail -1 "$T/reply.err" | head -c 100)"; fi; fi
# timers role (issue 11): 1 M pending timers' memory, 10 000 due in one second, 2 roles
if perl "$ROOT/bench/timers.pl" --pending "${BENCH_TIMERS:-1000000}" --json "$T/timers.json" > "$T/timers.log" 2>&1 &&
    [ -s "$T/timers.json" ]; then
    grep '^timers:' "$T/timers.log" | while read -r l; do say "$l"; done
    # the JSON's fields as timers.pending, timers.pending_bytes, timers.fire_seconds, ...
    perl -ne 'while (/"(\w+)":([\d.]+)/g) { print "timers.$1=$2\n" }' "$T/timers.json" >> "$RES"
else
    na timers "bench/timers.pl: $(tail -1 "$T/timers.log" | head -c 100)"
fi

# ---- report ------------------------------------------------------------------------

put meta.seconds "$(( $(date +%s) - T0 ))"
put meta.loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$MODULE_SUM" ] && [ "$(sha256sum "$MODULE" 2>/dev/null | cut -c1-12)" != "$MODULE_SUM" ]; then
    put meta.warning "the module was rebuilt during the run: later rows (callgrind starts a new nginx) may measure other code"
    say "WARNING: $MODULE changed during the run"
fi
mkdir -p "$ROOT/bench/results"
$BP report "$RES" "$ROOT/bench/results/latest.json.tmp" "$T/table.md" &&
    mv "$ROOT/bench/results/latest.json.tmp" "$ROOT/bench/results/latest.json"
cp "$ROOT/bench/results/latest.json" "$ROOT/bench/results/$MODE.json" 2>/dev/null

DOC=$ROOT/docs/performance.md
if { [ "${BENCH_DOC:-}" = 1 ] || { [ "$MODE" = full ] && [ "${BENCH_DOC:-}" != 0 ]; }; } &&
    [ -f "$DOC" ] && grep -q '<!-- bench:begin -->' "$DOC"; then
    perl -0pi -e 'BEGIN { local $/; open my $f, "<", shift @ARGV; $t = <$f> }
        s/(<!-- bench:begin -->\n).*?(<!-- bench:end -->)/$1$t$2/s' "$T/table.md" "$DOC"
    say "table written to docs/performance.md"
fi
say "done in $(( $(date +%s) - T0 )) s; bench/results/latest.json"
