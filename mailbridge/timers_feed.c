/*
 * timers_feed.c -- the change feed as the timers role reads it: one
 * XREADGROUP (consumer group "timers"), blocking until the next due time
 * or a new entry; the entries that may move a ticket's due times are
 * gathered per ticket (first and last outbound reply, the first customer
 * mail after it) and recomputed in batches (timers.c), then all are
 * XACKed.  A failure leaves them unacknowledged: read again ("0") after
 * reconnecting, and recomputing is idempotent.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "mb_roles.h"
#include "mb_timers.h"

static int mb_timers_entries(mb_timers_t *tm, redisReply *entries);
static const char *mb_field(redisReply *fields, const char *name);
static int mb_has_word(const char *list, const char *word);


/*
 * XREADGROUP once: "0" our unacknowledged entries, ">" new ones with
 * BLOCK block_ms; the socket timeout is raised for the block.
 */
int
mb_timers_read(mb_timers_t *tm, const char *id, int block_ms)
{
    redisReply     *reply;
    int             rc = 0, t;

    if (strcmp(id, ">") == 0) {
        /*
         * The block is sent, then waited for with mb_wait() on the
         * socket (as the feed role does), so a SIGTERM ends the wait at
         * once instead of after the block; hiredis's own read would
         * restart after the signal.
         */
        redisContext  *c = tm->r.ctx;
        int            done = 0, w;

        if (c == NULL
            || redisAppendCommand(c, "XREADGROUP GROUP %s %s COUNT %d "
                                  "BLOCK %d STREAMS %s >", TK_TIMERS_GROUP,
                                  MB_TIMERS_CONSUMER, MB_TIMERS_BATCH,
                                  block_ms, TK_KEY_FEED) != REDIS_OK)
        {
            tk_redis_set_error(&tm->r, "XREADGROUP: not connected");
            return -1;
        }

        while (!done) {
            if (redisBufferWrite(c, &done) != REDIS_OK) {
                tk_redis_set_error(&tm->r, "XREADGROUP: %s", c->errstr);
                return -1;
            }
        }

        t = block_ms + tm->cfg->redis_timeout;
        {
            int64_t  end = mb_now_ms() + t;

            /* 0 is a timeout or another signal (SIGCHLD...): wait on */
            int64_t  left;

            do {
                left = end - mb_now_ms();
                /* never < 0: mb_wait() takes that as "no limit" */
                w = left > 0 ? mb_wait(c->fd, left) : 0;
            } while (w == 0 && left > 0);
        }

        if (w < 0) {
            /* stopping: the loop ends, the connection with it */
            return 0;
        }

        if (w == 0 || redisGetReply(c, (void **) &reply) != REDIS_OK) {
            tk_redis_set_error(&tm->r, "XREADGROUP: no answer within %d ms",
                               t);
            return -1;
        }

    } else {
        reply = tk_redis_command(&tm->r, "XREADGROUP GROUP %s %s COUNT %d "
                                 "STREAMS %s %s", TK_TIMERS_GROUP,
                                 MB_TIMERS_CONSUMER, 10000, TK_KEY_FEED, id);
    }

    if (reply == NULL) {
        return -1;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        tk_redis_set_error(&tm->r, "XREADGROUP: %s", reply->str);
        freeReplyObject(reply);
        return -1;
    }

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1
        && reply->element[0]->type == REDIS_REPLY_ARRAY
        && reply->element[0]->elements == 2)
    {
        rc = mb_timers_entries(tm, reply->element[0]->element[1]);
    }

    freeReplyObject(reply);
    return rc;
}


/*
 * The feed entries that may move a due time: recompute their tickets
 * (once each), then XACK them all.  Entries the timers role wrote itself
 * (escalation_at, escalated, reminded) are acknowledged unread.
 */
static int
mb_timers_entries(mb_timers_t *tm, redisReply *entries)
{
    static const char *const  moves[] = {
        TK_F_STATE, TK_F_PRIORITY, TK_F_GROUP, TK_F_OWNER,
        TK_F_PENDING_UNTIL, TK_F_FLAGS
    };
    mb_timers_ev_t  ev[MB_TIMERS_BATCH];
    tk_arena_t   arena;
    tk_cmds_t    ack;
    redisReply  *e, *fields;
    const char  *event, *changed, *kind, *ticket, *article;
    size_t       i, j, k, n = 0;
    uint64_t     number;
    int64_t      when;
    int          want, rc = 0;

    /* the configuration as it is now, not as it was when the block
     * began: "sla set" and then a new ticket must use the new SLA */
    if (entries->elements && mb_timers_config(tm) != 0) {
        return -1;
    }

    tk_arena_init(&arena);
    tk_cmds_init(&ack, tk_arena_alloc, &arena);

    for (i = 0; i < entries->elements && rc == 0; i++) {
        e = entries->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
            || e->element[1]->type != REDIS_REPLY_ARRAY)
        {
            continue;                   /* deleted entry (trimmed) */
        }

        fields = e->element[1];
        event = mb_field(fields, "event");
        changed = mb_field(fields, "changed");
        kind = mb_field(fields, TK_F_KIND);
        ticket = mb_field(fields, TK_F_TICKET);
        article = mb_field(fields, "article");
        number = ticket ? strtoull(ticket, NULL, 10) : 0;
        /* the entry id is the commit time in ms */
        when = strtoll(e->element[0]->str, NULL, 10) / 1000;

        want = event && strcmp(event, "created") == 0;
        for (k = 0; !want && changed && k < 6; k++) {
            want = mb_has_word(changed, moves[k]);
        }
        /* the first outbound reply (not a note) is the first response;
         * a customer's mail may start the update time */
        if (kind && strcmp(kind, "out") == 0) {
            want = 2;
        } else if (kind && strcmp(kind, "in") == 0) {
            want = 3;
        }

        if (want && number) {
            for (j = 0; j < n && ev[j].number != number; j++) { /* void */ }
            if (j == n) {
                memset(&ev[n++], 0, sizeof(mb_timers_ev_t));
                ev[j].number = number;
            }
            if (want == 2) {
                ev[j].first_out = ev[j].first_out ? ev[j].first_out : when;
                ev[j].last_out = when;
                ev[j].in = 0;
                ev[j].article[0] = '\0';
            } else if (want == 3 && ev[j].in == 0 && article
                       && *article && strlen(article) < sizeof(ev[j].article)
                       && strspn(article, "0123456789") == strlen(article))
            {
                ev[j].in = when;
                snprintf(ev[j].article, sizeof(ev[j].article), "%s",
                         article);
            }
        }

        if (n == MB_TIMERS_BATCH) {
            rc = mb_timers_recompute(tm, ev, n);
            n = 0;
        }
    }

    if (rc == 0 && n) {
        rc = mb_timers_recompute(tm, ev, n);
    }

    if (rc == 0 && entries->elements) {
        tk_str_t  *argv;

        argv = tk_arena_alloc(&arena, (entries->elements + 3)
                                      * sizeof(tk_str_t));
        if (argv == NULL) {
            tk_arena_reset(&arena);
            return -1;
        }
        argv[0] = (tk_str_t) tk_string("XACK");
        argv[1] = (tk_str_t) tk_string(TK_KEY_FEED);
        argv[2] = (tk_str_t) tk_string(TK_TIMERS_GROUP);
        for (i = 0; i < entries->elements; i++) {
            e = entries->element[i];
            argv[3 + i].data = (unsigned char *) (e->type == REDIS_REPLY_ARRAY
                                   ? e->element[0]->str : "0-0");
            argv[3 + i].len = strlen((const char *) argv[3 + i].data);
        }
        tk_cmds_argv(&ack, (int) entries->elements + 3, argv);
        rc = tk_redis_pipeline(&tm->r, &ack, NULL) == TK_REDIS_OK ? 0 : -1;
    }

    tk_arena_reset(&arena);
    return rc;
}


static const char *
mb_field(redisReply *fields, const char *name)
{
    size_t  i;

    for (i = 0; i + 1 < fields->elements; i += 2) {
        if (strcmp(fields->element[i]->str, name) == 0) {
            return fields->element[i + 1]->str;
        }
    }

    return NULL;
}


/* word in a comma list ("state,priority") */
static int
mb_has_word(const char *list, const char *word)
{
    size_t       len = strlen(word);
    const char  *p = list;

    while ((p = strstr(p, word)) != NULL) {
        if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == '\0')) {
            return 1;
        }
        p += len;
    }

    return 0;
}
