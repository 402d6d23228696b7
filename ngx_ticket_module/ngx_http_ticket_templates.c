/*
 * ngx_http_ticket_templates.c -- ticket templates (SCHEMA.md "Text
 * modules and templates"):
 *
 *   GET  /admin/templates[?edit=ID]   list + form (admins; admin.c checks)
 *   POST /admin/templates/save        id (empty: new) and the fields
 *   POST /admin/templates/delete      id
 *   GET  /api/v1/templates            every template as JSON, for all
 *
 * A template prefills group, state, priority, subject, text and customer
 * of a new ticket ("send email") and subject and text of a ticket page's
 * composer (/t/N?template=ID, ngx_http_ticket_template_prefill()).
 * Checked before it is saved: the group exists, state and priority are
 * names, the customer is an address; otherwise a 422 with the form.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_casework.h"
#include "ngx_http_ticket_compose.h"
#include "ngx_http_ticket_view.h"
#include "tk_tpl.h"


#define NGX_TP_NF      7                 /* fields after the id */
#define NGX_TP_W       (NGX_TP_NF + 1)   /* replies per template */


/* the form's fields in SORT's order (tk_template_sort) */
static const char *const  ngx_http_ticket_tp_fields[NGX_TP_NF] = {
    TK_F_TPL_NAME, TK_F_TPL_GROUP, TK_F_TPL_STATE, TK_F_TPL_PRIORITY,
    TK_F_TPL_SUBJECT, TK_F_TPL_BODY, TK_F_TPL_CUSTOMER
};

#define NGX_TP_NAME      0
#define NGX_TP_GROUP     1
#define NGX_TP_STATE     2
#define NGX_TP_PRIORITY  3
#define NGX_TP_SUBJECT   4
#define NGX_TP_BODY      5
#define NGX_TP_CUSTOMER  6


typedef struct {
    ngx_http_ticket_list_req_t  req;            /* first: list.c */
    tk_tpl_tickettpls_t        tpl;
    ngx_uint_t                 status;
    ngx_str_t                  f[NGX_TP_NF];
    ngx_http_ticket_reply_t   *list;
} ngx_http_ticket_tp_t;


static ngx_int_t ngx_http_ticket_tp_load(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_tp_loaded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_tp_check(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_tp_t *tp, ngx_http_ticket_reply_t *groups);
static ngx_int_t ngx_http_ticket_tp_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_tp_form(tk_tpl_tickettpls_t *tpl, ngx_str_t *f);
static ngx_int_t ngx_http_ticket_tp_write(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_tp_api_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_tp_body(tk_out_t *out, void *data);


ngx_int_t
ngx_http_ticket_templates(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_tp_t  *tp;

    tp = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_tp_t));
    if (tp == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    tp->req.prefix = "admin/templates";
    tp->status = NGX_HTTP_OK;
    ctx->page = "admin";
    ctx->view = tp;

    return ngx_http_ticket_list_request(r, ctx, ngx_http_ticket_tp_load);
}


/* ---- reading ------------------------------------------------------------ */

/* A POST's fields, then the list to check them against. */
static ngx_int_t
ngx_http_ticket_tp_load(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t             i;
    tk_cmds_t             *cmds;
    ngx_http_ticket_tp_t  *tp = ctx->view;

    for (i = 0; tp->req.op != NGX_HTTP_TICKET_LIST_SHOW && i < NGX_TP_NF;
         i++)
    {
        ngx_http_ticket_form_value(r, ctx, ngx_http_ticket_tp_fields[i],
                                   &tp->f[i]);
        if (i != NGX_TP_BODY) {
            ngx_http_ticket_trim(&tp->f[i]);
        }
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_template_sort(cmds);
    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_GROUPS);
    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_tp_loaded);
}


static ngx_int_t
ngx_http_ticket_tp_loaded(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t             i;
    ngx_flag_t             found = 0;
    ngx_http_ticket_tp_t  *tp = ctx->view;

    if (ctx->nreplies != 2 || ctx->replies[0].type != REDIS_REPLY_ARRAY) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }
    tp->list = &ctx->replies[0];

    if (tp->req.op == NGX_HTTP_TICKET_LIST_SHOW) {
        return ngx_http_ticket_tp_render(r, ctx);
    }

    for (i = 0; tp->req.id.len && i + NGX_TP_W - 1 < tp->list->nelem;
         i += NGX_TP_W)
    {
        found |= tp->list->element[i].str.len == tp->req.id.len
                 && ngx_strncmp(tp->list->element[i].str.data, tp->req.id.data,
                                tp->req.id.len) == 0;
    }
    if (tp->req.id.len && !found) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (tp->req.op == NGX_HTTP_TICKET_LIST_SAVE
        && ngx_http_ticket_tp_check(ctx, tp, &ctx->replies[1]) != NGX_OK)
    {
        tp->status = 422;
        return ngx_http_ticket_tp_render(r, ctx);
    }

    return ngx_http_ticket_list_save(r, ctx, TK_KEY_SEQ_TEMPLATE,
                                     ngx_http_ticket_tp_write);
}


static ngx_int_t
ngx_http_ticket_tp_check(ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_tp_t *tp,
    ngx_http_ticket_reply_t *groups)
{
    ngx_int_t             rc = NGX_OK;
    tk_tpl_tickettpls_t  *tpl = &tp->tpl;
    ngx_str_t            *f = tp->f;

    if (ngx_http_ticket_text_chars(&f[NGX_TP_NAME], 0) < 1
        || f[NGX_TP_NAME].len > TK_TEXTMOD_NAME_MAX)
    {
        ngx_http_ticket_cstr(&tpl->err_name,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_TEMPLATES_A_NAME_AT_MOST_100_CHARACTERS));
        rc = NGX_DECLINED;
    }
    if (f[NGX_TP_GROUP].len && !ngx_http_ticket_set_has(groups,
                                                        &f[NGX_TP_GROUP]))
    {
        ngx_http_ticket_cstr(&tpl->err_group,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_TEMPLATES_NO_SUCH_GROUP));
        rc = NGX_DECLINED;
    }
    if (f[NGX_TP_STATE].len
        && tk_state_parse((const char *) f[NGX_TP_STATE].data,
                          f[NGX_TP_STATE].len) == 0)
    {
        ngx_http_ticket_cstr(&tpl->err_state,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_TEMPLATES_NEW_OPEN_WAITING_REMINDER));
        rc = NGX_DECLINED;
    }
    if (f[NGX_TP_PRIORITY].len
        && tk_prio_parse((const char *) f[NGX_TP_PRIORITY].data,
                         f[NGX_TP_PRIORITY].len) == 0)
    {
        ngx_http_ticket_cstr(&tpl->err_priority,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_TEMPLATES_LOW_NORMAL_HIGH_OR_URGENT));
        rc = NGX_DECLINED;
    }
    if (f[NGX_TP_CUSTOMER].len
        && !ngx_http_ticket_valid_email(&f[NGX_TP_CUSTOMER]))
    {
        ngx_http_ticket_cstr(&tpl->err_customer,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_COMMON_NOT_A_VALID_ADDRESS));
        rc = NGX_DECLINED;
    }
    if (ngx_http_ticket_text_chars(&f[NGX_TP_SUBJECT], 0) < 0
        || f[NGX_TP_SUBJECT].len > 998)
    {
        ngx_http_ticket_cstr(&tpl->err_subject,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_TEMPLATES_ONE_LINE_OF_TEXT));
        rc = NGX_DECLINED;
    }
    if (ngx_http_ticket_text_chars(&f[NGX_TP_BODY], 1) < 0
        || f[NGX_TP_BODY].len > TK_TEXTMOD_BODY_MAX)
    {
        ngx_http_ticket_cstr(&tpl->err_body,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_TEMPLATES_TEXT_AT_MOST_20000_BYTES));
        rc = NGX_DECLINED;
    }

    return rc;
}


/* ---- the page ----------------------------------------------------------- */

static ngx_int_t
ngx_http_ticket_tp_render(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                      *p;
    ngx_str_t                    title, f[NGX_TP_NF];
    ngx_uint_t                   i, k, n;
    tk_tpl_tickettpls_t         *tpl;
    tk_tpl_tickettpls_rows_t    *row;
    ngx_http_ticket_reply_t     *e;
    ngx_http_ticket_tp_t        *tp = ctx->view;

    tpl = &tp->tpl;
    tpl->de = ngx_http_ticket_lang_de(ctx);
    tpl->csrf = *ngx_ticket_str(&ctx->csrf);
    ngx_http_ticket_cstr(&tpl->ph_customer, "{{customer.name}}");
    ngx_http_ticket_cstr(&tpl->ph_number, "{{ticket.number}}");
    ngx_http_ticket_cstr(&tpl->ph_agent, "{{agent.name}}");
    ngx_http_ticket_cstr(&tpl->ph_group, "{{group.name}}");

    n = tp->list->nelem / NGX_TP_W;
    row = ngx_pcalloc(r->pool, (n + 1) * sizeof(*row));
    if (row == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    tpl->rows = row;
    e = tp->list->element;

    for (i = 0; i + NGX_TP_W - 1 < tp->list->nelem; i += NGX_TP_W) {
        if (e[i + 1].type != REDIS_REPLY_STRING) {
            continue;
        }
        row->id = *ngx_ticket_str(&e[i].str);
        row->name = *ngx_ticket_str(&e[i + 1 + NGX_TP_NAME].str);
        row->group = *ngx_ticket_str(&e[i + 1 + NGX_TP_GROUP].str);
        row->subject = *ngx_ticket_str(&e[i + 1 + NGX_TP_SUBJECT].str);
        p = ngx_pnalloc(r->pool, sizeof("admin/templates?edit=") + 20);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        if (ngx_http_ticket_url(r, (char *) p,
                                ngx_sprintf(p, "admin/templates?edit=%V",
                                            &e[i].str) - p,
                                &row->edit_url) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        if (tp->req.op == NGX_HTTP_TICKET_LIST_SHOW && tp->req.edit.len == e[i].str.len
            && ngx_strncmp(tp->req.edit.data, e[i].str.data, tp->req.edit.len) == 0)
        {
            for (k = 0; k < NGX_TP_NF; k++) {
                ngx_http_ticket_reply_str(&e[i + 1 + k], &f[k]);
            }
            tpl->f_id = *ngx_ticket_str(&e[i].str);
            ngx_http_ticket_tp_form(tpl, f);
        }
        row++;
        tpl->rows_n++;
    }

    if (tp->req.op == NGX_HTTP_TICKET_LIST_SAVE) {
        tpl->f_id = *ngx_ticket_str(&tp->req.id);
        ngx_http_ticket_tp_form(tpl, tp->f);
    }

    if (ngx_http_ticket_url(r, "admin/templates/save",
                            sizeof("admin/templates/save") - 1,
                            &tpl->save_url) != NGX_OK
        || ngx_http_ticket_url(r, "admin/templates/delete",
                               sizeof("admin/templates/delete") - 1,
                               &tpl->delete_url) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    title.data = (u_char *) ngx_http_ticket_msg(ctx,
                                                TK_MSG_COMMON_TICKET_TEMPLATES);
    title.len = ngx_strlen(title.data);

    return ngx_http_ticket_page(r, ctx, tp->status, &title,
                                ngx_http_ticket_tp_body, tpl);
}


static void
ngx_http_ticket_tp_form(tk_tpl_tickettpls_t *tpl, ngx_str_t *f)
{
    tpl->f_name = *ngx_ticket_str(&f[NGX_TP_NAME]);
    tpl->f_group = *ngx_ticket_str(&f[NGX_TP_GROUP]);
    tpl->f_state = *ngx_ticket_str(&f[NGX_TP_STATE]);
    tpl->f_priority = *ngx_ticket_str(&f[NGX_TP_PRIORITY]);
    tpl->f_subject = *ngx_ticket_str(&f[NGX_TP_SUBJECT]);
    tpl->f_body = *ngx_ticket_str(&f[NGX_TP_BODY]);
    tpl->f_customer = *ngx_ticket_str(&f[NGX_TP_CUSTOMER]);
}


static void
ngx_http_ticket_tp_body(tk_out_t *out, void *data)
{
    tk_tpl_tickettpls(out, data);
}


/* ---- changes ------------------------------------------------------------ */

static ngx_int_t
ngx_http_ticket_tp_write(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t             *cmds;
    tk_template_t          t;
    ngx_http_ticket_tp_t  *tp = ctx->view;

    if (ngx_http_ticket_list_new_id(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_multi(cmds);
    if (tp->req.op == NGX_HTTP_TICKET_LIST_SAVE) {
        t.name = *ngx_ticket_str(&tp->f[NGX_TP_NAME]);
        t.group = *ngx_ticket_str(&tp->f[NGX_TP_GROUP]);
        t.state = *ngx_ticket_str(&tp->f[NGX_TP_STATE]);
        t.priority = *ngx_ticket_str(&tp->f[NGX_TP_PRIORITY]);
        t.subject = *ngx_ticket_str(&tp->f[NGX_TP_SUBJECT]);
        t.body = *ngx_ticket_str(&tp->f[NGX_TP_BODY]);
        t.customer = *ngx_ticket_str(&tp->f[NGX_TP_CUSTOMER]);
        tk_template_write(cmds, ngx_ticket_str(&tp->req.id), &t,
                          (int64_t) ngx_time());
    } else {
        tk_template_delete(cmds, ngx_ticket_str(&tp->req.id));
    }
    tk_cmds_exec(cmds);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds, ngx_http_ticket_list_done);
}


/* ---- GET /api/v1/templates ---------------------------------------------- */

ngx_int_t
ngx_http_ticket_templates_api(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t  *cmds;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_template_sort(cmds);
    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_tp_api_send);
}


/* Raw templates (placeholders unfilled: the page that uses one fills
 * them, it knows the ticket). */
static ngx_int_t
ngx_http_ticket_tp_api_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_out_t                  out;
    ngx_str_t                 v;
    ngx_uint_t                i, k, n = 0;
    ngx_http_ticket_reply_t  *list, *e;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_ARRAY
        || ngx_http_ticket_out_init(r, &out) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    list = &ctx->replies[0];
    e = list->element;
    tk_out_cstr(&out, "{\"templates\":[");

    for (i = 0; i + NGX_TP_W - 1 < list->nelem; i += NGX_TP_W) {
        if (e[i + 1].type != REDIS_REPLY_STRING) {
            continue;
        }
        tk_out_cstr(&out, n++ ? ",{\"id\":" : "{\"id\":");
        tk_out_raw(&out, e[i].str.data, e[i].str.len);
        for (k = 0; k < NGX_TP_NF; k++) {
            ngx_http_ticket_reply_str(&e[i + 1 + k], &v);
            tk_out_cstr(&out, ",\"");
            tk_out_cstr(&out, ngx_http_ticket_tp_fields[k]);
            tk_out_cstr(&out, "\":");
            if (v.len == 0 && k != NGX_TP_SUBJECT && k != NGX_TP_BODY) {
                tk_out_cstr(&out, "null");
            } else {
                tk_out_json(&out, v.data, v.len);
            }
        }
        tk_out_cstr(&out, "}");
    }

    tk_out_cstr(&out, "]}\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}


/* ---- the ticket page's composer ----------------------------------------- */

/* tpl's subject (body) := the template's, filled; body keeps what the
 * composer had (the quote) below it. */
static ngx_int_t
ngx_http_ticket_tp_fill(ngx_http_request_t *r, tk_textmod_vars_t *vars,
    ngx_str_t *text, tk_str_t *dst, tk_str_t *below)
{
    u_char  *p;
    size_t   len, extra;

    extra = below && below->len ? below->len + 2 : 0;
    len = tk_textmod_fill(NULL, 0, ngx_ticket_str(text), vars);
    p = ngx_pnalloc(r->pool, len + extra + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    len = tk_textmod_fill(p, len, ngx_ticket_str(text), vars);
    if (extra) {
        p[len++] = '\n';
        p[len++] = '\n';
        ngx_memcpy(p + len, below->data, below->len);
        len += below->len;
    }

    dst->data = p;
    dst->len = len;
    return NGX_OK;
}


/* the template's state becomes the composer's "state afterwards" */
static void
ngx_http_ticket_tp_state(tk_tpl_compose_t *tpl, ngx_http_ticket_reply_t *v)
{
    ngx_int_t   state;
    ngx_uint_t  k;
    ngx_str_t   s;

    ngx_http_ticket_reply_str(v, &s);
    state = s.len ? tk_state_parse((const char *) s.data, s.len) : 0;
    for (k = 0; state && k < tpl->state_opts_n; k++) {
        tpl->state_opts[k].selected = (ngx_int_t) (k + 1) == state;
    }
}


ngx_int_t
ngx_http_ticket_template_prefill(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, void *view, ngx_http_ticket_compose_t *c,
    ngx_http_ticket_reply_t *templates, ngx_http_ticket_reply_t *chosen,
    void *compose_tpl)
{
    u_char                         *p;
    ngx_str_t                       want, subject, body;
    ngx_uint_t                      i, n;
    tk_textmod_vars_t               vars;
    tk_tpl_compose_t               *tpl = compose_tpl;
    tk_tpl_compose_templates_t     *opt;
    ngx_http_ticket_reply_t        *e;
    ngx_http_ticket_view_t         *v = view;

    /* textmod.js asks here, with the ticket for the placeholders */
    p = ngx_pnalloc(r->pool, sizeof("text-modules.json?ticket=")
                             + NGX_INT64_LEN);
    if (p == NULL
        || ngx_http_ticket_url(r, (char *) p,
                               ngx_sprintf(p, "text-modules.json?ticket=%uL",
                                           v->number) - p,
                               &tpl->textmods_url) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the page with the keywords, for browsers without JavaScript (a
     * list on every ticket page cost 40 % of its throughput with 50) */
    if (ngx_http_ticket_url(r, "text-modules", sizeof("text-modules") - 1,
                            &tpl->textmods_page) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (templates == NULL || templates->type != REDIS_REPLY_ARRAY
        || templates->nelem < 2)
    {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, sizeof("t/") + NGX_INT64_LEN);
    if (p == NULL
        || ngx_http_ticket_url(r, (char *) p,
                               ngx_sprintf(p, "t/%uL", v->number) - p,
                               &tpl->template_url) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_ticket_query_arg(r, "template", &want) != NGX_OK
        || c->posted)
    {
        ngx_str_null(&want);
    }

    n = templates->nelem / 2;
    opt = ngx_pcalloc(r->pool, n * sizeof(*opt));
    if (opt == NULL) {
        return NGX_ERROR;
    }
    tpl->templates = opt;
    e = templates->element;

    for (i = 0; i + 1 < templates->nelem; i += 2) {
        if (e[i + 1].type != REDIS_REPLY_STRING) {
            continue;
        }
        opt->id = *ngx_ticket_str(&e[i].str);
        opt->name = *ngx_ticket_str(&e[i + 1].str);
        opt->selected = want.len && want.len == e[i].str.len
                        && ngx_strncmp(want.data, e[i].str.data, want.len)
                           == 0;
        opt++;
        tpl->templates_n++;
    }

    /* by name (insertion sort: a few dozen at most) */
    for (i = 1; i < tpl->templates_n; i++) {
        tk_tpl_compose_templates_t  t = tpl->templates[i];
        ngx_uint_t                  j = i;

        while (j > 0 && ngx_http_ticket_casecmp(&tpl->templates[j - 1].name,
                                                &t.name) > 0)
        {
            tpl->templates[j] = tpl->templates[j - 1];
            j--;
        }
        tpl->templates[j] = t;
    }

    /* the chosen one (HMGET state subject body), filled for this ticket */
    if (want.len == 0 || chosen == NULL || chosen->type != REDIS_REPLY_ARRAY
        || chosen->nelem != 3 || chosen->element[1].type != REDIS_REPLY_STRING)
    {
        return NGX_OK;
    }

    ngx_memzero(&vars, sizeof(vars));
    vars.customer_name = v->ticket.customer_name;
    vars.customer_email = v->ticket.customer_email;
    vars.title = v->ticket.title;
    vars.group = v->ticket.group;
    vars.agent_name = *ngx_ticket_str(ctx->user.name.len ? &ctx->user.name
                                                         : &ctx->user.login);
    if (ngx_http_ticket_uint_str(r, v->number, &vars.number) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_ticket_tp_state(tpl, &chosen->element[0]);
    ngx_http_ticket_reply_str(&chosen->element[1], &subject);
    ngx_http_ticket_reply_str(&chosen->element[2], &body);
    if ((subject.len
         && ngx_http_ticket_tp_fill(r, &vars, &subject, &tpl->subject, NULL)
            != NGX_OK)
        || (body.len
            && ngx_http_ticket_tp_fill(r, &vars, &body, &tpl->body,
                                       &tpl->body) != NGX_OK))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
