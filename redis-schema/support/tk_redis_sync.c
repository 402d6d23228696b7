/*
 * tk_redis_sync.c -- blocking hiredis for ticketctl and mailbridge:
 * connect, pipelines of tk_cmds_t, WATCH transactions.  Knows nothing of
 * the schema (tk_schema_sync.c checks its version).
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "tk_redis_sync.h"


static int tk_redis_readonly(const redisReply *reply);
static int tk_redis_lost_readonly(tk_redis_t *r);
static int tk_redis_ends_exec(const tk_cmds_t *cmds);
static int tk_redis_wait_check(tk_redis_t *r, redisReply *reply);
static int tk_redis_ctx_error(tk_redis_t *r);

static int tk_redis_append(tk_redis_t *r, const tk_cmds_t *cmds);
static int tk_redis_reply_error(tk_redis_t *r, const tk_cmds_t *cmds,
    size_t i, redisReply *reply);
static void tk_redis_cmd_name(const tk_cmds_t *cmds, size_t i, char *buf,
    size_t size);



static int  tk_redis_wait_replicas;
static int  tk_redis_wait_ms = 1000;


void
tk_redis_wait_default(int replicas, int ms)
{
    tk_redis_wait_replicas = replicas > 0 ? replicas : 0;
    tk_redis_wait_ms = ms > 0 ? ms : 1000;
}


void
tk_redis_set_error(tk_redis_t *r, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
}


int
tk_redis_connect(tk_redis_t *r, const char *addr, int timeout_ms)
{
    memset(r, 0, sizeof(tk_redis_t));
    r->wait_replicas = tk_redis_wait_replicas;
    r->wait_ms = tk_redis_wait_ms;

    if (strncmp(addr, TK_SENTINEL_PREFIX, sizeof(TK_SENTINEL_PREFIX) - 1)
        == 0)
    {
        return tk_redis_connect_sentinel(r, addr, timeout_ms);
    }

    return tk_redis_connect_addr(r, addr, timeout_ms);
}


int
tk_redis_connect_addr(tk_redis_t *r, const char *addr, int timeout_ms)
{
    struct timeval  tv;
    char            host[256];
    const char     *colon, *h;
    size_t          hlen;
    long            port;
    char           *end;

    r->ctx = NULL;
    snprintf(r->addr, sizeof(r->addr), "%s", addr);

    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;

    if (strncmp(addr, "unix:", 5) == 0 || addr[0] == '/') {
        const char  *path = addr[0] == '/' ? addr : addr + 5;

        r->ctx = timeout_ms ? redisConnectUnixWithTimeout(path, tv)
                            : redisConnectUnix(path);

    } else {
        colon = strrchr(addr, ':');

        if (colon == NULL || colon == addr || colon[1] == '\0') {
            tk_redis_set_error(r, "invalid Redis address \"%s\" "
                               "(want unix:/path or host:port)", addr);
            return TK_REDIS_ERROR;
        }

        errno = 0;
        port = strtol(colon + 1, &end, 10);

        if (*end != '\0' || errno || port <= 0 || port > 65535) {
            tk_redis_set_error(r, "invalid port in Redis address \"%s\"",
                               addr);
            return TK_REDIS_ERROR;
        }

        h = addr;
        hlen = (size_t) (colon - addr);

        if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
            h++;
            hlen -= 2;
        }

        if (hlen >= sizeof(host)) {
            tk_redis_set_error(r, "Redis host name too long in \"%s\"", addr);
            return TK_REDIS_ERROR;
        }

        memcpy(host, h, hlen);
        host[hlen] = '\0';

        r->ctx = timeout_ms ? redisConnectWithTimeout(host, (int) port, tv)
                            : redisConnect(host, (int) port);
    }

    if (r->ctx == NULL) {
        tk_redis_set_error(r, "Redis at %s: out of memory", addr);
        return TK_REDIS_ERROR;
    }

    if (r->ctx->err) {
        tk_redis_ctx_error(r);
        redisFree(r->ctx);
        r->ctx = NULL;
        return TK_REDIS_ERROR;
    }

    if (timeout_ms && redisSetTimeout(r->ctx, tv) != REDIS_OK) {
        tk_redis_set_error(r, "Redis at %s: cannot set timeout: %s", addr,
                           strerror(errno));
        redisFree(r->ctx);
        r->ctx = NULL;
        return TK_REDIS_ERROR;
    }

    return TK_REDIS_OK;
}


void
tk_redis_close(tk_redis_t *r)
{
    if (r->ctx) {
        redisFree(r->ctx);
        r->ctx = NULL;
    }
}


/* hiredis' message (strerror text for I/O errors) with the address */
static int
tk_redis_ctx_error(tk_redis_t *r)
{
    const char  *msg;

    if (r->ctx == NULL) {
        tk_redis_set_error(r, "Redis at %s: not connected", r->addr);
        return TK_REDIS_ERROR;
    }

    msg = r->ctx->errstr[0] ? r->ctx->errstr : "unknown error";

    if (r->ctx->err == REDIS_ERR_IO && errno == EAGAIN) {
        msg = "timed out";
    }

    tk_redis_set_error(r, "Redis at %s: %s", r->addr, msg);

    return TK_REDIS_ERROR;
}


redisReply *
tk_redis_command(tk_redis_t *r, const char *fmt, ...)
{
    va_list      ap;
    redisReply  *reply;

    if (r->ctx == NULL) {
        tk_redis_ctx_error(r);
        return NULL;
    }

    va_start(ap, fmt);
    reply = redisvCommand(r->ctx, fmt, ap);
    va_end(ap);

    if (reply == NULL) {
        tk_redis_ctx_error(r);

    } else if (tk_redis_readonly(reply)) {
        freeReplyObject(reply);
        tk_redis_lost_readonly(r);
        return NULL;
    }

    return reply;
}


/* An error reply READONLY, also inside EXEC's array. */
static int
tk_redis_readonly(const redisReply *reply)
{
    size_t  j;

    if (reply->type == REDIS_REPLY_ERROR) {
        return strncmp(reply->str, "READONLY", 8) == 0;
    }

    if (reply->type == REDIS_REPLY_ARRAY) {
        for (j = 0; j < reply->elements; j++) {
            if (reply->element[j]->type == REDIS_REPLY_ERROR
                && strncmp(reply->element[j]->str, "READONLY", 8) == 0)
            {
                return 1;
            }
        }
    }

    return 0;
}


/* The server became a replica: this link is done; a reconnect asks
 * Sentinel for the new primary. */
static int
tk_redis_lost_readonly(tk_redis_t *r)
{
    tk_redis_set_error(r, "Redis at %s: READONLY, it became a replica "
                       "(reconnect to the primary)", r->addr);
    tk_redis_close(r);
    return TK_REDIS_ERROR;
}


/* Does cmds end with EXEC (a transaction to confirm with WAIT)? */
static int
tk_redis_ends_exec(const tk_cmds_t *cmds)
{
    char  name[8];

    if (cmds->n == 0) {
        return 0;
    }

    tk_redis_cmd_name(cmds, cmds->n - 1, name, sizeof(name));
    return strcasecmp(name, "EXEC") == 0;
}


/* WAIT's answer: enough replicas hold what was just committed? */
static int
tk_redis_wait_check(tk_redis_t *r, redisReply *reply)
{
    if (reply->type == REDIS_REPLY_INTEGER
        && reply->integer >= r->wait_replicas)
    {
        return TK_REDIS_OK;
    }

    tk_redis_set_error(r, "Redis at %s: committed on the primary, but %lld "
                       "of %d replicas confirmed it within %d ms (WAIT): "
                       "not acknowledged", r->addr,
                       reply->type == REDIS_REPLY_INTEGER
                           ? (long long) reply->integer : -1LL,
                       r->wait_replicas, r->wait_ms);
    return TK_REDIS_ERROR;
}


static int
tk_redis_append(tk_redis_t *r, const tk_cmds_t *cmds)
{
    size_t    i;
    tk_str_t  s;

    if (r->ctx == NULL) {
        return tk_redis_ctx_error(r);
    }

    if (cmds->failed) {
        tk_redis_set_error(r, "out of memory (or a bad format) while "
                           "building Redis commands");
        return TK_REDIS_ERROR;
    }

    for (i = 0; i < cmds->n; i++) {
        s = tk_cmds_get(cmds, i);

        if (redisAppendFormattedCommand(r->ctx, (const char *) s.data, s.len)
            != REDIS_OK)
        {
            return tk_redis_ctx_error(r);
        }
    }

    return TK_REDIS_OK;
}


/*
 * Pipelining: hiredis buffers every command and writes the whole buffer
 * on the first redisGetReply(), so a batch of 1000 commands costs one
 * round trip instead of 1000.
 */
int
tk_redis_pipeline_cb(tk_redis_t *r, const tk_cmds_t *cmds,
    tk_redis_reply_pt cb, void *data)
{
    size_t       i;
    void        *reply;
    int          rc, readonly = 0, wait;

    rc = tk_redis_append(r, cmds);
    if (rc != TK_REDIS_OK) {
        return rc;
    }

    wait = r->wait_replicas && tk_redis_ends_exec(cmds)
           && redisAppendCommand(r->ctx, "WAIT %d %d", r->wait_replicas,
                                 r->wait_ms) == REDIS_OK;

    for (i = 0; i < cmds->n; i++) {
        if (redisGetReply(r->ctx, &reply) != REDIS_OK || reply == NULL) {
            return tk_redis_ctx_error(r);
        }

        readonly |= tk_redis_readonly(reply);

        if (cb) {
            if (cb(data, i, reply) != 0 && rc == TK_REDIS_OK) {
                rc = TK_REDIS_EREPLY;
            }

        } else if (rc == TK_REDIS_OK
                   && tk_redis_reply_error(r, cmds, i, reply))
        {
            rc = TK_REDIS_EREPLY;
        }

        freeReplyObject(reply);
    }

    if (wait) {
        if (redisGetReply(r->ctx, &reply) != REDIS_OK || reply == NULL) {
            return tk_redis_ctx_error(r);
        }
        if (rc == TK_REDIS_OK && !readonly
            && tk_redis_wait_check(r, reply) != TK_REDIS_OK)
        {
            rc = TK_REDIS_ERROR;
        }
        freeReplyObject(reply);
    }

    return readonly ? tk_redis_lost_readonly(r) : rc;
}


int
tk_redis_pipeline(tk_redis_t *r, const tk_cmds_t *cmds, redisReply ***replies)
{
    redisReply  **all, *reply;
    size_t        i;
    int           rc, readonly = 0, wait;

    if (replies == NULL) {
        return tk_redis_pipeline_cb(r, cmds, NULL, NULL);
    }

    *replies = NULL;

    all = calloc(cmds->n ? cmds->n : 1, sizeof(redisReply *));
    if (all == NULL) {
        tk_redis_set_error(r, "out of memory for %zu replies", cmds->n);
        return TK_REDIS_ERROR;
    }

    rc = tk_redis_append(r, cmds);
    if (rc != TK_REDIS_OK) {
        free(all);
        return rc;
    }

    wait = r->wait_replicas && tk_redis_ends_exec(cmds)
           && redisAppendCommand(r->ctx, "WAIT %d %d", r->wait_replicas,
                                 r->wait_ms) == REDIS_OK;

    for (i = 0; i < cmds->n + (size_t) wait; i++) {
        if (redisGetReply(r->ctx, (void **) &reply) != REDIS_OK
            || reply == NULL)
        {
            tk_redis_replies_free(all, i < cmds->n ? i : cmds->n);
            return tk_redis_ctx_error(r);
        }

        if (i == cmds->n) {             /* WAIT's answer */
            rc = readonly ? TK_REDIS_OK : tk_redis_wait_check(r, reply);
            freeReplyObject(reply);
            break;
        }

        readonly |= tk_redis_readonly(reply);
        all[i] = reply;
    }

    if (readonly || rc != TK_REDIS_OK) {
        tk_redis_replies_free(all, cmds->n);
        return readonly ? tk_redis_lost_readonly(r) : rc;
    }

    *replies = all;

    return TK_REDIS_OK;
}


void
tk_redis_replies_free(redisReply **replies, size_t n)
{
    size_t  i;

    if (replies == NULL) {
        return;
    }

    for (i = 0; i < n; i++) {
        if (replies[i]) {
            freeReplyObject(replies[i]);
        }
    }

    free(replies);
}


/* An error reply, or an error inside an array (EXEC): say which. */
static int
tk_redis_reply_error(tk_redis_t *r, const tk_cmds_t *cmds, size_t i,
    redisReply *reply)
{
    char    name[32];
    size_t  j;

    tk_redis_cmd_name(cmds, i, name, sizeof(name));

    if (reply->type == REDIS_REPLY_ERROR) {
        tk_redis_set_error(r, "command %zu (%s): %s", i + 1, name,
                           reply->str);
        return 1;
    }

    if (reply->type == REDIS_REPLY_ARRAY) {
        for (j = 0; j < reply->elements; j++) {
            if (reply->element[j]->type == REDIS_REPLY_ERROR) {
                tk_redis_set_error(r, "command %zu (%s), element %zu: %s",
                                   i + 1, name, j + 1,
                                   reply->element[j]->str);
                return 1;
            }
        }
    }

    return 0;
}


/* The first word of command i, for error messages: "*3\r\n$4\r\nHSET" */
static void
tk_redis_cmd_name(const tk_cmds_t *cmds, size_t i, char *buf, size_t size)
{
    tk_str_t     s;
    const char  *p, *e, *end;
    size_t       n;

    buf[0] = '\0';
    s = tk_cmds_get(cmds, i);
    p = (const char *) s.data;
    end = p + s.len;

    p = memchr(p, '\n', (size_t) (end - p));
    if (p == NULL || ++p >= end) {
        return;
    }

    p = memchr(p, '\n', (size_t) (end - p));
    if (p == NULL || ++p >= end) {
        return;
    }

    e = memchr(p, '\r', (size_t) (end - p));
    if (e == NULL) {
        return;
    }

    n = (size_t) (e - p);
    if (n >= size) {
        n = size - 1;
    }

    memcpy(buf, p, n);
    buf[n] = '\0';
}


/*
 * WATCH must be on the same connection as MULTI/EXEC and nothing else
 * may run on it in between; the blocking connection guarantees both.
 * WATCH, the reads, and later MULTI/writes/EXEC are each one pipeline.
 */
int
tk_redis_tx(tk_redis_t *r, const char *const *keys, size_t nkeys,
    const tk_cmds_t *reads, tk_redis_tx_pt decide, void *data, int attempts,
    redisReply **exec)
{
    tk_arena_t    arena;
    tk_cmds_t     watch, writes;
    redisReply  **replies, *reply;
    size_t        i, nreads;
    int           attempt, rc;
    tk_str_t     *argv;

    if (exec) {
        *exec = NULL;
    }

    if (attempts < 1) {
        attempts = 1;
    }

    for (attempt = 0; attempt < attempts; attempt++) {
        tk_arena_init(&arena);
        replies = NULL;
        nreads = reads ? reads->n : 0;

        /* WATCH k1 k2 ... followed by the reads, one round trip */
        tk_cmds_init(&watch, tk_arena_alloc, &arena);

        if (nkeys) {
            argv = tk_arena_alloc(&arena, (nkeys + 1) * sizeof(tk_str_t));
            if (argv == NULL) {
                tk_arena_reset(&arena);
                tk_redis_set_error(r, "out of memory");
                return TK_REDIS_ERROR;
            }

            argv[0].data = (unsigned char *) "WATCH";
            argv[0].len = 5;

            for (i = 0; i < nkeys; i++) {
                argv[i + 1].data = (unsigned char *) keys[i];
                argv[i + 1].len = strlen(keys[i]);
            }

            tk_cmds_argv(&watch, (int) nkeys + 1, argv);
        }

        for (i = 0; i < nreads; i++) {
            tk_str_t  s = tk_cmds_get(reads, i);

            tk_cmds_raw(&watch, s.data, s.len);
        }

        rc = tk_redis_pipeline(r, &watch, &replies);
        if (rc != TK_REDIS_OK) {
            tk_arena_reset(&arena);
            return rc;
        }

        if (nkeys && replies[0]->type == REDIS_REPLY_ERROR) {
            tk_redis_set_error(r, "WATCH: %s", replies[0]->str);
            tk_redis_replies_free(replies, watch.n);
            tk_arena_reset(&arena);
            return TK_REDIS_EREPLY;
        }

        tk_cmds_init(&writes, tk_arena_alloc, &arena);
        tk_cmds_multi(&writes);

        /* who reads is who writes (tk_cmds_actor on the reads) */
        if (reads) {
            writes.actor = reads->actor;
            writes.src = reads->src;
            writes.nofeed = reads->nofeed;
        }

        rc = decide(data, replies + (nkeys ? 1 : 0), nreads, &writes);
        tk_redis_replies_free(replies, watch.n);

        if (rc != 0) {
            reply = tk_redis_command(r, "UNWATCH");
            if (reply) {
                freeReplyObject(reply);
            }
            tk_arena_reset(&arena);
            return rc;
        }

        tk_cmds_exec(&writes);

        rc = tk_redis_pipeline(r, &writes, &replies);
        if (rc != TK_REDIS_OK) {
            tk_arena_reset(&arena);
            return rc;
        }

        for (i = 0; i + 1 < writes.n; i++) {
            if (replies[i]->type == REDIS_REPLY_ERROR) {
                /* a queueing error: EXEC fails with EXECABORT */
                tk_redis_reply_error(r, &writes, i, replies[i]);
                tk_redis_replies_free(replies, writes.n);
                tk_arena_reset(&arena);
                return TK_REDIS_EREPLY;
            }
        }

        reply = replies[writes.n - 1];

        if (reply->type == REDIS_REPLY_NIL) {
            tk_redis_replies_free(replies, writes.n);
            tk_arena_reset(&arena);
            continue;                   /* conflict: again */
        }

        if (reply->type == REDIS_REPLY_ERROR) {
            tk_redis_set_error(r, "EXEC: %s", reply->str);
            tk_redis_replies_free(replies, writes.n);
            tk_arena_reset(&arena);
            return TK_REDIS_EREPLY;
        }

        if (exec) {
            *exec = reply;
            replies[writes.n - 1] = NULL;
        }

        tk_redis_replies_free(replies, writes.n);
        tk_arena_reset(&arena);

        return TK_REDIS_OK;
    }

    tk_redis_set_error(r, "transaction gave up after %d attempts: the "
                       "watched keys kept changing", attempts);

    return TK_REDIS_CONFLICT;
}
