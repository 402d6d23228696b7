/*
 * ngx_http_ticket_api_write.c -- the API's writes that the web pages
 * already do: PATCH /api/v1/tickets/N (the ticket page's update and
 * title forms) and POST/PATCH /api/v1/admin/... (the admin pages).
 *
 * The JSON body becomes the urlencoded form the page would have posted
 * (ngx_http_ticket_api_form), and the page's own handler runs on it:
 * one set of checks and one write path for browser and script.  With
 * ctx->api set those handlers answer in JSON instead of a page or a
 * redirect.  A token request needs no CSRF token (no cookie a third
 * site could make the browser send, ngx_http_ticket_check_csrf).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ticket_views.h"
#include "ngx_http_ticket_admin.h"
#include "ngx_http_ticket_compose.h"
#include "tk_json.h"


#define NGX_HTTP_TICKET_API_MEMBERS  32


static ngx_int_t ngx_http_ticket_api_value(ngx_http_request_t *r,
    const tk_json_member_t *m, ngx_str_t *value);
static u_char *ngx_http_ticket_api_encode(u_char *p, ngx_str_t *s);
static ngx_int_t ngx_http_ticket_api_if_match(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void *ngx_http_ticket_api_alloc(void *pool, size_t size);
static ngx_flag_t ngx_http_ticket_api_known(const tk_str_t *key,
    const char *known);


/*
 * PATCH /api/v1/tickets/N {"title","group","owner","state","priority",
 * "pending_until","rev"}: what is named changes, the rest stays.  The
 * ticket's rev comes as "rev" or If-Match; a stale one is a 409.
 */
ngx_int_t
ngx_http_ticket_api_patch(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number)
{
    ngx_int_t    rc;
    const char  *field, *message;

    static const char  *known[] = {
        "title", "group", "owner", "state", "priority", "pending_until",
        "rev", NULL
    };

    if (ngx_http_ticket_api_form(r, ctx, known, &field, &message) != NGX_OK) {
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_BAD_REQUEST,
                                                  field, message);
    }

    rc = ngx_http_ticket_api_if_match(r, ctx);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_ticket_action(r, ctx, number, NGX_HTTP_TICKET_PATCH);
}


/*
 * If-Match: "7" (or W/"7", or 7) is the same as "rev": 7; both given,
 * they must agree.
 */
static ngx_int_t
ngx_http_ticket_api_if_match(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char           *p, *last;
    ngx_str_t         rev, v;
    ngx_table_elt_t  *h;

    h = r->headers_in.if_match;
    if (h == NULL) {
        return NGX_OK;
    }

    v = h->value;

    /* ours to check against the ticket's rev, not nginx's against an
     * ETag (which the answer has none of: 412) */
    r->headers_in.if_match = NULL;

    if (v.len > 2 && v.data[0] == 'W' && v.data[1] == '/') {
        v.data += 2;
        v.len -= 2;
    }

    if (v.len > 2 && v.data[0] == '"' && v.data[v.len - 1] == '"') {
        v.data++;
        v.len -= 2;
    }

    if (v.len == 0 || v.len > NGX_INT64_LEN || ngx_atoi(v.data, v.len) < 0) {
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_BAD_REQUEST,
                         "If-Match", "must be the ticket's rev (\"7\")");
    }

    if (ngx_http_ticket_form_arg(r, ctx, "rev", &rev) == NGX_OK) {
        if (rev.len != v.len || ngx_strncmp(rev.data, v.data, v.len) != 0) {
            return ngx_http_ticket_compose_json_error(r,
                         NGX_HTTP_BAD_REQUEST, "rev",
                         "\"rev\" and If-Match name different revs");
        }

        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, ctx->form.len + sizeof("&rev=") + v.len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = ngx_cpymem(p, ctx->form.data, ctx->form.len);
    if (ctx->form.len) {
        *last++ = '&';
    }
    last = ngx_cpymem(last, "rev=", 4);
    last = ngx_cpymem(last, v.data, v.len);
    *last = '\0';

    ctx->form.data = p;
    ctx->form.len = last - p;

    return NGX_OK;
}


/*
 * The body, one flat JSON object, as "name=value&..." in ctx->form:
 * strings as they are, numbers as written, true/false as 1/0 and null
 * as empty (the empty field of a form: "no owner", "no reminder").
 * Members not in known (NULL-terminated) and nested values are refused:
 * a typo must not go unnoticed.  An empty body is an empty form.
 * NGX_OK, or NGX_DECLINED with *field and *message set.
 */
ngx_int_t
ngx_http_ticket_api_form(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    const char **known, const char **field, const char **message)
{
    int                 n, i;
    u_char             *p;
    size_t              len, errpos;
    ngx_str_t           values[NGX_HTTP_TICKET_API_MEMBERS];
    const char        **k;
    tk_json_member_t    m[NGX_HTTP_TICKET_API_MEMBERS];

    *field = NULL;

    ngx_http_ticket_trim(&ctx->form);

    if (ctx->form.len == 0) {
        return NGX_OK;
    }

    n = tk_json_object(ngx_ticket_str(&ctx->form), m,
                       NGX_HTTP_TICKET_API_MEMBERS, &errpos);
    if (n < 0) {
        *message = "the body is not a JSON object (or a key repeats)";
        return NGX_DECLINED;
    }

    len = 0;

    for (i = 0; i < n; i++) {
        for (k = known; *k && !ngx_http_ticket_api_known(&m[i].key, *k);
             k++)
        {
            /* void */
        }

        if (*k == NULL) {
            *field = "?";
            *message = "unknown member";
            return NGX_DECLINED;
        }

        if (ngx_http_ticket_api_value(r, &m[i], &values[i]) != NGX_OK) {
            *field = *k;
            *message = "must be a string, a number, true, false or null";
            return NGX_DECLINED;
        }

        len += 3 * m[i].key.len + 2 + 3 * values[i].len;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        *message = "out of memory";
        return NGX_DECLINED;
    }

    ctx->form.data = p;

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = '&';
        }

        p = ngx_http_ticket_api_encode(p, (ngx_str_t *) &m[i].key);
        *p++ = '=';
        p = ngx_http_ticket_api_encode(p, &values[i]);
    }

    *p = '\0';
    ctx->form.len = p - ctx->form.data;

    return NGX_OK;
}


/* key is known, or begins with known's text before its "*" ("r.*":
 * the user form's "r.GROUP" rights); no escapes in such a key. */
static ngx_flag_t
ngx_http_ticket_api_known(const tk_str_t *key, const char *known)
{
    size_t  len;

    len = ngx_strlen(known);

    if (len == 0 || known[len - 1] != '*') {
        return tk_str_eq_cstr(key, known);
    }

    len--;

    return key->len > len && ngx_strncmp(key->data, known, len) == 0
           && ngx_strlchr(key->data, key->data + key->len, '\\') == NULL;
}


/* One member's value as the text a form field would carry. */
static ngx_int_t
ngx_http_ticket_api_value(ngx_http_request_t *r, const tk_json_member_t *m,
    ngx_str_t *value)
{
    switch (m->type) {

    case TK_JSON_STRING:
        return tk_json_string(&m->value, ngx_ticket_str(value),
                              ngx_http_ticket_api_alloc, r->pool) == 0
               ? NGX_OK : NGX_ERROR;

    case TK_JSON_NUMBER:
        value->data = m->value.data;
        value->len = m->value.len;
        return NGX_OK;

    case TK_JSON_TRUE:
        ngx_str_set(value, "1");
        return NGX_OK;

    case TK_JSON_FALSE:
        ngx_str_set(value, "0");
        return NGX_OK;

    case TK_JSON_NULL:
        ngx_str_set(value, "");
        return NGX_OK;

    default:
        return NGX_ERROR;
    }
}


/* Percent-encode all but unreserved characters: "&" or "=" in a value
 * must not start another field. */
static u_char *
ngx_http_ticket_api_encode(u_char *p, ngx_str_t *s)
{
    size_t         i;
    u_char         c;
    static u_char  hex[] = "0123456789ABCDEF";

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~')
        {
            *p++ = c;
            continue;
        }

        *p++ = '%';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 0x0f];
    }

    return p;
}


static void *
ngx_http_ticket_api_alloc(void *pool, size_t size)
{
    return ngx_palloc(pool, size ? size : 1);
}
