/*
 * ngx_http_ticket_reply.h -- the two files of a reply being sent:
 *   ngx_http_ticket_reply_form.c   the request, parsed and checked
 *   ngx_http_ticket_reply.c        the transaction
 */

#ifndef NGX_HTTP_TICKET_REPLY_H
#define NGX_HTTP_TICKET_REPLY_H

#include "ngx_http_ticket_view.h"
#include "tk_json.h"
#include "tk_outbox.h"


/* POST /t/N/reply's form into c (NGX_OK, NGX_ERROR: no memory). */
ngx_int_t ngx_http_ticket_reply_form(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_compose_t *c);
/* The JSON body of the API into c: NGX_OK, or NGX_DECLINED with the
 * field and what is wrong with it. */
ngx_int_t ngx_http_ticket_reply_json(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_compose_t *c,
    const char **field, const char **message);
/* Every field checked, errors set next to them: NGX_OK or NGX_DECLINED. */
ngx_int_t ngx_http_ticket_reply_check(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_compose_t *c);
void ngx_http_ticket_reply_first_error(ngx_http_ticket_compose_t *c,
    const char **field, const char **message);

#endif /* NGX_HTTP_TICKET_REPLY_H */
