/*
 * ngx_http_ticket_compose_form.c -- the composer's template filled in
 * (compose.html): the values, the errors next to their fields, the
 * security line, the state afterwards, the ways of answering, the
 * button that says what will happen; and what the article list shows
 * about mail: Reply-To, List-Id, the delivery state, the reply links.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_view.h"
#include "ngx_http_ticket_casework.h"


static ngx_int_t ngx_http_ticket_compose_modes(ngx_http_request_t *r,
    int lang, ngx_http_ticket_view_t *v, ngx_http_ticket_compose_t *c,
    ngx_http_ticket_compose_load_t *ld, tk_tpl_compose_t *tpl);
static ngx_int_t ngx_http_ticket_compose_url(ngx_http_request_t *r,
    tk_str_t *out, const char *fmt, ...);


ngx_int_t
ngx_http_ticket_compose_tpl(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_view_t *v, ngx_http_ticket_compose_t *c,
    ngx_http_ticket_compose_load_t *ld, ngx_http_ticket_security_t *sec)
{
    ngx_int_t                         s;
    ngx_uint_t                        i;
    ngx_flag_t                        de, keep;
    const char                       *kind;
    tk_str_t                         *ch;
    ngx_str_t                         sig, *rev;
    tk_tpl_compose_t                 *tpl;
    tk_tpl_compose_state_opts_t      *so;
    ngx_http_ticket_loc_conf_t       *lcf;
    ngx_http_ticket_main_conf_t      *mcf;

    de = ngx_http_ticket_lang_de(ctx);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_ticket_module);

    tpl = ngx_pcalloc(r->pool, sizeof(tk_tpl_compose_t));
    so = ngx_pcalloc(r->pool, TK_STATE_MAX * sizeof(*so));
    if (tpl == NULL || so == NULL) {
        return NGX_ERROR;
    }

    c->tpl = tpl;

    tpl->de = de;
    tpl->note = c->note;
    tpl->forward = c->forward;

    /* a forward takes the mail's attachments along */
    if (c->forward && ld->target && ld->target->attachments) {
        tpl->forward_files.data = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 64);
        if (tpl->forward_files.data == NULL) {
            return NGX_ERROR;
        }

        tpl->forward_files.len = ngx_sprintf(tpl->forward_files.data,
                                   ngx_http_ticket_msg(ctx,
                                       TK_MSG_COMPOSE_FORM_UI_ATTACHMENTS_ARE_FORWARDED),
                                   ld->target->attachments)
                                 - tpl->forward_files.data;
    }
    /* the group as the page saw it: the send needs no read to find it */
    tpl->group = v->ticket.group;
    tpl->csrf = *ngx_ticket_str(&ctx->csrf);
    tpl->static_url = *ngx_ticket_str(&lcf->static_url);
    tpl->version = *ngx_ticket_str(&mcf->static_version);
    tpl->tag = *ngx_ticket_str(&lcf->subject_tag);
    tpl->to = *ngx_ticket_str(&c->to);
    tpl->cc = *ngx_ticket_str(&c->cc);
    tpl->bcc = *ngx_ticket_str(&c->bcc);
    tpl->subject = *ngx_ticket_str(&c->subject);
    if (ngx_http_ticket_compose_body(r, ctx, c, ld, &tpl->body,
                                     &tpl->body_html) != NGX_OK)
    {
        return NGX_ERROR;
    }

    tpl->pending = *ngx_ticket_str(&c->pending);

    ngx_http_ticket_cstr(&tpl->err, c->err);
    ngx_http_ticket_cstr(&tpl->err_to, c->err_to);
    ngx_http_ticket_cstr(&tpl->err_cc, c->err_cc);
    ngx_http_ticket_cstr(&tpl->err_bcc, c->err_bcc);
    ngx_http_ticket_cstr(&tpl->err_subject, c->err_subject);
    ngx_http_ticket_cstr(&tpl->err_body, c->err_body);
    ngx_http_ticket_cstr(&tpl->err_state, c->err_state);
    ngx_http_ticket_cstr(&tpl->err_confirm, c->err_confirm);
    ngx_http_ticket_cstr(&tpl->err_files, c->err_files);

    /* "20 MB" */
    tpl->upload_max.data = ngx_pnalloc(r->pool, NGX_SIZE_T_LEN + 4);
    if (tpl->upload_max.data == NULL) {
        return NGX_ERROR;
    }

    tpl->upload_max.len = ngx_sprintf(tpl->upload_max.data, "%uz MB",
                                      lcf->upload_max_size / (1024 * 1024))
                          - tpl->upload_max.data;

    /* tag as it goes into the subject: "[Ticket#42]" */
    tpl->tag.data = ngx_pnalloc(r->pool, lcf->subject_tag.len
                                         + NGX_INT64_LEN + 2);
    if (tpl->tag.data == NULL) {
        return NGX_ERROR;
    }

    tpl->tag.len = ngx_sprintf(tpl->tag.data, "[%V%uL]", &lcf->subject_tag,
                               v->number) - tpl->tag.data;

    if (c->changes) {
        ch = c->changes->elts;
        tpl->changes = ngx_pcalloc(r->pool, (c->changes->nelts + 1)
                                            * sizeof(*tpl->changes));
        if (tpl->changes == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < c->changes->nelts; i++) {
            tpl->changes[i].text = ch[i];
        }

        tpl->changes_n = c->changes->nelts;
    }

    /* what the form saw: now, unless it comes back for another reason
     * than a conflict (then a later send still notices what changed) */
    keep = c->posted && !c->changes && c->rev >= 0;
    rev = ngx_http_ticket_reply_field(v->ids - NGX_HTTP_TICKET_READ_ARTICLES,
                                      TK_F_REV);

    if (ngx_http_ticket_compose_url(r, &tpl->action, "t/%uL/reply",
                                    v->number) != NGX_OK
        || ngx_http_ticket_compose_url(r, &tpl->security_url,
                                       "t/%uL/security", v->number) != NGX_OK
        || ngx_http_ticket_compose_url(r, &tpl->complete_url,
                                       "t/%uL/complete", v->number) != NGX_OK
        || ngx_http_ticket_uint_str(r, keep ? (uint64_t) c->rev
                                    : (rev ? (uint64_t) tk_str_atoll(
                                                  ngx_ticket_str(rev)) : 0),
                                    &tpl->rev) != NGX_OK
        || ngx_http_ticket_uint_str(r, keep ? (uint64_t) c->arts
                                    : (v->ids->type == REDIS_REPLY_ARRAY
                                       ? v->ids->nelem : 0),
                                    &tpl->arts) != NGX_OK
        || ngx_http_ticket_uint_str(r, keep ? (uint64_t) c->hist
                                    : (v->history->type == REDIS_REPLY_ARRAY
                                       ? v->history->nelem : 0),
                                    &tpl->hist) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (c->reply
        && ngx_http_ticket_uint_str(r, c->reply, &tpl->reply) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_ticket_reply_value(ld->group, TK_F_SIGNATURE, &sig);
    tpl->signature = *ngx_ticket_str(&sig);

    /* the security line */
    ngx_http_ticket_security_crypt(sec, &tpl->crypt);

    if (ngx_http_ticket_security_text(r, ngx_http_ticket_lang(ctx), sec, &tpl->security, &kind)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_ticket_cstr(&tpl->sec_kind, kind);
    tpl->confirmable = sec->customer_encrypted;
    tpl->confirmed = c->confirm_plain;

    /* state afterwards */
    for (s = TK_STATE_MIN; s <= TK_STATE_MAX; s++) {
        if (ngx_http_ticket_uint_str(r, s, &so[s - 1].value) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_ticket_state_label(ctx, s, &so[s - 1].label);
        so[s - 1].selected = (s == (c->state ? c->state : TK_STATE_WAITING));
    }

    tpl->state_opts = so;
    tpl->state_opts_n = TK_STATE_MAX;

    if (ngx_http_ticket_compose_modes(r, ngx_http_ticket_lang(ctx), v, c,
                                      ld, tpl) != NGX_OK) {
        return NGX_ERROR;
    }

    /* casework: the templates, ?template=ID; "::" suggestions */
    if (ngx_http_ticket_template_prefill(r, ctx, v, c, ld->templates,
                                         ld->chosen, tpl)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_ticket_compose_send_label(r, ngx_http_ticket_lang(ctx), c,
                                              &tpl->send_label);
}


/* One click each: reply (Reply-To or From), to all, forward, and for a
 * list mail to the list or to the sender alone. */
static ngx_int_t
ngx_http_ticket_compose_modes(ngx_http_request_t *r, int lang,
    ngx_http_ticket_view_t *v, ngx_http_ticket_compose_t *c,
    ngx_http_ticket_compose_load_t *ld, tk_tpl_compose_t *tpl)
{
    ngx_uint_t                   n, i;
    ngx_http_ticket_cs_art_t    *a;
    tk_tpl_compose_modes_t      *m;

    static const char  *modes[] = { "", "all", "forward", "list", "sender" };
    static const int    labels[] = {
        TK_MSG_COMPOSE_MODE_REPLY, TK_MSG_COMPOSE_MODE_ALL,
        TK_MSG_COMPOSE_MODE_FORWARD, TK_MSG_COMPOSE_MODE_LIST,
        TK_MSG_COMPOSE_MODE_SENDER };

    a = ld->target;

    if (a == NULL || a->kind != TK_ART_IN || c->posted) {
        return NGX_OK;
    }

    m = ngx_pcalloc(r->pool, 5 * sizeof(*m));
    if (m == NULL) {
        return NGX_ERROR;
    }

    tpl->modes = m;
    n = 0;

    for (i = 0; i < 5; i++) {
        if (i >= 3 && a->list_id.len == 0) {
            break;
        }

        ngx_http_ticket_cstr(&m[n].mode, i ? modes[i] : "reply");
        ngx_http_ticket_cstr(&m[n].label, tk_msg(lang, labels[i]));
        m[n].current = (c->mode.len == ngx_strlen(modes[i])
                        && ngx_strncmp(c->mode.data, modes[i], c->mode.len)
                           == 0);

        if ((i ? ngx_http_ticket_compose_url(r, &m[n].url,
                                             "t/%uL?reply=%uL&to=%s#composer",
                                             v->number, a->id, modes[i])
               : ngx_http_ticket_compose_url(r, &m[n].url,
                                             "t/%uL?reply=%uL#composer",
                                             v->number, a->id))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        n++;
    }

    tpl->modes_n = n;

    return NGX_OK;
}


/* "Send email to ana@x.org" (and how many more): the button says what
 * will happen.  The script keeps it current as recipients change. */
ngx_int_t
ngx_http_ticket_compose_send_label(ngx_http_request_t *r, ngx_uint_t lang,
    ngx_http_ticket_compose_t *c, tk_str_t *label)
{
    u_char      *p;
    ngx_uint_t   n;
    ngx_str_t   *first;

    n = c->nto + c->ncc + c->nbcc;

    if (n == 0) {
        ngx_http_ticket_cstr(label,
                             tk_msg((int) lang, TK_MSG_COMPOSE_FORM_SEND_EMAIL));
        return NGX_OK;
    }

    first = (ngx_str_t *) &c->rcpt[0].addr;

    p = ngx_pnalloc(r->pool, first->len + NGX_INT_T_LEN + 64);
    if (p == NULL) {
        return NGX_ERROR;
    }

    label->data = p;

    if (n == 1) {
        p = ngx_sprintf(p, tk_msg((int) lang, TK_MSG_COMPOSE_FORM_SEND_EMAIL_TO),
                        first);
    } else {
        p = ngx_sprintf(p,
                        tk_msg((int) lang,
                               TK_MSG_COMPOSE_FORM_SEND_EMAIL_TO_MORE),
                        first, n - 1);
    }

    label->len = p - label->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_compose_url(ngx_http_request_t *r, tk_str_t *out,
    const char *fmt, ...)
{
    u_char   buf[3 * NGX_INT64_LEN + 64], *last;
    va_list  args;

    va_start(args, fmt);
    last = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    return ngx_http_ticket_url(r, (char *) buf, last - buf, out);
}


/* ---- in the article list ---------------------------------------------- */

/*
 * What a mail's details show besides From/To/Cc/Subject: Reply-To and
 * List-Id; for mail we sent, how its delivery went (tk_outbox_delivery
 * bumps the ticket's rev, so the cached list never shows an old state);
 * for those who may answer, one link per way of answering it.
 */
ngx_int_t
ngx_http_ticket_compose_article(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v, tk_article_t *a,
    tk_tpl_thread_articles_t *art)
{

    art->reply_to = a->reply_to;
    art->list_id = a->list_id;

    if (a->kind == TK_ART_OUT && a->delivery.len) {
        art->delivery = a->delivery;
        art->delivery_info = a->delivery_info;

        ngx_http_ticket_cstr(&art->delivery_label,
            tk_str_eq_cstr(&a->delivery, "sent")
            ? ngx_http_ticket_msg(ctx,
                                  TK_MSG_COMPOSE_FORM_DELIVERED_TO_THE_SERVER)
            : tk_str_eq_cstr(&a->delivery, "failed")
            ? ngx_http_ticket_msg(ctx, TK_MSG_COMPOSE_FORM_NOT_DELIVERED)
            : ngx_http_ticket_msg(ctx, TK_MSG_COMPOSE_FORM_WAITING_TO_BE_SENT));
    }

    /* split an article off into a ticket of its own (issue 13): a link
     * to the confirmation, whose form carries the CSRF token */
    if (v->right == TK_RIGHT_FULL && v->narticles > 1) {
        ngx_http_ticket_cstr(&art->split_label,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_COMPOSE_FORM_SPLIT_OFF_INTO_A_NEW_TICKET));

        if (ngx_http_ticket_compose_url(r, &art->split_url, "t/%uL/a/%uL/split",
                                        v->number, a->id) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (v->right != TK_RIGHT_FULL || a->kind == TK_ART_NOTE) {
        return NGX_OK;
    }

    ngx_http_ticket_cstr(&art->reply_label,
                         ngx_http_ticket_msg(ctx, TK_MSG_COMPOSE_REPLY));
    ngx_http_ticket_cstr(&art->reply_all_label,
                         ngx_http_ticket_msg(ctx,
                                             TK_MSG_COMPOSE_FORM_REPLY_ALL));
    ngx_http_ticket_cstr(&art->forward_label,
                         ngx_http_ticket_msg(ctx, TK_MSG_COMPOSE_FORM_FORWARD));

    if (ngx_http_ticket_compose_url(r, &art->reply_url,
                                    "t/%uL?reply=%uL#composer", v->number,
                                    a->id) != NGX_OK
        || ngx_http_ticket_compose_url(r, &art->reply_all_url,
                                       "t/%uL?reply=%uL&to=all#composer",
                                       v->number, a->id) != NGX_OK
        || ngx_http_ticket_compose_url(r, &art->forward_url,
                                       "t/%uL?reply=%uL&to=forward#composer",
                                       v->number, a->id) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (a->list_id.len == 0 || a->kind != TK_ART_IN) {
        return NGX_OK;
    }

    ngx_http_ticket_cstr(&art->list_label,
                         ngx_http_ticket_msg(ctx,
                             TK_MSG_COMPOSE_FORM_REPLY_TO_LIST));
    ngx_http_ticket_cstr(&art->sender_label,
                         ngx_http_ticket_msg(ctx,
                             TK_MSG_COMPOSE_FORM_REPLY_TO_SENDER));

    if (ngx_http_ticket_compose_url(r, &art->list_url,
                                    "t/%uL?reply=%uL&to=list#composer",
                                    v->number, a->id) != NGX_OK
        || ngx_http_ticket_compose_url(r, &art->sender_url,
                                       "t/%uL?reply=%uL&to=sender#composer",
                                       v->number, a->id) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
