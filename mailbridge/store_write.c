/*
 * store_write.c -- what one batch of mails writes inside store.c's
 * MULTI: a new ticket or a follow-up, the article with its attachments,
 * the raw mail (gzip'd), customers and dedup keys.  Ids were reserved
 * before (store.c); nothing here talks to Redis itself.
 */

#include <string.h>
#include <time.h>

#include <zlib.h>

#include "mb_batch.h"


static void mb_store_new_ticket(mb_batch_t *b, tk_cmds_t *c, mb_plan_t *p,
    int64_t time, uint64_t *customer);
static void mb_store_follow_up(mb_batch_t *b, tk_cmds_t *c, mb_plan_t *p,
    int64_t time);
static void mb_store_article(mb_batch_t *b, tk_cmds_t *c, mb_plan_t *p,
    int64_t time);
static void mb_store_raw(mb_batch_t *b, tk_cmds_t *c, const char *key,
    const mb_msg_t *m);
static void mb_store_bounced(mb_batch_t *b, tk_cmds_t *c, mb_plan_t *p);
static int64_t mb_msg_time(const mb_msg_t *m);
static int mb_has_word(const char *list, const char *word);


/*
 * The change feed (tk_feed.h) names the sender of each mail as who made
 * its change: that is who a trigger or notification reacts to.
 */
void
mb_store_writes(mb_batch_t *b, tk_cmds_t *c, uint64_t ticket,
    uint64_t article, uint64_t customer)
{
    static const tk_str_t  mailbridge = tk_string("mailbridge");

    mb_plan_t  *p;
    size_t      i;
    int64_t     time;

    for (i = 0; i < b->n; i++) {
        p = &b->plan[i];
        time = mb_msg_time(p->m);

        tk_cmds_actor(c, p->m->from_addr.len ? &p->m->from_addr : &mailbridge,
                      TK_SRC_MAIL);

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
    t.rev = 1;                  /* what the create's HINCRBY makes it */

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
    if (t.rev) {
        t.rev++;                /* a second mail's feed entry needs it */
    }
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
    a.list_id = m->list_id;
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
    if (bt->cur.rev) {
        bt->cur.rev++;
    }

    if (m->pgp_sig.len) {
        /* the signature check of crypto_in.c, next to the flags */
        tk_key_article(key, sizeof(key), p->number, p->article);
        tk_cmds_add(c, "HSET %s " TK_F_PGP_SIG " %S", key, &m->pgp_sig);
    }

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

    mb_store_bounced(b, c, p);
}


/*
 * A bounce marks the outbound article it reports "bounced", through the
 * write path: the ticket's rev moves (the cached page shows the flag)
 * and the feed tells "delivery came back" to whoever listens.
 */
static void
mb_store_bounced(mb_batch_t *b, tk_cmds_t *c, mb_plan_t *p)
{
    static const tk_str_t  mailbridge = tk_string("mailbridge");

    mb_bticket_t  *bt;
    tk_str_t       flags;
    size_t         len;
    char          *q;

    if (p->bounced_article == 0 || p->bounced_flags == NULL
        || mb_has_word(p->bounced_flags, "bounced"))
    {
        return;
    }

    len = strlen(p->bounced_flags);
    q = tk_arena_alloc(&b->arena, len + sizeof(",bounced"));
    if (q == NULL) {
        c->failed = 1;
        return;
    }

    flags.data = (unsigned char *) q;
    flags.len = (size_t) snprintf(q, len + sizeof(",bounced"), "%s%sbounced",
                                  p->bounced_flags, len ? "," : "");

    tk_cmds_actor(c, &mailbridge, TK_SRC_MAIL);
    tk_article_flag(c, p->bounced_ticket, p->bounced_article, &flags,
                    "bounced");

    bt = mb_batch_ticket(b, p->bounced_ticket);
    if (bt && bt->cur.rev) {
        bt->cur.rev++;
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
