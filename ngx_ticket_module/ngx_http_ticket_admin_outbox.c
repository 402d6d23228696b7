/*
 * ngx_http_ticket_admin_outbox.c -- "/admin/outbox": the outbound mail
 * queue for admins, read only.  The entries of tk:{ix}:outbox (oldest
 * first, a page at a time: "?after=ID"), each with its article's
 * recipients, subject and delivery state; which of mailbridge's
 * consumers holds an entry and for how long (XPENDING); and the mails
 * that failed for good in the last days (tk:{ix}:outbox:failed, written
 * by tk_outbox_delivery()).  The consumer is mailbridge's outbox role;
 * the contract is redis-schema/tk_outbox.h.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_admin.h"
#include "tk_outbox.h"
#include "tk_tpl.h"


#define NGX_HTTP_TICKET_OUTBOX_PAGE    50
#define NGX_HTTP_TICKET_OUTBOX_FAILED  50

/* what the page shows of an outbound article */
#define NGX_HTTP_TICKET_OB_FIELDS                                            \
    TK_F_TO " " TK_F_SUBJECT " " TK_F_DELIVERY " " TK_F_DELIVERY_TRIES " "   \
    TK_F_DELIVERY_INFO " " TK_F_DELIVERY_TIME
#define NGX_HTTP_TICKET_OB_NFIELDS     6

/* replies of the first batch */
#define NGX_HTTP_TICKET_OB_XLEN        0
#define NGX_HTTP_TICKET_OB_XRANGE      1
#define NGX_HTTP_TICKET_OB_SUMMARY     2
#define NGX_HTTP_TICKET_OB_PENDING     3
#define NGX_HTTP_TICKET_OB_FAILED      4


typedef struct {
    ngx_str_t                  id;              /* stream entry id */
    uint64_t                   ticket;
    uint64_t                   article;
    int64_t                    when;            /* failed: zset score */
} ngx_http_ticket_ob_entry_t;

typedef struct {
    ngx_str_t                  after;           /* "?after=ID", or "" */
    ngx_http_ticket_reply_t   *first;           /* the first batch */
    ngx_uint_t                 nfirst;
    ngx_http_ticket_ob_entry_t *entries;
    ngx_uint_t                 nentries;
    ngx_flag_t                 more;
    ngx_http_ticket_ob_entry_t *failed;
    ngx_uint_t                 nfailed;
} ngx_http_ticket_ob_t;


static ngx_int_t ngx_http_ticket_ob_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_ob_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_ob_row(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_ob_entry_t *e,
    ngx_http_ticket_reply_t *art, tk_str_t *ticket, tk_str_t *url,
    tk_str_t *fields);
static void ngx_http_ticket_ob_holder(ngx_http_request_t *r,
    ngx_http_ticket_ob_t *ob, ngx_str_t *id, tk_tpl_admin_outbox_rows_t *row);
static ngx_int_t ngx_http_ticket_ob_consumers(ngx_http_request_t *r,
    ngx_http_ticket_reply_t *summary, tk_tpl_admin_outbox_t *tpl);
static void ngx_http_ticket_ob_label(int lang, tk_str_t *delivery,
    tk_str_t *label);
static void ngx_http_ticket_ob_body(tk_out_t *out, void *data);
static ngx_flag_t ngx_http_ticket_ob_valid_id(ngx_str_t *id);


ngx_int_t
ngx_http_ticket_admin_outbox(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *rest)
{
    tk_cmds_t             *cmds;
    ngx_http_ticket_ob_t  *ob;

    if (rest->len) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    ob = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_ob_t));
    cmds = ngx_http_ticket_cmds(r);
    if (ob == NULL || cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = ob;

    if (ngx_http_ticket_query_arg(r, "after", &ob->after) != NGX_OK
        || !ngx_http_ticket_ob_valid_id(&ob->after))
    {
        ngx_str_null(&ob->after);
    }

    tk_cmds_add(cmds, "XLEN " TK_KEY_OUTBOX);

    /* one more than a page: is there a next one? */
    if (ob->after.len) {
        tk_cmds_add(cmds, "XRANGE " TK_KEY_OUTBOX " (%S + COUNT %d",
                    ngx_ticket_str(&ob->after),
                    NGX_HTTP_TICKET_OUTBOX_PAGE + 1);
        tk_cmds_add(cmds, "XPENDING " TK_KEY_OUTBOX " " TK_OUTBOX_GROUP);
        tk_cmds_add(cmds, "XPENDING " TK_KEY_OUTBOX " " TK_OUTBOX_GROUP
                    " (%S + %d", ngx_ticket_str(&ob->after),
                    NGX_HTTP_TICKET_OUTBOX_PAGE);

    } else {
        tk_cmds_add(cmds, "XRANGE " TK_KEY_OUTBOX " - + COUNT %d",
                    NGX_HTTP_TICKET_OUTBOX_PAGE + 1);
        tk_cmds_add(cmds, "XPENDING " TK_KEY_OUTBOX " " TK_OUTBOX_GROUP);
        tk_cmds_add(cmds, "XPENDING " TK_KEY_OUTBOX " " TK_OUTBOX_GROUP
                    " - + %d", NGX_HTTP_TICKET_OUTBOX_PAGE);
    }

    tk_cmds_add(cmds, "ZREVRANGE " TK_KEY_OUTBOX_FAILED " 0 %d WITHSCORES",
                NGX_HTTP_TICKET_OUTBOX_FAILED - 1);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds, ngx_http_ticket_ob_read);
}


/* The entries are in: one HMGET per article on the page. */
static ngx_int_t
ngx_http_ticket_ob_read(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                      *colon;
    ngx_str_t                    v;
    ngx_uint_t                   i, k, n;
    tk_cmds_t                   *cmds;
    ngx_http_ticket_ob_t        *ob;
    ngx_http_ticket_reply_t     *range, *entry, *fields, *failed;
    ngx_http_ticket_ob_entry_t  *e;

    ob = ctx->view;

    if (ctx->nreplies != 5) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    ob->first = ctx->replies;
    ob->nfirst = ctx->nreplies;

    range = &ctx->replies[NGX_HTTP_TICKET_OB_XRANGE];
    failed = &ctx->replies[NGX_HTTP_TICKET_OB_FAILED];

    n = range->type == REDIS_REPLY_ARRAY ? range->nelem : 0;
    ob->more = (n > NGX_HTTP_TICKET_OUTBOX_PAGE);
    n = ngx_min(n, NGX_HTTP_TICKET_OUTBOX_PAGE);

    ob->entries = ngx_pcalloc(r->pool, (n + 1) * sizeof(*e));
    ob->failed = ngx_pcalloc(r->pool, (NGX_HTTP_TICKET_OUTBOX_FAILED + 1)
                                      * sizeof(*e));
    cmds = ngx_http_ticket_cmds(r);
    if (ob->entries == NULL || ob->failed == NULL || cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < n; i++) {
        entry = &range->element[i];

        if (entry->type != REDIS_REPLY_ARRAY || entry->nelem != 2
            || entry->element[1].type != REDIS_REPLY_ARRAY)
        {
            continue;
        }

        e = &ob->entries[ob->nentries];
        e->id = entry->element[0].str;
        fields = &entry->element[1];

        for (k = 0; k + 1 < fields->nelem; k += 2) {
            v = fields->element[k + 1].str;

            if (fields->element[k].str.len == sizeof(TK_F_TICKET) - 1
                && ngx_strncmp(fields->element[k].str.data, TK_F_TICKET,
                               sizeof(TK_F_TICKET) - 1) == 0)
            {
                e->ticket = (uint64_t) tk_str_atoll(ngx_ticket_str(&v));

            } else if (fields->element[k].str.len == sizeof("article") - 1
                       && ngx_strncmp(fields->element[k].str.data, "article",
                                      sizeof("article") - 1) == 0)
            {
                e->article = (uint64_t) tk_str_atoll(ngx_ticket_str(&v));
            }
        }

        if (e->ticket == 0 || e->article == 0) {
            /* not one of ours: shown without an article */
            e->ticket = 0;
            e->article = 0;
        }

        ob->nentries++;
    }

    /* "N:A" -> score */
    for (i = 0; failed->type == REDIS_REPLY_ARRAY && i + 1 < failed->nelem
                && ob->nfailed < NGX_HTTP_TICKET_OUTBOX_FAILED; i += 2)
    {
        v = failed->element[i].str;
        colon = ngx_strlchr(v.data, v.data + v.len, ':');

        if (colon == NULL) {
            continue;
        }

        e = &ob->failed[ob->nfailed];
        e->ticket = (uint64_t) ngx_atoof(v.data, colon - v.data);
        e->article = (uint64_t) ngx_atoof(colon + 1,
                                          v.data + v.len - colon - 1);
        e->when = tk_str_atoll(ngx_ticket_str(&failed->element[i + 1].str));

        if ((off_t) e->ticket > 0 && (off_t) e->article > 0) {
            ob->nfailed++;
        }
    }

    for (i = 0; i < ob->nentries + ob->nfailed; i++) {
        e = i < ob->nentries ? &ob->entries[i] : &ob->failed[i - ob->nentries];

        if (e->ticket == 0) {
            tk_cmds_add(cmds, "ECHO -");
            continue;
        }

        tk_cmds_add(cmds, "HMGET " TK_FMT_ARTICLE " "
                    NGX_HTTP_TICKET_OB_FIELDS,
                    (unsigned long long) e->ticket,
                    (unsigned long long) e->article);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cmds->n == 0) {
        ctx->replies = NULL;
        ctx->nreplies = 0;
        return ngx_http_ticket_ob_render(r, ctx);
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_ob_render);
}


static ngx_int_t
ngx_http_ticket_ob_render(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                        *p, *dash;
    ngx_str_t                      title;
    ngx_flag_t                     de;
    ngx_uint_t                     i;
    off_t                          ms;
    tk_str_t                       f[NGX_HTTP_TICKET_OB_NFIELDS];
    tk_tpl_admin_outbox_t         *tpl;
    tk_tpl_admin_outbox_rows_t    *row;
    tk_tpl_admin_outbox_failed_t  *fr;
    ngx_http_ticket_ob_t          *ob;
    ngx_http_ticket_ob_entry_t    *e;
    ngx_http_ticket_reply_t       *rep, *xlen;

    ob = ctx->view;
    de = ngx_http_ticket_lang_de(ctx);

    tpl = ngx_pcalloc(r->pool, sizeof(tk_tpl_admin_outbox_t));
    row = ngx_pcalloc(r->pool, (ob->nentries + 1) * sizeof(*row));
    fr = ngx_pcalloc(r->pool, (ob->nfailed + 1) * sizeof(*fr));
    if (tpl == NULL || row == NULL || fr == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->de = de;
    tpl->rows = row;
    tpl->failed = fr;

    xlen = &ob->first[NGX_HTTP_TICKET_OB_XLEN];

    if (ngx_http_ticket_url(r, "admin", 5, &tpl->admin_url) != NGX_OK
        || ngx_http_ticket_uint_str(r, xlen->type == REDIS_REPLY_INTEGER
                                       && xlen->integer > 0
                                       ? (uint64_t) xlen->integer : 0,
                                    &tpl->total) != NGX_OK
        || ngx_http_ticket_ob_consumers(r,
               &ob->first[NGX_HTTP_TICKET_OB_SUMMARY], tpl) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < ob->nentries + ob->nfailed; i++) {
        rep = i < ctx->nreplies ? &ctx->replies[i] : NULL;

        if (i < ob->nentries) {
            e = &ob->entries[i];

            if (ngx_http_ticket_ob_row(r, ctx, e, rep, &row->ticket,
                                       &row->url, f) != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            row->id = *ngx_ticket_str(&e->id);
            row->to = f[0];
            row->subject = f[1];
            row->delivery = f[2];
            row->tries = f[3];
            row->info = f[4];
            ngx_http_ticket_ob_label(ngx_http_ticket_lang(ctx), &f[2],
                                     &row->delivery_label);

            /* the id is "MS-SEQ": when it was queued */
            dash = ngx_strlchr(e->id.data, e->id.data + e->id.len, '-');
            ms = dash ? ngx_atoof(e->id.data, dash - e->id.data) : 0;

            if (ngx_http_ticket_short_time(r, ctx, ms / 1000, &row->queued)
                    != NGX_OK
                || ngx_http_ticket_short_time(r, ctx,
                       tk_str_atoll(&f[5]), &row->time) != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_http_ticket_ob_holder(r, ob, &e->id, row);

            row++;
            tpl->rows_n++;
            continue;
        }

        e = &ob->failed[i - ob->nentries];

        if (ngx_http_ticket_ob_row(r, ctx, e, rep, &fr->ticket, &fr->url, f)
                != NGX_OK
            || ngx_http_ticket_uint_str(r, e->article, &fr->article)
               != NGX_OK
            || ngx_http_ticket_short_time(r, ctx, e->when, &fr->time)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        fr->to = f[0];
        fr->subject = f[1];
        fr->tries = f[3];
        fr->info = f[4];
        fr++;
        tpl->failed_n++;
    }

    if (ob->more && tpl->rows_n) {
        e = &ob->entries[ob->nentries - 1];
        p = ngx_pnalloc(r->pool, sizeof("admin/outbox?after=") + e->id.len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_ticket_url(r, (char *) p,
                                ngx_sprintf(p, "admin/outbox?after=%V",
                                            &e->id) - p,
                                &tpl->next_url) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    title.data = (u_char *) ngx_http_ticket_msg(ctx, TK_MSG_COMMON_OUTBOX);
    title.len = ngx_strlen(title.data);

    return ngx_http_ticket_page(r, ctx, NGX_HTTP_OK, &title,
                                ngx_http_ticket_ob_body, tpl);
}


/* The article's fields (all "" when it is gone) and its link
 * "/t/N#a-A". */
static ngx_int_t
ngx_http_ticket_ob_row(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_ob_entry_t *e, ngx_http_ticket_reply_t *art,
    tk_str_t *ticket, tk_str_t *url, tk_str_t *fields)
{
    u_char     *p;
    ngx_str_t   v;
    ngx_uint_t  k;

    for (k = 0; k < NGX_HTTP_TICKET_OB_NFIELDS; k++) {
        ngx_str_set(&v, "");

        if (art && art->type == REDIS_REPLY_ARRAY
            && art->nelem == NGX_HTTP_TICKET_OB_NFIELDS)
        {
            ngx_http_ticket_reply_str(&art->element[k], &v);
        }

        fields[k] = *ngx_ticket_str(&v);
    }

    if (e->ticket == 0) {
        ngx_http_ticket_cstr(ticket, "?");
        ngx_http_ticket_cstr(url, "#");
        return NGX_OK;
    }

    if (ngx_http_ticket_uint_str(r, e->ticket, ticket) != NGX_OK) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, sizeof("t/#a-") + 2 * NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_ticket_url(r, (char *) p,
                               ngx_sprintf(p, "t/%uL#a-%uL", e->ticket,
                                           e->article) - p,
                               url);
}


/* XPENDING's extended form: who holds the entry, idle for how long. */
static void
ngx_http_ticket_ob_holder(ngx_http_request_t *r, ngx_http_ticket_ob_t *ob,
    ngx_str_t *id, tk_tpl_admin_outbox_rows_t *row)
{
    u_char                   *p;
    ngx_uint_t                i;
    long long                 idle;
    ngx_http_ticket_reply_t  *pending, *pe;

    pending = &ob->first[NGX_HTTP_TICKET_OB_PENDING];

    if (pending->type != REDIS_REPLY_ARRAY) {
        return;
    }

    for (i = 0; i < pending->nelem; i++) {
        pe = &pending->element[i];

        if (pe->type != REDIS_REPLY_ARRAY || pe->nelem < 3
            || pe->element[0].str.len != id->len
            || ngx_strncmp(pe->element[0].str.data, id->data, id->len) != 0)
        {
            continue;
        }

        row->holder = *ngx_ticket_str(&pe->element[1].str);
        idle = pe->element[2].integer / 1000;

        p = ngx_pnalloc(r->pool, NGX_INT64_LEN + sizeof(" min"));
        if (p == NULL) {
            return;
        }

        row->idle.data = p;
        row->idle.len = (idle < 120 ? ngx_sprintf(p, "%L s", idle)
                                    : ngx_sprintf(p, "%L min", idle / 60))
                        - p;
        return;
    }
}


/* XPENDING's summary: [count, first, last, [[consumer, n], ...]]; an
 * error (NOGROUP) when mailbridge never opened the queue. */
static ngx_int_t
ngx_http_ticket_ob_consumers(ngx_http_request_t *r,
    ngx_http_ticket_reply_t *summary, tk_tpl_admin_outbox_t *tpl)
{
    ngx_uint_t                        i;
    ngx_http_ticket_reply_t          *list, *c;
    tk_tpl_admin_outbox_consumers_t  *k;

    if (summary->type != REDIS_REPLY_ARRAY || summary->nelem != 4) {
        tpl->no_group = (summary->type == REDIS_REPLY_ERROR);
        return ngx_http_ticket_uint_str(r, 0, &tpl->pending);
    }

    if (ngx_http_ticket_uint_str(r, summary->element[0].integer > 0
                                    ? (uint64_t) summary->element[0].integer
                                    : 0, &tpl->pending) != NGX_OK)
    {
        return NGX_ERROR;
    }

    list = &summary->element[3];

    if (list->type != REDIS_REPLY_ARRAY) {
        return NGX_OK;
    }

    tpl->consumers = ngx_pcalloc(r->pool, (list->nelem + 1) * sizeof(*k));
    if (tpl->consumers == NULL) {
        return NGX_ERROR;
    }

    k = tpl->consumers;

    for (i = 0; i < list->nelem; i++) {
        c = &list->element[i];

        if (c->type != REDIS_REPLY_ARRAY || c->nelem != 2) {
            continue;
        }

        k->name = *ngx_ticket_str(&c->element[0].str);
        k->count = *ngx_ticket_str(&c->element[1].str);
        k++;
        tpl->consumers_n++;
    }

    return NGX_OK;
}


/* queued / sent / failed in the reader's language */
static void
ngx_http_ticket_ob_label(int lang, tk_str_t *delivery, tk_str_t *label)
{
    int                d;
    static const int   names[] = { -1, TK_MSG_ADMIN_OUTBOX_DELIVERY_QUEUED,
                                   TK_MSG_ADMIN_OUTBOX_DELIVERY_SENT,
                                   TK_MSG_ADMIN_OUTBOX_DELIVERY_FAILED };

    d = delivery->len ? tk_delivery_parse((char *) delivery->data,
                                          delivery->len)
                      : 0;

    if (d <= 0 || (size_t) d >= sizeof(names) / sizeof(int)) {
        ngx_http_ticket_cstr(label, "?");

    } else {
        ngx_http_ticket_cstr(label, tk_msg(lang, names[d]));
    }
}


static void
ngx_http_ticket_ob_body(tk_out_t *out, void *data)
{
    tk_tpl_admin_outbox(out, data);
}


/* A stream entry id: "MS-SEQ", digits only. */
static ngx_flag_t
ngx_http_ticket_ob_valid_id(ngx_str_t *id)
{
    u_char      *p, *last;
    ngx_uint_t   dashes;

    if (id->len < 3 || id->len > 41) {
        return 0;
    }

    dashes = 0;
    last = id->data + id->len;

    for (p = id->data; p < last; p++) {
        if (*p == '-') {
            if (p == id->data || p == last - 1 || ++dashes > 1) {
                return 0;
            }

        } else if (*p < '0' || *p > '9') {
            return 0;
        }
    }

    return dashes == 1;
}
