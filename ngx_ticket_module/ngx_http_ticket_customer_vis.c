/*
 * ngx_http_ticket_customer_vis.c -- which customers exist for this user.
 *
 * A customer is there for an agent who may read one of their tickets
 * (admins: always), as the customer page decides (customer.c): the
 * composer's address suggestions and the customer page's list of the
 * organisation's others must not name a customer whose page is a 404.
 * Two pipelined rounds, which the caller sends: each customer's newest
 * tickets, then those tickets' groups.  The newest ones only: a customer
 * whose readable tickets are all older than that is left out of a
 * suggestion, never shown to someone who may not see them.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"


#define NGX_HTTP_TICKET_VIS_TICKETS  20     /* per customer, newest first */


/* Round 1: one ZREVRANGE of the ticket index per customer id. */
void
ngx_http_ticket_cust_vis_tickets(tk_cmds_t *cmds, ngx_str_t *ids,
    ngx_uint_t n)
{
    long long   id;
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        id = tk_str_atoll(ngx_ticket_str(&ids[i]));

        if (id <= 0) {
            tk_cmds_add(cmds, "ECHO -");
            continue;
        }

        tk_cmds_add(cmds, "ZREVRANGE " TK_FMT_CUST_TICKETS " 0 %d",
                    (unsigned long long) id, NGX_HTTP_TICKET_VIS_TICKETS - 1);
    }
}


/*
 * Round 2 from round 1's n replies: one HGET of the group per ticket;
 * (*counts)[i] is how many belong to customer i.  No command added:
 * nobody has a ticket.
 */
ngx_int_t
ngx_http_ticket_cust_vis_groups(ngx_http_request_t *r, tk_cmds_t *cmds,
    ngx_http_ticket_reply_t *replies, ngx_uint_t nreplies, ngx_uint_t n,
    ngx_uint_t **counts)
{
    uint64_t                  number;
    ngx_uint_t                i, k;
    ngx_http_ticket_reply_t  *nums, *el;

    *counts = ngx_pcalloc(r->pool, (n + 1) * sizeof(ngx_uint_t));
    if (*counts == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n && i < nreplies; i++) {
        nums = &replies[i];

        for (k = 0; nums->type == REDIS_REPLY_ARRAY && k < nums->nelem; k++) {
            el = &nums->element[k];

            if (el->type != REDIS_REPLY_STRING
                || ngx_http_ticket_number(el->str.data,
                                          el->str.data + el->str.len, &number)
                   != el->str.len)
            {
                continue;
            }

            tk_cmds_add(cmds, "HGET " TK_PFX_TICKET "%S} " TK_F_GROUP,
                        ngx_ticket_str(&el->str));
            (*counts)[i]++;
        }
    }

    return cmds->failed ? NGX_ERROR : NGX_OK;
}


/* Round 2's replies: visible[i] for customer i (admins: every one). */
void
ngx_http_ticket_cust_vis_decide(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_reply_t *replies, ngx_uint_t nreplies,
    ngx_uint_t *counts, ngx_uint_t n, u_char *visible)
{
    ngx_uint_t  i, k, at;

    for (i = 0, at = 0; i < n; i++) {
        visible[i] = ctx->user.admin ? 1 : 0;

        for (k = 0; k < counts[i]; k++, at++) {
            if (at < nreplies && replies[at].type == REDIS_REPLY_STRING
                && ngx_http_ticket_right(ctx, &replies[at].str)
                   != TK_RIGHT_NONE)
            {
                visible[i] = 1;
            }
        }
    }
}
