/*
 * ngx_http_ticket_tags.c -- tags of one ticket:
 *
 *   POST /t/N/tags                    the ticket page's forms: "add"
 *                                     (a comma list) or "remove" (one)
 *   GET|POST|DELETE /api/v1/tickets/N/tags
 *                                     {"tags":["asyl","miete"]}
 *
 * A change is an optimistic transaction on the ticket key like every
 * other change (WATCH, HGETALL, tk_ticket_update, which keeps the tag
 * sets through tk_tags_sync); nothing is written before every tag typed
 * passed tk_tag_normalise().
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"
#include "ngx_http_ticket_api_json.h"
#include "ngx_http_ticket_search.h"
#include "tk_json.h"
#include "tk_tags.h"


#define NGX_HTTP_TICKET_TAGS_GET      0
#define NGX_HTTP_TICKET_TAGS_ADD      1
#define NGX_HTTP_TICKET_TAGS_REMOVE   2

#define NGX_HTTP_TICKET_TAGS_RETRIES  5


typedef struct {
    uint64_t                   number;
    ngx_str_t                  key;             /* tk:{t:N} */
    ngx_uint_t                 op;
    tk_str_t                   tags[TK_TAGS_MAX];
    size_t                     ntags;
    tk_str_t                   list;            /* the result */
    const char                *error;           /* the API's 422, told
                                                   after the rights */
} ngx_http_ticket_tags_t;


static ngx_int_t ngx_http_ticket_tags_init(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number, ngx_uint_t op);
static const char *ngx_http_ticket_tags_take(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_tags_t *t, ngx_str_t *in,
    ngx_flag_t split);
static const char *ngx_http_ticket_tags_json(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_tags_t *t);
static ngx_int_t ngx_http_ticket_tags_begin(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_tags_change(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_tags_apply(ngx_http_request_t *r,
    ngx_http_ticket_tags_t *t, const tk_str_t *old);
static ngx_int_t ngx_http_ticket_tags_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_tags_done(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_tags_invalid(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *message);
static void *ngx_http_ticket_tags_alloc(void *pool, size_t size);


static ngx_int_t
ngx_http_ticket_tags_init(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number, ngx_uint_t op)
{
    ngx_http_ticket_tags_t  *t;

    t = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_tags_t));
    if (t == NULL
        || ngx_http_ticket_ticket_key(r, number, &t->key) != NGX_OK)
    {
        return NGX_ERROR;
    }

    t->number = number;
    t->op = op;
    ctx->view = t;
    ctx->tx_retries = 0;

    return NGX_OK;
}


/* POST /t/N/tags: add=a,b or remove=a, with the session's CSRF token. */
ngx_int_t
ngx_http_ticket_tags_form(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number)
{
    ngx_str_t                add, remove, msg;
    const char              *error;
    ngx_http_ticket_tags_t  *t;

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    if (ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
        return ngx_http_ticket_csrf_refused(r, ctx);
    }

    ngx_http_ticket_form_value(r, ctx, "add", &add);
    ngx_http_ticket_form_value(r, ctx, "remove", &remove);

    if (ngx_http_ticket_tags_init(r, ctx, number,
                                  remove.len ? NGX_HTTP_TICKET_TAGS_REMOVE
                                             : NGX_HTTP_TICKET_TAGS_ADD)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t = ctx->view;

    error = ngx_http_ticket_tags_take(r, ctx, t, remove.len ? &remove : &add,
                                      remove.len == 0);

    if (error == NULL && t->ntags == 0) {
        error = ngx_http_ticket_msg(ctx, TK_MSG_TAGS_PLEASE_TYPE_A_TAG);
    }

    if (error) {
        msg.data = (u_char *) error;
        msg.len = ngx_strlen(error);
        return ngx_http_ticket_view_again(r, ctx, number, "tags", &msg);
    }

    return ngx_http_ticket_tags_begin(r, ctx);
}


/* GET|POST|DELETE /api/v1/tickets/N/tags */
ngx_int_t
ngx_http_ticket_tags_api(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number)
{
    ngx_str_t                arg;
    ngx_uint_t               op;
    const char              *error;
    ngx_http_ticket_tags_t  *t;

    op = (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) ? NGX_HTTP_TICKET_TAGS_GET
         : r->method == NGX_HTTP_POST ? NGX_HTTP_TICKET_TAGS_ADD
         : r->method == NGX_HTTP_DELETE ? NGX_HTTP_TICKET_TAGS_REMOVE : 99;

    if (op == 99) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                     "GET, POST or DELETE");
    }

    if (ngx_http_ticket_tags_init(r, ctx, number, op) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t = ctx->view;

    if (op == NGX_HTTP_TICKET_TAGS_GET) {
        return ngx_http_ticket_tags_begin(r, ctx);
    }

    /* DELETE ...?tag=x, or a body like POST's */
    if (op == NGX_HTTP_TICKET_TAGS_REMOVE && ctx->form.len == 0
        && ngx_http_ticket_query_arg(r, "tag", &arg) == NGX_OK)
    {
        error = ngx_http_ticket_tags_take(r, ctx, t, &arg, 0);

    } else {
        error = ngx_http_ticket_tags_json(r, ctx, t);
    }

    if (error == NULL && t->ntags == 0) {
        error = "tags: no tag given";
    }

    /* bad input is told only to who may change the ticket: anyone else
     * gets the 404 or 403 of the rights check first (docs/security.md) */
    t->error = error;

    return ngx_http_ticket_tags_begin(r, ctx);
}


/*
 * Typed tags into t->tags, normalised (split: a comma list).  Returns
 * the message for the user, or NULL.
 */
static const char *
ngx_http_ticket_tags_take(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_tags_t *t, ngx_str_t *in, ngx_flag_t split)
{
    u_char      *p, *end, *start, *buf;
    size_t       n;

    p = in->data;
    end = p + in->len;

    while (p < end) {
        start = p;

        while (p < end && !(split && *p == ',')) {
            p++;
        }

        buf = ngx_pnalloc(r->pool, TK_TAG_MAX);
        if (buf == NULL) {
            return "out of memory";
        }

        n = 0;

        /* only blanks between two commas: nothing, not an error */
        while (start < p && (*start == ' ' || *start == '\t')) {
            start++;
        }

        if (start < p) {
            n = tk_tag_normalise(start, (size_t) (p - start), buf);

            if (n == 0) {
                return ngx_http_ticket_msg(ctx,
                                           TK_MSG_TAGS_A_TAG_HAS_AT_MOST_40);
            }

            if (t->ntags == TK_TAGS_MAX) {
                return ngx_http_ticket_msg(ctx, TK_MSG_TAGS_AT_MOST_20_TAGS);
            }

            t->tags[t->ntags].data = buf;
            t->tags[t->ntags].len = n;
            t->ntags++;
        }

        if (p < end) {
            p++;
        }
    }

    return NULL;
}


/* {"tags":["a","b"]} or {"tags":"a,b"} */
static const char *
ngx_http_ticket_tags_json(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_tags_t *t)
{
    int                      n, i;
    size_t                   errpos;
    tk_str_t                 s;
    ngx_str_t                in;
    const char              *error;
    tk_json_member_t         m[4], el[TK_TAGS_MAX + 1];
    const tk_json_member_t  *tags;

    n = tk_json_object(ngx_ticket_str(&ctx->form), m, 4, &errpos);
    if (n < 0) {
        return "the body is not a JSON object";
    }

    tags = tk_json_get(m, n, "tags");
    if (tags == NULL || n != 1) {
        return "tags: the body is {\"tags\":[...]}";
    }

    if (tags->type == TK_JSON_STRING) {
        if (tk_json_string(&tags->value, &s, ngx_http_ticket_tags_alloc,
                           r->pool) != 0)
        {
            return "tags: not a valid string";
        }

        in.data = s.data;
        in.len = s.len;
        return ngx_http_ticket_tags_take(r, ctx, t, &in, 1);
    }

    if (tags->type != TK_JSON_ARRAY) {
        return "tags: an array of strings";
    }

    n = tk_json_array(&tags->value, el, TK_TAGS_MAX + 1, &errpos);
    if (n < 0 || n > TK_TAGS_MAX) {
        return "tags: at most 20 tags";
    }

    for (i = 0; i < n; i++) {
        if (el[i].type != TK_JSON_STRING
            || tk_json_string(&el[i].value, &s, ngx_http_ticket_tags_alloc,
                              r->pool) != 0)
        {
            return "tags: an array of strings";
        }

        in.data = s.data;
        in.len = s.len;

        error = ngx_http_ticket_tags_take(r, ctx, t, &in, 0);
        if (error) {
            return error;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_ticket_tags_begin(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t               *cmds;
    ngx_http_ticket_tags_t  *t;

    t = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGETALL %S", ngx_ticket_str(&t->key));

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (t->op == NGX_HTTP_TICKET_TAGS_GET) {
        return ngx_http_ticket_redis_send(r, ctx, cmds,
                                          ngx_http_ticket_tags_change);
    }

    return ngx_http_ticket_tx_begin(r, ctx, &t->key, 1, cmds,
                                    ngx_http_ticket_tags_change);
}


/* The stored ticket is in: the rights, then the new list, then write. */
static ngx_int_t
ngx_http_ticket_tags_change(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_int_t                right;
    tk_cmds_t               *cmds;
    tk_ticket_t              old, new;
    ngx_http_ticket_tags_t  *t;

    t = ctx->view;

    if (ctx->nreplies < 1
        || ngx_http_ticket_ticket_parse(r, &ctx->replies[0], &old) != NGX_OK)
    {
        return ngx_http_ticket_action_refuse(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    right = ngx_http_ticket_right(ctx, (ngx_str_t *) &old.group);

    if (right == TK_RIGHT_NONE) {
        return ngx_http_ticket_action_refuse(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    t->list = old.tags;

    if (t->op == NGX_HTTP_TICKET_TAGS_GET) {
        return ngx_http_ticket_tags_done(r, ctx);
    }

    if (right != TK_RIGHT_FULL) {
        return ngx_http_ticket_action_refuse(r, ctx, NGX_HTTP_FORBIDDEN,
                                   ngx_http_ticket_msg(ctx,
                                       TK_MSG_COMMON_YOU_HAVE_READ_ACCESS_TO_THIS));
    }

    if (t->error) {
        return ngx_http_ticket_tags_invalid(r, ctx, t->error);
    }

    switch (ngx_http_ticket_tags_apply(r, t, &old.tags)) {
    case NGX_OK:
        break;

    case NGX_DECLINED:
        return ngx_http_ticket_tags_invalid(r, ctx,
                                   ngx_http_ticket_msg(ctx,
                                       TK_MSG_TAGS_AT_MOST_20_TAGS_PER_TICKET));
    default:
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (tk_str_eq(&t->list, &old.tags)) {
        ngx_http_ticket_tx_abort(r, ctx);
        return ngx_http_ticket_tags_done(r, ctx);
    }

    new = old;
    new.tags = t->list;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_ticket_update(cmds, &old, &new, ngx_ticket_str(&ctx->user.login),
                     (int64_t) ngx_time());

    if (cmds->failed) {
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_tx_commit(r, ctx, cmds,
                                     ngx_http_ticket_tags_committed);
}


/* old list + or - the typed tags, joined into t->list (pool memory). */
static ngx_int_t
ngx_http_ticket_tags_apply(ngx_http_request_t *r, ngx_http_ticket_tags_t *t,
    const tk_str_t *old)
{
    u_char    *buf;
    size_t     i, k, n, nall;
    tk_str_t   all[2 * TK_TAGS_MAX];

    n = tk_tags_split(old, all, TK_TAGS_MAX);
    nall = 0;

    for (i = 0; i < n; i++) {
        if (t->op == NGX_HTTP_TICKET_TAGS_REMOVE) {
            for (k = 0; k < t->ntags && !tk_str_eq(&all[i], &t->tags[k]);
                 k++)
            {
                /* void */
            }

            if (k < t->ntags) {
                continue;
            }
        }

        all[nall++] = all[i];
    }

    if (t->op == NGX_HTTP_TICKET_TAGS_ADD) {
        for (k = 0; k < t->ntags; k++) {
            if (!tk_tags_has(old, &t->tags[k])) {
                all[nall++] = t->tags[k];
            }
        }
    }

    /* repeated typed tags count once */
    for (i = 0, n = 0; i < nall; i++) {
        for (k = 0; k < i && !tk_str_eq(&all[k], &all[i]); k++) {
            /* void */
        }

        n += (k == i);
    }

    if (n > TK_TAGS_MAX) {
        return NGX_DECLINED;
    }

    buf = ngx_pnalloc(r->pool, TK_TAGS_LEN_MAX);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    t->list.data = buf;
    t->list.len = tk_tags_join(all, nall, buf);

    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_tags_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    if (ctx->tx_conflict) {
        ctx->tx_conflict = 0;

        if (++ctx->tx_retries < NGX_HTTP_TICKET_TAGS_RETRIES) {
            return ngx_http_ticket_tags_begin(r, ctx);
        }

        return ngx_http_ticket_error(r, ctx, NGX_HTTP_CONFLICT,
                                     ngx_http_ticket_msg(ctx,
                                         TK_MSG_ACTION_THE_TICKET_WAS_BEING_CHANGED));
    }

    return ngx_http_ticket_tags_done(r, ctx);
}


/* The page again (303), or the list as JSON. */
static ngx_int_t
ngx_http_ticket_tags_done(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                  *p, *last;
    size_t                   i, n;
    tk_out_t                 out;
    tk_str_t                 tags[TK_TAGS_MAX];
    ngx_http_ticket_tags_t  *t;

    t = ctx->view;

    if (!ctx->api) {
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 8);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        last = ngx_sprintf(p, "t/%uL#tags", t->number);
        return ngx_http_ticket_redirect(r, (char *) p, last - p);
    }

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = tk_tags_split(&t->list, tags, TK_TAGS_MAX);

    tk_out_cstr(&out, "{\"ticket\":");
    tk_out_uint(&out, t->number);
    tk_out_cstr(&out, ",\"tags\":[");

    for (i = 0; i < n; i++) {
        if (i) {
            tk_out_cstr(&out, ",");
        }

        tk_out_json(&out, tags[i].data, tags[i].len);
    }

    tk_out_cstr(&out, "]}\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}


/* A form's 422 is the ticket page with the message at the tags. */
static ngx_int_t
ngx_http_ticket_tags_invalid(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    const char *message)
{
    ngx_http_ticket_tags_t  *t;

    t = ctx->view;

    if (ctx->api) {
        return ngx_http_ticket_action_refuse(r, ctx, 422, message);
    }

    return ngx_http_ticket_action_again(r, ctx, t->number, "tags", message);
}


static void *
ngx_http_ticket_tags_alloc(void *pool, size_t size)
{
    return ngx_palloc(pool, size ? size : 1);
}


/*
 * "/tickets/N/tags", "/tickets/N/merge", "/tickets/N/articles/A/split"
 * below /api/v1 (ngx_http_ticket_api.c asks here first); NGX_DECLINED
 * for every other path.
 */
ngx_int_t
ngx_http_ticket_case_api(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_str_t *rest)
{
    u_char    *p, *end;
    size_t     n;
    uint64_t   number, article;

    p = rest->data + sizeof("/tickets/") - 1;
    end = rest->data + rest->len;

    n = ngx_http_ticket_number(p, end, &number);
    if (n == 0) {
        return NGX_DECLINED;
    }

    p += n;

    if (end - p == 5 && ngx_strncmp(p, "/tags", 5) == 0) {
        return ngx_http_ticket_tags_api(r, ctx, number);
    }

    if (end - p == 6 && ngx_strncmp(p, "/merge", 6) == 0) {
        return r->method == NGX_HTTP_POST
               ? ngx_http_ticket_merge_api(r, ctx, number)
               : ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    if (end - p > 16 && ngx_strncmp(p, "/articles/", 10) == 0
        && ngx_strncmp(end - 6, "/split", 6) == 0)
    {
        n = ngx_http_ticket_number(p + 10, end - 6, &article);
        if (n == 0 || p + 10 + n != end - 6) {
            return NGX_DECLINED;
        }

        return r->method == NGX_HTTP_POST
               ? ngx_http_ticket_split_api(r, ctx, number, article)
               : ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    return NGX_DECLINED;
}


/*
 * The search's tag filter (ngx_http_ticket_search.c): applied to the
 * hits' tickets like the group and state filters, since the articles'
 * documents carry no tags (SCHEMA.md "Tags").  A tag alone searches
 * every article of the user's groups, newest first, and keeps the rows
 * of the tag.  A bad tag on a page is ignored, like bad filter values.
 */
ngx_int_t
ngx_http_ticket_tags_search(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_search_t *s, const char **error)
{
    ngx_str_t  arg;

    *error = NULL;

    if (ngx_http_ticket_query_arg(r, "tag", &arg) != NGX_OK || arg.len == 0) {
        return NGX_OK;
    }

    s->filter_tag.data = ngx_pnalloc(r->pool, TK_TAG_MAX);
    if (s->filter_tag.data == NULL) {
        return NGX_ERROR;
    }

    s->filter_tag.len = tk_tag_normalise(arg.data, arg.len,
                                         s->filter_tag.data);

    if (s->filter_tag.len == 0) {
        if (ctx->api) {
            *error = "bad tag";
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (s->text.len == 0) {
        s->by_date = 1;
        s->parsed.terms = 1;
    }

    return NGX_OK;
}
