#!/usr/bin/env bash
# mailbridge-conf.sh -- write a demo configuration for "make run".
#
#   scripts/mailbridge-conf.sh VAR [REDIS_URL]
#
# Writes VAR/mailbridge/mailbridge.conf (mode 600) for the Redis of
# "make run" (default unix:VAR/redis/redis.sock) and prints its path.
# legal@example.org -> legal, also@example.org -> ALSO, everything else to
# legal.  No IMAP mailbox: the demo delivers the .eml files dropped into
# VAR/mailbridge/drop/ (see mailbridge/dev-run.sh).  Existing configs are
# kept, so an admin's edits survive restarts.
set -euo pipefail

VAR=${1:?usage: mailbridge-conf.sh VAR [REDIS_URL]}
case $VAR in /*) ;; *) VAR=$PWD/$VAR ;; esac
REDIS_URL=${2:-unix:$VAR/redis/redis.sock}
DIR=$VAR/mailbridge
CONF=$DIR/mailbridge.conf

mkdir -p "$DIR/drop" "$DIR/done" "$DIR/failed"

if [ ! -e "$CONF" ]; then
    umask 077
    cat > "$CONF" <<CONF
# mailbridge demo configuration (scripts/mailbridge-conf.sh); see
# docs/mailbridge.md for every key.
redis = $REDIS_URL
log_level = info
max_size = 25M
default_group = legal
subject_tag = Ticket#
address.legal@example.org = legal
address.also@example.org = ALSO

# An IMAP mailbox would look like this (then: mailbridge -c THIS run):
# mailbox.legal.url = imaps://imap.example.org/INBOX
# mailbox.legal.user = legal@example.org
# mailbox.legal.password = secret
# mailbox.legal.group = legal
# mailbox.legal.processed = Processed
# mailbox.legal.poll = 30
CONF
    chmod 600 "$CONF"
fi

echo "$CONF"
