/*
 * ngx_http_ticket_api_list.c -- GET /api/v1/tickets: a ticket list with
 * the overviews and filters of the web pages, paged and sorted, through
 * the overview query and the page cache.  The router and the other API
 * reads: ngx_http_ticket_api.c.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ticket_views.h"
#include "ngx_http_ticket_overview.h"
#include "ngx_http_ticket_cache.h"
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


/* ---- /tickets -------------------------------------------------------------- */

ngx_int_t
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
