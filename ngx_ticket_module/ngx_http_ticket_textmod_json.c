/*
 * ngx_http_ticket_textmod_json.c -- text modules in use:
 *
 *   GET /api/v1/text_modules?q=PREFIX[&ticket=N]   (bearer token)
 *   GET /text-modules.json?q=PREFIX[&ticket=N]     (session: textmod.js)
 *
 * the user's own and the shared modules whose keyword or name starts
 * with q (case folded), an own one hiding a shared one of the same
 * keyword; with ticket=N (a ticket the user may see, else 404) the
 * bodies come with the placeholders filled.  And the expansion of
 * "::keyword" tokens in a reply or note when it is sent, for browsers
 * without JavaScript (ngx_http_ticket_textmod_expand, called by reply.c).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_casework.h"
#include "ngx_http_ticket_compose.h"


#define NGX_TM_JSON_MAX   50
#define NGX_TM_Q_MAX      64

/* replies of the one batch both make */
#define NGX_TM_R_MINE     0
#define NGX_TM_R_SHARED   1
#define NGX_TM_R_TICKET   2


typedef struct {
    ngx_str_t                  q;
    uint64_t                   number;           /* 0: no ticket */
    /* the expansion */
    void                      *view;             /* the caller's     */
    ngx_str_t                 *body;
    ngx_http_ticket_step_pt    next;
} ngx_http_ticket_tmj_t;


static ngx_int_t ngx_http_ticket_tmj_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_tmj_t *t,
    ngx_http_ticket_step_pt step);
static ngx_int_t ngx_http_ticket_tmj_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_tmj_vars(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_tmj_t *t, tk_textmod_vars_t *v);
static ngx_flag_t ngx_http_ticket_tmj_prefix(ngx_str_t *q, ngx_str_t *s);
static ngx_int_t ngx_http_ticket_tmj_mods(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, tk_textmod_t **mods, size_t *n);
static ngx_int_t ngx_http_ticket_tmj_expanded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);


ngx_int_t
ngx_http_ticket_textmod_json(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t               arg;
    ngx_uint_t              i;
    ngx_http_ticket_tmj_t  *t;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    t = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_tmj_t));
    if (t == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_ticket_query_arg(r, "q", &t->q) != NGX_OK) {
        ngx_str_set(&t->q, "");
    }
    if (t->q.len > NGX_TM_Q_MAX || tk_has_ctrl(ngx_ticket_str(&t->q))) {
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_BAD_REQUEST,
                                                  "q", "bad query");
    }
    for (i = 0; i < t->q.len; i++) {
        t->q.data[i] = ngx_tolower(t->q.data[i]);
    }

    if (ngx_http_ticket_query_arg(r, "ticket", &arg) == NGX_OK
        && (arg.len == 0
            || ngx_http_ticket_number(arg.data, arg.data + arg.len,
                                      &t->number) != arg.len))
    {
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_BAD_REQUEST,
                                                  "ticket", "not a number");
    }

    ctx->view = t;
    return ngx_http_ticket_tmj_read(r, ctx, t, ngx_http_ticket_tmj_send);
}


/* One batch: both lists and, with a ticket, what fills placeholders. */
static ngx_int_t
ngx_http_ticket_tmj_read(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_tmj_t *t, ngx_http_ticket_step_pt step)
{
    ngx_str_t   key;
    tk_cmds_t  *cmds;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_textmod_sort(cmds, ngx_ticket_str(&ctx->user.login));
    tk_textmod_sort(cmds, NULL);

    if (t->number) {
        if (ngx_http_ticket_ticket_key(r, t->number, &key) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        tk_cmds_add(cmds, "HMGET %S " TK_F_GROUP " " TK_F_CUSTOMER_NAME " "
                    TK_F_CUSTOMER_EMAIL " " TK_F_TITLE,
                    ngx_ticket_str(&key));
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds, step);
}


/* The placeholders' values; NGX_DECLINED: a ticket the user may not see. */
static ngx_int_t
ngx_http_ticket_tmj_vars(ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_tmj_t *t,
    tk_textmod_vars_t *v)
{
    ngx_str_t                 group;
    ngx_http_ticket_reply_t  *h;

    ngx_memzero(v, sizeof(*v));
    v->agent_name = *ngx_ticket_str(ctx->user.name.len ? &ctx->user.name
                                                       : &ctx->user.login);
    if (t->number == 0) {
        return NGX_OK;
    }

    if (ctx->nreplies <= NGX_TM_R_TICKET) {
        return NGX_DECLINED;
    }
    h = &ctx->replies[NGX_TM_R_TICKET];
    if (h->type != REDIS_REPLY_ARRAY || h->nelem != 4
        || h->element[0].type != REDIS_REPLY_STRING)
    {
        return NGX_DECLINED;
    }

    group = h->element[0].str;
    if (ngx_http_ticket_right(ctx, &group) == TK_RIGHT_NONE) {
        return NGX_DECLINED;
    }

    v->group = *ngx_ticket_str(&group);
    ngx_http_ticket_reply_str(&h->element[1],
                              (ngx_str_t *) &v->customer_name);
    ngx_http_ticket_reply_str(&h->element[2],
                              (ngx_str_t *) &v->customer_email);
    ngx_http_ticket_reply_str(&h->element[3], (ngx_str_t *) &v->title);

    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_tmj_send(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                 *p, num[NGX_INT64_LEN];
    size_t                  n, i, len, shown = 0;
    tk_out_t                out;
    tk_str_t                filled;
    tk_textmod_t           *mods;
    tk_textmod_vars_t       v;
    ngx_http_ticket_tmj_t  *t = ctx->view;
    ngx_str_t               kw, name;

    if (ngx_http_ticket_tmj_vars(ctx, t, &v) != NGX_OK) {
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_NOT_FOUND,
                                                  "ticket", "not found");
    }
    v.number.data = num;
    v.number.len = t->number
                   ? (size_t) (ngx_sprintf(num, "%uL", t->number) - num) : 0;

    if (ngx_http_ticket_tmj_mods(r, ctx, &mods, &n) != NGX_OK
        || ngx_http_ticket_out_init(r, &out) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_out_cstr(&out, "{\"text_modules\":[");

    for (i = 0; i < n && shown < NGX_TM_JSON_MAX; i++) {
        kw = *(ngx_str_t *) &mods[i].keyword;
        name = *(ngx_str_t *) &mods[i + n].keyword;     /* see _mods */
        if (!ngx_http_ticket_tmj_prefix(&t->q, &kw)
            && !ngx_http_ticket_tmj_prefix(&t->q, &name))
        {
            continue;
        }

        len = tk_textmod_fill(NULL, 0, &mods[i].body, &v);
        p = ngx_pnalloc(r->pool, len + 1);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        filled.data = p;
        filled.len = tk_textmod_fill(p, len, &mods[i].body, &v);

        tk_out_cstr(&out, shown ? ",{\"id\":" : "{\"id\":");
        tk_out_json(&out, mods[i + n].body.data, mods[i + n].body.len);
        tk_out_cstr(&out, ",\"keyword\":");
        tk_out_json(&out, kw.data, kw.len);
        tk_out_cstr(&out, ",\"name\":");
        tk_out_json(&out, name.data, name.len);
        tk_out_cstr(&out, ",\"shared\":");
        tk_out_cstr(&out, mods[i + 2 * n].keyword.len ? "true" : "false");
        tk_out_cstr(&out, ",\"body\":");
        tk_out_json(&out, filled.data, filled.len);
        tk_out_cstr(&out, "}");
        shown++;
    }

    tk_out_cstr(&out, "]}\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}


/*
 * The modules of both lists as one array of 3n entries: [0, n) keyword
 * and body, [n, 2n) name (as .keyword) and id (as .body), [2n, 3n)
 * .keyword non-empty for a shared one.  Own ones first; a shared one
 * whose keyword an own one has is left out.
 */
static ngx_int_t
ngx_http_ticket_tmj_mods(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    tk_textmod_t **mods, size_t *n)
{
    size_t                    total, i, k, j, count = 0;
    tk_textmod_t             *m;
    ngx_http_ticket_reply_t  *list, *e;
    ngx_flag_t                dup;

    if (ctx->nreplies < 2) {
        return NGX_ERROR;
    }

    total = 0;
    for (k = 0; k < 2; k++) {
        if (ctx->replies[k].type == REDIS_REPLY_ARRAY) {
            total += ctx->replies[k].nelem / 4;
        }
    }

    m = ngx_pcalloc(r->pool, (3 * total + 1) * sizeof(tk_textmod_t));
    if (m == NULL) {
        return NGX_ERROR;
    }

    for (k = 0; k < 2; k++) {
        list = &ctx->replies[k];
        if (list->type != REDIS_REPLY_ARRAY) {
            continue;
        }
        e = list->element;
        for (i = 0; i + 3 < list->nelem; i += 4) {
            if (e[i + 1].type != REDIS_REPLY_STRING) {
                continue;                                /* gone meanwhile */
            }
            dup = 0;
            for (j = 0; k == 1 && j < count; j++) {
                dup |= tk_str_eq(&m[j].keyword,
                                 ngx_ticket_str(&e[i + 1].str));
            }
            if (dup) {
                continue;
            }
            m[count].keyword = *ngx_ticket_str(&e[i + 1].str);
            m[count].body = *ngx_ticket_str(&e[i + 3].str);
            m[total + count].keyword = *ngx_ticket_str(&e[i + 2].str);
            m[total + count].body = *ngx_ticket_str(&e[i].str);
            if (k == 1) {
                ngx_http_ticket_cstr(&m[2 * total + count].keyword, "1");
            }
            count++;
        }
    }

    /* compact the three parts to count each */
    for (i = 0; i < count; i++) {
        m[count + i] = m[total + i];
    }
    for (i = 0; i < count; i++) {
        m[2 * count + i] = m[2 * total + i];
    }

    *mods = m;
    *n = count;
    return NGX_OK;
}


static ngx_flag_t
ngx_http_ticket_tmj_prefix(ngx_str_t *q, ngx_str_t *s)
{
    ngx_uint_t  i;

    if (q->len > s->len) {
        return 0;
    }

    for (i = 0; i < q->len; i++) {
        if (ngx_tolower(s->data[i]) != q->data[i]) {
            return 0;
        }
    }

    return 1;
}


/* ---- "::keyword" when a reply or note is sent --------------------------- */

ngx_int_t
ngx_http_ticket_textmod_expand(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number, ngx_str_t *body,
    ngx_http_ticket_step_pt next)
{
    ngx_http_ticket_tmj_t  *t;

    if (!tk_textmod_has_token(ngx_ticket_str(body))) {
        return next(r, ctx);
    }

    t = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_tmj_t));
    if (t == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t->number = number;
    t->body = body;
    t->next = next;
    t->view = ctx->view;
    ctx->view = t;

    return ngx_http_ticket_tmj_read(r, ctx, t, ngx_http_ticket_tmj_expanded);
}


static ngx_int_t
ngx_http_ticket_tmj_expanded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    u_char                 *p, num[NGX_INT64_LEN];
    size_t                  n, len;
    tk_textmod_t           *mods;
    tk_textmod_vars_t       v;
    ngx_http_ticket_tmj_t  *t = ctx->view;

    ctx->view = t->view;

    /* a ticket the user may not see: the reply path says 404 itself */
    if (ngx_http_ticket_tmj_vars(ctx, t, &v) != NGX_OK
        || ngx_http_ticket_tmj_mods(r, ctx, &mods, &n) != NGX_OK
        || n == 0)
    {
        return t->next(r, ctx);
    }

    /* number 0: a new ticket that has none yet (the placeholder stays
     * empty) */
    v.number.data = num;
    v.number.len = t->number
                   ? (size_t) (ngx_sprintf(num, "%uL", t->number) - num) : 0;

    len = tk_textmod_expand(NULL, 0, ngx_ticket_str(t->body), mods, n, &v);
    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t->body->len = tk_textmod_expand(p, len, ngx_ticket_str(t->body), mods,
                                     n, &v);
    t->body->data = p;

    return t->next(r, ctx);
}
