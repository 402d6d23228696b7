/*
 * tc_init.c -- "ticketctl init": prepares an empty Redis (schema version,
 * RediSearch index) and may run again at any time; plus the collective's
 * group list that demo and gen create.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ticketctl.h"


static int tc_init_schema(tc_ctx_t *ctx, int verbose);
static int tc_init_fulltext(tc_ctx_t *ctx, int verbose);
/* also "reindex --fulltext" (declared there too; belongs in ticketctl.h) */


/* "legal" is the shared inbox every agent works in (FAQ: "Wofür ist die
 * legal-Gruppe gedacht?"); the others are the AGs. */
const tc_group_def_t  tc_collective_groups[] = {
    { "legal", "legal@example.org", 1 },
    { "ALSO", "also@example.org", 0 },
    { "Bildung", "bildung@example.org", 0 },
    { "Standardmails", "standardmails@example.org", 0 },
    { "Verfassungsrecht", "verfassungsrecht@example.org", 0 },
    { "Verwaltungsrecht", "verwaltungsrecht@example.org", 0 },
    { "Zivilrecht", "zivilrecht@example.org", 0 },
};

const size_t  tc_collective_ngroups =
    sizeof(tc_collective_groups) / sizeof(tc_collective_groups[0]);


int
tc_cmd_init(tc_ctx_t *ctx, int argc, char **argv)
{
    if (argc != 1) {
        tc_fail(EX_USAGE, "init takes no arguments");
        return tc_usage("init");
    }

    return tc_init_quiet(ctx, 1);
}


int
tc_init_quiet(tc_ctx_t *ctx, int verbose)
{
    int  rc;

    rc = tc_connect(ctx, 0);
    if (rc != EX_OK) {
        return rc;
    }

    rc = tc_init_schema(ctx, verbose);
    if (rc != EX_OK) {
        return rc;
    }

    rc = tc_sla_init(ctx, 0);           /* tc_sla.c */
    if (rc != EX_OK) {
        return rc;
    }

    rc = tc_init_fulltext(ctx, verbose);
    if (rc != EX_OK) {
        return rc;
    }

    return tc_trigger_seed(ctx, verbose);
}


/* SET NX: two inits at once cannot disagree about the version */
static int
tc_init_schema(tc_ctx_t *ctx, int verbose)
{
    redisReply  *reply;
    int          created;

    reply = tc_command(ctx, "SET %s %d NX", TK_KEY_SCHEMA, TK_SCHEMA_VERSION);
    if (reply == NULL) {
        return EX_UNAVAILABLE;
    }

    created = reply->type == REDIS_REPLY_STATUS;
    freeReplyObject(reply);

    if (created) {
        /* a fresh (or flushed) Redis: the overview generation starts at
         * the time in ms, above any value an nginx that served the old
         * data can have cached pages under (SCHEMA.md tk:{ix}:gen) */
        reply = tc_command(ctx, "SET %s %lld NX", TK_KEY_INDEX_GEN,
                           (long long) time(NULL) * 1000);
        if (reply == NULL) {
            return EX_UNAVAILABLE;
        }
        freeReplyObject(reply);

        if (verbose) {
            printf("schema version %d set (%s)\n", TK_SCHEMA_VERSION,
                   TK_KEY_SCHEMA);
        }
        return EX_OK;
    }

    reply = tc_command(ctx, "GET %s", TK_KEY_SCHEMA);
    if (reply == NULL) {
        return EX_UNAVAILABLE;
    }

    /* an older schema this ticketctl knows how to bring up to date */
    if (reply->type == REDIS_REPLY_STRING) {
        char  *end;
        long   from = strtol(reply->str, &end, 10);

        if (end != reply->str && *end == '\0' && from >= 1
            && from < TK_SCHEMA_VERSION)
        {
            freeReplyObject(reply);
            return tc_migrate(ctx, from, verbose);
        }
    }

    if (reply->type != REDIS_REPLY_STRING
        || strtol(reply->str, NULL, 10) != TK_SCHEMA_VERSION
        || reply->str[strspn(reply->str, "0123456789")] != '\0')
    {
        tc_fail(EX_DATAERR, "Redis at %s holds schema version \"%s\" but "
                "this ticketctl writes version %d; refusing to touch it "
                "(use a matching ticketctl, or another Redis)",
                ctx->addr, reply->type == REDIS_REPLY_STRING ? reply->str
                                                             : "?",
                TK_SCHEMA_VERSION);
        freeReplyObject(reply);
        return EX_DATAERR;
    }

    freeReplyObject(reply);

    if (verbose) {
        printf("schema version %d ok\n", TK_SCHEMA_VERSION);
    }

    return EX_OK;
}


/*
 * RediSearch 1.x syntax.  Our own stop word list (TK_FT_STOPWORDS,
 * German and English): RediSearch's default is English only and drops
 * "will" (a testament, here) while keeping every German "der die und".
 * Leaving the function words out cut FT.ADD's time by ~15 % and the
 * index by ~1.7 KB per 5 KB mail (SCHEMA.md); a query drops them too,
 * so "an die Polizei" finds "Polizei", and a phrase still matches.
 * NOFREQS: a posting records that a mail has the word, not how often
 * (0.6 KB less per mail, 2.03 -> 1.94 x the raw mail at a million):
 * ranking keeps IDF and the subject's weight, phrases and highlighting
 * keep their offsets.
 * An existing index is left as it is: "ticketctl reindex --fulltext"
 * rebuilds it with this definition.
 */
static int
tc_init_fulltext(tc_ctx_t *ctx, int verbose)
{
    redisReply  *reply;

    reply = redisCommand(ctx->redis.ctx, "FT.INFO %s", TK_KEY_FT_ARTICLES);
    if (reply == NULL) {
        return tc_fail(EX_UNAVAILABLE, "Redis at %s: %s", ctx->addr,
                       ctx->redis.ctx->errstr);
    }

    if (reply->type != REDIS_REPLY_ERROR) {
        freeReplyObject(reply);
        if (verbose) {
            printf("full-text index %s ok\n", TK_KEY_FT_ARTICLES);
        }
        return EX_OK;
    }

    if (strstr(reply->str, "nknown command") != NULL) {
        tc_fail(EX_UNAVAILABLE, "Redis at %s has no RediSearch module (%s); "
                "start it with --loadmodule "
                "/usr/lib/redis/modules/redisearch.so", ctx->addr,
                reply->str);
        freeReplyObject(reply);
        return EX_UNAVAILABLE;
    }

    freeReplyObject(reply);

    if (tc_init_ft_create(ctx) != EX_OK) {
        return EX_SOFTWARE;
    }

    if (verbose) {
        printf("full-text index %s created\n", TK_KEY_FT_ARTICLES);
    }

    return EX_OK;
}


/* The index definition (SCHEMA.md "Full text"). */
int
tc_init_ft_create(tc_ctx_t *ctx)
{
    redisReply  *reply;

    reply = tc_command(ctx, "FT.CREATE %s NOFREQS"
                       " STOPWORDS " TK_FT_STOPWORDS_N " " TK_FT_STOPWORDS
                       " SCHEMA"
                       " ticket NUMERIC SORTABLE group TAG kind TAG"
                       " subject TEXT WEIGHT 5.0 body TEXT from TEXT"
                       " attachments TEXT time NUMERIC SORTABLE",
                       TK_KEY_FT_ARTICLES);
    if (reply == NULL) {
        return EX_SOFTWARE;
    }

    freeReplyObject(reply);

    return EX_OK;
}


int
tc_groups_ensure(tc_ctx_t *ctx, int verbose)
{
    tk_arena_t   arena;
    tk_cmds_t    cmds;
    size_t       i;
    int          rc, exists;
    char         signature[256];

    tk_arena_init(&arena);
    tk_cmds_init(&cmds, tk_arena_alloc, &arena);

    for (i = 0; i < tc_collective_ngroups; i++) {
        exists = tc_group_exists(ctx, tc_collective_groups[i].name);
        if (exists < 0) {
            tk_arena_reset(&arena);
            return EX_UNAVAILABLE;
        }

        if (exists) {
            continue;
        }

        snprintf(signature, sizeof(signature),
                 "-- \nSolidarische Gr\xc3\xbc\xc3\x9f" "e\n"
                 "Legal-Team, %s\n", tc_collective_groups[i].name);

        tc_group_write(&cmds, tc_collective_groups[i].name,
                       tc_collective_groups[i].email, signature,
                       tc_collective_groups[i].all_agents);

        if (verbose) {
            printf("group %s created (%s%s)\n", tc_collective_groups[i].name,
                   tc_collective_groups[i].email,
                   tc_collective_groups[i].all_agents ? ", all agents" : "");
        }
    }

    rc = cmds.n ? tc_run(ctx, &cmds) : EX_OK;
    tk_arena_reset(&arena);

    return rc;
}
