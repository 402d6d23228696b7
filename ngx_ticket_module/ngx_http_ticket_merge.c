/*
 * ngx_http_ticket_merge.c -- the partition reads of a ticket list: the
 * top of each partition the page reaches is read in up to two rounds and
 * k-way merged into the page's ticket numbers, handed back up to the
 * query through q->merged (ngx_http_ticket_query.c sits above this file
 * and is never called from here).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>
#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"


/* above every score of the index (times, priority * 1e10 + time,
 * ticket numbers) */
#define NGX_HTTP_TICKET_SCORE_INF        1000000000000000000LL


static ngx_int_t ngx_http_ticket_query_ranged(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_query_range(ngx_http_ticket_query_t *q,
    ngx_http_ticket_part_t *part, tk_cmds_t *cmds, ngx_uint_t from,
    ngx_uint_t n, ngx_http_ticket_seg_t *bound);
static ngx_int_t ngx_http_ticket_query_refilled(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_query_decide(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_query_merged(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_query_page(ngx_http_request_t *r,
    ngx_http_ticket_query_t *q, uint64_t **numbers, ngx_str_t **packed);
static ngx_int_t ngx_http_ticket_query_hand_up(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t *numbers, ngx_str_t *packed,
    ngx_uint_t n);
static uint64_t ngx_http_ticket_query_number(ngx_str_t *member);


/*
 * Read the top of every partition the page touches, in up to two rounds
 * (partitions counted empty and segments outside the page are not read).
 * A segment must merge its first "end" entries.  Round 1 reads the first
 * m of each of its partitions (ngx_http_ticket_query_want); a partition
 * whose m entries all rank within the segment's first "end" may hold more
 * that do, and only those partitions are read on, up to "end", in round
 * 2 (ngx_http_ticket_query_ranged).  The merge then sees every entry that
 * can reach the page, exactly as if "end" had been read from each.
 */
ngx_int_t
ngx_http_ticket_query_fetch(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_query_t *q)
{
    tk_cmds_t               *cmds;
    ngx_uint_t               s, i, cum, end, nparts;
    ngx_http_ticket_seg_t   *seg;
    ngx_http_ticket_part_t  *part;

    ngx_http_ticket_query_plan(q);

    if (ngx_http_ticket_query_segments(r, q) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    part = q->parts.elts;
    end = q->offset + q->limit;
    cum = 0;

    for (s = 0; s < q->nsegs; s++) {
        seg = &q->segs[s];

        if (cum + seg->total <= q->offset || cum >= end) {
            cum += seg->total;
            continue;
        }

        seg->skip = q->offset > cum ? q->offset - cum : 0;
        seg->end = ngx_min(seg->total, end - cum);
        cum += seg->total;

        nparts = 0;

        for (i = seg->first; i < seg->first + seg->nparts; i++) {
            nparts += (part[i].count != 0);
        }

        if (nparts == 0) {
            continue;
        }

        for (i = seg->first; i < seg->first + seg->nparts; i++) {

            if (part[i].count == 0) {
                continue;
            }

            part[i].want = ngx_http_ticket_query_want(seg, &part[i], nparts);
            part[i].index = cmds->n;

            if (ngx_http_ticket_query_range(q, &part[i], cmds, 0,
                                            part[i].want, NULL)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cmds->n == 0) {
        q->nrows = 0;
        return q->done(r, ctx);
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_query_ranged);
}


/*
 * Entries [from, from + n) of a partition's set in the set's order.  With
 * a bound (round 2) only those that rank no lower than the trial merge's
 * last entry: the others cannot reach the page, which "end" entries at
 * least as good already fill.  Scores are integers (tk_index_score()).
 */
static ngx_int_t
ngx_http_ticket_query_range(ngx_http_ticket_query_t *q,
    ngx_http_ticket_part_t *part, tk_cmds_t *cmds, ngx_uint_t from,
    ngx_uint_t n, ngx_http_ticket_seg_t *bound)
{
    char                key[TK_KEY_MAX];
    const char         *fmt;
    long long           lo, hi, t;
    ngx_flag_t          ranged;
    unsigned long long  from_, n_;

    if (tk_key_index(key, sizeof(key), ngx_ticket_str(&part->group),
                     (int) part->state, ngx_ticket_str(&part->owner), q->sort)
        == 0)
    {
        return NGX_ERROR;
    }

    /* scores only when the rows cannot give the order (see views.h); a
     * format's word is one argument, so the format is chosen whole */
    from_ = (unsigned long long) from;
    n_ = (unsigned long long) n;

    ranged = ngx_http_ticket_query_score_range(q, &lo, &hi);

    if (bound && bound->bounded && !q->lex) {
        if (!ranged) {
            lo = -NGX_HTTP_TICKET_SCORE_INF;
            hi = NGX_HTTP_TICKET_SCORE_INF;
            ranged = 1;
        }

        /* from the top of the range as round 1 read it, so "from" skips
         * what round 1 read */
        t = (long long) bound->bound;

        if (q->set_desc) {
            lo = ngx_max(lo, t);
        } else {
            hi = ngx_min(hi, t + 1);
        }
    }

    if (ranged) {
        if (q->set_desc) {
            fmt = q->with_scores
                  ? "ZREVRANGEBYSCORE %s (%lld %lld WITHSCORES LIMIT %llu %llu"
                  : "ZREVRANGEBYSCORE %s (%lld %lld LIMIT %llu %llu";
            tk_cmds_add(cmds, fmt, key, hi, lo, from_, n_);

        } else {
            fmt = q->with_scores
                  ? "ZRANGEBYSCORE %s %lld (%lld WITHSCORES LIMIT %llu %llu"
                  : "ZRANGEBYSCORE %s %lld (%lld LIMIT %llu %llu";
            tk_cmds_add(cmds, fmt, key, lo, hi, from_, n_);
        }

    } else if (q->lex) {
        fmt = q->set_desc ? "ZREVRANGEBYLEX %s + - LIMIT %llu %llu"
                          : "ZRANGEBYLEX %s - + LIMIT %llu %llu";
        tk_cmds_add(cmds, fmt, key, from_, n_);

    } else {
        fmt = q->with_scores ? "%s %s %llu %llu WITHSCORES" : "%s %s %llu %llu";
        tk_cmds_add(cmds, fmt, q->set_desc ? "ZREVRANGE" : "ZRANGE", key,
                    from_, from_ + n_ - 1);
    }

    return NGX_OK;
}


/*
 * A score as Redis prints it.  The index's scores are integers below
 * 2^53 (times, priority * 1e10 + time), which are read exactly without
 * strtod; anything else ("1.5e+20", "inf") still goes through strtod.
 */
static double
ngx_http_ticket_query_score(ngx_str_t *s)
{
    u_char     buf[64], *p, *last;
    size_t     n;
    int64_t    v;
    ngx_flag_t neg;

    p = s->data;
    last = p + s->len;
    neg = (p < last && *p == '-');
    p += neg;

    if (p < last && last - p <= 15) {
        v = 0;

        while (p < last && *p >= '0' && *p <= '9') {
            v = v * 10 + (*p++ - '0');
        }

        if (p == last) {
            return neg ? -(double) v : (double) v;
        }
    }

    n = ngx_min(s->len, sizeof(buf) - 1);
    ngx_memcpy(buf, s->data, n);
    buf[n] = '\0';

    return strtod((char *) buf, NULL);
}


/*
 * Append a range reply to a partition's entries: members (and scores)
 * of the first round, then of the second.  A failed read leaves the
 * partition as it was.
 */
static ngx_int_t
ngx_http_ticket_query_take(ngx_http_request_t *r, ngx_http_ticket_query_t *q,
    ngx_http_ticket_part_t *part, ngx_http_ticket_reply_t *rep)
{
    ngx_uint_t              k, n, step;
    ngx_flag_t              by_rows;
    ngx_str_t              *members;
    double                 *scores;
    ngx_str_t              *packed;

    if (rep->type != REDIS_REPLY_ARRAY) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: reading index %V:%i:%V failed: %V",
                      &part->group, part->state, &part->owner, &rep->str);
        return NGX_OK;
    }

    step = (q->lex || !q->with_scores) ? 1 : 2;
    n = rep->nelem / step;

    if (n == 0) {
        return NGX_OK;
    }

    members = ngx_palloc(r->pool, (part->len + n) * sizeof(ngx_str_t));
    scores = q->lex ? NULL
                    : ngx_palloc(r->pool, (part->len + n) * sizeof(double));
    by_rows = ngx_http_ticket_query_rows_scored(q);
    packed = by_rows
             ? ngx_palloc(r->pool, (part->len + n) * sizeof(ngx_str_t)) : NULL;
    if (members == NULL || (!q->lex && scores == NULL)
        || (by_rows && packed == NULL))
    {
        return NGX_ERROR;
    }

    if (part->len) {
        ngx_memcpy(members, part->members, part->len * sizeof(ngx_str_t));
        if (scores) {
            ngx_memcpy(scores, part->scores, part->len * sizeof(double));
        }
        if (packed) {
            ngx_memcpy(packed, part->packed, part->len * sizeof(ngx_str_t));
        }
    }

    for (k = 0; k < n; k++) {
        members[part->len + k] = rep->element[step * k].str;

        if (scores == NULL) {
            continue;
        }

        if (q->with_scores) {
            scores[part->len + k] =
                ngx_http_ticket_query_score(&rep->element[2 * k + 1].str);

        } else if (q->sort == TK_SORT_CREATED) {
            /* the score of a crt set is the member, its number */
            scores[part->len + k] = (double)
                ngx_http_ticket_query_number(&members[part->len + k]);

        } else {
            scores[part->len + k] = 0;          /* from its row, later */
        }
    }

    part->members = members;
    part->scores = scores;
    part->packed = packed;
    part->len += n;

    if (!by_rows) {
        part->scored = part->len;
    }

    return NGX_OK;
}


/* Is the head of part a before the head of part b in the page's order? */
static ngx_flag_t
ngx_http_ticket_query_before(ngx_http_ticket_query_t *q,
    ngx_http_ticket_part_t *a, ngx_http_ticket_part_t *b)
{
    ngx_int_t   rc;
    ngx_str_t  *ma, *mb;

    ma = &a->members[a->pos];
    mb = &b->members[b->pos];

    if (q->lex) {
        rc = 0;

    } else {
        rc = (a->scores[a->pos] < b->scores[b->pos])
             ? -1 : (a->scores[a->pos] > b->scores[b->pos]);
    }

    /* equal scores: Redis orders by member, so do we */
    if (rc == 0) {
        rc = ngx_memn2cmp(ma->data, mb->data, ma->len, mb->len);
    }

    return q->set_desc ? rc > 0 : rc < 0;
}


/* The ticket number in an index member: "N", or "text\x1fNNNN...". */
static uint64_t
ngx_http_ticket_query_number(ngx_str_t *member)
{
    u_char     *p;
    tk_str_t    digits;
    long long   n;

    p = member->data + member->len;

    while (p > member->data && p[-1] != 0x1f) {
        p--;
    }

    digits.data = p;
    digits.len = member->data + member->len - p;

    n = tk_str_atoll(&digits);

    return n > 0 ? (uint64_t) n : 0;
}


/*
 * K-way merge of one segment's first "end" entries; the ones from "skip"
 * on go to numbers (at most limit in all).  The cursors then tell how far
 * each partition was consumed (the trial merge of round 1).
 */
static void
ngx_http_ticket_query_merge(ngx_http_ticket_query_t *q,
    ngx_http_ticket_seg_t *seg, uint64_t *numbers, ngx_str_t *packed,
    ngx_uint_t *n)
{
    ngx_uint_t               i, k;
    ngx_http_ticket_part_t  *part, *best;

    part = q->parts.elts;

    for (i = seg->first; i < seg->first + seg->nparts; i++) {
        part[i].pos = 0;
    }

    seg->bounded = 0;

    for (k = 0; k < seg->end; k++) {
        best = NULL;

        for (i = seg->first; i < seg->first + seg->nparts; i++) {
            if (part[i].pos < part[i].len
                && (best == NULL
                    || ngx_http_ticket_query_before(q, &part[i], best)))
            {
                best = &part[i];
            }
        }

        if (best == NULL) {
            break;
        }

        if (k + 1 == seg->end && best->scores) {
            seg->bound = best->scores[best->pos];
            seg->bounded = 1;
        }

        if (numbers && k >= seg->skip && *n < q->limit) {
            if (packed) {
                packed[*n] = best->packed[best->pos];
            }

            numbers[(*n)++] =
                ngx_http_ticket_query_number(&best->members[best->pos]);
        }

        best->pos++;
    }
}


/*
 * Round 1 is in.  A partition that returned all it was asked for and
 * was consumed entirely by a trial merge may hold more entries that rank
 * within the segment: read those, up to the segment's end, in round 2.
 */
static ngx_int_t
ngx_http_ticket_query_ranged(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                i;
    ngx_http_ticket_part_t   *part;
    ngx_http_ticket_query_t  *q;

    q = ctx->view;
    part = q->parts.elts;

    for (i = 0; i < q->parts.nelts; i++) {
        part[i].len = 0;
        part[i].scored = 0;
        part[i].pos = 0;
        part[i].refill = 0;
        part[i].members = NULL;
        part[i].scores = NULL;
        part[i].packed = NULL;

        if (part[i].want == 0 || part[i].index >= ctx->nreplies) {
            continue;
        }

        if (ngx_http_ticket_query_take(r, q, &part[i],
                                       &ctx->replies[part[i].index])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_ticket_query_score_rows(r, ctx,
                                            ngx_http_ticket_query_decide);
}


/* Round 1 is ordered: does any partition need a second read? */
static ngx_int_t
ngx_http_ticket_query_decide(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    uint64_t                 *numbers;
    ngx_uint_t                s, i, n;
    ngx_str_t                *packed;
    tk_cmds_t                *cmds;
    ngx_http_ticket_seg_t    *seg;
    ngx_http_ticket_part_t   *part;
    ngx_http_ticket_query_t  *q;

    q = ctx->view;
    part = q->parts.elts;
    cmds = NULL;

    if (ngx_http_ticket_query_page(r, q, &numbers, &packed) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    for (s = 0; s < q->nsegs; s++) {
        seg = &q->segs[s];

        if (seg->end == 0) {
            continue;
        }

        /* the trial merge: the page, if no partition is read on */
        ngx_http_ticket_query_merge(q, seg, numbers, packed, &n);

        for (i = seg->first; i < seg->first + seg->nparts; i++) {

            if (part[i].want == 0 || part[i].want >= seg->end
                || part[i].len != part[i].want
                || part[i].pos != part[i].len)
            {
                continue;
            }

            if (cmds == NULL) {
                cmds = ngx_http_ticket_cmds(r);
                if (cmds == NULL) {
                    return NGX_HTTP_INTERNAL_SERVER_ERROR;
                }
            }

            part[i].refill = 1;
            part[i].index = cmds->n;

            if (ngx_http_ticket_query_range(q, &part[i], cmds, part[i].want,
                                            seg->end - part[i].want, seg)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }

    if (cmds == NULL) {
        return ngx_http_ticket_query_hand_up(r, ctx, numbers, packed, n);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_query_refilled);
}


static ngx_int_t
ngx_http_ticket_query_refilled(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                i;
    ngx_http_ticket_part_t   *part;
    ngx_http_ticket_query_t  *q;

    q = ctx->view;
    part = q->parts.elts;

    for (i = 0; i < q->parts.nelts; i++) {

        if (!part[i].refill || part[i].index >= ctx->nreplies) {
            continue;
        }

        if (ngx_http_ticket_query_take(r, q, &part[i],
                                       &ctx->replies[part[i].index])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_ticket_query_score_rows(r, ctx,
                                            ngx_http_ticket_query_merged);
}


/* Every entry that can reach the page is in: merge, then read the rows. */
static ngx_int_t
ngx_http_ticket_query_merged(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    uint64_t                 *numbers;
    ngx_uint_t                s, n;
    ngx_str_t                *packed;
    ngx_http_ticket_query_t  *q;

    q = ctx->view;

    if (ngx_http_ticket_query_page(r, q, &numbers, &packed) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    for (s = 0; s < q->nsegs && n < q->limit; s++) {
        ngx_http_ticket_query_merge(q, &q->segs[s], numbers, packed, &n);
    }

    return ngx_http_ticket_query_hand_up(r, ctx, numbers, packed, n);
}


/* Room for the page's numbers (and their rows, when the merge has them). */
static ngx_int_t
ngx_http_ticket_query_page(ngx_http_request_t *r, ngx_http_ticket_query_t *q,
    uint64_t **numbers, ngx_str_t **packed)
{
    ngx_flag_t  by_rows;

    by_rows = ngx_http_ticket_query_rows_scored(q);
    *numbers = ngx_palloc(r->pool, (q->limit + 1) * sizeof(uint64_t));
    *packed = by_rows
              ? ngx_palloc(r->pool, (q->limit + 1) * sizeof(ngx_str_t)) : NULL;

    return (*numbers == NULL || (by_rows && *packed == NULL))
           ? NGX_ERROR : NGX_OK;
}


/* Up to the query, which reads the rows (ngx_http_ticket_query.c). */
static ngx_int_t
ngx_http_ticket_query_hand_up(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t *numbers, ngx_str_t *packed,
    ngx_uint_t n)
{
    ngx_http_ticket_query_t  *q;

    q = ctx->view;
    q->nrows = 0;

    if (n == 0) {
        return q->done(r, ctx);
    }

    q->numbers = numbers;
    q->nnumbers = n;
    q->page_packed = packed;

    return q->merged(r, ctx);
}
