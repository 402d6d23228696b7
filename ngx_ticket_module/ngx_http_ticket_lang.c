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


static ngx_flag_t ngx_http_ticket_accept_de(ngx_str_t *value);
static ngx_int_t ngx_http_ticket_qvalue(u_char *p, u_char *last);


ngx_flag_t
ngx_http_ticket_page_de(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t         lang;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    if (ctx && ctx->authenticated) {
        return ngx_http_ticket_lang_de(ctx);
    }

    if (ngx_http_ticket_cookie(r, NGX_HTTP_TICKET_LANG_COOKIE, &lang)
        == NGX_OK
        && lang.len == 2)
    {
        if (ngx_strncmp(lang.data, "en", 2) == 0) {
            return 0;
        }

        if (ngx_strncmp(lang.data, "de", 2) == 0) {
            return 1;
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
            return ngx_http_ticket_accept_de(&h[i].value);
        }
    }

    return 1;
}


/*
 * Accept-Language ("en-US,en;q=0.9,de;q=0.8"): English only when the
 * browser ranks it above German (by q, then by order); German when it
 * asks for neither.
 */
static ngx_flag_t
ngx_http_ticket_accept_de(ngx_str_t *value)
{
    u_char      *p, *last, *tag, *tag_end;
    ngx_int_t    q, de, en, pos, de_pos, en_pos;

    p = value->data;
    last = p + value->len;
    de = -1;
    en = -1;
    de_pos = 0;
    en_pos = 0;

    for (pos = 0; p < last; pos++) {

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

        if (tag_end - tag >= 2
            && (tag_end - tag == 2 || tag[2] == '-'))
        {
            if (ngx_strncasecmp(tag, (u_char *) "de", 2) == 0 && q > de) {
                de = q;
                de_pos = pos;

            } else if (ngx_strncasecmp(tag, (u_char *) "en", 2) == 0
                       && q > en)
            {
                en = q;
                en_pos = pos;
            }
        }
    }

    if (en <= 0) {
        return 1;
    }

    return de > en || (de == en && de_pos < en_pos);
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
