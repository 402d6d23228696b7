/*
 * ngx_http_ticket_admin_overviews.c -- /admin/overviews for admins: the
 * shared overviews (tk:overviews) with their definitions, and deleting
 * one (POST, field id).  They are made from any overview's "save as
 * overview" form (ngx_http_ticket_overview_save.c), which knows the
 * conditions; this page lists all of them, also those visible to groups
 * the admin is not in.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_admin.h"
#include "tk_tpl.h"


static ngx_int_t ngx_http_ticket_ao_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_ao_deleted(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_ao_body(tk_out_t *out, void *data);


ngx_int_t
ngx_http_ticket_admin_overviews(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *rest)
{
    ngx_str_t   id;
    tk_cmds_t  *cmds;

    if (rest->len) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->method == NGX_HTTP_POST) {
        if (ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
            return ngx_http_ticket_csrf_refused(r, ctx);
        }

        ngx_http_ticket_form_value(r, ctx, "id", &id);

        if (id.len == 0 || ngx_atoi(id.data, id.len) <= 0) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL);
        }

        /* gone from every sidebar: the generation goes up with it */
        tk_cmds_add(cmds, "MULTI");
        tk_cmds_add(cmds, "HDEL " TK_KEY_OVERVIEWS " %S",
                    ngx_ticket_str(&id));
        tk_index_touch(cmds);
        tk_cmds_add(cmds, "EXEC");

        return ngx_http_ticket_redis_send(r, ctx, cmds,
                                          ngx_http_ticket_ao_deleted);
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    tk_cmds_add(cmds, "HGETALL " TK_KEY_OVERVIEWS);

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_ao_render);
}


static ngx_int_t
ngx_http_ticket_ao_deleted(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    if (ctx->nreplies == 0
        || ctx->replies[ctx->nreplies - 1].type != REDIS_REPLY_ARRAY)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redirect(r, "admin/overviews",
                                    sizeof("admin/overviews") - 1);
}


static ngx_int_t
ngx_http_ticket_ao_render(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                         *p;
    ngx_str_t                       title, name, *id;
    ngx_uint_t                      i, n;
    ngx_http_ticket_reply_t        *hash;
    tk_tpl_admin_overviews_t       *tpl;
    tk_tpl_admin_overviews_rows_t  *row;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_ARRAY) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    hash = &ctx->replies[0];
    n = hash->nelem / 2;

    tpl = ngx_pcalloc(r->pool, sizeof(tk_tpl_admin_overviews_t));
    row = ngx_pcalloc(r->pool, (n + 1) * sizeof(*row));
    if (tpl == NULL || row == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->de = ngx_http_ticket_lang_de(ctx);
    tpl->csrf = *ngx_ticket_str(&ctx->csrf);
    tpl->rows = row;

    if (ngx_http_ticket_url(r, "admin", 5, &tpl->admin_url) != NGX_OK
        || ngx_http_ticket_url(r, "admin/overviews",
                               sizeof("admin/overviews") - 1, &tpl->self_url)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i + 1 < hash->nelem; i += 2) {
        id = &hash->element[i].str;

        if (ngx_http_ticket_string_arg(r, &hash->element[i + 1].str, "name",
                                       &name)
            != NGX_OK)
        {
            ngx_str_set(&name, "?");
        }

        p = ngx_pnalloc(r->pool, id->len + sizeof("overview/"));
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_ticket_url(r, (char *) p,
                                ngx_sprintf(p, "overview/%V", id) - p,
                                &row->url)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        row->id = *ngx_ticket_str(id);
        row->name = *ngx_ticket_str(&name);
        row->def = *ngx_ticket_str(&hash->element[i + 1].str);
        row++;
        tpl->rows_n++;
    }

    title.data = (u_char *) ngx_http_ticket_msg(ctx,
                                                TK_MSG_COMMON_SHARED_OVERVIEWS);
    title.len = ngx_strlen(title.data);

    return ngx_http_ticket_page(r, ctx, NGX_HTTP_OK, &title,
                                ngx_http_ticket_ao_body, tpl);
}


static void
ngx_http_ticket_ao_body(tk_out_t *out, void *data)
{
    tk_tpl_admin_overviews(out, data);
}
