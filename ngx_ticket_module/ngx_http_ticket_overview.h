/*
 * ngx_http_ticket_overview.h -- what the overview view's two files share:
 * the overviews there are, and the view's state between its steps.
 *   ngx_http_ticket_overview_page.c  the entry point and the page
 *   ngx_http_ticket_overview.c       which tickets an overview lists
 * The page file uses the other, never the other way round.
 */

#ifndef NGX_HTTP_TICKET_OVERVIEW_H
#define NGX_HTTP_TICKET_OVERVIEW_H

#include "ngx_http_ticket_views.h"
#include "ngx_http_ticket_cache.h"


/* Owner kinds of the overviews; a partition's owner is one of these. */
#define NGX_HTTP_TICKET_OWNER_ME       0
#define NGX_HTTP_TICKET_OWNER_NONE     1
#define NGX_HTTP_TICKET_OWNER_ANY      2
#define NGX_HTTP_TICKET_OWNER_OTHER    3        /* API: someone else */
#define NGX_HTTP_TICKET_OWNER_AUTO     4        /* unassigned, flag auto */

#define NGX_HTTP_TICKET_OV_GROUP       ((ngx_uint_t) -1)   /* "group-NAME" */
#define NGX_HTTP_TICKET_OV_N           ((ngx_uint_t) 6)    /* named ones */


typedef struct {
    const char                *name;
    int                        label;           /* TK_MSG_OVERVIEW_OV_* */
    int                        empty;
    ngx_int_t                  state_min;
    ngx_int_t                  state_max;
    ngx_uint_t                 owner;           /* NGX_HTTP_TICKET_OWNER_* */
} ngx_http_ticket_ov_def_t;


/* The overview view's state; the query comes first (see views.h). */
typedef struct {
    ngx_http_ticket_query_t    query;
    ngx_uint_t                 def;             /* index, or OV_GROUP */
    ngx_str_t                  name;            /* "my", "group-legal" */
    ngx_str_t                  group;           /* of "group-NAME" */
    ngx_int_t                  state_min;
    ngx_int_t                  state_max;
    ngx_uint_t                 owner_kind;
    ngx_str_t                  owner;           /* partition owner */

    ngx_int_t                  filter_state;    /* 0: any */
    ngx_int_t                  filter_prio;
    ngx_str_t                  filter_group;    /* "": any */
    ngx_str_t                  filter_owner;    /* API: login or "-" */
    ngx_uint_t                 page;
    unsigned                   home:1;          /* "/": my, or unassigned */

    ngx_http_ticket_reply_t   *counts;          /* HMGET tk:{ix}:counts */

    /* the page cache: key and version when this page may be cached */
    ngx_http_ticket_cache_item_t  cache;
} ngx_http_ticket_overview_t;


extern ngx_http_ticket_ov_def_t  ngx_http_ticket_ov_defs[NGX_HTTP_TICKET_OV_N];

/* One count of the sidebar reply: visible group g, state, owner kind. */
ngx_uint_t ngx_http_ticket_overview_count(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov, ngx_uint_t g, ngx_int_t state,
    ngx_uint_t owner_kind);

/* Which overview, page, sort and filters (ctx->view = ov): NGX_OK,
 * NGX_DECLINED (no such overview for this user: 404) or NGX_ERROR. */
ngx_int_t ngx_http_ticket_overview_parse(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov);

/* ov->cache's key and version for this request's page. */
ngx_int_t ngx_http_ticket_overview_cache_key(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov);

/* Read the counts, then the query; ov->query.done gets the result. */
ngx_int_t ngx_http_ticket_overview_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

#endif /* NGX_HTTP_TICKET_OVERVIEW_H */
