/*
 * store.c -- the commit point.  A batch of parsed mails becomes one
 * MULTI/EXEC: tickets, articles, attachments, the raw mail, customers,
 * dedup keys, index entries -- all or nothing.  WATCHed keys (the dedup
 * keys, the tickets read, the customer index) make a concurrent writer
 * force a retry instead of a lost update.  Only after EXEC succeeded does
 * the caller acknowledge (exit 0, IMAP move/expunge), so a crash at any
 * point either stored everything or nothing; a second delivery of the
 * same mail is then recognised as a duplicate.
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

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
static void mb_store_writes(mb_batch_t *b, tk_cmds_t *c, uint64_t ticket,
    uint64_t article, uint64_t customer);
static void mb_store_new_ticket(mb_batch_t *b, tk_cmds_t *c, mb_plan_t *p,
    int64_t time, uint64_t *customer);
static void mb_store_follow_up(mb_batch_t *b, tk_cmds_t *c, mb_plan_t *p,
    int64_t time);
static void mb_store_article(mb_batch_t *b, tk_cmds_t *c, mb_plan_t *p,
    int64_t time);
static void mb_store_raw(mb_batch_t *b, tk_cmds_t *c, const char *key,
    const mb_msg_t *m);
static int64_t mb_msg_time(const mb_msg_t *m);
static int mb_has_word(const char *list, const char *word);


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

    /* 2: the tickets mails thread into, and the participant checks */
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


static void
mb_store_writes(mb_batch_t *b, tk_cmds_t *c, uint64_t ticket,
    uint64_t article, uint64_t customer)
{
    mb_plan_t  *p;
    size_t      i;
    int64_t     time;

    for (i = 0; i < b->n; i++) {
        p = &b->plan[i];
        time = mb_msg_time(p->m);

        switch (p->action) {

        case MB_ACT_QUARANTINE:
            mb_quarantine_write(c, p->m, time);
            continue;

        case MB_ACT_DUP:
            continue;

        case MB_ACT_NEW:
            p->number = ticket++;
            p->article = article++;
            mb_store_new_ticket(b, c, p, time, &customer);
            break;

        case MB_ACT_FOLLOW:
            p->number = p->follows >= 0 ? b->plan[p->follows].number
                                        : p->ticket;
            p->article = article++;
            mb_store_follow_up(b, c, p, time);
            break;
        }

        mb_store_article(b, c, p, time);
    }
}


/*
 * A new ticket: group from the mailbox/recipient, state new, priority
 * normal, the sender as customer (found by address or created), the
 * subject as title.  Auto-generated mail starts a ticket flagged "auto".
 */
static void
mb_store_new_ticket(mb_batch_t *b, tk_cmds_t *c, mb_plan_t *p, int64_t time,
    uint64_t *customer)
{
    static const tk_str_t  no_subject = tk_string("(no subject)");
    static const tk_str_t  autoflag = tk_string(TK_FLAG_AUTO);
    mb_msg_t              *m = p->m;
    mb_bticket_t          *bt;
    tk_ticket_t            t;
    const char            *group;
    size_t                 j;

    if (p->new_customer) {
        p->customer = (*customer)++;
        tk_customer_write(c, p->customer, &m->from_name, &m->from_addr);

    } else if (p->customer == 0 && m->from_addr.len) {
        for (j = 0; j < (size_t) (p - b->plan); j++) {
            if (b->plan[j].new_customer
                && tk_str_eq(&b->plan[j].m->from_addr, &m->from_addr))
            {
                p->customer = b->plan[j].customer;
                break;
            }
        }
    }

    group = mb_group_for(b->cfg, m);
    if (group == NULL) {
        group = "inbox";        /* no map, no default: still stored */
    }

    memset(&t, 0, sizeof(t));
    t.number = p->number;
    t.title = m->subject.len ? m->subject : no_subject;
    t.group.data = (unsigned char *) mb_batch_strdup(b, group, strlen(group));
    t.group.len = strlen(group);
    t.customer = p->customer;
    t.customer_name = m->from_name;
    t.customer_email = m->from_addr;
    t.state = TK_STATE_NEW;
    t.priority = TK_PRIO_NORMAL;
    t.created = time;
    t.updated = time;
    t.articles = 0;
    if (m->flags & MB_F_AUTO) {
        t.flags = autoflag;
    }

    /* flagged auto and unassigned: tk_ticket_create() indexes it under
     * the owner "!" of the "newsletters / automatic" overview */
    tk_ticket_create(c, &t, NULL);

    bt = &b->tickets[b->ntickets++];
    memset(bt, 0, sizeof(*bt));
    bt->number = t.number;
    bt->orig = t;
    bt->cur = t;
    bt->exists = 1;
}


/*
 * A follow-up moves "updated"; a person's mail (not an auto-reply or a
 * bounce) to a ticket that waits, is deferred or closed reopens it
 * ("open", owner kept), so nobody misses the answer.
 */
static void
mb_store_follow_up(mb_batch_t *b, tk_cmds_t *c, mb_plan_t *p, int64_t time)
{
    mb_bticket_t  *bt;
    tk_ticket_t    t;

    bt = mb_batch_ticket(b, p->number);
    if (bt == NULL) {
        c->failed = 1;          /* cannot happen: resolve2 checked */
        return;
    }

    t = bt->cur;
    if (time > t.updated) {
        t.updated = time;
    }

    if (!(p->m->flags & MB_F_AUTO) && t.state >= TK_STATE_WAITING
        && t.state <= TK_STATE_CLOSED)
    {
        t.state = TK_STATE_OPEN;
        t.pending_until = 0;
        p->reopened = 1;
    }

    tk_ticket_update(c, &bt->cur, &t, NULL, time);
    if (time > t.updated) {
        t.updated = time;
    }
    bt->cur = t;
}


/*
 * The raw mail, gzip-compressed (SCHEMA.md): mail text shrinks to about
 * a third, and the raw copy was the largest single part of an imported
 * mail in Redis.  gzip rather than raw deflate so an admin can read it
 * with "redis-cli --raw GET key | gunzip".  Level 6 (zlib's default):
 * ~0.1 ms for 5 KB, small next to parsing.  A mail that does not shrink
 * (already compressed attachments only), or a zlib failure, is stored
 * as it is -- the download tells the two apart by the gzip magic.
 */
static void
mb_store_raw(mb_batch_t *b, tk_cmds_t *c, const char *key, const mb_msg_t *m)
{
    z_stream        z;
    uLong           bound;
    unsigned char  *out;
    int             rc;

    memset(&z, 0, sizeof(z));

    if (m->raw_len == 0 || m->raw_len > UINT32_MAX
        || deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
           != Z_OK)
    {
        tk_cmds_add(c, "SET %s %b", key, m->raw, m->raw_len);
        return;
    }

    bound = deflateBound(&z, (uLong) m->raw_len);
    out = tk_arena_alloc(&b->arena, bound);

    if (out == NULL) {
        deflateEnd(&z);
        c->failed = 1;
        return;
    }

    z.next_in = (Bytef *) m->raw;
    z.avail_in = (uInt) m->raw_len;
    z.next_out = out;
    z.avail_out = (uInt) bound;

    rc = deflate(&z, Z_FINISH);
    deflateEnd(&z);

    if (rc != Z_STREAM_END || z.total_out >= m->raw_len) {
        tk_cmds_add(c, "SET %s %b", key, m->raw, m->raw_len);
        return;
    }

    tk_cmds_add(c, "SET %s %b", key, out, (size_t) z.total_out);
}


/* The article, its attachments, the raw mail, the dedup key, a bounce. */
static void
mb_store_article(mb_batch_t *b, tk_cmds_t *c, mb_plan_t *p, int64_t time)
{
    mb_msg_t      *m = p->m;
    mb_bticket_t  *bt;
    tk_article_t   a;
    char           key[TK_KEY_MAX], flags[256], *names, *q;
    size_t         len, i;

    bt = mb_batch_ticket(b, p->number);
    if (bt == NULL) {
        c->failed = 1;
        return;
    }

    len = 1;
    for (i = 0; i < m->natts; i++) {
        len += m->atts[i].name.len + 1;
    }
    names = tk_arena_alloc(&b->arena, len);
    if (names == NULL) {
        c->failed = 1;
        return;
    }
    q = names;
    for (i = 0; i < m->natts; i++) {
        if (i) {
            *q++ = ' ';
        }
        memcpy(q, m->atts[i].name.data, m->atts[i].name.len);
        q += m->atts[i].name.len;
    }
    *q = '\0';

    memset(&a, 0, sizeof(a));
    a.id = p->article;
    a.ticket = p->number;
    a.kind = TK_ART_IN;
    a.from = m->from;
    a.to = m->to;
    a.cc = m->cc;
    a.reply_to = m->reply_to;
    a.subject = m->subject;
    a.message_id = m->message_id;
    a.in_reply_to = m->in_reply_to;
    a.body = m->body;
    a.body_html = m->body_html;
    a.time = time;
    a.attachments = m->natts;
    a.attachment_names.data = (unsigned char *) names;
    a.attachment_names.len = (size_t) (q - names);
    a.size = m->size;
    a.flags.len = mb_flags_format(m->flags, flags, sizeof(flags));
    a.flags.data = (unsigned char *) flags;

    tk_article_write(c, &a, &bt->cur.group);
    bt->cur.articles++;

    for (i = 0; i < m->natts; i++) {
        mb_att_t *att = &m->atts[i];

        snprintf(key, sizeof(key), TK_FMT_ATTACHMENT,
                 (unsigned long long) p->number,
                 (unsigned long long) p->article, (unsigned) (i + 1));
        tk_cmds_add(c, "HSET %s " TK_F_NAME " %S " TK_F_CONTENT_TYPE " %S "
                    TK_F_SIZE " %llu " TK_F_CONTENT_ID " %S "
                    TK_F_DISPOSITION " %S " TK_F_DATA " %S",
                    key, &att->name, &att->content_type,
                    (unsigned long long) att->data.len, &att->content_id,
                    &att->disposition, &att->data);
    }

    snprintf(key, sizeof(key), TK_FMT_RAW, (unsigned long long) p->number,
             (unsigned long long) p->article);
    mb_store_raw(b, c, key, m);

    if (m->message_id.len == 0) {
        /* tk_article_write indexed nothing: remember the bytes instead */
        tk_cmds_add(c, "SET %s %llu:%llu", p->dedup_key,
                    (unsigned long long) p->number,
                    (unsigned long long) p->article);
    }

    if (p->bounced_article && p->bounced_flags
        && !mb_has_word(p->bounced_flags, "bounced"))
    {
        tk_key_article(key, sizeof(key), p->bounced_ticket,
                       p->bounced_article);
        tk_cmds_add(c, "HSET %s " TK_F_FLAGS " %s%sbounced", key,
                    p->bounced_flags, *p->bounced_flags ? "," : "");
    }
}


/* Received now -- or, for an archive import, when it was written. */
static int64_t
mb_msg_time(const mb_msg_t *m)
{
    int64_t  now = m->received ? m->received : (int64_t) time(NULL);

    if (m->use_date && m->date > 315532800 && m->date < now + 86400) {
        return m->date;
    }

    return now;
}


static int
mb_has_word(const char *list, const char *word)
{
    size_t       n = strlen(word);
    const char  *p = list;

    while ((p = strstr(p, word)) != NULL) {
        if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ',')) {
            return 1;
        }
        p += n;
    }

    return 0;
}
