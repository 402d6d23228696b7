/*
 * ngx_http_ticket_api.c -- the JSON API below "/api/v1" for scripts and
 * other tools, authenticated by bearer token (ngx_http_ticket_auth.c):
 *
 *   GET /api/v1/me              the token's user and their groups
 *   GET /api/v1/tickets         a ticket list: the overviews and filters
 *                               of the web pages, paged and sorted
 *                               (ngx_http_ticket_api_list.c)
 *   GET /api/v1/tickets/N       one ticket with articles and history
 *   GET /api/v1/search?q=       full text (ngx_http_ticket_search.c)
 *   POST /api/v1/tickets/N/articles   a reply or note (reply.c)
 *   PATCH /api/v1/tickets/N     title, group, owner, state, priority,
 *                               reminder (api_write.c -> action.c)
 *   /api/v1/admin/...           the admin pages' reads and writes in
 *                               JSON (ngx_http_ticket_api_admin.c)
 *
 * The list uses the same query as the overview pages; a ticket outside
 * the user's groups is the same 404 as one that does not exist.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"
#include "ngx_http_ticket_casework.h"
#include "ngx_http_ticket_overview.h"
#include "ngx_http_ticket_compose.h"
#include "ngx_http_ticket_outbound.h"
#include "ngx_http_ticket_api_json.h"


typedef struct {
    uint64_t                   number;
    ngx_str_t                  key;
    tk_ticket_t                ticket;
    ngx_http_ticket_reply_t   *history;
    ngx_uint_t                 narticles;
    uint64_t                   rev;
} ngx_http_ticket_api_ticket_t;


/* how a route's path matches what follows "/api/v1" */
#define NGX_HTTP_TICKET_API_EXACT    0x01   /* the path, nothing more */
#define NGX_HTTP_TICKET_API_PREFIX   0x02   /* the path, maybe more */
#define NGX_HTTP_TICKET_API_BELOW    0x03   /* the path and more */
#define NGX_HTTP_TICKET_API_TREE     0x04   /* the path, or it + "/..." */
#define NGX_HTTP_TICKET_API_NUMBER   0x05   /* the path, N, the suffix */
#define NGX_HTTP_TICKET_API_MATCH    0x0f
/* the handler gets what follows the path, not all of it */
#define NGX_HTTP_TICKET_API_TAIL     0x10
/* the handler's NGX_DECLINED: the next rows are tried */
#define NGX_HTTP_TICKET_API_DECLINE  0x20


typedef ngx_int_t (*ngx_http_ticket_api_pt)(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
typedef ngx_int_t (*ngx_http_ticket_api_number_pt)(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number);
typedef ngx_int_t (*ngx_http_ticket_api_path_pt)(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *path);

/* One route: exactly one of handler, number and below is set. */
typedef struct {
    ngx_uint_t                     methods;     /* NGX_HTTP_*; 0: any */
    ngx_uint_t                     match;       /* NGX_HTTP_TICKET_API_* */
    ngx_str_t                      path;        /* below "/api/v1" */
    ngx_str_t                      suffix;      /* after N (NUMBER) */
    ngx_http_ticket_api_pt         handler;
    ngx_http_ticket_api_number_pt  number;
    ngx_http_ticket_api_path_pt    below;
} ngx_http_ticket_api_route_t;


static ngx_int_t ngx_http_ticket_api_route(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const ngx_http_ticket_api_route_t *route,
    ngx_str_t *rest);
static ngx_flag_t ngx_http_ticket_api_route_match(
    const ngx_http_ticket_api_route_t *route, ngx_str_t *rest);
static ngx_int_t ngx_http_ticket_api_route_number(
    const ngx_http_ticket_api_route_t *route, ngx_str_t *rest,
    uint64_t *number);
static ngx_int_t ngx_http_ticket_api_subscription(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number);
static ngx_int_t ngx_http_ticket_api_not_allowed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_api_me(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_api_ticket(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number);
static ngx_int_t ngx_http_ticket_api_ticket_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_api_ticket_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);


#define NGX_HTTP_TICKET_API_GET      (NGX_HTTP_GET | NGX_HTTP_HEAD)

/*
 * In order: the first matching row answers.  The writes come first;
 * whatever is not a GET or HEAD after them is a 405.
 */
static const ngx_http_ticket_api_route_t  ngx_http_ticket_api_routes[] = {

    /* a reply or note (reply.c) */
    { NGX_HTTP_POST, NGX_HTTP_TICKET_API_NUMBER, ngx_string("/tickets/"),
      ngx_string("/articles"), NULL, ngx_http_ticket_reply_api, NULL },

    /* notifications (helper notify): the list, mark read, subscribe */
    { 0, NGX_HTTP_TICKET_API_TREE | NGX_HTTP_TICKET_API_TAIL,
      ngx_string("/notifications"), ngx_null_string, NULL, NULL,
      ngx_http_ticket_api_notifications },

    { 0, NGX_HTTP_TICKET_API_NUMBER, ngx_string("/tickets/"),
      ngx_string("/subscription"), NULL, ngx_http_ticket_api_subscription,
      NULL },

    /* "/admin" and below: admins only, everyone else a 404 */
    { 0, NGX_HTTP_TICKET_API_TREE, ngx_string("/admin"), ngx_null_string,
      NULL, NULL, ngx_http_ticket_api_admin },

    /* the ticket page's forms (action.c) */
    { NGX_HTTP_PATCH, NGX_HTTP_TICKET_API_NUMBER, ngx_string("/tickets/"),
      ngx_null_string, NULL, ngx_http_ticket_api_patch, NULL },

    /* a new ticket with our first mail (outbound.c) */
    { NGX_HTTP_POST, NGX_HTTP_TICKET_API_EXACT, ngx_string("/tickets"),
      ngx_null_string, ngx_http_ticket_outbound_api, NULL, NULL },

    /* .../tags, .../merge, .../articles/A/split (issue 13) */
    { 0, NGX_HTTP_TICKET_API_BELOW | NGX_HTTP_TICKET_API_DECLINE,
      ngx_string("/tickets/"), ngx_null_string, NULL, NULL,
      ngx_http_ticket_case_api },

    /* casework: data protection (admins), GET and POST */
    { 0, NGX_HTTP_TICKET_API_BELOW, ngx_string("/customers/"),
      ngx_null_string, NULL, NULL, ngx_http_ticket_dp_api },

    { (ngx_uint_t) ~NGX_HTTP_TICKET_API_GET, NGX_HTTP_TICKET_API_PREFIX,
      ngx_string(""), ngx_null_string, ngx_http_ticket_api_not_allowed,
      NULL, NULL },

    { NGX_HTTP_TICKET_API_GET, NGX_HTTP_TICKET_API_EXACT, ngx_string("/me"),
      ngx_null_string, ngx_http_ticket_api_me, NULL, NULL },

    { NGX_HTTP_TICKET_API_GET, NGX_HTTP_TICKET_API_EXACT,
      ngx_string("/tickets"), ngx_null_string, ngx_http_ticket_api_list,
      NULL, NULL },

    /* saved and named overviews (ngx_http_ticket_api_overviews.c) */
    { NGX_HTTP_TICKET_API_GET,
      NGX_HTTP_TICKET_API_PREFIX | NGX_HTTP_TICKET_API_TAIL,
      ngx_string("/overviews"), ngx_null_string, NULL, NULL,
      ngx_http_ticket_api_overviews },

    { NGX_HTTP_TICKET_API_GET, NGX_HTTP_TICKET_API_EXACT,
      ngx_string("/search"), ngx_null_string, ngx_http_ticket_search, NULL,
      NULL },

    /* casework: text modules, ticket templates */
    { NGX_HTTP_TICKET_API_GET, NGX_HTTP_TICKET_API_EXACT,
      ngx_string("/text_modules"), ngx_null_string,
      ngx_http_ticket_textmod_json, NULL, NULL },

    { NGX_HTTP_TICKET_API_GET, NGX_HTTP_TICKET_API_EXACT,
      ngx_string("/templates"), ngx_null_string,
      ngx_http_ticket_templates_api, NULL, NULL },

    { NGX_HTTP_TICKET_API_GET, NGX_HTTP_TICKET_API_NUMBER,
      ngx_string("/tickets/"), ngx_null_string, NULL,
      ngx_http_ticket_api_ticket, NULL },

    { 0, 0, ngx_null_string, ngx_null_string, NULL, NULL, NULL }
};


/* ---- routing -------------------------------------------------------------- */

/*
 * The routes below "/api/v1", tried in order: the first row whose
 * method and path match answers.  A row's handler is one of three
 * kinds, by what it needs of the path: nothing, the ticket number, or
 * the path (all of it, or with NGX_HTTP_TICKET_API_TAIL what follows
 * the row's path).
 */
ngx_int_t
ngx_http_ticket_api(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_int_t                           rc;
    ngx_str_t                           rest;
    const ngx_http_ticket_api_route_t  *route;

    /*
     * A browser sends the session cookie along with any request, also one
     * another site makes it send: the API takes bearer tokens only.
     */
    if (ctx->sid.len) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                     "use an API token (Authorization: "
                                     "Bearer ...)");
    }

    rest.data = ctx->path.data + sizeof("/api/v1") - 1;
    rest.len = ctx->path.len - (sizeof("/api/v1") - 1);

    for (route = ngx_http_ticket_api_routes; route->path.data; route++) {

        if ((route->methods && !(r->method & route->methods))
            || !ngx_http_ticket_api_route_match(route, &rest))
        {
            continue;
        }

        rc = ngx_http_ticket_api_route(r, ctx, route, &rest);

        /* a DECLINE row's handler knows only some paths below its own */
        if (rc == NGX_DECLINED && (route->match & NGX_HTTP_TICKET_API_DECLINE))
        {
            continue;
        }

        return rc;
    }

    return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, "not found");
}


/* A matching row: its handler, with what it takes of the path. */
static ngx_int_t
ngx_http_ticket_api_route(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    const ngx_http_ticket_api_route_t *route, ngx_str_t *rest)
{
    uint64_t   number;
    ngx_str_t  path;

    if (route->number) {
        /* ".../tickets/12x/articles": the address of no ticket */
        if (ngx_http_ticket_api_route_number(route, rest, &number) != NGX_OK) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                         "not found");
        }

        return route->number(r, ctx, number);
    }

    if (route->below == NULL) {
        return route->handler(r, ctx);
    }

    path = *rest;
    if (route->match & NGX_HTTP_TICKET_API_TAIL) {
        path.data += route->path.len;
        path.len -= route->path.len;
    }

    return route->below(r, ctx, &path);
}


static ngx_flag_t
ngx_http_ticket_api_route_match(const ngx_http_ticket_api_route_t *route,
    ngx_str_t *rest)
{
    size_t             len;
    const ngx_str_t   *path, *suffix;

    path = &route->path;
    suffix = &route->suffix;
    len = path->len;

    if (rest->len < len || ngx_strncmp(rest->data, path->data, len) != 0) {
        return 0;
    }

    switch (route->match & NGX_HTTP_TICKET_API_MATCH) {

    case NGX_HTTP_TICKET_API_EXACT:
        return rest->len == len;

    case NGX_HTTP_TICKET_API_PREFIX:
        return 1;

    case NGX_HTTP_TICKET_API_BELOW:
        return rest->len > len;

    case NGX_HTTP_TICKET_API_TREE:
        return rest->len == len || rest->data[len] == '/';

    default: /* NGX_HTTP_TICKET_API_NUMBER */
        return rest->len > len + suffix->len
               && ngx_strncmp(rest->data + rest->len - suffix->len,
                              suffix->data, suffix->len)
                  == 0;
    }
}


/* The N of path + N + suffix: digits only. */
static ngx_int_t
ngx_http_ticket_api_route_number(const ngx_http_ticket_api_route_t *route,
    ngx_str_t *rest, uint64_t *number)
{
    u_char  *start, *end;

    start = rest->data + route->path.len;
    end = rest->data + rest->len - route->suffix.len;

    if (ngx_http_ticket_number(start, end, number) != (size_t) (end - start))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "/tickets/N/subscription": the API's answer, not the form's */
static ngx_int_t
ngx_http_ticket_api_subscription(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number)
{
    return ngx_http_ticket_subscription(r, ctx, number, 1);
}


/* What no row above took is read only. */
static ngx_int_t
ngx_http_ticket_api_not_allowed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                 "only GET is supported");
}


/* ---- /me ------------------------------------------------------------------- */

/* Everything is known from authentication: no Redis round trip. */
static ngx_int_t
ngx_http_ticket_api_me(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_out_t                        out;
    ngx_uint_t                      i;
    const char                     *right;
    ngx_http_ticket_group_right_t  *gr;

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_out_cstr(&out, "{");
    ngx_http_ticket_api_str(&out, "login", ngx_ticket_str(&ctx->user.login),
                            0);
    tk_out_cstr(&out, ",");
    ngx_http_ticket_api_str(&out, "name", ngx_ticket_str(&ctx->user.name), 0);
    tk_out_cstr(&out, ",");
    ngx_http_ticket_api_str(&out, "email", ngx_ticket_str(&ctx->user.email),
                            0);
    tk_out_cstr(&out, ",");
    ngx_http_ticket_api_str(&out, "role", ngx_ticket_str(&ctx->user.role), 0);
    tk_out_cstr(&out, ",");
    ngx_http_ticket_api_str(&out, "lang", ngx_ticket_str(&ctx->user.lang), 0);
    tk_out_cstr(&out, ",\"groups\":[");

    gr = ctx->groups.elts;

    for (i = 0; i < ctx->groups.nelts; i++) {
        right = tk_right_name((int) gr[i].right);

        tk_out_cstr(&out, i ? ",{" : "{");
        ngx_http_ticket_api_str(&out, "name", ngx_ticket_str(&gr[i].name), 0);
        tk_out_cstr(&out, ",\"right\":");
        ngx_http_ticket_api_name(&out, right, "none");
        tk_out_cstr(&out, "}");
    }

    tk_out_cstr(&out, "]}\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}


/* ---- /tickets/N ------------------------------------------------------------- */

/* After a PATCH: the ticket as it is now, the answer of a GET. */
ngx_int_t
ngx_http_ticket_api_ticket_get(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number)
{
    return ngx_http_ticket_api_ticket(r, ctx, number);
}


static ngx_int_t
ngx_http_ticket_api_ticket(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number)
{
    tk_cmds_t                     *cmds;
    ngx_http_ticket_api_ticket_t  *t;

    t = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_api_ticket_t));
    if (t == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = t;

    t->number = number;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL
        || ngx_http_ticket_ticket_key(r, number, &t->key) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_ticket_ticket_read(cmds, &t->key);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_api_ticket_read);
}


/* The ticket is in: the right decides (none: 404), then the articles. */
static ngx_int_t
ngx_http_ticket_api_ticket_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                     *cmds;
    ngx_http_ticket_api_ticket_t  *t;

    t = ctx->view;

    if (ctx->nreplies != 3) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_ticket_ticket_parse(r,
                                &ctx->replies[NGX_HTTP_TICKET_READ_TICKET],
                                &t->ticket)
            != NGX_OK
        || ngx_http_ticket_right(ctx, (ngx_str_t *) &t->ticket.group)
           == TK_RIGHT_NONE)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, "not found");
    }

    t->history = &ctx->replies[NGX_HTTP_TICKET_READ_HISTORY];

    {
        ngx_str_t  *rev;

        rev = ngx_http_ticket_reply_field(
                          &ctx->replies[NGX_HTTP_TICKET_READ_TICKET], TK_F_REV);
        t->rev = (rev && tk_str_atoll(ngx_ticket_str(rev)) > 0)
                 ? (uint64_t) tk_str_atoll(ngx_ticket_str(rev)) : 0;
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t->narticles = ngx_http_ticket_articles_read(cmds, t->number,
                               &ctx->replies[NGX_HTTP_TICKET_READ_ARTICLES]);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cmds->n == 0) {
        ctx->nreplies = 0;
        return ngx_http_ticket_api_ticket_send(r, ctx);
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_api_ticket_send);
}


/*
 * The ticket's fields, then "articles" and "history" (the entries of
 * the history stream as JSON objects, as they always looked here).
 */
static ngx_int_t
ngx_http_ticket_api_ticket_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_out_t                       out;
    ngx_uint_t                     i, n;
    tk_article_t                   a;
    tk_ticket_t                   *tk;
    ngx_http_ticket_row_t          row;
    ngx_http_ticket_hist_t         h;
    ngx_http_ticket_api_ticket_t  *t;

    t = ctx->view;
    tk = &t->ticket;

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&row, sizeof(ngx_http_ticket_row_t));
    row.number = tk->number;
    row.title = *(ngx_str_t *) &tk->title;
    row.customer_name = *(ngx_str_t *) &tk->customer_name;
    row.customer_email = *(ngx_str_t *) &tk->customer_email;
    row.group = *(ngx_str_t *) &tk->group;
    row.owner = *(ngx_str_t *) &tk->owner;
    row.state = tk->state;
    row.priority = tk->priority;
    row.created = tk->created;
    row.updated = tk->updated;
    row.tags = *(ngx_str_t *) &tk->tags;
    row.customer = tk->customer;

    tk_out_cstr(&out, "{");
    ngx_http_ticket_api_ticket_fields(&out, &row);
    ngx_http_ticket_api_time(&out, "pending_until", tk->pending_until);
    ngx_http_ticket_api_time(&out, "first_response", tk->first_response);
    ngx_http_ticket_api_time(&out, "escalation_at", tk->escalation_at);
    /* what POST .../articles takes as "rev" (a stale one is a 409) */
    tk_out_cstr(&out, ",\"rev\":");
    tk_out_uint(&out, t->rev);
    ngx_http_ticket_api_time(&out, "escalated", tk->escalated);
    /* issue 13: where a merged duplicate went, or null */
    tk_out_cstr(&out, ",\"merged_into\":");
    if (tk->merged_into) {
        tk_out_uint(&out, tk->merged_into);
    } else {
        tk_out_cstr(&out, "null");
    }
    tk_out_cstr(&out, ",\"articles\":[");

    n = 0;

    for (i = 0; i < t->narticles && i < ctx->nreplies; i++) {
        if (ngx_http_ticket_article_parse(r, &ctx->replies[i], &a) != NGX_OK) {
            continue;
        }

        tk_out_cstr(&out, n++ ? ",\n{" : "\n{");
        ngx_http_ticket_api_article(&out, &a);
        tk_out_cstr(&out, "}");
    }

    tk_out_cstr(&out, "],\"history\":[");

    n = 0;

    if (t->history->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < t->history->nelem; i++) {
            if (ngx_http_ticket_history_entry(&t->history->element[i], &h)
                != NGX_OK)
            {
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "ticket: history entry %ui of %V is not "
                              "one of ours, left out", i, &t->key);
                continue;
            }

            tk_out_cstr(&out, n++ ? ",\n" : "\n");
            ngx_http_ticket_history_json(&out, &h);
        }
    }

    tk_out_cstr(&out, "]}\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}
