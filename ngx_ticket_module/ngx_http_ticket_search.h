/*
 * ngx_http_ticket_search.h -- what the search view's two files share:
 *   ngx_http_ticket_search.c       which tickets a search finds
 *   ngx_http_ticket_search_page.c  the page (or JSON) made of them
 */

#ifndef NGX_HTTP_TICKET_SEARCH_H
#define NGX_HTTP_TICKET_SEARCH_H

#include "ngx_http_ticket_views.h"
#include "tk_search.h"
#include "tk_tags.h"


/* Tickets on a page of results. */
#define NGX_HTTP_TICKET_SEARCH_PER_PAGE  20
/* Pages one can go to (the hits read per window grow with the page). */
#define NGX_HTTP_TICKET_SEARCH_MAX_PAGE  25


/* One ticket of the page: its row and the best article's snippet. */
typedef struct {
    ngx_http_ticket_row_t     *row;
    uint64_t                   article;
    ngx_str_t                  kind;            /* in | out | note */
    int64_t                    time;            /* of the article */
    tk_str_t                   snippet;         /* HTML, escaped */
} ngx_http_ticket_hit_t;


/* The search view's state; the query comes first (see views.h: the
 * row reader finds it at ctx->view). */
typedef struct {
    ngx_http_ticket_query_t    query;

    ngx_str_t                  text;            /* q as typed */
    u_char                     ft[TK_SEARCH_OUT_MAX];
    tk_search_query_t          parsed;          /* its query in ft */
    ngx_flag_t                 by_date;         /* sort=date */
    ngx_str_t                  filter_group;    /* "": any */
    ngx_int_t                  filter_state;    /* 0: any */
    tk_str_t                   filter_tag;      /* "": any (tk_tags.h) */
    ngx_uint_t                 page;

    ngx_uint_t                 window;          /* time window tried */
    ngx_uint_t                 want;            /* articles asked for */
    ngx_uint_t                 hits;            /* articles in window */
    ngx_uint_t                 fetched;         /* ids in the reply */

    uint64_t                  *numbers;         /* candidate tickets, */
    uint64_t                  *articles;        /* best article each  */
    ngx_uint_t                 ncand;

    ngx_uint_t                 total;           /* visible tickets */
    ngx_flag_t                 more;            /* total is a minimum */
    ngx_http_ticket_hit_t     *hits_page;
    ngx_uint_t                 nhits;
    const char                *notice;          /* why nothing was found */
} ngx_http_ticket_search_t;


/* "tag=TAG" into s->filter_tag (normalised; tk_tags.h); a tag without
 * words lists its tickets, newest first.  NGX_ERROR with *error set:
 * a bad tag in an API request (ngx_http_ticket_tags.c, issue 13). */
ngx_int_t ngx_http_ticket_tags_search(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_search_t *s,
    const char **error);
/* The row filter: the hit's ticket carries the tag (or none asked). */
#define ngx_http_ticket_search_tag_ok(s, row)                                \
    ((s)->filter_tag.len == 0                                                \
     || tk_tags_has(ngx_ticket_str(&(row)->tags), &(s)->filter_tag))

/* The results are in (or there are none): the page or the JSON. */
ngx_int_t ngx_http_ticket_search_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

#endif /* NGX_HTTP_TICKET_SEARCH_H */
