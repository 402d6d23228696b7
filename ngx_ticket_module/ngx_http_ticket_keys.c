/*
 * ngx_http_ticket_keys.c -- "/admin/keys": mailbridge's PGP keys as the
 * keys role publishes them (tk:pgp:keys, tk:pgp:key:FPR; SCHEMA.md "PGP
 * keys"), and the requests to change them.  The module never runs gpg:
 * an import or delete is an entry in the stream tk:pgp:requests, the
 * answer a redirect to "/admin/keys?r=ID", which shows tk:pgp:result:ID
 * once mailbridge wrote it (and reloads itself until then).
 *
 *   GET  /admin/keys[?r=ID | ?import=T/A/K]   list (+ result / confirm)
 *   POST /admin/keys/import      key=ARMOUR       agents and admins
 *   POST /admin/keys/import-att  ticket article att   (ticket visible)
 *   POST /admin/keys/delete      fpr=FPR          admins only (else 403)
 *
 * Agents may import public keys only; the module refuses a secret key
 * block from them, and mailbridge checks again (it sees the role).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"
#include "tk_tpl.h"


/* Keys on the page; a keyring of a collective has tens. */
#define NGX_HTTP_TICKET_KEYS_MAX       500
#define NGX_HTTP_TICKET_FPR_LEN        40
#define NGX_HTTP_TICKET_KEYS_ID_MAX    41      /* "MS-SEQ" of a stream */

#define NGX_HTTP_TICKET_KEY_FIELDS                                           \
    TK_F_PGP_FPR " " TK_F_PGP_UIDS " " TK_F_PGP_EMAILS " "                   \
    TK_F_PGP_EXPIRES " " TK_F_PGP_REVOKED " " TK_F_PGP_CAN_ENCRYPT " "       \
    TK_F_PGP_SECRET
#define NGX_HTTP_TICKET_KEY_NFIELDS    7


typedef struct {
    tk_tpl_keys_t              tpl;
    ngx_str_t                  result_id;       /* ?r=ID, or "" */
    uint64_t                   att[3];          /* ?import= / POST: T A K */
    ngx_flag_t                 has_att;
    ngx_http_ticket_reply_t   *members;         /* SMEMBERS tk:pgp:keys */
    ngx_uint_t                 nmembers;
    ngx_http_ticket_reply_t   *result;          /* HGETALL result */
    ngx_http_ticket_reply_t   *att_reply;       /* HGET group, HMGET att */
} ngx_http_ticket_keys_t;


static ngx_int_t ngx_http_ticket_keys_list(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_keys_att_read(tk_cmds_t *cmds,
    const uint64_t *att);
static ngx_int_t ngx_http_ticket_keys_fetch(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_keys_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_keys_row(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_reply_t *rep,
    tk_tpl_keys_rows_t *row);
static ngx_int_t ngx_http_ticket_keys_result(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_keys_t *kv);
static ngx_int_t ngx_http_ticket_keys_confirm(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_keys_t *kv);
static void ngx_http_ticket_keys_body(tk_out_t *out, void *data);
static ngx_int_t ngx_http_ticket_keys_import(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_keys_delete(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_keys_att(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_keys_att_check(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_keys_queued(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_keys_att_ref(ngx_str_t *s, uint64_t *out);
static ngx_int_t ngx_http_ticket_keys_number(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *name, uint64_t *out);
static int ngx_libc_cdecl ngx_http_ticket_keys_cmp(const void *a,
    const void *b);


/* Below "/admin/keys"; the caller (admin.c) lets agents in for this. */
ngx_int_t
ngx_http_ticket_keys(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t  rest;

    ctx->page = "keys";
    rest.data = ctx->path.data + sizeof("/admin/keys") - 1;
    rest.len = ctx->path.len - (sizeof("/admin/keys") - 1);

    if (rest.len == 0) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
        }
        return ngx_http_ticket_keys_list(r, ctx);
    }

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
        return ngx_http_ticket_csrf_refused(r, ctx);
    }

    if (rest.len == sizeof("/import") - 1
        && ngx_strncmp(rest.data, "/import", rest.len) == 0)
    {
        return ngx_http_ticket_keys_import(r, ctx);
    }

    if (rest.len == sizeof("/import-att") - 1
        && ngx_strncmp(rest.data, "/import-att", rest.len) == 0)
    {
        return ngx_http_ticket_keys_att(r, ctx);
    }

    if (rest.len == sizeof("/delete") - 1
        && ngx_strncmp(rest.data, "/delete", rest.len) == 0)
    {
        return ngx_http_ticket_keys_delete(r, ctx);
    }

    return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
}


/* ---- the page ----------------------------------------------------------- */

static ngx_int_t
ngx_http_ticket_keys_list(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                  *p;
    ngx_str_t                arg;
    ngx_uint_t               i;
    tk_cmds_t               *cmds;
    ngx_http_ticket_keys_t  *kv;

    kv = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_keys_t));
    cmds = ngx_http_ticket_cmds(r);
    if (kv == NULL || cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = kv;

    /* ?r=ID: digits and one '-', as XADD makes them; else ignored */
    if (ngx_http_ticket_query_arg(r, "r", &arg) == NGX_OK
        && arg.len > 2 && arg.len <= NGX_HTTP_TICKET_KEYS_ID_MAX)
    {
        p = arg.data;
        for (i = 0; i < arg.len; i++) {
            if (!(p[i] >= '0' && p[i] <= '9') && !(p[i] == '-' && i > 0)) {
                break;
            }
        }
        if (i == arg.len) {
            kv->result_id = arg;
        }
    }

    if (ngx_http_ticket_query_arg(r, "import", &arg) == NGX_OK) {
        if (ngx_http_ticket_keys_att_ref(&arg, kv->att) != NGX_OK) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
        }
        kv->has_att = 1;
    }

    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_PGP_KEYS);

    if (kv->result_id.len) {
        tk_cmds_add(cmds, "HGETALL " TK_KEY_PGP_RESULT_PREFIX "%S",
                    ngx_ticket_str(&kv->result_id));
    }

    if (kv->has_att) {
        ngx_http_ticket_keys_att_read(cmds, kv->att);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_keys_fetch);
}


/* The fingerprints are in: one HMGET per key for what the list shows. */
static ngx_int_t
ngx_http_ticket_keys_fetch(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t               i, n;
    tk_cmds_t               *cmds;
    ngx_http_ticket_keys_t  *kv;

    kv = ctx->view;
    n = 1 + (kv->result_id.len ? 1 : 0) + (kv->has_att ? 2 : 0);

    if (ctx->nreplies != n || ctx->replies[0].type != REDIS_REPLY_ARRAY) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    kv->members = ctx->replies[0].element;
    kv->nmembers = ngx_min(ctx->replies[0].nelem, NGX_HTTP_TICKET_KEYS_MAX);
    kv->result = kv->result_id.len ? &ctx->replies[1] : NULL;
    kv->att_reply = kv->has_att ? &ctx->replies[n - 2] : NULL;

    if (kv->has_att && ngx_http_ticket_keys_confirm(r, ctx, kv) != NGX_OK) {
        /* a ticket the user may not see, or no such key file: 404 */
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (kv->result && ngx_http_ticket_keys_result(r, ctx, kv) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < kv->nmembers; i++) {
        tk_cmds_add(cmds, "HMGET " TK_KEY_PGP_KEY_PREFIX "%S "
                    NGX_HTTP_TICKET_KEY_FIELDS,
                    ngx_ticket_str(&kv->members[i].str));
    }

    if (cmds->n == 0) {
        ctx->replies = NULL;
        ctx->nreplies = 0;
        return ngx_http_ticket_keys_render(r, ctx);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_keys_render);
}


static ngx_int_t
ngx_http_ticket_keys_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                title;
    ngx_uint_t               i;
    tk_tpl_keys_t           *tpl;
    tk_tpl_keys_rows_t      *row;
    ngx_http_ticket_keys_t  *kv;

    kv = ctx->view;
    tpl = &kv->tpl;

    row = ngx_pcalloc(r->pool, (ctx->nreplies + 1) * sizeof(*row));
    if (row == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->de = ngx_http_ticket_lang_de(ctx);
    tpl->admin = ctx->user.admin ? 1 : 0;
    tpl->csrf = *ngx_ticket_str(&ctx->csrf);
    tpl->rows = row;

    for (i = 0; i < ctx->nreplies; i++) {
        if (ngx_http_ticket_keys_row(r, ctx, &ctx->replies[i],
                                     &row[tpl->rows_n]) == NGX_OK)
        {
            tpl->rows_n++;
        }
    }

    ngx_qsort(row, tpl->rows_n, sizeof(*row), ngx_http_ticket_keys_cmp);

    if (ngx_http_ticket_uint_str(r, tpl->rows_n, &tpl->total) != NGX_OK
        || ngx_http_ticket_url(r, "admin/keys/import",
                               sizeof("admin/keys/import") - 1,
                               &tpl->import_url) != NGX_OK
        || ngx_http_ticket_url(r, "admin/keys/import-att",
                               sizeof("admin/keys/import-att") - 1,
                               &tpl->import_att_url) != NGX_OK
        || ngx_http_ticket_url(r, "admin/keys/delete",
                               sizeof("admin/keys/delete") - 1,
                               &tpl->delete_url) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    title.data = (u_char *) ngx_http_ticket_msg(ctx, TK_MSG_COMMON_PGP_KEYS);
    title.len = ngx_strlen(title.data);

    return ngx_http_ticket_page(r, ctx, NGX_HTTP_OK, &title,
                                ngx_http_ticket_keys_body, tpl);
}


/* One key; NGX_DECLINED when it is gone meanwhile. */
static ngx_int_t
ngx_http_ticket_keys_row(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_reply_t *rep, tk_tpl_keys_rows_t *row)
{
    ngx_str_t   v[NGX_HTTP_TICKET_KEY_NFIELDS];
    ngx_uint_t  i;
    long long   expires;

    if (rep->type != REDIS_REPLY_ARRAY
        || rep->nelem != NGX_HTTP_TICKET_KEY_NFIELDS
        || rep->element[0].type != REDIS_REPLY_STRING)
    {
        return NGX_DECLINED;
    }

    for (i = 0; i < NGX_HTTP_TICKET_KEY_NFIELDS; i++) {
        ngx_http_ticket_reply_str(&rep->element[i], &v[i]);
    }

    row->fpr = *ngx_ticket_str(&v[0]);
    row->uids = *ngx_ticket_str(&v[1]);
    row->emails = *ngx_ticket_str(&v[2]);
    row->secret = ngx_http_ticket_flag_on(&v[6]);
    expires = tk_str_atoll(ngx_ticket_str(&v[3]));

    if (expires > 0) {
        if (ngx_http_ticket_time_str(r, expires, &row->expires) != NGX_OK) {
            return NGX_ERROR;
        }
    } else {
        ngx_http_ticket_cstr(&row->expires,
                             ngx_http_ticket_msg(ctx, TK_MSG_KEYS_NEVER));
    }

    /* the reader checks the expiry too: mailbridge drops it within
     * seconds, the page must not call it valid meanwhile */
    if (ngx_http_ticket_flag_on(&v[4])) {
        tk_str_set(&row->state, "revoked");
        ngx_http_ticket_cstr(&row->status,
                             ngx_http_ticket_msg(ctx, TK_MSG_KEYS_REVOKED));

    } else if (expires > 0 && expires <= (long long) ngx_time()) {
        tk_str_set(&row->state, "expired");
        ngx_http_ticket_cstr(&row->status,
                             ngx_http_ticket_msg(ctx, TK_MSG_KEYS_EXPIRED));

    } else if (!ngx_http_ticket_flag_on(&v[5])) {
        tk_str_set(&row->state, "unusable");
        ngx_http_ticket_cstr(&row->status,
                             ngx_http_ticket_msg(ctx,
                                                 TK_MSG_KEYS_CANNOT_ENCRYPT));

    } else {
        tk_str_set(&row->state, "valid");
        ngx_http_ticket_cstr(&row->status,
                             ngx_http_ticket_msg(ctx, TK_MSG_KEYS_VALID));
    }

    return NGX_OK;
}


/* tk:pgp:result:ID: pending (not written yet), ok or error. */
static ngx_int_t
ngx_http_ticket_keys_result(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_keys_t *kv)
{
    ngx_str_t       *status, *login;
    tk_tpl_keys_t   *tpl = &kv->tpl;

    status = ngx_http_ticket_reply_field(kv->result, TK_F_PGP_STATUS);
    login = ngx_http_ticket_reply_field(kv->result, TK_F_LOGIN);

    /* another agent's outcome is none of this one's business */
    if (status && !ctx->user.admin
        && (login == NULL || login->len != ctx->user.login.len
            || ngx_strncmp(login->data, ctx->user.login.data, login->len)
               != 0))
    {
        return NGX_OK;
    }

    if (status == NULL) {
        tk_str_set(&tpl->result_status, "pending");
        tk_str_set(&tpl->result_class, "pending");
        tpl->result_pending = 1;
        return NGX_OK;
    }

    if (status->len == 2 && ngx_strncmp(status->data, "ok", 2) == 0) {
        tpl->result_ok = 1;
        tk_str_set(&tpl->result_status, "ok");
        tk_str_set(&tpl->result_class, "ok");
    } else {
        tk_str_set(&tpl->result_status, "error");
        tk_str_set(&tpl->result_class, "error");
    }

    ngx_http_ticket_reply_value(kv->result, TK_F_PGP_MESSAGE,
                                (ngx_str_t *) &tpl->result_message);
    ngx_http_ticket_reply_value(kv->result, TK_F_PGP_FPRS,
                                (ngx_str_t *) &tpl->result_fprs);
    return NGX_OK;
}


/* ?import=T/A/K: the ticket is visible and the part is a key file. */
static ngx_int_t
ngx_http_ticket_keys_confirm(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_keys_t *kv)
{
    ngx_http_ticket_reply_t  *group = kv->att_reply, *att = kv->att_reply + 1;
    tk_tpl_keys_t            *tpl = &kv->tpl;

    if (group->type != REDIS_REPLY_STRING
        || ngx_http_ticket_right(ctx, &group->str) < TK_RIGHT_READ
        || att->type != REDIS_REPLY_ARRAY || att->nelem != 2
        || att->element[1].type != REDIS_REPLY_STRING)
    {
        return NGX_DECLINED;
    }

    tpl->att_confirm = 1;
    ngx_http_ticket_reply_str(&att->element[0], (ngx_str_t *) &tpl->att_name);

    if (ngx_http_ticket_uint_str(r, kv->att[0], &tpl->att_ticket) != NGX_OK
        || ngx_http_ticket_uint_str(r, kv->att[1], &tpl->att_article)
           != NGX_OK
        || ngx_http_ticket_uint_str(r, kv->att[2], &tpl->att_att) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_ticket_keys_body(tk_out_t *out, void *data)
{
    tk_tpl_keys(out, data);
}


/* ---- requests ---------------------------------------------------------- */

static ngx_int_t
ngx_http_ticket_keys_import(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t   text;
    tk_cmds_t  *cmds;

    if (ngx_http_ticket_form_arg(r, ctx, "key", &text) != NGX_OK
        || text.len == 0
        || ngx_strlcasestrn(text.data, text.data + text.len,
                            (u_char *) "-----BEGIN PGP", 14 - 1) == NULL)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                                     ngx_http_ticket_msg(ctx,
                                         TK_MSG_KEYS_PLEASE_PASTE_A_KEY_IN_ASCII));
    }

    if (!ctx->user.admin
        && ngx_strlcasestrn(text.data, text.data + text.len,
                            (u_char *) "PRIVATE KEY BLOCK", 17 - 1) != NULL)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_FORBIDDEN,
                                     ngx_http_ticket_msg(ctx,
                                         TK_MSG_KEYS_ONLY_ADMINS_MAY_IMPORT_SECRET));
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "XADD " TK_KEY_PGP_REQUESTS " * " TK_F_PGP_OP " import "
                TK_F_LOGIN " %S " TK_F_ROLE " %s " TK_F_PGP_TEXT " %S",
                ngx_ticket_str(&ctx->user.login),
                ctx->user.admin ? "admin" : "agent", ngx_ticket_str(&text));

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_keys_queued);
}


static ngx_int_t
ngx_http_ticket_keys_delete(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t   fpr;
    tk_cmds_t  *cmds;
    ngx_uint_t  i;

    if (!ctx->user.admin) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_FORBIDDEN,
                                     ngx_http_ticket_msg(ctx,
                                         TK_MSG_KEYS_ONLY_ADMINS_MAY_DELETE_KEYS));
    }

    if (ngx_http_ticket_form_arg(r, ctx, "fpr", &fpr) != NGX_OK
        || fpr.len != NGX_HTTP_TICKET_FPR_LEN)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL);
    }

    for (i = 0; i < fpr.len; i++) {
        if (!((fpr.data[i] >= '0' && fpr.data[i] <= '9')
              || (fpr.data[i] >= 'A' && fpr.data[i] <= 'F')))
        {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL);
        }
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "XADD " TK_KEY_PGP_REQUESTS " * " TK_F_PGP_OP " delete "
                TK_F_LOGIN " %S " TK_F_ROLE " admin " TK_F_PGP_FPR " %S",
                ngx_ticket_str(&ctx->user.login), ngx_ticket_str(&fpr));

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_keys_queued);
}


/* Import attachment K of article A of ticket T: read its group first. */
static ngx_int_t
ngx_http_ticket_keys_att(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t               *cmds;
    ngx_http_ticket_keys_t  *kv;

    kv = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_keys_t));
    cmds = ngx_http_ticket_cmds(r);
    if (kv == NULL || cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = kv;

    if (ngx_http_ticket_keys_number(r, ctx, "ticket", &kv->att[0]) != NGX_OK
        || ngx_http_ticket_keys_number(r, ctx, "article", &kv->att[1])
           != NGX_OK
        || ngx_http_ticket_keys_number(r, ctx, "att", &kv->att[2]) != NGX_OK
        || kv->att[2] > 100000)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL);
    }

    ngx_http_ticket_keys_att_read(cmds, kv->att);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_keys_att_check);
}


static ngx_int_t
ngx_http_ticket_keys_att_check(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t               *cmds;
    ngx_http_ticket_keys_t  *kv;

    kv = ctx->view;

    if (ctx->nreplies != 2) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    kv->att_reply = ctx->replies;

    /* not visible, not there: the same 404 */
    if (ngx_http_ticket_keys_confirm(r, ctx, kv) != NGX_OK) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "XADD " TK_KEY_PGP_REQUESTS " * " TK_F_PGP_OP
                " import-att " TK_F_LOGIN " %S " TK_F_ROLE " %s " TK_F_TICKET
                " %llu " TK_F_PGP_ARTICLE " %llu " TK_F_PGP_ATT " %llu",
                ngx_ticket_str(&ctx->user.login),
                ctx->user.admin ? "admin" : "agent",
                (unsigned long long) kv->att[0],
                (unsigned long long) kv->att[1],
                (unsigned long long) kv->att[2]);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_keys_queued);
}


/* XADD answered with the entry's id: show its result (pending first). */
static ngx_int_t
ngx_http_ticket_keys_queued(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char     *p;
    ngx_str_t  *id;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_STRING
        || ctx->replies[0].str.len > NGX_HTTP_TICKET_KEYS_ID_MAX)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    id = &ctx->replies[0].str;
    p = ngx_pnalloc(r->pool, sizeof("admin/keys?r=") + id->len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redirect(r, (char *) p,
                                    ngx_sprintf(p, "admin/keys?r=%V", id)
                                    - p);
}


/* ---- helpers ------------------------------------------------------------ */

/* "T/A/K", three positive numbers. */
static ngx_int_t
ngx_http_ticket_keys_att_ref(ngx_str_t *s, uint64_t *out)
{
    u_char      *p = s->data, *end = s->data + s->len;
    ngx_uint_t   i;
    uint64_t     n;

    for (i = 0; i < 3; i++) {
        n = 0;
        if (p == end || *p < '1' || *p > '9') {
            return NGX_ERROR;
        }
        while (p < end && *p >= '0' && *p <= '9') {
            if (n > (UINT64_MAX - 9) / 10) {
                return NGX_ERROR;
            }
            n = n * 10 + (*p++ - '0');
        }
        out[i] = n;
        if (i < 2) {
            if (p == end || *p != '/') {
                return NGX_ERROR;
            }
            p++;
        }
    }

    return (p == end && out[2] <= 100000) ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_ticket_keys_number(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    const char *name, uint64_t *out)
{
    ngx_str_t  v;
    ngx_int_t  n;

    if (ngx_http_ticket_form_arg(r, ctx, name, &v) != NGX_OK) {
        return NGX_ERROR;
    }

    n = ngx_atoi(v.data, v.len);
    if (n <= 0) {
        return NGX_ERROR;
    }

    *out = (uint64_t) n;
    return NGX_OK;
}


/* By user id, so a person's keys stand together. */
static int ngx_libc_cdecl
ngx_http_ticket_keys_cmp(const void *a, const void *b)
{
    const tk_tpl_keys_rows_t  *x = a, *y = b;
    size_t                     n;
    int                        c;

    n = ngx_min(x->uids.len, y->uids.len);
    c = ngx_strncasecmp(x->uids.data, y->uids.data, n);
    if (c) {
        return c;
    }

    return (int) x->uids.len - (int) y->uids.len;
}


/*
 * The reads of an attached key (ticket T, article A, attachment K): the
 * ticket's group (rights) and the attachment's name and type -- for the
 * confirmation page and for the import request alike.
 */
static void
ngx_http_ticket_keys_att_read(tk_cmds_t *cmds, const uint64_t *att)
{
    tk_cmds_add(cmds, "HGET " TK_FMT_TICKET " " TK_F_GROUP,
                (unsigned long long) att[0]);
    tk_cmds_add(cmds, "HMGET " TK_FMT_ATTACHMENT " " TK_F_NAME " "
                TK_F_CONTENT_TYPE, (unsigned long long) att[0],
                (unsigned long long) att[1], (unsigned) att[2]);
}
