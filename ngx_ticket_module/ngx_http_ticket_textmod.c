/*
 * ngx_http_ticket_textmod.c -- managing text modules (SCHEMA.md "Text
 * modules and templates"):
 *
 *   GET  /admin/text-modules[?edit=ID]   the shared ones (admins)
 *   GET  /text-modules[?edit=ID]         the user's own, and the shared
 *   POST .../save    id (empty: new), keyword, name, body
 *   POST .../delete  id
 *
 * Every action first reads the list it acts on (one SORT by keyword), so
 * an id from another list -- another agent's module -- is a 404, and a
 * keyword used twice in one list comes back as a 422 with the form as
 * sent.  The writes are tk_textmod_write/_delete in one MULTI.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_casework.h"
#include "tk_tpl.h"


typedef struct {
    ngx_http_ticket_list_req_t  req;            /* first: list.c; prefix
                                                   "admin/text-modules" */
    tk_tpl_textmods_t          tpl;
    ngx_flag_t                 shared;
    ngx_str_t                 *owner;           /* NULL: shared          */
    ngx_uint_t                 status;
    ngx_str_t                  keyword, name, body;
    ngx_http_ticket_reply_t   *list;            /* SORT reply            */
} ngx_http_ticket_textmods_t;


static ngx_int_t ngx_http_ticket_textmods_load(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_textmods_loaded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_textmods_check(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_textmods_t *tm);
static ngx_flag_t ngx_http_ticket_textmods_has(ngx_http_ticket_reply_t *list,
    ngx_str_t *id);
static ngx_int_t ngx_http_ticket_textmods_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_textmods_rows(ngx_http_request_t *r,
    ngx_http_ticket_textmods_t *tm, ngx_http_ticket_reply_t *list,
    ngx_flag_t mine);
static ngx_int_t ngx_http_ticket_textmods_write(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_textmods_url(ngx_http_request_t *r,
    const char *prefix, const char *suffix, ngx_str_t *id, tk_str_t *out);
static void ngx_http_ticket_textmods_body(tk_out_t *out, void *data);


ngx_int_t
ngx_http_ticket_textmods(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_flag_t shared)
{
    ngx_http_ticket_textmods_t  *tm;

    tm = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_textmods_t));
    if (tm == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tm->shared = shared;
    tm->req.prefix = shared ? "admin/text-modules" : "text-modules";
    tm->owner = shared ? NULL : &ctx->user.login;
    tm->status = NGX_HTTP_OK;
    ctx->page = shared ? "admin" : "profile";
    ctx->view = tm;

    return ngx_http_ticket_list_request(r, ctx, ngx_http_ticket_textmods_load);
}


/* ---- reading ------------------------------------------------------------ */

/* A POST's fields, then the list it acts on. */
static ngx_int_t
ngx_http_ticket_textmods_load(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                   *cmds;
    ngx_http_ticket_textmods_t  *tm = ctx->view;

    if (tm->req.op != NGX_HTTP_TICKET_LIST_SHOW) {
        ngx_http_ticket_form_value(r, ctx, "keyword", &tm->keyword);
        ngx_http_ticket_form_value(r, ctx, "name", &tm->name);
        ngx_http_ticket_form_value(r, ctx, "body", &tm->body);
        ngx_http_ticket_trim(&tm->keyword);
        ngx_http_ticket_trim(&tm->name);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_textmod_sort(cmds, tm->owner ? ngx_ticket_str(tm->owner) : NULL);
    if (!tm->shared && tm->req.op == NGX_HTTP_TICKET_LIST_SHOW) {
        tk_textmod_sort(cmds, NULL);                /* the shared ones */
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_textmods_loaded);
}


static ngx_int_t
ngx_http_ticket_textmods_loaded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_textmods_t  *tm = ctx->view;

    if (ctx->nreplies < 1 || ctx->replies[0].type != REDIS_REPLY_ARRAY) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    tm->list = &ctx->replies[0];

    /* another list's id (someone else's module) does not exist here,
     * neither to edit (?edit=) nor to save or delete */
    if (tm->req.op == NGX_HTTP_TICKET_LIST_SHOW) {
        if (tm->req.edit.len
            && !ngx_http_ticket_textmods_has(tm->list, &tm->req.edit))
        {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
        }
        return ngx_http_ticket_textmods_render(r, ctx);
    }

    if (tm->req.id.len && !ngx_http_ticket_textmods_has(tm->list, &tm->req.id)) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (tm->req.op == NGX_HTTP_TICKET_LIST_SAVE
        && ngx_http_ticket_textmods_check(r, ctx, tm) != NGX_OK)
    {
        tm->status = 422;
        return ngx_http_ticket_textmods_render(r, ctx);
    }

    return ngx_http_ticket_list_save(r, ctx, TK_KEY_SEQ_TEXTMOD,
                                     ngx_http_ticket_textmods_write);
}


/* The form's fields; the messages go next to them (422). */
static ngx_int_t
ngx_http_ticket_textmods_check(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_textmods_t *tm)
{
    ngx_int_t                 rc = NGX_OK, nchars;
    ngx_uint_t                i;
    ngx_http_ticket_reply_t  *e = tm->list->element;

    if (!tk_textmod_valid_keyword(ngx_ticket_str(&tm->keyword))) {
        ngx_http_ticket_cstr(&tm->tpl.err_keyword,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_TEXTMOD_N1_TO_32_CHARACTERS_LOWER_CASE));
        rc = NGX_DECLINED;
    } else {
        for (i = 0; i + 3 < tm->list->nelem; i += 4) {
            if (e[i + 1].str.len == tm->keyword.len
                && ngx_strncmp(e[i + 1].str.data, tm->keyword.data,
                               tm->keyword.len) == 0
                && !(e[i].str.len == tm->req.id.len
                     && ngx_strncmp(e[i].str.data, tm->req.id.data, tm->req.id.len)
                        == 0))
            {
                ngx_http_ticket_cstr(&tm->tpl.err_keyword,
                                     ngx_http_ticket_msg(ctx,
                                         TK_MSG_TEXTMOD_THIS_KEYWORD_EXISTS_ALREADY));
                rc = NGX_DECLINED;
                break;
            }
        }
    }

    nchars = ngx_http_ticket_text_chars(&tm->name, 0);
    if (nchars < 1 || tm->name.len > TK_TEXTMOD_NAME_MAX) {
        ngx_http_ticket_cstr(&tm->tpl.err_name,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_TEXTMOD_A_NAME_AT_MOST_100_CHARACTERS));
        rc = NGX_DECLINED;
    }

    nchars = ngx_http_ticket_text_chars(&tm->body, 1);
    if (nchars < 1 || tm->body.len > TK_TEXTMOD_BODY_MAX) {
        ngx_http_ticket_cstr(&tm->tpl.err_body,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_TEXTMOD_A_TEXT_AT_MOST_20000_BYTES));
        rc = NGX_DECLINED;
    }

    (void) r;
    return rc;
}


static ngx_flag_t
ngx_http_ticket_textmods_has(ngx_http_ticket_reply_t *list, ngx_str_t *id)
{
    ngx_uint_t  i;

    for (i = 0; i + 3 < list->nelem; i += 4) {
        if (list->element[i].str.len == id->len
            && ngx_strncmp(list->element[i].str.data, id->data, id->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* ---- the page ----------------------------------------------------------- */

static ngx_int_t
ngx_http_ticket_textmods_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                    title;
    ngx_uint_t                   i;
    tk_tpl_textmods_t           *tpl;
    ngx_http_ticket_reply_t     *e;
    ngx_http_ticket_textmods_t  *tm = ctx->view;

    tpl = &tm->tpl;
    tpl->de = ngx_http_ticket_lang_de(ctx);
    tpl->shared = tm->shared;
    tpl->csrf = *ngx_ticket_str(&ctx->csrf);
    ngx_http_ticket_cstr(&tpl->ph_customer, "{{customer.name}}");
    ngx_http_ticket_cstr(&tpl->ph_number, "{{ticket.number}}");
    ngx_http_ticket_cstr(&tpl->ph_agent, "{{agent.name}}");
    ngx_http_ticket_cstr(&tpl->ph_group, "{{group.name}}");
    ngx_http_ticket_cstr(&tpl->ph_title, "{{ticket.title}}");

    if (ngx_http_ticket_textmods_rows(r, tm, tm->list, 1) != NGX_OK
        || (ctx->nreplies > 1 && ctx->replies[1].type == REDIS_REPLY_ARRAY
            && ngx_http_ticket_textmods_rows(r, tm, &ctx->replies[1], 0)
               != NGX_OK)
        || ngx_http_ticket_textmods_url(r, tm->req.prefix, "/save", NULL,
                                        &tpl->save_url) != NGX_OK
        || ngx_http_ticket_textmods_url(r, tm->req.prefix, "/delete", NULL,
                                        &tpl->delete_url) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (tm->req.op == NGX_HTTP_TICKET_LIST_SAVE) {                       /* as sent */
        tpl->f_id = *ngx_ticket_str(&tm->req.id);
        tpl->f_keyword = *ngx_ticket_str(&tm->keyword);
        tpl->f_name = *ngx_ticket_str(&tm->name);
        tpl->f_body = *ngx_ticket_str(&tm->body);

    } else if (tm->req.edit.len) {
        e = tm->list->element;
        for (i = 0; i + 3 < tm->list->nelem; i += 4) {
            if (e[i].str.len == tm->req.edit.len
                && ngx_strncmp(e[i].str.data, tm->req.edit.data, tm->req.edit.len)
                   == 0)
            {
                tpl->f_id = *ngx_ticket_str(&e[i].str);
                tpl->f_keyword = *ngx_ticket_str(&e[i + 1].str);
                tpl->f_name = *ngx_ticket_str(&e[i + 2].str);
                tpl->f_body = *ngx_ticket_str(&e[i + 3].str);
            }
        }
    }

    if (tm->shared) {
        ngx_str_set(&title, "Textbausteine");
    } else {
        ngx_str_set(&title, "Meine Textbausteine");
    }
    if (!tpl->de) {
        if (tm->shared) {
            ngx_str_set(&title, "Text modules");
        } else {
            ngx_str_set(&title, "My text modules");
        }
    }

    return ngx_http_ticket_page(r, ctx, tm->status, &title,
                                ngx_http_ticket_textmods_body, tpl);
}


/* The list's rows (mine) or the shared ones on an agent's page. */
static ngx_int_t
ngx_http_ticket_textmods_rows(ngx_http_request_t *r,
    ngx_http_ticket_textmods_t *tm, ngx_http_ticket_reply_t *list,
    ngx_flag_t mine)
{
    ngx_uint_t                i, n;
    tk_tpl_textmods_rows_t   *row = NULL;
    tk_tpl_textmods_others_t *other = NULL;
    ngx_http_ticket_reply_t  *e = list->element;

    n = list->nelem / 4;
    if (n == 0) {
        return NGX_OK;
    }

    if (mine) {
        row = ngx_pcalloc(r->pool, n * sizeof(*row));
        tm->tpl.rows = row;
    } else {
        other = ngx_pcalloc(r->pool, n * sizeof(*other));
        tm->tpl.others = other;
    }
    if (row == NULL && other == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i + 3 < list->nelem; i += 4) {
        if (e[i + 1].type != REDIS_REPLY_STRING) {
            continue;                    /* gone meanwhile */
        }
        if (!mine) {
            other->keyword = *ngx_ticket_str(&e[i + 1].str);
            other->name = *ngx_ticket_str(&e[i + 2].str);
            other->body = *ngx_ticket_str(&e[i + 3].str);
            other++;
            tm->tpl.others_n++;
            continue;
        }
        row->id = *ngx_ticket_str(&e[i].str);
        row->keyword = *ngx_ticket_str(&e[i + 1].str);
        row->name = *ngx_ticket_str(&e[i + 2].str);
        row->body = *ngx_ticket_str(&e[i + 3].str);
        if (ngx_http_ticket_textmods_url(r, tm->req.prefix, "?edit=", &e[i].str,
                                         &row->edit_url) != NGX_OK)
        {
            return NGX_ERROR;
        }
        row++;
        tm->tpl.rows_n++;
    }

    return NGX_OK;
}


static void
ngx_http_ticket_textmods_body(tk_out_t *out, void *data)
{
    tk_tpl_textmods(out, data);
}


/* ---- changes ------------------------------------------------------------ */

/* After INCR (a new id) or at once: one MULTI, then back to the list. */
static ngx_int_t
ngx_http_ticket_textmods_write(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                    none = ngx_null_string, *owner;
    tk_cmds_t                   *cmds;
    ngx_http_ticket_textmods_t  *tm = ctx->view;

    if (ngx_http_ticket_list_new_id(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    owner = tm->owner ? tm->owner : &none;

    tk_cmds_multi(cmds);
    if (tm->req.op == NGX_HTTP_TICKET_LIST_SAVE) {
        tk_textmod_write(cmds, ngx_ticket_str(&tm->req.id), ngx_ticket_str(owner),
                         ngx_ticket_str(&tm->keyword),
                         ngx_ticket_str(&tm->name),
                         ngx_ticket_str(&tm->body), (int64_t) ngx_time());
    } else {
        tk_textmod_delete(cmds, ngx_ticket_str(&tm->req.id),
                          ngx_ticket_str(owner));
    }
    tk_cmds_exec(cmds);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_list_done);
}


/* ---- helpers ------------------------------------------------------------ */

static ngx_int_t
ngx_http_ticket_textmods_url(ngx_http_request_t *r, const char *prefix,
    const char *suffix, ngx_str_t *id, tk_str_t *out)
{
    u_char  *p;
    size_t   plen = ngx_strlen(prefix), slen = ngx_strlen(suffix);

    p = ngx_pnalloc(r->pool, plen + slen + (id ? id->len : 0));
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    p = ngx_cpymem(p, prefix, plen);
    p = ngx_cpymem(p, suffix, slen);
    if (id) {
        p = ngx_cpymem(p, id->data, id->len);
    }

    return ngx_http_ticket_url(r, (const char *) out->data,
                               p - out->data, out);
}
