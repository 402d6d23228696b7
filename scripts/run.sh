#!/usr/bin/env bash
# run.sh -- "make run": build and start the whole ticket system in the
# foreground on http://127.0.0.1:$PORT/ with its data in $VAR.
#
#   PORT=8080 VAR=var scripts/run.sh      (what "make run" calls)
#
# Starts Redis (AOF, RediSearch, unix socket $VAR/redis/redis.sock, no TCP
# port), nginx with the module (config from scripts/nginx-conf.sh) and, when
# it is built, mailbridge (inbound, and the outbox role for outgoing mail,
# sent to a local smtp-sink writing $VAR/sent-mail/ unless SMTP_RELAY or
# smtp.url names a relay).  The first start runs "ticketctl init" and
# "ticketctl demo" and saves the admin password in $VAR/admin-password;
# later starts reuse the data.  Ctrl-C (or TERM) stops everything.
#
# Supervision: every server runs under its own small supervisor (this
# script with --supervise, below) that restarts it when it dies, after
# 1 s, doubling up to 30 s while it keeps dying (back to 1 s once it ran
# a minute).  Nothing is left behind, whatever ends "make run": every
# supervisor and every server gets SIGTERM from the kernel when its
# parent dies (PR_SET_PDEATHSIG through setpriv(1), also on kill -9),
# this script gets it when make dies, and a dead server's process group
# (nginx's workers, mailbridge's roles) is killed before its restart.
set -euo pipefail

# ---- --supervise NAME STOPSIG -- CMD...: keep CMD running ----------------
if [ "${1:-}" = --supervise ]; then
    name=$2 stopsig=$3
    shift 4
    child='' stopping=0 delay=1
    # fd 3: run.sh's own stderr (the terminal), whatever the server logs to
    say() { if { true >&3; } 2>/dev/null; then printf 'run: %s\n' "$*" >&3; else printf 'run: %s\n' "$*" >&2; fi; }
    # the server's whole process group: leftovers of a crash go too
    reap() {
        [ -n "$child" ] || return 0
        kill -KILL -- "-$child" 2>/dev/null || true
        child=''
    }
    stop() {
        stopping=1
        if [ -n "$child" ]; then
            kill "-$stopsig" "$child" 2>/dev/null || true
            for _ in $(seq 150); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
            reap
        fi
        exit 0
    }
    # (INT and QUIT are ignored in a background job: TERM is the stop)
    trap stop TERM INT HUP
    while :; do
        started=$(date +%s)
        # own session/process group; SIGTERM when this supervisor dies
        setsid setpriv --pdeathsig TERM "$@" 3>&- &
        child=$!
        set +e
        wait "$child"
        rc=$?
        # a signal to us interrupts wait: the trap ran and exited
        while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done
        set -e
        [ "$stopping" = 1 ] && exit 0
        reap
        if [ $(( $(date +%s) - started )) -ge 60 ]; then delay=1; fi
        say "$name exited (status $rc); restarting in ${delay}s"
        sleep "$delay" & wait $! || true
        delay=$(( delay * 2 > 30 ? 30 : delay * 2 ))
    done
fi

# SIGTERM for this script when its parent (make) dies, also by kill -9
if [ -z "${TK_RUN_PDEATHSIG:-}" ] && command -v setpriv >/dev/null; then
    export TK_RUN_PDEATHSIG=1
    exec setpriv --pdeathsig TERM bash "$0" "$@"
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-8080}
VAR=${VAR:-var}
case $VAR in /*) ;; *) VAR=$ROOT/$VAR ;; esac
MAKE=${MAKE:-make}
CTL=$ROOT/build/ticketctl

say() { printf 'run: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

case $PORT in '' | *[!0-9]*) die "PORT must be a number, not '$PORT'" ;; esac

# ---- build ---------------------------------------------------------------
if [ -z "${TK_RUN_NO_BUILD:-}" ]; then
    "$MAKE" -C "$ROOT" --no-print-directory deps
    "$MAKE" -C "$ROOT" --no-print-directory all
fi
[ -e "$ROOT/build/ngx_http_ticket_module.so" ] || die "build/ngx_http_ticket_module.so is missing"
[ -x "$CTL" ] || die "build/ticketctl is missing"

# ---- one instance per data directory --------------------------------------
mkdir -p "$VAR"
VAR=$(cd "$VAR" && pwd)
exec 9>"$VAR/.lock"
flock -n 9 || die "another 'make run' is using $VAR"
if (: <"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "something already listens on 127.0.0.1:$PORT; try: make run PORT=8081"
fi

# When we are root, nginx workers run as nobody: they must reach the Redis
# socket and the static files.  Every directory above them needs o+x.
traversable_by_nobody() {
    local d=$1 mode
    while :; do
        mode=$(stat -c '%a' "$d")
        (( (8#$mode & 1) != 0 )) || return 1
        [ "$d" = / ] && return 0
        d=$(dirname "$d")
    done
}

NGINX_USER=()
RUNDIR=$VAR/run
SOCKDIR=$VAR/redis
TMP_RUNDIR=''
if [ "$(id -u)" = 0 ]; then
    NGINX_USER=(--user "nobody nogroup")
    if ! traversable_by_nobody "$VAR"; then
        # e.g. a checkout in /root (mode 700): keep the data in $VAR,
        # put what the workers need (socket, static files, temp files)
        # into a world-traversable directory of its own.
        TMP_RUNDIR=$(mktemp -d /tmp/tk-run.XXXXXX)
        chmod 755 "$TMP_RUNDIR"
        RUNDIR=$TMP_RUNDIR
        SOCKDIR=$TMP_RUNDIR/redis
        say "note: $VAR is not reachable by user nobody (nginx's workers);"
        say "      the Redis socket and static files go to $TMP_RUNDIR, data stays in $VAR"
    fi
fi
SOCK=$SOCKDIR/redis.sock
REDIS_URL=unix:$SOCK

mkdir -p "$VAR/redis" "$SOCKDIR" "$RUNDIR/nginx/conf"
chmod 755 "$VAR" "$RUNDIR"
chmod 711 "$VAR/redis" "$SOCKDIR"     # traverse to the socket, not list

# ---- stop everything on Ctrl-C, TERM or when one server dies --------------
REDIS_PID='' NGINX_PID='' MB_PID='' OUTBOX_PID='' SINK_PID='' SENT_MAIL='' DP_PID=''
stopping=0
SELF=$ROOT/scripts/run.sh
exec 3>&2          # the supervisors' messages go here, not to server logs

# supervise NAME STOPSIG CMD...: CMD under its supervisor (see the top);
# setsid: a Ctrl-C in the terminal reaches only this script, which then
# stops the servers in order (nginx first, Redis last).  $! is the
# supervisor's pid; stopping it stops the server.
supervise() {
    local name=$1 sig=$2
    shift 2
    setsid setpriv --pdeathsig TERM bash "$SELF" --supervise "$name" "$sig" -- "$@" &
}
stop_all() {
    [ "$stopping" = 1 ] && return
    stopping=1
    trap '' INT TERM
    say "stopping"
    [ -n "$MB_PID" ] && kill -TERM "$MB_PID" 2>/dev/null
    [ -n "$OUTBOX_PID" ] && kill -TERM "$OUTBOX_PID" 2>/dev/null
    [ -n "$DP_PID" ] && kill -TERM "$DP_PID" 2>/dev/null
    [ -n "$OUTBOX_PID" ] && wait "$OUTBOX_PID" 2>/dev/null
    [ -n "$SINK_PID" ] && kill -TERM "$SINK_PID" 2>/dev/null
    # its supervisor stops nginx with QUIT (graceful); TERM is what it traps
    [ -n "$NGINX_PID" ] && kill -TERM "$NGINX_PID" 2>/dev/null
    [ -n "$MB_PID" ] && wait "$MB_PID" 2>/dev/null
    [ -n "$NGINX_PID" ] && wait "$NGINX_PID" 2>/dev/null
    # Redis last: SIGTERM makes it fsync the AOF before it exits
    [ -n "$REDIS_PID" ] && kill -TERM "$REDIS_PID" 2>/dev/null
    [ -n "$REDIS_PID" ] && wait "$REDIS_PID" 2>/dev/null
    [ -n "$TMP_RUNDIR" ] && rm -rf "$TMP_RUNDIR"
    say "stopped; data is in $VAR"
}
trap 'stop_all; exit 0' INT      # Ctrl-C is the normal way to stop
trap 'stop_all; exit 143' TERM
trap 'stop_all; exit 129' HUP
trap 'stop_all' EXIT

# ---- Redis -----------------------------------------------------------------
cat >"$VAR/redis/redis.conf" <<CONF
# generated by scripts/run.sh on every start
port 0
unixsocket $SOCK
unixsocketperm 777
dir $VAR/redis
appendonly yes
# always: a mail is acknowledged (deliver exits 0, IMAP moves it) only
# once its ticket is on disk -- everysec could lose the last second of
# them in a power cut (docs/reliability.md)
appendfsync always
save ""
daemonize no
logfile $VAR/redis/redis.log
# RediSearch and the data-layout tuning, shared with the tests and the bench
include "$ROOT/redis-schema/redis.conf"
CONF
rm -f "$SOCK"
# setsid: a Ctrl-C in the terminal reaches only this script, which then
# stops the servers in order (nginx first, Redis last)
umask_saved=$(umask); umask 077
supervise redis TERM redis-server "$VAR/redis/redis.conf"
REDIS_PID=$!
umask "$umask_saved"
for _ in $(seq 100); do
    [ "$(redis-cli -s "$SOCK" ping 2>/dev/null)" = PONG ] && break
    kill -0 "$REDIS_PID" 2>/dev/null || die "redis-server exited; see $VAR/redis/redis.log"
    sleep 0.1
done
[ "$(redis-cli -s "$SOCK" ping 2>/dev/null)" = PONG ] || die "Redis does not answer on $SOCK"
# loading a big AOF can take a while: wait until Redis serves
while redis-cli -s "$SOCK" ping 2>&1 | grep -q LOADING; do sleep 0.2; done

# ---- first start: schema, admin, demo data --------------------------------
ctl() { "$CTL" --redis "$REDIS_URL" "$@"; }
if [ ! -e "$VAR/initialized" ]; then
    say "first start: ticketctl init + demo"
    ctl init || die "ticketctl init failed"
    out=$(ctl demo) || die "ticketctl demo failed: $out"
    printf '%s\n' "$out"
    # demo prints "login: admin  password: XXXX" for the accounts it makes
    admin=$(printf '%s\n' "$out" | sed -n 's/^login: *\([^ ]*\) *password: *\([^ ]*\).*/\1 \2/p' | head -1)
    if [ -n "$admin" ]; then
        printf '%s\n' "${admin%% *}" >"$VAR/admin-login"
        (umask 077; printf '%s\n' "${admin#* }" >"$VAR/admin-password")
    else
        say "warning: ticketctl demo printed no admin password"
    fi
    date -u +%Y-%m-%dT%H:%M:%SZ >"$VAR/initialized"
fi

# ---- nginx -----------------------------------------------------------------
rm -rf "$RUNDIR/static"
cp -r "$ROOT/static" "$RUNDIR/static"
chmod -R a+rX "$RUNDIR/static"
"$ROOT/scripts/nginx-conf.sh" --prefix "$RUNDIR/nginx" --port "$PORT" \
    --redis "$REDIS_URL" --static "$RUNDIR/static" "${NGINX_USER[@]}" \
    --server 'location = /form { ticket; ticket_cookie_secure off; ticket_form on; ticket_form_group legal; }' \
    >"$RUNDIR/nginx/conf/nginx.conf"
nginx -p "$RUNDIR/nginx" -c "$RUNDIR/nginx/conf/nginx.conf" -t -q ||
    die "nginx -t failed for $RUNDIR/nginx/conf/nginx.conf"
supervise nginx QUIT nginx -p "$RUNDIR/nginx" -c "$RUNDIR/nginx/conf/nginx.conf" -g 'daemon off;'
NGINX_PID=$!
for _ in $(seq 100); do
    (: <"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited; see $RUNDIR/nginx/logs/error.log"
    sleep 0.1
done

# ---- mailbridge (optional) -------------------------------------------------
# HOOK for the mailbridge part.  When build/mailbridge and the executable
# mailbridge/dev-run.sh exist, run.sh starts
#     mailbridge/dev-run.sh VAR REDIS_URL
# in the background.  The hook writes its configuration under
# VAR/mailbridge/ and runs mailbridge in the foreground (exec); run.sh
# stops it with SIGTERM.  Without the hook, mail is simply not started.
if [ -x "$ROOT/build/mailbridge" ] && [ -x "$ROOT/mailbridge/dev-run.sh" ]; then
    supervise mailbridge TERM "$ROOT/mailbridge/dev-run.sh" "$VAR" "$REDIS_URL"
    MB_PID=$!
fi

# ---- outgoing mail: the outbox role and a local SMTP sink ------------------
# Mail answered in the web goes through mailbridge's outbox to SMTP.  With
# SMTP_RELAY=smtp[s]://host:port (or smtp.url in the config) it goes to that
# relay; otherwise to Postfix's smtp-sink on a loopback port, which writes
# one file per mail into $VAR/sent-mail/, so a demo user sees what was sent.
# (Until mailbridge's supervisor runs the outbox role itself, it is its own
# process: mailbridge -c VAR/mailbridge/outbox.conf outbox.)
if [ -x "$ROOT/build/mailbridge" ]; then
    MB_CONF=$("$ROOT/scripts/mailbridge-conf.sh" "$VAR" "$REDIS_URL") || die "mailbridge-conf.sh failed"
    OUTBOX_CONF=$(dirname "$MB_CONF")/outbox.conf
    RELAY=${SMTP_RELAY:-}
    if [ -z "$RELAY" ] && grep -q '^[[:space:]]*smtp\.url' "$MB_CONF"; then
        RELAY=configured
    fi
    if [ -z "$RELAY" ] && [ -x /usr/sbin/smtp-sink ]; then
        SENT_MAIL=$VAR/sent-mail
        mkdir -p "$SENT_MAIL"
        SINK_USER=$(id -un)
        if [ "$(id -u)" = 0 ]; then SINK_USER=nobody; chown nobody "$SENT_MAIL"; fi
        SINK_PORT=''
        for p in $(seq 10025 10125); do
            (: <"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { SINK_PORT=$p; break; }
        done
        [ -n "$SINK_PORT" ] || die "no free loopback port for the SMTP sink"
        supervise smtp-sink TERM /usr/sbin/smtp-sink -u "$SINK_USER" -d "$SENT_MAIL/%Y%m%d%H%M%S." \
            "127.0.0.1:$SINK_PORT" 100 >"$VAR/smtp-sink.log" 2>&1
        SINK_PID=$!
        RELAY=smtp://127.0.0.1:$SINK_PORT
    fi
    if [ -n "$RELAY" ]; then
        (umask 077
         grep -v '^[[:space:]]*smtp\.url' "$MB_CONF"
         [ "$RELAY" = configured ] && grep '^[[:space:]]*smtp\.url' "$MB_CONF"
         [ "$RELAY" != configured ] && echo "smtp.url = $RELAY"
         grep -q '^[[:space:]]*outbox\.from' "$MB_CONF" || echo 'outbox.from = "Ticketsystem" <tickets@example.org>'
        ) >"$OUTBOX_CONF"
        chmod 600 "$OUTBOX_CONF"
        supervise outbox TERM "$ROOT/build/mailbridge" -c "$OUTBOX_CONF" outbox >>"$VAR/outbox.log" 2>&1
        OUTBOX_PID=$!
    fi
fi

# ---- data protection: the web's export and erase requests (casework) -------
setsid "$CTL" --redis "$REDIS_URL" customer work >>"$VAR/customer-work.log" 2>&1 &
DP_PID=$!

# ---- ready -------------------------------------------------------------------
cat >&2 <<MSG

  Ticket system running:  http://127.0.0.1:$PORT/
  Log in as:              $(cat "$VAR/admin-login" 2>/dev/null || echo admin) / $(cat "$VAR/admin-password" 2>/dev/null || echo '(unknown; see the output of the first start)')
  Data (Redis AOF):       $VAR/redis
  Logs:                   $RUNDIR/nginx/logs/error.log, $VAR/redis/redis.log
  Mail:                   $([ -n "$MB_PID" ] && echo "mailbridge running (config in $VAR/mailbridge)" || echo "not started (no build/mailbridge or mailbridge/dev-run.sh)")
  Sent mail:              $(if [ -n "$SENT_MAIL" ]; then echo "one file per mail in $SENT_MAIL (local SMTP sink; SMTP_RELAY=smtp://host:port for a real relay)"; elif [ -n "$OUTBOX_PID" ]; then echo "through $RELAY (log $VAR/outbox.log)"; else echo "not sent (no build/mailbridge or smtp-sink)"; fi)
  Request form:           http://127.0.0.1:$PORT/form (group legal)
  Stop:                   Ctrl-C

MSG

# The supervisors restart their servers; one ends only when it is
# stopped (or killed itself): then stop the rest in order.
set +e
wait -n
rc=$?
if [ "$stopping" = 0 ]; then
    say "a supervisor exited (status $rc); stopping"
    stop_all
    exit 1
fi
