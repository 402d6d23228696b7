/*
 * tc_reindex.c -- "ticketctl reindex": the overview index and its counts
 * rebuilt from the ticket hashes, for after a crash of a writer or a
 * change of the index layout.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ticketctl.h"


#define TC_SCAN_COUNT     1000


static int tc_reindex_clear(tc_ctx_t *ctx, unsigned long *deleted);
static int tc_reindex_batch(tc_ctx_t *ctx, redisReply *keys,
    unsigned long *done, unsigned long *skipped);


/*
 * Drops every overview set and the counts hash, then adds every ticket
 * again from its hash (tk_ticket_index_add: an unassigned ticket flagged
 * "auto" goes to the owner partition "!", as when it was stored).
 * Writers running meanwhile may be lost from the index: stop nginx and
 * mailbridge first (SCHEMA.md).
 */
int
tc_cmd_reindex(tc_ctx_t *ctx, int argc, char **argv)
{
    redisReply     *reply;
    char           *cursor;
    unsigned long   done, skipped, deleted;
    int             rc;

    if (argc != 1) {
        return tc_usage("reindex");
    }

    if ((rc = tc_connect(ctx, 1)) || (rc = tc_reindex_clear(ctx, &deleted))) {
        return rc;
    }

    done = skipped = 0;
    cursor = strdup("0");

    do {
        reply = tc_command(ctx, "SCAN %s MATCH tk:{t:* COUNT %d TYPE hash",
                           cursor, TC_SCAN_COUNT);
        free(cursor);
        cursor = NULL;

        if (reply == NULL) {
            return EX_UNAVAILABLE;
        }

        cursor = strdup(reply->element[0]->str);
        rc = tc_reindex_batch(ctx, reply->element[1], &done, &skipped);
        freeReplyObject(reply);

        if (rc != EX_OK) {
            free(cursor);
            return rc;
        }

    } while (cursor && strcmp(cursor, "0") != 0);

    free(cursor);

    printf("reindexed %lu tickets (%lu index keys dropped first)\n", done,
           deleted);

    if (skipped) {
        printf("skipped %lu ticket hashes without a valid number, state or "
               "priority\n", skipped);
    }

    return EX_OK;
}


static int
tc_reindex_clear(tc_ctx_t *ctx, unsigned long *deleted)
{
    redisReply  *reply, *del;
    char        *cursor;
    size_t       i;

    *deleted = 0;
    cursor = strdup("0");

    do {
        reply = tc_command(ctx, "SCAN %s MATCH tk:{ix}:* COUNT %d", cursor,
                           TC_SCAN_COUNT);
        free(cursor);
        cursor = NULL;

        if (reply == NULL) {
            return EX_UNAVAILABLE;
        }

        /* everything under {ix} is derived from the ticket hashes (also
         * the "tk:{ix}:auto" list of schema 1's first mailbridge, which
         * the owner partition "!" replaced) */
        for (i = 0; i < reply->element[1]->elements; i++) {
            del = tc_command(ctx, "UNLINK %s",
                             reply->element[1]->element[i]->str);
            if (del == NULL) {
                freeReplyObject(reply);
                return EX_UNAVAILABLE;
            }

            *deleted += (unsigned long) del->integer;
            freeReplyObject(del);
        }

        cursor = strdup(reply->element[0]->str);
        freeReplyObject(reply);

    } while (cursor && strcmp(cursor, "0") != 0);

    free(cursor);

    return EX_OK;
}


/* One SCAN page: HGETALL the ticket hashes (not tk:{t:N}:a:ID) and
 * index them. */
static int
tc_reindex_batch(tc_ctx_t *ctx, redisReply *keys, unsigned long *done,
    unsigned long *skipped)
{
    tk_arena_t    arena;
    tk_cmds_t     reads, writes;
    redisReply  **replies, *r;
    tk_ticket_t   t;
    tk_str_t     *pairs;
    const char   *k;
    size_t        i, n, len;
    int           rc;

    tk_arena_init(&arena);
    tk_cmds_init(&reads, tk_arena_alloc, &arena);
    tk_cmds_init(&writes, tk_arena_alloc, &arena);

    for (i = 0; i < keys->elements; i++) {
        k = keys->element[i]->str;
        len = strlen(k);

        if (len && k[len - 1] == '}') {
            tk_cmds_add(&reads, "HGETALL %s", k);
        }
    }

    if (reads.n == 0) {
        tk_arena_reset(&arena);
        return EX_OK;
    }

    n = reads.n;
    rc = tk_redis_pipeline(&ctx->redis, &reads, &replies);
    if (rc != TK_REDIS_OK) {
        tk_arena_reset(&arena);
        return tc_redis_fail(ctx, rc);
    }

    for (i = 0; i < n; i++) {
        r = replies[i];

        pairs = tc_reply_pairs(r, tk_arena_alloc, &arena);
        if (pairs == NULL) {
            break;
        }

        if (tk_ticket_parse(&t, pairs, r->elements / 2) != 0
            || !tk_valid_group(&t.group))
        {
            (*skipped)++;
            continue;
        }

        tk_ticket_index_add(&writes, &t);
        (*done)++;
    }

    rc = writes.n ? tc_run(ctx, &writes) : EX_OK;

    tk_redis_replies_free(replies, n);
    tk_arena_reset(&arena);

    return rc;
}
