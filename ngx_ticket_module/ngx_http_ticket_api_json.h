/*
 * ngx_http_ticket_api_json.h -- JSON pieces of the API (ngx_http_ticket_api_json.c).
 */

#ifndef NGX_HTTP_TICKET_API_JSON_H
#define NGX_HTTP_TICKET_API_JSON_H

#include "ngx_http_ticket_views.h"

/* The fields of a ticket object, without the braces. */
void ngx_http_ticket_api_ticket_fields(tk_out_t *out,
    ngx_http_ticket_row_t *row);
/* One article as a JSON object. */
void ngx_http_ticket_api_article(tk_out_t *out, tk_article_t *a);
/* "name":"value", or "name":null for an empty value where it means none */
void ngx_http_ticket_api_str(tk_out_t *out, const char *name,
    tk_str_t *value, ngx_flag_t null_if_empty);
/* ,"name":"2026-11-24T14:05:00Z" or ,"name":null */
void ngx_http_ticket_api_time(tk_out_t *out, const char *name, int64_t t);
/* an enum's name as a JSON string; unknown where the schema has none */
void ngx_http_ticket_api_name(tk_out_t *out, const char *name,
    const char *unknown);

#endif /* NGX_HTTP_TICKET_API_JSON_H */
