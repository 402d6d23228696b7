#!/usr/bin/env bash
# dev-run.sh -- mailbridge for "make run" (called by scripts/run.sh):
#
#   mailbridge/dev-run.sh VAR REDIS_URL
#
# Writes the demo config (scripts/mailbridge-conf.sh), then plays the
# MTA: every .eml file dropped into VAR/mailbridge/drop/ is handed to
# "mailbridge deliver" like Postfix's pipe(8) would, and moved to done/
# on exit 0 (stored), left for the next round on 75 (try again), moved
# to failed/ otherwise.  The first start drops one welcome mail.  Next to
# it runs the daemon, "mailbridge run" (its roles: the feed consumer, and
# IMAP once a mailbox is configured).  Ends on SIGTERM/SIGINT, and when
# "mailbridge run" dies (run.sh's supervisor then starts both again).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VAR=${1:?usage: dev-run.sh VAR REDIS_URL}
REDIS_URL=${2:-}
MB=$ROOT/build/mailbridge
CONF=$("$ROOT/scripts/mailbridge-conf.sh" "$VAR" $REDIS_URL) || exit 1
DIR=$(dirname "$CONF")

if [ ! -e "$DIR/.welcomed" ]; then
    cat > "$DIR/drop/welcome.eml" <<MAIL
From: Anna Aktiv <anna@example.net>
To: legal@example.org
Subject: Hallo Legal-Team: diese Mail kam durch mailbridge
Date: $(LC_ALL=C date -R)
Message-ID: <welcome.$(date +%s).$$@example.net>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hallo,

diese Nachricht wurde als .eml in $DIR/drop/ abgelegt
und von "mailbridge deliver" als Ticket gespeichert -- so wie Postfix
echte Mails an legal@example.org übergibt.

Weitere Mails: einfach .eml-Dateien in den drop-Ordner legen.

Anna
MAIL
    touch "$DIR/.welcomed"
fi

echo "mailbridge: delivering .eml files from $DIR/drop (config $CONF)" >&2

"$MB" -c "$CONF" run &
RUN_PID=$!

stop=0
trap 'stop=1' TERM INT
while [ "$stop" = 0 ]; do
    # the daemon died: end, so that run.sh's supervisor restarts us both
    if ! kill -0 "$RUN_PID" 2>/dev/null; then
        wait "$RUN_PID" 2>/dev/null
        echo "mailbridge: 'mailbridge run' exited (status $?)" >&2
        exit 1
    fi
    for f in "$DIR"/drop/*.eml; do
        [ -e "$f" ] || break
        "$MB" -c "$CONF" deliver --recipient legal@example.org < "$f"
        case $? in
            0) mv "$f" "$DIR/done/" ;;
            75) break ;;                      # Redis not there yet: later
            *) mv "$f" "$DIR/failed/" ;;
        esac
    done
    sleep 2 & wait $! 2>/dev/null
done

kill -TERM "$RUN_PID" 2>/dev/null
wait "$RUN_PID" 2>/dev/null
