/*
 * ngx_http_ticket_request.c -- the content handler: reads the body of a
 * POST, authenticates and routes a request to its view.
 */

#include "ngx_http_ticket.h"
#include "ngx_http_ticket_casework.h"


/* Form bodies are small; anything larger is refused before it is read. */
#define NGX_HTTP_TICKET_MAX_BODY  (1024 * 1024)


static void ngx_http_ticket_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_ticket_read_body(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_route(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_dispatch(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_flag_t ngx_http_ticket_path_is(ngx_str_t *path, const char *name);
static ngx_flag_t ngx_http_ticket_path_overview(ngx_str_t *path);
static off_t ngx_http_ticket_body_max(ngx_http_request_t *r);


/* ---- a request ---------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_ticket_ctx_t       *ctx;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_ticket_module);

    if (ngx_array_init(&ctx->groups, r->pool, 4,
                       sizeof(ngx_http_ticket_group_right_t))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->page = "error";

    /* the path below ticket_base_url, with its leading "/"; a request
     * form's location is the form, wherever it is (casework) */
    if (lcf->form) {
        ctx->path = r->uri;
        goto form;
    }

    if (r->uri.len < lcf->base_url.len
        || ngx_strncmp(r->uri.data, lcf->base_url.data, lcf->base_url.len)
           != 0)
    {
        (void) ngx_http_discard_request_body(r);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    ctx->path.data = r->uri.data + lcf->base_url.len - 1;
    ctx->path.len = r->uri.len - lcf->base_url.len + 1;

    ctx->api = ngx_http_ticket_path_is(&ctx->path, "/api") ? 1 : 0;

form:

    /* DELETE is read like POST: a subscription's has no body, the
     * tags' one has (an empty body reads at once) */
    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_ticket_route(r, ctx);
    }

    /* PATCH and DELETE: the API's only (ngx_http_ticket_api.c) */
    if (!(r->method & NGX_HTTP_POST)
        && !(ctx->api && (r->method & (NGX_HTTP_PATCH|NGX_HTTP_DELETE))))
    {
        (void) ngx_http_discard_request_body(r);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    if (r->headers_in.content_length_n > ngx_http_ticket_body_max(r)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ticket: request body of %O bytes refused",
                      r->headers_in.content_length_n);
        r->keepalive = 0;
        (void) ngx_http_discard_request_body(r);
        return ngx_http_ticket_error(r, ctx,
                                     NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, NULL);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_ticket_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_ticket_body_handler(ngx_http_request_t *r)
{
    ngx_int_t               rc;
    ngx_http_ticket_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ticket_module);

    rc = ngx_http_ticket_read_body(r, ctx);

    if (rc == NGX_OK) {
        rc = ngx_http_ticket_route(r, ctx);
    }

    ngx_http_finalize_request(r, rc);
}


/*
 * The whole body as one string in r->pool: nginx may have spooled part
 * of it to a temporary file.  Returns NGX_OK or an HTTP status.
 */
static ngx_int_t
ngx_http_ticket_read_body(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    off_t         len;
    u_char       *p;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        ngx_str_set(&ctx->form, "");
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len > ngx_http_ticket_body_max(r)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ticket: request body of %O bytes refused", len);
        r->keepalive = 0;
        return ngx_http_ticket_error(r, ctx,
                                     NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, NULL);
    }

    p = ngx_pnalloc(r->pool, (size_t) len + 1);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->form.data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            /* an empty body's buffer has pos == NULL: memcpy's nonnull */
            if (b->last != b->pos) {
                p = ngx_cpymem(p, b->pos, b->last - b->pos);
            }
            continue;
        }

        n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                          b->file_pos);

        if (n != b->file_last - b->file_pos) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "ticket: could not read the request body from "
                          "\"%V\" (%z of %O bytes)", &b->file->name, n,
                          b->file_last - b->file_pos);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p += n;
    }

    ctx->form.len = p - ctx->form.data;
    *p = '\0';

    return NGX_OK;
}


/* /login and /logout need no session; everything else does. */
static ngx_int_t
ngx_http_ticket_route(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    static ngx_str_t  login = ngx_string("/login");
    static ngx_str_t  logout = ngx_string("/logout");

    ngx_http_ticket_loc_conf_t  *lcf;

    /* casework: the public request form needs no session */
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);
    if (lcf->form) {
        ctx->page = "form";
        return ngx_http_ticket_reqform(r, ctx);
    }

    if (ctx->path.len == login.len
        && ngx_strncmp(ctx->path.data, login.data, login.len) == 0)
    {
        ctx->page = "login";
        return ngx_http_ticket_login(r, ctx);
    }

    if (ctx->path.len == logout.len
        && ngx_strncmp(ctx->path.data, logout.data, logout.len) == 0)
    {
        if (r->method != NGX_HTTP_POST) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
        }

        return ngx_http_ticket_logout(r, ctx);
    }

    /* an overview page reads the saved overviews with the user */
    if (!ctx->api && (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))
        && ngx_http_ticket_path_overview(&ctx->path))
    {
        ctx->auth_extra = ngx_http_ticket_overview_auth_extra;
    }

    return ngx_http_ticket_authenticate(r, ctx, ngx_http_ticket_dispatch);
}


/* Runs once the user is known. */
static ngx_int_t
ngx_http_ticket_dispatch(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t  *path;

    path = &ctx->path;

    if (ctx->api) {
        if (ngx_http_ticket_path_is(path, "/api/v1")) {
            ctx->page = "api";
            return ngx_http_ticket_api(r, ctx);
        }

        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (ngx_http_ticket_path_overview(path)) {
        ctx->page = "overview";
        return ngx_http_ticket_overview(r, ctx);
    }

    if (path->len > 3 && ngx_strncmp(path->data, "/t/", 3) == 0) {
        ctx->page = "ticket";
        return ngx_http_ticket_view(r, ctx);
    }

    if (path->len == 7 && ngx_strncmp(path->data, "/search", 7) == 0) {
        return ngx_http_ticket_search(r, ctx);
    }

    /* the old go-to-ticket URL: the search box takes numbers now */
    if (path->len == 3 && ngx_strncmp(path->data, "/go", 3) == 0) {
        ctx->page = "overview";
        return ngx_http_ticket_goto(r, ctx);
    }

    /* the customer page (issue 13) */
    if (ngx_http_ticket_path_is(path, "/customers")) {
        return ngx_http_ticket_customer(r, ctx);
    }

    if (ngx_http_ticket_path_is(path, "/profile")) {
        ctx->page = "profile";
        return ngx_http_ticket_profile(r, ctx);
    }

    /* a new ticket that starts with our mail (outbound.c) */
    if (ngx_http_ticket_path_is(path, "/new")) {
        ctx->page = "new";
        return ngx_http_ticket_outbound(r, ctx);
    }

    if (ngx_http_ticket_path_is(path, "/notifications")) {
        return ngx_http_ticket_notifications(r, ctx);
    }

    /* casework: an agent's own text modules; the composer's suggestions */
    if (path->len == sizeof("/text-modules.json") - 1
        && ngx_strncmp(path->data, "/text-modules.json", path->len) == 0)
    {
        return ngx_http_ticket_textmod_json(r, ctx);
    }
    if (ngx_http_ticket_path_is(path, "/text-modules")) {
        return ngx_http_ticket_textmods(r, ctx, 0);
    }

    if (ngx_http_ticket_path_is(path, "/admin")) {
        ctx->page = "admin";
        return ngx_http_ticket_admin(r, ctx);
    }

    return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
}


/* A form with files (multipart) may be as large as ticket_upload_max_size
 * (and a little for the form around them), JSON of the API with them in
 * base64 a third more; anything else 1 MiB. */
static off_t
ngx_http_ticket_body_max(ngx_http_request_t *r)
{
    ngx_str_t                   *ct;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);
    ct = r->headers_in.content_type ? &r->headers_in.content_type->value
                                    : NULL;

    /* casework: a request form takes one attachment and a message */
    if (lcf->form) {
        return (off_t) lcf->form_file_max + 96 * 1024;
    }

    if (ct && ct->len >= 19
        && ngx_strncasecmp(ct->data, (u_char *) "multipart/form-data", 19)
           == 0)
    {
        return (off_t) lcf->upload_max_size + 64 * 1024;
    }

    if (ct && ct->len >= 16
        && ngx_strncasecmp(ct->data, (u_char *) "application/json", 16) == 0
        && ((r->uri.len > 8
             && ngx_strncmp(r->uri.data + r->uri.len - 9, "/articles", 9)
                == 0)
            || (r->uri.len > 7
                && ngx_strncmp(r->uri.data + r->uri.len - 8, "/tickets", 8)
                   == 0)))
    {
        return (off_t) lcf->upload_max_size / 3 * 4 + 64 * 1024;
    }

    return NGX_HTTP_TICKET_MAX_BODY;
}


/* path is name itself or lies below it ("/profile", "/profile/x"). */
static ngx_flag_t
ngx_http_ticket_path_is(ngx_str_t *path, const char *name)
{
    size_t  len;

    len = ngx_strlen(name);

    if (path->len < len || ngx_strncmp(path->data, name, len) != 0) {
        return 0;
    }

    return path->len == len || path->data[len] == '/';
}


/* "/" and "/overview...": the overview pages (the router and dispatch). */
static ngx_flag_t
ngx_http_ticket_path_overview(ngx_str_t *path)
{
    return (path->len == 1 && path->data[0] == '/')
           || ngx_http_ticket_path_is(path, "/overview");
}
