/*
 * ngx_http_ticket_casework_list.c -- what the list pages with a form of
 * text modules (textmod.c) and ticket templates (templates.c) share:
 *
 *   GET  PREFIX[?edit=ID]   the list, one entry in the form
 *   POST PREFIX/save        id (empty: a new one) and the fields
 *   POST PREFIX/delete      id
 *
 * the request's checks, a new entry's id (INCR), and the way back to
 * the list after the write.  The page's view begins with the
 * ngx_http_ticket_list_req_t.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_casework.h"


static ngx_flag_t ngx_http_ticket_list_digits(ngx_str_t *s);


/*
 * A GET (or HEAD) of the list, or a POST of save or delete with the
 * CSRF token: anything else is refused here (405, 404, CSRF, 400 for an
 * id that is no number).  ?edit= that is no id is ignored.
 */
ngx_int_t
ngx_http_ticket_list_request(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_step_pt next)
{
    size_t                       plen;
    ngx_str_t                    rest;
    ngx_http_ticket_list_req_t  *req = ctx->view;

    plen = ngx_strlen(req->prefix) + 1;
    rest.data = ctx->path.data + plen;
    rest.len = ctx->path.len - plen;

    if (rest.len == 0) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
        }
        if (ngx_http_ticket_query_arg(r, "edit", &req->edit) != NGX_OK
            || !ngx_http_ticket_list_digits(&req->edit))
        {
            ngx_str_null(&req->edit);
        }
        return next(r, ctx);
    }

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
        return ngx_http_ticket_csrf_refused(r, ctx);
    }

    if (rest.len == 5 && ngx_strncmp(rest.data, "/save", 5) == 0) {
        req->op = NGX_HTTP_TICKET_LIST_SAVE;
    } else if (rest.len == 7 && ngx_strncmp(rest.data, "/delete", 7) == 0) {
        req->op = NGX_HTTP_TICKET_LIST_DELETE;
    } else {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    ngx_http_ticket_form_value(r, ctx, "id", &req->id);

    if ((req->id.len || req->op == NGX_HTTP_TICKET_LIST_DELETE)
        && !ngx_http_ticket_list_digits(&req->id))
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL);
    }

    return next(r, ctx);
}


/* A checked save: a new entry asks for its id first (INCR seq). */
ngx_int_t
ngx_http_ticket_list_save(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    const char *seq, ngx_http_ticket_step_pt write)
{
    tk_cmds_t                   *cmds;
    ngx_http_ticket_list_req_t  *req = ctx->view;

    if (req->op != NGX_HTTP_TICKET_LIST_SAVE || req->id.len) {
        return write(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "INCR %s", seq);

    return ngx_http_ticket_redis_send(r, ctx, cmds, write);
}


/* In write: a new entry's id, from the INCR's reply.  NGX_ERROR: none. */
ngx_int_t
ngx_http_ticket_list_new_id(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_list_req_t  *req = ctx->view;

    if (req->op != NGX_HTTP_TICKET_LIST_SAVE || req->id.len) {
        return NGX_OK;
    }

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_INTEGER
        || ngx_http_ticket_uint_str(r, (uint64_t) ctx->replies[0].integer,
                                    ngx_ticket_str(&req->id)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* The write's EXEC is in: back to the list. */
ngx_int_t
ngx_http_ticket_list_done(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_list_req_t  *req = ctx->view;

    if (ctx->nreplies == 0
        || ctx->replies[ctx->nreplies - 1].type != REDIS_REPLY_ARRAY)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    return ngx_http_ticket_redirect(r, req->prefix, ngx_strlen(req->prefix));
}


static ngx_flag_t
ngx_http_ticket_list_digits(ngx_str_t *s)
{
    ngx_uint_t  i;

    if (s->len == 0 || s->len > 20) {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        if (s->data[i] < '0' || s->data[i] > '9') {
            return 0;
        }
    }

    return 1;
}
