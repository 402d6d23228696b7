/*
 * notify.c -- the notify role (mb_notify.h): one connection, one
 * consumer of two streams in the group TK_NOTIFY_GROUP, and the digest
 * timer.
 *
 * Waiting is ONE blocking call: XREADGROUP ... BLOCK <ms until the next
 * digest is due> STREAMS tk:{ix}:feed tk:{ix}:notify > >, so a change
 * and the next digest both wake it -- never a poll.  The block is capped
 * (MB_NOTIFY_MAX_BLOCK) and waited for with mb_wait() on the socket, so
 * SIGTERM ends it at once.  Entries another consumer left pending for
 * feed_claim_idle are taken over (XAUTOCLAIM); each entry's writes carry
 * a done marker under WATCH (notify_eval.c), so an entry is acted on
 * exactly once even when two mailbridges both see it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "mb_notify.h"
#include "mb_roles.h"
#include "tk_schema_sync.h"

#define MB_NOTIFY_MAX_BLOCK  5000       /* ms */
#define MB_NOTIFY_COUNT      100        /* entries per read            */
#define MB_NOTIFY_DIGESTS    50         /* digests per round           */

static int mb_notify_session(mb_notify_t *nt);
static int mb_notify_groups(mb_notify_t *nt);
static int mb_notify_read(mb_notify_t *nt, const char *id, int block_ms);
static int mb_notify_streams(mb_notify_t *nt, redisReply *reply);
static int mb_notify_list(mb_notify_t *nt, const char *stream,
    redisReply *list);
static int mb_notify_claim(mb_notify_t *nt);
static int mb_notify_digests(mb_notify_t *nt, int64_t *next);
static int mb_notify_digest_one(mb_notify_t *nt, const char *login,
    int64_t now);
static int mb_notify_digest_decide(void *data, redisReply **reads,
    size_t nreads, tk_cmds_t *w);
static int64_t mb_notify_now(void);


int
mb_notify_enabled(const mb_config_t *cfg)
{
    return cfg->redis != NULL && cfg->notify.enabled;
}


int
mb_notify_config(mb_config_t *cfg, const char *key, const char *val)
{
    char  *end;
    long   n;

    if (strcmp(key, "notify") == 0) {
        if (strcmp(val, "yes") == 0 || strcmp(val, "1") == 0
            || strcmp(val, "on") == 0 || strcmp(val, "true") == 0)
        {
            cfg->notify.enabled = 1;
        } else if (strcmp(val, "no") == 0 || strcmp(val, "0") == 0
                   || strcmp(val, "off") == 0 || strcmp(val, "false") == 0)
        {
            cfg->notify.enabled = 0;
        } else {
            return -1;
        }
        return 0;
    }

    if (strcmp(key, "notify.from") == 0) {
        if (*val == '\0' || strpbrk(val, "\r\n")) {
            return -1;
        }
        free(cfg->notify.from);
        cfg->notify.from = strdup(val);
        return 0;
    }

    if (strcmp(key, "notify.base_url") == 0) {
        if ((strncmp(val, "http://", 7) && strncmp(val, "https://", 8))
            || strpbrk(val, " \t\r\n"))
        {
            return -1;
        }
        free(cfg->notify.base_url);
        /* always ends in "/": BASE "t/42" */
        n = (long) strlen(val);
        cfg->notify.base_url = malloc((size_t) n + 2);
        if (cfg->notify.base_url == NULL) {
            return -1;
        }
        snprintf(cfg->notify.base_url, (size_t) n + 2, "%s%s", val,
                 n && val[n - 1] == '/' ? "" : "/");
        return 0;
    }

    /* tests only: every digest (hourly, daily) comes after this many
     * seconds; the role warns at start */
    if (strcmp(key, "test_digest_period") == 0) {
        n = strtol(val, &end, 10);
        if (*end || *val == '\0' || n < 1 || n > 86400) {
            return -1;
        }
        cfg->notify.test_period = (int) n;
        return 0;
    }

    return 1;
}


int64_t
mb_notify_period(const mb_config_t *cfg, int d)
{
    if (cfg->notify.test_period) {
        return cfg->notify.test_period;
    }
    return d == TK_DIGEST_DAILY ? 86400 : 3600;
}


int
mb_notify_run(const mb_config_t *cfg)
{
    mb_notify_t  nt;
    int          rc, backoff = 1;

    memset(&nt, 0, sizeof(nt));
    nt.cfg = cfg;

    if (cfg->feed_consumer) {
        snprintf(nt.consumer, sizeof(nt.consumer), "%s", cfg->feed_consumer);
    } else if (gethostname(nt.consumer, sizeof(nt.consumer) - 1) != 0
               || nt.consumer[0] == '\0')
    {
        snprintf(nt.consumer, sizeof(nt.consumer), "mailbridge");
    }

    if (cfg->notify.test_period) {
        mb_warn("notify: test_digest_period = %d s: every digest comes that "
                "soon (tests only, never in production)",
                cfg->notify.test_period);
    }

    mb_info("notify: consuming %s and %s as %s/%s", TK_KEY_FEED,
            TK_KEY_NOTIFY, TK_NOTIFY_GROUP, nt.consumer);

    while (!mb_stop) {
        if (tk_redis_connect(&nt.r, cfg->redis, cfg->redis_timeout)
                != TK_REDIS_OK
            || tk_redis_schema_check(&nt.r) != TK_REDIS_OK
            || mb_notify_groups(&nt) != 0)
        {
            mb_warn("notify: %s; again in %d s", nt.r.err, backoff);
            tk_redis_close(&nt.r);
            mb_wait(-1, backoff * 1000);
            backoff = backoff < 30 ? backoff * 2 : 60;
            continue;
        }

        rc = mb_notify_session(&nt);
        backoff = rc == 0 ? 1 : backoff;

        if (rc != 0 && !mb_stop) {
            mb_warn("notify: %s; reconnecting in %d s", nt.r.err, backoff);
            mb_wait(-1, backoff * 1000);
            backoff = backoff < 30 ? backoff * 2 : 60;
        }
        tk_redis_close(&nt.r);
    }

    mb_info("notify: stopped after %lu entries", nt.handled);
    return EX_OK;
}


/* Both groups start at "$": what came before the role is not news. */
static int
mb_notify_groups(mb_notify_t *nt)
{
    const char  *streams[] = { TK_KEY_FEED, TK_KEY_NOTIFY };
    redisReply  *r;
    size_t       i;

    for (i = 0; i < 2; i++) {
        r = tk_redis_command(&nt->r, "XGROUP CREATE %s %s $ MKSTREAM",
                             streams[i], TK_NOTIFY_GROUP);
        if (r == NULL) {
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9)) {
            tk_redis_set_error(&nt->r, "XGROUP CREATE: %s", r->str);
            freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
    }
    return 0;
}


/* One connection's life: our pending entries, then digests / wait. */
static int
mb_notify_session(mb_notify_t *nt)
{
    int64_t  next, block;

    if (mb_notify_read(nt, "0", 0) != 0) {
        return -1;
    }

    while (!mb_stop) {
        if (mb_now_ms() >= nt->next_claim) {
            if (mb_notify_claim(nt) != 0) {
                return -1;
            }
            nt->next_claim = mb_now_ms() + nt->cfg->feed_claim_idle;
        }

        if (mb_notify_digests(nt, &next) != 0) {
            return -1;
        }

        /* until the next digest, the next claim sweep, or the cap */
        block = MB_NOTIFY_MAX_BLOCK;
        if (next > 0 && next - mb_notify_now() < block) {
            block = next - mb_notify_now();
        }
        if (nt->next_claim - mb_now_ms() < block) {
            block = nt->next_claim - mb_now_ms();
        }
        if (block < 1) {
            block = 1;
        }

        if (mb_notify_read(nt, ">", (int) block) != 0) {
            return -1;
        }
    }

    return 0;
}


/* XREADGROUP once on both streams; ">" blocks (waited for with mb_wait). */
static int
mb_notify_read(mb_notify_t *nt, const char *id, int block_ms)
{
    redisContext  *c = nt->r.ctx;
    redisReply    *reply = NULL;
    int            done = 0, w = 0, rc;
    int64_t        end, left;

    if (strcmp(id, ">") != 0) {
        reply = tk_redis_command(&nt->r, "XREADGROUP GROUP %s %s COUNT %d "
                                 "STREAMS %s %s %s %s", TK_NOTIFY_GROUP,
                                 nt->consumer, 10000, TK_KEY_FEED,
                                 TK_KEY_NOTIFY, id, id);
    } else {
        if (c == NULL
            || redisAppendCommand(c, "XREADGROUP GROUP %s %s COUNT %d "
                                  "BLOCK %d STREAMS %s %s > >",
                                  TK_NOTIFY_GROUP, nt->consumer,
                                  MB_NOTIFY_COUNT, block_ms, TK_KEY_FEED,
                                  TK_KEY_NOTIFY) != REDIS_OK)
        {
            tk_redis_set_error(&nt->r, "XREADGROUP: not connected");
            return -1;
        }

        while (!done) {
            if (redisBufferWrite(c, &done) != REDIS_OK) {
                tk_redis_set_error(&nt->r, "XREADGROUP: %s", c->errstr);
                return -1;
            }
        }

        end = mb_now_ms() + block_ms + nt->cfg->redis_timeout;
        do {
            left = end - mb_now_ms();
            w = left > 0 ? mb_wait(c->fd, left) : 0;
        } while (w == 0 && left > 0);

        if (w < 0) {
            return 0;               /* stopping */
        }

        if (w == 0 || redisGetReply(c, (void **) &reply) != REDIS_OK) {
            tk_redis_set_error(&nt->r, "XREADGROUP: no answer");
            return -1;
        }
    }

    if (reply == NULL) {
        return -1;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        tk_redis_set_error(&nt->r, "XREADGROUP: %s", reply->str);
        freeReplyObject(reply);
        return -1;
    }

    rc = mb_notify_streams(nt, reply);
    freeReplyObject(reply);
    return rc;
}


/* [[stream, [[id, fields], ...]], ...] */
static int
mb_notify_streams(mb_notify_t *nt, redisReply *reply)
{
    redisReply  *s;
    size_t       i;

    if (reply->type != REDIS_REPLY_ARRAY) {
        return 0;                   /* nil: the block ran out */
    }

    for (i = 0; i < reply->elements; i++) {
        s = reply->element[i];
        if (s->type != REDIS_REPLY_ARRAY || s->elements != 2
            || s->element[0]->type != REDIS_REPLY_STRING)
        {
            continue;
        }
        if (mb_notify_list(nt, strcmp(s->element[0]->str, TK_KEY_FEED) == 0
                                   ? TK_KEY_FEED : TK_KEY_NOTIFY,
                           s->element[1]) != 0)
        {
            return -1;
        }
    }
    return 0;
}


static int
mb_notify_list(mb_notify_t *nt, const char *stream, redisReply *list)
{
    redisReply  *en;
    size_t       i;

    for (i = 0; list->type == REDIS_REPLY_ARRAY && i < list->elements; i++) {
        en = list->element[i];
        if (en->type != REDIS_REPLY_ARRAY || en->elements < 2
            || en->element[0]->type != REDIS_REPLY_STRING)
        {
            continue;
        }
        if (mb_notify_entry(nt, stream, en->element[0]->str,
                            en->element[1]) != 0)
        {
            return -1;
        }
        nt->handled++;
    }
    return 0;
}


/* Entries of a dead consumer (or one whose host was renamed). */
static int
mb_notify_claim(mb_notify_t *nt)
{
    const char  *streams[] = { TK_KEY_FEED, TK_KEY_NOTIFY };
    redisReply  *r;
    size_t       i;
    int          rc = 0;

    for (i = 0; i < 2 && rc == 0; i++) {
        r = tk_redis_command(&nt->r, "XAUTOCLAIM %s %s %s %d 0-0 COUNT %d",
                             streams[i], TK_NOTIFY_GROUP, nt->consumer,
                             nt->cfg->feed_claim_idle, MB_NOTIFY_COUNT);
        if (r == NULL) {
            return -1;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2) {
            rc = mb_notify_list(nt, streams[i], r->element[1]);
        }
        freeReplyObject(r);
    }
    return rc;
}


/* ---- digests ------------------------------------------------------------ */

static int64_t
mb_notify_now(void)
{
    struct timeval  tv;

    gettimeofday(&tv, NULL);
    return (int64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}


/* Send what is due; *next: the next due time (Unix ms), 0 none. */
static int
mb_notify_digests(mb_notify_t *nt, int64_t *next)
{
    redisReply  *r;
    int64_t      now = mb_notify_now() / 1000;
    size_t       i;
    int          rc = 0;

    *next = 0;

    r = tk_redis_command(&nt->r, "ZRANGEBYSCORE %s -inf %lld LIMIT 0 %d",
                         TK_KEY_DUE_DIGEST, (long long) now,
                         MB_NOTIFY_DIGESTS);
    if (r == NULL) {
        return -1;
    }
    for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements && rc == 0;
         i++)
    {
        rc = mb_notify_digest_one(nt, r->element[i]->str, now);
    }
    freeReplyObject(r);
    if (rc != 0) {
        return -1;
    }

    r = tk_redis_command(&nt->r, "ZRANGE %s 0 0 WITHSCORES",
                         TK_KEY_DUE_DIGEST);
    if (r == NULL) {
        return -1;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
        *next = (int64_t) (atof(r->element[1]->str) * 1000);
    }
    freeReplyObject(r);
    return 0;
}


typedef struct {
    mb_notify_t   *nt;
    const char    *login;
    int64_t        now;
} mb_digest_job_t;


/*
 * One user's digest under WATCH of the user's digest list: a second
 * mailbridge doing the same finds the list changed (or gone) and sends
 * nothing.  Reads: the lines, the due score, the user, a mail id.
 */
static int
mb_notify_digest_one(mb_notify_t *nt, const char *login, int64_t now)
{
    char             key[TK_KEY_MAX];
    const char      *kp[1];
    tk_arena_t       arena;
    tk_cmds_t        reads;
    tk_str_t         l;
    mb_digest_job_t  job;
    int              rc;

    l.data = (unsigned char *) login;
    l.len = strlen(login);
    if (!tk_valid_login(&l)) {
        redisReply  *r = tk_redis_command(&nt->r, "ZREM %s %s",
                                          TK_KEY_DUE_DIGEST, login);
        if (r) {
            freeReplyObject(r);
        }
        return 0;
    }

    snprintf(key, sizeof(key), TK_FMT_USER_DIGEST, login);
    kp[0] = key;

    tk_arena_init(&arena);
    tk_cmds_init(&reads, tk_arena_alloc, &arena);
    tk_cmds_add(&reads, "LRANGE %s 0 -1", key);
    tk_cmds_add(&reads, "ZSCORE " TK_KEY_DUE_DIGEST " %s", login);
    tk_cmds_add(&reads, "HMGET " TK_FMT_USER " " TK_F_EMAIL " " TK_F_LANG
                " " TK_F_NAME " " TK_F_DISABLED, login);
    tk_cmds_add(&reads, "INCR " TK_KEY_SEQ_NMAIL);

    job.nt = nt;
    job.login = login;
    job.now = now;

    rc = tk_redis_tx(&nt->r, kp, 1, &reads, mb_notify_digest_decide, &job,
                     10, NULL);
    tk_arena_reset(&arena);

    return rc == TK_REDIS_OK || rc == TK_REDIS_ABORT
           || rc == TK_REDIS_CONFLICT ? 0 : -1;
}


static int
mb_notify_digest_decide(void *data, redisReply **reads, size_t nreads,
    tk_cmds_t *w)
{
    mb_digest_job_t  *job = data;
    redisReply       *lines = reads[0], *u = reads[2];
    tk_nmail_t        m;
    tk_str_t          name;
    char              subj[256], mid[256], key[TK_KEY_MAX];
    char             *body;
    const char       *from, *at;
    size_t            bsize = 1 << 16;
    int               de;

    if (reads[1]->type != REDIS_REPLY_STRING
        || atof(reads[1]->str) > (double) job->now)
    {
        return TK_REDIS_ABORT;      /* someone else sent it */
    }

    snprintf(key, sizeof(key), TK_FMT_USER_DIGEST, job->login);
    tk_cmds_add(w, "ZREM " TK_KEY_DUE_DIGEST " %s", job->login);
    tk_cmds_add(w, "DEL %s", key);

    if (lines->type == REDIS_REPLY_ARRAY && lines->elements
        && u->type == REDIS_REPLY_ARRAY && u->elements == 4
        && u->element[0]->type == REDIS_REPLY_STRING && u->element[0]->len
        && !(u->element[3]->type == REDIS_REPLY_STRING
             && strcmp(u->element[3]->str, "1") == 0))
    {
        de = u->element[1]->type == REDIS_REPLY_STRING
             && strcmp(u->element[1]->str, "de") == 0;
        name.data = (unsigned char *) (u->element[2]->type
                                       == REDIS_REPLY_STRING
                                       ? u->element[2]->str : job->login);
        name.len = strlen((char *) name.data);

        body = w->alloc(w->alloc_data, bsize);
        if (body == NULL) {
            return TK_REDIS_ERROR;
        }

        memset(&m, 0, sizeof(m));
        m.id = (uint64_t) reads[3]->integer;
        from = mb_notify_from(job->nt->cfg);
        at = strchr(from, '@');
        m.from.data = (unsigned char *) from;
        m.from.len = strlen(from);
        m.to.data = (unsigned char *) u->element[0]->str;
        m.to.len = u->element[0]->len;
        m.subject.data = (unsigned char *) subj;
        m.subject.len = mb_notify_digest_subject(job->nt->cfg, de,
                                                 lines->elements, subj,
                                                 sizeof(subj));
        m.body.data = (unsigned char *) body;
        m.body.len = mb_notify_digest_body(job->nt->cfg, de, &name, lines,
                                           body, bsize);
        m.message_id.data = (unsigned char *) mid;
        m.message_id.len = (size_t) snprintf(mid, sizeof(mid),
                               "tk.digest.%s.%llu@%.*s", job->login,
                               (unsigned long long) m.id,
                               at ? (int) strcspn(at + 1, ">") : 9,
                               at ? at + 1 : "localhost");
        m.event = "digest";
        tk_nmail_queue(w, &m, job->now);
        mb_info("notify: digest of %zu line(s) for %s", lines->elements,
                job->login);
    }

    (void) nreads;
    return 0;
}
