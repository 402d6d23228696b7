/*
 * ngx_http_ticket_outbound_form.c -- what a new outbound ticket asks
 * for, from the form (POST /new) or JSON (POST /api/v1/tickets), checked
 * before anything is read or written -- the composer's checks
 * (ngx_http_ticket_reply_check: no CR/LF, valid addresses, subject,
 * text, state) plus the group (full right) and the customer (the first
 * address under To, or "customer" of the API; no CR/LF in the name) --
 * and the page (compose_new.html) filled in.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_outbound.h"
#include "tk_tpl.h"


static ngx_int_t ngx_http_ticket_outbound_customer(ngx_http_request_t *r,
    ngx_http_ticket_outbound_t *ob, const tk_json_member_t *e,
    const char **field, const char **message);
static ngx_int_t ngx_http_ticket_outbound_who(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_outbound_t *ob);
static void ngx_http_ticket_outbound_body(tk_out_t *out, void *data);


/* ---- the request ------------------------------------------------------ */

ngx_int_t
ngx_http_ticket_outbound_form(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_outbound_t *ob)
{
    /* to, cc, bcc, subject, body, state, pending_until: the composer's */
    if (ngx_http_ticket_reply_form(r, ctx, &ob->c) != NGX_OK) {
        return NGX_ERROR;
    }

    ob->c.note = 0;
    ob->c.reply = 0;
    ob->c.forward = 0;

    ngx_http_ticket_form_value(r, ctx, "group", &ob->group);
    ngx_http_ticket_form_value(r, ctx, "customer_name", &ob->name);
    ob->name_typed = ob->name;

    return NGX_OK;
}


/*
 * {"group","customer":{"name","email"},"to","cc","bcc","subject","body",
 *  "state","pending_until","attachments","type":"reply"|"note"}.
 * Unknown members are an error, as for replies.
 */
ngx_int_t
ngx_http_ticket_outbound_json(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_outbound_t *ob,
    const char **field, const char **message)
{
    int                         n;
    ngx_str_t                   type;
    tk_json_member_t            m[NGX_HTTP_TICKET_JSON_MEMBERS];
    ngx_http_ticket_compose_t  *c;

    static const char  *known[] = {
        "type", "group", "customer", "to", "cc", "bcc", "subject", "body",
        "state", "pending_until", "attachments", NULL
    };

    c = &ob->c;

    n = ngx_http_ticket_reply_json_object(ctx, c, known, m, field, message);
    if (n < 0) {
        return NGX_DECLINED;
    }

    if (ngx_http_ticket_reply_json_str(r, m, n, "type", &type, field)
            != NGX_OK
        || ngx_http_ticket_reply_json_str(r, m, n, "group", &ob->group, field)
           != NGX_OK
        || ngx_http_ticket_reply_json_text(r, m, n, c, field) != NGX_OK)
    {
        *message = "must be a string";
        return NGX_DECLINED;
    }

    if (type.len == 4 && ngx_strncmp(type.data, "note", 4) == 0) {
        c->note = 1;

    } else if (type.len
               && !(type.len == 5 && ngx_strncmp(type.data, "reply", 5) == 0))
    {
        *field = "type";
        *message = "must be \"reply\" (the default) or \"note\"";
        return NGX_DECLINED;
    }

    /* a ticket begun with a note (a call, a visit) is being worked on */
    c->state = c->note ? TK_STATE_OPEN : TK_STATE_WAITING;

    if (ngx_http_ticket_reply_json_common(r, ctx, m, n, c, field, message)
            != NGX_OK
        || ngx_http_ticket_outbound_customer(r, ob,
                                             tk_json_get(m, n, "customer"),
                                             field, message)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* the customer alone is To unless "to" says otherwise */
    if (c->to.len == 0 && !c->note) {
        c->to = ob->email;
    }

    return NGX_OK;
}


/* "customer": {"name": "...", "email": "..."} */
static ngx_int_t
ngx_http_ticket_outbound_customer(ngx_http_request_t *r,
    ngx_http_ticket_outbound_t *ob, const tk_json_member_t *e,
    const char **field, const char **message)
{
    int                      k, i;
    size_t                   errpos;
    const char              *f;
    tk_json_member_t         m[4];

    if (e == NULL || e->type == TK_JSON_NULL) {
        return NGX_OK;
    }

    *field = "customer";
    *message = "an object {\"name\",\"email\"}";

    if (e->type != TK_JSON_OBJECT) {
        return NGX_DECLINED;
    }

    k = tk_json_object(&e->value, m, 4, &errpos);
    if (k < 0) {
        return NGX_DECLINED;
    }

    for (i = 0; i < k; i++) {
        if (!tk_str_eq_cstr(&m[i].key, "name")
            && !tk_str_eq_cstr(&m[i].key, "email"))
        {
            return NGX_DECLINED;
        }
    }

    if (ngx_http_ticket_reply_json_str(r, m, k, "name", &ob->name, &f)
            != NGX_OK
        || ngx_http_ticket_reply_json_str(r, m, k, "email", &ob->email, &f)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    *field = NULL;

    return NGX_OK;
}


ngx_int_t
ngx_http_ticket_outbound_check(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_outbound_t *ob)
{
    ngx_flag_t  bad;

    bad = (ngx_http_ticket_reply_check(r, ctx, &ob->c) != NGX_OK);

    ngx_http_ticket_trim(&ob->group);

    if (ob->group.len == 0) {
        ob->err_group =
            ngx_http_ticket_msg(ctx,
                                TK_MSG_OUTBOUND_FORM_PLEASE_CHOOSE_A_GROUP);
        bad = 1;

    } else if (!tk_valid_group(ngx_ticket_str(&ob->group))
               || ngx_http_ticket_right(ctx, &ob->group) == TK_RIGHT_NONE)
    {
        /* one without any right is as unknown as one that is not there */
        ob->err_group =
            ngx_http_ticket_msg(ctx, TK_MSG_ACTION_THERE_IS_NO_SUCH_GROUP);
        bad = 1;

    } else if (ngx_http_ticket_right(ctx, &ob->group) != TK_RIGHT_FULL) {
        ob->err_group =
            ngx_http_ticket_msg(ctx,
                TK_MSG_OUTBOUND_FORM_YOU_HAVE_READ_ACCESS_ONLY_TO);
        bad = 1;
    }

    if (ngx_http_ticket_outbound_who(r, ctx, ob) != NGX_OK) {
        bad = 1;
    }

    return bad ? NGX_DECLINED : NGX_OK;
}


/*
 * The customer: the address the API named, else the first under To; the
 * name as given, else To's display name.  A name in To's first address
 * is what the mail says; without one, the customer's name goes there.
 */
static ngx_int_t
ngx_http_ticket_outbound_who(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_outbound_t *ob)
{
    ngx_http_ticket_compose_t  *c;

    c = &ob->c;

    ngx_http_ticket_trim(&ob->name);
    ngx_http_ticket_trim(&ob->email);

    if (tk_has_ctrl(ngx_ticket_str(&ob->name))
        || ob->name.len > NGX_HTTP_TICKET_CUSTOMER_NAME_MAX
        || ngx_http_ticket_text_chars(&ob->name, 0) < 0)
    {
        ob->err_name =
            ngx_http_ticket_msg(ctx,
                                TK_MSG_OUTBOUND_FORM_LINE_BREAKS_AND_CONTROL);
        return NGX_DECLINED;
    }

    if (ob->email.len == 0 && c->nto) {
        ob->email = *(ngx_str_t *) &c->rcpt[0].addr;

        if (ob->name.len == 0) {
            ob->name = *(ngx_str_t *) &c->rcpt[0].name;
        }
    }

    if (ob->email.len == 0) {
        if (c->err_to == NULL) {
            c->err_to =
                ngx_http_ticket_msg(ctx,
                    TK_MSG_OUTBOUND_FORM_PLEASE_ENTER_THE_CUSTOMER_S);
        }

        return NGX_DECLINED;
    }

    if (tk_has_ctrl(ngx_ticket_str(&ob->email))
        || !tk_addr_valid(ob->email.data, ob->email.len))
    {
        ob->err_name =
            ngx_http_ticket_msg(ctx,
                TK_MSG_OUTBOUND_FORM_THE_CUSTOMER_S_ADDRESS_IS_NOT);
        return NGX_DECLINED;
    }

    if (c->nto && c->rcpt[0].name.len == 0 && ob->name.len
        && c->rcpt[0].addr.len == ob->email.len
        && ngx_strncasecmp(c->rcpt[0].addr.data, ob->email.data,
                           ob->email.len) == 0)
    {
        c->rcpt[0].name = *ngx_ticket_str(&ob->name);
        c->rcpt[0].name_quoted = 0;
    }

    /* the address index is lower case */
    ob->lower.data = ngx_pnalloc(r->pool, ob->email.len);
    if (ob->lower.data == NULL) {
        return NGX_ERROR;
    }

    ob->lower.len = ob->email.len;
    tk_addr_lower(ob->lower.data, ngx_ticket_str(&ob->email));

    return NGX_OK;
}


void
ngx_http_ticket_outbound_first_error(ngx_http_ticket_outbound_t *ob,
    const char **field, const char **message)
{
    if (ob->err_group) {
        *field = "group";
        *message = ob->err_group;
        return;
    }

    ngx_http_ticket_reply_first_error(&ob->c, field, message);

    if (*message == NULL && ob->err_name) {
        *field = ob->api ? "customer" : "customer_name";
        *message = ob->err_name;
    }
}


/* ---- the page --------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_outbound_page(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_outbound_t *ob,
    ngx_http_ticket_reply_t *keys, ngx_uint_t status)
{
    ngx_int_t                         s;
    ngx_str_t                         title;
    ngx_uint_t                        i, n;
    ngx_flag_t                        de;
    const char                       *kind;
    tk_tpl_compose_new_t             *tpl;
    ngx_http_ticket_compose_t        *c;
    ngx_http_ticket_security_t        sec;
    ngx_http_ticket_loc_conf_t       *lcf;
    ngx_http_ticket_main_conf_t      *mcf;
    ngx_http_ticket_group_right_t    *gr;
    tk_tpl_compose_new_state_opts_t  *so;

    c = &ob->c;
    de = ngx_http_ticket_lang_de(ctx);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_ticket_module);
    ctx->page = "new";

    tpl = ngx_pcalloc(r->pool, sizeof(tk_tpl_compose_new_t));
    so = ngx_pcalloc(r->pool, TK_STATE_MAX * sizeof(*so));
    gr = ctx->groups.elts;
    if (tpl == NULL || so == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    c->tpl = tpl;
    tpl->de = de;
    tpl->csrf = *ngx_ticket_str(&ctx->csrf);
    tpl->static_url = *ngx_ticket_str(&lcf->static_url);
    tpl->version = *ngx_ticket_str(&mcf->static_version);
    tpl->tag = *ngx_ticket_str(&lcf->subject_tag);
    tpl->to = *ngx_ticket_str(&c->to);
    tpl->customer_name = *ngx_ticket_str(&ob->name_typed);
    tpl->cc = *ngx_ticket_str(&c->cc);
    tpl->bcc = *ngx_ticket_str(&c->bcc);
    tpl->subject = *ngx_ticket_str(&c->subject);
    tpl->body = *ngx_ticket_str(&c->body);
    tpl->pending = *ngx_ticket_str(&c->pending);

    ngx_http_ticket_cstr(&tpl->err, c->err);
    ngx_http_ticket_cstr(&tpl->err_group, ob->err_group);
    ngx_http_ticket_cstr(&tpl->err_to, c->err_to);
    ngx_http_ticket_cstr(&tpl->err_name, ob->err_name);
    ngx_http_ticket_cstr(&tpl->err_cc, c->err_cc);
    ngx_http_ticket_cstr(&tpl->err_bcc, c->err_bcc);
    ngx_http_ticket_cstr(&tpl->err_subject, c->err_subject);
    ngx_http_ticket_cstr(&tpl->err_body, c->err_body);
    ngx_http_ticket_cstr(&tpl->err_state, c->err_state);
    ngx_http_ticket_cstr(&tpl->err_files, c->err_files);

    /* only the groups one may write in */
    tpl->groups = ngx_pcalloc(r->pool, (ctx->groups.nelts + 1)
                                       * sizeof(*tpl->groups));
    if (tpl->groups == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0, n = 0; i < ctx->groups.nelts; i++) {
        if (gr[i].right != TK_RIGHT_FULL) {
            continue;
        }

        tpl->groups[n].value = *ngx_ticket_str(&gr[i].name);
        tpl->groups[n].selected = (gr[i].name.len == ob->group.len
                                   && ngx_strncmp(gr[i].name.data,
                                                  ob->group.data,
                                                  ob->group.len) == 0);
        n++;
    }

    tpl->groups_n = n;

    tpl->upload_max.data = ngx_pnalloc(r->pool, NGX_SIZE_T_LEN + 4);
    if (tpl->upload_max.data == NULL
        || ngx_http_ticket_url(r, "new", 3, &tpl->action) != NGX_OK
        || ngx_http_ticket_url(r, "new/security", 12, &tpl->security_url)
           != NGX_OK
        || ngx_http_ticket_url(r, "new/complete", 12, &tpl->complete_url)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->upload_max.len = ngx_sprintf(tpl->upload_max.data, "%uz MB",
                                      lcf->upload_max_size / (1024 * 1024))
                          - tpl->upload_max.data;

    /* the security line as the send would decide it */
    ngx_memzero(&sec, sizeof(ngx_http_ticket_security_t));

    if (ob->grp) {
        ngx_http_ticket_security(&sec, c->rcpt, c->nto + c->ncc + c->nbcc,
                                 keys, ob->grp, 0);
    }

    ngx_http_ticket_security_crypt(&sec, &tpl->crypt);

    if (ngx_http_ticket_security_text(r, ngx_http_ticket_lang(ctx), &sec,
                                      &tpl->security, &kind)
            != NGX_OK
        || ngx_http_ticket_compose_send_label(r, ngx_http_ticket_lang(ctx), c,
                                              &tpl->send_label)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_ticket_cstr(&tpl->sec_kind, kind);

    for (s = TK_STATE_MIN; s <= TK_STATE_MAX; s++) {
        if (ngx_http_ticket_uint_str(r, s, &so[s - 1].value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_ticket_state_label(ctx, s, &so[s - 1].label);
        so[s - 1].selected = (s == (c->state > 0 ? c->state
                                                 : TK_STATE_WAITING));
    }

    tpl->state_opts = so;
    tpl->state_opts_n = TK_STATE_MAX;

    title.data = (u_char *) ngx_http_ticket_msg(ctx,
                                                TK_MSG_COMPOSE_FORM_SEND_EMAIL);
    title.len = ngx_strlen(title.data);

    return ngx_http_ticket_page(r, ctx, status, &title,
                                ngx_http_ticket_outbound_body, tpl);
}


static void
ngx_http_ticket_outbound_body(tk_out_t *out, void *data)
{
    tk_tpl_compose_new(out, data);
}
