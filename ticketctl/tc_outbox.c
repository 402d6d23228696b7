/*
 * tc_outbox.c -- "ticketctl outbox": the admin's view of the outbound
 * mail queue (tk:{ix}:outbox, SCHEMA.md "Outbox"): every entry not yet
 * final with its article's delivery state, tries, the next retry and the
 * last reply, and who holds it.  Read only; two pipelined round trips.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ticketctl.h"

#define TC_OUTBOX_LIMIT  100


static const char *
tc_field(redisReply *fields, const char *name)
{
    size_t  k;

    for (k = 0; fields && fields->type == REDIS_REPLY_ARRAY
                && k + 1 < fields->elements; k += 2)
    {
        if (strcmp(fields->element[k]->str, name) == 0) {
            return fields->element[k + 1]->str;
        }
    }
    return "";
}


static void
tc_when(char *buf, size_t size, long long ms)
{
    time_t     t = (time_t) (ms / 1000);
    struct tm  tm;

    if (ms <= 0) {
        snprintf(buf, size, "-");
        return;
    }
    localtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}


int
tc_cmd_outbox(tc_ctx_t *ctx, int argc, char **argv)
{
    tk_arena_t    arena;
    tk_cmds_t     c;
    redisReply  **rep = NULL, *list, *e, *pend;
    char          key[TK_KEY_MAX], queued[32], due[32];
    long          limit = TC_OUTBOX_LIMIT;
    size_t        i, k, n;
    int           rc;

    if (argc == 3 && strcmp(argv[1], "--limit") == 0) {
        limit = strtol(argv[2], NULL, 10);
        if (limit < 1 || limit > 100000) {
            return tc_fail(EX_USAGE, "--limit wants 1..100000");
        }
    } else if (argc != 1) {
        return tc_usage("outbox");
    }

    if ((rc = tc_connect(ctx, 1))) {
        return rc;
    }

    tk_arena_init(&arena);
    tk_cmds_init(&c, tk_arena_alloc, &arena);
    tk_cmds_add(&c, "XLEN " TK_KEY_OUTBOX);
    tk_cmds_add(&c, "ZCARD " TK_KEY_OUTBOX_RETRY);
    tk_cmds_add(&c, "XRANGE " TK_KEY_OUTBOX " - + COUNT %ld", limit);
    rc = tk_redis_pipeline(&ctx->redis, &c, &rep);
    tk_arena_reset(&arena);
    if (rc != TK_REDIS_OK) {
        return tc_redis_fail(ctx, rc);
    }

    printf("%lld entries, %lld waiting for a retry\n",
           (long long) rep[0]->integer, (long long) rep[1]->integer);

    list = rep[2];
    n = list->type == REDIS_REPLY_ARRAY ? list->elements : 0;

    /* per entry: the article's state, its retry time, who holds it */
    tk_arena_init(&arena);
    tk_cmds_init(&c, tk_arena_alloc, &arena);
    for (i = 0; i < n; i++) {
        e = list->element[i];
        if (tk_key_article(key, sizeof(key),
                strtoull(tc_field(e->element[1], TK_F_TICKET), NULL, 10),
                strtoull(tc_field(e->element[1], "article"), NULL, 10)) == 0)
        {
            strcpy(key, "-");
        }
        tk_cmds_add(&c, "HMGET %s " TK_F_DELIVERY " " TK_F_DELIVERY_TRIES " "
                    TK_F_DELIVERY_INFO " " TK_F_TO, key);
        tk_cmds_add(&c, "ZSCORE " TK_KEY_OUTBOX_RETRY " %s",
                    e->element[0]->str);
        tk_cmds_add(&c, "XPENDING " TK_KEY_OUTBOX " " TK_OUTBOX_GROUP
                    " %s %s 1", e->element[0]->str, e->element[0]->str);
    }

    if (n) {
        redisReply  **r2 = NULL;

        rc = tk_redis_pipeline(&ctx->redis, &c, &r2);
        if (rc != TK_REDIS_OK) {
            tk_arena_reset(&arena);
            tk_redis_replies_free(rep, 3);
            return tc_redis_fail(ctx, rc);
        }

        printf("%-17s %-7s %-7s %-8s %-7s %-5s %-19s %-19s %-22s %s\n",
               "ENTRY", "KIND", "TICKET", "ARTICLE", "STATE", "TRIES",
               "QUEUED", "NEXT TRY", "HELD BY", "LAST REPLY / TO");

        for (i = 0; i < n; i++) {
            redisReply  *a = r2[3 * i], *z = r2[3 * i + 1];
            const char  *holder = "-";

            e = list->element[i];
            pend = r2[3 * i + 2];
            if (pend->type == REDIS_REPLY_ARRAY && pend->elements == 1
                && pend->element[0]->elements >= 2)
            {
                holder = pend->element[0]->element[1]->str;
            }

            tc_when(queued, sizeof(queued), strtoll(e->element[0]->str,
                                                    NULL, 10));
            tc_when(due, sizeof(due), z->type == REDIS_REPLY_STRING
                                      ? strtoll(z->str, NULL, 10) : 0);
            k = a->type == REDIS_REPLY_ARRAY ? a->elements : 0;

            printf("%-17s %-7s %-7s %-8s %-7s %-5s %-19s %-19s %-22.22s "
                   "%.60s\n", e->element[0]->str,
                   tc_field(e->element[1], "kind"),
                   tc_field(e->element[1], TK_F_TICKET),
                   tc_field(e->element[1], "article"),
                   k > 0 ? tc_reply_str(a, 0) : "",
                   k > 1 ? tc_reply_str(a, 1) : "",
                   queued, due, holder,
                   k > 2 && *tc_reply_str(a, 2) ? tc_reply_str(a, 2)
                   : k > 3 ? tc_reply_str(a, 3) : "");
        }

        tk_redis_replies_free(r2, 3 * n);
    }

    tk_arena_reset(&arena);
    tk_redis_replies_free(rep, 3);
    return EX_OK;
}
