/*
 * ngx_http_ticket_notify.c -- notifications in the web (helper notify):
 *
 *   GET  /notifications               the in-app list, newest first
 *   POST /notifications/read          n=SEQ (one) or all=1 (CSRF)
 *   POST /t/N/subscription            on=1 | on=0 (CSRF)
 *   GET  /api/v1/notifications        the list and the unread count
 *   POST /api/v1/notifications/read   ?n=SEQ or ?all=1
 *   POST /api/v1/tickets/N/subscription, DELETE the same
 *
 * mailbridge's notify role writes the list (tk_notify.h); here it is only
 * read and marked.  A notice about a ticket whose group the user can no
 * longer read is not shown.  The unread count of the page head is read
 * with authentication (ngx_http_ticket_auth.c), not here.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_api_json.h"
#include "ngx_http_ticket_views.h"
#include "tk_notify.h"
#include "tk_tpl.h"

#define NGX_HTTP_TICKET_NOTICES_SHOWN  100


typedef struct {
    tk_tpl_notifications_t   tpl;
    ngx_flag_t               api;
    uint64_t                 number;      /* subscription: the ticket  */
    ngx_flag_t               on;
    ngx_flag_t               bad;         /* on= neither 0 nor 1: told
                                             after the rights check */
    struct ngx_http_ticket_notice_s  *list;   /* parsed, before the  */
    ngx_uint_t               nlist;       /* tickets' groups are known */
} ngx_http_ticket_notices_t;


/* one notice as read from the stream */
typedef struct ngx_http_ticket_notice_s {
    uint64_t                 seq;
    uint64_t                 ticket;
    int64_t                  time;
    ngx_flag_t               unread;
    tk_str_t                 event, title, by, group, text;
} ngx_http_ticket_notice_t;


static ngx_int_t ngx_http_ticket_notices_groups(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_notices_grouped(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);


static ngx_int_t ngx_http_ticket_notices_list(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_notices_listed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_uint_t ngx_http_ticket_notices_parse(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_notice_t **out);
static ngx_int_t ngx_http_ticket_notices_page(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_notice_t *n, ngx_uint_t nn);
static void ngx_http_ticket_notices_body(tk_out_t *out, void *data);
static ngx_int_t ngx_http_ticket_notices_json(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_notice_t *n, ngx_uint_t nn);
static ngx_int_t ngx_http_ticket_notices_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_notices_marked(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_subscription_group(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_subscription_done(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_notices_new(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_flag_t api);


static ngx_int_t
ngx_http_ticket_notices_new(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_flag_t api)
{
    ngx_http_ticket_notices_t  *nv;

    nv = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_notices_t));
    if (nv == NULL) {
        return NGX_ERROR;
    }

    nv->api = api;
    ctx->view = nv;
    return NGX_OK;
}


ngx_int_t
ngx_http_ticket_notifications(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    if (ngx_http_ticket_notices_new(r, ctx, 0) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->page = "notifications";

    if (ctx->path.len == sizeof("/notifications") - 1) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
        }
        return ngx_http_ticket_notices_list(r, ctx);
    }

    if (ctx->path.len == sizeof("/notifications/read") - 1
        && ngx_strncmp(ctx->path.data, "/notifications/read",
                       ctx->path.len) == 0)
    {
        if (r->method != NGX_HTTP_POST) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
        }
        if (ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
            return ngx_http_ticket_csrf_refused(r, ctx);
        }
        return ngx_http_ticket_notices_read(r, ctx);
    }

    return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
}


ngx_int_t
ngx_http_ticket_api_notifications(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *rest)
{
    if (ngx_http_ticket_notices_new(r, ctx, 1) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rest->len == 0) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                         "GET only");
        }
        return ngx_http_ticket_notices_list(r, ctx);
    }

    if (rest->len == 5 && ngx_strncmp(rest->data, "/read", 5) == 0) {
        if (r->method != NGX_HTTP_POST) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                         "POST only");
        }
        return ngx_http_ticket_notices_read(r, ctx);
    }

    return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, "not found");
}


/* ---- the list ------------------------------------------------------------ */

static ngx_int_t
ngx_http_ticket_notices_list(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t  *cmds;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "XREVRANGE " TK_FMTS_USER_NOTICES " + - COUNT %d",
                ngx_ticket_str(&ctx->user.login),
                NGX_HTTP_TICKET_NOTICES_SHOWN);
    tk_cmds_add(cmds, "ZRANGE " TK_FMTS_USER_UNREAD " 0 -1",
                ngx_ticket_str(&ctx->user.login));

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_notices_listed);
}


static ngx_int_t
ngx_http_ticket_notices_listed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                  nn;
    ngx_http_ticket_notice_t   *n;
    ngx_http_ticket_notices_t  *nv = ctx->view;

    if (ctx->nreplies != 2) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    nn = ngx_http_ticket_notices_parse(r, ctx, &n);
    if (n == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (nn == 0) {
        return nv->api ? ngx_http_ticket_notices_json(r, ctx, n, nn)
                       : ngx_http_ticket_notices_page(r, ctx, n, nn);
    }

    nv->list = n;
    nv->nlist = nn;

    return ngx_http_ticket_notices_groups(r, ctx);
}


/*
 * The group in a notice is the one the ticket had when it was written;
 * the ticket may have moved since to a group this user cannot read.  So
 * every listed ticket's group is read again (one HGET each, one round
 * trip) and decides, like on the ticket page (docs/security.md).
 */
static ngx_int_t
ngx_http_ticket_notices_groups(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    char                        key[TK_KEY_MAX];
    tk_cmds_t                  *cmds;
    ngx_uint_t                  i;
    ngx_http_ticket_notices_t  *nv = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < nv->nlist; i++) {
        tk_key_ticket(key, sizeof(key), nv->list[i].ticket);
        tk_cmds_add(cmds, "HGET %s " TK_F_GROUP, key);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_notices_grouped);
}


static ngx_int_t
ngx_http_ticket_notices_grouped(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                  i, nn;
    ngx_http_ticket_notices_t  *nv = ctx->view;

    if (ctx->nreplies != nv->nlist) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0, nn = 0; i < nv->nlist; i++) {
        if (ctx->replies[i].type != REDIS_REPLY_STRING
            || ngx_http_ticket_right(ctx, &ctx->replies[i].str)
               == TK_RIGHT_NONE)
        {
            continue;
        }

        nv->list[nn++] = nv->list[i];
    }

    return nv->api ? ngx_http_ticket_notices_json(r, ctx, nv->list, nn)
                   : ngx_http_ticket_notices_page(r, ctx, nv->list, nn);
}


/* Entries "0-SEQ" [ticket N event E ...]; unread: in the ZRANGE reply.
 * Notices of groups the user can no longer read are left out. */
static ngx_uint_t
ngx_http_ticket_notices_parse(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_notice_t **out)
{
    u_char                    *dash;
    ngx_uint_t                 i, k, nn = 0;
    ngx_str_t                  group;
    ngx_http_ticket_reply_t   *list, *unread, *en, *f;
    ngx_http_ticket_notice_t  *n;

    list = &ctx->replies[0];
    unread = &ctx->replies[1];

    *out = ngx_pcalloc(r->pool, (list->nelem + 1)
                                * sizeof(ngx_http_ticket_notice_t));
    if (*out == NULL || list->type != REDIS_REPLY_ARRAY) {
        return 0;
    }

    for (i = 0; i < list->nelem; i++) {
        en = &list->element[i];
        if (en->type != REDIS_REPLY_ARRAY || en->nelem != 2) {
            continue;
        }

        n = &(*out)[nn];
        dash = ngx_strlchr(en->element[0].str.data,
                           en->element[0].str.data + en->element[0].str.len,
                           '-');
        if (dash == NULL) {
            continue;
        }
        n->seq = (uint64_t) ngx_atoi(dash + 1, en->element[0].str.data
                                               + en->element[0].str.len
                                               - dash - 1);

        f = &en->element[1];
        for (k = 0; f->type == REDIS_REPLY_ARRAY && k + 1 < f->nelem; k += 2) {
            ngx_str_t  *name = &f->element[k].str, *v = &f->element[k + 1].str;

#define NGX_NTF_IS(s) (name->len == sizeof(s) - 1                            \
                       && ngx_strncmp(name->data, s, name->len) == 0)
            if (NGX_NTF_IS(TK_F_TICKET)) {
                n->ticket = (uint64_t) ngx_atoi(v->data, v->len);
            } else if (NGX_NTF_IS(TK_F_NTF_EVENT)) {
                n->event = *ngx_ticket_str(v);
            } else if (NGX_NTF_IS(TK_F_TITLE)) {
                n->title = *ngx_ticket_str(v);
            } else if (NGX_NTF_IS(TK_F_NTF_BY)) {
                n->by = *ngx_ticket_str(v);
            } else if (NGX_NTF_IS(TK_F_GROUP)) {
                n->group = *ngx_ticket_str(v);
            } else if (NGX_NTF_IS(TK_F_NTF_TEXT)) {
                n->text = *ngx_ticket_str(v);
            } else if (NGX_NTF_IS(TK_F_TIME)) {
                n->time = ngx_atoi(v->data, v->len);
            }
#undef NGX_NTF_IS
        }

        group.data = n->group.data;
        group.len = n->group.len;
        if (n->ticket == (uint64_t) NGX_ERROR || n->ticket == 0
            || ngx_http_ticket_right(ctx, &group) == TK_RIGHT_NONE)
        {
            continue;
        }

        for (k = 0; unread->type == REDIS_REPLY_ARRAY && k < unread->nelem;
             k++)
        {
            if ((uint64_t) ngx_atoi(unread->element[k].str.data,
                                    unread->element[k].str.len) == n->seq)
            {
                n->unread = 1;
                break;
            }
        }
        nn++;
    }

    return nn;
}


static ngx_int_t
ngx_http_ticket_notices_page(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_notice_t *n, ngx_uint_t nn)
{
    u_char                              buf[NGX_INT64_LEN + 4], *p;
    ngx_str_t                           title;
    ngx_uint_t                          i, unread = 0;
    ngx_flag_t                          de;
    tk_tpl_notifications_rows_t        *row;
    ngx_http_ticket_notices_t          *nv = ctx->view;

    de = ngx_http_ticket_lang_de(ctx);
    nv->tpl.de = de;
    nv->tpl.csrf = *ngx_ticket_str(&ctx->csrf);
    nv->tpl.empty = (nn == 0);

    row = ngx_pcalloc(r->pool, (nn + 1) * sizeof(*row));
    if (row == NULL
        || ngx_http_ticket_url(r, "notifications/read",
                               sizeof("notifications/read") - 1,
                               &nv->tpl.read_url) != NGX_OK
        || ngx_http_ticket_url(r, "profile#notify", sizeof("profile#notify")
                               - 1, &nv->tpl.settings_url) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < nn; i++) {
        p = ngx_sprintf(buf, "t/%uL", n[i].ticket);
        row[i].unread = n[i].unread;
        row[i].event = n[i].event;
        row[i].title = n[i].title;
        row[i].text = n[i].text;
        unread += n[i].unread;

        if (ngx_http_ticket_url(r, (char *) buf, p - buf, &row[i].url)
                != NGX_OK
            || ngx_http_ticket_uint_str(r, n[i].seq, &row[i].seq) != NGX_OK
            || ngx_http_ticket_uint_str(r, n[i].ticket, &row[i].ticket)
               != NGX_OK
            || ngx_http_ticket_time_str(r, n[i].time, &row[i].time) != NGX_OK
            || ngx_http_ticket_iso_str(r, n[i].time, &row[i].time_iso)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    nv->tpl.rows = row;
    nv->tpl.rows_n = nn;

    /* the count the head shows is the one this page agrees with */
    ctx->unread = unread;
    if (unread && ngx_http_ticket_uint_str(r, unread, &nv->tpl.unread)
                  != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    title.data = (u_char *) ngx_http_ticket_msg(ctx,
                                                TK_MSG_COMMON_NOTIFICATIONS);
    title.len = ngx_strlen(title.data);

    return ngx_http_ticket_page(r, ctx, NGX_HTTP_OK, &title,
                                ngx_http_ticket_notices_body, nv);
}


static void
ngx_http_ticket_notices_body(tk_out_t *out, void *data)
{
    ngx_http_ticket_notices_t  *nv = data;

    tk_tpl_notifications(out, &nv->tpl);
}


/* {"unread":N,"notifications":[{"id":..,"ticket":..,...}]} */
static ngx_int_t
ngx_http_ticket_notices_json(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_notice_t *n, ngx_uint_t nn)
{
    tk_out_t    out;
    ngx_uint_t  i, unread = 0;

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < nn; i++) {
        unread += n[i].unread;
    }

    tk_out_cstr(&out, "{\"unread\":");
    tk_out_uint(&out, unread);
    tk_out_cstr(&out, ",\"notifications\":[");

    for (i = 0; i < nn; i++) {
        tk_out_cstr(&out, i ? ",{\"id\":" : "{\"id\":");
        tk_out_uint(&out, n[i].seq);
        tk_out_cstr(&out, ",\"ticket\":");
        tk_out_uint(&out, n[i].ticket);
        tk_out_cstr(&out, ",");
        ngx_http_ticket_api_str(&out, "event", &n[i].event, 0);
        tk_out_cstr(&out, ",");
        ngx_http_ticket_api_str(&out, "title", &n[i].title, 0);
        tk_out_cstr(&out, ",");
        ngx_http_ticket_api_str(&out, "by", &n[i].by, 1);
        tk_out_cstr(&out, ",");
        ngx_http_ticket_api_str(&out, "group", &n[i].group, 0);
        tk_out_cstr(&out, ",");
        ngx_http_ticket_api_str(&out, "text", &n[i].text, 0);
        ngx_http_ticket_api_time(&out, "time", n[i].time);
        tk_out_cstr(&out, n[i].unread ? ",\"unread\":true}"
                                      : ",\"unread\":false}");
    }

    tk_out_cstr(&out, "]}\n");
    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}


/* ---- mark read ------------------------------------------------------------ */

static ngx_int_t
ngx_http_ticket_notices_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_int_t                   seq = 0;
    ngx_str_t                   v;
    tk_cmds_t                  *cmds;
    ngx_http_ticket_notices_t  *nv = ctx->view;

    /* the form's fields; the API's in the query string */
    if ((ngx_http_ticket_form_arg(r, ctx, "all", &v) == NGX_OK
         || ngx_http_ticket_query_arg(r, "all", &v) == NGX_OK)
        && v.len == 1 && v.data[0] == '1')
    {
        seq = 0;

    } else if ((ngx_http_ticket_form_arg(r, ctx, "n", &v) == NGX_OK
                || ngx_http_ticket_query_arg(r, "n", &v) == NGX_OK)
               && (seq = ngx_atoi(v.data, v.len)) > 0)
    {
        /* one notice */

    } else {
        return ngx_http_ticket_error(r, ctx, 422,
                   nv->api ? "give n=ID or all=1"
                   : ngx_http_ticket_msg(ctx,
                         TK_MSG_NOTIFY_WHICH_NOTIFICATION_N_OR_ALL));
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_notice_read(cmds, ngx_ticket_str(&ctx->user.login), (uint64_t) seq);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_notices_marked);
}


static ngx_int_t
ngx_http_ticket_notices_marked(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_out_t                    out;
    ngx_http_ticket_notices_t  *nv = ctx->view;

    if (ctx->nreplies != 1 || ngx_http_ticket_reply_is_error(&ctx->replies[0]))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!nv->api) {
        return ngx_http_ticket_redirect(r, "notifications",
                                        sizeof("notifications") - 1);
    }

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    tk_out_cstr(&out, "{\"ok\":true}\n");
    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}


/* ---- subscription ----------------------------------------------------------- */

/*
 * Whoever may read the ticket may follow it.  The set is the user's
 * business only: no history, no feed entry, no rev bump (the ticket
 * page renders the button outside the page cache).
 */
ngx_int_t
ngx_http_ticket_subscription(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number, ngx_flag_t api)
{
    ngx_str_t                   v, key;
    tk_cmds_t                  *cmds;
    ngx_http_ticket_notices_t  *nv;

    if (ngx_http_ticket_notices_new(r, ctx, api) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    nv = ctx->view;
    nv->number = number;

    if (api) {
        if (r->method != NGX_HTTP_POST && r->method != NGX_HTTP_DELETE) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                         "POST or DELETE");
        }
        nv->on = (r->method == NGX_HTTP_POST);

    } else {
        if (r->method != NGX_HTTP_POST) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
        }
        if (ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
            return ngx_http_ticket_csrf_refused(r, ctx);
        }
        if (ngx_http_ticket_form_arg(r, ctx, "on", &v) != NGX_OK
            || v.len != 1 || (v.data[0] != '0' && v.data[0] != '1'))
        {
            nv->bad = 1;

        } else {
            nv->on = (v.data[0] == '1');
        }
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL
        || ngx_http_ticket_ticket_key(r, number, &key) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGET %S " TK_F_GROUP, ngx_ticket_str(&key));
    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_subscription_group);
}


static ngx_int_t
ngx_http_ticket_subscription_group(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                  *cmds;
    ngx_http_ticket_notices_t  *nv = ctx->view;

    /* a ticket you may not see is a 404, like one that does not exist */
    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_STRING
        || ngx_http_ticket_right(ctx, &ctx->replies[0].str) == TK_RIGHT_NONE)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                     nv->api ? "not found" : NULL);
    }

    if (nv->bad) {
        return ngx_http_ticket_error(r, ctx, 422,
                                     ngx_http_ticket_msg(ctx,
                                         TK_MSG_NOTIFY_ON_1_OR_ON_0));
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_subscribe(cmds, nv->number, ngx_ticket_str(&ctx->user.login), nv->on);
    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_subscription_done);
}


static ngx_int_t
ngx_http_ticket_subscription_done(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    u_char                      buf[NGX_INT64_LEN + 16], *p;
    tk_out_t                    out;
    ngx_http_ticket_notices_t  *nv = ctx->view;

    if (ctx->nreplies != 1 || ngx_http_ticket_reply_is_error(&ctx->replies[0]))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!nv->api) {
        p = ngx_sprintf(buf, "t/%uL", nv->number);
        return ngx_http_ticket_redirect(r, (char *) buf, p - buf);
    }

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    tk_out_cstr(&out, "{\"ticket\":");
    tk_out_uint(&out, nv->number);
    tk_out_cstr(&out, nv->on ? ",\"subscribed\":true}\n"
                             : ",\"subscribed\":false}\n");
    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}


ngx_int_t
ngx_http_ticket_view_sub_url(ngx_http_request_t *r, uint64_t number,
    tk_str_t *url)
{
    u_char  buf[NGX_INT64_LEN + 32], *p;

    p = ngx_sprintf(buf, "t/%uL/subscription", number);
    return ngx_http_ticket_url(r, (char *) buf, p - buf, url);
}
