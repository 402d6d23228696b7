/*
 * ngx_http_ticket_cache.h -- the page cache: rendered fragments of pages
 * in a shared memory zone ("ticket_cache_zone"), each stored under the
 * version of a Redis counter read before the data it was made of, and
 * served only while that counter still reads the same version.
 *
 * Counters: tk:{ix}:gen for overviews and the API list (read with the
 * user, ngx_http_ticket_auth.c), the "rev" field of tk:{t:N} for a
 * ticket's articles (read with the ticket).  See SCHEMA.md.
 */

#ifndef NGX_HTTP_TICKET_CACHE_H
#define NGX_HTTP_TICKET_CACHE_H

#include "ngx_http_ticket.h"


/* An entry is at most this part of the zone (a few pages fill it). */
#define NGX_HTTP_TICKET_CACHE_ENTRY_SHARE  8

/* flags a view keeps with its fragment */
#define NGX_HTTP_TICKET_CACHE_CSP_IMAGES   0x01  /* ctx->csp with images */


typedef struct {
    ngx_str_t                  key;             /* everything the fragment
                                                   depends on but data */
    uint64_t                   version;         /* counter read before */
    ngx_uint_t                 flags;
    ngx_str_t                  meta;            /* small: a page title */
    ngx_str_t                  body;            /* get: in r->pool */
} ngx_http_ticket_cache_item_t;


/* The zone of ticket_cache_zone SIZE (configuration time). */
ngx_shm_zone_t *ngx_http_ticket_cache_add_zone(ngx_conf_t *cf, size_t size);

/* ticket_cache is on where r runs and a zone exists. */
ngx_flag_t ngx_http_ticket_cache_enabled(ngx_http_request_t *r);

/*
 * Authentication read tk:{ix}:gen (nil: 0): remember it for the views
 * (ctx->cache_gen, ctx->cache_epoch, ctx->cache).  A value lower than
 * this worker saw before means the data was reset (FLUSHALL, reindex):
 * everything cached so far is dropped.
 */
void ngx_http_ticket_cache_generation(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t gen);

/*
 * The worker's Redis link is ready again after it was lost (a failover,
 * a restart): the server may not be the one the cached pages were read
 * from -- a promoted replica that missed the last writes counts up to the
 * same versions with other data.  Everything cached so far is dropped.
 */
void ngx_http_ticket_cache_relinked(ngx_http_ticket_main_conf_t *mcf,
    ngx_log_t *log);

/*
 * item->key and item->version set: NGX_OK with flags, meta and body (a
 * copy in r->pool), or NGX_DECLINED (not there, or another version).
 */
ngx_int_t ngx_http_ticket_cache_get(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_cache_item_t *item);

/*
 * Store body (a chain, as rendered) with item's key, version, flags and
 * meta.  Too large or no room: nothing is stored, which is no error.
 */
void ngx_http_ticket_cache_put(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_cache_item_t *item,
    ngx_chain_t *body);

/*
 * Fragments whose key holds everything they are made of (an overview
 * row: ngx_http_ticket_overview_row.c).  No version: valid while stored.
 * get: NGX_OK with body (a copy in r->pool), NGX_DECLINED or NGX_ERROR.
 */
ngx_int_t ngx_http_ticket_cache_frag_get(ngx_http_request_t *r,
    ngx_str_t *key, ngx_str_t *body);
void ngx_http_ticket_cache_frag_put(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *body);

/* "name:right," for every group the user sees: the rights part of a
 * key (the groups decide what a list shows). */
u_char *ngx_http_ticket_cache_groups(u_char *p, ngx_http_ticket_ctx_t *ctx);
size_t ngx_http_ticket_cache_groups_len(ngx_http_ticket_ctx_t *ctx);

#endif /* NGX_HTTP_TICKET_CACHE_H */
