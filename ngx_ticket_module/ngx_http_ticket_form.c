/*
 * ngx_http_ticket_form.c -- what the browser sent and keeps: urlencoded
 * fields of a POST body or query string, cookies (read and set), the
 * CSRF token check, and random tokens.
 */

#include "ngx_http_ticket.h"

#include <sys/random.h>


static ngx_int_t ngx_http_ticket_urlencoded_arg(ngx_http_request_t *r,
    ngx_str_t *input, const char *name, ngx_str_t *value);
static ngx_int_t ngx_http_ticket_decode(u_char *dst, u_char *src, size_t len,
    size_t *out);
static ngx_int_t ngx_http_ticket_hex(u_char c);


ngx_int_t
ngx_http_ticket_form_arg(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    const char *name, ngx_str_t *value)
{
    return ngx_http_ticket_urlencoded_arg(r, &ctx->form, name, value);
}


/* Forms that show the typed values again treat a missing or malformed
 * field as empty: the checks that follow then say what is wrong. */
void
ngx_http_ticket_form_value(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    const char *name, ngx_str_t *value)
{
    if (ngx_http_ticket_form_arg(r, ctx, name, value) != NGX_OK) {
        ngx_str_set(value, "");
    }
}


ngx_int_t
ngx_http_ticket_query_arg(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    return ngx_http_ticket_urlencoded_arg(r, &r->args, name, value);
}


ngx_int_t
ngx_http_ticket_string_arg(ngx_http_request_t *r, ngx_str_t *input,
    const char *name, ngx_str_t *value)
{
    return ngx_http_ticket_urlencoded_arg(r, input, name, value);
}


/*
 * Find "name=value" among "&"-separated pairs and decode the value.  The
 * first occurrence wins, so a field cannot be overridden by appending it
 * again.  A key is compared after decoding ("csr%66" is "csrf"); a
 * malformed escape in a key looked at or in the value is an error, as is
 * a NUL in the value, encoded or raw.
 */
static ngx_int_t
ngx_http_ticket_urlencoded_arg(ngx_http_request_t *r, ngx_str_t *input,
    const char *name, ngx_str_t *value)
{
    u_char    *p, *end, *amp, *eq, *key;
    size_t     name_len, key_len, len;

    name_len = ngx_strlen(name);

    p = input->data;
    end = input->data + input->len;

    while (p < end) {
        amp = ngx_strlchr(p, end, '&');
        if (amp == NULL) {
            amp = end;
        }

        eq = ngx_strlchr(p, amp, '=');
        if (eq == NULL) {
            eq = amp;
        }

        key = p;
        key_len = eq - p;

        if (ngx_strlchr(key, eq, '%') || ngx_strlchr(key, eq, '+')) {
            key = ngx_pnalloc(r->pool, key_len);
            if (key == NULL) {
                return NGX_ERROR;
            }

            if (ngx_http_ticket_decode(key, p, eq - p, &key_len) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        if (key_len == name_len && ngx_strncmp(key, name, name_len) == 0) {
            len = (eq < amp) ? (size_t) (amp - eq - 1) : 0;

            value->data = ngx_pnalloc(r->pool, len + 1);
            if (value->data == NULL) {
                return NGX_ERROR;
            }

            if (len && ngx_http_ticket_decode(value->data, eq + 1, len,
                                              &value->len)
                       != NGX_OK)
            {
                return NGX_ERROR;
            }

            if (len == 0) {
                value->len = 0;
            }

            /* a raw NUL like an encoded one: callers use the value as a
             * C string too (found by t/fuzz/fuzz_form.c) */
            if (ngx_strlchr(value->data, value->data + value->len, '\0')) {
                return NGX_ERROR;
            }

            value->data[value->len] = '\0';

            return NGX_OK;
        }

        p = amp + 1;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_ticket_decode(u_char *dst, u_char *src, size_t len, size_t *out)
{
    u_char     *d, *end;
    ngx_int_t   hi, lo;

    d = dst;
    end = src + len;

    while (src < end) {

        if (*src == '+') {
            *d++ = ' ';
            src++;
            continue;
        }

        if (*src != '%') {
            *d++ = *src++;
            continue;
        }

        if (end - src < 3) {
            return NGX_ERROR;
        }

        hi = ngx_http_ticket_hex(src[1]);
        lo = ngx_http_ticket_hex(src[2]);

        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            return NGX_ERROR;
        }

        *d++ = (u_char) (hi * 16 + lo);
        src += 3;
    }

    *out = d - dst;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/*
 * The form's csrf field against the session's token, in constant time.
 * A request authenticated by a bearer token carries no cookie a third
 * site could abuse, so it needs no token.  NGX_OK, NGX_DECLINED on a
 * mismatch, NGX_ERROR on a malformed body.
 */
ngx_int_t
ngx_http_ticket_check_csrf(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    size_t     i;
    u_char     diff;
    ngx_int_t  rc;
    ngx_str_t  token;

    if (ctx->authenticated && ctx->sid.len == 0) {
        return NGX_OK;
    }

    rc = ngx_http_ticket_form_arg(r, ctx, "csrf", &token);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ctx->csrf.len == 0 || token.len != ctx->csrf.len) {
        return NGX_DECLINED;
    }

    diff = 0;

    for (i = 0; i < token.len; i++) {
        diff |= token.data[i] ^ ctx->csrf.data[i];
    }

    return diff == 0 ? NGX_OK : NGX_DECLINED;
}


/* The 403 of a form whose token is not the session's: an old tab, or a
 * page of another site posting here. */
ngx_int_t
ngx_http_ticket_csrf_refused(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    return ngx_http_ticket_error(r, ctx, NGX_HTTP_FORBIDDEN,
                                 ngx_http_ticket_msg(ctx,
                                     TK_MSG_FORM_THE_FORM_WAS_OUT_OF_DATE));
}


ngx_int_t
ngx_http_ticket_random_hex(ngx_http_request_t *r, size_t bytes,
    ngx_str_t *out)
{
    u_char   *buf;
    ssize_t   n;
    size_t    got;

    buf = ngx_pnalloc(r->pool, bytes + bytes * 2 + 1);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    for (got = 0; got < bytes; got += n) {
        n = getrandom(buf + got, bytes - got, 0);

        if (n < 0) {
            if (ngx_errno == NGX_EINTR) {
                n = 0;
                continue;
            }

            ngx_log_error(NGX_LOG_ALERT, r->connection->log, ngx_errno,
                          "ticket: getrandom() failed");
            return NGX_ERROR;
        }
    }

    out->data = buf + bytes;
    out->len = ngx_hex_dump(out->data, buf, bytes) - out->data;
    out->data[out->len] = '\0';

    /* the raw bytes are not needed any more */
    ngx_memzero(buf, bytes);

    return NGX_OK;
}


ngx_int_t
ngx_http_ticket_cookie(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_str_t  cookie;

    cookie.data = (u_char *) name;
    cookie.len = ngx_strlen(name);

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &cookie,
                                          value)
        == NGX_DECLINED)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* max_age: seconds, 0 deletes the cookie, -1 makes a browser-session one */
ngx_int_t
ngx_http_ticket_set_cookie(ngx_http_request_t *r, const char *name,
    ngx_str_t *value, ngx_int_t max_age)
{
    u_char                      *p;
    size_t                       len;
    ngx_table_elt_t             *h;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    len = ngx_strlen(name) + 1 + value->len
          + sizeof("; Path=") - 1 + lcf->base_url.len
          + sizeof("; Max-Age=") - 1 + NGX_INT_T_LEN
          + sizeof("; HttpOnly; SameSite=Strict; Secure") - 1;

    p = ngx_pnalloc(r->pool, len);
    h = ngx_list_push(&r->headers_out.headers);
    if (p == NULL || h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Set-Cookie");
    h->value.data = p;
    h->lowcase_key = NULL;

    p = ngx_sprintf(p, "%s=%V; Path=%V", name, value, &lcf->base_url);

    if (max_age >= 0) {
        p = ngx_sprintf(p, "; Max-Age=%i", max_age);
    }

    p = ngx_cpymem(p, "; HttpOnly; SameSite=Strict",
                   sizeof("; HttpOnly; SameSite=Strict") - 1);

    if (lcf->cookie_secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    h->value.len = p - h->value.data;

    return NGX_OK;
}


/* An empty value that expires at once: the browser drops the cookie. */
ngx_int_t
ngx_http_ticket_clear_cookie(ngx_http_request_t *r, const char *name)
{
    ngx_str_t  empty;

    ngx_str_set(&empty, "");

    return ngx_http_ticket_set_cookie(r, name, &empty, 0);
}


/* s is len lower-case hex digits (our tokens; anything else is foreign) */
ngx_flag_t
ngx_http_ticket_is_hex(ngx_str_t *s, size_t len)
{
    size_t  i;

    if (s->len != len) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s->data[i] >= '0' && s->data[i] <= '9')
              || (s->data[i] >= 'a' && s->data[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}
