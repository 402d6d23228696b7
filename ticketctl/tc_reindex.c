/*
 * tc_reindex.c -- "ticketctl reindex": the overview index and its counts
 * rebuilt from the ticket hashes, for after a crash of a writer or a
 * change of the index layout; with --fulltext also the RediSearch index
 * from the article hashes (after a change of its definition).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ticketctl.h"
#include "tk_tags.h"


#define TC_SCAN_COUNT     1000


static int tc_reindex_clear(tc_ctx_t *ctx, unsigned long *deleted);
static int tc_reindex_batch(tc_ctx_t *ctx, redisReply *keys,
    unsigned long *done, unsigned long *skipped);
static int tc_reindex_ft_batch(tc_ctx_t *ctx, redisReply *keys,
    unsigned long *done, unsigned long *skipped);

typedef int (*tc_reindex_batch_pt)(tc_ctx_t *ctx, redisReply *keys,
    unsigned long *done, unsigned long *skipped);
static int tc_reindex_scan(tc_ctx_t *ctx, const char *match,
    tc_reindex_batch_pt batch, unsigned long *done, unsigned long *skipped);

/* tc_init.c: FT.CREATE with the current definition */


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
    int  rc, fulltext;

    fulltext = argc == 2 && strcmp(argv[1], "--fulltext") == 0;

    if (argc != 1 && !fulltext) {
        return tc_usage("reindex");
    }

    if ((rc = tc_connect(ctx, 1)) || (rc = tc_reindex_index(ctx, 1))) {
        return rc;
    }

    return fulltext ? tc_reindex_fulltext(ctx) : EX_OK;
}


/* The overview index from the ticket hashes (also the migration 2 -> 3,
 * on a connection whose schema is not checked yet). */
int
tc_reindex_index(tc_ctx_t *ctx, int verbose)
{
    unsigned long   done, skipped, deleted;
    int             rc;

    if ((rc = tc_reindex_clear(ctx, &deleted))) {
        return rc;
    }

    done = skipped = 0;
    rc = tc_reindex_scan(ctx, TK_PATTERN_TICKET_KEYS, tc_reindex_batch, &done,
                         &skipped);
    if (rc != EX_OK) {
        return rc;
    }

    if (verbose) {
        printf("reindexed %lu tickets (%lu index keys dropped first)\n",
               done, deleted);
    }

    if (skipped) {
        printf("skipped %lu ticket hashes without a valid number, state or "
               "priority\n", skipped);
    }

    return EX_OK;
}


/*
 * The full-text index dropped and created again with the definition of
 * this ticketctl (stop words: SCHEMA.md), then every article hash added
 * with FT.SAFEADD, under its ticket's current group.  KEEPDOCS: the
 * documents are the article hashes themselves (NOSAVE), and RediSearch
 * 1.x would delete them with the index otherwise.  Searches find less
 * until it is done (~0.4 ms per article: a million in ~7 minutes).
 */
int
tc_reindex_fulltext(tc_ctx_t *ctx)
{
    redisReply     *reply;
    unsigned long   done, skipped;
    int             rc;

    reply = redisCommand(ctx->redis.ctx, "FT.DROP %s KEEPDOCS",
                         TK_KEY_FT_ARTICLES);
    if (reply == NULL) {
        return tc_fail(EX_UNAVAILABLE, "Redis at %s: %s", ctx->addr,
                       ctx->redis.ctx->errstr);
    }

    /* "Unknown Index name": nothing to drop */
    freeReplyObject(reply);

    if ((rc = tc_init_ft_create(ctx)) != EX_OK) {
        return rc;
    }

    done = skipped = 0;
    rc = tc_reindex_scan(ctx, TK_PATTERN_ARTICLES, tc_reindex_ft_batch, &done,
                         &skipped);
    if (rc != EX_OK) {
        return rc;
    }

    printf("full-text index %s rebuilt: %lu articles\n", TK_KEY_FT_ARTICLES,
           done);

    if (skipped) {
        printf("skipped %lu article hashes without id, ticket or kind, or "
               "whose ticket has no group\n", skipped);
    }

    return EX_OK;
}


/* SCAN every hash matching MATCH, a page at a time, through BATCH: the
 * keyspace is never read at once (a million tickets, a small client) */
static int
tc_reindex_scan(tc_ctx_t *ctx, const char *match, tc_reindex_batch_pt batch,
    unsigned long *done, unsigned long *skipped)
{
    redisReply  *reply;
    char        *cursor;
    int          rc;

    cursor = strdup("0");

    do {
        reply = tc_command(ctx, "SCAN %s MATCH %s COUNT %d TYPE hash",
                           cursor, match, TC_SCAN_COUNT);
        free(cursor);
        cursor = NULL;

        if (reply == NULL) {
            return EX_UNAVAILABLE;
        }

        cursor = strdup(reply->element[0]->str);
        rc = batch(ctx, reply->element[1], done, skipped);
        freeReplyObject(reply);

        if (rc != EX_OK) {
            free(cursor);
            return rc;
        }

    } while (cursor && strcmp(cursor, "0") != 0);

    free(cursor);

    return EX_OK;
}


/* One SCAN page: each article hash and its ticket's group, then the
 * documents. */
static int
tc_reindex_ft_batch(tc_ctx_t *ctx, redisReply *keys, unsigned long *done,
    unsigned long *skipped)
{
    tk_arena_t     arena;
    tk_cmds_t      reads, writes;
    redisReply   **replies, *r, *g;
    tk_article_t   a;
    tk_str_t      *pairs, group;
    const char    *k;
    char           tkey[TK_KEY_MAX];
    uint64_t       number;
    size_t         i, n;
    int            rc;

    tk_arena_init(&arena);
    tk_cmds_init(&reads, tk_arena_alloc, &arena);
    tk_cmds_init(&writes, tk_arena_alloc, &arena);

    for (i = 0; i < keys->elements; i++) {
        k = keys->element[i]->str;

        /* article hashes, not their attachments or raw mail */
        if (tk_key_parse(k, strlen(k), &number, NULL) != TK_KEY_IS_ARTICLE) {
            continue;
        }

        tk_key_ticket(tkey, sizeof(tkey), number);
        tk_cmds_add(&reads, "HGETALL %s", k);
        tk_cmds_add(&reads, "HGET %s " TK_F_GROUP, tkey);
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

    for (i = 0; i + 1 < n; i += 2) {
        r = replies[i];
        g = replies[i + 1];

        pairs = tc_reply_pairs(r, tk_arena_alloc, &arena);
        if (pairs == NULL) {
            break;
        }

        if (tk_article_parse(&a, pairs, r->elements / 2) != 0
            || g->type != REDIS_REPLY_STRING || g->len == 0)
        {
            (*skipped)++;
            continue;
        }

        group.data = (unsigned char *) g->str;
        group.len = g->len;
        tk_article_write_flags(&writes, &a, &group, TK_ARTICLE_FT_ONLY);
        (*done)++;
    }

    rc = writes.n ? tc_run(ctx, &writes) : EX_OK;

    tk_redis_replies_free(replies, n);
    tk_arena_reset(&arena);

    return rc;
}


static int
tc_reindex_clear(tc_ctx_t *ctx, unsigned long *deleted)
{
    redisReply  *reply, *del;
    char        *cursor;
    size_t       i;

    /*
     * Derived from the ticket hashes: the overview sets, their counts
     * (hash and packed vectors), the list rows and
     * the list of schema 1's first mailbridge, which the owner partition
     * "!" replaced.  Not the other keys under {ix}: the outbox holds mail
     * still to be sent, and the generation counter must only ever grow
     * (nginx keeps pages cached under the values it has seen).
     */
    static const char  *patterns[] = {
        TK_PATTERN_INDEX, TK_PATTERN_INDEX_COUNTV, TK_PATTERN_TAG_SETS,
        TK_PATTERN_CUST_TICKETS, NULL
    };
    const char         **pat;

    /* also the tag sets and counts, the customers' ticket lists (issue
     * 13): derived from the tickets as well */
    del = tc_command(ctx, "UNLINK %s %s %s %s %s", TK_KEY_INDEX_COUNTS,
                     TK_KEY_INDEX_AUTO_OLD, TK_KEY_TAGS, TK_KEY_INDEX_ROWS,
                     TK_KEY_INDEX_COUNTS_PRI);
    if (del == NULL) {
        return EX_UNAVAILABLE;
    }

    *deleted = (unsigned long) del->integer;
    freeReplyObject(del);

    for (pat = patterns; *pat; pat++) {
        cursor = strdup("0");

        do {
            reply = tc_command(ctx, "SCAN %s MATCH %s COUNT %d", cursor,
                               *pat, TC_SCAN_COUNT);
            free(cursor);
            cursor = NULL;

            if (reply == NULL) {
                return EX_UNAVAILABLE;
            }

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
    }

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
    uint64_t      number;
    size_t        i, n;
    int           rc;

    tk_arena_init(&arena);
    tk_cmds_init(&reads, tk_arena_alloc, &arena);
    tk_cmds_init(&writes, tk_arena_alloc, &arena);

    for (i = 0; i < keys->elements; i++) {
        k = keys->element[i]->str;

        if (tk_key_parse(k, strlen(k), &number, NULL) == TK_KEY_IS_TICKET) {
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

        if (t.tags.len) {
            tk_tags_index(&writes, t.number, &t.tags, t.updated);
        }

        (*done)++;
    }

    rc = writes.n ? tc_run(ctx, &writes) : EX_OK;

    tk_redis_replies_free(replies, n);
    tk_arena_reset(&arena);

    return rc;
}
