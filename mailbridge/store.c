/*
 * store.c -- the commit point.  A batch of parsed mails becomes one
 * MULTI/EXEC: tickets, articles, attachments, the raw mail, customers,
 * dedup keys, index entries -- all or nothing.  WATCHed keys (the dedup
 * keys, the tickets read, the customer index) make a concurrent writer
 * force a retry instead of a lost update.  Only after EXEC succeeded does
 * the caller acknowledge (exit 0, IMAP move/expunge), so a crash at any
 * point either stored everything or nothing; a second delivery of the
 * same mail is then recognised as a duplicate.  What a batch writes
 * inside the MULTI is store_write.c.
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mb_batch.h"

#define MB_TX_ATTEMPTS  10

struct mb_store_s {
    const mb_config_t  *cfg;
    tk_redis_t          redis;
    int                 connected;
};

static int mb_store_connect(mb_store_t *st);
static void mb_store_drop(mb_store_t *st);
static int mb_store_attempt(mb_store_t *st, mb_msg_t **msgs, size_t n,
    mb_outcome_t *out);
static int mb_store_pipeline(mb_store_t *st, tk_cmds_t *c,
    redisReply ***replies);
static int mb_store_reserve(mb_batch_t *b, uint64_t *ticket,
    uint64_t *article, uint64_t *customer);


mb_store_t *
mb_store_new(const mb_config_t *cfg)
{
    mb_store_t  *st;

    st = calloc(1, sizeof(mb_store_t));
    if (st) {
        st->cfg = cfg;
    }
    return st;
}


void
mb_store_free(mb_store_t *st)
{
    if (st) {
        mb_store_drop(st);
        free(st);
    }
}


/* Connect and check the schema; -1 (logged) when Redis isn't usable. */
static int
mb_store_connect(mb_store_t *st)
{
    int  rc;

    if (st->connected) {
        return 0;
    }

    if (tk_redis_connect(&st->redis, st->cfg->redis, st->cfg->redis_timeout)
        != TK_REDIS_OK)
    {
        mb_err("%s", st->redis.err);
        tk_redis_close(&st->redis);
        return -1;
    }

    rc = tk_redis_schema_check(&st->redis);
    if (rc != TK_REDIS_OK) {
        if (rc == TK_REDIS_NOSCHEMA) {
            mb_err("Redis at %s is not initialised: run \"ticketctl init\"",
                   st->cfg->redis);
        } else {
            mb_err("Redis at %s: %s", st->cfg->redis, st->redis.err);
        }
        tk_redis_close(&st->redis);
        return -1;
    }

    st->connected = 1;
    return 0;
}


static void
mb_store_drop(mb_store_t *st)
{
    if (st->connected) {
        tk_redis_close(&st->redis);
        st->connected = 0;
    }
}


int
mb_store_ping(mb_store_t *st)
{
    redisReply  *r;

    if (mb_store_connect(st) != 0) {
        return -1;
    }

    r = tk_redis_command(&st->redis, "PING");
    if (r == NULL) {
        mb_store_drop(st);
        return -1;
    }

    freeReplyObject(r);
    return 0;
}


/* A small write of a role's own (a MULTI ... EXEC); 0 or -1. */
int
mb_store_run(mb_store_t *st, tk_cmds_t *c)
{
    redisReply  **replies = NULL;
    int           rc;

    if (mb_store_connect(st) != 0) {
        return -1;
    }

    rc = tk_redis_pipeline(&st->redis, c, &replies);

    if (rc != TK_REDIS_OK) {
        mb_store_drop(st);
        return -1;
    }

    rc = replies[c->n - 1]->type == REDIS_REPLY_ARRAY ? 0 : -1;
    tk_redis_replies_free(replies, c->n);

    return rc;
}


int
mb_store_batch(mb_store_t *st, mb_msg_t **msgs, size_t n, mb_outcome_t *out)
{
    size_t  i;
    int     attempt, rc = TK_REDIS_ERROR;

    for (attempt = 0; attempt < MB_TX_ATTEMPTS; attempt++) {

        if (mb_store_connect(st) != 0) {
            /* one reconnect: a Redis restart between mails is normal */
            if (attempt > 0) {
                break;
            }
            continue;
        }

        rc = mb_store_attempt(st, msgs, n, out);

        if (rc == TK_REDIS_OK) {
            return 0;
        }

        if (rc == TK_REDIS_CONFLICT) {
            mb_debug("WATCH conflict, attempt %d of %d", attempt + 1,
                     MB_TX_ATTEMPTS);
            usleep((useconds_t) (1000 * (attempt + 1) + rand() % 5000));
            continue;
        }

        if (rc == TK_REDIS_ERROR) {
            mb_err("Redis: %s", st->redis.err);
            mb_store_drop(st);
            if (attempt > 0) {
                break;
            }
            continue;
        }

        /* an error reply or our own failure: a bug, not a busy Redis */
        mb_err("store failed: %s", st->redis.err);
        mb_store_drop(st);
        break;
    }

    if (rc == TK_REDIS_CONFLICT) {
        mb_err("store failed: keys kept changing (%d attempts)",
               MB_TX_ATTEMPTS);
    }

    for (i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(mb_outcome_t));
        out[i].result = MB_RES_TEMPFAIL;
    }

    return -1;
}


/*
 * One try: lookups, ticket reads (WATCHed), id reservation, MULTI/EXEC.
 * Returns TK_REDIS_OK, _CONFLICT (EXEC was refused: try again), _ERROR
 * (connection) or _EREPLY (anything else; redis.err says what).
 */
static int
mb_store_attempt(mb_store_t *st, mb_msg_t **msgs, size_t n,
    mb_outcome_t *out)
{
    mb_batch_t    b;
    tk_cmds_t     c;
    redisReply  **r = NULL, *exec;
    uint64_t      ticket, article, customer;
    size_t        i, k, nr;
    int           rc;
    mb_plan_t    *p;

    memset(&b, 0, sizeof(b));
    b.cfg = st->cfg;
    b.redis = &st->redis;
    b.n = n;
    tk_arena_init(&b.arena);

    b.plan = tk_arena_alloc(&b.arena, n * sizeof(mb_plan_t));
    b.tickets = tk_arena_alloc(&b.arena, 2 * n * sizeof(mb_bticket_t));
    if (b.plan == NULL || b.tickets == NULL) {
        tk_redis_set_error(&st->redis, "out of memory");
        rc = TK_REDIS_EREPLY;
        goto done;
    }

    memset(b.plan, 0, n * sizeof(mb_plan_t));
    for (i = 0; i < n; i++) {
        b.plan[i].m = msgs[i];
    }

    /* 1: dedup keys, Message-ID lookups, customers */
    tk_cmds_init(&c, tk_arena_alloc, &b.arena);
    mb_thread_reads1(&b, &c);
    rc = mb_store_pipeline(st, &c, &r);
    if (rc != TK_REDIS_OK) {
        goto done;
    }
    mb_thread_resolve1(&b, r);
    tk_redis_replies_free(r, c.n);
    r = NULL;

    /* 2: the tickets mails thread into, and the participant checks;
     * again when one of them was merged into another (a few hops) */
    for (k = 0; ; k++) {
        tk_cmds_init(&c, tk_arena_alloc, &b.arena);
        mb_thread_reads2(&b, &c);
        nr = c.n;
        if (nr) {
            rc = mb_store_pipeline(st, &c, &r);
            if (rc != TK_REDIS_OK) {
                goto done;
            }
        }
        rc = mb_thread_resolve2(&b, r, nr);
        tk_redis_replies_free(r, nr);
        r = NULL;
        if (rc != 0) {
            tk_redis_set_error(&st->redis, "out of memory");
            rc = TK_REDIS_EREPLY;
            goto done;
        }

        if (k == 3 || mb_thread_follow_merged(&b) == 0) {
            break;
        }
    }

    /* 3: numbers for what is new */
    rc = mb_store_reserve(&b, &ticket, &article, &customer);
    if (rc != TK_REDIS_OK) {
        goto done;
    }

    /* 4: everything in one transaction */
    tk_cmds_init(&c, tk_arena_alloc, &b.arena);
    tk_cmds_multi(&c);
    mb_store_writes(&b, &c, ticket, article, customer);
    tk_cmds_exec(&c);

    if (c.failed) {
        tk_redis_set_error(&st->redis, "could not build the commands "
                           "(out of memory or a key too long)");
        rc = TK_REDIS_EREPLY;
        goto done;
    }

    rc = mb_store_pipeline(st, &c, &r);
    if (rc != TK_REDIS_OK) {
        goto done;
    }

    exec = r[c.n - 1];

    if (exec->type == REDIS_REPLY_NIL) {
        rc = TK_REDIS_CONFLICT;
        goto done;
    }

    if (exec->type != REDIS_REPLY_ARRAY) {
        /* EXECABORT: a command was refused while queueing, nothing done */
        for (i = 1; i + 1 < c.n; i++) {
            if (r[i]->type == REDIS_REPLY_ERROR) {
                tk_redis_set_error(&st->redis, "command %zu: %s", i,
                                   r[i]->str);
                break;
            }
        }
        if (i + 1 >= c.n) {
            tk_redis_set_error(&st->redis, "EXEC: %s",
                               exec->str ? exec->str : "?");
        }
        rc = TK_REDIS_EREPLY;
        goto done;
    }

    /* committed; a failed command inside (FT.ADD without an index) left
     * the rest in place -- worth a loud log line, not a retry */
    for (k = 0; k < exec->elements; k++) {
        if (exec->element[k]->type == REDIS_REPLY_ERROR) {
            mb_err("inside EXEC, command %zu: %s", k + 1,
                   exec->element[k]->str);
        }
    }

    for (i = 0; i < n; i++) {
        p = &b.plan[i];
        memset(&out[i], 0, sizeof(mb_outcome_t));

        switch (p->action) {
        case MB_ACT_QUARANTINE:
            out[i].result = MB_RES_QUARANTINED;
            break;
        case MB_ACT_DUP:
            out[i].result = MB_RES_DUPLICATE;
            if (p->follows >= 0) {
                p->number = b.plan[p->follows].number;
                p->article = b.plan[p->follows].article;
            }
            break;
        default:
            out[i].result = MB_RES_STORED;
            out[i].created = p->action == MB_ACT_NEW;
            out[i].reopened = p->reopened;
        }

        out[i].ticket = p->number;
        out[i].article = p->article;
    }

    rc = TK_REDIS_OK;

done:
    if (r) {
        tk_redis_replies_free(r, c.n);
    }

    if (rc == TK_REDIS_EREPLY && st->connected) {
        /* don't leave WATCHes on a connection we keep */
        redisReply *u = tk_redis_command(&st->redis, "UNWATCH");
        if (u) {
            freeReplyObject(u);
        }
    }

    tk_arena_reset(&b.arena);
    return rc;
}


/*
 * Pipelined.  Outside MULTI an error reply fails the batch; inside, the
 * queueing replies are the caller's (EXECABORT handling).
 */
static int
mb_store_pipeline(mb_store_t *st, tk_cmds_t *c, redisReply ***replies)
{
    tk_str_t  first;
    size_t    i;
    int             rc;

    if (c->failed) {
        tk_redis_set_error(&st->redis, "could not build the commands");
        return TK_REDIS_EREPLY;
    }

    rc = tk_redis_pipeline(&st->redis, c, replies);
    if (rc != TK_REDIS_OK) {
        return rc;
    }

    first = tk_cmds_get(c, 0);
    if (memmem(first.data, first.len, "MULTI", 5)) {
        return TK_REDIS_OK;
    }

    for (i = 0; i < c->n; i++) {
        if ((*replies)[i]->type == REDIS_REPLY_ERROR) {
            tk_redis_set_error(&st->redis, "command %zu: %s", i,
                               (*replies)[i]->str);
            tk_redis_replies_free(*replies, c->n);
            *replies = NULL;
            return TK_REDIS_EREPLY;
        }
    }

    return TK_REDIS_OK;
}


/*
 * Ticket numbers, article ids and customer ids are INCRBY'd before the
 * transaction (the keys need them); a retry after a conflict leaves a gap
 * in the numbers, never a duplicate.
 */
static int
mb_store_reserve(mb_batch_t *b, uint64_t *ticket, uint64_t *article,
    uint64_t *customer)
{
    tk_cmds_t     c;
    redisReply  **r = NULL;
    mb_plan_t    *p;
    size_t        i, j, nt = 0, na = 0, nc = 0, k;
    int           rc;

    for (i = 0; i < b->n; i++) {
        p = &b->plan[i];
        p->new_customer = 0;

        if (p->action == MB_ACT_NEW) {
            nt++;
            if (p->customer == 0 && p->m->from_addr.len) {
                /* the same new sender twice in a batch: one customer */
                for (j = 0; j < i; j++) {
                    if (b->plan[j].new_customer
                        && tk_str_eq(&b->plan[j].m->from_addr,
                                     &p->m->from_addr))
                    {
                        break;
                    }
                }
                if (j == i) {
                    p->new_customer = 1;
                    nc++;
                }
            }
        }

        if (p->action == MB_ACT_NEW || p->action == MB_ACT_FOLLOW) {
            na++;
        }
    }

    *ticket = *article = *customer = 0;
    if (nt + na + nc == 0) {
        return TK_REDIS_OK;
    }

    tk_cmds_init(&c, tk_arena_alloc, &b->arena);
    if (nt) {
        tk_cmds_add(&c, "INCRBY " TK_KEY_SEQ_TICKET " %llu",
                    (unsigned long long) nt);
    }
    if (na) {
        tk_cmds_add(&c, "INCRBY " TK_KEY_SEQ_ARTICLE " %llu",
                    (unsigned long long) na);
    }
    if (nc) {
        tk_cmds_add(&c, "INCRBY " TK_KEY_SEQ_CUSTOMER " %llu",
                    (unsigned long long) nc);
    }

    rc = tk_redis_pipeline(b->redis, &c, &r);
    if (rc != TK_REDIS_OK) {
        return rc;
    }

    for (k = 0; k < c.n; k++) {
        if (r[k]->type != REDIS_REPLY_INTEGER) {
            tk_redis_set_error(b->redis, "INCRBY: %s",
                               r[k]->str ? r[k]->str : "not a number");
            tk_redis_replies_free(r, c.n);
            return TK_REDIS_EREPLY;
        }
    }

    k = 0;
    if (nt) {
        *ticket = (uint64_t) r[k++]->integer - nt + 1;
    }
    if (na) {
        *article = (uint64_t) r[k++]->integer - na + 1;
    }
    if (nc) {
        *customer = (uint64_t) r[k++]->integer - nc + 1;
    }

    tk_redis_replies_free(r, c.n);
    return TK_REDIS_OK;
}
