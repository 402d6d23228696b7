/*
 * ngx_http_ticket_overview_counts.c -- the sidebar's counts: one MGET of
 * every visible group's counts vectors (tk:{ix}:cv:GROUP for the owners
 * "*", "-", "!", tk:{ix}:cv:GROUP:LOGIN for mine; SCHEMA.md), parsed
 * once per page into CF_PER_GROUP numbers per group, and where among
 * them a partition's count is.  The sidebar's entries, the overview's
 * own count and the merge's partition sizes all read them
 * (ngx_http_ticket_overview.c, _saved.c, _sidebar.c).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_overview.h"


static ngx_int_t ngx_http_ticket_countv_key(ngx_http_request_t *r,
    ngx_str_t *group, ngx_str_t *owner, tk_str_t *key);
static void ngx_http_ticket_countv_put(ngx_http_ticket_overview_t *ov,
    ngx_uint_t g, ngx_int_t state, ngx_uint_t owner_kind,
    ngx_http_ticket_reply_t *vec, ngx_uint_t slot);
static ngx_uint_t ngx_http_ticket_countv_get(ngx_http_ticket_reply_t *rep,
    ngx_uint_t slot);


/*
 * Two short strings per visible group instead of 21 hash fields: the
 * HMGET of tk:{ix}:counts was a fifth of Redis's work on a page-cache
 * miss, and 147 reply elements for 7 groups.
 */
ngx_int_t
ngx_http_ticket_overview_counts_cmd(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_cmds_t *cmds)
{
    ngx_str_t                       any;
    ngx_uint_t                      g, i;
    tk_str_t                       *argv;
    ngx_http_ticket_group_right_t  *gr;

    if (ctx->groups.nelts == 0) {
        return NGX_OK;
    }

    argv = ngx_palloc(r->pool, (1 + 2 * ctx->groups.nelts) * sizeof(tk_str_t));
    if (argv == NULL) {
        return NGX_ERROR;
    }

    tk_str_set(&argv[0], "MGET");

    ngx_str_set(&any, TK_OWNER_ANY);
    gr = ctx->groups.elts;

    for (g = 0, i = 1; g < ctx->groups.nelts; g++) {
        if (ngx_http_ticket_countv_key(r, &gr[g].name, &any, &argv[i++])
            != NGX_OK
            || ngx_http_ticket_countv_key(r, &gr[g].name, &ctx->user.login,
                                          &argv[i++])
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    tk_cmds_argv(cmds, (int) i, argv);
    ov->counts_sent = 1;

    return NGX_OK;
}


/* A vector's key (the state does not matter: one key holds them all). */
static ngx_int_t
ngx_http_ticket_countv_key(ngx_http_request_t *r, ngx_str_t *group,
    ngx_str_t *owner, tk_str_t *key)
{
    u_char    *p;
    size_t     size;
    unsigned   slot;

    size = sizeof(TK_PFX_INDEX_COUNTV) + group->len + owner->len + 1;

    p = ngx_pnalloc(r->pool, size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;
    key->len = tk_key_countv((char *) p, size, ngx_ticket_str(group),
                             TK_STATE_MIN, ngx_ticket_str(owner), &slot);

    return key->len ? NGX_OK : NGX_ERROR;
}


/*
 * The MGET's vectors as the sidebar's counts, at the places
 * ngx_http_ticket_overview_count_at() names: every state of "*", the
 * open ones of "-", "!" and mine.  A missing key or a short string is 0
 * (no ticket ever there), a counter below 0 too.
 */
ngx_int_t
ngx_http_ticket_overview_counts_parse(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_http_ticket_reply_t *mget)
{
    ngx_int_t                 state;
    ngx_uint_t                g;
    ngx_http_ticket_reply_t  *groupv, *minev;

    ov->count_n = ctx->groups.nelts * NGX_HTTP_TICKET_CF_PER_GROUP;
    /* every place is written below: count_at() names each once */
    ov->count_vals = ngx_palloc(r->pool,
                                (ov->count_n + 1) * sizeof(ngx_uint_t));
    if (ov->count_vals == NULL) {
        return NGX_ERROR;
    }

    for (g = 0; g < ctx->groups.nelts; g++) {
        groupv = &mget->element[2 * g];
        minev = &mget->element[2 * g + 1];

        for (state = TK_STATE_MIN; state <= TK_STATE_MAX; state++) {
            ngx_http_ticket_countv_put(ov, g, state,
                NGX_HTTP_TICKET_OWNER_ANY, groupv,
                tk_countv_slot(TK_COUNTV_ANY, state));
            ngx_http_ticket_countv_put(ov, g, state,
                NGX_HTTP_TICKET_OWNER_NONE, groupv,
                tk_countv_slot(TK_COUNTV_NONE, state));
            ngx_http_ticket_countv_put(ov, g, state,
                NGX_HTTP_TICKET_OWNER_AUTO, groupv,
                tk_countv_slot(TK_COUNTV_AUTO, state));
            ngx_http_ticket_countv_put(ov, g, state,
                NGX_HTTP_TICKET_OWNER_ME, minev, state);
        }
    }

    return NGX_OK;
}


/* A counter of vec into the place count_at() gives it (none: closed
 * tickets of an owner). */
static void
ngx_http_ticket_countv_put(ngx_http_ticket_overview_t *ov, ngx_uint_t g,
    ngx_int_t state, ngx_uint_t owner_kind, ngx_http_ticket_reply_t *vec,
    ngx_uint_t slot)
{
    ngx_int_t  i;

    i = ngx_http_ticket_overview_count_at(g, state, owner_kind);

    if (i >= 0) {
        ov->count_vals[i] = ngx_http_ticket_countv_get(vec, slot);
    }
}


/* Counter slot of a vector: big-endian i32, as BITFIELD keeps it. */
static ngx_uint_t
ngx_http_ticket_countv_get(ngx_http_ticket_reply_t *rep, ngx_uint_t slot)
{
    int32_t   n;
    u_char   *p;

    if (rep->type != REDIS_REPLY_STRING || rep->str.len < (slot + 1) * 4) {
        return 0;
    }

    p = rep->str.data + slot * 4;
    n = (int32_t) (((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
                   | ((uint32_t) p[2] << 8) | (uint32_t) p[3]);

    return n > 0 ? (ngx_uint_t) n : 0;
}


ngx_uint_t
ngx_http_ticket_overview_count(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov, ngx_uint_t g, ngx_int_t state,
    ngx_uint_t owner_kind)
{
    ngx_int_t  i;

    i = ngx_http_ticket_overview_count_at(g, state, owner_kind);

    if (i < 0 || ov->count_vals == NULL || (ngx_uint_t) i >= ov->count_n)
    {
        return 0;
    }

    return ov->count_vals[i];
}


/* Where among the sidebar's counts one is: -1 where it has none (closed
 * tickets of an owner, someone else's). */
ngx_int_t
ngx_http_ticket_overview_count_at(ngx_uint_t g, ngx_int_t state,
    ngx_uint_t owner_kind)
{
    ngx_int_t  i;

    if (state < TK_STATE_MIN || state > TK_STATE_MAX) {
        return -1;
    }

    i = (ngx_int_t) (g * NGX_HTTP_TICKET_CF_PER_GROUP);

    switch (owner_kind) {
    case NGX_HTTP_TICKET_OWNER_ANY:
        return i + NGX_HTTP_TICKET_CF_ANY + state - TK_STATE_MIN;
    case NGX_HTTP_TICKET_OWNER_OTHER:
        return -1;
    default:
        break;
    }

    if (state == TK_STATE_CLOSED) {
        return -1;
    }

    switch (owner_kind) {
    case NGX_HTTP_TICKET_OWNER_NONE:
        return i + NGX_HTTP_TICKET_CF_NONE + state - TK_STATE_MIN;
    case NGX_HTTP_TICKET_OWNER_AUTO:
        return i + NGX_HTTP_TICKET_CF_AUTO + state - TK_STATE_MIN;
    default:
        return i + NGX_HTTP_TICKET_CF_ME + state - TK_STATE_MIN;
    }
}
