/*
 * thread.c -- which ticket does a mail belong to?  In this order:
 *   1. stored before (same Message-ID, or same raw bytes when it has
 *      none): a duplicate, acknowledged but not stored again;
 *   2. a bounce: the ticket of the mail it reports on;
 *   3. In-Reply-To / References naming a mail we know (ours or theirs);
 *   4. a subject tag "[Ticket#123]" -- only when the sender already takes
 *      part in ticket 123 (its customer, or someone we wrote to): a tag
 *      is easy to guess, and a stranger must not read or write into
 *      someone else's case;
 *   5. otherwise a new ticket.
 * Two pipelined reads: first the Message-ID/dedup/customer lookups, then
 * the tickets found (WATCHed, so the write commits only if none changed).
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mb_batch.h"

static int mb_reply_pair(redisReply *r, uint64_t *ticket, uint64_t *article);
static int mb_batch_msgid_of(mb_batch_t *b, size_t i, const tk_str_t *id);
static void mb_add_ticket_read(mb_batch_t *b, tk_cmds_t *c, uint64_t n);


char *
mb_batch_strdup(mb_batch_t *b, const char *p, size_t n)
{
    char  *s;

    s = tk_arena_alloc(&b->arena, n + 1);
    if (s == NULL) {
        return NULL;
    }
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}


void
mb_thread_reads1(mb_batch_t *b, tk_cmds_t *c)
{
    mb_plan_t  *p;
    mb_msg_t   *m;
    char        key[TK_KEY_MAX];
    size_t      i, k, len;

    /* two mails creating the same customer at once must not both win */
    tk_cmds_add(c, "WATCH " TK_KEY_CUSTOMER_BY_EMAIL);

    for (i = 0; i < b->n; i++) {
        p = &b->plan[i];
        m = p->m;
        p->r_customer = (size_t) -1;
        p->r_member = (size_t) -1;
        p->r_bounced = (size_t) -1;
        p->follows = -1;

        if (m->reason) {
            p->action = MB_ACT_QUARANTINE;
            continue;
        }

        if (m->message_id.len) {
            len = tk_key_msgid(key, sizeof(key), &m->message_id);
        } else {
            if (m->raw_hash[0] == '\0') {
                mb_msg_hash(m);
            }
            len = (size_t) snprintf(key, sizeof(key), TK_FMT_RAWHASH,
                                    m->raw_hash);
        }

        p->dedup_key = mb_batch_strdup(b, key, len);
        if (p->dedup_key == NULL || len == 0) {
            c->failed = 1;
            return;
        }

        tk_cmds_add(c, "WATCH %s", p->dedup_key);
        p->r_dedup = c->n;
        tk_cmds_add(c, "GET %s", p->dedup_key);

        p->r_refs = c->n;
        p->n_refs = m->nrefs < MB_MAX_REFS ? m->nrefs : MB_MAX_REFS;
        for (k = 0; k < p->n_refs; k++) {
            len = tk_key_msgid(key, sizeof(key), &m->refs[k]);
            tk_cmds_add(c, "GET %b", key, len);
        }

        p->r_dsn = c->n;
        p->n_dsn = m->ndsn_refs < MB_MAX_REFS ? m->ndsn_refs : MB_MAX_REFS;
        for (k = 0; k < p->n_dsn; k++) {
            len = tk_key_msgid(key, sizeof(key), &m->dsn_refs[k]);
            tk_cmds_add(c, "GET %b", key, len);
        }

        if (m->from_addr.len) {
            p->r_customer = c->n;
            tk_cmds_add(c, "HGET " TK_KEY_CUSTOMER_BY_EMAIL " %S",
                        &m->from_addr);
        }
    }
}


void
mb_thread_resolve1(mb_batch_t *b, redisReply **r)
{
    mb_plan_t  *p;
    mb_msg_t   *m;
    size_t      i, j, k;
    long long   id;
    tk_str_t    s;

    for (i = 0; i < b->n; i++) {
        p = &b->plan[i];
        m = p->m;

        if (p->action == MB_ACT_QUARANTINE) {
            continue;
        }

        p->action = MB_ACT_NEW;
        p->ticket = 0;
        p->tag_candidate = 0;

        if (p->r_customer != (size_t) -1
            && r[p->r_customer]->type == REDIS_REPLY_STRING)
        {
            s.data = (unsigned char *) r[p->r_customer]->str;
            s.len = r[p->r_customer]->len;
            id = tk_str_atoll(&s);
            p->customer = id > 0 ? (uint64_t) id : 0;
        }

        /* 1. stored before, or earlier in this batch */
        if (r[p->r_dedup]->type == REDIS_REPLY_STRING) {
            p->action = MB_ACT_DUP;
            mb_reply_pair(r[p->r_dedup], &p->number, &p->article);
            continue;
        }

        for (j = 0; j < i; j++) {
            if (b->plan[j].dedup_key
                && b->plan[j].action != MB_ACT_DUP
                && strcmp(b->plan[j].dedup_key, p->dedup_key) == 0)
            {
                p->action = MB_ACT_DUP;
                p->follows = (int) j;
                break;
            }
        }

        if (p->action == MB_ACT_DUP) {
            continue;
        }

        /* 2. a bounce: the ticket of the mail that bounced */
        if (m->flags & MB_F_BOUNCE) {
            for (k = 0; k < p->n_dsn + p->n_refs; k++) {
                redisReply *rr = k < p->n_dsn ? r[p->r_dsn + k]
                                              : r[p->r_refs + k - p->n_dsn];
                if (mb_reply_pair(rr, &p->bounced_ticket,
                                  &p->bounced_article) == 0)
                {
                    p->action = MB_ACT_FOLLOW;
                    p->ticket = p->bounced_ticket;
                    break;
                }
            }
            if (p->action == MB_ACT_FOLLOW) {
                continue;
            }
        }

        /* 3. references, best candidate first; also mails of this batch */
        for (k = 0; k < p->n_refs && p->action == MB_ACT_NEW; k++) {
            uint64_t  t, a;

            if (mb_reply_pair(r[p->r_refs + k], &t, &a) == 0) {
                p->action = MB_ACT_FOLLOW;
                p->ticket = t;
                break;
            }

            for (j = i; j > 0; j--) {
                if (mb_batch_msgid_of(b, j - 1, &m->refs[k])) {
                    p->action = MB_ACT_FOLLOW;
                    p->follows = (int) (j - 1);
                    break;
                }
            }
        }

        if (p->action == MB_ACT_FOLLOW) {
            continue;
        }

        /* 4. the subject tag, checked against the participants later */
        p->ticket = mb_subject_tag(&m->subject, b->cfg->subject_tag);
        if (p->ticket) {
            p->action = MB_ACT_FOLLOW;
            p->tag_candidate = 1;
        }
    }
}


void
mb_thread_reads2(mb_batch_t *b, tk_cmds_t *c)
{
    mb_plan_t  *p;
    char        key[TK_KEY_MAX];
    size_t      i;

    b->ntickets = 0;

    for (i = 0; i < b->n; i++) {
        p = &b->plan[i];

        if (p->action != MB_ACT_FOLLOW || p->ticket == 0) {
            continue;
        }

        mb_add_ticket_read(b, c, p->ticket);

        if (p->tag_candidate && p->m->from_addr.len) {
            tk_key_participants(key, sizeof(key), p->ticket);
            p->r_member = c->n;
            tk_cmds_add(c, "SISMEMBER %s %S", key, &p->m->from_addr);
        }

        if (p->bounced_article) {
            tk_key_article(key, sizeof(key), p->bounced_ticket,
                           p->bounced_article);
            p->r_bounced = c->n;
            tk_cmds_add(c, "HGET %s " TK_F_FLAGS, key);
        }
    }
}


/* WATCH + HGETALL a ticket once per batch. */
static void
mb_add_ticket_read(mb_batch_t *b, tk_cmds_t *c, uint64_t n)
{
    mb_bticket_t  *t;
    char           key[TK_KEY_MAX];

    if (mb_batch_ticket(b, n)) {
        return;
    }

    t = &b->tickets[b->ntickets++];
    memset(t, 0, sizeof(*t));
    t->number = n;

    tk_key_ticket(key, sizeof(key), n);
    tk_cmds_add(c, "WATCH %s", key);
    t->r_read = c->n;
    tk_cmds_add(c, "HGETALL %s", key);
}


int
mb_thread_resolve2(mb_batch_t *b, redisReply **r, size_t nr)
{
    mb_bticket_t  *t;
    mb_plan_t     *p;
    redisReply    *h;
    tk_str_t      *pairs;
    size_t         i, k;

    for (i = 0; i < b->ntickets; i++) {
        t = &b->tickets[i];
        h = r[t->r_read];

        if (h->type != REDIS_REPLY_ARRAY || h->elements == 0
            || h->elements % 2)
        {
            continue;           /* gone (deleted): mails start anew */
        }

        pairs = tk_arena_alloc(&b->arena, h->elements * sizeof(tk_str_t));
        if (pairs == NULL) {
            return -1;
        }

        for (k = 0; k < h->elements; k++) {
            pairs[k].len = h->element[k]->len;
            pairs[k].data = (unsigned char *) mb_batch_strdup(b,
                                h->element[k]->str ? h->element[k]->str
                                                   : "",
                                h->element[k]->len);
            if (pairs[k].data == NULL) {
                return -1;
            }
        }

        if (tk_ticket_parse(&t->orig, pairs, h->elements / 2) == 0) {
            t->exists = 1;
            t->cur = t->orig;
        }
    }

    for (i = 0; i < b->n; i++) {
        p = &b->plan[i];

        if (p->action != MB_ACT_FOLLOW || p->ticket == 0) {
            continue;
        }

        t = mb_batch_ticket(b, p->ticket);

        if (t == NULL || !t->exists) {
            p->action = MB_ACT_NEW;
            p->ticket = 0;
            p->bounced_article = 0;
            continue;
        }

        if (p->tag_candidate) {
            if (p->r_member == (size_t) -1 || p->r_member >= nr
                || r[p->r_member]->type != REDIS_REPLY_INTEGER
                || r[p->r_member]->integer != 1)
            {
                mb_debug("subject tag [%s%llu] from %s: not a participant, "
                         "new ticket", b->cfg->subject_tag,
                         (unsigned long long) p->ticket,
                         p->m->from_addr.len ? (char *) p->m->from_addr.data
                                             : "(no sender)");
                p->action = MB_ACT_NEW;
                p->ticket = 0;
            }
        }

        if (p->r_bounced != (size_t) -1 && p->r_bounced < nr) {
            h = r[p->r_bounced];
            p->bounced_flags = h->type == REDIS_REPLY_STRING
                               ? mb_batch_strdup(b, h->str, h->len)
                               : mb_batch_strdup(b, "", 0);
        }
    }

    return 0;
}


/*
 * A merged ticket keeps its Message-IDs' old entries in mail clients and
 * its "[Ticket#N]" in subjects: whatever threads into it goes on to the
 * ticket it was merged into (its articles, moved, keep their ids).  The
 * participant check of a subject tag was passed on the merged ticket,
 * whose participants the target took over.
 */
size_t
mb_thread_follow_merged(mb_batch_t *b)
{
    size_t         i, n;
    uint64_t       to;
    mb_plan_t     *p;
    mb_bticket_t  *t;

    n = 0;

    for (i = 0; i < b->n; i++) {
        p = &b->plan[i];

        if (p->action != MB_ACT_FOLLOW || p->ticket == 0) {
            continue;
        }

        t = mb_batch_ticket(b, p->ticket);
        if (t == NULL || !t->exists || t->orig.merged_into == 0
            || t->orig.merged_into == p->ticket)
        {
            continue;
        }

        to = t->orig.merged_into;
        mb_debug("ticket %llu was merged into %llu: the mail goes there",
                 (unsigned long long) p->ticket, (unsigned long long) to);

        if (p->bounced_ticket == p->ticket) {
            p->bounced_ticket = to;
        }

        p->ticket = to;
        p->tag_candidate = 0;
        n++;
    }

    return n;
}


mb_bticket_t *
mb_batch_ticket(mb_batch_t *b, uint64_t number)
{
    size_t  i;

    for (i = 0; i < b->ntickets; i++) {
        if (b->tickets[i].number == number) {
            return &b->tickets[i];
        }
    }

    return NULL;
}


/* "[Ticket#123]" anywhere in the subject (any case): 123, else 0. */
uint64_t
mb_subject_tag(const tk_str_t *subject, const char *tag)
{
    const unsigned char  *p, *end, *d;
    size_t                tlen;
    uint64_t              n;

    tlen = strlen(tag);
    if (tlen == 0 || subject->len < tlen + 3) {
        return 0;
    }

    end = subject->data + subject->len;

    for (p = subject->data; p + tlen + 2 < end; p++) {
        if (*p != '[' || strncasecmp((const char *) p + 1, tag, tlen) != 0) {
            continue;
        }

        n = 0;
        for (d = p + 1 + tlen; d < end && isdigit(*d) && n < 1000000000000ULL;
             d++)
        {
            n = n * 10 + (uint64_t) (*d - '0');
        }

        if (d > p + 1 + tlen && d < end && *d == ']' && n > 0) {
            return n;
        }
    }

    return 0;
}


/* "N:A" as stored under tk:mid: and tk:raw:. */
static int
mb_reply_pair(redisReply *r, uint64_t *ticket, uint64_t *article)
{
    unsigned long long  t, a;
    char                buf[64];

    if (r == NULL || r->type != REDIS_REPLY_STRING || r->len >= sizeof(buf)) {
        return -1;
    }

    memcpy(buf, r->str, r->len);
    buf[r->len] = '\0';

    if (sscanf(buf, "%llu:%llu", &t, &a) != 2 || t == 0) {
        return -1;
    }

    *ticket = t;
    *article = a;
    return 0;
}


/* Mail j of the batch (to be stored) has this Message-ID. */
static int
mb_batch_msgid_of(mb_batch_t *b, size_t j, const tk_str_t *id)
{
    mb_plan_t  *p = &b->plan[j];

    return (p->action == MB_ACT_NEW || p->action == MB_ACT_FOLLOW)
           && tk_str_eq(&p->m->message_id, id);
}
