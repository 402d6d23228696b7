/*
 * outbox.c -- the outbox role: drain tk:{ix}:outbox (consumer group
 * "mailbridge") to the SMTP server.
 *
 *   start    XGROUP CREATE ... MKSTREAM; re-read our own pending entries
 *   reclaim  XAUTOCLAIM entries idle longer than outbox.claim_idle: their
 *            consumer died mid-send (entries waiting for a retry are
 *            skipped: tk:{ix}:outbox:retry holds their schedule)
 *   retry    due members of tk:{ix}:outbox:retry: ZREM is the lease (one
 *            consumer wins), XCLAIM makes the entry ours again
 *   wait     XREADGROUP ... BLOCK until the next due retry or reclaim
 *            (never a fixed poll); SIGTERM ends the wait at once
 *
 * Per entry: read (outbox_store.c), compose (compose.c), send (smtp.c),
 * then ONE MULTI with the outcome: sent + XACK/XDEL, failed + XACK/XDEL
 * + a notice to the author, or queued + the retry time.  An entry is
 * acked only after the server accepted it, so a crash between the
 * server's 250 and the EXEC re-sends the mail (same Message-ID) --
 * at-least-once, documented in docs/mailbridge.md.
 */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mb_outbox.h"
#include "tk_outbox.h"
#include "tk_schema_sync.h"

#define MB_OUTBOX_BATCH  100

typedef struct {
    const mb_config_t  *cfg;
    tk_redis_t          redis;
    int                 connected;
    mb_smtp_t          *smtp;
    char                consumer[300];
    int64_t             next_claim;     /* ms */
    mb_entry_t          e[MB_OUTBOX_BATCH];
} mb_outbox_t;

static int mb_outbox_connect(mb_outbox_t *ob);
static void mb_outbox_drop(mb_outbox_t *ob);
static int mb_outbox_pending(mb_outbox_t *ob);
static int mb_outbox_reclaim(mb_outbox_t *ob);
static void mb_outbox_forget(mb_outbox_t *ob);
static int mb_outbox_due(mb_outbox_t *ob);
static int mb_outbox_wait(mb_outbox_t *ob);
static int mb_outbox_batch(mb_outbox_t *ob, redisReply *entries, int skip);
static void mb_outbox_one(mb_outbox_t *ob, mb_entry_t *e);
static void mb_outbox_hand_off(mb_outbox_t *ob, mb_entry_t *e);
static void mb_outbox_commit(mb_outbox_t *ob, mb_entry_t *e, int outcome,
    const char *info, unsigned tries, int64_t due);
static int64_t mb_backoff(const mb_config_t *cfg, const mb_entry_t *e,
    unsigned tries);
static int mb_sleep_ms(int64_t ms);
static int64_t mb_now_ms(void);


int
mb_outbox_enabled(const mb_config_t *cfg)
{
    return cfg->smtp.url != NULL;
}


int
mb_outbox_run(const mb_config_t *cfg)
{
    mb_outbox_t  *ob;
    char          host[256];
    int64_t       pause = 500;
    int           rc;

    if (!mb_outbox_enabled(cfg)) {
        mb_err("outbox: no smtp.url in %s", cfg->path);
        return EX_CONFIG;
    }

    ob = calloc(1, sizeof(mb_outbox_t));
    if (ob == NULL) {
        return EX_OSERR;
    }
    ob->cfg = cfg;
    ob->smtp = mb_smtp_new(cfg);
    if (ob->smtp == NULL) {
        free(ob);
        return EX_OSERR;
    }

    if (gethostname(host, sizeof(host)) != 0) {
        strcpy(host, "localhost");
    }
    host[sizeof(host) - 1] = '\0';
    if (cfg->outbox.consumer) {
        snprintf(ob->consumer, sizeof(ob->consumer), "%s",
                 cfg->outbox.consumer);
    } else {
        snprintf(ob->consumer, sizeof(ob->consumer), "%s:%ld", host,
                 (long) getpid());
    }

    mb_info("outbox: consumer %s, sending through %s", ob->consumer,
            cfg->smtp.url);

    while (!mb_stop) {

        if (!ob->connected) {
            if (mb_outbox_connect(ob) != 0) {
                /* Redis away: wait, doubling up to 30 s */
                mb_sleep_ms(pause);
                pause = pause < 15000 ? pause * 2 : 30000;
                continue;
            }
            pause = 500;
            if (mb_outbox_pending(ob) != 0) {
                mb_outbox_drop(ob);
                continue;
            }
        }

        rc = mb_outbox_reclaim(ob);
        if (rc == 0) {
            rc = mb_outbox_due(ob);
        }
        if (rc == 0) {
            rc = mb_outbox_wait(ob);
        }
        if (rc != 0) {
            mb_outbox_drop(ob);
        }
    }

    mb_outbox_drop(ob);
    mb_smtp_free(ob->smtp);
    free(ob);
    mb_info("outbox: stopped");
    return EX_OK;
}


static int
mb_outbox_connect(mb_outbox_t *ob)
{
    redisReply  *r;
    int          rc;

    if (tk_redis_connect(&ob->redis, ob->cfg->redis, ob->cfg->redis_timeout)
        != TK_REDIS_OK)
    {
        mb_err("outbox: %s", ob->redis.err);
        tk_redis_close(&ob->redis);
        return -1;
    }

    rc = tk_redis_schema_check(&ob->redis);
    if (rc != TK_REDIS_OK) {
        mb_err("outbox: Redis at %s: %s", ob->cfg->redis,
               rc == TK_REDIS_NOSCHEMA ? "not initialised (ticketctl init)"
                                       : ob->redis.err);
        tk_redis_close(&ob->redis);
        return -1;
    }

    /* "0": entries queued before the group existed are promises too */
    r = tk_redis_command(&ob->redis, "XGROUP CREATE %s %s 0 MKSTREAM",
                         TK_KEY_OUTBOX, TK_OUTBOX_GROUP);
    if (r == NULL || (r->type == REDIS_REPLY_ERROR
                      && strncmp(r->str, "BUSYGROUP", 9) != 0))
    {
        mb_err("outbox: XGROUP CREATE: %s", r ? r->str : ob->redis.err);
        if (r) {
            freeReplyObject(r);
        }
        tk_redis_close(&ob->redis);
        return -1;
    }
    freeReplyObject(r);

    ob->connected = 1;
    ob->next_claim = 0;
    return 0;
}


static void
mb_outbox_drop(mb_outbox_t *ob)
{
    if (ob->connected) {
        tk_redis_close(&ob->redis);
        ob->connected = 0;
    }
}


/* Entries we took before (same consumer name) and never finished. */
static int
mb_outbox_pending(mb_outbox_t *ob)
{
    redisReply  *r, *list;
    char         last[64] = "0";
    size_t       n;

    while (!mb_stop) {
        r = tk_redis_command(&ob->redis, "XREADGROUP GROUP %s %s COUNT %d "
                             "STREAMS %s %s", TK_OUTBOX_GROUP, ob->consumer,
                             MB_OUTBOX_BATCH, TK_KEY_OUTBOX, last);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
            if (r) {
                freeReplyObject(r);
            }
            return r ? 0 : -1;
        }

        list = r->element[0]->element[1];
        n = list->elements;
        if (n) {
            snprintf(last, sizeof(last), "%s",
                     list->element[n - 1]->element[0]->str);
        }
        mb_outbox_batch(ob, list, 1);
        freeReplyObject(r);

        if (n < MB_OUTBOX_BATCH) {
            return 0;
        }
    }

    return 0;
}


/* Entries of a consumer that died mid-send: idle longer than claim_idle. */
static int
mb_outbox_reclaim(mb_outbox_t *ob)
{
    redisReply  *r;
    char         cursor[64] = "0-0";
    int64_t      now = mb_now_ms();
    int          n;

    if (now < ob->next_claim) {
        return 0;
    }
    ob->next_claim = now + (int64_t) ob->cfg->outbox.claim_idle * 1000;

    do {
        r = tk_redis_command(&ob->redis, "XAUTOCLAIM %s %s %s %lld %s "
                             "COUNT %d", TK_KEY_OUTBOX, TK_OUTBOX_GROUP,
                             ob->consumer,
                             (long long) ob->cfg->outbox.claim_idle * 1000,
                             cursor, MB_OUTBOX_BATCH);
        if (r == NULL) {
            return -1;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
            mb_err("outbox: XAUTOCLAIM: %s",
                   r->type == REDIS_REPLY_ERROR ? r->str : "bad reply");
            freeReplyObject(r);
            return 0;
        }

        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        n = mb_outbox_batch(ob, r->element[1], 1);
        freeReplyObject(r);
        if (n > 0) {
            mb_info("outbox: reclaimed %d entr%s of a stopped consumer",
                    n, n == 1 ? "y" : "ies");
        }
        if (n < 0) {
            return -1;
        }

    } while (strcmp(cursor, "0-0") != 0 && !mb_stop);

    mb_outbox_forget(ob);
    return 0;
}


/*
 * Every start is a new consumer name (host:pid): forget the old ones
 * once they hold nothing.  Harmless for a live one, which XREADGROUP
 * simply creates again.
 */
static void
mb_outbox_forget(mb_outbox_t *ob)
{
    redisReply  *r, *c, *d;
    size_t       i, k;
    const char  *name;
    long long    pending, idle;

    r = tk_redis_command(&ob->redis, "XINFO CONSUMERS %s %s", TK_KEY_OUTBOX,
                         TK_OUTBOX_GROUP);

    for (i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        c = r->element[i];
        name = NULL;
        pending = idle = -1;

        for (k = 0; c->type == REDIS_REPLY_ARRAY && k + 1 < c->elements;
             k += 2)
        {
            if (strcmp(c->element[k]->str, "name") == 0) {
                name = c->element[k + 1]->str;
            } else if (strcmp(c->element[k]->str, "pending") == 0) {
                pending = c->element[k + 1]->integer;
            } else if (strcmp(c->element[k]->str, "idle") == 0) {
                idle = c->element[k + 1]->integer;
            }
        }

        if (name && pending == 0 && strcmp(name, ob->consumer) != 0
            && idle > (long long) ob->cfg->outbox.claim_idle * 2000)
        {
            d = tk_redis_command(&ob->redis, "XGROUP DELCONSUMER %s %s %s",
                                 TK_KEY_OUTBOX, TK_OUTBOX_GROUP, name);
            if (d) {
                freeReplyObject(d);
            }
        }
    }

    if (r) {
        freeReplyObject(r);
    }
}


/* Retries that are due: ZREM decides which consumer takes each. */
static int
mb_outbox_due(mb_outbox_t *ob)
{
    redisReply  *r, *z, *c;
    size_t       i;

    r = tk_redis_command(&ob->redis, "ZRANGEBYSCORE %s -inf %lld LIMIT 0 %d",
                         TK_KEY_OUTBOX_RETRY, (long long) mb_now_ms(),
                         MB_OUTBOX_BATCH);
    if (r == NULL) {
        return -1;
    }

    for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements && !mb_stop;
         i++)
    {
        z = tk_redis_command(&ob->redis, "ZREM %s %s", TK_KEY_OUTBOX_RETRY,
                             r->element[i]->str);
        if (z == NULL) {
            freeReplyObject(r);
            return -1;
        }
        if (z->type != REDIS_REPLY_INTEGER || z->integer != 1) {
            freeReplyObject(z);
            continue;               /* another consumer took it */
        }
        freeReplyObject(z);

        c = tk_redis_command(&ob->redis, "XCLAIM %s %s %s 0 %s",
                             TK_KEY_OUTBOX, TK_OUTBOX_GROUP, ob->consumer,
                             r->element[i]->str);
        if (c == NULL) {
            freeReplyObject(r);
            return -1;
        }
        mb_outbox_batch(ob, c, 0);
        freeReplyObject(c);
    }

    freeReplyObject(r);
    return 0;
}


/*
 * XREADGROUP ... BLOCK until the next due retry or reclaim.  The reply
 * is awaited with ppoll() and SIGTERM/SIGINT unblocked only inside it,
 * so a stop signal ends the wait at once (hiredis itself would retry a
 * read interrupted by a signal).
 */
static int
mb_outbox_wait(mb_outbox_t *ob)
{
    redisContext     *ctx = ob->redis.ctx;
    redisReply       *r = NULL;
    struct pollfd     pfd;
    struct timespec   ts;
    sigset_t          block, old;
    int64_t           now, due, wait;
    int               done = 0, rc;

    due = mb_retry_next(&ob->redis);
    if (due == -2) {
        return -1;
    }

    now = mb_now_ms();
    wait = ob->next_claim - now;
    if (due >= 0 && due - now < wait) {
        wait = due - now;
    }
    if (wait <= 0) {
        return 0;
    }

    if (redisAppendCommand(ctx, "XREADGROUP GROUP %s %s COUNT %d BLOCK %lld "
                           "STREAMS %s >", TK_OUTBOX_GROUP, ob->consumer,
                           MB_OUTBOX_BATCH, (long long) wait, TK_KEY_OUTBOX)
        != REDIS_OK)
    {
        return -1;
    }
    while (!done) {
        if (redisBufferWrite(ctx, &done) != REDIS_OK) {
            return -1;
        }
    }

    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);

    if (mb_stop) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        return -1;                  /* dropping the connection unblocks it */
    }

    /* Redis answers when BLOCK ends; allow it the command timeout more */
    wait += ob->cfg->redis_timeout;
    ts.tv_sec = wait / 1000;
    ts.tv_nsec = (wait % 1000) * 1000000;
    pfd.fd = ctx->fd;
    pfd.events = POLLIN;
    rc = ppoll(&pfd, 1, &ts, &old);
    sigprocmask(SIG_SETMASK, &old, NULL);

    if (rc <= 0) {
        if (rc == 0) {
            mb_err("outbox: Redis did not answer XREADGROUP");
        }
        return -1;
    }

    if (redisGetReply(ctx, (void **) &r) != REDIS_OK || r == NULL) {
        mb_err("outbox: Redis: %s", ctx->errstr);
        return -1;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        /* NOGROUP: the stream was deleted; reconnect creates it again */
        mb_err("outbox: XREADGROUP: %s", r->str);
        freeReplyObject(r);
        mb_sleep_ms(1000);
        return -1;
    }

    if (r->type == REDIS_REPLY_ARRAY && r->elements) {
        mb_outbox_batch(ob, r->element[0]->element[1], 0);
    }
    freeReplyObject(r);
    return 0;
}


/*
 * Load and handle a list of entries; skip = leave scheduled ones alone.
 * Returns how many were handled, -1 on a Redis error.
 */
static int
mb_outbox_batch(mb_outbox_t *ob, redisReply *entries, int skip)
{
    size_t  i, n, k;
    int     s;

    n = mb_entries_parse(entries, ob->e, MB_OUTBOX_BATCH);

    if (skip) {
        for (i = 0, k = 0; i < n; i++) {
            s = mb_retry_scheduled(&ob->redis, ob->e[i].id);
            if (s < 0) {
                return -1;
            }
            if (s == 0) {
                ob->e[k++] = ob->e[i];
            }
        }
        n = k;
    }

    if (n == 0) {
        return 0;
    }

    if (mb_entries_load(&ob->redis, ob->e, n) != TK_REDIS_OK) {
        mb_err("outbox: reading entries: %s", ob->redis.err);
        for (i = 0; i < n; i++) {
            mb_entry_free(&ob->e[i]);
        }
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (!mb_stop) {
            mb_outbox_one(ob, &ob->e[i]);
        } else {
            mb_outbox_hand_off(ob, &ob->e[i]);
        }
        mb_entry_free(&ob->e[i]);
    }

    return (int) n;
}


/*
 * Stopping with entries taken but not tried: schedule them as due now,
 * so the next consumer takes them at once (ZREM + XCLAIM) instead of
 * waiting claim_idle for them.  Nothing about their delivery changes.
 */
static void
mb_outbox_hand_off(mb_outbox_t *ob, mb_entry_t *e)
{
    redisReply  *r;

    r = tk_redis_command(&ob->redis, "ZADD %s NX %lld %s",
                         TK_KEY_OUTBOX_RETRY, (long long) mb_now_ms(), e->id);
    if (r) {
        freeReplyObject(r);
    }
}


/* One delivery attempt and its outcome. */
static void
mb_outbox_one(mb_outbox_t *ob, mb_entry_t *e)
{
    const mb_config_t  *cfg = ob->cfg;
    mb_out_t            o;
    mb_mail_t           mail;
    char                info[1024], text[2048];
    unsigned            tries;
    int                 rc;

    if (e->kind == 0 || !e->found) {
        mb_warn("outbox: entry %s names no article (ticket %llu article "
                "%llu): dropped", e->id, (unsigned long long) e->ticket,
                (unsigned long long) e->article);
        mb_outbox_commit(ob, e, MB_SEND_OK, NULL, 0, 0);
        return;
    }

    memset(&o, 0, sizeof(o));
    tries = e->tries + 1;

    if (e->kind == MB_ENTRY_NOTICE) {
        if (mb_notice_build(cfg, e, &o, text, sizeof(text)) != 0) {
            mb_outbox_commit(ob, e, MB_SEND_OK, NULL, 0, 0);
            return;
        }
        tries = 0;

    } else if (e->kind == MB_ENTRY_NOTIFY) {
        /* a notification (mailbridge/notify.c wrote it whole) */
        o.from = e->a.from;
        o.to = e->a.to;
        o.subject = e->a.subject;
        o.message_id = e->a.message_id;
        o.body = e->a.body;
        o.date = e->a.time ? e->a.time : (int64_t) time(NULL);
        o.auto_submitted = 1;
        o.x_group = e->x_group;
        o.x_event = e->x_event;
        tries = 0;

    } else if (e->a.kind != TK_ART_OUT) {
        mb_err("outbox: ticket %llu article %llu is not outbound: dropped",
               (unsigned long long) e->ticket,
               (unsigned long long) e->article);
        mb_outbox_commit(ob, e, MB_SEND_PERM, NULL, 0, 0);
        return;

    } else {
        o.from = e->a.from;
        o.to = e->a.to;
        o.cc = e->a.cc;
        o.bcc = e->a.bcc;
        o.subject = e->a.subject;
        o.message_id = e->a.message_id;
        o.in_reply_to = e->a.in_reply_to;
        o.references = e->a.references;
        o.body = e->a.body;
        o.crypt = e->a.crypt;
        o.sign_fpr = e->sign_fpr;
        o.date = e->a.time ? e->a.time : (int64_t) time(NULL);
        o.atts = e->atts;
        o.natts = e->natts;
        /* the request form's confirmation (RFC 3834) */
        o.auto_submitted = tk_flags_has(&e->a.flags, TK_FLAG_AUTO_REPLY)
                           ? 2 : 0;
    }

    rc = mb_compose(&o, cfg->smtp.envelope_from, &mail, info, sizeof(info));
    if (rc == MB_SEND_OK) {
        rc = mb_smtp_send(ob->smtp, &mail, info, sizeof(info));
        mb_mail_free(&mail);
    }

    if (rc == MB_SEND_TEMP && e->kind == MB_ENTRY_ARTICLE
        && mb_now_ms() - e->id_ms >= (int64_t) cfg->outbox.retry_for * 1000)
    {
        char  last[1024];

        snprintf(last, sizeof(last), "%s", info);
        snprintf(info, sizeof(info), "gave up after %u attempts in %d s; "
                 "last error: %.900s", tries, cfg->outbox.retry_for, last);
        rc = MB_SEND_PERM;
    }

    if (rc == MB_SEND_TEMP && e->kind != MB_ENTRY_ARTICLE
        && mb_now_ms() - e->id_ms >= (int64_t) cfg->outbox.retry_for * 1000)
    {
        rc = MB_SEND_PERM;
    }

    switch (rc) {
    case MB_SEND_OK:
        mb_info("outbox: ticket %llu article %llu %s: %s",
                (unsigned long long) e->ticket,
                (unsigned long long) e->article,
                e->kind == MB_ENTRY_NOTICE ? "failure notice sent"
                : e->kind == MB_ENTRY_NOTIFY ? "notification sent" : "sent",
                info);
        mb_outbox_commit(ob, e, MB_SEND_OK, info, tries, 0);
        break;

    case MB_SEND_PERM:
        mb_warn("outbox: ticket %llu article %llu %s: %s",
                (unsigned long long) e->ticket,
                (unsigned long long) e->article,
                e->kind == MB_ENTRY_NOTICE ? "failure notice failed "
                "(not noticed again)"
                : e->kind == MB_ENTRY_NOTIFY ? "notification failed" : "failed",
                info);
        mb_outbox_commit(ob, e, MB_SEND_PERM, info, tries, 0);
        break;

    default:
        mb_warn("outbox: ticket %llu article %llu: try %u failed, again "
                "later: %s", (unsigned long long) e->ticket,
                (unsigned long long) e->article, tries, info);
        mb_outbox_commit(ob, e, MB_SEND_TEMP, info, tries,
                         mb_now_ms() + mb_backoff(cfg, e, tries));
        break;
    }
}


/*
 * Record the outcome; a Redis failure here must not re-send a mail the
 * server already took, so the commit is retried (reconnecting) until it
 * went through or we are told to stop.
 */
static void
mb_outbox_commit(mb_outbox_t *ob, mb_entry_t *e, int outcome,
    const char *info, unsigned tries, int64_t due)
{
    int64_t  pause = 200;
    int      rc;

    while (!mb_stop || outcome == MB_SEND_OK) {
        if (ob->connected) {
            rc = mb_entry_commit(&ob->redis, e, outcome, info, tries, due);
            if (rc == TK_REDIS_OK) {
                return;
            }
            mb_err("outbox: recording entry %s: %s", e->id, ob->redis.err);
            if (rc != TK_REDIS_ERROR) {
                return;             /* a bug, not a busy Redis: logged */
            }
            mb_outbox_drop(ob);
        }

        if (mb_stop && pause > 5000) {
            return;                 /* stop after some tries: at-least-once */
        }
        mb_sleep_ms(pause);
        pause = pause < 15000 ? pause * 2 : 30000;

        if (tk_redis_connect(&ob->redis, ob->cfg->redis,
                             ob->cfg->redis_timeout) == TK_REDIS_OK)
        {
            ob->connected = 1;
        } else {
            tk_redis_close(&ob->redis);
        }
    }
}


/*
 * Articles: retry_min doubling per try up to retry_max.  Notices have
 * no tries counter: the delay is their age, which doubles it as well.
 */
static int64_t
mb_backoff(const mb_config_t *cfg, const mb_entry_t *e, unsigned tries)
{
    int64_t  d = cfg->outbox.retry_min;

    if (e->kind != MB_ENTRY_ARTICLE) {
        d = (mb_now_ms() - e->id_ms) / 1000;
        d = d < cfg->outbox.retry_min ? cfg->outbox.retry_min : d;
    } else {
        while (tries-- > 1 && d < cfg->outbox.retry_max) {
            d *= 2;
        }
    }

    if (d > cfg->outbox.retry_max) {
        d = cfg->outbox.retry_max;
    }
    return d * 1000;
}


/* Sleep that SIGTERM/SIGINT ends; 1 when interrupted. */
static int
mb_sleep_ms(int64_t ms)
{
    struct timespec  ts;
    sigset_t         block, old;
    int              rc;

    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);
    if (mb_stop) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        return 1;
    }
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000;
    rc = ppoll(NULL, 0, &ts, &old);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc < 0 && errno == EINTR;
}


static int64_t
mb_now_ms(void)
{
    struct timeval  tv;

    gettimeofday(&tv, NULL);
    return (int64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}
