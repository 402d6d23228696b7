/*
 * outbox_store.c -- every Redis read and write of the outbox role.
 *
 * Reads are pipelined per batch of stream entries: one round trip for
 * all articles and their tickets' groups, a second only for entries
 * that need more (attachments, the group's signing key, a notice's
 * author).  Each attempt's outcome is one MULTI/EXEC through the shared
 * write path (tk_outbox.h): this file is its only caller in mailbridge,
 * so a change of those signatures is adapted here and nowhere else.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mb_outbox.h"
#include "tk_outbox.h"
#include "tk_ticket.h"

static void mb_entry_hold(mb_entry_t *e, redisReply *r);
static tk_str_t mb_reply_str(const redisReply *r);
static int mb_entry_article(mb_entry_t *e, redisReply *r);
static int mb_entry_atts(mb_entry_t *e, redisReply **r);
static const char *mb_nmail_id(const mb_entry_t *e);
static void mb_nmail_del(tk_cmds_t *c, const mb_entry_t *e);


/* A notification mail's hash is named by the entry's "article" (its id
 * from tk:seq:nmail). */
static const char *
mb_nmail_id(const mb_entry_t *e)
{
    static char  id[24];

    snprintf(id, sizeof(id), "%llu", (unsigned long long) e->article);
    return id;
}


/* Sent or failed for good: the mail's hash goes with its entry. */
static void
mb_nmail_del(tk_cmds_t *c, const mb_entry_t *e)
{
    if (e->kind == MB_ENTRY_NOTIFY) {
        tk_cmds_add(c, "DEL " TK_FMT_NMAIL, mb_nmail_id(e));
    }
}


void
mb_entry_free(mb_entry_t *e)
{
    size_t  i;

    for (i = 0; i < e->nheld; i++) {
        freeReplyObject(e->held[i]);
    }
    free(e->held);
    free(e->pairs);
    free(e->atts);
    memset(e, 0, sizeof(*e));
}


size_t
mb_entries_parse(redisReply *list, mb_entry_t *out, size_t max)
{
    redisReply  *en, *f;
    size_t       i, k, n = 0;
    tk_str_t     v;

    if (list == NULL || list->type != REDIS_REPLY_ARRAY) {
        return 0;
    }

    for (i = 0; i < list->elements && n < max; i++) {
        en = list->element[i];
        if (en->type != REDIS_REPLY_ARRAY || en->elements < 2
            || en->element[0]->type != REDIS_REPLY_STRING
            || en->element[0]->len >= sizeof(out[n].id))
        {
            continue;
        }

        memset(&out[n], 0, sizeof(mb_entry_t));
        memcpy(out[n].id, en->element[0]->str, en->element[0]->len);
        out[n].id_ms = strtoll(out[n].id, NULL, 10);

        /* a pending entry that was XDEL'd has nil fields: kind stays 0 */
        f = en->element[1];
        for (k = 0; f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements;
             k += 2)
        {
            v = mb_reply_str(f->element[k + 1]);

            if (strcmp(f->element[k]->str, TK_F_TICKET) == 0) {
                out[n].ticket = (uint64_t) tk_str_atoll(&v);
            } else if (strcmp(f->element[k]->str, "article") == 0) {
                out[n].article = (uint64_t) tk_str_atoll(&v);
            } else if (strcmp(f->element[k]->str, "kind") == 0) {
                out[n].kind = tk_str_eq_cstr(&v, TK_OUTBOX_KIND_ARTICLE)
                              ? MB_ENTRY_ARTICLE
                              : tk_str_eq_cstr(&v, TK_OUTBOX_KIND_NOTICE)
                              ? MB_ENTRY_NOTICE
                              : tk_str_eq_cstr(&v, TK_OUTBOX_KIND_NOTIFY)
                              ? MB_ENTRY_NOTIFY : 0;
            }
        }

        /* a notification (a digest) may be about no single ticket */
        if ((out[n].ticket == 0 && out[n].kind != MB_ENTRY_NOTIFY)
            || out[n].article == 0
            || out[n].ticket == (uint64_t) -1
            || out[n].article == (uint64_t) -1)
        {
            out[n].kind = 0;
        }
        n++;
    }

    return n;
}


int
mb_entries_load(tk_redis_t *r, mb_entry_t *e, size_t n)
{
    tk_arena_t    arena;
    tk_cmds_t     c;
    redisReply  **rep = NULL;
    char          key[TK_KEY_MAX];
    size_t        i, k, j;
    int           rc;

    tk_arena_init(&arena);

    /* round trip 1: every article and its ticket's group */
    tk_cmds_init(&c, tk_arena_alloc, &arena);
    for (i = 0; i < n; i++) {
        if (e[i].kind == MB_ENTRY_NOTIFY) {
            snprintf(key, sizeof(key), TK_FMT_NMAIL,
                     mb_nmail_id(&e[i]));
        } else {
            tk_key_article(key, sizeof(key), e[i].ticket, e[i].article);
        }
        tk_cmds_add(&c, "HGETALL %s", key);
        tk_key_ticket(key, sizeof(key), e[i].ticket);
        tk_cmds_add(&c, "HGET %s " TK_F_GROUP, key);
    }

    rc = c.failed ? TK_REDIS_EREPLY : n ? tk_redis_pipeline(r, &c, &rep)
                                        : TK_REDIS_OK;
    if (rc != TK_REDIS_OK) {
        tk_arena_reset(&arena);
        return rc;
    }

    for (i = 0; i < n; i++) {
        if (mb_entry_article(&e[i], rep[2 * i]) == 0) {
            e[i].group = mb_reply_str(rep[2 * i + 1]);
        }
        mb_entry_hold(&e[i], rep[2 * i + 1]);
    }
    free(rep);
    rep = NULL;

    /* round trip 2: attachments, signing key, notice author */
    tk_arena_reset(&arena);
    tk_cmds_init(&c, tk_arena_alloc, &arena);
    for (i = 0; i < n; i++) {
        if (!e[i].found) {
            continue;
        }
        if (e[i].kind == MB_ENTRY_ARTICLE) {
            for (k = 1; k <= e[i].a.attachments; k++) {
                tk_key_attachment(key, sizeof(key), e[i].ticket,
                                  e[i].article, (unsigned) k);
                tk_cmds_add(&c, "HGETALL %s", key);
            }
            if (e[i].a.crypt.len && e[i].group.len
                && tk_key_group(key, sizeof(key), &e[i].group))
            {
                tk_cmds_add(&c, "HGET %s " TK_F_PGP_SIGN, key);
            }
        } else if (e[i].kind == MB_ENTRY_NOTICE && e[i].a.author.len
                   && tk_key_user(key, sizeof(key), &e[i].a.author))
        {
            tk_cmds_add(&c, "HMGET %s " TK_F_EMAIL " " TK_F_NAME, key);
        }
    }

    rc = c.failed ? TK_REDIS_EREPLY : c.n ? tk_redis_pipeline(r, &c, &rep)
                                          : TK_REDIS_OK;
    tk_arena_reset(&arena);
    if (rc != TK_REDIS_OK) {
        return rc;
    }

    for (i = 0, j = 0; i < n; i++) {
        if (!e[i].found) {
            continue;
        }
        if (e[i].kind == MB_ENTRY_ARTICLE) {
            if (e[i].a.attachments) {
                mb_entry_atts(&e[i], rep + j);
                j += e[i].a.attachments;
            }
            if (e[i].a.crypt.len && e[i].group.len) {
                e[i].sign_fpr = mb_reply_str(rep[j]);
                mb_entry_hold(&e[i], rep[j++]);
            }
        } else if (e[i].kind == MB_ENTRY_NOTICE && e[i].a.author.len) {
            if (rep[j]->type == REDIS_REPLY_ARRAY && rep[j]->elements == 2) {
                e[i].author_email = mb_reply_str(rep[j]->element[0]);
                e[i].author_name = mb_reply_str(rep[j]->element[1]);
            }
            mb_entry_hold(&e[i], rep[j++]);
        }
    }
    free(rep);

    return TK_REDIS_OK;
}


/* The article's fields; the reply stays alive with the entry. */
static int
mb_entry_article(mb_entry_t *e, redisReply *r)
{
    size_t    i, n;
    tk_str_t  tries;

    mb_entry_hold(e, r);

    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        return -1;
    }

    n = r->elements / 2;
    e->pairs = malloc(r->elements * sizeof(tk_str_t));
    if (e->pairs == NULL) {
        abort();
    }
    for (i = 0; i < 2 * n; i++) {
        e->pairs[i] = mb_reply_str(r->element[i]);
    }

    tk_article_parse(&e->a, e->pairs, n);

    for (i = 0; i < n; i++) {
        if (tk_str_eq_cstr(&e->pairs[2 * i], TK_F_NTF_X_GROUP)) {
            e->x_group = e->pairs[2 * i + 1];
        } else if (tk_str_eq_cstr(&e->pairs[2 * i], TK_F_NTF_X_EVENT)) {
            e->x_event = e->pairs[2 * i + 1];
        }
        if (tk_str_eq_cstr(&e->pairs[2 * i], TK_F_DELIVERY_TRIES)) {
            tries = e->pairs[2 * i + 1];
            e->tries = (unsigned) (tk_str_atoll(&tries) > 0
                                   ? tk_str_atoll(&tries) : 0);
        }
    }

    e->found = 1;
    return 0;
}


static int
mb_entry_atts(mb_entry_t *e, redisReply **r)
{
    unsigned   k;
    size_t     i;
    mb_att_t  *att;
    tk_str_t   f;

    e->atts = calloc(e->a.attachments, sizeof(mb_att_t));
    if (e->atts == NULL) {
        abort();
    }

    for (k = 0; k < e->a.attachments; k++) {
        mb_entry_hold(e, r[k]);
        if (r[k]->type != REDIS_REPLY_ARRAY || r[k]->elements == 0) {
            continue;               /* counted but missing: skip it */
        }

        att = &e->atts[e->natts++];
        for (i = 0; i + 1 < r[k]->elements; i += 2) {
            f = mb_reply_str(r[k]->element[i]);
            if (tk_str_eq_cstr(&f, TK_F_NAME)) {
                att->name = mb_reply_str(r[k]->element[i + 1]);
            } else if (tk_str_eq_cstr(&f, TK_F_CONTENT_TYPE)) {
                att->content_type = mb_reply_str(r[k]->element[i + 1]);
            } else if (tk_str_eq_cstr(&f, TK_F_CONTENT_ID)) {
                att->content_id = mb_reply_str(r[k]->element[i + 1]);
            } else if (tk_str_eq_cstr(&f, TK_F_DISPOSITION)) {
                att->disposition = mb_reply_str(r[k]->element[i + 1]);
            } else if (tk_str_eq_cstr(&f, TK_F_DATA)) {
                att->data = mb_reply_str(r[k]->element[i + 1]);
            }
        }
    }

    return 0;
}


int
mb_entry_commit(tk_redis_t *r, const mb_entry_t *e, int outcome,
    const char *info, unsigned tries, int64_t due_ms)
{
    tk_arena_t    arena;
    tk_cmds_t     c;
    tk_str_t      id, text;
    char          key[TK_KEY_MAX];
    int64_t       now;
    int           rc, article;

    tk_arena_init(&arena);
    tk_cmds_init(&c, tk_arena_alloc, &arena);

    id.data = (unsigned char *) e->id;
    id.len = strlen(e->id);
    text.data = (unsigned char *) info;
    text.len = info ? strlen(info) : 0;
    now = (int64_t) time(NULL);

    /* only an outbound article we found carries a delivery state */
    article = e->kind == MB_ENTRY_ARTICLE && e->found
              && e->a.kind == TK_ART_OUT;

    tk_cmds_multi(&c);

    switch (outcome) {

    case MB_SEND_OK:
        if (article) {
            tk_outbox_delivery(&c, e->ticket, e->article, TK_DELIVERY_SENT,
                               &text, tries, now);
            /* threading: a reply to this Message-ID finds the ticket */
            if (e->a.message_id.len
                && tk_key_msgid(key, sizeof(key), &e->a.message_id))
            {
                tk_cmds_add(&c, "SET %s %llu:%llu", key,
                            (unsigned long long) e->ticket,
                            (unsigned long long) e->article);
            }
        }
        tk_outbox_done(&c, &id);
        mb_nmail_del(&c, e);
        break;

    case MB_SEND_PERM:
        if (article) {
            tk_outbox_delivery(&c, e->ticket, e->article,
                               TK_DELIVERY_FAILED, &text, tries, now);
            if (e->a.author.len) {
                tk_outbox_notice(&c, e->ticket, e->article);
            }
        }
        tk_outbox_done(&c, &id);
        mb_nmail_del(&c, e);
        break;

    default:
        if (article) {
            tk_outbox_delivery(&c, e->ticket, e->article,
                               TK_DELIVERY_QUEUED, &text, tries, now);
        }
        tk_outbox_retry(&c, &id, due_ms);
        break;
    }

    tk_cmds_exec(&c);

    rc = c.failed ? TK_REDIS_EREPLY : tk_redis_pipeline(r, &c, NULL);
    tk_arena_reset(&arena);
    return rc;
}


int64_t
mb_retry_next(tk_redis_t *r)
{
    redisReply  *rep;
    int64_t      due = -1;

    rep = tk_redis_command(r, "ZRANGE %s 0 0 WITHSCORES",
                           TK_KEY_OUTBOX_RETRY);
    if (rep == NULL) {
        return -2;
    }
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2) {
        due = strtoll(rep->element[1]->str, NULL, 10);
    }
    freeReplyObject(rep);
    return due;
}


int
mb_retry_scheduled(tk_redis_t *r, const char *id)
{
    redisReply  *rep;
    int          yes;

    rep = tk_redis_command(r, "ZSCORE %s %s", TK_KEY_OUTBOX_RETRY, id);
    if (rep == NULL) {
        return -1;
    }
    yes = rep->type == REDIS_REPLY_STRING;
    freeReplyObject(rep);
    return yes;
}


static void
mb_entry_hold(mb_entry_t *e, redisReply *r)
{
    redisReply  **h;

    h = realloc(e->held, (e->nheld + 1) * sizeof(redisReply *));
    if (h == NULL) {
        abort();
    }
    e->held = h;
    e->held[e->nheld++] = r;
}


static tk_str_t
mb_reply_str(const redisReply *r)
{
    tk_str_t  s = tk_null_string;

    if (r && r->type == REDIS_REPLY_STRING) {
        s.data = (unsigned char *) r->str;
        s.len = r->len;
    }
    return s;
}
