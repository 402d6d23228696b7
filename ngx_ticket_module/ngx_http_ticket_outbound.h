/*
 * ngx_http_ticket_outbound.h -- a new ticket that starts with a mail from
 * us ("send email"):
 *   ngx_http_ticket_outbound.c       /new, POST /new and POST
 *                                    /api/v1/tickets: the reads and the one
 *                                    transaction (customer, ticket, first
 *                                    article, outbox entry)
 *   ngx_http_ticket_outbound_form.c  the request parsed and checked, the
 *                                    page filled in (compose_new.html)
 * The mail itself is the composer's (ngx_http_ticket_reply_article.c).
 */

#ifndef NGX_HTTP_TICKET_OUTBOUND_H
#define NGX_HTTP_TICKET_OUTBOUND_H

#include "ngx_http_ticket_reply.h"


#define NGX_HTTP_TICKET_CUSTOMER_NAME_MAX  200


typedef struct {
    ngx_http_ticket_compose_t    c;             /* to, cc, ..., errors */
    ngx_http_ticket_reply_req_t  rq;            /* what the mail needs:
                                                   rq.c = &c, number, id,
                                                   group, crypt */
    ngx_flag_t                   api;
    ngx_str_t                    group;         /* as sent */
    ngx_str_t                    name;          /* the customer's */
    ngx_str_t                    name_typed;    /* ... as the form sent it */
    ngx_str_t                    email;         /* the customer's address */
    ngx_str_t                    lower;         /* ... as indexed */
    const char                  *err_group;
    const char                  *err_name;

    /* the first reads (ngx_http_ticket_outbound.c) */
    ngx_http_ticket_reply_t     *grp;           /* HGETALL of the group */
    ngx_http_ticket_security_t   sec;
    uint64_t                     customer;      /* found by address, 0 */
    ngx_uint_t                   retries;

    /* the transaction's reads */
    ngx_int_t                    at_name;       /* the customer's name */
    ngx_int_t                    at_customer;   /* INCR of a new one */
    tk_ticket_t                  t;             /* as written */
} ngx_http_ticket_outbound_t;


/* ngx_http_ticket_outbound.c: "/new", "/new/security", "/new/complete" */
ngx_int_t ngx_http_ticket_outbound(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
/* POST /api/v1/tickets */
ngx_int_t ngx_http_ticket_outbound_api(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* ngx_http_ticket_outbound_form.c ---------------------------------------- */

/* The form (POST /new) into ob: NGX_OK or NGX_ERROR (no memory). */
ngx_int_t ngx_http_ticket_outbound_form(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_outbound_t *ob);
/* The JSON body: NGX_OK, or NGX_DECLINED with field and message. */
ngx_int_t ngx_http_ticket_outbound_json(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_outbound_t *ob,
    const char **field, const char **message);
/* Every field checked, errors next to them, the customer taken from To:
 * NGX_OK or NGX_DECLINED. */
ngx_int_t ngx_http_ticket_outbound_check(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_outbound_t *ob);
void ngx_http_ticket_outbound_first_error(ngx_http_ticket_outbound_t *ob,
    const char **field, const char **message);
/* The page: the form with ob's values and errors, the security line
 * from grp and keys (may be NULL). */
ngx_int_t ngx_http_ticket_outbound_page(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_outbound_t *ob,
    ngx_http_ticket_reply_t *keys, ngx_uint_t status);

#endif /* NGX_HTTP_TICKET_OUTBOUND_H */
