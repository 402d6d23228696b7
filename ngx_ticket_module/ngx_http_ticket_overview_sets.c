/*
 * ngx_http_ticket_overview_sets.c -- overviews a set decides: escalated
 * (tk:{ix}:esc:g:GROUP, tk:{ix}:esc:o:OWNER), reminders due
 * (tk:{ix}:remdue:o:OWNER) -- both kept by mailbridge's timers role --
 * and a tag (tk:{ix}:tag:TAG, kept by the tags code).  The sets are
 * small next to the partitions (what escalated, what carries a tag), so
 * the page reads at most NGX_HTTP_TICKET_SET_CAP of their members, their
 * rows in one HMGET, keeps those matching the other conditions -- a
 * group the user cannot read never -- sorts and cuts the page.  The cost
 * is bounded by the cap, not by the number of tickets.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdio.h>
#include <stdlib.h>
#include <hiredis/read.h>

#include "ngx_http_ticket_overview.h"


static ngx_int_t ngx_http_ticket_overview_set_keys(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_array_t *keys);
static ngx_int_t ngx_http_ticket_overview_set_parts(ngx_http_request_t *r,
    ngx_http_ticket_overview_t *ov, ngx_array_t *keys);
static void ngx_http_ticket_overview_set_range(ngx_http_ticket_overview_t *ov,
    tk_cmds_t *cmds, ngx_str_t *key, ngx_uint_t limit);
static ngx_int_t ngx_http_ticket_overview_set_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_overview_set_rows(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_flag_t ngx_http_ticket_overview_set_match(
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_http_ticket_row_t *row);
static int ngx_libc_cdecl ngx_http_ticket_overview_set_cmp(const void *one,
    const void *two);


/* A set: which kind of key, for which group, owner or tag. */
typedef struct {
    ngx_uint_t                 kind;
    ngx_str_t                  name;
} ngx_http_ticket_set_key_t;

static ngx_http_ticket_set_key_t *ngx_http_ticket_set_raw_key(
    ngx_http_request_t *r, ngx_array_t *keys);

#define NGX_HTTP_TICKET_SET_ESC_G      0
#define NGX_HTTP_TICKET_SET_ESC_O      1
#define NGX_HTTP_TICKET_SET_REM_O      2
#define NGX_HTTP_TICKET_SET_TAG        3
#define NGX_HTTP_TICKET_SET_RAW        4        /* name: the whole key */

/* the commands per kind; the names stay in tk_schema.h */
static const char  *ngx_http_ticket_set_range[] = {
    "ZREVRANGE " TK_FMTS_ESC_GROUP " 0 %d",
    "ZREVRANGE " TK_FMTS_ESC_OWNER " 0 %d",
    "ZREVRANGE " TK_FMTS_REMDUE_OWNER " 0 %d",
    "ZREVRANGE " TK_FMTS_TAG " 0 %d",
};

static const char  *ngx_http_ticket_set_card[] = {
    "ZCARD " TK_FMTS_ESC_GROUP,
    "ZCARD " TK_FMTS_ESC_OWNER,
    "ZCARD " TK_FMTS_REMDUE_OWNER,
    "ZCARD " TK_FMTS_TAG,
};


/* the sort of the page, for qsort's comparison (one request at a time) */
static ngx_uint_t  ngx_http_ticket_set_col;
static ngx_flag_t  ngx_http_ticket_set_desc;


/*
 * The sets of ov: escalated in the groups it covers (any owner) or of
 * its owner partition; reminders due of its owner partition ("anyone":
 * mine and the unassigned ones -- reminders are kept per owner); a tag.
 */
/* A set read by its whole key (name.data: TK_KEY_MAX bytes to write it
 * into), pushed onto keys; NULL: no memory. */
static ngx_http_ticket_set_key_t *
ngx_http_ticket_set_raw_key(ngx_http_request_t *r, ngx_array_t *keys)
{
    ngx_http_ticket_set_key_t  *key;

    key = ngx_array_push(keys);
    if (key == NULL) {
        return NULL;
    }

    key->kind = NGX_HTTP_TICKET_SET_RAW;
    key->name.data = ngx_pnalloc(r->pool, TK_KEY_MAX);

    return key->name.data ? key : NULL;
}


static ngx_int_t
ngx_http_ticket_overview_set_keys(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_array_t *keys)
{
    ngx_uint_t                      g, i, n, kind;
    ngx_str_t                       owners[3];
    ngx_http_ticket_set_key_t      *key;
    ngx_http_ticket_group_right_t  *gr;

    gr = ctx->groups.elts;

    /* a customer's tickets (of every group: the rows decide), unless a
     * set of escalated or due tickets is the smaller one */
    if (ov->customer && !ov->only) {
        key = ngx_http_ticket_set_raw_key(r, keys);
        if (key == NULL) {
            return NGX_ERROR;
        }

        key->name.len = (size_t) snprintf((char *) key->name.data,
                                          TK_KEY_MAX, TK_FMT_CUST_TICKETS,
                                          (unsigned long long) ov->customer);
        return NGX_OK;
    }

    /* a created range with a priority or an updated range: the crt
     * partitions overview.c chose (their number ranges) */
    if (ov->query.num_range && !ov->only && !ov->tag.len) {
        return ngx_http_ticket_overview_set_parts(r, ov, keys);
    }

    if (ov->tag.len) {
        key = ngx_array_push(keys);
        if (key == NULL) {
            return NGX_ERROR;
        }

        key->kind = NGX_HTTP_TICKET_SET_TAG;
        key->name = ov->tag;
        return NGX_OK;
    }

    if (ov->only == NGX_HTTP_TICKET_ONLY_ESCALATED
        && ov->owner_kind == NGX_HTTP_TICKET_OWNER_ANY)
    {
        for (g = 0; g < ctx->groups.nelts; g++) {
            if (!ngx_http_ticket_overview_has_group(ctx, ov, g)) {
                continue;
            }

            key = ngx_array_push(keys);
            if (key == NULL) {
                return NGX_ERROR;
            }

            key->kind = NGX_HTTP_TICKET_SET_ESC_G;
            key->name = gr[g].name;
        }

        return NGX_OK;
    }

    n = 0;

    if (ov->owner_kind == NGX_HTTP_TICKET_OWNER_ANY) {
        owners[n++] = ctx->user.login;
        ngx_str_set(&owners[n], TK_OWNER_NONE);
        n++;
        ngx_str_set(&owners[n], TK_OWNER_AUTO);
        n++;

    } else {
        owners[n++] = ov->owner;
    }

    kind = (ov->only == NGX_HTTP_TICKET_ONLY_ESCALATED)
           ? NGX_HTTP_TICKET_SET_ESC_O : NGX_HTTP_TICKET_SET_REM_O;

    for (i = 0; i < n; i++) {
        key = ngx_array_push(keys);
        if (key == NULL) {
            return NGX_ERROR;
        }

        key->kind = kind;
        key->name = owners[i];
    }

    return NGX_OK;
}


/* The "crt" set of each of ov's partitions (ov->query.parts). */
static ngx_int_t
ngx_http_ticket_overview_set_parts(ngx_http_request_t *r,
    ngx_http_ticket_overview_t *ov, ngx_array_t *keys)
{
    ngx_uint_t                  i;
    ngx_http_ticket_part_t     *part;
    ngx_http_ticket_set_key_t  *key;

    part = ov->query.parts.elts;

    for (i = 0; i < ov->query.parts.nelts; i++) {
        key = ngx_http_ticket_set_raw_key(r, keys);
        if (key == NULL) {
            return NGX_ERROR;
        }

        key->name.len = tk_key_index((char *) key->name.data, TK_KEY_MAX,
                                     ngx_ticket_str(&part[i].group),
                                     (int) part[i].state,
                                     ngx_ticket_str(&part[i].owner),
                                     TK_SORT_CREATED);
        if (key->name.len == 0) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* The newest "limit" of a whole key: a customer's set by created (its
 * score), a crt partition by number, within the created range. */
static void
ngx_http_ticket_overview_set_range(ngx_http_ticket_overview_t *ov,
    tk_cmds_t *cmds, ngx_str_t *key, ngx_uint_t limit)
{
    long long  lo, hi;

    if (ov->query.num_range && !ov->customer) {
        lo = ov->query.num_from;
        hi = ov->query.num_to ? ov->query.num_to + 1 : 1000000000000000LL;

    } else if (ov->crt_from || ov->crt_to) {
        lo = ov->crt_from;
        hi = ov->crt_to ? ov->crt_to + 1 : 10000000000LL;

    } else {
        tk_cmds_add(cmds, "ZREVRANGE %S 0 %d", ngx_ticket_str(key),
                    (int) limit - 1);
        return;
    }

    tk_cmds_add(cmds, "ZREVRANGEBYSCORE %S (%lld %lld LIMIT 0 %d",
                ngx_ticket_str(key), hi, lo, (int) limit);
}


/*
 * The sidebar's count of a set overview: ZCARD of each set.  Escalated
 * per group is exact (only groups the user reads); an owner's set holds
 * that owner's tickets of every group; a tag's set the tickets of every
 * group, so a tag overview shows no count in the sidebar (its page
 * counts what the user may see).
 */
ngx_uint_t
ngx_http_ticket_overview_set_counts(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_cmds_t *cmds)
{
    ngx_uint_t                  i;
    ngx_array_t                 keys;
    ngx_http_ticket_set_key_t  *key;

    if (ov->tag.len || ov->nothing || ov->filter_prio || ov->upd_from
        || ngx_http_ticket_overview_cond_any(ov)
        || ov->upd_to || ov->states != NGX_HTTP_TICKET_STATES_OPEN
        || ngx_array_init(&keys, r->pool, 8,
                          sizeof(ngx_http_ticket_set_key_t)) != NGX_OK
        || ngx_http_ticket_overview_set_keys(r, ctx, ov, &keys) != NGX_OK)
    {
        return 0;
    }

    key = keys.elts;

    for (i = 0; i < keys.nelts; i++) {
        tk_cmds_add(cmds, ngx_http_ticket_set_card[key[i].kind],
                    ngx_ticket_str(&key[i].name));
    }

    return keys.nelts;
}


/* ---- the page ----------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_overview_sets(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov)
{
    ngx_uint_t                  i;
    ngx_array_t                 keys;
    tk_cmds_t                  *cmds;
    ngx_http_ticket_set_key_t  *key;

    if (ngx_array_init(&keys, r->pool, 8, sizeof(ngx_http_ticket_set_key_t))
        != NGX_OK
        || ngx_http_ticket_overview_set_keys(r, ctx, ov, &keys) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (keys.nelts == 0) {
        ov->query.total = 0;
        ov->query.nrows = 0;
        return ov->query.done(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    key = keys.elts;

    for (i = 0; i < keys.nelts; i++) {
        if (key[i].kind == NGX_HTTP_TICKET_SET_RAW) {
            /* partitions share the cap: each its newest */
            ngx_http_ticket_overview_set_range(ov, cmds, &key[i].name,
                              ngx_max(1, NGX_HTTP_TICKET_SET_CAP / keys.nelts));
            continue;
        }

        tk_cmds_add(cmds, ngx_http_ticket_set_range[key[i].kind],
                    ngx_ticket_str(&key[i].name),
                    NGX_HTTP_TICKET_SET_CAP - 1);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_overview_set_read);
}


/* The members are in: their rows, at most the cap, each once. */
static ngx_int_t
ngx_http_ticket_overview_set_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    long long                    v;
    ngx_uint_t                   i, k, n, j, dup;
    uint64_t                    *numbers;
    ngx_http_ticket_reply_t     *rep;
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;

    numbers = ngx_palloc(r->pool, NGX_HTTP_TICKET_SET_CAP * sizeof(uint64_t));
    if (numbers == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    for (i = 0; i < ctx->nreplies && n < NGX_HTTP_TICKET_SET_CAP; i++) {
        rep = &ctx->replies[i];

        if (rep->type != REDIS_REPLY_ARRAY) {
            continue;
        }

        for (k = 0; k < rep->nelem && n < NGX_HTTP_TICKET_SET_CAP; k++) {
            v = tk_str_atoll(ngx_ticket_str(&rep->element[k].str));
            if (v <= 0) {
                continue;
            }

            /* sets of different groups or owners do not overlap; a
             * linear check is enough for the few sets there are */
            dup = 0;

            for (j = 0; j < n && ctx->nreplies > 1 && !dup; j++) {
                dup = (numbers[j] == (uint64_t) v);
            }

            if (!dup) {
                numbers[n++] = (uint64_t) v;
            }
        }
    }

    /* the rows step of the query; its done comes back to set_rows */
    ov->query.numbers = numbers;
    ov->query.nnumbers = n;
    ov->set_done = ov->query.done;
    ov->query.done = ngx_http_ticket_overview_set_rows;

    return ngx_http_ticket_query_read_rows(r, ctx);
}


/* Rows in: keep the matching ones, sort them, cut the page. */
static ngx_int_t
ngx_http_ticket_overview_set_rows(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                   i, n, from, to;
    ngx_http_ticket_row_t       *rows;
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;
    rows = ov->query.rows;
    n = 0;

    for (i = 0; i < ov->query.nrows; i++) {
        if (ngx_http_ticket_overview_set_match(ctx, ov, &rows[i])) {
            rows[n++] = rows[i];
        }
    }

    ngx_http_ticket_set_col = ov->query.column;
    ngx_http_ticket_set_desc = ov->query.desc;

    if (n > 1) {
        qsort(rows, n, sizeof(ngx_http_ticket_row_t),
              ngx_http_ticket_overview_set_cmp);
    }

    from = ngx_min(ov->query.offset, n);
    to = ngx_min(from + ov->query.limit, n);

    ov->query.total = n;
    ov->query.rows = rows + from;
    ov->query.nrows = to - from;
    ov->query.done = ov->set_done;

    return ov->query.done(r, ctx);
}


/* The other conditions on one row: group (rights!), state, owner,
 * priority. */
static ngx_flag_t
ngx_http_ticket_overview_set_match(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov, ngx_http_ticket_row_t *row)
{
    ngx_uint_t                      g, states;
    ngx_flag_t                      found;
    ngx_http_ticket_group_right_t  *gr;

    gr = ctx->groups.elts;
    found = 0;

    for (g = 0; g < ctx->groups.nelts && !found; g++) {
        found = tk_str_eq(ngx_ticket_str(&gr[g].name),
                          ngx_ticket_str(&row->group))
                && ngx_http_ticket_overview_has_group(ctx, ov, g);
    }

    if (!found) {
        return 0;
    }

    states = ov->filter_state ? (ngx_uint_t) 1 << ov->filter_state
                              : ov->states;

    if (row->state < TK_STATE_MIN || row->state > TK_STATE_MAX
        || !(states & (1 << row->state)))
    {
        return 0;
    }

    if (ov->filter_prio && row->priority != ov->filter_prio) {
        return 0;
    }

    if ((ov->upd_from && row->updated < ov->upd_from)
        || (ov->upd_to && row->updated > ov->upd_to))
    {
        return 0;
    }

    /* customer, created range, a tag when another set was read */
    if ((ov->customer && row->customer != ov->customer)
        || (ov->crt_from && row->created < ov->crt_from)
        || (ov->crt_to && row->created > ov->crt_to)
        || (ov->tag.len && ov->customer
            && !ngx_http_ticket_overview_row_tag(&row->tags, &ov->tag)))
    {
        return 0;
    }

    switch (ov->owner_kind) {
    case NGX_HTTP_TICKET_OWNER_ANY:
        return 1;
    case NGX_HTTP_TICKET_OWNER_NONE:
    case NGX_HTTP_TICKET_OWNER_AUTO:
        return row->owner.len == 0;
    default:
        return tk_str_eq(ngx_ticket_str(&row->owner),
                         ngx_ticket_str(&ov->owner));
    }
}


/* The page's order on rows; equal values by number, newest first. */
static int ngx_libc_cdecl
ngx_http_ticket_overview_set_cmp(const void *one, const void *two)
{
    ngx_int_t                     rc;
    const ngx_http_ticket_row_t  *a = one, *b = two;

    switch (ngx_http_ticket_set_col) {
    case NGX_HTTP_TICKET_COL_TITLE:
        rc = ngx_http_ticket_casecmp(ngx_ticket_str(&a->title),
                                     ngx_ticket_str(&b->title));
        break;
    case NGX_HTTP_TICKET_COL_CUSTOMER:
        rc = ngx_http_ticket_casecmp(
                 ngx_ticket_str(a->customer_name.len ? &a->customer_name
                                                     : &a->customer_email),
                 ngx_ticket_str(b->customer_name.len ? &b->customer_name
                                                     : &b->customer_email));
        break;
    case NGX_HTTP_TICKET_COL_GROUP:
        rc = ngx_http_ticket_casecmp(ngx_ticket_str(&a->group),
                                     ngx_ticket_str(&b->group));
        break;
    case NGX_HTTP_TICKET_COL_OWNER:
        rc = ngx_http_ticket_casecmp(ngx_ticket_str(&a->owner),
                                     ngx_ticket_str(&b->owner));
        break;
    case NGX_HTTP_TICKET_COL_STATE:
        rc = a->state - b->state;
        break;
    case NGX_HTTP_TICKET_COL_PRIORITY:
        rc = a->priority - b->priority;
        break;
    case NGX_HTTP_TICKET_COL_CREATED:
        rc = (a->created > b->created) - (a->created < b->created);
        break;
    case NGX_HTTP_TICKET_COL_NUMBER:
        rc = 0;
        break;
    default:
        rc = (a->updated > b->updated) - (a->updated < b->updated);
    }

    if (rc == 0) {
        rc = (a->number > b->number) - (a->number < b->number);
    }

    return (int) (ngx_http_ticket_set_desc ? -rc : rc);
}
