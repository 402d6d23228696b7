/*
 * ngx_http_ticket_api_overviews.c -- the overviews in the JSON API:
 *   GET /api/v1/overviews               every overview the user has (the
 *                                       sidebar): name, label, count,
 *                                       saved, personal, group
 *   GET /api/v1/overviews/NAME/tickets  one overview's page of tickets,
 *                                       with the page's parameters (page,
 *                                       sort, dir, state, priority, group,
 *                                       owner, only, tag)
 * The same reading as the pages (ngx_http_ticket_overview*.c), the same
 * rights; docs/api.md "Overviews".
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ticket_overview.h"
#include "ngx_http_ticket_api_json.h"


static ngx_int_t ngx_http_ticket_api_ov_loaded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_api_ov_list(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_api_ov_tickets(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_api_ov_item(tk_out_t *out,
    ngx_http_ticket_ov_item_t *item);


ngx_int_t
ngx_http_ticket_api_overviews(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *rest)
{
    ngx_http_ticket_overview_t  *ov;

    ov = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_overview_t));
    if (ov == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = ov;

    if (rest->len == 0 || (rest->len == 1 && rest->data[0] == '/')) {
        /* the list: the counts batch of "all", no page */
        ov->items_only = 1;
        ngx_str_set(&ov->api_name, "all");

    } else if (rest->len > 9 && rest->data[0] == '/'
               && ngx_strncmp(rest->data + rest->len - 8, "/tickets", 8)
                  == 0)
    {
        ov->api_name.data = rest->data + 1;
        ov->api_name.len = rest->len - 9;

    } else {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                     "not found");
    }

    return ngx_http_ticket_overview_load(r, ctx,
                                         ngx_http_ticket_api_ov_loaded);
}


/* The saved overviews are in: which one, then the counts and the page. */
static ngx_int_t
ngx_http_ticket_api_ov_loaded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;

    switch (ngx_http_ticket_overview_parse(r, ctx, ov)) {
    case NGX_OK:
        break;
    case NGX_DECLINED:
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                     "no such overview");
    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ov->query.done = ov->items_only ? ngx_http_ticket_api_ov_list
                                    : ngx_http_ticket_api_ov_tickets;

    return ngx_http_ticket_overview_read(r, ctx);
}


/* {"name":...,"label":...,"count":N or null,"saved":..,...} */
static void
ngx_http_ticket_api_ov_item(tk_out_t *out, ngx_http_ticket_ov_item_t *item)
{
    tk_out_cstr(out, "{");
    ngx_http_ticket_api_str(out, "name", ngx_ticket_str(&item->name), 0);
    tk_out_cstr(out, ",");
    ngx_http_ticket_api_str(out, "label", ngx_ticket_str(&item->label), 0);
    tk_out_cstr(out, ",\"count\":");

    if (item->count >= 0) {
        tk_out_uint(out, (uint64_t) item->count);
    } else {
        tk_out_cstr(out, "null");
    }

    tk_out_cstr(out, item->saved ? ",\"saved\":true" : ",\"saved\":false");
    tk_out_cstr(out, item->personal ? ",\"personal\":true"
                                    : ",\"personal\":false");
    tk_out_cstr(out, item->group ? ",\"group\":true}" : ",\"group\":false}");
}


static ngx_int_t
ngx_http_ticket_api_ov_list(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_out_t                     out;
    ngx_uint_t                   i;
    ngx_http_ticket_ov_item_t   *item;
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;
    item = ov->items.elts;

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_out_cstr(&out, "{\"overviews\":[");

    for (i = 0; i < ov->items.nelts; i++) {
        tk_out_cstr(&out, i ? ",\n" : "\n");
        ngx_http_ticket_api_ov_item(&out, &item[i]);
    }

    tk_out_cstr(&out, "]}\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}


static ngx_int_t
ngx_http_ticket_api_ov_tickets(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_out_t                     out;
    ngx_uint_t                   i;
    ngx_http_ticket_ov_item_t   *item;
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;
    item = ov->items.elts;

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_out_cstr(&out, "{\"overview\":");

    for (i = 0; i < ov->items.nelts && !item[i].current; i++) {
        /* void */
    }

    if (i < ov->items.nelts) {
        ngx_http_ticket_api_ov_item(&out, &item[i]);
    } else {
        tk_out_cstr(&out, "null");
    }

    tk_out_cstr(&out, ",\"tickets\":[");

    for (i = 0; i < ov->query.nrows; i++) {
        tk_out_cstr(&out, i ? ",\n{" : "\n{");
        ngx_http_ticket_api_ticket_fields(&out, &ov->query.rows[i]);
        tk_out_cstr(&out, "}");
    }

    tk_out_cstr(&out, "],\"total\":");
    tk_out_uint(&out, ov->query.total);
    tk_out_cstr(&out, ",\"page\":");
    tk_out_uint(&out, ov->page);
    tk_out_cstr(&out, ",\"per_page\":");
    tk_out_uint(&out, ov->query.limit);
    tk_out_cstr(&out, ",\"sort\":\"");
    tk_out_cstr(&out, ngx_http_ticket_col_name(ov->query.column));
    tk_out_cstr(&out, ov->query.desc ? "\",\"dir\":\"desc\"}\n"
                                     : "\",\"dir\":\"asc\"}\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}
