/*
 * ngx_http_ticket_api.c -- the JSON API below "/api/v1" for scripts and
 * other tools, authenticated by bearer token (ngx_http_ticket_auth.c):
 *
 *   GET /api/v1/me              the token's user and their groups
 *   GET /api/v1/tickets         a ticket list: the overviews and filters
 *                               of the web pages, paged and sorted
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
#include "ngx_http_ticket_cache.h"
#include "ngx_http_ticket_compose.h"
#include "ngx_http_ticket_outbound.h"
#include "ngx_http_ticket_api_json.h"


#define NGX_HTTP_TICKET_API_PER_PAGE   50
#define NGX_HTTP_TICKET_API_MAX_PAGE   100
#define NGX_HTTP_TICKET_API_PAGES      100000


/* The list request; the query comes first (see views.h). */
typedef struct {
    ngx_http_ticket_query_t    query;
    ngx_uint_t                 page;
    ngx_http_ticket_cache_item_t  cache;        /* the page cache's */
} ngx_http_ticket_api_list_t;


typedef struct {
    uint64_t                   number;
    ngx_str_t                  key;
    tk_ticket_t                ticket;
    ngx_http_ticket_reply_t   *history;
    ngx_uint_t                 narticles;
    uint64_t                   rev;
} ngx_http_ticket_api_ticket_t;


static ngx_int_t ngx_http_ticket_api_me(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_api_list(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_api_list_params(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_api_list_t *list,
    ngx_http_ticket_filter_t *f, const char **error);
static ngx_flag_t ngx_http_ticket_api_param(ngx_http_request_t *r,
    const char *name, ngx_str_t *arg, ngx_flag_t *malformed);
static ngx_int_t ngx_http_ticket_api_list_cache_key(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_api_list_t *list,
    ngx_http_ticket_filter_t *f);
static ngx_int_t ngx_http_ticket_api_listed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_api_ticket(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *digits);
static ngx_int_t ngx_http_ticket_api_ticket_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_api_ticket_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);


/* ---- routing -------------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_api(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t  rest, digits;

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

    /* POST /api/v1/tickets/N/articles: a reply or note (reply.c) */
    if (r->method == NGX_HTTP_POST && rest.len > 18
        && ngx_strncmp(rest.data, "/tickets/", 9) == 0
        && ngx_strncmp(rest.data + rest.len - 9, "/articles", 9) == 0)
    {
        uint64_t  number;

        digits.data = rest.data + 9;
        digits.len = rest.len - 18;

        if (ngx_http_ticket_number(digits.data, digits.data + digits.len,
                                   &number)
            != digits.len)
        {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                         "not found");
        }

        return ngx_http_ticket_reply_api(r, ctx, number);
    }

    /* notifications (helper notify): the list, mark read, subscribe */
    if (rest.len >= 14 && ngx_strncmp(rest.data, "/notifications", 14) == 0
        && (rest.len == 14 || rest.data[14] == '/'))
    {
        rest.data += sizeof("/notifications") - 1;
        rest.len -= sizeof("/notifications") - 1;
        return ngx_http_ticket_api_notifications(r, ctx, &rest);
    }

    if (rest.len > 22 && ngx_strncmp(rest.data, "/tickets/", 9) == 0
        && ngx_strncmp(rest.data + rest.len - 13, "/subscription", 13) == 0)
    {
        uint64_t  number;

        digits.data = rest.data + 9;
        digits.len = rest.len - 22;
        if (ngx_http_ticket_number(digits.data, digits.data + digits.len,
                                   &number)
            != digits.len)
        {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                         "not found");
        }
        return ngx_http_ticket_subscription(r, ctx, number, 1);
    }

    /* "/admin" and below: admins only, everyone else a 404 */
    if (rest.len >= 6 && ngx_strncmp(rest.data, "/admin", 6) == 0
        && (rest.len == 6 || rest.data[6] == '/'))
    {
        return ngx_http_ticket_api_admin(r, ctx, &rest);
    }

    /* PATCH /api/v1/tickets/N: the ticket page's forms (action.c) */
    if (r->method == NGX_HTTP_PATCH && rest.len > 9
        && ngx_strncmp(rest.data, "/tickets/", 9) == 0)
    {
        uint64_t  number;

        if (ngx_http_ticket_number(rest.data + 9, rest.data + rest.len,
                                   &number)
            != rest.len - 9)
        {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                         "not found");
        }

        return ngx_http_ticket_api_patch(r, ctx, number);
    }

    /* POST /api/v1/tickets: a new ticket with our first mail (outbound.c) */
    if (r->method == NGX_HTTP_POST && rest.len == 8
        && ngx_strncmp(rest.data, "/tickets", 8) == 0)
    {
        return ngx_http_ticket_outbound_api(r, ctx);
    }

    /* /api/v1/tickets/N/tags|merge|articles/A/split (issue 13) */
    if (rest.len > 9 && ngx_strncmp(rest.data, "/tickets/", 9) == 0) {
        ngx_int_t  rc;

        rc = ngx_http_ticket_case_api(r, ctx, &rest);
        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    /* casework: data protection (admins), GET and POST */
    if (rest.len > 11 && ngx_strncmp(rest.data, "/customers/", 11) == 0) {
        return ngx_http_ticket_dp_api(r, ctx, &rest);
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                     "only GET is supported");
    }

    if (rest.len == 3 && ngx_strncmp(rest.data, "/me", 3) == 0) {
        return ngx_http_ticket_api_me(r, ctx);
    }

    if (rest.len == 8 && ngx_strncmp(rest.data, "/tickets", 8) == 0) {
        return ngx_http_ticket_api_list(r, ctx);
    }

    /* saved and named overviews (ngx_http_ticket_api_overviews.c) */
    if (rest.len >= 10 && ngx_strncmp(rest.data, "/overviews", 10) == 0) {
        rest.data += 10;
        rest.len -= 10;
        return ngx_http_ticket_api_overviews(r, ctx, &rest);
    }

    if (rest.len == 7 && ngx_strncmp(rest.data, "/search", 7) == 0) {
        return ngx_http_ticket_search(r, ctx);
    }

    /* casework: text modules, ticket templates */
    if (rest.len == 13 && ngx_strncmp(rest.data, "/text_modules", 13) == 0) {
        return ngx_http_ticket_textmod_json(r, ctx);
    }
    if (rest.len == 10 && ngx_strncmp(rest.data, "/templates", 10) == 0) {
        return ngx_http_ticket_templates_api(r, ctx);
    }

    if (rest.len > 9 && ngx_strncmp(rest.data, "/tickets/", 9) == 0) {
        digits.data = rest.data + 9;
        digits.len = rest.len - 9;
        return ngx_http_ticket_api_ticket(r, ctx, &digits);
    }

    return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, "not found");
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


/* ---- /tickets -------------------------------------------------------------- */

static ngx_int_t
ngx_http_ticket_api_list(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_int_t                    rc;
    tk_out_t                     out;
    const char                  *error;
    ngx_http_ticket_filter_t     f;
    ngx_http_ticket_api_list_t  *list;

    list = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_api_list_t));
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_ticket_query_init(r, &list->query) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&f, sizeof(ngx_http_ticket_filter_t));
    error = NULL;

    if (ngx_http_ticket_api_list_params(r, ctx, list, &f, &error) != NGX_OK) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST, error);
    }

    rc = ngx_http_ticket_overview_query(r, ctx, &f, &list->query);

    if (rc == NGX_DECLINED) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, "not found");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the same list under the same generation: the JSON made before */
    if (ctx->cache) {
        if (ngx_http_ticket_api_list_cache_key(r, ctx, list, &f) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        switch (ngx_http_ticket_cache_get(r, ctx, &list->cache)) {

        case NGX_OK:
            if (ngx_http_ticket_out_init(r, &out) != NGX_OK
                || ngx_http_ticket_out_ref(&out, list->cache.body.data,
                                           list->cache.body.len)
                   != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);

        case NGX_DECLINED:
            break;

        default:
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    list->query.done = ngx_http_ticket_api_listed;
    ctx->view = list;

    return ngx_http_ticket_query_run(r, ctx, &list->query);
}


/*
 * The list depends on the user's groups and login (owner "me", the "my"
 * overviews) and on the parameters as parsed -- never on how they were
 * spelled.  No URLs and no language in it.
 */
static ngx_int_t
ngx_http_ticket_api_list_cache_key(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_api_list_t *list,
    ngx_http_ticket_filter_t *f)
{
    u_char                   *p;
    size_t                    len;
    ngx_http_ticket_query_t  *q;

    q = &list->query;

    len = sizeof("api|||||||||||") + ctx->user.login.len
          + ngx_http_ticket_cache_groups_len(ctx) + f->overview.len
          + f->group.len + f->owner.len + 7 * NGX_INT_T_LEN;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    list->cache.key.data = p;

    p = ngx_sprintf(p, "api|%V|", &ctx->user.login);
    p = ngx_http_ticket_cache_groups(p, ctx);
    p = ngx_sprintf(p, "|%V|%V|%i|%V|%i|%ui|%ui|%ui|%ui", &f->overview,
                    &f->group, f->state, &f->owner, q->priority, list->page,
                    q->limit, q->column, (ngx_uint_t) q->desc);

    list->cache.key.len = p - list->cache.key.data;
    list->cache.version = ctx->cache_gen;

    return NGX_OK;
}


/*
 * overview, group, state (name or number), owner (login, "me", "none"),
 * priority, page, per_page (at most 100), sort (a column, "-" in front
 * for descending) and dir (asc|desc).  Anything malformed is a 400 that
 * names the parameter: a script should fail loudly, not get a default.
 */
static ngx_int_t
ngx_http_ticket_api_list_params(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_api_list_t *list,
    ngx_http_ticket_filter_t *f, const char **error)
{
    ngx_int_t                 n;
    ngx_str_t                 arg;
    ngx_flag_t                desc, sorted, malformed;
    ngx_http_ticket_query_t  *q;

    q = &list->query;
    malformed = 0;

#define ngx_http_ticket_api_arg(name)                                        \
    ngx_http_ticket_api_param(r, name, &arg, &malformed)

    if (ngx_http_ticket_api_arg("overview")) {
        f->overview = arg;
    }

    if (ngx_http_ticket_api_arg("group")) {
        if (!tk_valid_group(ngx_ticket_str(&arg))) {
            *error = "bad group";
            return NGX_ERROR;
        }

        f->group = arg;
    }

    if (ngx_http_ticket_api_arg("state")) {
        f->state = tk_state_parse((char *) arg.data, arg.len);
        if (f->state < TK_STATE_MIN || f->state > TK_STATE_MAX) {
            *error = "bad state: a name (new, open, waiting, reminder, "
                     "deferred, closed) or 1 to 6";
            return NGX_ERROR;
        }
    }

    if (ngx_http_ticket_api_arg("owner")) {
        if (arg.len == 2 && ngx_strncmp(arg.data, "me", 2) == 0) {
            f->owner = ctx->user.login;

        } else if (arg.len == 4 && ngx_strncmp(arg.data, "none", 4) == 0) {
            ngx_str_set(&f->owner, TK_OWNER_NONE);

        } else if (tk_valid_login(ngx_ticket_str(&arg))) {
            f->owner = arg;

        } else {
            *error = "bad owner: a login, \"me\" or \"none\"";
            return NGX_ERROR;
        }
    }

    if (ngx_http_ticket_api_arg("priority")) {
        q->priority = tk_prio_parse((char *) arg.data, arg.len);
        if (q->priority < TK_PRIO_MIN || q->priority > TK_PRIO_MAX) {
            *error = "bad priority: a name (low, normal, high, urgent) or "
                     "1 to 4";
            return NGX_ERROR;
        }
    }

    list->page = 1;

    if (ngx_http_ticket_api_arg("page")) {
        n = ngx_atoi(arg.data, arg.len);
        if (n < 1 || n > NGX_HTTP_TICKET_API_PAGES) {
            *error = "bad page: a number from 1";
            return NGX_ERROR;
        }

        list->page = n;
    }

    q->limit = NGX_HTTP_TICKET_API_PER_PAGE;

    if (ngx_http_ticket_api_arg("per_page")) {
        n = ngx_atoi(arg.data, arg.len);
        if (n < 1 || n > NGX_HTTP_TICKET_API_MAX_PAGE) {
            *error = "bad per_page: 1 to 100";
            return NGX_ERROR;
        }

        q->limit = n;
    }

    q->offset = (list->page - 1) * q->limit;
    q->column = NGX_HTTP_TICKET_COL_UPDATED;
    q->desc = 1;
    sorted = 0;

    if (ngx_http_ticket_api_arg("sort")) {
        desc = (arg.data[0] == '-');

        if (desc) {
            arg.data++;
            arg.len--;
        }

        n = ngx_http_ticket_col_parse(&arg);
        if (n == NGX_ERROR) {
            *error = "bad sort: number, title, customer, group, owner, "
                     "state, priority, created or updated, \"-\" in front "
                     "for descending";
            return NGX_ERROR;
        }

        q->column = n;
        q->desc = desc;
        sorted = desc;
    }

    if (ngx_http_ticket_api_arg("dir")) {
        if (sorted) {
            *error = "use either sort=-COLUMN or dir, not both";
            return NGX_ERROR;
        }

        if (arg.len == 3 && ngx_strncmp(arg.data, "asc", 3) == 0) {
            q->desc = 0;

        } else if (arg.len == 4 && ngx_strncmp(arg.data, "desc", 4) == 0) {
            q->desc = 1;

        } else {
            *error = "bad dir: asc or desc";
            return NGX_ERROR;
        }
    }

#undef ngx_http_ticket_api_arg

    if (malformed) {
        *error = "malformed query string";
        return NGX_ERROR;
    }

    if (q->priority && !ngx_http_ticket_col_with_priority(q->column)) {
        *error = "with a priority filter the list sorts by updated, "
                 "priority, state or group only";
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* 1 when the parameter is there and not empty; a malformed escape sets
 * *malformed. */
static ngx_flag_t
ngx_http_ticket_api_param(ngx_http_request_t *r, const char *name,
    ngx_str_t *arg, ngx_flag_t *malformed)
{
    switch (ngx_http_ticket_query_arg(r, name, arg)) {

    case NGX_OK:
        return arg->len ? 1 : 0;

    case NGX_DECLINED:
        return 0;

    default:
        *malformed = 1;
        return 0;
    }
}


static ngx_int_t
ngx_http_ticket_api_listed(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    off_t                        len;
    tk_out_t                     out;
    ngx_uint_t                   i;
    ngx_chain_t                 *chain;
    ngx_http_ticket_api_list_t  *list;

    list = ctx->view;

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_out_cstr(&out, "{\"tickets\":[");

    for (i = 0; i < list->query.nrows; i++) {
        tk_out_cstr(&out, i ? ",\n{" : "\n{");
        ngx_http_ticket_api_ticket_fields(&out, &list->query.rows[i]);
        tk_out_cstr(&out, "}");
    }

    tk_out_cstr(&out, "],\"total\":");
    tk_out_uint(&out, list->query.total);
    tk_out_cstr(&out, ",\"page\":");
    tk_out_uint(&out, list->page);
    tk_out_cstr(&out, ",\"per_page\":");
    tk_out_uint(&out, list->query.limit);
    tk_out_cstr(&out, "}\n");

    if (list->cache.key.len) {
        if (ngx_http_ticket_out_chain(&out, &chain, &len) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_ticket_cache_put(r, ctx, &list->cache, chain);
    }

    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}


/* ---- /tickets/N ------------------------------------------------------------- */

/* After a PATCH: the ticket as it is now, the answer of a GET. */
ngx_int_t
ngx_http_ticket_api_ticket_get(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number)
{
    u_char     *p;
    ngx_str_t   digits;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    digits.data = p;
    digits.len = ngx_sprintf(p, "%uL", number) - p;

    return ngx_http_ticket_api_ticket(r, ctx, &digits);
}


static ngx_int_t
ngx_http_ticket_api_ticket(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_str_t *digits)
{
    uint64_t                       number;
    tk_cmds_t                     *cmds;
    ngx_http_ticket_api_ticket_t  *t;

    if (ngx_http_ticket_number(digits->data, digits->data + digits->len,
                               &number)
        != digits->len)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, "not found");
    }

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
