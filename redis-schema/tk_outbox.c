/*
 * tk_outbox.c -- queueing outbound articles and recording their delivery
 * (see tk_outbox.h).
 */

#include <string.h>

#include "tk_feed.h"
#include "tk_outbox.h"

static const char  *tk_delivery_names[] = {
    NULL, "queued", "sent", "failed"
};


const char *
tk_delivery_name(int state)
{
    if (state < TK_DELIVERY_QUEUED || state > TK_DELIVERY_FAILED) {
        return NULL;
    }

    return tk_delivery_names[state];
}


int
tk_delivery_parse(const char *s, size_t len)
{
    int  i;

    for (i = TK_DELIVERY_QUEUED; i <= TK_DELIVERY_FAILED; i++) {
        if (strlen(tk_delivery_names[i]) == len
            && memcmp(tk_delivery_names[i], s, len) == 0)
        {
            return i;
        }
    }

    return 0;
}


void
tk_outbox_enqueue(tk_cmds_t *c, uint64_t number, uint64_t article,
    int64_t now)
{
    char  key[TK_KEY_MAX];

    if (tk_key_article(key, sizeof(key), number, article) == 0) {
        c->failed = 1;
        return;
    }

    tk_cmds_add(c, "HSET %s " TK_F_DELIVERY " queued " TK_F_DELIVERY_TRIES
        " 0 " TK_F_DELIVERY_TIME " %lld", key, (long long) now);

    tk_cmds_add(c, "XADD " TK_KEY_OUTBOX " * " TK_F_TICKET " %llu article"
        " %llu kind " TK_OUTBOX_KIND_ARTICLE, (unsigned long long) number,
        (unsigned long long) article);
}


void
tk_outbox_delivery(tk_cmds_t *c, uint64_t number, uint64_t article,
    int state, const tk_str_t *info, unsigned tries, int64_t now)
{
    static const tk_str_t  none = tk_null_string;
    static const tk_str_t  mailbridge = tk_string("mailbridge");

    char         key[TK_KEY_MAX], tkey[TK_KEY_MAX];
    const char  *name;
    tk_feed_t   *f;

    name = tk_delivery_name(state);

    if (name == NULL
        || tk_key_article(key, sizeof(key), number, article) == 0
        || tk_key_ticket(tkey, sizeof(tkey), number) == 0)
    {
        c->failed = 1;
        return;
    }

    tk_cmds_add(c, "HSET %s " TK_F_DELIVERY " %s " TK_F_DELIVERY_INFO " %S "
        TK_F_DELIVERY_TRIES " %u " TK_F_DELIVERY_TIME " %lld", key, name,
        info ? info : &none, tries, (long long) now);

    tk_cmds_add(c, "HINCRBY %s " TK_F_REV " 1", tkey);

    /* a final entry leaves the stream: the admins' outbox page finds the
     * failures of the last days here (SCHEMA.md "Outbox") */
    if (state == TK_DELIVERY_FAILED) {
        tk_cmds_add(c, "ZADD " TK_KEY_OUTBOX_FAILED " %lld %llu:%llu",
            (long long) now, (unsigned long long) number,
            (unsigned long long) article);
        tk_cmds_add(c, "ZREMRANGEBYSCORE " TK_KEY_OUTBOX_FAILED " -inf %lld",
            (long long) (now - TK_OUTBOX_FAILED_KEEP));

    } else if (state == TK_DELIVERY_SENT) {
        tk_cmds_add(c, "ZREM " TK_KEY_OUTBOX_FAILED " %llu:%llu",
            (unsigned long long) number, (unsigned long long) article);
    }

    /* "delivery failed" is what a notification tells the agent; only
     * mailbridge's sender records deliveries, so a list that did not say
     * who it is, is mailbridge's */
    if (c->actor.len == 0 && c->src == TK_SRC_SYSTEM) {
        tk_cmds_actor(c, &mailbridge, TK_SRC_MAIL);
    }

    f = tk_feed_open(c, number, TK_FEED_DELIVERY, &mailbridge);
    tk_feed_bump(f);
    tk_feed_num(c, f, "article", article);
    tk_feed_word(c, f, TK_F_DELIVERY, name);
    tk_feed_num(c, f, TK_F_DELIVERY_TRIES, tries);

    if (info && info->len) {
        tk_feed_str(c, f, TK_F_DELIVERY_INFO, info);
    }

    tk_feed_close(c, f);
}


void
tk_outbox_done(tk_cmds_t *c, const tk_str_t *entry_id)
{
    tk_cmds_add(c, "XACK " TK_KEY_OUTBOX " " TK_OUTBOX_GROUP " %S", entry_id);
    tk_cmds_add(c, "XDEL " TK_KEY_OUTBOX " %S", entry_id);
    tk_cmds_add(c, "ZREM " TK_KEY_OUTBOX_RETRY " %S", entry_id);
}


void
tk_outbox_retry(tk_cmds_t *c, const tk_str_t *entry_id, int64_t due_ms)
{
    tk_cmds_add(c, "ZADD " TK_KEY_OUTBOX_RETRY " %lld %S",
        (long long) due_ms, entry_id);
}


void
tk_outbox_notice(tk_cmds_t *c, uint64_t number, uint64_t article)
{
    tk_cmds_add(c, "XADD " TK_KEY_OUTBOX " * " TK_F_TICKET " %llu article"
        " %llu kind " TK_OUTBOX_KIND_NOTICE, (unsigned long long) number,
        (unsigned long long) article);
}
