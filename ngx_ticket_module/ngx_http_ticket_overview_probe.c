/*
 * ngx_http_ticket_overview_probe.c -- what an overview's customer and
 * created range need before its page can be read:
 *   - a customer given by address: its id (HGET tk:customer-by-email);
 *   - a created range (without a customer, whose set is scored by
 *     created itself): the range of ticket numbers created in it.
 * Ticket numbers are given out in creation order (INCR tk:seq:ticket
 * when the ticket is made, SCHEMA.md), so "created from A to B" is
 * "number from S(A) to S(B + 1) - 1", S(T) being the first number created
 * at T or later, and the "crt" partitions (score = number) give the page
 * and its exact count by score ranges, like the updated range does with
 * the "upd" sets.  S(T) is found by a search over the rows
 * (tk:{ix}:rows): each round one HMGET of up to 2 x PROBES numbers
 * spread over the interval left, so 1 M tickets take four rounds; a
 * deleted ticket's missing row is skipped.  The work is bounded by
 * PROBES x ROUNDS rows, never by the number of tickets.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_overview.h"


#define NGX_HTTP_TICKET_PROBES         64
#define NGX_HTTP_TICKET_PROBE_ROUNDS   8
#define NGX_HTTP_TICKET_ROW_CREATED    8        /* field of a packed row */


/* One bound being searched: S(t) lies in [lo, hi + 1]. */
typedef struct {
    int64_t                    t;
    uint64_t                   lo;
    uint64_t                   hi;
    uint64_t                   found;           /* first >= t seen, or 0 */
    ngx_uint_t                 first;           /* its probes: index ... */
    ngx_uint_t                 n;               /* ... and how many */
    unsigned                   active:1;
    unsigned                   exhaustive:1;    /* this round probes all */
} ngx_http_ticket_probe_bound_t;


typedef struct {
    ngx_http_ticket_probe_bound_t  b[2];        /* from, to + 1 */
    uint64_t                       numbers[2 * NGX_HTTP_TICKET_PROBES];
    ngx_uint_t                     round;
} ngx_http_ticket_probe_t;


static ngx_int_t ngx_http_ticket_overview_cust_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_overview_numbers(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_overview_seq_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_overview_probe_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_overview_probe_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_overview_probed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static int64_t ngx_http_ticket_row_created(ngx_http_ticket_reply_t *rep);


/* Is there something to find out before the page?  (A created range
 * read from a set -- customer, tag, escalated, reminders -- is checked
 * on the set's rows and needs no numbers.) */
ngx_flag_t
ngx_http_ticket_overview_cond_pending(ngx_http_ticket_overview_t *ov)
{
    return (ov->cust_email.len && ov->customer == 0)
           || ((ov->crt_from || ov->crt_to)
               && !ov->customer && !ov->cust_email.len
               && !ov->only && !ov->tag.len);
}


ngx_int_t
ngx_http_ticket_overview_cond_prepare(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_http_ticket_step_pt next)
{
    tk_cmds_t  *cmds;

    ov->cond_next = next;

    if (!(ov->cust_email.len && ov->customer == 0)) {
        return ngx_http_ticket_overview_numbers(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGET " TK_KEY_CUSTOMER_BY_EMAIL " %S",
                ngx_ticket_str(&ov->cust_email));

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_overview_cust_read);
}


/* The address's customer, or none: then the overview lists nothing. */
static ngx_int_t
ngx_http_ticket_overview_cust_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    long long                    id;
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;
    id = 0;

    if (ctx->nreplies == 1 && ctx->replies[0].type == REDIS_REPLY_STRING) {
        id = tk_str_atoll(ngx_ticket_str(&ctx->replies[0].str));
    }

    if (id > 0) {
        ov->customer = (uint64_t) id;
    } else {
        ov->nothing = 1;
    }

    return ov->cond_next(r, ctx);
}


/* A created range without a set: the numbers, from the last one on. */
static ngx_int_t
ngx_http_ticket_overview_numbers(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                   *cmds;
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;

    if (ov->nothing || !ngx_http_ticket_overview_cond_pending(ov)) {
        return ov->cond_next(r, ctx);
    }

    ov->probe = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_probe_t));
    cmds = ngx_http_ticket_cmds(r);
    if (ov->probe == NULL || cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "GET " TK_KEY_SEQ_TICKET);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_overview_seq_read);
}


static ngx_int_t
ngx_http_ticket_overview_seq_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    long long                    last;
    ngx_uint_t                   i;
    ngx_http_ticket_probe_t     *pr;
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;
    pr = ov->probe;
    last = 0;

    if (ctx->nreplies == 1 && ctx->replies[0].type == REDIS_REPLY_STRING) {
        last = tk_str_atoll(ngx_ticket_str(&ctx->replies[0].str));
    }

    if (last <= 0) {
        ov->nothing = 1;                        /* no ticket yet */
        return ov->cond_next(r, ctx);
    }

    pr->b[0].t = ov->crt_from;
    pr->b[0].active = (ov->crt_from != 0);
    pr->b[1].t = ov->crt_to + 1;
    pr->b[1].active = (ov->crt_to != 0);

    for (i = 0; i < 2; i++) {
        pr->b[i].lo = 1;
        pr->b[i].hi = (uint64_t) last;
    }

    return ngx_http_ticket_overview_probe_send(r, ctx);
}


/* One round: up to PROBES numbers spread over each bound's interval
 * (all of them when it is that small), one HMGET of their rows. */
static ngx_int_t
ngx_http_ticket_overview_probe_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    uint64_t                        width;
    ngx_uint_t                      i, k, n;
    tk_cmds_t                      *cmds;
    ngx_http_ticket_probe_t        *pr;
    ngx_http_ticket_overview_t     *ov;
    ngx_http_ticket_probe_bound_t  *b;

    ov = ctx->view;
    pr = ov->probe;
    n = 0;

    for (i = 0; i < 2; i++) {
        b = &pr->b[i];
        b->n = 0;

        if (!b->active || b->lo > b->hi) {
            b->active = 0;
            continue;
        }

        b->first = n;
        width = b->hi - b->lo + 1;
        b->exhaustive = (width <= NGX_HTTP_TICKET_PROBES);
        b->n = b->exhaustive ? (ngx_uint_t) width : NGX_HTTP_TICKET_PROBES;

        for (k = 0; k < b->n; k++) {
            pr->numbers[n++] = b->exhaustive
                ? b->lo + k
                : b->lo + (width - 1) * k / (NGX_HTTP_TICKET_PROBES - 1);
        }
    }

    if (n == 0) {
        return ngx_http_ticket_overview_probed(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL
        || ngx_http_ticket_rows_cmd(r, cmds, pr->numbers, n) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pr->round++;

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_overview_probe_read);
}


/*
 * The rows are in: each bound's interval shrinks to between the last
 * probe created before t and the first created at t or later.  A round
 * that learns nothing (only deleted tickets) or the last round ends the
 * search where it is, on the side of listing more.
 */
static ngx_int_t
ngx_http_ticket_overview_probe_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    int64_t                         created;
    uint64_t                        lo, hi;
    ngx_uint_t                      i, k;
    ngx_http_ticket_reply_t        *rep;
    ngx_http_ticket_probe_t        *pr;
    ngx_http_ticket_overview_t     *ov;
    ngx_http_ticket_probe_bound_t  *b;

    ov = ctx->view;
    pr = ov->probe;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_ARRAY) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "The ticket rows could not be read.");
    }

    rep = ctx->replies[0].element;

    for (i = 0; i < 2; i++) {
        b = &pr->b[i];

        if (!b->active) {
            continue;
        }

        lo = b->lo;
        hi = b->hi;

        for (k = b->first; k < b->first + b->n
                           && k < ctx->replies[0].nelem; k++)
        {
            created = ngx_http_ticket_row_created(&rep[k]);
            if (created < 0) {
                continue;                       /* deleted: no row */
            }

            if (created >= b->t) {
                b->found = pr->numbers[k];
                hi = pr->numbers[k] - 1;
                break;
            }

            lo = pr->numbers[k] + 1;
        }

        if (b->exhaustive || (lo == b->lo && hi == b->hi)
            || pr->round >= NGX_HTTP_TICKET_PROBE_ROUNDS)
        {
            if (!b->exhaustive) {
                /* unsure: the bound that lists more */
                if (i == 0) {
                    b->found = lo;
                } else if (b->found == 0) {
                    b->found = hi + 1;
                }
            }

            b->active = 0;
            continue;
        }

        b->lo = lo;
        b->hi = hi;
    }

    return ngx_http_ticket_overview_probe_send(r, ctx);
}


/* Both bounds known: the query's number range, or nothing. */
static ngx_int_t
ngx_http_ticket_overview_probed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_probe_t     *pr;
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;
    pr = ov->probe;

    ov->query.num_range = 1;
    ov->query.num_from = 0;
    ov->query.num_to = 0;

    if (ov->crt_from) {
        if (pr->b[0].found == 0) {
            ov->nothing = 1;                    /* none created since */
        }

        ov->query.num_from = (int64_t) pr->b[0].found;
    }

    if (ov->crt_to) {
        if (pr->b[1].found == 0) {
            ov->query.num_to = 0;               /* all were before */

        } else if (pr->b[1].found <= 1) {
            ov->nothing = 1;                    /* none before */

        } else {
            ov->query.num_to = (int64_t) pr->b[1].found - 1;
        }
    }

    if (ov->query.num_to && ov->query.num_to < ov->query.num_from) {
        ov->nothing = 1;
    }

    return ov->cond_next(r, ctx);
}


/* The created time of a packed row (tk_index_row()), -1 when none. */
static int64_t
ngx_http_ticket_row_created(ngx_http_ticket_reply_t *rep)
{
    ngx_uint_t  k;
    ngx_str_t   f;
    u_char     *p, *last, *sep;

    if (rep->type != REDIS_REPLY_STRING) {
        return -1;
    }

    p = rep->str.data;
    last = p + rep->str.len;

    for (k = 0; k < NGX_HTTP_TICKET_ROW_CREATED; k++) {
        sep = ngx_strlchr(p, last, TK_ROW_SEP);
        if (sep == NULL) {
            return -1;
        }

        p = sep + 1;
    }

    sep = ngx_strlchr(p, last, TK_ROW_SEP);
    f.data = p;
    f.len = (sep ? sep : last) - p;

    return ngx_max(0, tk_str_atoll(ngx_ticket_str(&f)));
}
