/*
 * ngx_http_ticket_complete.c -- GET /t/N/complete?q=TEXT: addresses for
 * the composer's recipient fields, from the customers
 * (tk:customer-by-email, HSCAN ... MATCH) and the agents (tk:users), as
 * JSON for compose.js.  For those who may write in the ticket: the same
 * rights as the composer (none: 404, read only: 403); GET /new/complete
 * (the new outbound ticket) for those with full right on some group.
 * The page works without it.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_compose.h"


#define NGX_HTTP_TICKET_COMPLETE_MAX    10      /* suggestions */
#define NGX_HTTP_TICKET_COMPLETE_CAND   30      /* customers looked at */
#define NGX_HTTP_TICKET_COMPLETE_SCANS  16      /* HSCAN rounds at most */
#define NGX_HTTP_TICKET_COMPLETE_Q      64      /* bytes of the query */


typedef struct {
    uint64_t                   number;
    ngx_str_t                  q;               /* lower case */
    ngx_str_t                  pattern;         /* "*q*", glob-escaped */
    ngx_str_t                  cursor;
    ngx_uint_t                 scans;
    ngx_array_t                emails;          /* ngx_str_t, customers */
    ngx_array_t                ids;             /* ngx_str_t, their ids */
    ngx_http_ticket_reply_t   *users;           /* SMEMBERS tk:users */
    ngx_uint_t                *counts;          /* customer_vis.c */
} ngx_http_ticket_complete_t;


static ngx_int_t ngx_http_ticket_complete_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_complete_scan(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_complete_scanned(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_complete_owned(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_complete_visible(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_complete_names(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_complete_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_flag_t ngx_http_ticket_complete_match(ngx_str_t *q,
    ngx_str_t *s);
static void ngx_http_ticket_complete_item(tk_out_t *out, ngx_uint_t n,
    ngx_str_t *name, ngx_str_t *email, const char *kind, ngx_str_t *login);


ngx_int_t
ngx_http_ticket_complete(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number)
{
    u_char                      *p;
    size_t                       i;
    ngx_str_t                    key, q;
    tk_cmds_t                   *cmds;
    ngx_http_ticket_complete_t  *cp;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    cp = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_complete_t));
    cmds = ngx_http_ticket_cmds(r);
    if (cp == NULL || cmds == NULL
        || ngx_array_init(&cp->emails, r->pool, 8, sizeof(ngx_str_t))
           != NGX_OK
        || ngx_array_init(&cp->ids, r->pool, 8, sizeof(ngx_str_t)) != NGX_OK
        || (number && ngx_http_ticket_ticket_key(r, number, &key) != NGX_OK))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cp->number = number;
    ctx->view = cp;

    if (ngx_http_ticket_query_arg(r, "q", &q) != NGX_OK) {
        ngx_str_set(&q, "");
    }

    ngx_http_ticket_trim(&q);

    if (q.len > NGX_HTTP_TICKET_COMPLETE_Q || tk_has_ctrl(ngx_ticket_str(&q)))
    {
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_BAD_REQUEST,
                                                  "q", "bad query");
    }

    /* lower case (addresses are indexed so), and a glob of it */
    cp->q.data = ngx_pnalloc(r->pool, q.len + 1);
    cp->pattern.data = ngx_pnalloc(r->pool, 2 * q.len + 3);
    if (cp->q.data == NULL || cp->pattern.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cp->q.len = q.len;
    p = cp->pattern.data;
    *p++ = '*';

    for (i = 0; i < q.len; i++) {
        cp->q.data[i] = ngx_tolower(q.data[i]);

        if (ngx_strchr("*?[]\\", cp->q.data[i])) {
            *p++ = '\\';
        }

        *p++ = cp->q.data[i];
    }

    *p++ = '*';
    cp->pattern.len = p - cp->pattern.data;
    ngx_str_set(&cp->cursor, "0");

    /* no ticket yet (GET /new/complete): for whoever may write in some
     * group; the reply in the group's place says so */
    if (number) {
        tk_cmds_add(cmds, "HGET %S " TK_F_GROUP, ngx_ticket_str(&key));

    } else if (ngx_http_ticket_full_somewhere(ctx)) {
        tk_cmds_add(cmds, "ECHO +");

    } else {
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                                  "not found");
    }

    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_USERS);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_complete_read);
}


static ngx_int_t
ngx_http_ticket_complete_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_complete_t  *cp;

    cp = ctx->view;

    if (ctx->nreplies != 2 || ctx->replies[0].type != REDIS_REPLY_STRING) {
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                                  "not found");
    }

    switch (cp->number ? ngx_http_ticket_right(ctx, &ctx->replies[0].str)
                       : TK_RIGHT_FULL)
    {
    case TK_RIGHT_FULL:
        break;
    case TK_RIGHT_NONE:
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                                  "not found");
    default:
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_FORBIDDEN, NULL,
                                                  "read access only");
    }

    cp->users = &ctx->replies[1];

    if (cp->q.len < 2) {
        /* one letter matches everyone: nothing */
        cp->users = NULL;
        ctx->nreplies = 0;
        return ngx_http_ticket_complete_send(r, ctx);
    }

    return ngx_http_ticket_complete_scan(r, ctx);
}


/*
 * The customers' addresses are a hash (email -> id): HSCAN with MATCH, a
 * few rounds at most -- enough for a collective's customers, and a
 * suggestion missed is no harm.
 */
static ngx_int_t
ngx_http_ticket_complete_scan(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                   *cmds;
    ngx_http_ticket_complete_t  *cp;

    cp = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HSCAN " TK_KEY_CUSTOMER_BY_EMAIL " %S MATCH %S"
                " COUNT 1000", ngx_ticket_str(&cp->cursor),
                ngx_ticket_str(&cp->pattern));

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_complete_scanned);
}


static ngx_int_t
ngx_http_ticket_complete_scanned(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                   *e;
    tk_cmds_t                   *cmds;
    ngx_uint_t                   i;
    ngx_http_ticket_reply_t     *rep, *kv;
    ngx_http_ticket_complete_t  *cp;

    cp = ctx->view;
    rep = ctx->nreplies == 1 ? &ctx->replies[0] : NULL;

    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->nelem != 2
        || rep->element[1].type != REDIS_REPLY_ARRAY)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cp->cursor = rep->element[0].str;
    kv = &rep->element[1];

    for (i = 0; i + 1 < kv->nelem
                && cp->emails.nelts < NGX_HTTP_TICKET_COMPLETE_CAND; i += 2)
    {
        e = ngx_array_push(&cp->emails);
        if (e == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        *e = kv->element[i].str;

        e = ngx_array_push(&cp->ids);
        if (e == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        *e = kv->element[i + 1].str;
    }

    if (cp->emails.nelts < NGX_HTTP_TICKET_COMPLETE_CAND
        && !(cp->cursor.len == 1 && cp->cursor.data[0] == '0')
        && ++cp->scans < NGX_HTTP_TICKET_COMPLETE_SCANS)
    {
        return ngx_http_ticket_complete_scan(r, ctx);
    }

    if (ctx->user.admin || cp->ids.nelts == 0) {
        return ngx_http_ticket_complete_names(r, ctx);
    }

    /* a customer whose page is a 404 for this user is not suggested */
    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_ticket_cust_vis_tickets(cmds, cp->ids.elts, cp->ids.nelts);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_complete_owned);
}


/* The candidates' tickets are in: their groups next. */
static ngx_int_t
ngx_http_ticket_complete_owned(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                   *cmds;
    ngx_http_ticket_complete_t  *cp;

    cp = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL
        || ngx_http_ticket_cust_vis_groups(r, ctx, cmds, ctx->replies,
                                           ctx->nreplies, cp->ids.elts,
                                           cp->ids.nelts, &cp->counts)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cmds->n == 0) {
        ctx->replies = NULL;
        ctx->nreplies = 0;
        return ngx_http_ticket_complete_visible(r, ctx);
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_complete_visible);
}


/* Only the visible candidates stay, at most COMPLETE_MAX of them. */
static ngx_int_t
ngx_http_ticket_complete_visible(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    u_char                      *visible;
    ngx_str_t                   *e, *id;
    ngx_uint_t                   i, n;
    ngx_http_ticket_complete_t  *cp;

    cp = ctx->view;

    visible = ngx_pnalloc(r->pool, cp->ids.nelts + 1);
    if (visible == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_ticket_cust_vis_decide(ctx, ctx->replies, ctx->nreplies,
                                    cp->counts, cp->ids.nelts, visible);

    e = cp->emails.elts;
    id = cp->ids.elts;

    for (i = 0, n = 0; i < cp->ids.nelts; i++) {
        if (visible[i] && n < NGX_HTTP_TICKET_COMPLETE_MAX) {
            e[n] = e[i];
            id[n] = id[i];
            n++;
        }
    }

    cp->emails.nelts = n;
    cp->ids.nelts = n;

    return ngx_http_ticket_complete_names(r, ctx);
}


/* The customers' names, then the users'. */
static ngx_int_t
ngx_http_ticket_complete_names(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    char                         key[TK_KEY_MAX];
    size_t                       len;
    long long                    id;
    ngx_str_t                   *e;
    tk_cmds_t                   *cmds;
    ngx_uint_t                   i;
    ngx_http_ticket_complete_t  *cp;

    cp = ctx->view;

    /* admins: as many as found, cut to the suggestions shown */
    if (cp->ids.nelts > NGX_HTTP_TICKET_COMPLETE_MAX) {
        cp->ids.nelts = NGX_HTTP_TICKET_COMPLETE_MAX;
        cp->emails.nelts = NGX_HTTP_TICKET_COMPLETE_MAX;
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    e = cp->ids.elts;

    for (i = 0; i < cp->ids.nelts; i++) {
        id = tk_str_atoll(ngx_ticket_str(&e[i]));
        len = id > 0 ? tk_key_customer(key, sizeof(key), (uint64_t) id) : 0;

        if (len == 0) {
            tk_cmds_add(cmds, "ECHO -");
            continue;
        }

        tk_cmds_add(cmds, "HGET %b " TK_F_NAME, key, len);
    }

    /* the agents: few, their names and addresses in one batch */
    for (i = 0; cp->users->type == REDIS_REPLY_ARRAY
                && i < cp->users->nelem; i++)
    {
        if (!tk_valid_login(ngx_ticket_str(&cp->users->element[i].str))) {
            tk_cmds_add(cmds, "ECHO -");
            continue;
        }

        tk_cmds_add(cmds, "HMGET " TK_FMTS_USER " " TK_F_NAME " " TK_F_EMAIL " "
                    TK_F_DISABLED,
                    ngx_ticket_str(&cp->users->element[i].str));
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cmds->n == 0) {
        ctx->nreplies = 0;
        return ngx_http_ticket_complete_send(r, ctx);
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_complete_send);
}


/* The customers found (with their names), then the enabled agents whose
 * login, name or address matches. */
static ngx_int_t
ngx_http_ticket_complete_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_out_t                     out;
    ngx_str_t                   *e, name, email, disabled, *login;
    ngx_uint_t                   i, n, base;
    ngx_http_ticket_reply_t     *u;
    ngx_http_ticket_complete_t  *cp;

    cp = ctx->view;

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_out_cstr(&out, "{\"addresses\":[");

    e = cp->emails.elts;
    n = 0;

    for (i = 0; i < cp->emails.nelts; i++) {
        ngx_str_null(&name);

        if (i < ctx->nreplies && ctx->replies[i].type == REDIS_REPLY_STRING
            && !(ctx->replies[i].str.len == 1
                 && ctx->replies[i].str.data[0] == '-'))
        {
            name = ctx->replies[i].str;
        }

        ngx_http_ticket_complete_item(&out, n++, &name, &e[i], "customer",
                                      NULL);
    }

    base = cp->emails.nelts;

    for (i = 0; cp->users && cp->users->type == REDIS_REPLY_ARRAY
                && i < cp->users->nelem && base + i < ctx->nreplies
                && n < 2 * NGX_HTTP_TICKET_COMPLETE_MAX; i++)
    {
        u = &ctx->replies[base + i];
        login = &cp->users->element[i].str;

        if (u->type != REDIS_REPLY_ARRAY || u->nelem != 3) {
            continue;
        }

        ngx_http_ticket_reply_str(&u->element[0], &name);
        ngx_http_ticket_reply_str(&u->element[1], &email);
        ngx_http_ticket_reply_str(&u->element[2], &disabled);

        if (email.len == 0 || ngx_http_ticket_flag_on(&disabled)
            || !(ngx_http_ticket_complete_match(&cp->q, login)
                 || ngx_http_ticket_complete_match(&cp->q, &name)
                 || ngx_http_ticket_complete_match(&cp->q, &email)))
        {
            continue;
        }

        ngx_http_ticket_complete_item(&out, n++, &name, &email, "agent",
                                      login);
    }

    tk_out_cstr(&out, "]}\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}


/* an agent's login too: "@@login" mentions in the body (helper notify) */
static void
ngx_http_ticket_complete_item(tk_out_t *out, ngx_uint_t n, ngx_str_t *name,
    ngx_str_t *email, const char *kind, ngx_str_t *login)
{
    tk_out_cstr(out, n ? ",{\"email\":" : "{\"email\":");
    tk_out_json(out, email->data, email->len);
    tk_out_cstr(out, ",\"name\":");
    tk_out_json(out, name->data, name->len);
    if (login) {
        tk_out_cstr(out, ",\"login\":");
        tk_out_json(out, login->data, login->len);
    }
    tk_out_cstr(out, ",\"kind\":\"");
    tk_out_cstr(out, kind);
    tk_out_cstr(out, "\"}");
}


/* q (lower case) in s, ASCII case-insensitively */
static ngx_flag_t
ngx_http_ticket_complete_match(ngx_str_t *q, ngx_str_t *s)
{
    size_t  i;

    for (i = 0; i + q->len <= s->len; i++) {
        if (ngx_strncasecmp(s->data + i, q->data, q->len) == 0) {
            return 1;
        }
    }

    return 0;
}
