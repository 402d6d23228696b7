/*
 * ngx_http_ticket_reqform.c -- the public request form: a location with
 * "ticket; ticket_form on; ticket_form_group NAME;" (docs/directives.md)
 * where anyone may open a ticket without an account.
 *
 *   GET   the form, with a form token (tk:form:tok:T, EXPIRE 1 h)
 *   POST  name, email, subject, message, one optional attachment, the
 *         token and the honeypot "website"
 *
 * Abuse changes nothing: a filled honeypot gets the thank-you page and
 * no write; a missing, used or expired token a 403 with a fresh form;
 * more than ticket_form_rate accepted requests per IP and hour
 * (tk:rl:form:ip:IP) a 429; a field too long or an attachment over
 * ticket_form_attachment_max_size a 422 with the form as sent; a body
 * over the limit a 413 (request.c).  An accepted request is written like
 * inbound mail -- customer, tk_ticket_create, tk_article_write (flag
 * "form"), change feed -- and its confirmation (flag "auto-reply", sent
 * with Auto-Submitted: auto-replied) is queued in the outbox, all in one
 * MULTI.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_casework.h"
#include "tk_addr.h"
#include "tk_feed.h"
#include "tk_multipart.h"
#include "tk_outbox.h"
#include "tk_ticket.h"
#include "tk_tpl.h"


#define NGX_RF_TOKEN_BYTES   16
#define NGX_RF_NAME_MAX      100
#define NGX_RF_SUBJECT_MAX   200

/* replies of the check batch */
#define NGX_RF_R_TOKEN       0
#define NGX_RF_R_RATE        1
#define NGX_RF_R_CUSTOMER    2
#define NGX_RF_R_GROUP       3


typedef struct {
    tk_tpl_reqform_t           tpl;
    ngx_uint_t                 status;
    ngx_str_t                  token, name, email, subject, message;
    ngx_str_t                  lemail;          /* lower case */
    tk_part_t                 *file;            /* or NULL */
    ngx_str_t                  file_name;       /* cleaned */
    ngx_str_t                  ip;
    ngx_http_ticket_reply_t   *group;
    uint64_t                   customer;        /* known one, or 0 */
    uint64_t                   number, in, out, new_customer;
} ngx_http_ticket_rf_t;


static ngx_int_t ngx_http_ticket_rf_show(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_rf_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_rf_fields(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_rf_t *rf);
static ngx_int_t ngx_http_ticket_rf_checked(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_rf_ids(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_rf_write(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, tk_cmds_t *cmds);
static ngx_int_t ngx_http_ticket_rf_confirmation(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_rf_t *rf, tk_article_t *a);
static ngx_int_t ngx_http_ticket_rf_done(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_rf_body(tk_out_t *out, void *data);


ngx_int_t
ngx_http_ticket_reqform(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t              hp;
    tk_cmds_t             *cmds;
    ngx_http_ticket_rf_t  *rf;

    rf = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_rf_t));
    if (rf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    rf->status = NGX_HTTP_OK;
    rf->ip = r->connection->addr_text;
    rf->tpl.de = ngx_http_ticket_page_de(r, ctx) ? 1 : 0;
    ctx->view = rf;

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        return ngx_http_ticket_rf_show(r, ctx);
    }

    if (r->method != NGX_HTTP_POST
        || ngx_http_ticket_multipart(r, ctx) == NGX_ERROR)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL);
    }

    /* robots fill every field: thank them, write nothing */
    ngx_http_ticket_form_value(r, ctx, "website", &hp);
    if (hp.len) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ticket: request form honeypot filled from %V", &rf->ip);
        rf->tpl.done = 1;
        return ngx_http_ticket_rf_render(r, ctx);
    }

    if (ngx_http_ticket_rf_fields(r, ctx, rf) != NGX_OK) {
        rf->status = 422;
        return ngx_http_ticket_rf_show(r, ctx);
    }

    if (!ngx_http_ticket_is_hex(&rf->token, 2 * NGX_RF_TOKEN_BYTES)) {
        rf->status = NGX_HTTP_FORBIDDEN;
        ngx_http_ticket_cstr(&rf->tpl.refused, rf->tpl.de
            ? "Das Formular ist abgelaufen. Bitte sende es noch einmal."
            : "The form has expired. Please send it again.");
        return ngx_http_ticket_rf_show(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the token once, the IP's count, the customer, the group */
    tk_cmds_add(cmds, "GETDEL " TK_FMTS_FORM_TOKEN, ngx_ticket_str(&rf->token));
    tk_cmds_add(cmds, "GET " TK_FMTS_RL_FORM_IP, ngx_ticket_str(&rf->ip));
    tk_cmds_add(cmds, "HGET " TK_KEY_CUSTOMER_BY_EMAIL " %S",
                ngx_ticket_str(&rf->lemail));
    {
        ngx_http_ticket_loc_conf_t  *lcf;

        lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);
        tk_cmds_add(cmds, "HGETALL " TK_FMTS_GROUP,
                    ngx_ticket_str(&lcf->form_group));
    }
    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_rf_checked);
}


/* ---- the form ----------------------------------------------------------- */

/* A fresh token (SET ... EX NX), then the page. */
static ngx_int_t
ngx_http_ticket_rf_show(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t              token;
    tk_cmds_t             *cmds;
    ngx_http_ticket_rf_t  *rf = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL
        || ngx_http_ticket_random_hex(r, NGX_RF_TOKEN_BYTES, &token) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    rf->tpl.token = *ngx_ticket_str(&token);

    tk_cmds_add(cmds, "SET " TK_FMTS_FORM_TOKEN " 1 EX %d NX",
                ngx_ticket_str(&token), TK_FORM_TOKEN_TTL);
    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_rf_render);
}


static ngx_int_t
ngx_http_ticket_rf_render(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                      *p;
    ngx_str_t                    title;
    ngx_http_ticket_rf_t        *rf = ctx->view;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    rf->tpl.action = *ngx_ticket_str(&r->uri);
    rf->tpl.f_name = *ngx_ticket_str(&rf->name);
    rf->tpl.f_email = *ngx_ticket_str(&rf->email);
    rf->tpl.f_subject = *ngx_ticket_str(&rf->subject);
    rf->tpl.f_message = *ngx_ticket_str(&rf->message);

    p = ngx_pnalloc(r->pool, NGX_SIZE_T_LEN + 4);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    rf->tpl.file_max.data = p;
    rf->tpl.file_max.len = ngx_sprintf(p, "%uz MB",
                                       (lcf->form_file_max + 1024 * 1024 - 1)
                                       / (1024 * 1024)) - p;

    if (rf->tpl.de) {
        ngx_str_set(&title, "Anfrage stellen");
    } else {
        ngx_str_set(&title, "Send a request");
    }

    return ngx_http_ticket_page(r, ctx, rf->status, &title,
                                ngx_http_ticket_rf_body, &rf->tpl);
}


static void
ngx_http_ticket_rf_body(tk_out_t *out, void *data)
{
    tk_tpl_reqform(out, data);
}


/* The fields as sent, checked; the messages go next to them. */
static ngx_int_t
ngx_http_ticket_rf_fields(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_rf_t *rf)
{
    u_char                      *p;
    size_t                       i;
    ngx_int_t                    rc = NGX_OK, n;
    tk_part_t                   *up;
    tk_tpl_reqform_t            *tpl = &rf->tpl;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    ngx_http_ticket_form_value(r, ctx, "token", &rf->token);
    ngx_http_ticket_form_value(r, ctx, "name", &rf->name);
    ngx_http_ticket_form_value(r, ctx, "email", &rf->email);
    ngx_http_ticket_form_value(r, ctx, "subject", &rf->subject);
    ngx_http_ticket_form_value(r, ctx, "message", &rf->message);
    ngx_http_ticket_trim(&rf->name);
    ngx_http_ticket_trim(&rf->email);
    ngx_http_ticket_trim(&rf->subject);

    n = ngx_http_ticket_text_chars(&rf->name, 0);
    if (n < 1 || n > NGX_RF_NAME_MAX
        || ngx_strlchr(rf->name.data, rf->name.data + rf->name.len, '"')
        || ngx_strlchr(rf->name.data, rf->name.data + rf->name.len, '\\')
        || ngx_strlchr(rf->name.data, rf->name.data + rf->name.len, '<'))
    {
        ngx_http_ticket_cstr(&tpl->err_name,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_REQFORM_PLEASE_GIVE_A_NAME_AT_MOST));
        rc = NGX_DECLINED;
    }

    if (!ngx_http_ticket_valid_email(&rf->email)
        || !tk_addr_valid(rf->email.data, rf->email.len))
    {
        ngx_http_ticket_cstr(&tpl->err_email,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_REQFORM_PLEASE_GIVE_A_VALID_EMAIL));
        rc = NGX_DECLINED;
    }

    n = ngx_http_ticket_text_chars(&rf->subject, 0);
    if (n < 1 || n > NGX_RF_SUBJECT_MAX) {
        ngx_http_ticket_cstr(&tpl->err_subject,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_REQFORM_PLEASE_GIVE_A_SUBJECT_AT_MOST));
        rc = NGX_DECLINED;
    }

    n = ngx_http_ticket_text_chars(&rf->message, 1);
    if (n < 1 || rf->message.len > TK_FORM_MESSAGE_MAX) {
        ngx_http_ticket_cstr(&tpl->err_message,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_REQFORM_PLEASE_WRITE_A_MESSAGE_AT));
        rc = NGX_DECLINED;
    }

    if (ctx->uploads && ctx->uploads->nelts) {
        up = ctx->uploads->elts;
        if (ctx->uploads->nelts > 1 || up[0].data.len > lcf->form_file_max
            || up[0].data.len == 0)
        {
            ngx_http_ticket_cstr(&tpl->err_attachment,
                                 ngx_http_ticket_msg(ctx,
                                     TK_MSG_REQFORM_ONE_ATTACHMENT_NOT_EMPTY_AND));
            rc = NGX_DECLINED;
        } else {
            rf->file = &up[0];
            p = ngx_pnalloc(r->pool, TK_FILENAME_MAX + 16);
            if (p == NULL) {
                return NGX_ERROR;
            }
            rf->file_name.data = p;
            rf->file_name.len = tk_filename_clean(p, &up[0].filename);
            if (rf->file_name.len == 0) {
                ngx_str_set(&rf->file_name, "attachment");
            }
        }
    }

    rf->lemail.data = ngx_pnalloc(r->pool, rf->email.len + 1);
    if (rf->lemail.data == NULL) {
        return NGX_ERROR;
    }
    rf->lemail.len = rf->email.len;
    for (i = 0; i < rf->email.len; i++) {
        rf->lemail.data[i] = ngx_tolower(rf->email.data[i]);
    }

    return rc;
}


/* ---- the request -------------------------------------------------------- */

static ngx_int_t
ngx_http_ticket_rf_checked(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                   *cmds;
    ngx_http_ticket_rf_t        *rf = ctx->view;
    ngx_http_ticket_reply_t     *rep = ctx->replies;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    if (ctx->nreplies != 4) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rep[NGX_RF_R_TOKEN].type != REDIS_REPLY_STRING) {
        rf->status = NGX_HTTP_FORBIDDEN;
        ngx_http_ticket_cstr(&rf->tpl.refused, rf->tpl.de
            ? "Das Formular ist abgelaufen oder wurde schon gesendet. Bitte "
              "sende es noch einmal."
            : "The form has expired or was sent already. Please send it "
              "again.");
        return ngx_http_ticket_rf_show(r, ctx);
    }

    if (rep[NGX_RF_R_RATE].type == REDIS_REPLY_STRING
        && (ngx_uint_t) tk_str_atoll(ngx_ticket_str(&rep[NGX_RF_R_RATE].str))
           >= lcf->form_rate)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ticket: request form rate limit for %V", &rf->ip);
        rf->status = 429;
        rf->tpl.blocked = 1;
        ngx_http_ticket_cstr(&rf->tpl.refused, rf->tpl.de
            ? "Von hier kamen in der letzten Stunde schon viele Anfragen. "
              "Bitte versuche es später noch einmal oder schreib uns eine "
              "E-Mail."
            : "Many requests came from here in the last hour. Please try "
              "again later or write us an email.");
        return ngx_http_ticket_rf_render(r, ctx);
    }

    rf->group = &rep[NGX_RF_R_GROUP];
    if (rf->group->type != REDIS_REPLY_ARRAY || rf->group->nelem < 2) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: ticket_form_group \"%V\" does not exist",
                      &lcf->form_group);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     NULL);
    }

    if (rep[NGX_RF_R_CUSTOMER].type == REDIS_REPLY_STRING) {
        rf->customer = (uint64_t) tk_str_atoll(
                           ngx_ticket_str(&rep[NGX_RF_R_CUSTOMER].str));
    }

    /* ids outside the transaction (gaps are harmless), the IP's count */
    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    tk_cmds_add(cmds, "INCR " TK_KEY_SEQ_TICKET);
    tk_cmds_add(cmds, "INCRBY " TK_KEY_SEQ_ARTICLE " 2");
    tk_cmds_add(cmds, rf->customer ? "ECHO 0" : "INCR " TK_KEY_SEQ_CUSTOMER);
    tk_cmds_add(cmds, "INCR " TK_FMTS_RL_FORM_IP, ngx_ticket_str(&rf->ip));
    tk_cmds_add(cmds, "EXPIRE " TK_FMTS_RL_FORM_IP " %d NX",
                ngx_ticket_str(&rf->ip), TK_FORM_RL_WINDOW);
    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds, ngx_http_ticket_rf_ids);
}


static ngx_int_t
ngx_http_ticket_rf_ids(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t             *cmds;
    ngx_http_ticket_rf_t  *rf = ctx->view;

    if (ctx->nreplies != 5 || ctx->replies[0].type != REDIS_REPLY_INTEGER
        || ctx->replies[1].type != REDIS_REPLY_INTEGER)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rf->number = (uint64_t) ctx->replies[0].integer;
    rf->out = (uint64_t) ctx->replies[1].integer;
    rf->in = rf->out - 1;
    if (rf->customer == 0) {
        if (ctx->replies[2].type != REDIS_REPLY_INTEGER) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        rf->new_customer = (uint64_t) ctx->replies[2].integer;
        rf->customer = rf->new_customer;
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_ticket_rf_write(r, ctx, cmds) != NGX_OK || cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds, ngx_http_ticket_rf_done);
}


/* One MULTI: customer, ticket, the request, its confirmation queued. */
static ngx_int_t
ngx_http_ticket_rf_write(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    tk_cmds_t *cmds)
{
    char                         key[TK_KEY_MAX];
    size_t                       len;
    int64_t                      now = (int64_t) ngx_time();
    ngx_str_t                    gemail;
    tk_ticket_t                  t;
    tk_article_t                 a;
    ngx_http_ticket_rf_t        *rf = ctx->view;
    ngx_http_ticket_loc_conf_t  *lcf;
    static const tk_str_t        flag = tk_string(TK_FLAG_FORM);

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);
    ngx_http_ticket_reply_value(rf->group, TK_F_EMAIL, &gemail);

    tk_cmds_multi(cmds);
    /* the feed's actor, as for inbound mail: the sender's address */
    tk_cmds_actor(cmds, ngx_ticket_str(&rf->lemail), TK_SRC_WEB);

    if (rf->new_customer) {
        tk_customer_write(cmds, rf->customer, ngx_ticket_str(&rf->name),
                          ngx_ticket_str(&rf->lemail));
    }

    ngx_memzero(&t, sizeof(t));
    t.number = rf->number;
    t.title = *ngx_ticket_str(&rf->subject);
    t.group = *ngx_ticket_str(&lcf->form_group);
    t.customer = rf->customer;
    t.customer_name = *ngx_ticket_str(&rf->name);
    t.customer_email = *ngx_ticket_str(&rf->lemail);
    t.state = TK_STATE_NEW;
    t.priority = TK_PRIO_NORMAL;
    t.created = now;
    t.updated = now;
    tk_ticket_create(cmds, &t, NULL);

    ngx_memzero(&a, sizeof(a));
    a.id = rf->in;
    a.ticket = rf->number;
    a.kind = TK_ART_IN;
    a.to = *ngx_ticket_str(&gemail);
    a.subject = t.title;
    a.body = *ngx_ticket_str(&rf->message);
    a.time = now;
    a.flags = flag;
    a.size = rf->message.len + (rf->file ? rf->file->data.len : 0);
    a.from.data = ngx_pnalloc(r->pool, rf->name.len + rf->lemail.len + 8);
    if (a.from.data == NULL) {
        return NGX_ERROR;
    }
    a.from.len = ngx_sprintf(a.from.data, "\"%V\" <%V>", &rf->name,
                             &rf->lemail) - a.from.data;
    if (rf->file) {
        a.attachments = 1;
        a.attachment_names = *ngx_ticket_str(&rf->file_name);
    }
    tk_article_write(cmds, &a, &t.group);

    if (rf->file) {
        len = tk_key_attachment(key, sizeof(key), rf->number, rf->in, 1);
        if (len == 0) {
            return NGX_ERROR;
        }
        tk_cmds_add(cmds, "HSET %b " TK_F_NAME " %S " TK_F_CONTENT_TYPE
                    " %s " TK_F_SIZE " %zu " TK_F_CONTENT_ID " %s "
                    TK_F_DISPOSITION " attachment " TK_F_DATA " %S", key, len,
                    &rf->file_name, "application/octet-stream",
                    rf->file->data.len, "", &rf->file->data);
    }

    if (gemail.len && ngx_http_ticket_rf_confirmation(r, ctx, rf, &a)
                      == NGX_OK)
    {
        tk_article_write(cmds, &a, &t.group);
        tk_outbox_enqueue(cmds, rf->number, rf->out, now);
    }

    tk_cmds_exec(cmds);
    return NGX_OK;
}


/* The confirmation: from the group, to the sender, the ticket number in
 * subject and text, threaded by our Message-ID. */
static ngx_int_t
ngx_http_ticket_rf_confirmation(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_rf_t *rf, tk_article_t *a)
{
    u_char                      *p, *at;
    ngx_str_t                    gemail, gname, rnd;
    ngx_http_ticket_loc_conf_t  *lcf;
    static const tk_str_t        flag = tk_string(TK_FLAG_AUTO_REPLY);

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);
    ngx_http_ticket_reply_value(rf->group, TK_F_EMAIL, &gemail);
    ngx_http_ticket_reply_value(rf->group, TK_F_DISPLAY_NAME, &gname);
    if (gname.len == 0) {
        gname = lcf->form_group;
    }
    at = ngx_strlchr(gemail.data, gemail.data + gemail.len, '@');
    if (at == NULL || tk_has_ctrl(ngx_ticket_str(&gname))
        || ngx_http_ticket_random_hex(r, 12, &rnd) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    a->id = rf->out;
    a->kind = TK_ART_OUT;
    a->attachments = 0;
    ngx_str_null((ngx_str_t *) &a->attachment_names);
    a->flags = flag;
    a->to = a->from;
    a->size = 0;

    p = ngx_pnalloc(r->pool, gname.len + gemail.len + 8);
    if (p == NULL) {
        return NGX_ERROR;
    }
    a->from.data = p;
    a->from.len = ngx_sprintf(p, "\"%V\" <%V>", &gname, &gemail) - p;

    p = ngx_pnalloc(r->pool, rf->subject.len + lcf->subject_tag.len + 64);
    if (p == NULL) {
        return NGX_ERROR;
    }
    a->subject.data = p;
    a->subject.len = ngx_sprintf(p, "[%V%uL] %s: %V", &lcf->subject_tag,
                                 rf->number,
                                     ngx_http_ticket_msg(ctx,
                                         TK_MSG_REQFORM_RECEIVED), &rf->subject) - p;

    p = ngx_pnalloc(r->pool, rf->name.len + 700);
    if (p == NULL) {
        return NGX_ERROR;
    }
    a->body.data = p;
    a->body.len = ngx_sprintf(p,
                              ngx_http_ticket_msg(ctx,
                                  TK_MSG_REQFORM_HELLO_V_WE_HAVE_RECEIVED_YOUR),
        &rf->name, rf->number, &lcf->subject_tag, rf->number) - p;

    p = ngx_pnalloc(r->pool, 2 * NGX_INT64_LEN + rnd.len
                             + (gemail.data + gemail.len - at) + 8);
    if (p == NULL) {
        return NGX_ERROR;
    }
    a->message_id.data = p;
    a->message_id.len = ngx_sprintf(p, "tk.%uL.%uL.%V%*s", rf->number,
                                    rf->out, &rnd,
                                    (size_t) (gemail.data + gemail.len - at),
                                    at) - p;

    (void) ctx;
    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_rf_done(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_rf_t  *rf = ctx->view;

    if (ctx->nreplies == 0
        || ctx->replies[ctx->nreplies - 1].type != REDIS_REPLY_ARRAY)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: request form: the transaction failed");
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "ticket: request form: ticket %uL from %V", rf->number,
                  &rf->ip);

    rf->tpl.done = 1;
    if (ngx_http_ticket_uint_str(r, rf->number, &rf->tpl.number) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    rf->status = NGX_HTTP_OK;

    return ngx_http_ticket_rf_render(r, ctx);
}
