/*
 * ngx_http_ticket_overview_row.c -- one row of an overview, as HTML: from
 * the row cache when it was rendered before, else rendered (template
 * overview_row.html) and kept.
 *
 * Why: after any write the page cache misses for every overview (the
 * generation moved), yet of the 50 rows of a page at most the changed
 * ticket's looks different.  Escaping the titles and names and formatting
 * six times per row was most of what a miss cost in nginx.  A row's HTML
 * depends only on its packed row in tk:{ix}:rows (tk_ticket_row()), the
 * language, the chosen columns, the base URL and the day (times of today
 * show as "14:05"), so that is the key (ngx_http_ticket_cache_frag_get()):
 * it can never be stale, and rights play no part -- which rows a page
 * shows is decided before, on every request.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ticket_overview.h"
#include "ngx_http_ticket_cache.h"
#include "tk_tags.h"
#include "tk_tpl.h"


static ngx_http_ticket_row_t *ngx_http_ticket_overview_row_full(
    ngx_http_request_t *r, ngx_http_ticket_row_t *src,
    ngx_http_ticket_row_t *full);
static ngx_int_t ngx_http_ticket_overview_row_key(ngx_http_request_t *r,
    ngx_str_t *prefix, ngx_http_ticket_row_t *src, ngx_str_t *key);
static ngx_int_t ngx_http_ticket_overview_row_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t columns,
    ngx_http_ticket_row_t *src, tk_str_t *html);
static ngx_int_t ngx_http_ticket_overview_row_fill(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t columns,
    ngx_http_ticket_row_t *src, tk_tpl_overview_row_t *row);


ngx_int_t
ngx_http_ticket_overview_row(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t columns, ngx_str_t *prefix,
    ngx_http_ticket_row_t *src, tk_str_t *html)
{
    ngx_str_t                    key, body;
    ngx_http_ticket_row_t        full;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    /* a row read from the ticket hash (no packed row) is rendered */
    if (!lcf->row_cache || src->packed.len == 0) {
        return ngx_http_ticket_overview_row_render(r, ctx, columns,
                   ngx_http_ticket_overview_row_full(r, src, &full), html);
    }

    if (ngx_http_ticket_overview_row_key(r, prefix, src, &key) != NGX_OK)
    {
        return NGX_ERROR;
    }

    switch (ngx_http_ticket_cache_frag_get(r, &key, &body)) {
    case NGX_OK:
        html->data = body.data;
        html->len = body.len;
        return NGX_OK;
    case NGX_DECLINED:
        break;
    default:
        return NGX_ERROR;
    }

    if (ngx_http_ticket_overview_row_render(r, ctx, columns,
            ngx_http_ticket_overview_row_full(r, src, &full), html)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    body.data = html->data;
    body.len = html->len;
    ngx_http_ticket_cache_frag_put(r, &key, &body);

    return NGX_OK;
}


/*
 * A row as the template needs it: a lazy one (only its number and packed
 * row, query.lazy_rows) is unpacked into full.  A packed row that does
 * not unpack (damaged in Redis; a reindex writes it again) shows as its
 * number alone rather than failing the page.
 */
static ngx_http_ticket_row_t *
ngx_http_ticket_overview_row_full(ngx_http_request_t *r,
    ngx_http_ticket_row_t *src, ngx_http_ticket_row_t *full)
{
    if (!src->lazy) {
        return src;
    }

    ngx_memzero(full, sizeof(ngx_http_ticket_row_t));

    if (ngx_http_ticket_query_unpack(&src->packed, full) != NGX_OK
        || full->number != src->number)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "ticket: the row of ticket %uL in %s does not unpack",
                      src->number, TK_KEY_INDEX_ROWS);
        ngx_memzero(full, sizeof(ngx_http_ticket_row_t));
        full->number = src->number;
    }

    return full;
}


/* "row|LANG|COLUMNS|DAY|BASE|": what every row of the page shares, built
 * once per page (a format run per row was 4 % of a page-cache miss). */
ngx_int_t
ngx_http_ticket_overview_row_prefix(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t columns, ngx_str_t *prefix)
{
    u_char                      *p;
    ngx_time_t                  *tp;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);
    tp = ngx_timeofday();

    p = ngx_pnalloc(r->pool, sizeof("row|||||") + 3 * NGX_INT_T_LEN
                             + NGX_TIME_T_LEN + lcf->base_url.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    prefix->data = p;

    /* the day as the page cache keys it: local midnight moves "today" */
    p = ngx_sprintf(p, "row|%ui|%ui|%T|%V|",
                    (ngx_uint_t) ngx_http_ticket_page_lang(r, ctx), columns,
                    (time_t) ((tp->sec + tp->gmtoff * 60) / 86400),
                    &lcf->base_url);

    prefix->len = p - prefix->data;

    return NGX_OK;
}


/* The prefix and the packed row itself. */
static ngx_int_t
ngx_http_ticket_overview_row_key(ngx_http_request_t *r, ngx_str_t *prefix,
    ngx_http_ticket_row_t *src, ngx_str_t *key)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, prefix->len + src->packed.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;
    p = ngx_cpymem(p, prefix->data, prefix->len);
    p = ngx_cpymem(p, src->packed.data, src->packed.len);
    key->len = p - key->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_overview_row_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t columns,
    ngx_http_ticket_row_t *src, tk_str_t *html)
{
    tk_out_t                out;
    ngx_http_ticket_sink_t  sink;
    tk_tpl_overview_row_t   row;

    ngx_memzero(&row, sizeof(tk_tpl_overview_row_t));

    if (ngx_http_ticket_overview_row_fill(r, ctx, columns, src, &row)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a row is ~700 bytes; the sink grows if not */
    ngx_http_ticket_sink_init(r, &out, &sink, 1024);
    tk_tpl_overview_row(&out, &row);

    return ngx_http_ticket_sink_str(&out, html);
}


/* The template's fields for one row (src from tk:{ix}:rows). */
static ngx_int_t
ngx_http_ticket_overview_row_fill(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t columns,
    ngx_http_ticket_row_t *src, tk_tpl_overview_row_t *row)
{
    u_char      *p;
    size_t       len;
    tk_str_t     tags[TK_TAGS_MAX];
    ngx_uint_t   k;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 2);
    if (p == NULL) {
        return NGX_ERROR;
    }

    len = ngx_sprintf(p, "t/%uL", src->number) - p;

    if (ngx_http_ticket_url(r, (char *) p, len, &row->url) != NGX_OK) {
        return NGX_ERROR;
    }

    row->number.data = p + 2;
    row->number.len = len - 2;

    /* the chosen columns (the template asks per row); 0: all */
#define NGX_HTTP_TICKET_SHOWN(c)                                             \
    (!columns || (columns & ((ngx_uint_t) 1 << (c))))
    row->show_number = NGX_HTTP_TICKET_SHOWN(NGX_HTTP_TICKET_COL_NUMBER);
    row->show_customer = NGX_HTTP_TICKET_SHOWN(NGX_HTTP_TICKET_COL_CUSTOMER);
    row->show_group = NGX_HTTP_TICKET_SHOWN(NGX_HTTP_TICKET_COL_GROUP);
    row->show_owner = NGX_HTTP_TICKET_SHOWN(NGX_HTTP_TICKET_COL_OWNER);
    row->show_state = NGX_HTTP_TICKET_SHOWN(NGX_HTTP_TICKET_COL_STATE);
    row->show_priority = NGX_HTTP_TICKET_SHOWN(NGX_HTTP_TICKET_COL_PRIORITY);
    row->show_created = NGX_HTTP_TICKET_SHOWN(NGX_HTTP_TICKET_COL_CREATED);
    row->show_updated = NGX_HTTP_TICKET_SHOWN(NGX_HTTP_TICKET_COL_UPDATED);
#undef NGX_HTTP_TICKET_SHOWN

    row->title = *ngx_ticket_str(&src->title);

    ngx_http_ticket_cstr(&row->no_title,
                         ngx_http_ticket_msg(ctx, TK_MSG_COMMON_NO_SUBJECT));

    row->customer = *ngx_ticket_str(src->customer_name.len
                                    ? &src->customer_name
                                    : &src->customer_email);
    row->customer_email = *ngx_ticket_str(&src->customer_email);

    /* the customer page and the tags as badges (issue 13) */
    if (src->customer) {
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 16);
        if (p == NULL
            || ngx_http_ticket_url(r, (char *) p,
                                   ngx_sprintf(p, "customers/%uL",
                                               src->customer) - p,
                                   &row->customer_url) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (src->tags.len) {
        row->tags_n = tk_tags_split(ngx_ticket_str(&src->tags), tags,
                                    TK_TAGS_MAX);
        row->tags = ngx_palloc(r->pool, row->tags_n * sizeof(*row->tags));
        if (row->tags == NULL) {
            return NGX_ERROR;
        }

        for (k = 0; k < row->tags_n; k++) {
            row->tags[k].name = tags[k];
        }
    }

    row->group = *ngx_ticket_str(&src->group);
    row->owner = *ngx_ticket_str(&src->owner);

    ngx_http_ticket_state_label(ctx, src->state, &row->state);
    ngx_http_ticket_prio_label(ctx, src->priority, &row->priority);

    if (ngx_http_ticket_uint_str(r, src->state, &row->state_id) != NGX_OK
        || ngx_http_ticket_uint_str(r, src->priority, &row->priority_id)
           != NGX_OK
        || ngx_http_ticket_short_time(r, ctx, src->created, &row->created)
           != NGX_OK
        || ngx_http_ticket_short_time(r, ctx, src->updated, &row->updated)
           != NGX_OK
        || ngx_http_ticket_time_str(r, src->created, &row->created_full)
           != NGX_OK
        || ngx_http_ticket_time_str(r, src->updated, &row->updated_full)
           != NGX_OK
        || ngx_http_ticket_iso_str(r, src->created, &row->created_iso)
           != NGX_OK
        || ngx_http_ticket_iso_str(r, src->updated, &row->updated_iso)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
