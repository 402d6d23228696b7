/*
 * ngx_http_ticket_admin_groups.c -- "/admin/groups": the groups (AGs),
 * with the same rules as "ticketctl group" and the same writer
 * (tk_group_write(), redis-schema/tk_group.c).
 *
 *   GET  /admin/groups           list
 *   GET  /admin/groups/new       form for a new group;  POST: create it
 *   GET  /admin/groups/NAME      the group's form;      POST: save it
 *
 * The signing key (pgp_sign) is shown, not edited: mailbridge's key
 * tooling sets it.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_admin.h"
#include "ngx_http_ticket_compose.h"
#include "tk_group.h"
#include "tk_tpl.h"


#define NGX_HTTP_TICKET_AG_FIELDS                                            \
    TK_F_EMAIL " " TK_F_DISPLAY_NAME " " TK_F_ALL_AGENTS " " TK_F_PGP_SIGN
#define NGX_HTTP_TICKET_AG_NFIELDS     4


typedef struct {
    ngx_flag_t                 is_new;
    ngx_flag_t                 post;
    ngx_str_t                  name;
    ngx_str_t                  email;
    ngx_str_t                  display_name;
    ngx_str_t                  signature;
    ngx_str_t                  pgp_sign;
    ngx_flag_t                 all_agents;
    const char                *error;
    ngx_str_t                 *names;           /* the list, sorted */
    ngx_uint_t                 nnames;
    ngx_str_t                  key;             /* tk:{g:NAME} */
} ngx_http_ticket_ag_t;


static ngx_int_t ngx_http_ticket_ag_list(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_ag_list_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_ag_list_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_ag_list_body(tk_out_t *out, void *data);
static ngx_int_t ngx_http_ticket_ag_loaded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_ag_check(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_ag_begin(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_ag_decide(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_ag_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_ag_form(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status);
static void ngx_http_ticket_ag_form_body(tk_out_t *out, void *data);
static ngx_int_t ngx_http_ticket_ag_url(ngx_http_request_t *r,
    ngx_str_t *name, tk_str_t *url);
static ngx_int_t ngx_http_ticket_ag_key(ngx_http_request_t *r,
    ngx_http_ticket_ag_t *ag);
static void ngx_http_ticket_ag_lines(ngx_str_t *text);


ngx_int_t
ngx_http_ticket_admin_groups(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *rest)
{
    tk_cmds_t             *cmds;
    ngx_http_ticket_ag_t  *ag;

    ag = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_ag_t));
    if (ag == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = ag;
    ag->post = (r->method == NGX_HTTP_POST);

    if (!ag->post && !(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    if (rest->len == 0) {
        return ag->post
               ? ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL)
               : ngx_http_ticket_ag_list(r, ctx);
    }

    ag->name.data = rest->data + 1;
    ag->name.len = rest->len - 1;

    if (ag->name.len == 3 && ngx_strncmp(ag->name.data, "new", 3) == 0) {
        ag->is_new = 1;
        ngx_str_null(&ag->name);

    } else if (!tk_valid_group(ngx_ticket_str(&ag->name))
               || ngx_http_ticket_ag_key(r, ag) != NGX_OK)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (ag->post && ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
        return ngx_http_ticket_csrf_refused(r, ctx);
    }

    if (ag->is_new) {
        return ag->post ? ngx_http_ticket_ag_check(r, ctx)
                        : ngx_http_ticket_ag_form(r, ctx, NGX_HTTP_OK);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGETALL %S", ngx_ticket_str(&ag->key));

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_ag_loaded);
}


/* ---- the list ------------------------------------------------------------ */

static ngx_int_t
ngx_http_ticket_ag_list(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t  *cmds;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_GROUPS);

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_ag_list_read);
}


static ngx_int_t
ngx_http_ticket_ag_list_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    char                   key[TK_KEY_MAX];
    size_t                 len;
    ngx_uint_t             i;
    tk_cmds_t             *cmds;
    ngx_http_ticket_ag_t  *ag;

    ag = ctx->view;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_ARRAY) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    if (ngx_http_ticket_admin_members(r, &ctx->replies[0], &ag->names,
                                      &ag->nnames) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ag->nnames == 0) {
        ctx->nreplies = 0;
        return ngx_http_ticket_ag_list_render(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < ag->nnames; i++) {
        len = tk_key_group(key, sizeof(key), ngx_ticket_str(&ag->names[i]));

        if (len == 0) {
            tk_cmds_add(cmds, "ECHO -");
            continue;
        }

        tk_cmds_add(cmds, "HMGET %b " NGX_HTTP_TICKET_AG_FIELDS, key, len);
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_ag_list_render);
}


static ngx_int_t
ngx_http_ticket_ag_list_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                    title, v[NGX_HTTP_TICKET_AG_NFIELDS],
                                 saved;
    ngx_flag_t                   de;
    ngx_uint_t                   i, k;
    tk_tpl_admin_groups_t       *tpl;
    tk_tpl_admin_groups_rows_t  *row;
    ngx_http_ticket_ag_t        *ag;
    ngx_http_ticket_reply_t     *rep;

    ag = ctx->view;
    de = ngx_http_ticket_lang_de(ctx);

    tpl = ngx_pcalloc(r->pool, sizeof(tk_tpl_admin_groups_t));
    row = ngx_pcalloc(r->pool, (ag->nnames + 1) * sizeof(*row));
    if (tpl == NULL || row == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->de = de;
    tpl->rows = row;

    if (ngx_http_ticket_url(r, "admin", 5, &tpl->admin_url) != NGX_OK
        || ngx_http_ticket_url(r, "admin/groups/new",
                               sizeof("admin/groups/new") - 1, &tpl->new_url)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_ticket_query_arg(r, "saved", &saved) == NGX_OK) {
        ngx_http_ticket_cstr(&tpl->flash_ok,
                             ngx_http_ticket_msg(ctx,
                                                 TK_MSG_ADMIN_GROUPS_SAVED));
    }

    for (i = 0; i < ag->nnames && i < ctx->nreplies; i++) {
        rep = &ctx->replies[i];

        if (rep->type != REDIS_REPLY_ARRAY
            || rep->nelem != NGX_HTTP_TICKET_AG_NFIELDS)
        {
            continue;
        }

        for (k = 0; k < NGX_HTTP_TICKET_AG_NFIELDS; k++) {
            ngx_http_ticket_reply_str(&rep->element[k], &v[k]);
        }

        row->name = *ngx_ticket_str(&ag->names[i]);
        row->email = *ngx_ticket_str(&v[0]);
        row->display_name = *ngx_ticket_str(&v[1]);
        row->pgp_sign = *ngx_ticket_str(&v[3]);
        ngx_http_ticket_cstr(&row->access,
                             ngx_http_ticket_flag_on(&v[2])
                             ? ngx_http_ticket_msg(ctx,
                                   TK_MSG_ADMIN_GROUPS_ALL_AGENTS)
                             : ngx_http_ticket_msg(ctx,
                                   TK_MSG_ADMIN_GROUPS_BY_RIGHTS));

        if (ngx_http_ticket_ag_url(r, &ag->names[i], &row->url) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        row++;
        tpl->rows_n++;
    }

    title.data = (u_char *) ngx_http_ticket_msg(ctx, TK_MSG_COMMON_GROUPS);
    title.len = ngx_strlen(title.data);

    return ngx_http_ticket_page(r, ctx, NGX_HTTP_OK, &title,
                                ngx_http_ticket_ag_list_body, tpl);
}


static void
ngx_http_ticket_ag_list_body(tk_out_t *out, void *data)
{
    tk_tpl_admin_groups(out, data);
}


/* ---- one group -------------------------------------------------------------- */

static ngx_int_t
ngx_http_ticket_ag_loaded(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                 all;
    ngx_http_ticket_ag_t     *ag;
    ngx_http_ticket_reply_t  *hash;

    ag = ctx->view;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_ARRAY) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    hash = &ctx->replies[0];

    if (hash->nelem == 0) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    ngx_http_ticket_reply_value(hash, TK_F_EMAIL, &ag->email);
    ngx_http_ticket_reply_value(hash, TK_F_DISPLAY_NAME, &ag->display_name);
    ngx_http_ticket_reply_value(hash, TK_F_SIGNATURE, &ag->signature);
    ngx_http_ticket_reply_value(hash, TK_F_PGP_SIGN, &ag->pgp_sign);
    ngx_http_ticket_reply_value(hash, TK_F_ALL_AGENTS, &all);
    ag->all_agents = ngx_http_ticket_flag_on(&all);

    if (ag->post) {
        return ngx_http_ticket_ag_check(r, ctx);
    }

    return ngx_http_ticket_ag_form(r, ctx, NGX_HTTP_OK);
}


/* The posted form: a refused one is the form again (400), nothing
 * written. */
static ngx_int_t
ngx_http_ticket_ag_check(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t              all;
    ngx_http_ticket_ag_t  *ag;

    ag = ctx->view;

    if (ag->is_new) {
        ngx_http_ticket_form_value(r, ctx, "name", &ag->name);
        ngx_http_ticket_trim(&ag->name);
    }

    /* the API changes what it names; a form posts every field */
    all.data = (u_char *) (ag->all_agents ? "1" : "0");
    all.len = 1;
    ngx_http_ticket_admin_field(r, ctx, "email", &ag->email);
    ngx_http_ticket_admin_field(r, ctx, "display_name", &ag->display_name);
    ngx_http_ticket_admin_field(r, ctx, "signature", &ag->signature);
    ngx_http_ticket_admin_field(r, ctx, "all_agents", &all);
    ngx_http_ticket_trim(&ag->email);
    ngx_http_ticket_trim(&ag->display_name);
    ngx_http_ticket_ag_lines(&ag->signature);
    ag->all_agents = ngx_http_ticket_flag_on(&all);

    if (ag->is_new
        && (!tk_valid_group(ngx_ticket_str(&ag->name))
            || ngx_http_ticket_text_chars(&ag->name, 0) < 0
            || (ag->name.len == 3
                && ngx_strncmp(ag->name.data, "new", 3) == 0)))
    {
        ag->error =
            ngx_http_ticket_msg(ctx,
                                TK_MSG_ADMIN_GROUPS_THE_NAME_MUST_BE_1_TO_64);
        return ngx_http_ticket_ag_form(r, ctx, NGX_HTTP_BAD_REQUEST);
    }

    if (ag->email.len && !ngx_http_ticket_valid_email(&ag->email)) {
        ag->error =
            ngx_http_ticket_msg(ctx,
                TK_MSG_ADMIN_GROUPS_THAT_IS_NOT_AN_EMAIL_ADDRESS);
        return ngx_http_ticket_ag_form(r, ctx, NGX_HTTP_BAD_REQUEST);
    }

    /* the sender name goes into a From header: one line, no quotes */
    if (ngx_http_ticket_text_chars(&ag->display_name, 0) < 0
        || !tk_group_valid_display(ngx_ticket_str(&ag->display_name)))
    {
        ag->error =
            ngx_http_ticket_msg(ctx,
                TK_MSG_ADMIN_GROUPS_THE_SENDER_NAME_ONE_LINE_AT);
        return ngx_http_ticket_ag_form(r, ctx, NGX_HTTP_BAD_REQUEST);
    }

    if (ngx_http_ticket_text_chars(&ag->signature, 1) < 0
        || !tk_group_valid_signature(ngx_ticket_str(&ag->signature)))
    {
        ag->error =
            ngx_http_ticket_msg(ctx,
                TK_MSG_ADMIN_GROUPS_THE_SIGNATURE_TEXT_OF_AT_MOST);
        return ngx_http_ticket_ag_form(r, ctx, NGX_HTTP_BAD_REQUEST);
    }

    if (ag->is_new && ngx_http_ticket_ag_key(r, ag) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_ag_begin(r, ctx);
}


/* WATCH the group: "create" must not overwrite one made meanwhile,
 * "save" must not bring back a group removed meanwhile. */
static ngx_int_t
ngx_http_ticket_ag_begin(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t             *reads;
    ngx_http_ticket_ag_t  *ag;

    ag = ctx->view;

    reads = ngx_http_ticket_cmds(r);
    if (reads == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(reads, "EXISTS %S", ngx_ticket_str(&ag->key));

    return ngx_http_ticket_tx_begin(r, ctx, &ag->key, 1, reads,
                                    ngx_http_ticket_ag_decide);
}


static ngx_int_t
ngx_http_ticket_ag_decide(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_group_t             g;
    ngx_flag_t             exists;
    tk_cmds_t             *writes;
    ngx_http_ticket_ag_t  *ag;

    ag = ctx->view;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_INTEGER) {
        ngx_http_ticket_tx_abort(r, ctx);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    exists = ctx->replies[0].integer == 1;

    if (ag->is_new && exists) {
        ngx_http_ticket_tx_abort(r, ctx);
        ag->error =
            ngx_http_ticket_msg(ctx,
                                TK_MSG_ADMIN_GROUPS_THERE_IS_A_GROUP_WITH_THIS);
        return ngx_http_ticket_ag_form(r, ctx, NGX_HTTP_BAD_REQUEST);
    }

    if (!ag->is_new && !exists) {
        ngx_http_ticket_tx_abort(r, ctx);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    writes = ngx_http_ticket_cmds(r);
    if (writes == NULL) {
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    g.name = *ngx_ticket_str(&ag->name);
    g.email = *ngx_ticket_str(&ag->email);
    g.display_name = *ngx_ticket_str(&ag->display_name);
    g.signature = *ngx_ticket_str(&ag->signature);
    g.all_agents = (int) ag->all_agents;

    tk_group_write(writes, &g);

    if (writes->failed) {
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_tx_commit(r, ctx, writes,
                                     ngx_http_ticket_ag_committed);
}


static ngx_int_t
ngx_http_ticket_ag_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t             i;
    ngx_http_ticket_ag_t  *ag;

    ag = ctx->view;

    if (ctx->tx_conflict) {
        ctx->tx_conflict = 0;

        if (++ctx->tx_retries < NGX_HTTP_TICKET_ADMIN_TX_RETRIES) {
            return ngx_http_ticket_ag_begin(r, ctx);
        }

        return ngx_http_ticket_error(r, ctx, NGX_HTTP_CONFLICT, NULL);
    }

    for (i = 0; i < ctx->nreplies; i++) {
        if (ngx_http_ticket_reply_is_error(&ctx->replies[i])) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "ticket: writing group \"%V\" failed: %V",
                          &ag->name, &ctx->replies[i].str);
            return ngx_http_ticket_error(r, ctx,
                                         NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         NULL);
        }
    }

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "ticket: admin \"%V\": group \"%V\" %s", &ctx->user.login,
                  &ag->name, ag->is_new ? "created" : "saved");

    return ngx_http_ticket_admin_back(r, "groups", NULL,
                                      ag->is_new ? "created" : "saved");
}


static ngx_int_t
ngx_http_ticket_ag_form(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_uint_t status)
{
    ngx_str_t              title;
    tk_tpl_admin_group_t  *tpl;
    ngx_http_ticket_ag_t  *ag;

    ag = ctx->view;

    /* the API: a refused write is a JSON error */
    if (ctx->api) {
        return ngx_http_ticket_compose_json_error(r, status == NGX_HTTP_OK
                                                  ? NGX_HTTP_NOT_FOUND
                                                  : 422, NULL,
                                                  ag->error ? ag->error
                                                            : "refused");
    }

    tpl = ngx_pcalloc(r->pool, sizeof(tk_tpl_admin_group_t));
    if (tpl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->de = ngx_http_ticket_lang_de(ctx);
    tpl->csrf = *ngx_ticket_str(&ctx->csrf);
    tpl->is_new = ag->is_new;
    tpl->name = *ngx_ticket_str(&ag->name);
    tpl->email = *ngx_ticket_str(&ag->email);
    tpl->display_name = *ngx_ticket_str(&ag->display_name);
    tpl->signature = *ngx_ticket_str(&ag->signature);
    tpl->pgp_sign = *ngx_ticket_str(&ag->pgp_sign);
    tpl->all_agents = ag->all_agents;

    if (ag->error) {
        ngx_http_ticket_cstr(&tpl->flash_error, ag->error);
    }

    if (ngx_http_ticket_url(r, "admin/groups", sizeof("admin/groups") - 1,
                            &tpl->list_url) != NGX_OK
        || (ag->is_new
            ? ngx_http_ticket_url(r, "admin/groups/new",
                                  sizeof("admin/groups/new") - 1,
                                  &tpl->action)
            : ngx_http_ticket_ag_url(r, &ag->name, &tpl->action))
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ag->is_new) {
        title.data = (u_char *) ngx_http_ticket_msg(ctx,
                                                    TK_MSG_COMMON_NEW_GROUP);
        title.len = ngx_strlen(title.data);

    } else {
        title = ag->name;
    }

    return ngx_http_ticket_page(r, ctx, status, &title,
                                ngx_http_ticket_ag_form_body, tpl);
}


static void
ngx_http_ticket_ag_form_body(tk_out_t *out, void *data)
{
    tk_tpl_admin_group(out, data);
}


/* base_url + "admin/groups/" + the name, percent-encoded ("Bündnis"). */
static ngx_int_t
ngx_http_ticket_ag_url(ngx_http_request_t *r, ngx_str_t *name,
    tk_str_t *url)
{
    u_char  *p, *last;

    p = ngx_pnalloc(r->pool, sizeof("admin/groups/") + 3 * name->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    last = ngx_cpymem(p, "admin/groups/", sizeof("admin/groups/") - 1);
    last = (u_char *) ngx_escape_uri(last, name->data, name->len,
                                     NGX_ESCAPE_URI_COMPONENT);

    return ngx_http_ticket_url(r, (char *) p, last - p, url);
}


static ngx_int_t
ngx_http_ticket_ag_key(ngx_http_request_t *r, ngx_http_ticket_ag_t *ag)
{
    ag->key.data = ngx_pnalloc(r->pool, TK_KEY_MAX);
    if (ag->key.data == NULL) {
        return NGX_ERROR;
    }

    ag->key.len = tk_key_group((char *) ag->key.data, TK_KEY_MAX,
                               ngx_ticket_str(&ag->name));

    return ag->key.len ? NGX_OK : NGX_ERROR;
}


/* Browsers send CR LF; the stored text has LF lines, like mail bodies. */
static void
ngx_http_ticket_ag_lines(ngx_str_t *text)
{
    u_char  *p, *q, *last;

    last = text->data + text->len;

    for (p = text->data, q = text->data; p < last; p++) {
        if (*p == '\r') {
            *q++ = '\n';

            if (p + 1 < last && p[1] == '\n') {
                p++;
            }

            continue;
        }

        *q++ = *p;
    }

    text->len = q - text->data;
}
