/*
 * ngx_http_ticket_dp.c -- data protection for admins (SCHEMA.md "Data
 * protection"): the web asks, "ticketctl customer work" does.
 *
 *   GET  /admin/customers[?request=ID]   the forms, a request's outcome
 *   POST /admin/customers/export         address
 *   POST /admin/customers/erase          address, mode, confirm (the
 *                                        address again)
 *   GET  /admin/customers/download?request=ID   the export's zip
 *   GET  /api/v1/customers/ADDRESS/export       202 {"request":ID,...}
 *   POST /api/v1/customers/ADDRESS/erase        {"mode":"anonymise"|
 *                                               "delete"} -> 202
 *   GET  /api/v1/customers/requests/ID          202 while queued; the
 *                                               zip, or the outcome
 *
 * A request is one XADD to tk:dp:requests; the outcome is read from
 * tk:dp:result:ID.  Admins only (anyone else: 404, on the pages and in
 * the API); nothing is written before the checks pass.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_casework.h"
#include "ngx_http_ticket_compose.h"
#include "tk_addr.h"
#include "tk_json.h"
#include "tk_tpl.h"


typedef struct {
    tk_tpl_customers_t         tpl;
    ngx_uint_t                 status;
    ngx_flag_t                 api;
    ngx_flag_t                 download;
    ngx_str_t                  request;
    ngx_str_t                  address;
    const char                *op;
    const char                *mode;
} ngx_http_ticket_dp_t;


static ngx_int_t ngx_http_ticket_dp_enqueue(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_dp_queued(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_dp_result(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_dp_outcome(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_dp_page(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_flag_t ngx_http_ticket_dp_address(ngx_http_request_t *r,
    ngx_str_t *a);
static ngx_flag_t ngx_http_ticket_dp_id(ngx_str_t *id);
static void ngx_http_ticket_dp_body(tk_out_t *out, void *data);


/* ---- the JSON API ------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_dp_api(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_str_t *rest)
{
    u_char                *slash;
    ngx_str_t              tail, mode;
    tk_json_member_t       m[4];
    const tk_json_member_t *e;
    size_t                 errpos;
    int                    n;
    ngx_http_ticket_dp_t  *dp;

    /* like the rest of the admin API: what an agent may not use is not there */
    if (!ctx->user.admin) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    dp = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_dp_t));
    if (dp == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    dp->api = 1;
    ctx->view = dp;

    /* rest: "/customers/..." */
    tail.data = rest->data + sizeof("/customers/") - 1;
    tail.len = rest->len - (sizeof("/customers/") - 1);

    if (tail.len > 9 && ngx_strncmp(tail.data, "requests/", 9) == 0) {
        dp->request.data = tail.data + 9;
        dp->request.len = tail.len - 9;
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))
            || !ngx_http_ticket_dp_id(&dp->request))
        {
            return ngx_http_ticket_compose_json_error(r, NGX_HTTP_NOT_FOUND,
                                                      NULL, "not found");
        }
        return ngx_http_ticket_dp_result(r, ctx);
    }

    slash = ngx_strlchr(tail.data, tail.data + tail.len, '/');
    if (slash == NULL) {
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                                  "not found");
    }
    dp->address.data = tail.data;
    dp->address.len = slash - tail.data;
    tail.len -= slash - tail.data;
    tail.data = slash;

    if (!ngx_http_ticket_dp_address(r, &dp->address)) {
        return ngx_http_ticket_compose_json_error(r, 422, "address",
                                                  "not an address");
    }

    if (tail.len == 7 && ngx_strncmp(tail.data, "/export", 7) == 0
        && (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)))
    {
        dp->op = "export";
        dp->mode = "";
        return ngx_http_ticket_dp_enqueue(r, ctx);
    }

    if (tail.len != 6 || ngx_strncmp(tail.data, "/erase", 6) != 0
        || r->method != NGX_HTTP_POST)
    {
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                                  "not found");
    }

    n = tk_json_object(ngx_ticket_str(&ctx->form), m, 4, &errpos);
    e = n > 0 ? tk_json_get(m, n, "mode") : NULL;
    if (e == NULL || e->type != TK_JSON_STRING
        || tk_json_string(&e->value, ngx_ticket_str(&mode),
                          (tk_alloc_pt) ngx_palloc, r->pool) != 0
        || !((mode.len == 6 && ngx_strncmp(mode.data, "delete", 6) == 0)
             || (mode.len == 9
                 && ngx_strncmp(mode.data, "anonymise", 9) == 0)))
    {
        return ngx_http_ticket_compose_json_error(r, 422, "mode",
                   "mode must be \"anonymise\" or \"delete\"");
    }

    dp->op = "erase";
    dp->mode = mode.len == 6 ? "delete" : "anonymise";
    return ngx_http_ticket_dp_enqueue(r, ctx);
}


/* ---- the admin page ----------------------------------------------------- */

ngx_int_t
ngx_http_ticket_dp_admin(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t              rest, confirm, mode;
    ngx_http_ticket_dp_t  *dp;

    dp = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_dp_t));
    if (dp == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    dp->status = NGX_HTTP_OK;
    ctx->page = "manage";
    ctx->view = dp;

    rest.data = ctx->path.data + sizeof("/admin/customers") - 1;
    rest.len = ctx->path.len - (sizeof("/admin/customers") - 1);

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        dp->download = rest.len == 9
                       && ngx_strncmp(rest.data, "/download", 9) == 0;
        if (rest.len && !dp->download) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
        }
        if (ngx_http_ticket_query_arg(r, "request", &dp->request) == NGX_OK
            && ngx_http_ticket_dp_id(&dp->request))
        {
            return ngx_http_ticket_dp_result(r, ctx);
        }
        if (dp->download) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
        }
        ngx_str_null(&dp->request);
        /* ?address=: from a customer's page, both forms filled in */
        if (ngx_http_ticket_query_arg(r, "address", &dp->address) == NGX_OK
            && dp->address.len <= 254
            && !tk_has_ctrl(ngx_ticket_str(&dp->address)))
        {
            dp->tpl.address = *ngx_ticket_str(&dp->address);
            dp->tpl.er_address = dp->tpl.address;
        }
        return ngx_http_ticket_dp_page(r, ctx);
    }

    if (ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
        return ngx_http_ticket_csrf_refused(r, ctx);
    }

    ngx_http_ticket_form_value(r, ctx, "address", &dp->address);
    ngx_http_ticket_trim(&dp->address);

    if (rest.len == 7 && ngx_strncmp(rest.data, "/export", 7) == 0) {
        dp->tpl.address = *ngx_ticket_str(&dp->address);
        if (!ngx_http_ticket_dp_address(r, &dp->address)) {
            dp->status = 422;
            return ngx_http_ticket_dp_page(r, ctx);
        }
        dp->op = "export";
        dp->mode = "";
        return ngx_http_ticket_dp_enqueue(r, ctx);
    }

    if (rest.len != 6 || ngx_strncmp(rest.data, "/erase", 6) != 0) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    ngx_http_ticket_form_value(r, ctx, "confirm", &confirm);
    ngx_http_ticket_form_value(r, ctx, "mode", &mode);
    ngx_http_ticket_trim(&confirm);
    dp->tpl.er_address = *ngx_ticket_str(&dp->address);
    dp->tpl.mode_delete = mode.len == 6
                          && ngx_strncmp(mode.data, "delete", 6) == 0;

    if (!ngx_http_ticket_dp_address(r, &dp->address)) {
        ngx_http_ticket_cstr(&dp->tpl.err_address,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_COMMON_NOT_A_VALID_ADDRESS));
        dp->status = 422;
    } else if (confirm.len != dp->address.len
               || ngx_strncasecmp(confirm.data, dp->address.data,
                                  confirm.len) != 0)
    {
        ngx_http_ticket_cstr(&dp->tpl.err_confirm,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_DP_THE_CONFIRMATION_DOES_NOT));
        dp->status = 422;
    } else if (!dp->tpl.mode_delete
               && !(mode.len == 9
                    && ngx_strncmp(mode.data, "anonymise", 9) == 0))
    {
        dp->status = 422;
    }

    if (dp->status != NGX_HTTP_OK) {
        return ngx_http_ticket_dp_page(r, ctx);
    }

    dp->op = "erase";
    dp->mode = dp->tpl.mode_delete ? "delete" : "anonymise";
    return ngx_http_ticket_dp_enqueue(r, ctx);
}


/* ---- requests and outcomes ---------------------------------------------- */

static ngx_int_t
ngx_http_ticket_dp_enqueue(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t             *cmds;
    ngx_http_ticket_dp_t  *dp = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "XADD " TK_KEY_DP_REQUESTS " * " TK_F_DP_OP " %s "
                TK_F_DP_ADDRESS " %S " TK_F_DP_MODE " %s " TK_F_DP_LOGIN
                " %S " TK_F_DP_TIME " %lld", dp->op,
                ngx_ticket_str(&dp->address), dp->mode,
                ngx_ticket_str(&ctx->user.login), (long long) ngx_time());
    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "ticket: %s requested by \"%V\"", dp->op,
                  &ctx->user.login);

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_dp_queued);
}


static ngx_int_t
ngx_http_ticket_dp_queued(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                *p;
    tk_out_t               out;
    ngx_str_t              id;
    ngx_http_ticket_dp_t  *dp = ctx->view;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_STRING) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    id = ctx->replies[0].str;

    if (!dp->api) {
        p = ngx_pnalloc(r->pool, sizeof("admin/customers?request=") + id.len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        return ngx_http_ticket_redirect(r, (char *) p,
                   ngx_sprintf(p, "admin/customers?request=%V", &id) - p);
    }

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    tk_out_cstr(&out, "{\"request\":");
    tk_out_json(&out, id.data, id.len);
    tk_out_cstr(&out, ",\"op\":");
    tk_out_json(&out, dp->op, ngx_strlen(dp->op));
    tk_out_cstr(&out, ",\"status\":\"queued\",\"result\":\"/api/v1/customers/"
                "requests/");
    tk_out_raw(&out, id.data, id.len);
    tk_out_cstr(&out, "\"}\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_ACCEPTED);
}


static ngx_int_t
ngx_http_ticket_dp_result(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t             *cmds;
    ngx_http_ticket_dp_t  *dp = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HMGET " TK_FMTS_DP_RESULT " " TK_F_DP_STATUS " "
                TK_F_DP_OP " " TK_F_DP_MESSAGE " " TK_F_DP_TICKETS " "
                TK_F_DP_ARTICLES, ngx_ticket_str(&dp->request));
    /* still waiting in the stream? */
    tk_cmds_add(cmds, "XRANGE " TK_KEY_DP_REQUESTS " %S %S",
                ngx_ticket_str(&dp->request), ngx_ticket_str(&dp->request));
    if (dp->download || dp->api) {
        tk_cmds_add(cmds, "HGET " TK_FMTS_DP_RESULT " " TK_F_DP_FILE,
                    ngx_ticket_str(&dp->request));
    }
    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_dp_outcome);
}


static ngx_int_t
ngx_http_ticket_dp_outcome(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_out_t                  out;
    ngx_str_t                 v[5], name = ngx_string("export.zip");
    ngx_uint_t                i;
    ngx_flag_t                queued;
    ngx_http_ticket_reply_t  *h;
    ngx_http_ticket_dp_t     *dp = ctx->view;

    if (ctx->nreplies < 2 || ctx->replies[0].type != REDIS_REPLY_ARRAY
        || ctx->replies[0].nelem != 5)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    h = &ctx->replies[0];
    for (i = 0; i < 5; i++) {
        ngx_http_ticket_reply_str(&h->element[i], &v[i]);
    }
    queued = v[0].len == 0 && ctx->replies[1].type == REDIS_REPLY_ARRAY
             && ctx->replies[1].nelem > 0;

    if (v[0].len == 0 && !queued) {
        return dp->api ? ngx_http_ticket_compose_json_error(r,
                             NGX_HTTP_NOT_FOUND, NULL, "no such request (an "
                             "outcome is kept for an hour)")
                       : ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                               NULL);
    }

    /* the zip itself */
    if ((dp->download || dp->api) && ctx->nreplies == 3
        && ctx->replies[2].type == REDIS_REPLY_STRING)
    {
        return ngx_http_ticket_file(r, &ctx->replies[2].str,
                                    "application/zip", 0, &name);
    }
    if (dp->download) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (!dp->api) {
        dp->tpl.queued = queued;
        dp->tpl.done = v[0].len == 4;
        dp->tpl.error = v[0].len == 5;
        ngx_http_ticket_cstr(&dp->tpl.status, queued ? "queued"
                             : v[0].len == 4 ? "done" : "error");
        dp->tpl.message = *ngx_ticket_str(&v[2]);
        dp->tpl.tickets = *ngx_ticket_str(&v[3]);
        dp->tpl.articles = *ngx_ticket_str(&v[4]);
        if (v[1].len == 6 && dp->tpl.done) {
            u_char  *p = ngx_pnalloc(r->pool, sizeof("admin/customers/"
                                     "download?request=") + dp->request.len);

            if (p == NULL
                || ngx_http_ticket_url(r, (char *) p,
                       ngx_sprintf(p, "admin/customers/download?request=%V",
                                   &dp->request) - p,
                       &dp->tpl.download_url) != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
        return ngx_http_ticket_dp_page(r, ctx);
    }

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    tk_out_cstr(&out, "{\"request\":");
    tk_out_json(&out, dp->request.data, dp->request.len);
    tk_out_cstr(&out, ",\"status\":");
    if (queued) {
        tk_out_cstr(&out, "\"queued\"}\n");
        return ngx_http_ticket_json(r, &out, NGX_HTTP_ACCEPTED);
    }
    tk_out_json(&out, v[0].data, v[0].len);
    tk_out_cstr(&out, ",\"op\":");
    tk_out_json(&out, v[1].data, v[1].len);
    tk_out_cstr(&out, ",\"message\":");
    tk_out_json(&out, v[2].data, v[2].len);
    tk_out_cstr(&out, ",\"tickets\":");
    tk_out_uint(&out, (uint64_t) tk_str_atoll(ngx_ticket_str(&v[3])));
    tk_out_cstr(&out, ",\"articles\":");
    tk_out_uint(&out, (uint64_t) tk_str_atoll(ngx_ticket_str(&v[4])));
    tk_out_cstr(&out, "}\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}


static ngx_int_t
ngx_http_ticket_dp_page(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                *p;
    ngx_str_t              title;
    ngx_http_ticket_dp_t  *dp = ctx->view;
    tk_tpl_customers_t    *tpl = &dp->tpl;

    tpl->de = ngx_http_ticket_lang_de(ctx);
    tpl->csrf = *ngx_ticket_str(&ctx->csrf);
    tpl->request = *ngx_ticket_str(&dp->request);

    if (ngx_http_ticket_url(r, "admin/customers/export",
                            sizeof("admin/customers/export") - 1,
                            &tpl->export_url) != NGX_OK
        || ngx_http_ticket_url(r, "admin/customers/erase",
                               sizeof("admin/customers/erase") - 1,
                               &tpl->erase_url) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (dp->request.len) {
        p = ngx_pnalloc(r->pool, sizeof("admin/customers?request=")
                                 + dp->request.len);
        if (p == NULL
            || ngx_http_ticket_url(r, (char *) p,
                   ngx_sprintf(p, "admin/customers?request=%V", &dp->request)
                   - p, &tpl->self_url) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    title.data = (u_char *) ngx_http_ticket_msg(ctx,
                                                TK_MSG_COMMON_DATA_PROTECTION);
    title.len = ngx_strlen(title.data);

    return ngx_http_ticket_page(r, ctx, dp->status, &title,
                                ngx_http_ticket_dp_body, tpl);
}


static void
ngx_http_ticket_dp_body(tk_out_t *out, void *data)
{
    tk_tpl_customers(out, data);
}


/* ---- helpers ------------------------------------------------------------ */

/* an address, lower-cased in place */
static ngx_flag_t
ngx_http_ticket_dp_address(ngx_http_request_t *r, ngx_str_t *a)
{
    ngx_uint_t  i;
    u_char     *p;

    if (a->len == 0 || a->len > 254 || !tk_addr_valid(a->data, a->len)
        || !ngx_http_ticket_valid_email(a))
    {
        return 0;
    }

    p = ngx_pnalloc(r->pool, a->len);
    if (p == NULL) {
        return 0;
    }
    for (i = 0; i < a->len; i++) {
        p[i] = ngx_tolower(a->data[i]);
    }
    a->data = p;
    return 1;
}


/* a stream entry id: digits "-" digits */
static ngx_flag_t
ngx_http_ticket_dp_id(ngx_str_t *id)
{
    ngx_uint_t  i, dash = 0;

    if (id->len < 3 || id->len > 41) {
        return 0;
    }
    for (i = 0; i < id->len; i++) {
        if (id->data[i] == '-' && i > 0 && dash == 0) {
            dash = i;
        } else if (id->data[i] < '0' || id->data[i] > '9') {
            return 0;
        }
    }
    return dash && dash + 1 < id->len;
}
