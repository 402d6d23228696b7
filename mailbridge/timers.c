/*
 * timers.c -- the timers role: SLA escalations and reminders.
 *
 * Due times live in two sharded sorted sets (tk:{ix}:due:escalation:K,
 * tk:{ix}:due:reminder:K; K = number / TK_DUE_SHARD, member = ticket
 * number, score = Unix seconds; small enough to stay listpacks) with an
 * index each (tk:{ix}:due:escalation: K -> a lower bound of the shard's
 * earliest due time; see tk_timer.h).
 * The role keeps them right by reading the change feed with its own
 * consumer group ("timers"): a new ticket, a change of priority, group,
 * state, owner or reminder date, or the first outbound article makes it
 * read the ticket and recompute (tk_ticket_set_escalation).  It fires
 * what is due a shard at a time: WATCH the shard and its due tickets,
 * read them and their due scores, and in one MULTI mark each one that
 * still qualifies (tk_ticket_escalate / tk_ticket_remind: ZREM, field,
 * history, feed, overview set, notification request) and set the
 * shard's bound to what stays.  The fire changes the shard and every
 * ticket it marks, so when two mailbridges race over the same shard the
 * second EXEC fails, the shard is read again, and what the first one
 * fired is no longer due: each timer fires exactly once.
 *
 * Waiting is ONE blocking call: XREADGROUP ... BLOCK <ms until the next
 * due time> on the feed, so a new feed entry and the next due time both
 * wake it -- never a poll.  The block is capped (MB_TIMERS_MAX_BLOCK) so
 * a stop signal is seen in time (hiredis retries a read after EINTR).
 * At start it fires whatever came due while it was down, and handles
 * the feed entries it had read but not acknowledged.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mb_timers.h"
#include "tk_schema_sync.h"
#include "tk_timer.h"

#define MB_TIMERS_MAX_BLOCK  5000       /* ms */
#define MB_TIMERS_ATTEMPTS   20
#define MB_TIMERS_SHARDS     8          /* due shards to pick one from */

/* tickets to recompute, or a batch to fire */
typedef struct {
    mb_timers_t        *tm;
    const uint64_t     *numbers;        /* fire                          */
    const mb_timers_ev_t *ev;           /* recompute                     */
    size_t              n;
    const char         *due_key;        /* fire: which set            */
    uint64_t            shard;          /* fire: which shard of it    */
    int64_t             now;
    size_t              fired;
} mb_timers_job_t;

static int mb_timers_session(mb_timers_t *tm);
static int64_t mb_timers_now_ms(const mb_timers_t *tm);
static int mb_timers_rescan(mb_timers_t *tm);
static int mb_timers_recompute_decide(void *data, redisReply **reads,
    size_t nreads, tk_cmds_t *w);
static int mb_timers_fire(mb_timers_t *tm, const char *due_key,
    size_t *fired);
static int mb_timers_fire_shard(mb_timers_t *tm, const char *due_key,
    uint64_t shard, int64_t now, size_t *fired);
static int mb_timers_fire_decide(void *data, redisReply **reads,
    size_t nreads, tk_cmds_t *w);
static void mb_timers_bound(mb_timers_job_t *job, redisReply *all,
    const unsigned char *gone, tk_cmds_t *w);
static int mb_timers_wait_ms(mb_timers_t *tm);
static int mb_timers_ticket(redisReply *reply, tk_ticket_t *t,
    tk_timer_state_t *ts, redisReply *timer);


int
mb_timers_enabled(const mb_config_t *cfg)
{
    /* every installation has SLAs; "timers = no" for a second
     * mailbridge that should only fetch mail */
    return cfg->redis != NULL && cfg->timers;
}


int
mb_timers_run(const mb_config_t *cfg)
{
    mb_timers_t  tm;
    redisReply  *reply;
    int          rc, backoff = 1;

    memset(&tm, 0, sizeof(tm));
    tm.cfg = cfg;
    /* which due shard to take (mb_timers_fire): differs per process */
    srandom((unsigned) getpid() ^ (unsigned) time(NULL));
    tm.actor.data = (unsigned char *) "mailbridge";
    tm.actor.len = sizeof("mailbridge") - 1;

    if (cfg->test_clock_offset) {
        mb_warn("timers: test_clock_offset = %lld s: the clock is SHIFTED "
                "(tests only, never in production)", cfg->test_clock_offset);
    }

    while (!mb_stop) {
        if (tk_redis_connect(&tm.r, cfg->redis, cfg->redis_timeout)
                != TK_REDIS_OK
            || tk_redis_schema_check(&tm.r) != TK_REDIS_OK)
        {
            mb_warn("timers: %s; again in %d s", tm.r.err, backoff);
            tk_redis_close(&tm.r);
            sleep((unsigned) backoff);
            backoff = backoff < 30 ? backoff * 2 : 60;
            continue;
        }

        /* from now on: what happened before the role existed is the
         * rescan's job (TK_KEY_DUE_CONFIG absent) */
        reply = tk_redis_command(&tm.r, "XGROUP CREATE %s %s $ MKSTREAM",
                                 TK_KEY_FEED, TK_TIMERS_GROUP);
        if (reply) {
            freeReplyObject(reply);     /* BUSYGROUP: exists, fine */
        }

        rc = mb_timers_session(&tm);
        backoff = rc == 0 ? 1 : backoff;

        if (rc != 0 && !mb_stop) {
            mb_warn("timers: %s; reconnecting in %d s", tm.r.err, backoff);
            sleep((unsigned) backoff);
            backoff = backoff < 30 ? backoff * 2 : 60;
        }
        tk_redis_close(&tm.r);
    }

    mb_timers_conf_free(&tm.conf);
    mb_info("timers: stopped, %lld timer(s) fired", tm.fired);
    return EX_OK;
}


/* One connection's life: pending feed entries, then fire / wait. */
static int
mb_timers_session(mb_timers_t *tm)
{
    size_t  fired;
    int     first = 1, block;

    while (!mb_stop) {
        if (mb_timers_config(tm) != 0) {
            return -1;
        }

        /* everything that is due, a batch at a time */
        do {
            fired = 0;
            if (mb_timers_fire(tm, TK_KEY_DUE_ESCALATION, &fired) != 0
                || mb_timers_fire(tm, TK_KEY_DUE_REMINDER, &fired) != 0)
            {
                return -1;
            }
        } while (fired && !mb_stop);

        if (first) {
            /* entries read before a crash, not acknowledged */
            if (mb_timers_read(tm, "0", 0) != 0) {
                return -1;
            }
            first = 0;
            continue;
        }

        block = mb_timers_wait_ms(tm);
        if (block < 0 || mb_timers_read(tm, ">", block) != 0) {
            return -1;
        }
    }

    return 0;
}


/* ---- clock and configuration ------------------------------------------- */

/* test_clock_offset (config, tests only) shifts it; see docs */
static int64_t
mb_timers_now_ms(const mb_timers_t *tm)
{
    struct timeval  tv;

    gettimeofday(&tv, NULL);
    return (int64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000
           + tm->cfg->test_clock_offset * 1000;
}


/* Read tk:sla and the calendars; recompute every ticket when the due
 * times were computed with another configuration (or never). */
int
mb_timers_config(mb_timers_t *tm)
{
    redisReply  *reply;
    int          same, old;

    if (mb_timers_conf_load(&tm->r, &tm->conf) != 0) {
        return -1;
    }

    reply = tk_redis_command(&tm->r, "GET %s", TK_KEY_DUE_CONFIG);
    if (reply == NULL) {
        return -1;
    }
    same = reply->type == REDIS_REPLY_STRING
           && strcmp(reply->str, tm->conf.digest) == 0;
    /* none, or one without the format of the due sets: unsharded sets
     * of an older mailbridge (or none), rebuilt by the rescan */
    old = reply->type != REDIS_REPLY_STRING
          || strncmp(reply->str, MB_TIMERS_DUE_FORMAT,
                     sizeof(MB_TIMERS_DUE_FORMAT) - 1) != 0;
    freeReplyObject(reply);

    if (same) {
        return 0;
    }

    if (old) {
        mb_info("timers: due sets of another format (or none): rebuilt "
                "sharded (%d tickets a shard)", TK_DUE_SHARD);
        reply = tk_redis_command(&tm->r, "DEL %s %s", TK_KEY_DUE_ESCALATION,
                                 TK_KEY_DUE_REMINDER);
        if (reply == NULL) {
            return -1;
        }
        freeReplyObject(reply);
    }

    mb_info("timers: SLA configuration %s is new: recomputing every "
            "ticket's due times", tm->conf.digest);

    if (mb_timers_rescan(tm) != 0) {
        return -1;
    }

    reply = tk_redis_command(&tm->r, "SET %s %s", TK_KEY_DUE_CONFIG,
                             tm->conf.digest);
    if (reply == NULL) {
        return -1;
    }
    freeReplyObject(reply);
    return 0;
}


/* SCAN every ticket hash, recompute a page at a time */
static int
mb_timers_rescan(mb_timers_t *tm)
{
    redisReply  *reply, *keys;
    static mb_timers_ev_t  ev[1000];
    uint64_t     number, article;
    char         cursor[32] = "0";
    size_t       i, n, total = 0;

    memset(ev, 0, sizeof(ev));

    do {
        reply = tk_redis_command(&tm->r, "SCAN %s MATCH %s COUNT 1000 "
                                 "TYPE hash", cursor,
                                 TK_PATTERN_TICKET_KEYS);
        if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
            || reply->elements != 2)
        {
            if (reply) {
                tk_redis_set_error(&tm->r, "SCAN: unexpected reply");
                freeReplyObject(reply);
            }
            return -1;
        }

        snprintf(cursor, sizeof(cursor), "%s", reply->element[0]->str);
        keys = reply->element[1];

        for (i = 0, n = 0; i < keys->elements && n < 1000; i++) {
            if (tk_key_parse(keys->element[i]->str, keys->element[i]->len,
                             &number, &article) == TK_KEY_IS_TICKET)
            {
                ev[n++].number = number;
            }
        }
        freeReplyObject(reply);

        for (i = 0; i < n; i += MB_TIMERS_BATCH) {
            if (mb_timers_recompute(tm, ev + i, n - i < MB_TIMERS_BATCH
                                                ? n - i : MB_TIMERS_BATCH)
                != 0)
            {
                return -1;
            }
        }
        total += n;
    } while (strcmp(cursor, "0") != 0 && !mb_stop);

    mb_info("timers: due times of %zu ticket(s) recomputed", total);
    return mb_stop ? -1 : 0;
}


/* ---- recompute ---------------------------------------------------------- */

/* WATCH the tickets, read them, write their due times in one MULTI */
int
mb_timers_recompute(mb_timers_t *tm, const mb_timers_ev_t *ev, size_t n)
{
    char             keys[MB_TIMERS_BATCH][TK_KEY_MAX];
    const char      *kp[MB_TIMERS_BATCH];
    tk_arena_t       arena;
    tk_cmds_t        reads;
    mb_timers_job_t  job;
    size_t           i;
    int              rc;

    tk_arena_init(&arena);
    tk_cmds_init(&reads, tk_arena_alloc, &arena);
    tk_cmds_actor(&reads, &tm->actor, TK_SRC_SYSTEM);

    for (i = 0; i < n; i++) {
        tk_key_ticket(keys[i], sizeof(keys[i]), ev[i].number);
        kp[i] = keys[i];
        tk_cmds_add(&reads, "HGETALL %s", keys[i]);
        tk_cmds_add(&reads, "HMGET %s " TK_TIMER_FIELDS, keys[i]);
        /* a customer mail starts the update clock unless auto-generated */
        if (ev[i].article[0]) {
            tk_cmds_add(&reads, "HGET %s" TK_SFX_ARTICLE "%s " TK_F_FLAGS,
                        keys[i], ev[i].article);
        } else {
            tk_cmds_add(&reads, "ECHO -");
        }
    }

    memset(&job, 0, sizeof(job));
    job.tm = tm;
    job.ev = ev;
    job.n = n;
    job.now = mb_timers_now_ms(tm) / 1000;

    rc = tk_redis_tx(&tm->r, kp, n, &reads, mb_timers_recompute_decide,
                     &job, MB_TIMERS_ATTEMPTS, NULL);
    tk_arena_reset(&arena);

    if (rc == TK_REDIS_CONFLICT) {
        mb_warn("timers: tickets changed on every attempt; the feed "
                "will bring them again");
        return 0;
    }

    return rc == TK_REDIS_OK || rc == TK_REDIS_ABORT ? 0 : -1;
}


static int
mb_timers_recompute_decide(void *data, redisReply **reads, size_t nreads,
    tk_cmds_t *w)
{
    mb_timers_job_t      *job = data;
    const tk_calendar_t  *cal;
    const mb_timers_ev_t *ev;
    tk_ticket_t           t;
    tk_timer_state_t      ts;
    tk_str_t              flags;
    redisReply           *fl;
    int64_t               esc, first, upd;
    size_t                i;

    for (i = 0; i < job->n && 3 * i + 2 < nreads; i++) {
        ev = &job->ev[i];

        if (mb_timers_ticket(reads[3 * i], &t, &ts, reads[3 * i + 1]) != 0) {
            /* gone (or not a ticket): no timers for it */
            tk_timer_drop(w, TK_KEY_DUE_ESCALATION, ev->number);
            tk_timer_drop(w, TK_KEY_DUE_REMINDER, ev->number);
            continue;
        }

        first = t.first_response ? t.first_response : ev->first_out;

        /* an answer stops the update clock; the next customer mail after
         * the first response starts it (an auto-reply never does) */
        upd = ev->last_out ? 0 : ts.update_from;
        fl = reads[3 * i + 2];
        flags.data = fl->type == REDIS_REPLY_STRING
                     ? (unsigned char *) fl->str : NULL;
        flags.len = flags.data ? fl->len : 0;
        if (ev->in && upd == 0 && first
            && !tk_flags_has(&flags, TK_FLAG_AUTO))
        {
            upd = ev->in;
        }

        cal = mb_timers_calendar(&job->tm->conf, &t.group);
        esc = tk_sla_escalation(&job->tm->conf.sla, cal, t.priority,
                                t.state, t.created, first, upd);

        tk_ticket_set_escalation(w, &t, &ts, esc, ev->first_out, upd,
                                 job->now);
    }

    return w->failed ? TK_REDIS_ERROR : 0;
}


/* HGETALL + HMGET TK_TIMER_FIELDS replies -> ticket and timer state */
static int
mb_timers_ticket(redisReply *reply, tk_ticket_t *t, tk_timer_state_t *ts,
    redisReply *timer)
{
    tk_str_t  pairs[64], vals[TK_TIMER_NFIELDS];
    size_t    i, n;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0
        || reply->elements > 2 * 32 || timer->type != REDIS_REPLY_ARRAY
        || timer->elements != TK_TIMER_NFIELDS)
    {
        return -1;
    }

    n = reply->elements;
    for (i = 0; i < n; i++) {
        pairs[i].data = (unsigned char *) reply->element[i]->str;
        pairs[i].len = reply->element[i]->len;
    }

    for (i = 0; i < TK_TIMER_NFIELDS; i++) {
        vals[i].data = timer->element[i]->type == REDIS_REPLY_STRING
                       ? (unsigned char *) timer->element[i]->str : NULL;
        vals[i].len = vals[i].data ? timer->element[i]->len : 0;
    }

    tk_timer_state_parse(ts, vals);
    return tk_ticket_parse(t, pairs, n / 2);
}


/* ---- firing ------------------------------------------------------------- */

/*
 * One shard of what is due in due_key: *fired += how many fired.  The
 * index names the shards whose bound is due; one of the first few is
 * taken at random, so two mailbridges mostly work on different shards.
 * A shard whose entries all turned out fired by the other mailbridge (or
 * not due: a stale bound) counts as one, so the caller looks again.
 */
static int
mb_timers_fire(mb_timers_t *tm, const char *due_key, size_t *fired)
{
    redisReply  *reply;
    uint64_t     shard;
    int64_t      now;
    size_t       pick;

    now = mb_timers_now_ms(tm) / 1000;

    reply = tk_redis_command(&tm->r, "ZRANGEBYSCORE %s -inf %lld LIMIT 0 %d",
                             due_key, (long long) now, MB_TIMERS_SHARDS);
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        if (reply) {
            tk_redis_set_error(&tm->r, "ZRANGEBYSCORE: %s",
                               reply->type == REDIS_REPLY_ERROR
                               ? reply->str : "unexpected reply");
            freeReplyObject(reply);
        }
        return -1;
    }

    if (reply->elements == 0) {
        freeReplyObject(reply);
        return 0;
    }

    pick = (size_t) random() % reply->elements;
    shard = strtoull(reply->element[pick]->str, NULL, 10);
    freeReplyObject(reply);

    return mb_timers_fire_shard(tm, due_key, shard, now, fired);
}


/* WATCH the shard and its due tickets, fire them, set its bound */
static int
mb_timers_fire_shard(mb_timers_t *tm, const char *due_key, uint64_t shard,
    int64_t now, size_t *fired)
{
    char             keys[TK_DUE_SHARD + 1][TK_KEY_MAX];
    const char      *kp[TK_DUE_SHARD + 1];
    uint64_t         numbers[TK_DUE_SHARD];
    redisReply      *reply;
    tk_arena_t       arena;
    tk_cmds_t        reads;
    mb_timers_job_t  job;
    size_t           i, n;
    int              rc;

    if (tk_timer_due_key(keys[0], sizeof(keys[0]), due_key,
                         shard * TK_DUE_SHARD) == 0)
    {
        tk_redis_set_error(&tm->r, "due shard %llu: key too long",
                           (unsigned long long) shard);
        return -1;
    }
    kp[0] = keys[0];

    reply = tk_redis_command(&tm->r, "ZRANGEBYSCORE %s -inf %lld LIMIT 0 %d",
                             keys[0], (long long) now, TK_DUE_SHARD);
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        if (reply) {
            tk_redis_set_error(&tm->r, "ZRANGEBYSCORE: unexpected reply");
            freeReplyObject(reply);
        }
        return -1;
    }

    for (i = 0, n = 0; i < reply->elements && n < TK_DUE_SHARD; i++) {
        numbers[n] = strtoull(reply->element[i]->str, NULL, 10);
        if (numbers[n]) {
            n++;
        }
    }
    freeReplyObject(reply);

    tk_arena_init(&arena);
    tk_cmds_init(&reads, tk_arena_alloc, &arena);
    tk_cmds_actor(&reads, &tm->actor, TK_SRC_SYSTEM);

    for (i = 0; i < n; i++) {
        tk_key_ticket(keys[i + 1], sizeof(keys[i + 1]), numbers[i]);
        kp[i + 1] = keys[i + 1];
        tk_cmds_add(&reads, "HGETALL %s", keys[i + 1]);
        tk_cmds_add(&reads, "HMGET %s " TK_TIMER_FIELDS, keys[i + 1]);
        tk_cmds_add(&reads, "ZSCORE %s %llu", keys[0],
                    (unsigned long long) numbers[i]);
    }
    /* what stays in the shard gives its new bound */
    tk_cmds_add(&reads, "ZRANGE %s 0 -1 WITHSCORES", keys[0]);

    memset(&job, 0, sizeof(job));
    job.tm = tm;
    job.numbers = numbers;
    job.n = n;
    job.due_key = due_key;
    job.shard = shard;
    job.now = now;

    rc = tk_redis_tx(&tm->r, kp, n + 1, &reads, mb_timers_fire_decide, &job,
                     MB_TIMERS_ATTEMPTS, NULL);
    tk_arena_reset(&arena);

    if (rc == TK_REDIS_OK) {
        tm->fired += (long long) job.fired;
        if (job.fired) {
            mb_info("timers: %zu %s timer(s) fired", job.fired,
                    strcmp(due_key, TK_KEY_DUE_ESCALATION) == 0 ? "escalation"
                                                     : "reminder");
        }
        *fired += job.fired ? job.fired : 1;
        return 0;
    }

    if (rc == TK_REDIS_ABORT || rc == TK_REDIS_CONFLICT) {
        *fired += 1;                    /* look again */
        return 0;
    }

    return -1;
}


static int
mb_timers_fire_decide(void *data, redisReply **reads, size_t nreads,
    tk_cmds_t *w)
{
    mb_timers_job_t   *job = data;
    tk_ticket_t        t;
    tk_timer_state_t   ts;
    redisReply        *score;
    unsigned char      gone[TK_DUE_SHARD];
    size_t             i;
    int                esc = strcmp(job->due_key, TK_KEY_DUE_ESCALATION) == 0;

    job->fired = 0;
    memset(gone, 0, sizeof(gone));

    if (nreads != 3 * job->n + 1) {
        tk_redis_set_error(&job->tm->r, "fire: %zu replies", nreads);
        return TK_REDIS_ERROR;
    }

    for (i = 0; i < job->n; i++) {
        score = reads[3 * i + 2];

        /* fired by the other mailbridge, or moved: not ours now */
        if (score->type != REDIS_REPLY_STRING
            || strtoll(score->str, NULL, 10) > job->now)
        {
            continue;
        }

        gone[i] = 1;                    /* fired or dropped: ZREM */

        if (mb_timers_ticket(reads[3 * i], &t, &ts, reads[3 * i + 1]) != 0) {
            tk_timer_drop(w, job->due_key, job->numbers[i]);

        } else if (esc && tk_state_is_open(t.state) && t.escalation_at
                   && t.escalation_at <= job->now && ts.escalated == 0)
        {
            tk_ticket_escalate(w, &t, &ts, job->now);
            job->fired++;

        } else if (!esc && tk_timer_reminder_due(&t)
                   && t.pending_until <= job->now
                   && ts.reminded != t.pending_until)
        {
            tk_ticket_remind(w, &t, &ts, job->now);
            job->fired++;

        } else {
            /* no longer qualifies; a recompute from the feed re-adds it
             * when the ticket changes again */
            tk_timer_drop(w, job->due_key, job->numbers[i]);
        }
    }

    mb_timers_bound(job, reads[3 * job->n], gone, w);

    return w->failed ? TK_REDIS_ERROR : 0;
}


/* The shard's bound after this transaction: its earliest entry that
 * stays (none: the index entry goes). */
static void
mb_timers_bound(mb_timers_job_t *job, redisReply *all,
    const unsigned char *gone, tk_cmds_t *w)
{
    uint64_t  number;
    int64_t   min = 0;
    size_t    i, j;

    if (all->type != REDIS_REPLY_ARRAY) {
        return;
    }

    /* ZRANGE WITHSCORES: member, score, ... in score order */
    for (i = 0; i + 1 < all->elements && min == 0; i += 2) {
        number = strtoull(all->element[i]->str, NULL, 10);
        for (j = 0; j < job->n && !(gone[j] && job->numbers[j] == number);
             j++)
        { /* void */ }

        if (j == job->n) {
            min = strtoll(all->element[i + 1]->str, NULL, 10);
            min = min > 0 ? min : 1;
        }
    }

    tk_timer_due_bound(w, job->due_key, job->shard, min);
}


/* ---- waiting ------------------------------------------------------------ */

/* ms until the earlier of the next due times, capped */
static int
mb_timers_wait_ms(mb_timers_t *tm)
{
    static const char *const  sets[] = {
        TK_KEY_DUE_ESCALATION, TK_KEY_DUE_REMINDER
    };
    redisReply  *reply;
    int64_t      next = -1, due, ms;
    size_t       i;

    for (i = 0; i < 2; i++) {
        reply = tk_redis_command(&tm->r, "ZRANGE %s 0 0 WITHSCORES",
                                 sets[i]);
        if (reply == NULL) {
            return -1;
        }
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
            due = strtoll(reply->element[1]->str, NULL, 10);
            if (next < 0 || due < next) {
                next = due;
            }
        }
        freeReplyObject(reply);
    }

    if (next < 0) {
        return MB_TIMERS_MAX_BLOCK;
    }

    ms = next * 1000 - mb_timers_now_ms(tm);
    if (ms < 1) {
        ms = 1;                         /* due now: BLOCK 0 is forever */
    }
    return ms > MB_TIMERS_MAX_BLOCK ? MB_TIMERS_MAX_BLOCK : (int) ms;
}


