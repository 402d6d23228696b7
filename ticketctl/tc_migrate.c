/*
 * tc_migrate.c -- "ticketctl init" on a Redis that holds an older schema
 * brings it to TK_SCHEMA_VERSION, then sets tk:schema.
 *
 *   1 -> 2  ticket history: from lists of JSON strings to streams
 *           (SCHEMA.md "tk:{t:N}:history"); every entry kept, in order.
 *
 * Stop nginx and mailbridge first (new ones refuse schema 1 anyway; old
 * ones would go on writing lists).  Each ticket's history is converted
 * in one MULTI (WATCHed), and keys that are streams already are left
 * alone, so a migration cut short simply runs again.  The JSON reader
 * below exists for this step only: it reads what schema 1's writer
 * (tk_out_json) wrote, and goes when no schema 1 data is left.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ticketctl.h"


#define TC_HIST_FIELDS  5               /* time by field from to */

typedef struct {
    char                *value[TC_HIST_FIELDS];   /* NULL: null/absent */
} tc_hist_entry_t;

typedef struct {
    uint64_t             number;
    const char          *key;
    size_t               bad;           /* index of an entry not read */
    size_t               entries;
    char                *buf;           /* decoded strings */
} tc_migrate_ticket_t;


static int tc_migrate_history(tc_ctx_t *ctx, int verbose);
static int tc_migrate_key(tc_ctx_t *ctx, const char *key, size_t *entries);
static int tc_migrate_decide(void *data, redisReply **reads, size_t nreads,
    tk_cmds_t *writes);
static int tc_json_entry(const char *p, size_t len, char *buf,
    tc_hist_entry_t *e);
static const char *tc_json_string(const char *p, const char *last,
    char **out);


static const char  *tc_hist_names[TC_HIST_FIELDS] = {
    "time", "by", "field", "from", "to"
};


/* From version 'from' to TK_SCHEMA_VERSION; EX_DATAERR for one we do
 * not know. */
int
tc_migrate(tc_ctx_t *ctx, long from, int verbose)
{
    int          rc;
    redisReply  *reply;

    if (from < 1 || from >= TK_SCHEMA_VERSION || TK_SCHEMA_VERSION != 4) {
        return EX_DATAERR;
    }

    /* 1 -> 2: the history lists become streams */
    if (from == 1) {
        rc = tc_migrate_history(ctx, verbose);
        if (rc != EX_OK) {
            return rc;
        }
    }

    /* 2 -> 3: the overview index gained class partitions, list rows and
     * per-priority counts; 3 -> 4: the counts' packed vectors
     * (tk:{ix}:cv:*, SCHEMA.md): rebuilt from the ticket hashes */
    rc = tc_reindex_index(ctx, verbose);
    if (rc != EX_OK) {
        return rc;
    }

    reply = tc_command(ctx, "SET %s %d", TK_KEY_SCHEMA, TK_SCHEMA_VERSION);
    if (reply == NULL) {
        return EX_UNAVAILABLE;
    }

    freeReplyObject(reply);

    if (verbose) {
        printf("schema version %ld -> %d (%s)\n", from, TK_SCHEMA_VERSION,
               TK_KEY_SCHEMA);
    }

    return EX_OK;
}


/*
 * "ticketctl migrate": the schema step of init on its own, for an
 * upgrade (stop nginx and mailbridge first).  An empty Redis has nothing
 * to migrate (that is init's job), the current version nothing to do.
 */
int
tc_cmd_migrate(tc_ctx_t *ctx, int argc, char **argv)
{
    redisReply  *reply;
    long         from;
    int          rc;

    if (argc != 1) {
        tc_fail(EX_USAGE, "migrate takes no arguments");
        return tc_usage("migrate");
    }

    rc = tc_connect(ctx, 0);
    if (rc != EX_OK) {
        return rc;
    }

    reply = tc_command(ctx, "GET %s", TK_KEY_SCHEMA);
    if (reply == NULL) {
        return EX_UNAVAILABLE;
    }

    if (reply->type != REDIS_REPLY_STRING) {
        freeReplyObject(reply);
        return tc_fail(EX_DATAERR, "Redis at %s holds no schema version: "
                       "nothing to migrate (a new Redis: \"ticketctl init\")",
                       ctx->addr);
    }

    from = strtol(reply->str, NULL, 10);
    freeReplyObject(reply);

    if (from == TK_SCHEMA_VERSION) {
        printf("schema version %d: up to date, nothing to migrate\n",
               TK_SCHEMA_VERSION);
        return EX_OK;
    }

    rc = tc_migrate(ctx, from, 1);
    if (rc == EX_DATAERR) {
        tc_fail(EX_DATAERR, "Redis at %s holds schema version %ld; this "
                "ticketctl migrates versions 1 to %d only", ctx->addr, from,
                TK_SCHEMA_VERSION);
    }
    return rc;
}


/* Every tk:{t:N}:history that is still a list. */
static int
tc_migrate_history(tc_ctx_t *ctx, int verbose)
{
    int          rc;
    char         cursor[32];
    size_t       i, tickets, entries, n;
    redisReply  *reply, *keys;

    snprintf(cursor, sizeof(cursor), "0");
    tickets = 0;
    entries = 0;
    n = 0;

    do {
        reply = tc_command(ctx, "SCAN %s MATCH " TK_PATTERN_HISTORY " TYPE list "
                           "COUNT 1000", cursor);
        if (reply == NULL) {
            return EX_UNAVAILABLE;
        }

        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
            || reply->element[0]->type != REDIS_REPLY_STRING
            || reply->element[1]->type != REDIS_REPLY_ARRAY)
        {
            freeReplyObject(reply);
            return tc_fail(EX_SOFTWARE, "SCAN: unexpected reply");
        }

        snprintf(cursor, sizeof(cursor), "%s", reply->element[0]->str);
        keys = reply->element[1];

        for (i = 0; i < keys->elements; i++) {
            rc = tc_migrate_key(ctx, keys->element[i]->str, &n);
            if (rc != EX_OK) {
                freeReplyObject(reply);
                return rc;
            }

            tickets++;
            entries += n;
        }

        freeReplyObject(reply);

    } while (strcmp(cursor, "0") != 0);

    if (verbose) {
        printf("history of %zu tickets converted to streams (%zu entries)\n",
               tickets, entries);
    }

    return EX_OK;
}


static int
tc_migrate_key(tc_ctx_t *ctx, const char *key, size_t *entries)
{
    int                   rc;
    char                 *end;
    const char           *keys[1];
    tk_arena_t            arena;
    tk_cmds_t             reads;
    tc_migrate_ticket_t   t;

    memset(&t, 0, sizeof(t));
    t.key = key;
    *entries = 0;

    /* "tk:{t:N}:history" */
    if (strncmp(key, TK_PFX_TICKET, sizeof(TK_PFX_TICKET) - 1) != 0
        || (t.number = strtoull(key + sizeof(TK_PFX_TICKET) - 1, &end, 10))
           == 0
        || strcmp(end, "}" TK_SFX_HISTORY) != 0)
    {
        return tc_fail(EX_DATAERR, "%s is no history key; left as it is",
                       key);
    }

    keys[0] = key;

    tk_arena_init(&arena);
    tk_cmds_init(&reads, tk_arena_alloc, &arena);
    tk_cmds_add(&reads, "LRANGE %s 0 -1", key);

    rc = tk_redis_tx(&ctx->redis, keys, 1, &reads, tc_migrate_decide, &t, 5,
                     NULL);
    tk_arena_reset(&arena);
    free(t.buf);

    if (rc == TK_REDIS_ABORT) {
        return tc_fail(EX_DATAERR, "entry %zu of %s is not a history entry "
                       "of schema 1; nothing of it converted (see "
                       "\"redis-cli LINDEX %s %zu\")", t.bad, key, key,
                       t.bad);
    }

    if (rc != TK_REDIS_OK) {
        return tc_redis_fail(ctx, rc);
    }

    *entries = t.entries;

    return EX_OK;
}


/* DEL the list, XADD its entries in order: one MULTI. */
static int
tc_migrate_decide(void *data, redisReply **reads, size_t nreads,
    tk_cmds_t *writes)
{
    tc_migrate_ticket_t  *t = data;

    size_t            i, size;
    char             *p;
    long long         time;
    tk_str_t          by, from, to;
    redisReply       *list;
    tc_hist_entry_t   e;

    list = reads[0];

    if (list->type != REDIS_REPLY_ARRAY) {
        /* a stream meanwhile, or gone: nothing left to do */
        t->entries = 0;
        return 0;
    }

    size = 0;

    for (i = 0; i < list->elements; i++) {
        size += list->element[i]->len + 1;
    }

    free(t->buf);
    t->buf = malloc(size + 1);
    if (t->buf == NULL) {
        return TK_REDIS_ERROR;
    }

    tk_cmds_add(writes, "DEL %s", t->key);
    p = t->buf;

    for (i = 0; i < list->elements; i++) {
        if (list->element[i]->type != REDIS_REPLY_STRING
            || tc_json_entry(list->element[i]->str, list->element[i]->len,
                             p, &e) != 0
            || e.value[2] == NULL || e.value[2][0] == '\0')
        {
            t->bad = i;
            return TK_REDIS_ABORT;
        }

        p += list->element[i]->len + 1;
        time = e.value[0] ? atoll(e.value[0]) : 0;

        tc_str(&by, e.value[1]);
        tc_str(&from, e.value[3]);
        tc_str(&to, e.value[4]);

        tk_history_add(writes, t->number, (int64_t) time, &by, e.value[2],
                       e.value[3] ? &from : NULL, e.value[4] ? &to : NULL);
    }

    t->entries = list->elements;

    return writes->failed ? TK_REDIS_ERROR : 0;
}


/*
 * {"time":N,"by":"...","field":"...","from":"..."|null,"to":...} as
 * schema 1 wrote it: a flat object of strings, numbers and nulls.  The
 * strings are decoded into buf (never longer than the input).  0, or -1
 * for anything else.
 */
static int
tc_json_entry(const char *p, size_t len, char *buf, tc_hist_entry_t *e)
{
    int          k;
    char        *key, *value;
    const char  *last, *start;

    last = p + len;
    memset(e, 0, sizeof(*e));

#define tc_json_ws()  while (p < last && strchr(" \t\r\n", *p)) p++

    tc_json_ws();

    if (p == last || *p++ != '{') {
        return -1;
    }

    for ( ;; ) {
        tc_json_ws();

        key = buf;
        if ((p = tc_json_string(p, last, &buf)) == NULL) {
            return -1;
        }

        tc_json_ws();

        if (p == last || *p++ != ':') {
            return -1;
        }

        tc_json_ws();

        if (p < last && *p == '"') {
            value = buf;
            if ((p = tc_json_string(p, last, &buf)) == NULL) {
                return -1;
            }

        } else {
            /* a number (time) or null */
            start = p;

            while (p < last && strchr("-+.0123456789eE", *p)) {
                p++;
            }

            if (p > start) {
                value = buf;
                memcpy(buf, start, p - start);
                buf += p - start;
                *buf++ = '\0';

            } else if (last - p >= 4 && memcmp(p, "null", 4) == 0) {
                value = NULL;
                p += 4;

            } else {
                return -1;
            }
        }

        for (k = 0; k < TC_HIST_FIELDS; k++) {
            if (strcmp(key, tc_hist_names[k]) == 0) {
                e->value[k] = value;
            }
        }

        tc_json_ws();

        if (p < last && *p == ',') {
            p++;
            continue;
        }

        if (p < last && *p == '}') {
            p++;
            break;
        }

        return -1;
    }

    tc_json_ws();

#undef tc_json_ws

    return p == last ? 0 : -1;
}


/*
 * A JSON string at p into *out (NUL-terminated, *out moved past it).
 * Escapes as tk_out_json writes them: \" \\ \/ \b \f \n \r \t \uXXXX
 * (surrogate pairs too).  Returns the byte after the closing quote.
 */
static const char *
tc_json_string(const char *p, const char *last, char **out)
{
    char          *d, hex[5];
    unsigned long  c, lo;

    if (p == last || *p++ != '"') {
        return NULL;
    }

    d = *out;

    while (p < last && *p != '"') {
        if ((unsigned char) *p < 0x20) {
            return NULL;
        }

        if (*p != '\\') {
            *d++ = *p++;
            continue;
        }

        if (++p == last) {
            return NULL;
        }

        switch (*p++) {
        case '"':  *d++ = '"';  continue;
        case '\\': *d++ = '\\'; continue;
        case '/':  *d++ = '/';  continue;
        case 'b':  *d++ = '\b'; continue;
        case 'f':  *d++ = '\f'; continue;
        case 'n':  *d++ = '\n'; continue;
        case 'r':  *d++ = '\r'; continue;
        case 't':  *d++ = '\t'; continue;
        case 'u':  break;
        default:   return NULL;
        }

        if (last - p < 4 || strspn(memcpy(hex, p, 4), "0123456789abcdefABCDEF")
                            < 4)
        {
            return NULL;
        }

        hex[4] = '\0';
        c = strtoul(hex, NULL, 16);
        p += 4;

        if (c >= 0xd800 && c <= 0xdbff) {
            if (last - p < 6 || p[0] != '\\' || p[1] != 'u') {
                return NULL;
            }

            memcpy(hex, p + 2, 4);
            if (strspn(hex, "0123456789abcdefABCDEF") < 4) {
                return NULL;
            }

            lo = strtoul(hex, NULL, 16);
            if (lo < 0xdc00 || lo > 0xdfff) {
                return NULL;
            }

            p += 6;
            c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);

        } else if (c >= 0xdc00 && c <= 0xdfff) {
            return NULL;
        }

        /* UTF-8, never longer than the escape it came from */
        if (c < 0x80) {
            *d++ = (char) c;
        } else if (c < 0x800) {
            *d++ = (char) (0xc0 | (c >> 6));
            *d++ = (char) (0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            *d++ = (char) (0xe0 | (c >> 12));
            *d++ = (char) (0x80 | ((c >> 6) & 0x3f));
            *d++ = (char) (0x80 | (c & 0x3f));
        } else {
            *d++ = (char) (0xf0 | (c >> 18));
            *d++ = (char) (0x80 | ((c >> 12) & 0x3f));
            *d++ = (char) (0x80 | ((c >> 6) & 0x3f));
            *d++ = (char) (0x80 | (c & 0x3f));
        }
    }

    if (p == last) {
        return NULL;
    }

    *d++ = '\0';
    *out = d;

    return p + 1;
}
