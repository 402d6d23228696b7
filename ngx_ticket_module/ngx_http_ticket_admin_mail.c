/*
 * ngx_http_ticket_admin_mail.c -- "/admin/mail": mailbridge's IMAP
 * accounts as their last poll left them, for admins (read only).
 * mailbridge records each poll in tk:mailbox:NAME (fetch_imap.c,
 * mb_imap_status()); tk:mailboxes names them.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_admin.h"
#include "tk_tpl.h"


#define NGX_HTTP_TICKET_AM_FIELDS                                            \
    TK_F_URL " " TK_F_LAST_POLL " " TK_F_LAST_OK " " TK_F_FETCHED " "         \
    TK_F_LAST_ERROR
#define NGX_HTTP_TICKET_AM_NFIELDS     5


typedef struct {
    ngx_str_t                 *names;
    ngx_uint_t                 nnames;
} ngx_http_ticket_am_t;


static ngx_int_t ngx_http_ticket_am_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_am_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_am_body(tk_out_t *out, void *data);


ngx_int_t
ngx_http_ticket_admin_mail(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_str_t *rest)
{
    tk_cmds_t             *cmds;
    ngx_http_ticket_am_t  *am;

    if (rest->len) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    am = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_am_t));
    cmds = ngx_http_ticket_cmds(r);
    if (am == NULL || cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = am;

    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_MAILBOXES);

    return ngx_http_ticket_redis_send(r, ctx, cmds, ngx_http_ticket_am_read);
}


static ngx_int_t
ngx_http_ticket_am_read(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t             i;
    tk_cmds_t             *cmds;
    ngx_http_ticket_am_t  *am;

    am = ctx->view;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_ARRAY) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    if (ngx_http_ticket_admin_members(r, &ctx->replies[0], &am->names,
                                      &am->nnames) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (am->nnames == 0) {
        ctx->nreplies = 0;
        return ngx_http_ticket_am_render(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < am->nnames; i++) {
        tk_cmds_add(cmds, "HMGET " TK_FMTS_MAILBOX " "
                    NGX_HTTP_TICKET_AM_FIELDS, ngx_ticket_str(&am->names[i]));
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_am_render);
}


static ngx_int_t
ngx_http_ticket_am_render(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                  title, v[NGX_HTTP_TICKET_AM_NFIELDS];
    ngx_uint_t                 i, k;
    long long                  poll, ok;
    tk_tpl_admin_mail_t       *tpl;
    tk_tpl_admin_mail_rows_t  *row;
    ngx_http_ticket_am_t      *am;
    ngx_http_ticket_reply_t   *rep;

    am = ctx->view;

    tpl = ngx_pcalloc(r->pool, sizeof(tk_tpl_admin_mail_t));
    row = ngx_pcalloc(r->pool, (am->nnames + 1) * sizeof(*row));
    if (tpl == NULL || row == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->de = ngx_http_ticket_lang_de(ctx);
    tpl->rows = row;

    if (ngx_http_ticket_url(r, "admin", 5, &tpl->admin_url) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < am->nnames && i < ctx->nreplies; i++) {
        rep = &ctx->replies[i];

        if (rep->type != REDIS_REPLY_ARRAY
            || rep->nelem != NGX_HTTP_TICKET_AM_NFIELDS)
        {
            continue;
        }

        for (k = 0; k < NGX_HTTP_TICKET_AM_NFIELDS; k++) {
            ngx_http_ticket_reply_str(&rep->element[k], &v[k]);
        }

        row->name = *ngx_ticket_str(&am->names[i]);
        row->url = *ngx_ticket_str(&v[0]);
        row->fetched = *ngx_ticket_str(&v[3]);
        row->error = *ngx_ticket_str(&v[4]);

        poll = tk_str_atoll(ngx_ticket_str(&v[1]));
        ok = tk_str_atoll(ngx_ticket_str(&v[2]));

        if ((poll > 0
             && (ngx_http_ticket_time_str(r, poll, &row->last_poll) != NGX_OK
                 || ngx_http_ticket_iso_str(r, poll, &row->last_poll_iso)
                    != NGX_OK))
            || (ok > 0
                && ngx_http_ticket_time_str(r, ok, &row->last_ok) != NGX_OK))
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        row++;
        tpl->rows_n++;
    }

    title.data = (u_char *) ngx_http_ticket_msg(ctx,
                                                TK_MSG_COMMON_MAIL_ACCOUNTS);
    title.len = ngx_strlen(title.data);

    return ngx_http_ticket_page(r, ctx, NGX_HTTP_OK, &title,
                                ngx_http_ticket_am_body, tpl);
}


static void
ngx_http_ticket_am_body(tk_out_t *out, void *data)
{
    tk_tpl_admin_mail(out, data);
}
