/*
 * ngx_http_ticket_merge_rows.c -- the order of the members of the upd and
 * pri sets from their rows in tk:{ix}:rows, read without WITHSCORES (Redis
 * 7.0 prints every score with "%.17g"): tk_index_score() of a row's
 * priority and updated is the member's score.  The merge itself is
 * ngx_http_ticket_merge.c.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"


static ngx_int_t ngx_http_ticket_query_rows_in(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);


/* Sets by updated or priority: their order is in the rows (tk_index_score()
 * of the row's fields), created: in the member itself, lexical: none. */
ngx_flag_t
ngx_http_ticket_query_rows_scored(ngx_http_ticket_query_t *q)
{
    return !q->lex && !q->with_scores
           && (q->sort == TK_SORT_UPDATED || q->sort == TK_SORT_PRIORITY);
}


/* One HMGET of tk:{ix}:rows for every member read since the last one. */
ngx_int_t
ngx_http_ticket_query_score_rows(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_step_pt next)
{
    tk_str_t                 *argv;
    tk_cmds_t                *cmds;
    ngx_uint_t                i, k, n;
    ngx_http_ticket_part_t   *part;
    ngx_http_ticket_query_t  *q;

    q = ctx->view;

    if (!ngx_http_ticket_query_rows_scored(q)) {
        return next(r, ctx);
    }

    q->scored = next;
    part = q->parts.elts;
    n = 0;

    for (i = 0; i < q->parts.nelts; i++) {
        n += part[i].len - part[i].scored;
    }

    if (n == 0) {
        return next(r, ctx);
    }

    /* the members of an upd or pri set are the numbers, the rows' fields */
    argv = ngx_http_ticket_rows_argv(r, n);
    cmds = ngx_http_ticket_cmds(r);
    if (argv == NULL || cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    for (i = 0; i < q->parts.nelts; i++) {
        for (k = part[i].scored; k < part[i].len; k++) {
            argv[2 + n++] = *ngx_ticket_str(&part[i].members[k]);
        }
    }

    tk_cmds_argv(cmds, (int) n + 2, argv);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_query_rows_in);
}


/*
 * A set member's score from its packed row (tk_ticket_row(): number,
 * title, customer name, address, group, owner, state, priority, created,
 * updated, tags, customer id): the number at the front (it must be the
 * member's), priority and updated found from the back, past the short
 * fields -- not through the title and names.  NGX_ERROR unless the row
 * is the member's.  The page's rows are unpacked whole later, 50 of the
 * ~100 read.
 */
static ngx_int_t
ngx_http_ticket_query_row_score(ngx_http_ticket_query_t *q, ngx_str_t *packed,
    ngx_str_t *member, double *score)
{
    u_char      *p, *first, *sep[5];
    tk_str_t     upd;
    ngx_uint_t   k, need;
    ngx_int_t    prio;
    long long    updated;

    first = packed->data;
    p = first + packed->len;

    if (packed->len <= member->len || first[member->len] != TK_ROW_SEP
        || ngx_memcmp(first, member->data, member->len) != 0)
    {
        return NGX_ERROR;
    }

    /* the separators before customer id, tags, updated, created, priority */
    need = (q->sort == TK_SORT_PRIORITY) ? 5 : 3;
    k = 0;

    while (k < need && p > first + member->len) {
        if (*--p == TK_ROW_SEP) {
            sep[k++] = p;
        }
    }

    if (k < need) {
        return NGX_ERROR;
    }

    /* updated lies between the third and the second separator from the end */
    upd.data = sep[2] + 1;
    upd.len = sep[1] - sep[2] - 1;
    updated = tk_str_atoll(&upd);

    prio = (q->sort == TK_SORT_PRIORITY)
           ? tk_prio_parse((const char *) sep[4] + 1, sep[3] - sep[4] - 1)
           : 0;

    *score = tk_index_score(q->sort, 0, (int) prio,
                            updated > 0 ? updated : 0);

    return NGX_OK;
}


/*
 * The rows are in, in the order asked: each member gets its row and from
 * it its score.  A ticket without a row (indexed before rows existed, a
 * row too long to keep, deleted meanwhile) has no order to give: the
 * query starts over, its sets read with their scores.
 */
static ngx_int_t
ngx_http_ticket_query_rows_in(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                i, k, e;
    ngx_http_ticket_reply_t  *rep, *elt;
    ngx_http_ticket_part_t   *part;
    ngx_http_ticket_query_t  *q;

    q = ctx->view;
    part = q->parts.elts;
    rep = (ctx->nreplies == 1 && ctx->replies[0].type == REDIS_REPLY_ARRAY)
          ? &ctx->replies[0] : NULL;
    e = 0;

    for (i = 0; i < q->parts.nelts; i++) {
        for (k = part[i].scored; k < part[i].len; k++) {
            elt = (rep && e < rep->nelem) ? &rep->element[e] : NULL;
            e++;

            if (elt == NULL || elt->type != REDIS_REPLY_STRING
                || ngx_http_ticket_query_row_score(q, &elt->str,
                                                   &part[i].members[k],
                                                   &part[i].scores[k])
                   != NGX_OK)
            {
                q->with_scores = 1;
                return ngx_http_ticket_query_fetch(r, ctx, q);
            }

            part[i].packed[k] = elt->str;
        }

        part[i].scored = part[i].len;
    }

    return q->scored(r, ctx);
}
