/*
 * ngx_http_ticket_admin.c -- the admins' pages: "/admin/quarantine" lists
 * the mails mailbridge could not turn into tickets (newest first: when,
 * from where, why, how big) and "/admin/quarantine/ID/raw" hands out one
 * of them as it was received.  For anyone without the role admin these
 * addresses do not exist (404, the same page as any unknown one).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_admin.h"
#include "tk_tpl.h"
#include "ngx_http_ticket_casework.h"


/* Entries on the page; the rest stays in Redis (and in the count). */
#define NGX_HTTP_TICKET_QUARANTINE_PAGE  100

/* Quarantine ids are SHA-256 of the mail, in hex. */
#define NGX_HTTP_TICKET_QUARANTINE_ID    64

#define NGX_HTTP_TICKET_Q_FIELDS                                             \
    TK_F_REASON " " TK_F_TIME " " TK_F_SOURCE " " TK_F_SIZE
#define NGX_HTTP_TICKET_Q_NFIELDS        4


typedef struct {
    ngx_uint_t                 total;
    ngx_http_ticket_reply_t   *ids;             /* ZREVRANGE WITHSCORES */
    ngx_uint_t                 nids;
} ngx_http_ticket_admin_t;


static ngx_int_t ngx_http_ticket_quarantine(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_admin_index_body(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_admin_index_out(tk_out_t *out, void *data);


/* "/admin/NAME[/...]" -> the page's file */
static const struct {
    const char  *name;
    ngx_int_t  (*handler)(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
                          ngx_str_t *rest);
} ngx_http_ticket_admin_pages[] = {
    { "/admin/users", ngx_http_ticket_admin_users },
    { "/admin/groups", ngx_http_ticket_admin_groups },
    { "/admin/outbox", ngx_http_ticket_admin_outbox },
    { "/admin/mail", ngx_http_ticket_admin_mail },
    { "/admin/overviews", ngx_http_ticket_admin_overviews },
    { NULL, NULL }
};
static ngx_int_t ngx_http_ticket_quarantine_ids(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_quarantine_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_quarantine_row(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *id, ngx_http_ticket_reply_t *rep,
    tk_tpl_quarantine_rows_t *row);
static void ngx_http_ticket_quarantine_body(tk_out_t *out, void *data);
static ngx_int_t ngx_http_ticket_quarantine_raw(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *id);
static ngx_int_t ngx_http_ticket_quarantine_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);


/*
 * "/admin/quarantine", "/admin/quarantine/ID/raw".  The role is checked
 * before anything else, so a non-admin learns nothing, not even which
 * admin pages exist.
 */
ngx_int_t
ngx_http_ticket_admin(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    size_t       len;
    ngx_str_t    rest, id;
    ngx_uint_t   i;
    const char  *prefix = "/admin/quarantine";

    /* the PGP key page is for agents too (ngx_http_ticket_keys.c) */
    if (ctx->path.len >= sizeof("/admin/keys") - 1
        && ngx_strncmp(ctx->path.data, "/admin/keys", sizeof("/admin/keys") - 1)
           == 0
        && (ctx->path.len == sizeof("/admin/keys") - 1
            || ctx->path.data[sizeof("/admin/keys") - 1] == '/'))
    {
        return ngx_http_ticket_keys(r, ctx);
    }

    if (!ctx->user.admin) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (ctx->path.len >= sizeof("/admin/triggers") - 1
        && ngx_strncmp(ctx->path.data, "/admin/triggers",
                       sizeof("/admin/triggers") - 1) == 0)
    {
        return ngx_http_ticket_admin_triggers(r, ctx);    /* trigger rules */
    }

    /* casework: shared text modules, ticket templates */
    if (ctx->path.len >= sizeof("/admin/text-modules") - 1
        && ngx_strncmp(ctx->path.data, "/admin/text-modules",
                       sizeof("/admin/text-modules") - 1) == 0)
    {
        return ngx_http_ticket_textmods(r, ctx, 1);
    }
    if (ctx->path.len >= sizeof("/admin/customers") - 1
        && ngx_strncmp(ctx->path.data, "/admin/customers",
                       sizeof("/admin/customers") - 1) == 0)
    {
        return ngx_http_ticket_dp_admin(r, ctx);
    }
    if (ctx->path.len >= sizeof("/admin/templates") - 1
        && ngx_strncmp(ctx->path.data, "/admin/templates",
                       sizeof("/admin/templates") - 1) == 0)
    {
        return ngx_http_ticket_templates(r, ctx);
    }

    /* the administration pages, one file each (ngx_http_ticket_admin.h) */
    for (i = 0; ngx_http_ticket_admin_pages[i].name; i++) {
        len = ngx_strlen(ngx_http_ticket_admin_pages[i].name);

        if (ctx->path.len >= len
            && ngx_strncmp(ctx->path.data, ngx_http_ticket_admin_pages[i].name,
                           len) == 0
            && (ctx->path.len == len || ctx->path.data[len] == '/'))
        {
            rest.data = ctx->path.data + len;
            rest.len = ctx->path.len - len;
            ctx->page = "manage";

            return ngx_http_ticket_admin_pages[i].handler(r, ctx, &rest);
        }
    }

    if (ctx->path.len == sizeof("/admin") - 1) {
        ctx->page = "manage";
        return ngx_http_ticket_admin_index(r, ctx);
    }

    if (ctx->path.len < ngx_strlen(prefix)
        || ngx_strncmp(ctx->path.data, prefix, ngx_strlen(prefix)) != 0)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    rest.data = ctx->path.data + ngx_strlen(prefix);
    rest.len = ctx->path.len - ngx_strlen(prefix);

    if (rest.len == 0) {
        return ngx_http_ticket_quarantine(r, ctx);
    }

    /* "/ID/raw" */
    if (rest.len == 1 + NGX_HTTP_TICKET_QUARANTINE_ID + 4
        && rest.data[0] == '/'
        && ngx_strncmp(rest.data + rest.len - 4, "/raw", 4) == 0)
    {
        id.data = rest.data + 1;
        id.len = NGX_HTTP_TICKET_QUARANTINE_ID;

        if (ngx_http_ticket_is_hex(&id, NGX_HTTP_TICKET_QUARANTINE_ID)) {
            return ngx_http_ticket_quarantine_raw(r, ctx, &id);
        }
    }

    return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
}


/* ---- "/admin": the sections --------------------------------------------- */

ngx_int_t
ngx_http_ticket_admin_index(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    return ngx_http_ticket_admin_index_body(r, ctx);
}


static ngx_int_t
ngx_http_ticket_admin_index_body(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                    title;
    tk_tpl_admin_index_t        *tpl;
    ngx_http_ticket_loc_conf_t  *lcf;

    tpl = ngx_pcalloc(r->pool, sizeof(tk_tpl_admin_index_t));
    if (tpl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    tpl->de = ngx_http_ticket_lang_de(ctx);
    tpl->base = *ngx_ticket_str(&lcf->base_url);

    if (ngx_http_ticket_uint_str(r, ctx->quarantined, &tpl->quarantined)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    title.data = (u_char *) ngx_http_ticket_msg(ctx,
                                                TK_MSG_COMMON_ADMINISTRATION);
    title.len = ngx_strlen(title.data);

    return ngx_http_ticket_page(r, ctx, NGX_HTTP_OK, &title,
                                ngx_http_ticket_admin_index_out, tpl);
}


static void
ngx_http_ticket_admin_index_out(tk_out_t *out, void *data)
{
    tk_tpl_admin_index(out, data);
}


/* ---- the list ---------------------------------------------------------- */

static ngx_int_t
ngx_http_ticket_quarantine(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                *cmds;
    ngx_http_ticket_admin_t  *adm;

    adm = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_admin_t));
    cmds = ngx_http_ticket_cmds(r);
    if (adm == NULL || cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = adm;

    tk_cmds_add(cmds, "ZCARD " TK_KEY_QUARANTINE);
    tk_cmds_add(cmds, "ZREVRANGE " TK_KEY_QUARANTINE " 0 %d WITHSCORES",
                NGX_HTTP_TICKET_QUARANTINE_PAGE - 1);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_quarantine_ids);
}


/* The newest ids are in: one HMGET each for what the list shows. */
static ngx_int_t
ngx_http_ticket_quarantine_ids(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                i;
    tk_cmds_t                *cmds;
    ngx_str_t                *id;
    ngx_http_ticket_admin_t  *adm;

    adm = ctx->view;

    if (ctx->nreplies != 2 || ctx->replies[1].type != REDIS_REPLY_ARRAY) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    adm->total = ctx->replies[0].type == REDIS_REPLY_INTEGER
                 && ctx->replies[0].integer > 0
                 ? (ngx_uint_t) ctx->replies[0].integer : 0;
    adm->ids = ctx->replies[1].element;
    adm->nids = ctx->replies[1].nelem / 2;

    if (adm->nids == 0) {
        ctx->replies = NULL;
        ctx->nreplies = 0;
        return ngx_http_ticket_quarantine_render(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < adm->nids; i++) {
        id = &adm->ids[2 * i].str;

        /* one reply per id, even for one that is not ours */
        if (!ngx_http_ticket_is_hex(id, NGX_HTTP_TICKET_QUARANTINE_ID)) {
            tk_cmds_add(cmds, "ECHO -");
            continue;
        }

        tk_cmds_add(cmds, "HMGET " TK_FMTS_QUARANTINE " "
                    NGX_HTTP_TICKET_Q_FIELDS, ngx_ticket_str(id));
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_quarantine_render);
}


static ngx_int_t
ngx_http_ticket_quarantine_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                  title;
    ngx_uint_t                 i;
    tk_tpl_quarantine_t       *tpl;
    tk_tpl_quarantine_rows_t  *row;
    ngx_http_ticket_admin_t   *adm;

    adm = ctx->view;

    tpl = ngx_pcalloc(r->pool, sizeof(tk_tpl_quarantine_t));
    row = ngx_pcalloc(r->pool, (adm->nids + 1) * sizeof(*row));
    if (tpl == NULL || row == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->de = ngx_http_ticket_lang_de(ctx);
    tpl->rows = row;

    for (i = 0; i < adm->nids && i < ctx->nreplies; i++) {
        if (ngx_http_ticket_quarantine_row(r, ctx, &adm->ids[2 * i].str,
                                           &ctx->replies[i], row)
            == NGX_OK)
        {
            row++;
            tpl->rows_n++;
        }
    }

    if (ngx_http_ticket_uint_str(r, adm->total, &tpl->total) != NGX_OK
        || ngx_http_ticket_uint_str(r, tpl->rows_n, &tpl->shown) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->more = (adm->total > tpl->rows_n);

    title.data = (u_char *) ngx_http_ticket_msg(ctx, TK_MSG_COMMON_QUARANTINE);
    title.len = ngx_strlen(title.data);

    return ngx_http_ticket_page(r, ctx, NGX_HTTP_OK, &title,
                                ngx_http_ticket_quarantine_body, tpl);
}


/* NGX_DECLINED: gone meanwhile (or not an id of ours): left out. */
static ngx_int_t
ngx_http_ticket_quarantine_row(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *id, ngx_http_ticket_reply_t *rep,
    tk_tpl_quarantine_rows_t *row)
{
    u_char     *p;
    ngx_str_t   value;
    long long   n;

    if (rep->type != REDIS_REPLY_ARRAY
        || rep->nelem != NGX_HTTP_TICKET_Q_NFIELDS
        || rep->element[1].type != REDIS_REPLY_STRING)
    {
        return NGX_DECLINED;
    }

    row->id = *ngx_ticket_str(id);

    ngx_http_ticket_reply_str(&rep->element[0], &value);
    row->reason = *ngx_ticket_str(&value);
    ngx_http_ticket_reply_str(&rep->element[2], &value);
    row->source = *ngx_ticket_str(&value);

    n = tk_str_atoll(ngx_ticket_str(&rep->element[1].str));

    if (ngx_http_ticket_time_str(r, n > 0 ? n : 0, &row->time) != NGX_OK
        || ngx_http_ticket_iso_str(r, n > 0 ? n : 0, &row->time_iso)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_ticket_reply_str(&rep->element[3], &value);
    n = tk_str_atoll(ngx_ticket_str(&value));

    if (ngx_http_ticket_size_str(r, ctx, n > 0 ? n : 0, &row->size)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, sizeof("admin/quarantine//raw") + id->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_ticket_url(r, (char *) p,
                               ngx_sprintf(p, "admin/quarantine/%V/raw", id)
                               - p,
                               &row->raw_url);
}


static void
ngx_http_ticket_quarantine_body(tk_out_t *out, void *data)
{
    tk_tpl_quarantine(out, data);
}


/* ---- one quarantined mail ---------------------------------------------- */

static ngx_int_t
ngx_http_ticket_quarantine_raw(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *id)
{
    tk_cmds_t  *cmds;
    ngx_str_t  *keep;

    /* the id is read again when the reply is in */
    keep = ngx_palloc(r->pool, sizeof(ngx_str_t));
    cmds = ngx_http_ticket_cmds(r);
    if (keep == NULL || cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *keep = *id;
    ctx->view = keep;

    tk_cmds_add(cmds, "HGET " TK_FMTS_QUARANTINE " " TK_F_RAW,
                ngx_ticket_str(id));

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_quarantine_send);
}


/* The bytes as received; an empty mail is a file too (nil is not). */
static ngx_int_t
ngx_http_ticket_quarantine_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    u_char     *p;
    ngx_str_t   name, *id;

    id = ctx->view;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_STRING) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    p = ngx_pnalloc(r->pool, sizeof("quarantine-.eml") + id->len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    name.data = p;
    name.len = ngx_sprintf(p, "quarantine-%V.eml", id) - p;

    return ngx_http_ticket_file(r, &ctx->replies[0].str, "message/rfc822", 0,
                                &name);
}
