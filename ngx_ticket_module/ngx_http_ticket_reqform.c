/* placeholder, filled in below */
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_ticket_casework.h"

ngx_int_t
ngx_http_ticket_reqform(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
}
