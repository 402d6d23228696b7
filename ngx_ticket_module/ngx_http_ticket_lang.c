/*
 * ngx_http_ticket_lang.c -- which language a page speaks: the user's
 * (profile) once signed in; before, the one of whoever signed out last
 * in this browser (tk_lang cookie), else the one of ours the browser
 * ranks first (Accept-Language), else German -- every user of the
 * collective is German-speaking.  Pages before sign-in are never cached,
 * so none of this is part of a cache key.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ticket.h"


static ngx_uint_t ngx_http_ticket_accept_lang(ngx_str_t *value);
static ngx_int_t ngx_http_ticket_qvalue(u_char *p, u_char *last);


/*
 * The index (TK_LANG_*) of a two-letter code among the catalogue's
 * languages (messages.txt's @languages line), or -1.
 */
ngx_int_t
ngx_http_ticket_lang_index(u_char *code, size_t len)
{
    ngx_uint_t  i;

    if (len != 2) {
        return -1;
    }

    for (i = 0; i < TK_LANG_N; i++) {
        if (ngx_strncasecmp(code, (u_char *) tk_msg_langs[i], 2) == 0) {
            return i;
        }
    }

    return -1;
}


/* The signed-in user's language; one we do not have is German. */
ngx_uint_t
ngx_http_ticket_lang(ngx_http_ticket_ctx_t *ctx)
{
    ngx_int_t  i;

    if (ctx == NULL) {
        return TK_LANG_DE;
    }

    i = ngx_http_ticket_lang_index(ctx->user.lang.data, ctx->user.lang.len);

    return i < 0 ? TK_LANG_DE : (ngx_uint_t) i;
}


ngx_flag_t
ngx_http_ticket_lang_de(ngx_http_ticket_ctx_t *ctx)
{
    return ngx_http_ticket_lang(ctx) == TK_LANG_DE;
}


ngx_flag_t
ngx_http_ticket_page_de(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    return ngx_http_ticket_page_lang(r, ctx) == TK_LANG_DE;
}


ngx_uint_t
ngx_http_ticket_page_lang(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t         lang;
    ngx_int_t         ix;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    if (ctx && ctx->authenticated) {
        return ngx_http_ticket_lang(ctx);
    }

    if (ngx_http_ticket_cookie(r, NGX_HTTP_TICKET_LANG_COOKIE, &lang)
        == NGX_OK)
    {
        ix = ngx_http_ticket_lang_index(lang.data, lang.len);
        if (ix >= 0) {
            return ix;
        }
    }

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Accept-Language") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Accept-Language",
                               sizeof("Accept-Language") - 1)
               == 0)
        {
            return ngx_http_ticket_accept_lang(&h[i].value);
        }
    }

    return TK_LANG_DE;
}


/*
 * Accept-Language ("en-US,en;q=0.9,de;q=0.8"): of our languages the one
 * the browser ranks highest (by q, then by order); German when it asks
 * for none of them.
 */
static ngx_uint_t
ngx_http_ticket_accept_lang(ngx_str_t *value)
{
    u_char      *p, *last, *tag, *tag_end;
    ngx_int_t    q, ix, best_q;
    ngx_uint_t   best;

    p = value->data;
    last = p + value->len;
    best = TK_LANG_DE;
    best_q = 0;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == ',')) {
            p++;
        }

        tag = p;

        while (p < last && *p != ';' && *p != ',' && *p != ' ') {
            p++;
        }

        tag_end = p;
        q = 1000;

        /* parameters: only q counts ("q=0.8" in thousandths) */
        while (p < last && *p != ',') {
            if (*p == 'q' && p + 1 < last && p[1] == '=') {
                q = ngx_http_ticket_qvalue(p + 2, last);
            }

            p++;
        }

        if (tag_end - tag >= 2 && (tag_end - tag == 2 || tag[2] == '-')) {
            ix = ngx_http_ticket_lang_index(tag, 2);

            /* strictly higher: an earlier tag wins a tie */
            if (ix >= 0 && q > best_q) {
                best = ix;
                best_q = q;
            }
        }
    }

    return best;
}


/* "1", "0.8", "0.125" as thousandths; garbage as 0. */
static ngx_int_t
ngx_http_ticket_qvalue(u_char *p, u_char *last)
{
    ngx_int_t  q, scale;

    if (p == last || (*p != '0' && *p != '1')) {
        return 0;
    }

    q = (*p++ - '0') * 1000;

    if (p < last && *p == '.') {
        p++;

        for (scale = 100; scale && p < last && *p >= '0' && *p <= '9';
             scale /= 10)
        {
            q += (*p++ - '0') * scale;
        }
    }

    return ngx_min(q, 1000);
}
