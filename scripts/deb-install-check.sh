#!/usr/bin/env bash
# deb-install-check.sh -- install the packages of "make deb" the way an
# operator would and use them: apt-get install ./*.deb (their
# dependencies come from Debian's archive), then start Redis, nginx and
# mailbridge the way their systemd units would (as the units' users, with
# the units' ExecStart lines -- a chroot has no systemd), deliver a mail
# as Postfix's pipe(8) would and read the ticket through nginx.
#
#   make deb-check     (fresh-debian-check: a fresh Debian 12 root, as root)
#
# Meant for a throwaway root: it installs packages and starts servers on
# 127.0.0.1:$PORT (default 18480) and the instance's unix socket.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEB=$ROOT/build/deb
PORT=${PORT:-18480}
say() { printf 'deb-check: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
ok() { say "ok: $*"; }

[ "$(id -u)" = 0 ] || fail "run as root in a throwaway Debian 12 root"
ls "$DEB"/libnginx-mod-http-ticket_*.deb "$DEB"/ticket-mailbridge_*.deb >/dev/null \
    || fail "no packages in $DEB: run make deb first"

# ---- install: services must not start on their own (no systemd here;
# Debian's redis-server would start its default instance on 6379) --------
policy=/usr/sbin/policy-rc.d
printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
trap 'rm -f "$policy"' EXIT
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "$DEB"/libnginx-mod-http-ticket_*_*.deb "$DEB"/ticket-mailbridge_*_*.deb curl \
    >/tmp/deb-check-apt.log 2>&1 || { tail -30 /tmp/deb-check-apt.log; fail "apt-get install"; }
ok "apt-get install ./libnginx-mod-http-ticket_*.deb ./ticket-mailbridge_*.deb"

# ---- what the maintainer scripts set up ------------------------------------
getent passwd ticket >/dev/null || fail "no system user ticket"
id -nG ticket | grep -qw redis || fail "ticket is not in group redis"
id -nG www-data | grep -qw redis || fail "www-data is not in group redis"
[ "$(stat -c '%U %a' /etc/ticket/mailbridge.conf)" = "ticket 600" ] \
    || fail "/etc/ticket/mailbridge.conf: $(stat -c '%U %a' /etc/ticket/mailbridge.conf)"
[ "$(readlink /etc/nginx/modules-enabled/50-mod-http-ticket.conf)" = \
  /usr/share/nginx/modules-available/mod-http-ticket.conf ] || fail "module snippet not enabled"
[ "$(stat -c '%U %a' /var/lib/redis/ticket)" = "redis 700" ] || fail "/var/lib/redis/ticket"
for k in ProtectSystem=strict NoNewPrivileges=yes User=ticket StateDirectory=ticket; do
    grep -qx "$k" /lib/systemd/system/ticket-mailbridge.service || fail "unit lacks $k"
done
man -w mailbridge >/dev/null 2>&1 || [ -e /usr/share/man/man1/mailbridge.1.gz ] || fail "no man page"
ok "user, groups, config mode, module snippet, unit hardening, man pages"

# ---- a unit's ExecStart, with %i and the binary checked ------------------
exec_start() {   # UNIT-FILE INSTANCE
    sed -n 's/^ExecStart=//p' "$1" | sed "s/%i/$2/g"
}

# ---- Redis: redis-server@ticket -----------------------------------------
install -d -o redis -g redis -m 2755 /run/redis-ticket
REDIS_CMD=$(exec_start /lib/systemd/system/redis-server@.service ticket \
    | sed 's/--supervised systemd --daemonize no/--daemonize yes/')
su redis -s /bin/sh -c "umask 007; $REDIS_CMD"
SOCK=/run/redis-ticket/redis-server.sock
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ "$(redis-cli -s "$SOCK" ping)" = PONG ] || fail "redis-server@ticket did not start"
redis-cli -s "$SOCK" module list | grep -q search || fail "RediSearch not loaded"
[ "$(redis-cli -s "$SOCK" config get appendonly | tail -1)" = yes ] || fail "AOF off"
ok "redis-server@ticket: socket $SOCK, AOF on, RediSearch"

# ---- data: ticketctl's default is the instance's socket -------------------
ticketctl init
ticketctl group add legal --email legal@example.org --all-agents
echo 'package check password' | ticketctl user add anna --name 'Anna A' \
    --email anna@example.org --admin --password-stdin
TOKEN=$(ticketctl token add anna | tail -1)
ok "ticketctl init, group, user, token"

# ---- nginx: the example site, on loopback without TLS ---------------------
rm -f /etc/nginx/sites-enabled/default
sed -e "s/listen 443 ssl;/listen 127.0.0.1:$PORT;/" -e '/listen \[::\]:443 ssl;/d' \
    -e '/ssl_certificate/d' -e "s/^ticket_redis_timeout 3s;/&\nticket_cookie_secure off;/" \
    /usr/share/doc/libnginx-mod-http-ticket/examples/ticket-site.conf \
    | awk '/^server \{/ { n++ } n < 2' >/etc/nginx/sites-enabled/ticket
nginx -t 2>/tmp/deb-check-nginx.log || { cat /tmp/deb-check-nginx.log; fail "nginx -t"; }
nginx
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/login" && break; sleep 0.1; done
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/login")
[ "$code" = 200 ] || fail "GET /login: $code"
css=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/static/ticket.css")
[ "$css" = 200 ] || fail "GET /static/ticket.css: $css"
ok "nginx with the module: /login and /static/ 200"

# ---- mailbridge: as the unit runs it, and deliver as the MTA would --------
printf '\naddress.legal@example.org = legal\n' >>/etc/ticket/mailbridge.conf
MB_CMD=$(exec_start /lib/systemd/system/ticket-mailbridge.service x)
install -d -o ticket -g ticket -m 700 /var/lib/ticket
setpriv --reuid ticket --regid ticket --init-groups $MB_CMD >/tmp/deb-check-mb.log 2>&1 &
MB_PID=$!
cleanup() {
    kill "$MB_PID" 2>/dev/null || true
    nginx -s quit 2>/dev/null || true
    redis-cli -s "$SOCK" shutdown >/dev/null 2>&1 || true
    rm -f "$policy"
}
trap cleanup EXIT

MID="<deb-check.$$@example.net>"
setpriv --reuid ticket --regid ticket --init-groups \
    mailbridge -c /etc/ticket/mailbridge.conf deliver --recipient legal@example.org <<MAIL
From: Paula Presse <paula@example.net>
To: legal@example.org
Subject: Paketprobe: Frist am Montag
Message-ID: $MID
Date: $(LC_ALL=C date -R)
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Diese Mail kam durch das installierte Paket.
MAIL
ok "mailbridge deliver exit 0"

json=$(curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/tickets")
grep -q 'Paketprobe: Frist am Montag' <<<"$json" || fail "ticket not in the API: $json"
page=$(curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/tickets/1")
grep -q 'installierte Paket' <<<"$page" || fail "article body not in the API: $page"
sleep 1
kill -0 "$MB_PID" 2>/dev/null || { cat /tmp/deb-check-mb.log; fail "mailbridge run exited"; }
ok "the mail is ticket 1, read through nginx; mailbridge run is up"
say "PASS"
