/*
 * ngx_http_ticket_admin_triggers.c -- "/admin/triggers": the admins'
 * trigger rules (tk:triggers, tk:trigger:ID; SCHEMA.md "Triggers").
 *
 *   GET  /admin/triggers[?edit=ID]   list + the form (new, or rule ID)
 *   POST /admin/triggers/save        id (empty: new) and the fields
 *   POST /admin/triggers/delete      id
 *
 * A rule is checked by tk_trigger_load_alloc() -- the code mailbridge
 * compiles it with -- on the request pool before it is saved; a rule
 * that does not check out comes back in the form with the error next
 * to its field (422), for a pattern PCRE2's message and offset.  Every
 * change INCRs tk:triggers:gen in its MULTI.  The caller (admin.c) has
 * checked the role: for anyone else these addresses do not exist.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"
#include "tk_tpl.h"
#include "tk_trigger.h"


#define NGX_HTTP_TICKET_TRIGGERS_MAX   500
#define NGX_HTTP_TICKET_TRIGGER_ID_MAX 20


/* the form's fields: same names as the hash's; offset of its value in
 * the template's data */
typedef struct {
    const char  *field;
    size_t       offset;
    ngx_flag_t   condition;        /* shown under "conditions" */
} ngx_http_ticket_trigger_field_t;

typedef struct {
    tk_tpl_triggers_t          tpl;
    ngx_str_t                  edit;            /* ?edit=ID or ""       */
    ngx_uint_t                 status;          /* 200, or 422          */
    ngx_flag_t                 form_given;      /* POST came back       */
    ngx_http_ticket_reply_t   *ids;
    ngx_uint_t                 nids;
    ngx_str_t                  values[20];      /* POST: per field      */
} ngx_http_ticket_triggers_t;


#define NGX_TRG_F(name, member, cond)                                        \
    { name, offsetof(tk_tpl_triggers_t, member), cond }

static const ngx_http_ticket_trigger_field_t  ngx_http_ticket_trigger_fields[]
    = {
    NGX_TRG_F(TK_F_TRG_NAME, f_name, 0),
    NGX_TRG_F(TK_F_TRG_SUBJECT, f_subject, 1),
    NGX_TRG_F(TK_F_TRG_BODY, f_body, 1),
    NGX_TRG_F(TK_F_TRG_FROM, f_from, 1),
    NGX_TRG_F(TK_F_TRG_GROUP, f_group, 1),
    NGX_TRG_F(TK_F_TRG_PRIORITY, f_priority, 1),
    NGX_TRG_F(TK_F_TRG_STATE, f_state, 1),
    NGX_TRG_F(TK_F_TRG_AUTO, f_auto, 1),
    NGX_TRG_F(TK_F_TRG_SET_PRIORITY, f_set_priority, 0),
    NGX_TRG_F(TK_F_TRG_SET_STATE, f_set_state, 0),
    NGX_TRG_F(TK_F_TRG_SET_GROUP, f_set_group, 0),
    NGX_TRG_F(TK_F_TRG_SET_OWNER, f_set_owner, 0),
    NGX_TRG_F(TK_F_TRG_SET_TAGS, f_set_tags, 0),
    NGX_TRG_F(TK_F_TRG_NOTIFY, f_notify, 0),
    NGX_TRG_F(TK_F_TRG_NOTE, f_note, 0),
    { NULL, 0, 0 }
};

/* after the fields above: on, active, icase (select and checkboxes) */
#define NGX_TRG_NFIELDS  15


static ngx_int_t ngx_http_ticket_triggers_list(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_triggers_t *tv);
static ngx_int_t ngx_http_ticket_triggers_fetch(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_triggers_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_triggers_row(ngx_http_request_t *r,
    ngx_str_t *id, ngx_http_ticket_reply_t *h, tk_tpl_triggers_rows_t *row);
static void ngx_http_ticket_triggers_form(ngx_http_ticket_triggers_t *tv,
    ngx_http_ticket_reply_t *h);
static void ngx_http_ticket_triggers_on(tk_tpl_triggers_t *tpl,
    ngx_str_t *on);
static ngx_int_t ngx_http_ticket_triggers_save(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_triggers_new_id(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_triggers_write(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *id);
static ngx_int_t ngx_http_ticket_triggers_delete(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_triggers_done(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_triggers_id(ngx_str_t *id);
static void *ngx_http_ticket_triggers_alloc(void *pool, size_t size);
static void ngx_http_ticket_triggers_body(tk_out_t *out, void *data);


ngx_int_t
ngx_http_ticket_admin_triggers(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                    rest;
    ngx_http_ticket_triggers_t  *tv;

    ctx->page = "admin";
    rest.data = ctx->path.data + sizeof("/admin/triggers") - 1;
    rest.len = ctx->path.len - (sizeof("/admin/triggers") - 1);

    if (rest.len == 0) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
        }

        tv = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_triggers_t));
        if (tv == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        tv->status = NGX_HTTP_OK;
        if (ngx_http_ticket_query_arg(r, "edit", &tv->edit) != NGX_OK
            || ngx_http_ticket_triggers_id(&tv->edit) != NGX_OK)
        {
            ngx_str_null(&tv->edit);
        }
        return ngx_http_ticket_triggers_list(r, ctx, tv);
    }

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
        return ngx_http_ticket_csrf_refused(r, ctx);
    }

    if (rest.len == sizeof("/save") - 1
        && ngx_strncmp(rest.data, "/save", rest.len) == 0)
    {
        return ngx_http_ticket_triggers_save(r, ctx);
    }

    if (rest.len == sizeof("/delete") - 1
        && ngx_strncmp(rest.data, "/delete", rest.len) == 0)
    {
        return ngx_http_ticket_triggers_delete(r, ctx);
    }

    return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
}


/* ---- the page ----------------------------------------------------------- */

/* Two round trips: the ids in order, then every rule's hash. */
static ngx_int_t
ngx_http_ticket_triggers_list(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_triggers_t *tv)
{
    tk_cmds_t  *cmds;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = tv;
    tk_cmds_add(cmds, "ZRANGE " TK_KEY_TRIGGERS " 0 %d",
                NGX_HTTP_TICKET_TRIGGERS_MAX - 1);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_triggers_fetch);
}


static ngx_int_t
ngx_http_ticket_triggers_fetch(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                   i;
    tk_cmds_t                   *cmds;
    ngx_http_ticket_triggers_t  *tv = ctx->view;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_ARRAY) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    tv->ids = ctx->replies[0].element;
    tv->nids = ctx->replies[0].nelem;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < tv->nids; i++) {
        tk_cmds_add(cmds, "HGETALL " TK_FMTS_TRIGGER,
                    ngx_ticket_str(&tv->ids[i].str));
    }

    if (cmds->n == 0) {
        ctx->replies = NULL;
        ctx->nreplies = 0;
        return ngx_http_ticket_triggers_render(r, ctx);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_triggers_render);
}


static ngx_int_t
ngx_http_ticket_triggers_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                    title;
    ngx_uint_t                   i;
    tk_tpl_triggers_t           *tpl;
    tk_tpl_triggers_rows_t      *row;
    ngx_http_ticket_triggers_t  *tv = ctx->view;

    title.data = (u_char *) ngx_http_ticket_msg(ctx, TK_MSG_TRIGGERS_TITLE);
    title.len = ngx_strlen(title.data);

    tpl = &tv->tpl;
    row = ngx_pcalloc(r->pool, (ctx->nreplies + 1) * sizeof(*row));
    if (row == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->de = ngx_http_ticket_lang_de(ctx);
    tpl->csrf = *ngx_ticket_str(&ctx->csrf);
    tpl->rows = row;

    if (!tv->form_given) {
        /* a new rule: active, caseless, on new tickets */
        tpl->f_active = 1;
        tpl->f_icase = 1;
        tpl->on_create = 1;
    }

    for (i = 0; i < ctx->nreplies && i < tv->nids; i++) {
        if (ngx_http_ticket_triggers_row(r, &tv->ids[i].str,
                                         &ctx->replies[i], &row[tpl->rows_n])
            != NGX_OK)
        {
            continue;
        }

        if (!tv->form_given && tv->edit.len
            && tv->edit.len == tv->ids[i].str.len
            && ngx_strncmp(tv->edit.data, tv->ids[i].str.data, tv->edit.len)
               == 0)
        {
            tpl->f_id = *ngx_ticket_str(&tv->edit);
            ngx_http_ticket_triggers_form(tv, &ctx->replies[i]);
        }

        tpl->rows_n++;
    }

    if (ngx_http_ticket_url(r, "admin/triggers/save",
                            sizeof("admin/triggers/save") - 1,
                            &tpl->save_url) != NGX_OK
        || ngx_http_ticket_url(r, "admin/triggers/delete",
                               sizeof("admin/triggers/delete") - 1,
                               &tpl->delete_url) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_page(r, ctx, tv->status, &title,
                                ngx_http_ticket_triggers_body, tpl);
}


/* One rule of the list; NGX_DECLINED when it is gone meanwhile. */
static ngx_int_t
ngx_http_ticket_triggers_row(ngx_http_request_t *r, ngx_str_t *id,
    ngx_http_ticket_reply_t *h, tk_tpl_triggers_rows_t *row)
{
    const ngx_http_ticket_trigger_field_t  *f;
    u_char                                 *p, *q, *a;
    size_t                                  len;
    ngx_str_t                              *v, *on, *active;

    if (h->type != REDIS_REPLY_ARRAY || h->nelem < 2) {
        return NGX_DECLINED;
    }

    row->id = *ngx_ticket_str(id);
    ngx_http_ticket_reply_value(h, TK_F_TRG_NAME, (ngx_str_t *) &row->name);
    on = ngx_http_ticket_reply_field(h, TK_F_TRG_ON);
    ngx_http_ticket_cstr(&row->on, on ? NULL : "create");
    if (on) {
        row->on = *ngx_ticket_str(on);
    }
    active = ngx_http_ticket_reply_field(h, TK_F_TRG_ACTIVE);
    row->inactive = active && active->len == 1 && active->data[0] == '0';

    /* "subject=…; group=…" and "set_priority=urgent; notify=…" */
    len = 0;
    for (f = ngx_http_ticket_trigger_fields; f->field; f++) {
        v = ngx_http_ticket_reply_field(h, f->field);
        if (v) {
            len += ngx_strlen(f->field) + v->len + 3;
        }
    }

    p = ngx_pnalloc(r->pool, 2 * len + 2);
    if (p == NULL) {
        return NGX_ERROR;
    }
    q = p;
    a = p + len + 1;
    row->actions.data = a;

    for (f = ngx_http_ticket_trigger_fields + 1; f->field; f++) {
        v = ngx_http_ticket_reply_field(h, f->field);
        if (v == NULL || v->len == 0) {
            continue;
        }
        if (f->condition) {
            q = ngx_sprintf(q, "%s%s=%V", q == p ? "" : "; ", f->field, v);
        } else {
            a = ngx_sprintf(a, "%s%s=%V", a == row->actions.data ? "" : "; ",
                            f->field, v);
        }
    }

    row->conditions.data = p;
    row->conditions.len = q - p;
    row->actions.len = a - row->actions.data;

    if (ngx_http_ticket_url(r, "admin/triggers?edit=", sizeof("admin/"
                            "triggers?edit=") - 1, &row->edit_url) != NGX_OK)
    {
        return NGX_ERROR;
    }
    p = ngx_pnalloc(r->pool, row->edit_url.len + id->len);
    if (p == NULL) {
        return NGX_ERROR;
    }
    q = ngx_cpymem(p, row->edit_url.data, row->edit_url.len);
    q = ngx_cpymem(q, id->data, id->len);
    row->edit_url.data = p;
    row->edit_url.len = q - p;

    return NGX_OK;
}


/* The form shows rule h (?edit=ID). */
static void
ngx_http_ticket_triggers_form(ngx_http_ticket_triggers_t *tv,
    ngx_http_ticket_reply_t *h)
{
    const ngx_http_ticket_trigger_field_t  *f;
    ngx_str_t                              *v;
    tk_tpl_triggers_t                      *tpl = &tv->tpl;

    for (f = ngx_http_ticket_trigger_fields; f->field; f++) {
        ngx_http_ticket_reply_value(h, f->field,
                                    (ngx_str_t *) ((u_char *) tpl
                                                   + f->offset));
    }

    v = ngx_http_ticket_reply_field(h, TK_F_TRG_ACTIVE);
    tpl->f_active = !(v && v->len == 1 && v->data[0] == '0');
    v = ngx_http_ticket_reply_field(h, TK_F_TRG_ICASE);
    tpl->f_icase = v && v->len == 1 && v->data[0] == '1';
    ngx_http_ticket_triggers_on(tpl, ngx_http_ticket_reply_field(h,
                                TK_F_TRG_ON));
}


static void
ngx_http_ticket_triggers_on(tk_tpl_triggers_t *tpl, ngx_str_t *on)
{
    tpl->on_create = tpl->on_update = tpl->on_both = 0;

    if (on && on->len == 6 && ngx_strncmp(on->data, "update", 6) == 0) {
        tpl->on_update = 1;
    } else if (on && on->len == 4 && ngx_strncmp(on->data, "both", 4) == 0) {
        tpl->on_both = 1;
    } else {
        tpl->on_create = 1;
    }
}


static void
ngx_http_ticket_triggers_body(tk_out_t *out, void *data)
{
    tk_tpl_triggers(out, data);
}


/* ---- changes ------------------------------------------------------------ */

/*
 * Check the rule as mailbridge would compile it; refused: the page again
 * with the form as sent and the error at its field (422).
 */
static ngx_int_t
ngx_http_ticket_triggers_save(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    const ngx_http_ticket_trigger_field_t  *f;
    ngx_http_ticket_triggers_t             *tv;
    tk_tpl_triggers_t                      *tpl;
    tk_trigger_t                            t;
    tk_trigger_error_t                      err;
    tk_str_t                                pairs[2 * (NGX_TRG_NFIELDS + 3)];
    ngx_str_t                               id, on, active, icase, *dst;
    size_t                                  n, i;
    u_char                                 *p;
    int                                     rc;

    tv = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_triggers_t));
    if (tv == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ctx->view = tv;
    tpl = &tv->tpl;

    ngx_http_ticket_form_value(r, ctx, "id", &id);
    if (id.len && ngx_http_ticket_triggers_id(&id) != NGX_OK) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL);
    }

    n = 0;
    for (i = 0, f = ngx_http_ticket_trigger_fields; f->field; f++, i++) {
        dst = (ngx_str_t *) ((u_char *) tpl + f->offset);
        ngx_http_ticket_form_value(r, ctx, f->field, dst);
        tv->values[i] = *dst;
        if (dst->len) {
            pairs[2 * n].data = (u_char *) f->field;
            pairs[2 * n].len = ngx_strlen(f->field);
            pairs[2 * n + 1] = *ngx_ticket_str(dst);
            n++;
        }
    }

    ngx_http_ticket_form_value(r, ctx, TK_F_TRG_ON, &on);
    ngx_http_ticket_form_value(r, ctx, TK_F_TRG_ACTIVE, &active);
    ngx_http_ticket_form_value(r, ctx, TK_F_TRG_ICASE, &icase);
    tv->values[i++] = on;
    ngx_str_set(&tv->values[i], "0");
    if (active.len) {
        ngx_str_set(&tv->values[i], "1");
    }
    i++;
    ngx_str_set(&tv->values[i], "0");
    if (icase.len) {
        ngx_str_set(&tv->values[i], "1");
    }

    pairs[2 * n] = (tk_str_t) tk_string(TK_F_TRG_ON);
    pairs[2 * n + 1] = *ngx_ticket_str(&on);
    pairs[2 * n + 2] = (tk_str_t) tk_string(TK_F_TRG_ACTIVE);
    pairs[2 * n + 3] = *ngx_ticket_str(&tv->values[NGX_TRG_NFIELDS + 1]);
    pairs[2 * n + 4] = (tk_str_t) tk_string(TK_F_TRG_ICASE);
    pairs[2 * n + 5] = *ngx_ticket_str(&tv->values[NGX_TRG_NFIELDS + 2]);
    n += 3;

    rc = tk_trigger_load_alloc(&t, "web", pairs, n, &err,
                               ngx_http_ticket_triggers_alloc, r->pool);
    tk_trigger_free(&t);

    if (rc == 0) {
        if (id.len == 0) {
            return ngx_http_ticket_triggers_new_id(r, ctx);
        }
        return ngx_http_ticket_triggers_write(r, ctx, &id);
    }

    /* the form again, as sent, with the error where it belongs */
    tv->form_given = 1;
    tv->status = 422;
    tpl->f_id = *ngx_ticket_str(&id);
    tpl->f_active = active.len != 0;
    tpl->f_icase = icase.len != 0;
    ngx_http_ticket_triggers_on(tpl, &on);

    p = ngx_pnalloc(r->pool, sizeof(err.message) + 64);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (err.offset >= 0) {
        if (ngx_http_ticket_uint_str(r, (ngx_uint_t) err.offset,
                                     &tpl->err_offset) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        tpl->err_subject.len = ngx_sprintf(p, "%s %s %l", err.message,
                                           ngx_http_ticket_msg(ctx,
                                               TK_MSG_ADMIN_TRIGGERS_AT_OFFSET),
                                           err.offset) - p;
        tpl->err_subject.data = p;
        if (ngx_strcmp(err.field, TK_F_TRG_BODY) == 0) {
            tpl->err_body = tpl->err_subject;
            ngx_str_null((ngx_str_t *) &tpl->err_subject);
        } else if (ngx_strcmp(err.field, TK_F_TRG_FROM) == 0) {
            tpl->err_from = tpl->err_subject;
            ngx_str_null((ngx_str_t *) &tpl->err_subject);
        }
    } else {
        tpl->err_rule.len = ngx_sprintf(p, "%s: %s", err.field
                                        ? err.field : "rule", err.message)
                            - p;
        tpl->err_rule.data = p;
    }

    return ngx_http_ticket_triggers_list(r, ctx, tv);
}


static ngx_int_t
ngx_http_ticket_triggers_new_id(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t  *cmds;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "INCR " TK_KEY_SEQ_TRIGGER);
    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_triggers_done);
}


/* HSET what is given, HDEL what is empty, in one MULTI with the gen. */
static ngx_int_t
ngx_http_ticket_triggers_write(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *id)
{
    static const char *const     last[] = {
        TK_F_TRG_ON, TK_F_TRG_ACTIVE, TK_F_TRG_ICASE
    };
    const char                  *field;
    ngx_uint_t                   i;
    tk_cmds_t                   *cmds;
    ngx_http_ticket_triggers_t  *tv = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_multi(cmds);
    for (i = 0; i < NGX_TRG_NFIELDS + 3; i++) {
        field = i < NGX_TRG_NFIELDS ? ngx_http_ticket_trigger_fields[i].field
                                    : last[i - NGX_TRG_NFIELDS];
        if (tv->values[i].len) {
            tk_cmds_add(cmds, "HSET " TK_FMTS_TRIGGER " %s %S", ngx_ticket_str(id),
                        field, ngx_ticket_str(&tv->values[i]));
        } else {
            tk_cmds_add(cmds, "HDEL " TK_FMTS_TRIGGER " %s", ngx_ticket_str(id),
                        field);
        }
    }
    tk_cmds_add(cmds, "ZADD " TK_KEY_TRIGGERS " NX %S %S", ngx_ticket_str(id),
                ngx_ticket_str(id));
    tk_cmds_add(cmds, "INCR " TK_KEY_TRIGGERS_GEN);
    tk_cmds_exec(cmds);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = NULL;                 /* done() redirects */
    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_triggers_done);
}


static ngx_int_t
ngx_http_ticket_triggers_delete(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t   id;
    tk_cmds_t  *cmds;

    ngx_http_ticket_form_value(r, ctx, "id", &id);
    if (ngx_http_ticket_triggers_id(&id) != NGX_OK) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_multi(cmds);
    tk_cmds_add(cmds, "DEL " TK_FMTS_TRIGGER, ngx_ticket_str(&id));
    tk_cmds_add(cmds, "ZREM " TK_KEY_TRIGGERS " %S", ngx_ticket_str(&id));
    tk_cmds_add(cmds, "INCR " TK_KEY_TRIGGERS_GEN);
    tk_cmds_exec(cmds);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = NULL;
    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_triggers_done);
}


/* INCR answered (a new rule: write it now), or a MULTI went through. */
static ngx_int_t
ngx_http_ticket_triggers_done(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t  id;

    if (ctx->view && ctx->nreplies == 1
        && ctx->replies[0].type == REDIS_REPLY_INTEGER)
    {
        id.data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (id.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        id.len = ngx_sprintf(id.data, "%L", ctx->replies[0].integer)
                 - id.data;
        return ngx_http_ticket_triggers_write(r, ctx, &id);
    }

    if (ctx->nreplies == 0
        || ctx->replies[ctx->nreplies - 1].type != REDIS_REPLY_ARRAY)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    return ngx_http_ticket_redirect(r, "admin/triggers",
                                    sizeof("admin/triggers") - 1);
}


/* ---- helpers ------------------------------------------------------------ */

static ngx_int_t
ngx_http_ticket_triggers_id(ngx_str_t *id)
{
    ngx_uint_t  i;

    if (id->len == 0 || id->len > NGX_HTTP_TICKET_TRIGGER_ID_MAX) {
        return NGX_ERROR;
    }

    for (i = 0; i < id->len; i++) {
        if (id->data[i] < '0' || id->data[i] > '9') {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* tk_alloc_pt on the request pool: no malloc for the check */
static void *
ngx_http_ticket_triggers_alloc(void *pool, size_t size)
{
    return ngx_palloc(pool, size);
}
