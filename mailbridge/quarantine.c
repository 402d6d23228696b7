/*
 * quarantine.c -- a mail we cannot parse at all is not dropped and not
 * bounced: its bytes, the reason and the time go to tk:quarantine:ID
 * (ID = SHA-256 of the bytes, so a retry stores it once) and the zset
 * tk:quarantine lists them for an admin.
 */

#include <stdio.h>

#include "mailbridge.h"


void
mb_quarantine_write(tk_cmds_t *c, mb_msg_t *m, int64_t now)
{
    char  key[TK_KEY_MAX];
    int   len;

    if (m->raw_hash[0] == '\0') {
        mb_msg_hash(m);
    }

    len = snprintf(key, sizeof(key), TK_FMT_QUARANTINE, m->raw_hash);
    if (len <= 0 || (size_t) len >= sizeof(key)) {
        c->failed = 1;
        return;
    }

    tk_cmds_add(c, "HSET %s " TK_F_RAW " %b " TK_F_REASON " %s "
                TK_F_TIME " %lld " TK_F_SOURCE " %s " TK_F_SIZE " %llu",
                key, m->raw, m->raw_len, m->reason ? m->reason : "unknown",
                (long long) now, m->source ? m->source : "",
                (unsigned long long) m->size);

    /* NX: the first sighting's time stays */
    tk_cmds_add(c, "ZADD " TK_KEY_QUARANTINE " NX %lld %s", (long long) now,
                m->raw_hash);
}
