/*
 * ngx_http_ticket_query.c -- a ticket list over the overview index: the
 * (group, state, owner) partitions it covers are counted, the top of
 * each is read (in two rounds, only as deep as the page can reach) and
 * k-way merged into a page, then the page's tickets are read.  The overview pages and the JSON API
 * both list tickets this way; see ngx_http_ticket_views.h.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>
#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"


typedef struct {
    const char                *name;
    const char                *label_en;
    const char                *label_de;
    ngx_flag_t                 default_desc;
} ngx_http_ticket_col_def_t;


static ngx_int_t ngx_http_ticket_query_counted(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_query_ranged(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_query_range(ngx_http_ticket_query_t *q,
    ngx_http_ticket_part_t *part, tk_cmds_t *cmds, ngx_uint_t from,
    ngx_uint_t n);
static ngx_int_t ngx_http_ticket_query_refilled(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_query_merged(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_query_rows(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);


static ngx_http_ticket_col_def_t  ngx_http_ticket_col_defs[] = {
    { "number", "No.", "Nr.", 1 },
    { "title", "Title", "Titel", 0 },
    { "customer", "Customer", "Kund*in", 0 },
    { "group", "Group", "AG", 0 },
    { "owner", "Owner", "Zuständig", 0 },
    { "state", "State", "Status", 0 },
    { "priority", "Priority", "Priorität", 1 },
    { "created", "Created", "Erstellt", 1 },
    { "updated", "Updated", "Aktualisiert", 1 },
};


/* Fields of a ticket hash a list shows, in HMGET order. */
static const char  *ngx_http_ticket_row_fields[] = {
    TK_F_NUMBER, TK_F_TITLE, TK_F_CUSTOMER_NAME, TK_F_CUSTOMER_EMAIL,
    TK_F_GROUP, TK_F_OWNER, TK_F_STATE, TK_F_PRIORITY, TK_F_CREATED,
    TK_F_UPDATED
};

#define NGX_HTTP_TICKET_ROW_FIELDS                                           \
    (sizeof(ngx_http_ticket_row_fields) / sizeof(char *))


/* ---- the ticket list query ------------------------------------------------ */

ngx_int_t
ngx_http_ticket_query_init(ngx_http_request_t *r, ngx_http_ticket_query_t *q)
{
    ngx_memzero(q, sizeof(ngx_http_ticket_query_t));

    q->column = NGX_HTTP_TICKET_COL_UPDATED;
    q->desc = 1;
    q->limit = NGX_HTTP_TICKET_PER_PAGE;

    return ngx_array_init(&q->parts, r->pool, 16,
                          sizeof(ngx_http_ticket_part_t));
}


ngx_int_t
ngx_http_ticket_query_add(ngx_http_ticket_query_t *q, ngx_str_t *group,
    ngx_int_t state, ngx_str_t *owner)
{
    ngx_http_ticket_part_t  *part;

    part = ngx_array_push(&q->parts);
    if (part == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(part, sizeof(ngx_http_ticket_part_t));

    part->group = *group;
    part->state = state;
    part->owner = *owner;

    return NGX_OK;
}


/*
 * Read the partitions' sizes first (the API has no sidebar to take them
 * from): one HMGET of tk:{ix}:counts, or with a priority filter one
 * ZCOUNT of each partition's priority set over that priority's range.
 */
ngx_int_t
ngx_http_ticket_query_run(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_query_t *q)
{
    char                     key[TK_KEY_MAX];
    long long                lo;
    tk_str_t                *argv;
    tk_cmds_t               *cmds;
    ngx_uint_t               i;
    ngx_http_ticket_part_t  *part;

    if (q->parts.nelts == 0) {
        return ngx_http_ticket_query_fetch(r, ctx, q);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    part = q->parts.elts;

    if (q->priority) {
        lo = (long long) q->priority * 10000000000LL;

        for (i = 0; i < q->parts.nelts; i++) {
            if (tk_key_index(key, sizeof(key), ngx_ticket_str(&part[i].group),
                             (int) part[i].state,
                             ngx_ticket_str(&part[i].owner), TK_SORT_PRIORITY)
                == 0)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            tk_cmds_add(cmds, "ZCOUNT %s %lld (%lld", key, lo,
                        lo + 10000000000LL);
        }

    } else {
        argv = ngx_pnalloc(r->pool, (q->parts.nelts + 2) * sizeof(tk_str_t));
        if (argv == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        tk_str_set(&argv[0], "HMGET");
        tk_str_set(&argv[1], TK_KEY_INDEX_COUNTS);

        for (i = 0; i < q->parts.nelts; i++) {
            if (ngx_http_ticket_count_field(r, &part[i].group, part[i].state,
                                            &part[i].owner, &argv[i + 2])
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        tk_cmds_argv(cmds, (int) q->parts.nelts + 2, argv);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_query_counted);
}


static ngx_int_t
ngx_http_ticket_query_counted(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    long long                 n;
    ngx_uint_t                i;
    ngx_http_ticket_reply_t  *rep;
    ngx_http_ticket_query_t  *q;
    ngx_http_ticket_part_t   *part;

    q = ctx->view;
    part = q->parts.elts;

    for (i = 0; i < q->parts.nelts; i++) {

        if (q->priority) {
            rep = (i < ctx->nreplies) ? &ctx->replies[i] : NULL;

        } else {
            rep = (ctx->nreplies == 1
                   && ctx->replies[0].type == REDIS_REPLY_ARRAY
                   && i < ctx->replies[0].nelem)
                  ? &ctx->replies[0].element[i] : NULL;
        }

        n = 0;

        if (rep && rep->type == REDIS_REPLY_INTEGER) {
            n = rep->integer;

        } else if (rep && rep->type == REDIS_REPLY_STRING) {
            n = tk_str_atoll(ngx_ticket_str(&rep->str));
        }

        part[i].count = n > 0 ? (ngx_uint_t) n : 0;
    }

    return ngx_http_ticket_query_fetch(r, ctx, q);
}


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
static void
ngx_http_ticket_query_plan(ngx_http_ticket_query_t *q)
{
    ngx_http_ticket_part_t  *part;

    q->sort = TK_SORT_UPDATED;
    q->lex = 0;
    q->set_desc = 1;

    if (q->priority) {
        q->sort = TK_SORT_PRIORITY;

        if (q->column == NGX_HTTP_TICKET_COL_UPDATED
            || q->column == NGX_HTTP_TICKET_COL_PRIORITY)
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
static ngx_int_t
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


/*
 * Read the top of every partition the page touches, in up to two rounds
 * (partitions counted empty and segments outside the page are not read).
 * A segment must merge its first "end" entries.  Round 1 reads the first
 * m = max(3, ceil(2 * end / P)) of each of its P partitions; a partition
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
    ngx_uint_t               s, i, cum, end, nparts, m;
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

        m = ngx_max(3, (2 * seg->end + nparts - 1) / nparts);
        m = ngx_min(m, seg->end);

        for (i = seg->first; i < seg->first + seg->nparts; i++) {

            if (part[i].count == 0) {
                continue;
            }

            part[i].want = m;
            part[i].index = cmds->n;

            if (ngx_http_ticket_query_range(q, &part[i], cmds, 0, m)
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


/* Entries [from, from + n) of a partition's set in the set's order. */
static ngx_int_t
ngx_http_ticket_query_range(ngx_http_ticket_query_t *q,
    ngx_http_ticket_part_t *part, tk_cmds_t *cmds, ngx_uint_t from,
    ngx_uint_t n)
{
    char       key[TK_KEY_MAX];
    long long  lo, hi;

    if (tk_key_index(key, sizeof(key), ngx_ticket_str(&part->group),
                     (int) part->state, ngx_ticket_str(&part->owner), q->sort)
        == 0)
    {
        return NGX_ERROR;
    }

    lo = (long long) q->priority * 10000000000LL;
    hi = lo + 10000000000LL;

    if (q->priority) {
        if (q->set_desc) {
            tk_cmds_add(cmds, "ZREVRANGEBYSCORE %s (%lld %lld "
                        "WITHSCORES LIMIT %llu %llu", key, hi, lo,
                        (unsigned long long) from, (unsigned long long) n);
        } else {
            tk_cmds_add(cmds, "ZRANGEBYSCORE %s %lld (%lld "
                        "WITHSCORES LIMIT %llu %llu", key, lo, hi,
                        (unsigned long long) from, (unsigned long long) n);
        }

    } else if (q->lex) {
        if (q->set_desc) {
            tk_cmds_add(cmds, "ZREVRANGEBYLEX %s + - LIMIT %llu %llu",
                        key, (unsigned long long) from,
                        (unsigned long long) n);
        } else {
            tk_cmds_add(cmds, "ZRANGEBYLEX %s - + LIMIT %llu %llu",
                        key, (unsigned long long) from,
                        (unsigned long long) n);
        }

    } else {
        tk_cmds_add(cmds, "%s %s %llu %llu WITHSCORES",
                    q->set_desc ? "ZREVRANGE" : "ZRANGE", key,
                    (unsigned long long) from,
                    (unsigned long long) (from + n - 1));
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
    ngx_uint_t   k, n, step;
    ngx_str_t   *members;
    double      *scores;

    if (rep->type != REDIS_REPLY_ARRAY) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: reading index %V:%i:%V failed: %V",
                      &part->group, part->state, &part->owner, &rep->str);
        return NGX_OK;
    }

    step = q->lex ? 1 : 2;
    n = rep->nelem / step;

    if (n == 0) {
        return NGX_OK;
    }

    members = ngx_palloc(r->pool, (part->len + n) * sizeof(ngx_str_t));
    scores = q->lex ? NULL
                    : ngx_palloc(r->pool, (part->len + n) * sizeof(double));
    if (members == NULL || (!q->lex && scores == NULL)) {
        return NGX_ERROR;
    }

    if (part->len) {
        ngx_memcpy(members, part->members, part->len * sizeof(ngx_str_t));
        if (scores) {
            ngx_memcpy(scores, part->scores, part->len * sizeof(double));
        }
    }

    for (k = 0; k < n; k++) {
        members[part->len + k] = rep->element[step * k].str;

        if (scores) {
            scores[part->len + k] =
                ngx_http_ticket_query_score(&rep->element[2 * k + 1].str);
        }
    }

    part->members = members;
    part->scores = scores;
    part->len += n;

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
 * on go to numbers (at most limit in all).  Without numbers it only moves
 * the cursors, which then tell how far each partition was consumed.
 */
static void
ngx_http_ticket_query_merge(ngx_http_ticket_query_t *q,
    ngx_http_ticket_seg_t *seg, uint64_t *numbers, ngx_uint_t *n)
{
    ngx_uint_t               i, k;
    ngx_http_ticket_part_t  *part, *best;

    part = q->parts.elts;

    for (i = seg->first; i < seg->first + seg->nparts; i++) {
        part[i].pos = 0;
    }

    for (k = 0; k < seg->end && (numbers == NULL || *n < q->limit); k++) {
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

        if (numbers && k >= seg->skip) {
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
    ngx_uint_t                s, i;
    tk_cmds_t                *cmds;
    ngx_http_ticket_seg_t    *seg;
    ngx_http_ticket_part_t   *part;
    ngx_http_ticket_query_t  *q;

    q = ctx->view;
    part = q->parts.elts;

    for (i = 0; i < q->parts.nelts; i++) {
        part[i].len = 0;
        part[i].pos = 0;
        part[i].refill = 0;
        part[i].members = NULL;
        part[i].scores = NULL;

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

    cmds = NULL;

    for (s = 0; s < q->nsegs; s++) {
        seg = &q->segs[s];

        if (seg->end == 0) {
            continue;
        }

        ngx_http_ticket_query_merge(q, seg, NULL, NULL);

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
                                            seg->end - part[i].want)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }

    if (cmds == NULL) {
        return ngx_http_ticket_query_merged(r, ctx);
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

    return ngx_http_ticket_query_merged(r, ctx);
}


/* Every entry that can reach the page is in: merge, then read the rows. */
static ngx_int_t
ngx_http_ticket_query_merged(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    uint64_t                 *numbers;
    ngx_uint_t                s, i, n, f;
    tk_str_t                 *argv;
    tk_cmds_t                *cmds;
    ngx_http_ticket_query_t  *q;

    q = ctx->view;

    numbers = ngx_palloc(r->pool, (q->limit + 1) * sizeof(uint64_t));
    if (numbers == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    for (s = 0; s < q->nsegs && n < q->limit; s++) {
        ngx_http_ticket_query_merge(q, &q->segs[s], numbers, &n);
    }

    q->nrows = 0;

    if (n == 0) {
        return q->done(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    argv = ngx_pnalloc(r->pool,
                       (NGX_HTTP_TICKET_ROW_FIELDS + 2) * sizeof(tk_str_t));
    if (cmds == NULL || argv == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_str_set(&argv[0], "HMGET");

    for (f = 0; f < NGX_HTTP_TICKET_ROW_FIELDS; f++) {
        argv[f + 2].data = (u_char *) ngx_http_ticket_row_fields[f];
        argv[f + 2].len = ngx_strlen(ngx_http_ticket_row_fields[f]);
    }

    for (i = 0; i < n; i++) {
        argv[1].data = ngx_pnalloc(r->pool, TK_KEY_MAX);
        if (argv[1].data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        argv[1].len = tk_key_ticket((char *) argv[1].data, TK_KEY_MAX,
                                    numbers[i]);

        tk_cmds_argv(cmds, (int) NGX_HTTP_TICKET_ROW_FIELDS + 2, argv);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_query_rows);
}


/* One HMGET per ticket is in; a ticket deleted meanwhile is left out. */
static ngx_int_t
ngx_http_ticket_query_rows(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    long long                 v;
    ngx_str_t                 s;
    ngx_uint_t                i;
    ngx_http_ticket_row_t    *row;
    ngx_http_ticket_reply_t  *rep, *e;
    ngx_http_ticket_query_t  *q;

    q = ctx->view;

    q->rows = ngx_pcalloc(r->pool, (ctx->nreplies + 1)
                                   * sizeof(ngx_http_ticket_row_t));
    if (q->rows == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->nrows = 0;

    for (i = 0; i < ctx->nreplies; i++) {
        rep = &ctx->replies[i];

        if (rep->type != REDIS_REPLY_ARRAY
            || rep->nelem != NGX_HTTP_TICKET_ROW_FIELDS
            || rep->element[0].type != REDIS_REPLY_STRING)
        {
            continue;
        }

        e = rep->element;
        row = &q->rows[q->nrows];

        v = tk_str_atoll(ngx_ticket_str(&e[0].str));
        if (v <= 0) {
            continue;
        }

        row->number = (uint64_t) v;

        ngx_http_ticket_reply_str(&e[1], &row->title);
        ngx_http_ticket_reply_str(&e[2], &row->customer_name);
        ngx_http_ticket_reply_str(&e[3], &row->customer_email);
        ngx_http_ticket_reply_str(&e[4], &row->group);
        ngx_http_ticket_reply_str(&e[5], &row->owner);

        ngx_http_ticket_reply_str(&e[6], &s);
        row->state = tk_state_parse((const char *) s.data, s.len);
        ngx_http_ticket_reply_str(&e[7], &s);
        row->priority = tk_prio_parse((const char *) s.data, s.len);

        ngx_http_ticket_reply_str(&e[8], &s);
        v = tk_str_atoll(ngx_ticket_str(&s));
        row->created = v > 0 ? v : 0;

        ngx_http_ticket_reply_str(&e[9], &s);
        v = tk_str_atoll(ngx_ticket_str(&s));
        row->updated = v > 0 ? v : 0;

        q->nrows++;
    }

    return q->done(r, ctx);
}


ngx_int_t
ngx_http_ticket_count_field(ngx_http_request_t *r, ngx_str_t *group,
    ngx_int_t state, ngx_str_t *owner, tk_str_t *field)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, group->len + owner->len + NGX_INT_T_LEN + 2);
    if (p == NULL) {
        return NGX_ERROR;
    }

    field->data = p;
    field->len = ngx_sprintf(p, "%V:%i:%V", group, state, owner) - p;

    return NGX_OK;
}


/* ---- columns -------------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_col_parse(ngx_str_t *name)
{
    ngx_uint_t  c;

    for (c = 0; c < NGX_HTTP_TICKET_COL_N; c++) {
        if (name->len == ngx_strlen(ngx_http_ticket_col_defs[c].name)
            && ngx_strncmp(name->data, ngx_http_ticket_col_defs[c].name,
                           name->len) == 0)
        {
            return c;
        }
    }

    return NGX_ERROR;
}


const char *
ngx_http_ticket_col_name(ngx_uint_t col)
{
    return col < NGX_HTTP_TICKET_COL_N ? ngx_http_ticket_col_defs[col].name
                                       : "updated";
}


ngx_flag_t
ngx_http_ticket_col_default_desc(ngx_uint_t col)
{
    return col < NGX_HTTP_TICKET_COL_N
           ? ngx_http_ticket_col_defs[col].default_desc : 1;
}


void
ngx_http_ticket_col_label(ngx_http_ticket_ctx_t *ctx, ngx_uint_t col,
    tk_str_t *label)
{
    ngx_http_ticket_col_def_t  *c;

    c = &ngx_http_ticket_col_defs[col < NGX_HTTP_TICKET_COL_N ? col : 0];

    label->data = (u_char *) (ngx_http_ticket_lang_de(ctx) ? c->label_de
                                                           : c->label_en);
    label->len = ngx_strlen(label->data);
}


ngx_flag_t
ngx_http_ticket_col_with_priority(ngx_uint_t col)
{
    return col == NGX_HTTP_TICKET_COL_UPDATED
           || col == NGX_HTTP_TICKET_COL_PRIORITY
           || col == NGX_HTTP_TICKET_COL_STATE
           || col == NGX_HTTP_TICKET_COL_GROUP;
}
