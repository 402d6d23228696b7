/*
 * ngx_http_ticket_output.c -- responses: the page layout, error pages,
 * redirects, files and JSON, each with the same security headers.  What
 * they are written into is ngx_http_ticket_sink.c.
 */

#include "ngx_http_ticket.h"
#include "tk_tpl.h"


typedef struct {
    ngx_uint_t                 status;
    int                        reason;          /* TK_MSG_STATUS_* */
    int                        text;
    const char                *json;            /* {"error": ...}, English */
} ngx_http_ticket_status_text_t;


/* What a response is, for its security headers. */
typedef struct {
    const char                *csp;
    const char                *cache;
} ngx_http_ticket_headers_t;


static ngx_int_t ngx_http_ticket_chain_send(ngx_http_request_t *r,
    tk_out_t *out, ngx_uint_t status, const char *type, const char *csp);
static ngx_int_t ngx_http_ticket_send(ngx_http_request_t *r,
    ngx_chain_t *out, off_t len, ngx_uint_t status, const char *type,
    ngx_http_ticket_headers_t *headers);
static ngx_int_t ngx_http_ticket_security_headers(ngx_http_request_t *r,
    ngx_http_ticket_headers_t *headers);
static ngx_int_t ngx_http_ticket_add_header(ngx_http_request_t *r,
    const char *key, const char *value);
static ngx_int_t ngx_http_ticket_disposition(ngx_http_request_t *r,
    ngx_flag_t show_inline, ngx_str_t *name, ngx_str_t *value);
static void ngx_http_ticket_error_body(tk_out_t *out, void *data);
static ngx_int_t ngx_http_ticket_write_refused(ngx_http_ticket_ctx_t *ctx);


static ngx_http_ticket_headers_t  ngx_http_ticket_page_headers = {
    NGX_HTTP_TICKET_CSP, "no-store"
};

/*
 * A file from a mail: sandboxed and inert even when opened directly (an
 * HTML or SVG file renamed to .png must not run in our origin), private
 * to this browser.
 */
static ngx_http_ticket_headers_t  ngx_http_ticket_file_headers = {
    "default-src 'none'; sandbox", "private, max-age=0"
};


static ngx_http_ticket_status_text_t  ngx_http_ticket_status_texts[] = {
    { NGX_HTTP_BAD_REQUEST, TK_MSG_STATUS_S400, TK_MSG_STATUS_S400_TEXT,
      "bad request" },
    { NGX_HTTP_UNAUTHORIZED, TK_MSG_STATUS_S401, TK_MSG_STATUS_S401_TEXT,
      "unauthorized" },
    { NGX_HTTP_FORBIDDEN, TK_MSG_STATUS_S403, TK_MSG_STATUS_S403_TEXT,
      "forbidden" },
    /* the same words for a ticket that does not exist and one the user
     * may not see: a 404 must not tell which */
    { NGX_HTTP_NOT_FOUND, TK_MSG_STATUS_S404, TK_MSG_STATUS_S404_TEXT,
      "not found" },
    { NGX_HTTP_NOT_ALLOWED, TK_MSG_STATUS_S405, TK_MSG_STATUS_S405_TEXT,
      "method not allowed" },
    { NGX_HTTP_CONFLICT, TK_MSG_STATUS_S409, TK_MSG_STATUS_S409_TEXT,
      "conflict" },
    { NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, TK_MSG_STATUS_S413, TK_MSG_STATUS_S413_TEXT,
      "request too large" },
    { 429, TK_MSG_STATUS_S429, TK_MSG_STATUS_S429_TEXT,
      "too many requests" },
    { NGX_HTTP_INTERNAL_SERVER_ERROR, TK_MSG_STATUS_S500, TK_MSG_STATUS_S500_TEXT,
      "internal error" },
    { NGX_HTTP_SERVICE_UNAVAILABLE, TK_MSG_STATUS_S503, TK_MSG_STATUS_S503_TEXT,
      "database unavailable" },
    { 0, TK_MSG_STATUS_SOTHER, TK_MSG_STATUS_SOTHER_TEXT,
      "error" }
};


/* ---- sending ----------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_out_send(ngx_http_request_t *r, tk_out_t *out,
    ngx_uint_t status, const char *content_type)
{
    return ngx_http_ticket_chain_send(r, out, status, content_type, NULL);
}


/* What was written to out, with the page headers and a CSP (NULL: the
 * default one). */
static ngx_int_t
ngx_http_ticket_chain_send(ngx_http_request_t *r, tk_out_t *out,
    ngx_uint_t status, const char *content_type, const char *csp)
{
    off_t                         len;
    ngx_chain_t                  *chain;
    ngx_http_ticket_headers_t     headers;

    if (ngx_http_ticket_out_chain(out, &chain, &len) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: could not allocate the response");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    headers = ngx_http_ticket_page_headers;

    if (csp) {
        headers.csp = csp;
    }

    return ngx_http_ticket_send(r, chain, len, status, content_type,
                                &headers);
}


/*
 * The bytes as they are (binary, never escaped or cut at a NUL) from
 * memory the request pool owns, with a file's headers: type and
 * disposition are the caller's choice, nosniff keeps browsers to them.
 */
ngx_int_t
ngx_http_ticket_file(ngx_http_request_t *r, ngx_str_t *data,
    const char *content_type, ngx_flag_t show_inline, ngx_str_t *name)
{
    ngx_buf_t        *b;
    ngx_chain_t      *cl;
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Content-Disposition");
    h->lowcase_key = NULL;

    if (ngx_http_ticket_disposition(r, show_inline, name, &h->value)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cl = NULL;

    if (data->len) {
        b = ngx_calloc_buf(r->pool);
        cl = ngx_alloc_chain_link(r->pool);
        if (b == NULL || cl == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        b->pos = data->data;
        b->last = data->data + data->len;
        b->memory = 1;

        cl->buf = b;
        cl->next = NULL;
    }

    return ngx_http_ticket_send(r, cl, data->len, NGX_HTTP_OK, content_type,
                                &ngx_http_ticket_file_headers);
}


/*
 * Content-Disposition (RFC 6266) for a name from a mail: path separators
 * and control characters go (the name is a file name, not a path), so do
 * leading dots (no hidden files); filename= gets an ASCII fallback for
 * old clients, filename*= the UTF-8 name percent-encoded (RFC 8187).
 */
static ngx_int_t
ngx_http_ticket_disposition(ngx_http_request_t *r, ngx_flag_t show_inline,
    ngx_str_t *name, ngx_str_t *value)
{
    u_char            *p, *s, *last, *clean, c;
    size_t             n;

    /* the clean name: at most 200 bytes, cut on a character boundary */
    clean = ngx_pnalloc(r->pool, ngx_max(ngx_min(name->len, 200), 8));
    if (clean == NULL) {
        return NGX_ERROR;
    }

    n = 0;
    last = name->data + name->len;

    for (s = name->data; s < last; s++) {
        c = *s;

        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\'
            || (n == 0 && (c == '.' || c == ' ')))
        {
            continue;
        }

        if (n >= 200 - 4 && (c < 0x80 || c >= 0xc0)) {
            break;
        }

        clean[n++] = c;
    }

    if (n == 0) {
        ngx_memcpy(clean, "download", 8);
        n = 8;
    }

    value->data = ngx_pnalloc(r->pool, sizeof("attachment; filename=\"\"; "
                                              "filename*=UTF-8''") + 4 * n);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(value->data, "%s; filename=\"",
                    show_inline ? "inline" : "attachment");

    /* ASCII fallback: a non-ASCII character becomes one "_" */
    for (s = clean; s < clean + n; s++) {
        c = *s;

        if (c >= 0x80 && c < 0xc0) {
            continue;
        }

        *p++ = (c >= 0x80 || c == '"' || c == '%') ? '_' : c;
    }

    p = ngx_cpymem(p, "\"; filename*=UTF-8''",
                   sizeof("\"; filename*=UTF-8''") - 1);

    /* RFC 8187 attr-char stays, everything else is %XX */
    p += tk_escape_url(p, 3 * n, clean, n, TK_URL_ATTR_CHAR);

    value->len = p - value->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_ticket_json(ngx_http_request_t *r, tk_out_t *out, ngx_uint_t status)
{
    return ngx_http_ticket_out_send(r, out, status, "application/json");
}


/*
 * Headers and body.  The last link gets last_buf (an empty special buffer
 * when there is no body); HEAD stops after the headers.
 */
static ngx_int_t
ngx_http_ticket_send(ngx_http_request_t *r, ngx_chain_t *out, off_t len,
    ngx_uint_t status, const char *type, ngx_http_ticket_headers_t *headers)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;

    if (type) {
        r->headers_out.content_type.data = (u_char *) type;
        r->headers_out.content_type.len = ngx_strlen(type);
        r->headers_out.content_type_len = r->headers_out.content_type.len;
        r->headers_out.content_type_lowcase = NULL;
    }

    if (ngx_http_ticket_security_headers(r, headers) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (out == NULL) {
        b = ngx_calloc_buf(r->pool);
        cl = ngx_alloc_chain_link(r->pool);
        if (b == NULL || cl == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cl->buf = b;
        cl->next = NULL;
        out = cl;
    }

    for (cl = out; cl->next; cl = cl->next) { /* void */ }

    cl->buf->last_buf = (r == r->main) ? 1 : 0;
    cl->buf->last_in_chain = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out);
}


static ngx_int_t
ngx_http_ticket_security_headers(ngx_http_request_t *r,
    ngx_http_ticket_headers_t *headers)
{
    if (ngx_http_ticket_add_header(r, "Content-Security-Policy",
                                   headers->csp)
        != NGX_OK
        || ngx_http_ticket_add_header(r, "X-Content-Type-Options", "nosniff")
           != NGX_OK
        || ngx_http_ticket_add_header(r, "Referrer-Policy", "same-origin")
           != NGX_OK
        || ngx_http_ticket_add_header(r, "X-Frame-Options", "DENY") != NGX_OK
        || ngx_http_ticket_add_header(r, "Cache-Control", headers->cache)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_add_header(ngx_http_request_t *r, const char *key,
    const char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);
    h->lowcase_key = NULL;

    return NGX_OK;
}


/* ---- pages -------------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_page(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *title, ngx_http_ticket_body_pt body,
    void *data)
{
    tk_out_t                      out;
    tk_tpl_page_head_t            head;
    tk_tpl_page_foot_t            foot;
    ngx_http_ticket_loc_conf_t   *lcf;
    ngx_http_ticket_main_conf_t  *mcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_ticket_module);

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&head, sizeof(tk_tpl_page_head_t));

    head.title = *ngx_ticket_str(title);
    head.base = *ngx_ticket_str(&lcf->base_url);
    head.static_url = *ngx_ticket_str(&lcf->static_url);
    head.version = *ngx_ticket_str(&mcf->static_version);
    head.de = ngx_http_ticket_page_de(r, ctx) ? 1 : 0;

    ngx_http_ticket_cstr(&head.page,
                        (ctx && ctx->page) ? ctx->page : "error");

    if (ctx && ctx->authenticated && ctx->sid.len && ctx->page) {
        head.logged_in = 1;
        head.csrf = *ngx_ticket_str(&ctx->csrf);
        head.user_name = *ngx_ticket_str(ctx->user.name.len ? &ctx->user.name
                                                            : &ctx->user.login);
        head.nav_overview = (ngx_strcmp(ctx->page, "overview") == 0);
        head.notice = ctx->notice;
        head.nav_profile = (ngx_strcmp(ctx->page, "profile") == 0);
        head.nav_keys = (ngx_strcmp(ctx->page, "keys") == 0);
        /* a new outbound ticket: for agents with full right somewhere */
        head.can_send = ngx_http_ticket_full_somewhere(ctx);
        head.nav_new = (ngx_strcmp(ctx->page, "new") == 0);
        head.nav_notifications = (ngx_strcmp(ctx->page, "notifications")
                                  == 0);

        if (ctx->unread) {
            head.unread.data = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
            if (head.unread.data == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
            head.unread.len = ngx_sprintf(head.unread.data, "%ui",
                                          ctx->unread)
                              - head.unread.data;
        }

        /* only admins may open the quarantine, so only they see it */
        if (ctx->user.admin) {
            head.is_admin = 1;
            head.nav_admin = (ngx_strcmp(ctx->page, "admin") == 0);
            head.nav_manage = (ngx_strcmp(ctx->page, "manage") == 0);

            if (ctx->quarantined) {
                head.quarantined.data = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
                if (head.quarantined.data == NULL) {
                    return NGX_HTTP_INTERNAL_SERVER_ERROR;
                }

                head.quarantined.len = ngx_sprintf(head.quarantined.data,
                                                   "%ui", ctx->quarantined)
                                       - head.quarantined.data;
            }
        }
    }

    tk_tpl_page_head(&out, &head);

    if (body) {
        body(&out, data);
    }

    foot.base = head.base;
    tk_tpl_page_foot(&out, &foot);

    return ngx_http_ticket_chain_send(r, &out, status,
                                      "text/html; charset=utf-8",
                                      ctx ? ctx->csp : NULL);
}


typedef struct {
    tk_tpl_error_t             tpl;
} ngx_http_ticket_error_page_t;


ngx_int_t
ngx_http_ticket_error(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_uint_t status, const char *message)
{
    u_char                         *p;
    tk_out_t                        out;
    ngx_str_t                       title;
    ngx_http_ticket_status_text_t  *st;
    ngx_http_ticket_error_page_t   *page;
    ngx_http_ticket_loc_conf_t     *lcf;

    /*
     * Redis refusing a write (maxmemory reached, AOF disk full) is no bug
     * of ours but an outage: 503 and words, so that the agent knows that
     * nothing was saved and that trying later helps.
     */
    if ((status == NGX_HTTP_INTERNAL_SERVER_ERROR
         || status == NGX_HTTP_SERVICE_UNAVAILABLE)
        && ctx && ngx_http_ticket_write_refused(ctx))
    {
        status = NGX_HTTP_SERVICE_UNAVAILABLE;
        message =
            ngx_http_ticket_page_msg(r, ctx,
                TK_MSG_OUTPUT_THE_DATABASE_REFUSES_CHANGES);
    }

    for (st = ngx_http_ticket_status_texts; st->status; st++) {
        if (st->status == status) {
            break;
        }
    }

    /* a 404 says nothing more, whoever asks */
    if (status == NGX_HTTP_NOT_FOUND) {
        message = NULL;
    }

    if (status == NGX_HTTP_NOT_ALLOWED) {
        if (ngx_http_ticket_add_header(r, "Allow",
                                       ctx && ctx->api
                                       ? "GET, HEAD, POST, PATCH"
                                       : "GET, HEAD, POST")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (status == NGX_HTTP_UNAUTHORIZED && ctx && ctx->api) {
        if (ngx_http_ticket_add_header(r, "WWW-Authenticate", "Bearer")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ctx && ctx->api) {
        if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        tk_out_cstr(&out, "{\"error\":");
        tk_out_json(&out, message ? message : st->json,
                    ngx_strlen(message ? message : st->json));
        tk_out_cstr(&out, "}\n");

        return ngx_http_ticket_json(r, &out, status);
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    page = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_error_page_t));
    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (page == NULL || p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    page->tpl.status.data = p;
    page->tpl.status.len = ngx_sprintf(p, "%ui", status) - p;
    ngx_http_ticket_cstr(&page->tpl.reason,
                         ngx_http_ticket_page_msg(r, ctx, st->reason));
    ngx_http_ticket_cstr(&page->tpl.text,
                         ngx_http_ticket_page_msg(r, ctx, st->text));
    ngx_http_ticket_cstr(&page->tpl.detail, message);

    /* a 400 that says what was wrong is no broken or expired form */
    if (status == NGX_HTTP_BAD_REQUEST && message) {
        page->tpl.text = page->tpl.detail;
        ngx_str_null((ngx_str_t *) &page->tpl.detail);
    }
    page->tpl.home = *ngx_ticket_str(&lcf->base_url);

    if (ctx && ctx->authenticated) {
        ngx_http_ticket_cstr(&page->tpl.home_label,
                            ngx_http_ticket_page_msg(r, ctx,
                                TK_MSG_OUTPUT_BACK_TO_THE_OVERVIEW));

    } else {
        ngx_http_ticket_cstr(&page->tpl.home_label,
                            ngx_http_ticket_page_msg(r, ctx,
                                TK_MSG_OUTPUT_GO_TO_SIGN_IN));
    }

    if (ctx) {
        ctx->page = "error";
    }

    title.data = (u_char *) page->tpl.reason.data;
    title.len = page->tpl.reason.len;

    return ngx_http_ticket_page(r, ctx, status, &title,
                                ngx_http_ticket_error_body, page);
}


/*
 * Did Redis refuse a write of this request: flagged by the batch code
 * (ngx_http_ticket_batch.c, a refused queued command), or an error
 * reply of the last batch?
 */
static ngx_int_t
ngx_http_ticket_write_refused(ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t  i;

    if (ctx->write_refused) {
        return 1;
    }

    for (i = 0; ctx->replies && i < ctx->nreplies; i++) {
        if (ngx_http_ticket_reply_is_error(&ctx->replies[i])
            && ngx_http_ticket_reply_refused(&ctx->replies[i].str))
        {
            return 1;
        }
    }

    return 0;
}


static void
ngx_http_ticket_error_body(tk_out_t *out, void *data)
{
    ngx_http_ticket_error_page_t  *page = data;

    tk_tpl_error(out, &page->tpl);
}


ngx_int_t
ngx_http_ticket_redirect(ngx_http_request_t *r, const char *path, size_t len)
{
    ngx_table_elt_t  *h;

    while (len && *path == '/') {
        path++;
        len--;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL
        || ngx_http_ticket_url(r, path, len, ngx_ticket_str(&h->value))
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Location");
    h->lowcase_key = NULL;

    ngx_http_clear_location(r);
    r->headers_out.location = h;

    return ngx_http_ticket_send(r, NULL, 0, NGX_HTTP_SEE_OTHER, NULL,
                                &ngx_http_ticket_page_headers);
}


ngx_int_t
ngx_http_ticket_url(ngx_http_request_t *r, const char *path, size_t len,
    tk_str_t *str)
{
    u_char                      *p;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    p = ngx_pnalloc(r->pool, lcf->base_url.len + len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    str->data = p;
    p = ngx_cpymem(p, lcf->base_url.data, lcf->base_url.len);
    p = ngx_cpymem(p, path, len);
    str->len = p - str->data;

    return NGX_OK;
}
