/*
 * ngx_http_ticket_multipart.c -- a form with files (the composer's
 * attachments): multipart/form-data parsed in the request pool
 * (tk_multipart.c).  The text fields are written back as one urlencoded
 * string, so the CSRF check and every field reader work as for any
 * form; the files are kept for the view that asked.
 */

#include "ngx_http_ticket.h"
#include "tk_multipart.h"


#define NGX_HTTP_TICKET_PARTS_MAX      64


static u_char *ngx_http_ticket_urlencode(u_char *p, tk_str_t *s);


ngx_int_t
ngx_http_ticket_multipart(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    int         n, i;
    u_char     *p;
    size_t      len;
    tk_str_t    boundary, ct;
    tk_part_t  *parts, *up;

    if (r->headers_in.content_type == NULL) {
        return NGX_DECLINED;
    }

    ct = *ngx_ticket_str(&r->headers_in.content_type->value);

    if (ct.len < 19 || ngx_strncasecmp(ct.data, (u_char *) "multipart/", 10)
                       != 0)
    {
        return NGX_DECLINED;
    }

    if (tk_multipart_boundary(&ct, &boundary) != 0) {
        return NGX_ERROR;
    }

    parts = ngx_palloc(r->pool, NGX_HTTP_TICKET_PARTS_MAX * sizeof(tk_part_t));
    ctx->uploads = ngx_array_create(r->pool, 4, sizeof(tk_part_t));
    if (parts == NULL || ctx->uploads == NULL) {
        return NGX_ERROR;
    }

    n = tk_multipart_parse(ngx_ticket_str(&ctx->form), &boundary, parts,
                           NGX_HTTP_TICKET_PARTS_MAX);
    if (n < 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ticket: a multipart body that does not parse");
        return NGX_ERROR;
    }

    /* urlencoded, each byte at most "%XX" */
    len = 0;

    for (i = 0; i < n; i++) {
        if (!parts[i].is_file) {
            len += 3 * (parts[i].name.len + parts[i].data.len) + 2;
        }
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->form.data = p;

    for (i = 0; i < n; i++) {
        if (parts[i].is_file) {
            /* a file input left empty sends a part without a name */
            if (parts[i].filename.len == 0 && parts[i].data.len == 0) {
                continue;
            }

            up = ngx_array_push(ctx->uploads);
            if (up == NULL) {
                return NGX_ERROR;
            }

            *up = parts[i];
            continue;
        }

        if (p != ctx->form.data) {
            *p++ = '&';
        }

        p = ngx_http_ticket_urlencode(p, &parts[i].name);
        *p++ = '=';
        p = ngx_http_ticket_urlencode(p, &parts[i].data);
    }

    ctx->form.len = p - ctx->form.data;
    *p = '\0';

    return NGX_OK;
}


/* what ngx_http_ticket_form_arg() decodes again: a NUL in a field is
 * refused there, as in any form */
static u_char *
ngx_http_ticket_urlencode(u_char *p, tk_str_t *s)
{
    size_t  i;
    u_char  c;

    static const u_char  hex[] = "0123456789ABCDEF";

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')
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
