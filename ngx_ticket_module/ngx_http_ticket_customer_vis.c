/*
 * ngx_http_ticket_customer_vis.c -- which customers exist for this user.
 *
 * A customer is there for an agent who may read one of their tickets
 * (admins: always), as the customer page decides (customer.c): the
 * composer's address suggestions and the customer page's list of the
 * organisation's others must not name a customer whose page is a 404.
 * Two pipelined rounds, which the caller sends: each customer's newest
 * tickets, then those tickets' groups.  A customer with more tickets
 * than that gets, in the second round, one ZINTERCARD ... LIMIT 1 of
 * their ticket set with each readable group's set of all its tickets
 * (SCHEMA.md "Class partitions"): so one whose readable tickets are all
 * older is there too, with work bounded by the user's groups, each
 * command stopping at the first common ticket inside Redis.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"


#define NGX_HTTP_TICKET_VIS_TICKETS  20     /* per customer, newest first */


static ngx_int_t ngx_http_ticket_cust_vis_older(ngx_http_ticket_ctx_t *ctx,
    tk_cmds_t *cmds, ngx_str_t *id, ngx_uint_t *count);


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
 * Round 2 from round 1's n replies: one HGET of the group per ticket,
 * and for a customer whose newest tickets filled round 1, the older ones
 * per readable group; (*counts)[i] is how many commands belong to
 * customer i.  No command added: nobody has a ticket.
 */
ngx_int_t
ngx_http_ticket_cust_vis_groups(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, tk_cmds_t *cmds,
    ngx_http_ticket_reply_t *replies, ngx_uint_t nreplies, ngx_str_t *ids,
    ngx_uint_t n, ngx_uint_t **counts)
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

        if (!ctx->user.admin && nums->type == REDIS_REPLY_ARRAY
            && nums->nelem >= NGX_HTTP_TICKET_VIS_TICKETS
            && ngx_http_ticket_cust_vis_older(ctx, cmds, &ids[i], &(*counts)[i])
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return cmds->failed ? NGX_ERROR : NGX_OK;
}


/*
 * A customer with more tickets than round 1 read: whether any of them is
 * in a group the user may read, one ZINTERCARD per such group (an
 * integer reply, 1 or 0, counted in *count).
 */
static ngx_int_t
ngx_http_ticket_cust_vis_older(ngx_http_ticket_ctx_t *ctx, tk_cmds_t *cmds,
    ngx_str_t *id, ngx_uint_t *count)
{
    char                            key[TK_KEY_MAX];
    long long                       cust;
    ngx_str_t                       any;
    ngx_uint_t                      g;
    ngx_http_ticket_group_right_t  *gr;

    ngx_str_set(&any, TK_OWNER_ANY);
    cust = tk_str_atoll(ngx_ticket_str(id));
    gr = ctx->groups.elts;

    for (g = 0; cust > 0 && g < ctx->groups.nelts; g++) {
        if (gr[g].right == TK_RIGHT_NONE) {
            continue;
        }

        if (tk_key_index(key, sizeof(key), ngx_ticket_str(&gr[g].name),
                         TK_ISTATE_ALL, ngx_ticket_str(&any), TK_SORT_CREATED)
            == 0)
        {
            return NGX_ERROR;
        }

        tk_cmds_add(cmds, "ZINTERCARD 2 " TK_FMT_CUST_TICKETS " %s LIMIT 1",
                    (unsigned long long) cust, key);
        (*count)++;
    }

    return NGX_OK;
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
            if (at >= nreplies) {
                continue;
            }

            /* a ticket's group (HGET), or a readable group's ZINTERCARD */
            if ((replies[at].type == REDIS_REPLY_STRING
                 && ngx_http_ticket_right(ctx, &replies[at].str)
                    != TK_RIGHT_NONE)
                || (replies[at].type == REDIS_REPLY_INTEGER
                    && replies[at].integer > 0))
            {
                visible[i] = 1;
            }
        }
    }
}
