/*
 * feed.c -- the feed role of "mailbridge run": the consumer of the change
 * feed, the Stream every committed change is appended to (TK_KEY_FEED,
 * consumer group "mailbridge").  Each entry runs through the handler
 * table below (empty today; triggers and notifications hook in there)
 * and is XACKed only after every handler ran, so a crash in between
 * hands the entry to the next life of this consumer: at-least-once, and
 * handlers must be idempotent.
 *
 * It waits in XREADGROUP ... BLOCK, but not inside hiredis: the command
 * is written, then mb_wait() polls the socket together with SIGTERM, so
 * a stop is prompt although the BLOCK may last a minute, and hiredis'
 * read timeout (redis_timeout) only ever covers a reply that is already
 * arriving.  The BLOCK lasts until the next sweep, which re-reads this
 * consumer's own pending entries and takes over the entries other
 * consumers left pending for longer than feed_claim_idle (XAUTOCLAIM).
 * Redis going away is not fatal: the role reconnects with a backoff.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mb_feed.h"
#include "mb_roles.h"
#include "mb_triggers.h"

#define MB_FEED_COUNT        100         /* entries per read            */
#define MB_FEED_BACKOFF_MIN  1000        /* ms, reconnect after a failure */
#define MB_FEED_BACKOFF_MAX  30000

typedef struct {
    const mb_config_t  *cfg;
    tk_redis_t          redis;
    int                 connected;
    int                 down;           /* an outage was logged         */
    int64_t             backoff;        /* ms                           */
    int64_t             next_sweep;     /* mb_now_ms()                  */
    char                consumer[256];
    unsigned long       handled;
} mb_feed_t;

/* Every entry is handed to each of these, in order. */
static const mb_feed_handler_t  mb_feed_handlers[] = {
    { "triggers", mb_triggers_feed },
    { NULL, NULL }
};

static int mb_feed_connect(mb_feed_t *f);
static void mb_feed_drop(mb_feed_t *f, const char *why);
static int mb_feed_group(mb_feed_t *f);
static int mb_feed_sweep(mb_feed_t *f);
static int mb_feed_next(mb_feed_t *f);
static int mb_feed_reply(mb_feed_t *f, redisReply *reply,
    const char **last);
static int mb_feed_entries(mb_feed_t *f, redisReply *list,
    const char **last);
static int mb_feed_ack(mb_feed_t *f, const char **ids, size_t n);
static int mb_feed_error(mb_feed_t *f, redisReply *reply, const char *what);


int
mb_feed_enabled(const mb_config_t *cfg)
{
    return cfg->feed;
}


int
mb_feed_run(const mb_config_t *cfg)
{
    mb_feed_t  f;
    int        rc;

    memset(&f, 0, sizeof(f));
    f.cfg = cfg;

    if (cfg->feed_consumer) {
        snprintf(f.consumer, sizeof(f.consumer), "%s", cfg->feed_consumer);
    } else if (gethostname(f.consumer, sizeof(f.consumer) - 1) != 0
               || f.consumer[0] == '\0')
    {
        snprintf(f.consumer, sizeof(f.consumer), "mailbridge");
    }

    mb_info("feed: consuming %s as %s/%s", TK_KEY_FEED, TK_FEED_GROUP,
            f.consumer);

    while (!mb_stop) {
        if (f.connected || mb_feed_connect(&f) == 0) {
            rc = mb_now_ms() >= f.next_sweep ? mb_feed_sweep(&f) : 0;
            if (rc == 0 && mb_feed_next(&f) == 0) {
                f.backoff = 0;
                continue;
            }
        }

        /* Redis away or in trouble: wait, but a SIGTERM ends the wait */
        f.backoff = f.backoff ? f.backoff * 2 : MB_FEED_BACKOFF_MIN;
        if (f.backoff > MB_FEED_BACKOFF_MAX) {
            f.backoff = MB_FEED_BACKOFF_MAX;
        }
        mb_wait(-1, f.backoff);
    }

    mb_feed_drop(&f, NULL);
    mb_info("feed: stopped after %lu entries", f.handled);
    return EX_OK;
}


/* Connect, make sure the group exists, then catch up (sweep). */
static int
mb_feed_connect(mb_feed_t *f)
{
    redisReply  *r;

    if (tk_redis_connect(&f->redis, f->cfg->redis, f->cfg->redis_timeout)
        != TK_REDIS_OK)
    {
        mb_feed_drop(f, f->redis.err);
        return -1;
    }

    f->connected = 1;

    /* CLIENT LIST tells admins (and tests) which connection is ours */
    r = tk_redis_command(&f->redis, "CLIENT SETNAME mailbridge-feed");
    if (r == NULL) {
        mb_feed_drop(f, f->redis.err);
        return -1;
    }
    freeReplyObject(r);

    if (mb_feed_group(f) != 0) {
        return -1;
    }

    if (f->down) {
        mb_info("feed: Redis at %s is back", f->cfg->redis);
    }
    f->down = 0;
    f->next_sweep = 0;
    return 0;
}


/*
 * Log the first failure of an outage (the rest at debug level, a Redis
 * that is down for an hour must not fill the log) and close.
 */
static void
mb_feed_drop(mb_feed_t *f, const char *why)
{
    if (why) {
        mb_log(f->down ? MB_LOG_DEBUG : MB_LOG_WARN,
               "feed: %s; reconnecting with backoff", why);
        f->down = 1;
    }

    if (f->redis.ctx) {
        tk_redis_close(&f->redis);
    }
    f->connected = 0;
}


/* The group starts at "$": a new group sees changes from now on. */
static int
mb_feed_group(mb_feed_t *f)
{
    redisReply  *r;
    int          rc = 0;

    r = tk_redis_command(&f->redis, "XGROUP CREATE %s %s $ MKSTREAM",
                         TK_KEY_FEED, TK_FEED_GROUP);
    if (r == NULL) {
        mb_feed_drop(f, f->redis.err);
        return -1;
    }

    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9)) {
        rc = mb_feed_error(f, r, "XGROUP CREATE");
    } else if (r->type != REDIS_REPLY_ERROR) {
        mb_info("feed: created consumer group %s on %s", TK_FEED_GROUP,
                TK_KEY_FEED);
    }

    freeReplyObject(r);
    return rc;
}


/*
 * Entries this consumer read but never acknowledged (its previous life
 * was killed, or a handler said "not now"), then entries another
 * consumer has held longer than feed_claim_idle (it died, or its host
 * was renamed).
 */
static int
mb_feed_sweep(mb_feed_t *f)
{
    redisReply  *r;
    char         start[64] = "0", cursor[64] = "0-0";
    const char  *last;
    int          n, again = 0;

    do {
        r = tk_redis_command(&f->redis,
                "XREADGROUP GROUP %s %s COUNT %d STREAMS %s %s",
                TK_FEED_GROUP, f->consumer, MB_FEED_COUNT, TK_KEY_FEED,
                start);
        last = NULL;
        n = mb_feed_reply(f, r, &last);
        if (n > 0 && last) {
            /* past entries a handler left pending: they wait a sweep */
            snprintf(start, sizeof(start), "%s", last);
        }
        if (r) {
            freeReplyObject(r);
        }
        if (n < 0) {
            return -1;
        }
        again += n;
    } while (n > 0 && last && !mb_stop);

    if (again) {
        mb_info("feed: %d entries read before but not acknowledged: "
                "processed again", again);
    }

    do {
        r = tk_redis_command(&f->redis, "XAUTOCLAIM %s %s %s %d %s COUNT %d",
                TK_KEY_FEED, TK_FEED_GROUP, f->consumer,
                f->cfg->feed_claim_idle, cursor, MB_FEED_COUNT);
        if (r == NULL) {
            mb_feed_drop(f, f->redis.err);
            return -1;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 2
            || r->element[0]->type != REDIS_REPLY_STRING)
        {
            n = mb_feed_error(f, r, "XAUTOCLAIM");
            freeReplyObject(r);
            return n;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        n = mb_feed_entries(f, r->element[1], &last);
        if (n > 0) {
            mb_info("feed: took over %d entries left by dead consumers", n);
        }
        freeReplyObject(r);
        if (n < 0) {
            return -1;
        }
    } while (strcmp(cursor, "0-0") != 0 && !mb_stop);

    f->next_sweep = mb_now_ms() + f->cfg->feed_claim_idle;
    return 0;
}


/*
 * One XREADGROUP ... BLOCK for new entries, blocking until the next
 * sweep is due.  The wait is ours (mb_wait on the socket), so SIGTERM
 * ends it; no answer within BLOCK + redis_timeout means the connection
 * is dead (a half-open TCP connection would otherwise hang us forever).
 */
static int
mb_feed_next(mb_feed_t *f)
{
    redisContext  *c = f->redis.ctx;
    redisReply    *r = NULL;
    const char    *last;
    int64_t        block;
    int            done = 0, rc;

    block = f->next_sweep - mb_now_ms();
    if (block < 1) {
        block = 1;              /* BLOCK 0 would mean "forever" */
    }

    if (redisAppendCommand(c, "XREADGROUP GROUP %s %s COUNT %d BLOCK %lld "
                           "STREAMS %s >", TK_FEED_GROUP, f->consumer,
                           MB_FEED_COUNT, (long long) block, TK_KEY_FEED)
        != REDIS_OK)
    {
        mb_feed_drop(f, "XREADGROUP: out of memory");
        return -1;
    }

    while (!done) {
        if (redisBufferWrite(c, &done) != REDIS_OK) {
            snprintf(f->redis.err, sizeof(f->redis.err), "Redis at %s: %s",
                     f->cfg->redis, c->errstr);
            mb_feed_drop(f, f->redis.err);
            return -1;
        }
    }

    rc = mb_wait(c->fd, block + f->cfg->redis_timeout);

    if (rc < 0) {
        /* stopping: an entry Redis hands us now stays pending for us */
        return 0;
    }

    if (rc == 0) {
        snprintf(f->redis.err, sizeof(f->redis.err), "Redis at %s: no "
                 "answer to XREADGROUP within %lld ms", f->cfg->redis,
                 (long long) (block + f->cfg->redis_timeout));
        mb_feed_drop(f, f->redis.err);
        return -1;
    }

    if (redisGetReply(c, (void **) &r) != REDIS_OK || r == NULL) {
        snprintf(f->redis.err, sizeof(f->redis.err), "Redis at %s: %s",
                 f->cfg->redis, c->errstr[0] ? c->errstr : "connection lost");
        mb_feed_drop(f, f->redis.err);
        return -1;
    }

    rc = mb_feed_reply(f, r, &last);
    freeReplyObject(r);
    return rc < 0 ? -1 : 0;
}


/*
 * An XREADGROUP reply: nil (BLOCK ran out) or [[key, [entry, ...]]].
 * Returns the number of entries (0 for nil), -1 on an error (the
 * connection is dropped, or the group recreated after NOGROUP).
 */
static int
mb_feed_reply(mb_feed_t *f, redisReply *r, const char **last)
{
    redisReply  *stream;

    if (r == NULL) {
        mb_feed_drop(f, f->redis.err);
        return -1;
    }

    if (r->type == REDIS_REPLY_NIL) {
        return 0;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1
        || r->element[0]->type != REDIS_REPLY_ARRAY
        || r->element[0]->elements < 2)
    {
        return mb_feed_error(f, r, "XREADGROUP");
    }

    stream = r->element[0];
    return mb_feed_entries(f, stream->element[1], last);
}


/*
 * Each entry through every handler; XACK those all handlers finished.
 * Returns the number of entries seen, -1 when the XACK failed.
 */
static int
mb_feed_entries(mb_feed_t *f, redisReply *list, const char **last)
{
    const mb_feed_handler_t  *h;
    mb_feed_entry_t           e;
    const char              **ids;
    redisReply               *item;
    size_t                    i, nack = 0;
    int                       rc = 0;

    if (list == NULL || list->type != REDIS_REPLY_ARRAY
        || list->elements == 0)
    {
        return 0;
    }

    ids = calloc(list->elements, sizeof(char *));
    if (ids == NULL) {
        return -1;
    }

    for (i = 0; i < list->elements && !mb_stop; i++) {
        item = list->element[i];
        if (item->type != REDIS_REPLY_ARRAY || item->elements < 2
            || item->element[0]->type != REDIS_REPLY_STRING)
        {
            continue;
        }

        e.id = item->element[0]->str;
        e.fields = item->element[1]->type == REDIS_REPLY_ARRAY
                   ? item->element[1] : NULL;
        *last = e.id;

        for (h = mb_feed_handlers; e.fields && h->name; h++) {
            if (h->handler(f->cfg, &f->redis, &e) != 0) {
                mb_warn("feed: entry %s: %s: not done, stays pending",
                        e.id, h->name);
                break;
            }
        }

        if (e.fields == NULL || h->name == NULL) {
            mb_debug("feed: entry %s handled", e.id);
            ids[nack++] = e.id;
        }
    }

    if (nack && mb_feed_ack(f, ids, nack) != 0) {
        rc = -1;
    }

    free(ids);
    f->handled += nack;
    return rc < 0 ? -1 : (int) i;
}


/* One XACK for the batch: after the handlers, never before. */
static int
mb_feed_ack(mb_feed_t *f, const char **ids, size_t n)
{
    const char  **argv;
    redisReply   *r;
    size_t        i;
    int           rc = 0;

    argv = calloc(n + 3, sizeof(char *));
    if (argv == NULL) {
        return -1;
    }

    argv[0] = "XACK";
    argv[1] = TK_KEY_FEED;
    argv[2] = TK_FEED_GROUP;
    for (i = 0; i < n; i++) {
        argv[i + 3] = ids[i];
    }

    r = redisCommandArgv(f->redis.ctx, (int) (n + 3), argv, NULL);
    free(argv);

    if (r == NULL) {
        snprintf(f->redis.err, sizeof(f->redis.err), "Redis at %s: XACK: %s",
                 f->cfg->redis, f->redis.ctx->errstr);
        mb_feed_drop(f, f->redis.err);
        return -1;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        rc = mb_feed_error(f, r, "XACK");
    }

    freeReplyObject(r);
    return rc;
}


const char *
mb_feed_field(const mb_feed_entry_t *e, const char *name, size_t *len)
{
    size_t  i;

    for (i = 0; e->fields && i + 1 < e->fields->elements; i += 2) {
        if (e->fields->element[i]->type == REDIS_REPLY_STRING
            && strcmp(e->fields->element[i]->str, name) == 0
            && e->fields->element[i + 1]->type == REDIS_REPLY_STRING)
        {
            if (len) {
                *len = e->fields->element[i + 1]->len;
            }
            return e->fields->element[i + 1]->str;
        }
    }

    return NULL;
}


/*
 * An answer we did not expect.  NOGROUP (the stream or group was
 * deleted, e.g. a fresh "ticketctl init"): create it again and carry on;
 * anything else: log, reconnect later.  Always -1.
 */
static int
mb_feed_error(mb_feed_t *f, redisReply *r, const char *what)
{
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOGROUP", 7) == 0) {
        mb_warn("feed: %s: %s; creating the group again", what, r->str);
        if (mb_feed_group(f) == 0) {
            f->next_sweep = 0;
        }
        return -1;
    }

    snprintf(f->redis.err, sizeof(f->redis.err), "Redis at %s: %s: %s",
             f->cfg->redis, what, r->type == REDIS_REPLY_ERROR ? r->str
             : "unexpected reply");
    mb_feed_drop(f, f->redis.err);
    return -1;
}
