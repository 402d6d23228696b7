/*
 * ngx_http_ticket_merge_plan.c -- how a ticket list reads its partitions:
 * which sorted sets (the sort key of the index, lexical or by score, the
 * order within a set), the score ranges of the filters, and the segments
 * in page order.  The reading and merging is ngx_http_ticket_merge.c.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ticket_views.h"


/* up to this many partitions read in proportion to their sizes */
#define NGX_HTTP_TICKET_ONE_ROUND_PARTS  8


/* Partitions of one state (then group) side by side. */
static ngx_int_t ngx_libc_cdecl
ngx_http_ticket_part_cmp_state(const void *one, const void *two)
{
    const ngx_http_ticket_part_t  *a = one, *b = two;

    if (a->state != b->state) {
        return a->state < b->state ? -1 : 1;
    }

    return ngx_memn2cmp(a->group.data, b->group.data, a->group.len,
                        b->group.len);
}


/* Groups as people read them: case does not matter ("also" < "Legal"). */
static ngx_int_t ngx_libc_cdecl
ngx_http_ticket_part_cmp_group(const void *one, const void *two)
{
    ngx_http_ticket_part_t  *a, *b;
    ngx_int_t                rc;

    a = (ngx_http_ticket_part_t *) one;
    b = (ngx_http_ticket_part_t *) two;

    rc = ngx_http_ticket_casecmp(ngx_ticket_str(&a->group),
                                 ngx_ticket_str(&b->group));
    if (rc == 0) {
        rc = ngx_memn2cmp(a->group.data, b->group.data, a->group.len,
                          b->group.len);
    }

    if (rc != 0) {
        return rc;
    }

    return a->state - b->state;
}


/*
 * Which sets to read and how: the sort key of the index, lexical or by
 * score, and the order within a set.  A sort the sets cannot give falls
 * back to "updated, newest first" (owner in owner-specific partitions,
 * where it is the same for all; other columns with a priority filter).
 */
void
ngx_http_ticket_query_plan(ngx_http_ticket_query_t *q)
{
    ngx_http_ticket_part_t  *part;

    q->sort = TK_SORT_UPDATED;
    q->lex = 0;
    q->set_desc = 1;

    if (q->priority || q->upd_from || q->upd_to || q->num_range) {
        q->sort = ngx_http_ticket_query_range_sort(q);

        if (q->sort == TK_SORT_CREATED
            ? (q->column == NGX_HTTP_TICKET_COL_NUMBER
               || q->column == NGX_HTTP_TICKET_COL_CREATED)
            : (q->column == NGX_HTTP_TICKET_COL_UPDATED
               || q->column == NGX_HTTP_TICKET_COL_PRIORITY))
        {
            q->set_desc = q->desc;
        }

        return;
    }

    switch (q->column) {

    case NGX_HTTP_TICKET_COL_NUMBER:
    case NGX_HTTP_TICKET_COL_CREATED:
        q->sort = TK_SORT_CREATED;
        q->set_desc = q->desc;
        break;

    case NGX_HTTP_TICKET_COL_PRIORITY:
        q->sort = TK_SORT_PRIORITY;
        q->set_desc = q->desc;
        break;

    case NGX_HTTP_TICKET_COL_UPDATED:
        q->set_desc = q->desc;
        break;

    case NGX_HTTP_TICKET_COL_TITLE:
        q->sort = TK_SORT_TITLE;
        q->lex = 1;
        q->set_desc = q->desc;
        break;

    case NGX_HTTP_TICKET_COL_CUSTOMER:
        q->sort = TK_SORT_CUSTOMER;
        q->lex = 1;
        q->set_desc = q->desc;
        break;

    case NGX_HTTP_TICKET_COL_OWNER:
        part = q->parts.elts;
        if (q->parts.nelts
            && part[0].owner.len == 1 && part[0].owner.data[0] == '*')
        {
            q->sort = TK_SORT_OWNER;
            q->lex = 1;
            q->set_desc = q->desc;
        }
        break;

    default:
        /* state, group: segments, each by updated, newest first */
        break;
    }
}


/*
 * Cut the partitions into segments in page order: one per state or group
 * when sorting by that column (the partitions' order decides, the sets
 * are read newest first), otherwise a single segment merging them all.
 */
ngx_int_t
ngx_http_ticket_query_segments(ngx_http_request_t *r,
    ngx_http_ticket_query_t *q)
{
    ngx_uint_t               i, n;
    ngx_flag_t               concat, by_state;
    ngx_http_ticket_seg_t   *seg, tmp;
    ngx_http_ticket_part_t  *part;

    part = q->parts.elts;
    n = q->parts.nelts;
    by_state = (q->column == NGX_HTTP_TICKET_COL_STATE);
    concat = by_state || q->column == NGX_HTTP_TICKET_COL_GROUP;

    if (concat && n > 1) {
        ngx_sort(part, n, sizeof(ngx_http_ticket_part_t),
                 by_state ? ngx_http_ticket_part_cmp_state
                          : ngx_http_ticket_part_cmp_group);
    }

    seg = ngx_pcalloc(r->pool, (n + 1) * sizeof(ngx_http_ticket_seg_t));
    if (seg == NULL) {
        return NGX_ERROR;
    }

    q->segs = seg;
    q->nsegs = 0;
    q->total = 0;

    for (i = 0; i < n; i++) {

        if (q->nsegs == 0
            || (concat && by_state
                && part[i].state != part[seg[q->nsegs - 1].first].state)
            || (concat && !by_state
                && ngx_memn2cmp(part[i].group.data,
                                part[seg[q->nsegs - 1].first].group.data,
                                part[i].group.len,
                                part[seg[q->nsegs - 1].first].group.len)
                   != 0))
        {
            seg[q->nsegs].first = i;
            q->nsegs++;
        }

        seg[q->nsegs - 1].nparts++;
        seg[q->nsegs - 1].total += part[i].count;
        q->total += part[i].count;
    }

    if (concat && q->desc) {
        for (i = 0; i < q->nsegs / 2; i++) {
            tmp = seg[i];
            seg[i] = seg[q->nsegs - 1 - i];
            seg[q->nsegs - 1 - i] = tmp;
        }
    }

    return NGX_OK;
}


ngx_flag_t
ngx_http_ticket_query_score_range(ngx_http_ticket_query_t *q, long long *lo,
    long long *hi)
{
    long long  base;

    if (q->num_range && !q->priority && !q->upd_from && !q->upd_to) {
        /* a created range: ticket numbers, the score of the crt sets */
        *lo = q->num_from > 0 ? q->num_from : 0;
        *hi = q->num_to > 0 ? q->num_to + 1 : 1000000000000000LL;
        return 1;
    }

    if (!q->priority && !q->upd_from && !q->upd_to) {
        return 0;
    }

    /* updated times stay below 1e10 s (the year 2286) */
    base = (long long) q->priority * 10000000000LL;
    *lo = base + (q->upd_from > 0 ? q->upd_from : 0);
    *hi = base + (q->upd_to > 0 ? q->upd_to + 1 : 10000000000LL);

    return 1;
}


/* A priority or an updated range wins over a created range: the page
 * goes to the sets path when both are asked for (overview_sets.c). */
ngx_int_t
ngx_http_ticket_query_range_sort(ngx_http_ticket_query_t *q)
{
    if (q->priority) {
        return TK_SORT_PRIORITY;
    }

    if (q->num_range && !q->upd_from && !q->upd_to) {
        return TK_SORT_CREATED;
    }

    return TK_SORT_UPDATED;
}


/*
 * How many entries round 1 reads of a partition.  A few partitions (a
 * group's class partition each) read in proportion to their sizes: the
 * page's share of a partition of c of a segment's t tickets is about
 * binomial, mean mu = end * c / t; mu + 3 sqrt(mu) + 1 is more than that
 * share but for one page in several hundred, so the second round (two
 * round trips) is rare, and a large partition reads less than twice its
 * share.  Many partitions (a person's, an owner's class) read the same
 * 2 * end / P each.
 */
ngx_uint_t
ngx_http_ticket_query_want(ngx_http_ticket_seg_t *seg,
    ngx_http_ticket_part_t *part, ngx_uint_t nparts)
{
    ngx_uint_t  m, mu100, sd10, next;

    if (nparts > NGX_HTTP_TICKET_ONE_ROUND_PARTS || seg->total == 0) {
        m = ngx_max(3, (2 * seg->end + nparts - 1) / nparts);
        return ngx_min(m, seg->end);
    }

    /* in hundredths: mu100 = 100 mu, sd10 = 10 sqrt(mu) (Newton) */
    mu100 = (100 * seg->end * part->count + seg->total - 1) / seg->total;
    sd10 = mu100;
    next = (sd10 + 1) / 2;

    while (next < sd10) {
        sd10 = next;
        next = (sd10 + mu100 / sd10) / 2;
    }

    m = (mu100 + 30 * sd10 + 100 + 99) / 100;

    return ngx_min(ngx_max(3, m), seg->end);
}
