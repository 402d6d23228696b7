/*
 * ngx_http_ticket_download.c -- the files of a mail article:
 * "/t/N/a/A/att/K" an attachment, "/t/N/a/A/cid/CONTENT-ID" an inline
 * image by its Content-ID (what src="cid:..." in HTML mail points to),
 * "/t/N/a/A/raw" the mail as received (stored gzip-compressed by
 * mailbridge, inflated here).  The right is checked as for the
 * ticket page: no right on the ticket's group is the 404 of a ticket
 * that does not exist.  A file is never shown as a page of ours: only
 * a few image types and plain text open in the browser, sandboxed.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>
#include <zlib.h>

#include "ngx_http_ticket_views.h"


/* A stored raw mail that claims to inflate to more than this is broken. */
#define NGX_HTTP_TICKET_DL_RAW_MAX     (256 * 1024 * 1024)

/* More parts than this in one mail are not looked at for a cid. */
#define NGX_HTTP_TICKET_DL_MAX_PARTS   1000

#define NGX_HTTP_TICKET_DL_ATT         0
#define NGX_HTTP_TICKET_DL_CID         1
#define NGX_HTTP_TICKET_DL_RAW         2


typedef struct {
    uint64_t                   number;
    uint64_t                   article;
    ngx_uint_t                 what;            /* NGX_HTTP_TICKET_DL_* */
    ngx_uint_t                 k;               /* att: its number */
    ngx_str_t                  cid;             /* cid: the Content-ID */
    ngx_uint_t                 parts;           /* attachments of A */
} ngx_http_ticket_dl_t;


/* Types a browser may show itself; anything else is a download. */
typedef struct {
    ngx_str_t                  stored;
    const char                 *sent;
} ngx_http_ticket_dl_type_t;


static ngx_int_t ngx_http_ticket_dl_parse(ngx_str_t *rest,
    ngx_http_ticket_dl_t *dl);
static ngx_int_t ngx_http_ticket_dl_checked(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_dl_cid_found(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_dl_read_part(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_dl_t *dl);
static ngx_int_t ngx_http_ticket_dl_send_part(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_dl_send_raw(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_dl_gunzip(ngx_http_request_t *r,
    ngx_str_t *raw);
static void *ngx_http_ticket_dl_zalloc(void *opaque, u_int items,
    u_int size);
static void ngx_http_ticket_dl_zfree(void *opaque, void *address);
static const char *ngx_http_ticket_dl_type(ngx_str_t *stored,
    ngx_flag_t *show_inline);


static ngx_http_ticket_dl_type_t  ngx_http_ticket_dl_types[] = {
    { ngx_string("image/png"), "image/png" },
    { ngx_string("image/jpeg"), "image/jpeg" },
    { ngx_string("image/gif"), "image/gif" },
    { ngx_string("image/webp"), "image/webp" },
    { ngx_string("text/plain"), "text/plain; charset=utf-8" },
    { ngx_null_string, NULL }
};


/*
 * rest is "/a/A/att/K", "/a/A/cid/ID" or "/a/A/raw".  First batch: the
 * ticket's group (for the right) and the article's ticket and number of
 * parts -- its key names ticket N, so it exists only if A is N's.
 */
ngx_int_t
ngx_http_ticket_download(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number, ngx_str_t *rest)
{
    char                   key[TK_KEY_MAX];
    size_t                 len;
    tk_cmds_t             *cmds;
    ngx_http_ticket_dl_t  *dl;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    dl = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_dl_t));
    if (dl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    dl->number = number;

    if (ngx_http_ticket_dl_parse(rest, dl) != NGX_OK) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    ctx->view = dl;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = tk_key_ticket(key, sizeof(key), number);
    tk_cmds_add(cmds, "HGET %b " TK_F_GROUP, key, len);

    len = tk_key_article(key, sizeof(key), number, dl->article);
    tk_cmds_add(cmds, "HMGET %b " TK_F_TICKET " " TK_F_ATTACHMENTS, key,
                len);

    if (cmds->failed || len == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_dl_checked);
}


/* "/a/A/att/K" | "/a/A/cid/ID" | "/a/A/raw"; anything else: 404. */
static ngx_int_t
ngx_http_ticket_dl_parse(ngx_str_t *rest, ngx_http_ticket_dl_t *dl)
{
    u_char    *p, *last;
    size_t     n;
    uint64_t   k;

    p = rest->data;
    last = rest->data + rest->len;

    if (last - p < 3 || ngx_strncmp(p, "/a/", 3) != 0) {
        return NGX_DECLINED;
    }

    p += 3;

    n = ngx_http_ticket_number(p, last, &dl->article);
    if (n == 0) {
        return NGX_DECLINED;
    }

    p += n;

    if (last - p == 4 && ngx_strncmp(p, "/raw", 4) == 0) {
        dl->what = NGX_HTTP_TICKET_DL_RAW;
        return NGX_OK;
    }

    if (last - p > 5 && ngx_strncmp(p, "/att/", 5) == 0) {
        n = ngx_http_ticket_number(p + 5, last, &k);

        if (n == 0 || p + 5 + n != last || k > NGX_HTTP_TICKET_DL_MAX_PARTS) {
            return NGX_DECLINED;
        }

        dl->what = NGX_HTTP_TICKET_DL_ATT;
        dl->k = (ngx_uint_t) k;
        return NGX_OK;
    }

    /* nginx has decoded the path: the rest is the Content-ID itself */
    if (last - p > 5 && ngx_strncmp(p, "/cid/", 5) == 0) {
        dl->what = NGX_HTTP_TICKET_DL_CID;
        dl->cid.data = p + 5;
        dl->cid.len = last - p - 5;
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/*
 * Ticket and article are in: no ticket, no right on its group or no such
 * article of this ticket are one and the same 404.  Then the file: the
 * raw mail, the attachment K, or first the Content-IDs of all parts.
 */
static ngx_int_t
ngx_http_ticket_dl_checked(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    char                      key[TK_KEY_MAX];
    size_t                    len;
    long long                 n;
    tk_cmds_t                *cmds;
    ngx_str_t                 group, ticket, parts;
    ngx_uint_t                k;
    ngx_http_ticket_dl_t     *dl;
    ngx_http_ticket_reply_t  *art;

    dl = ctx->view;

    if (ctx->nreplies != 2 || ctx->replies[0].type != REDIS_REPLY_STRING
        || ctx->replies[1].type != REDIS_REPLY_ARRAY
        || ctx->replies[1].nelem != 2)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    group = ctx->replies[0].str;

    if (ngx_http_ticket_right(ctx, &group) == TK_RIGHT_NONE) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    art = &ctx->replies[1];
    ngx_http_ticket_reply_str(&art->element[0], &ticket);
    ngx_http_ticket_reply_str(&art->element[1], &parts);

    n = tk_str_atoll(ngx_ticket_str(&ticket));

    if (n <= 0 || (uint64_t) n != dl->number) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    n = tk_str_atoll(ngx_ticket_str(&parts));
    dl->parts = n > 0 ? (ngx_uint_t) ngx_min(n, NGX_HTTP_TICKET_DL_MAX_PARTS)
                      : 0;

    if (dl->what == NGX_HTTP_TICKET_DL_ATT) {
        if (dl->k > dl->parts) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
        }

        return ngx_http_ticket_dl_read_part(r, ctx, dl);
    }

    if (dl->what == NGX_HTTP_TICKET_DL_CID && dl->parts == 0) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (dl->what == NGX_HTTP_TICKET_DL_RAW) {
        len = tk_key_raw(key, sizeof(key), dl->number, dl->article);
        tk_cmds_add(cmds, "GET %b", key, len);

        if (cmds->failed || len == 0) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_ticket_redis_send(r, ctx, cmds,
                                          ngx_http_ticket_dl_send_raw);
    }

    for (k = 1; k <= dl->parts; k++) {
        len = tk_key_attachment(key, sizeof(key), dl->number, dl->article,
                                (unsigned) k);
        tk_cmds_add(cmds, "HGET %b " TK_F_CONTENT_ID, key, len);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_dl_cid_found);
}


/* The Content-IDs of the parts are in: the first that matches. */
static ngx_int_t
ngx_http_ticket_dl_cid_found(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t             i;
    ngx_http_ticket_dl_t  *dl;

    dl = ctx->view;

    for (i = 0; i < ctx->nreplies; i++) {
        if (ctx->replies[i].type == REDIS_REPLY_STRING
            && ctx->replies[i].str.len == dl->cid.len
            && ngx_memcmp(ctx->replies[i].str.data, dl->cid.data,
                          dl->cid.len) == 0)
        {
            dl->k = i + 1;
            return ngx_http_ticket_dl_read_part(r, ctx, dl);
        }
    }

    return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
}


/* Only now, with the right checked, are a part's bytes read. */
static ngx_int_t
ngx_http_ticket_dl_read_part(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_dl_t *dl)
{
    char        key[TK_KEY_MAX];
    size_t      len;
    tk_cmds_t  *cmds;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = tk_key_attachment(key, sizeof(key), dl->number, dl->article,
                            (unsigned) dl->k);
    tk_cmds_add(cmds, "HMGET %b " TK_F_NAME " " TK_F_CONTENT_TYPE " "
                TK_F_DATA, key, len);

    if (cmds->failed || len == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_dl_send_part);
}


static ngx_int_t
ngx_http_ticket_dl_send_part(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                 name, type, data;
    ngx_flag_t                show_inline;
    const char               *sent;
    ngx_http_ticket_reply_t  *rep;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_ARRAY
        || ctx->replies[0].nelem != 3
        || ctx->replies[0].element[2].type != REDIS_REPLY_STRING)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    rep = ctx->replies[0].element;

    ngx_http_ticket_reply_str(&rep[0], &name);
    ngx_http_ticket_reply_str(&rep[1], &type);
    data = rep[2].str;

    sent = ngx_http_ticket_dl_type(&type, &show_inline);

    return ngx_http_ticket_file(r, &data, sent, show_inline, &name);
}


static ngx_int_t
ngx_http_ticket_dl_send_raw(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                *p;
    ngx_str_t              name, raw;
    ngx_http_ticket_dl_t  *dl;

    dl = ctx->view;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_STRING) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    p = ngx_pnalloc(r->pool, sizeof("ticket--article-.eml")
                             + 2 * NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    name.data = p;
    name.len = ngx_sprintf(p, "ticket-%uL-article-%uL.eml", dl->number,
                           dl->article)
               - p;

    raw = ctx->replies[0].str;

    if (ngx_http_ticket_dl_gunzip(r, &raw) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_file(r, &raw, "message/rfc822", 0, &name);
}


/*
 * mailbridge stores raw mail gzip-compressed (SCHEMA.md); values written
 * before that, or that did not shrink, are the mail itself.  A mail
 * starts with a header line, never with the gzip magic 1f 8b, so the
 * first two bytes tell which.  The whole mail is inflated into the
 * request pool in one go: its size is in the gzip trailer (ISIZE), and
 * zlib's own state comes from the pool too (no malloc here).  We inflate
 * instead of sending "Content-Encoding: gzip": the .eml is a download
 * that must be byte-exact for every client, also ones that do not send
 * "Accept-Encoding: gzip", and a raw mail is small and rarely fetched.
 */
static ngx_int_t
ngx_http_ticket_dl_gunzip(ngx_http_request_t *r, ngx_str_t *raw)
{
    u_char    *in, *out;
    size_t     size;
    z_stream   z;
    ngx_int_t  rc;

    in = raw->data;

    if (raw->len < 18 || in[0] != 0x1f || in[1] != 0x8b) {
        return NGX_OK;
    }

    /* ISIZE: the uncompressed length mod 2^32, little-endian */
    size = (size_t) in[raw->len - 4] | (size_t) in[raw->len - 3] << 8
           | (size_t) in[raw->len - 2] << 16
           | (size_t) in[raw->len - 1] << 24;

    if (size == 0 || size > NGX_HTTP_TICKET_DL_RAW_MAX) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "raw mail: gzip value of %uz bytes claims %uz bytes",
                      raw->len, size);
        return NGX_ERROR;
    }

    out = ngx_pnalloc(r->pool, size);
    if (out == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&z, sizeof(z_stream));
    z.zalloc = ngx_http_ticket_dl_zalloc;
    z.zfree = ngx_http_ticket_dl_zfree;
    z.opaque = r->pool;

    if (inflateInit2(&z, 15 + 16) != Z_OK) {
        return NGX_ERROR;
    }

    z.next_in = in;
    z.avail_in = (uInt) raw->len;
    z.next_out = out;
    z.avail_out = (uInt) size;

    rc = inflate(&z, Z_FINISH);
    inflateEnd(&z);

    if (rc != Z_STREAM_END || z.total_out != size) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "raw mail: inflate failed (%i, %uz of %uz bytes)",
                      rc, (size_t) z.total_out, size);
        return NGX_ERROR;
    }

    raw->data = out;
    raw->len = size;

    return NGX_OK;
}


static void *
ngx_http_ticket_dl_zalloc(void *opaque, u_int items, u_int size)
{
    return ngx_palloc(opaque, (size_t) items * size);
}


/* freed with the request pool */
static void
ngx_http_ticket_dl_zfree(void *opaque, void *address)
{
}


/*
 * The type a part is sent with.  What a mail claims is trusted only for
 * the allow-list (shown inline, sandboxed); HTML, SVG, PDF and the rest
 * are application/octet-stream and a download, whatever they say.
 */
static const char *
ngx_http_ticket_dl_type(ngx_str_t *stored, ngx_flag_t *show_inline)
{
    size_t                      len;
    ngx_http_ticket_dl_type_t  *t;

    /* "text/plain; charset=..." counts as text/plain */
    for (len = 0; len < stored->len; len++) {
        if (stored->data[len] == ';' || stored->data[len] == ' ') {
            break;
        }
    }

    for (t = ngx_http_ticket_dl_types; t->sent; t++) {
        if (t->stored.len == len
            && ngx_strncasecmp(t->stored.data, stored->data, len) == 0)
        {
            *show_inline = 1;
            return t->sent;
        }
    }

    *show_inline = 0;

    return "application/octet-stream";
}
