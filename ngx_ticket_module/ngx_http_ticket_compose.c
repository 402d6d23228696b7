/*
 * ngx_http_ticket_compose.c -- the composer on the ticket page.  A reply
 * by mail is the default; an internal note is the other mode of the
 * same form.  Fresh, it answers the newest mail (or the one named by
 * "?reply=A", to its sender, to all, or to the mailing list: "?to="),
 * quoted; posted back (errors, a conflict), it shows what was typed.
 * Its reads run after the page's own (two more batches, full right
 * only): the group (address, signature, signing key), every article's
 * addresses and flags (one SORT), then the answered article's text and
 * the recipients' keys.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_view.h"


/* replies of the composer's first batch */
#define NGX_HTTP_TICKET_C_GROUP        0
#define NGX_HTTP_TICKET_C_SORT         1


typedef struct {
    ngx_http_ticket_step_pt    step;            /* the page's, run after */
    ngx_http_ticket_reply_t   *saved;           /* the page's replies */
    ngx_uint_t                 nsaved;
    ngx_http_ticket_reply_t   *group;
    ngx_http_ticket_cs_art_t  *arts;
    ngx_uint_t                 narts;
    ngx_http_ticket_cs_art_t  *target;          /* the answered article */
    ngx_int_t                  quote_at;        /* its HMGET, -1: none */
    ngx_int_t                  keys_at;         /* HMGET of keys, -1 */
} ngx_http_ticket_compose_load_t;


static void ngx_http_ticket_compose_query(ngx_http_request_t *r,
    ngx_http_ticket_compose_t *c);
static ngx_int_t ngx_http_ticket_compose_loaded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_http_ticket_cs_art_t *ngx_http_ticket_compose_target(
    ngx_http_ticket_compose_t *c, ngx_http_ticket_compose_load_t *ld);
static ngx_int_t ngx_http_ticket_compose_defaults(ngx_http_request_t *r,
    ngx_http_ticket_view_t *v, ngx_http_ticket_compose_t *c,
    ngx_http_ticket_compose_load_t *ld);
static ngx_int_t ngx_http_ticket_compose_list_addr(ngx_http_request_t *r,
    ngx_http_ticket_cs_art_t *t, ngx_str_t *to);
static ngx_int_t ngx_http_ticket_compose_others(ngx_http_request_t *r,
    ngx_http_ticket_cs_art_t *t, ngx_str_t *group_email, ngx_str_t *to,
    ngx_str_t *cc);
static ngx_int_t ngx_http_ticket_compose_ready(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_compose_quote(ngx_http_request_t *r,
    ngx_flag_t de, ngx_http_ticket_reply_t *rep, ngx_str_t *body);
static ngx_int_t ngx_http_ticket_compose_tpl(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_compose_t *c, ngx_http_ticket_compose_load_t *ld,
    ngx_http_ticket_security_t *sec);
static ngx_int_t ngx_http_ticket_compose_modes(ngx_http_request_t *r,
    ngx_flag_t de, ngx_http_ticket_view_t *v, ngx_http_ticket_compose_t *c,
    ngx_http_ticket_compose_load_t *ld, tk_tpl_compose_t *tpl);
static ngx_int_t ngx_http_ticket_compose_send_label(ngx_http_request_t *r,
    ngx_flag_t de, ngx_http_ticket_compose_t *c, tk_str_t *label);
static ngx_int_t ngx_http_ticket_compose_url(ngx_http_request_t *r,
    tk_str_t *out, const char *fmt, ...);


/* ---- the reads -------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_compose_load(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_view_t *v, ngx_http_ticket_step_pt step)
{
    char                             gkey[TK_KEY_MAX];
    tk_cmds_t                       *cmds;
    ngx_http_ticket_compose_t       *c;
    ngx_http_ticket_compose_load_t  *ld;

    if (v->right != TK_RIGHT_FULL) {
        /* a reply posted back to a user who may only read: as actions */
        v->compose = NULL;
        v->compose_loaded = 1;

        return ngx_http_ticket_error(r, ctx, NGX_HTTP_FORBIDDEN,
                                     ngx_http_ticket_lang_de(ctx)
                                     ? "Du hast f\xc3\xbcr diese AG nur "
                                       "Lesezugriff."
                                     : "You have read access to this "
                                       "group only.");
    }

    c = v->compose;

    if (c == NULL) {
        c = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_compose_t));
        if (c == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        c->rev = -1;
        c->arts = -1;
        c->hist = -1;
        ngx_http_ticket_compose_query(r, c);
        v->compose = c;
    }

    ld = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_compose_load_t));
    cmds = ngx_http_ticket_cmds(r);
    if (ld == NULL || cmds == NULL
        || tk_key_group(gkey, sizeof(gkey), &v->ticket.group) == 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    c->load = ld;
    ld->step = step;
    ld->saved = ctx->replies;
    ld->nsaved = ctx->nreplies;
    ld->quote_at = -1;
    ld->keys_at = -1;

    tk_cmds_add(cmds, "HGETALL %s", gkey);
    ngx_http_ticket_compose_sort(cmds, v->number);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_compose_loaded);
}


/* "?reply=A&to=all|list|sender&type=note": the links that prefill it */
static void
ngx_http_ticket_compose_query(ngx_http_request_t *r,
    ngx_http_ticket_compose_t *c)
{
    ngx_str_t  arg;

    if (ngx_http_ticket_query_arg(r, "reply", &arg) == NGX_OK
        && ngx_http_ticket_number(arg.data, arg.data + arg.len, &c->reply)
           != arg.len)
    {
        c->reply = 0;
    }

    if (ngx_http_ticket_query_arg(r, "to", &arg) == NGX_OK
        && ((arg.len == 3 && ngx_strncmp(arg.data, "all", 3) == 0)
            || (arg.len == 4 && ngx_strncmp(arg.data, "list", 4) == 0)
            || (arg.len == 6 && ngx_strncmp(arg.data, "sender", 6) == 0)))
    {
        c->mode = arg;
    }

    if (ngx_http_ticket_query_arg(r, "type", &arg) == NGX_OK
        && arg.len == 4 && ngx_strncmp(arg.data, "note", 4) == 0)
    {
        c->note = 1;
    }
}


static ngx_int_t
ngx_http_ticket_compose_loaded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    char                             key[TK_KEY_MAX];
    size_t                           len;
    tk_cmds_t                       *cmds;
    ngx_http_ticket_view_t          *v;
    ngx_http_ticket_compose_t       *c;
    ngx_http_ticket_compose_load_t  *ld;

    v = ctx->view;
    c = v->compose;
    ld = c->load;

    if (ctx->nreplies < 2
        || ngx_http_ticket_compose_sorted(r,
                                     &ctx->replies[NGX_HTTP_TICKET_C_SORT],
                                     &ld->arts, &ld->narts)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ld->group = &ctx->replies[NGX_HTTP_TICKET_C_GROUP];
    ld->target = ngx_http_ticket_compose_target(c, ld);

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!c->posted) {
        if (ngx_http_ticket_compose_defaults(r, v, c, ld) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* what the defaults could not parse simply gets no key check:
         * sending it is refused with the message next to the field */
        (void) ngx_http_ticket_compose_rcpt(c, ngx_http_ticket_lang_de(ctx));
        c->err_to = c->err_cc = c->err_bcc = NULL;

        if (ld->target) {
            len = tk_key_article(key, sizeof(key), v->number,
                                 ld->target->id);
            ld->quote_at = cmds->n;
            tk_cmds_add(cmds, "HMGET %b " TK_F_BODY " " TK_F_TIME " "
                        TK_F_FROM, key, len);
        }
    }

    ld->keys_at = cmds->n;

    if (ngx_http_ticket_compose_keys(r, cmds, c->rcpt,
                                     c->nto + c->ncc + c->nbcc)
        == 0)
    {
        ld->keys_at = -1;
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cmds->n == 0) {
        ctx->nreplies = 0;
        return ngx_http_ticket_compose_ready(r, ctx);
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_compose_ready);
}


/* The article named, if it is a mail of this ticket; else the newest
 * mail (in or out): what an agent answers nearly always. */
static ngx_http_ticket_cs_art_t *
ngx_http_ticket_compose_target(ngx_http_ticket_compose_t *c,
    ngx_http_ticket_compose_load_t *ld)
{
    ngx_uint_t  i;

    for (i = 0; c->reply && i < ld->narts; i++) {
        if (ld->arts[i].id == c->reply && ld->arts[i].kind != TK_ART_NOTE) {
            return &ld->arts[i];
        }
    }

    if (c->posted) {
        return NULL;
    }

    for (i = ld->narts; i > 0; i--) {
        if (ld->arts[i - 1].kind != TK_ART_NOTE) {
            return &ld->arts[i - 1];
        }
    }

    return NULL;
}


/*
 * Recipients and subject of a fresh composer.  A mail we sent is
 * answered to the same people; a mail received to its Reply-To (or
 * From) -- "sender" ignores a Reply-To (lists set it), "all" adds its
 * To and Cc without our own address, "list" writes to the list.
 */
static ngx_int_t
ngx_http_ticket_compose_defaults(ngx_http_request_t *r,
    ngx_http_ticket_view_t *v, ngx_http_ticket_compose_t *c,
    ngx_http_ticket_compose_load_t *ld)
{
    u_char                    *p;
    ngx_str_t                  email, subject;
    tk_ticket_t               *t;
    ngx_http_ticket_cs_art_t  *a;

    t = &v->ticket;
    a = ld->target;
    c->state = TK_STATE_WAITING;

    ngx_http_ticket_reply_value(ld->group, TK_F_EMAIL, &email);

    if (a == NULL) {
        /* no mail yet: the customer */
        c->to = *(ngx_str_t *) &t->customer_email;
        subject = *(ngx_str_t *) &t->title;
        goto subject;
    }

    c->reply = a->id;
    subject.len = 0;

    if (a->kind == TK_ART_OUT) {
        c->to = a->to;
        c->cc = a->cc;

    } else if (c->mode.len == 4 && ngx_strncmp(c->mode.data, "list", 4) == 0
               && a->list_id.len)
    {
        if (ngx_http_ticket_compose_list_addr(r, a, &c->to) != NGX_OK) {
            return NGX_ERROR;
        }

    } else if (c->mode.len == 6
               && ngx_strncmp(c->mode.data, "sender", 6) == 0)
    {
        c->to = a->from;

    } else {
        c->to = a->reply_to.len ? a->reply_to : a->from;

        if (c->mode.len == 3 && ngx_strncmp(c->mode.data, "all", 3) == 0
            && ngx_http_ticket_compose_others(r, a, &email, &c->to, &c->cc)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    /* the subject of the answered mail (SORT does not read it: HMGET
     * would cost a batch; the ticket's title is that subject, mostly) */
    subject = *(ngx_str_t *) &t->title;

subject:

    if (subject.len >= 3
        && (ngx_strncasecmp(subject.data, (u_char *) "re:", 3) == 0
            || ngx_strncasecmp(subject.data, (u_char *) "aw:", 3) == 0))
    {
        c->subject = subject;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, subject.len + 4);
    if (p == NULL) {
        return NGX_ERROR;
    }

    c->subject.data = p;
    c->subject.len = ngx_sprintf(p, "Re: %V", &subject) - p;

    return NGX_OK;
}


/*
 * The list's posting address: mailman-style, List-Id "NAME.DOMAIN" is
 * NAME@DOMAIN; the address in To/Cc that matches it, else Reply-To,
 * else To.
 */
static ngx_int_t
ngx_http_ticket_compose_list_addr(ngx_http_request_t *r,
    ngx_http_ticket_cs_art_t *t, ngx_str_t *to)
{
    int         n, i;
    u_char      buf[TK_ADDR_LEN_MAX + 1], *at;
    size_t      len;
    tk_str_t    bad, list;
    tk_addr_t   addrs[16];
    ngx_uint_t  f;

    for (f = 0; f < 2; f++) {
        list = *ngx_ticket_str(f ? &t->cc : &t->to);
        n = tk_addr_parse(&list, addrs, 16, &bad);

        for (i = 0; i < n; i++) {
            len = addrs[i].addr.len;
            if (len > TK_ADDR_LEN_MAX || len != t->list_id.len) {
                continue;
            }

            ngx_memcpy(buf, addrs[i].addr.data, len);
            at = ngx_strlchr(buf, buf + len, '@');
            *at = '.';

            if (ngx_strncasecmp(buf, t->list_id.data, len) == 0) {
                to->data = addrs[i].addr.data;
                to->len = len;
                return NGX_OK;
            }
        }
    }

    *to = t->reply_to.len ? t->reply_to : t->to;

    return NGX_OK;
}


/* "Reply all": To and Cc of the mail besides the one answered and us. */
static ngx_int_t
ngx_http_ticket_compose_others(ngx_http_request_t *r,
    ngx_http_ticket_cs_art_t *t, ngx_str_t *group_email, ngx_str_t *to,
    ngx_str_t *cc)
{
    int                     n, m, i, j, keep;
    tk_out_t                out;
    tk_str_t                bad, list, s;
    tk_addr_t               first[4], all[2 * TK_ADDR_MAX];
    ngx_http_ticket_sink_t  sink;

    if (tk_addr_parse(ngx_ticket_str(to), first, 4, &bad) < 0) {
        return NGX_OK;
    }

    n = tk_addr_parse(ngx_ticket_str(&t->to), all, TK_ADDR_MAX, &bad);
    list = *ngx_ticket_str(&t->cc);
    m = tk_addr_parse(&list, all + (n > 0 ? n : 0), TK_ADDR_MAX, &bad);

    if (n < 0 || m < 0) {
        return NGX_OK;
    }

    n += m;
    m = 0;

    for (i = 0; i < n; i++) {
        keep = !tk_str_eq_ci(&all[i].addr, ngx_ticket_str(group_email));

        for (j = 0; keep && j < 4 && first[j].addr.len; j++) {
            keep = !tk_str_eq_ci(&all[i].addr, &first[j].addr);
        }

        for (j = 0; keep && j < m; j++) {
            keep = !tk_str_eq_ci(&all[i].addr, &all[j].addr);
        }

        if (keep) {
            all[m++] = all[i];
        }
    }

    ngx_http_ticket_sink_init(r, &out, &sink, t->to.len + t->cc.len + 16);
    tk_addr_write(&out, all, m);

    if (ngx_http_ticket_sink_str(&out, &s) != NGX_OK) {
        return NGX_ERROR;
    }

    *cc = *(ngx_str_t *) &s;

    return NGX_OK;
}


/* ---- the form --------------------------------------------------------- */

static ngx_int_t
ngx_http_ticket_compose_ready(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_view_t          *v;
    ngx_http_ticket_reply_t         *keys;
    ngx_http_ticket_compose_t       *c;
    ngx_http_ticket_security_t       sec;
    ngx_http_ticket_compose_load_t  *ld;

    v = ctx->view;
    c = v->compose;
    ld = c->load;

    if (ld->quote_at >= 0 && (ngx_uint_t) ld->quote_at < ctx->nreplies
        && ngx_http_ticket_compose_quote(r, ngx_http_ticket_lang_de(ctx),
                                         &ctx->replies[ld->quote_at],
                                         &c->body)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    keys = (ld->keys_at >= 0 && (ngx_uint_t) ld->keys_at < ctx->nreplies)
           ? &ctx->replies[ld->keys_at] : NULL;

    ngx_http_ticket_security(&sec, c->rcpt, c->nto + c->ncc + c->nbcc, keys,
                             ld->group, ld->arts, ld->narts);

    if (ngx_http_ticket_compose_tpl(r, ctx, v, c, ld, &sec) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->replies = ld->saved;
    ctx->nreplies = ld->nsaved;
    v->compose_loaded = 1;

    return ld->step(r, ctx);
}


/* "\n\nAm 2026-11-24 14:05 schrieb Ana <ana@x.org>:\n> ...", the mail
 * answered quoted below where the agent writes. */
static ngx_int_t
ngx_http_ticket_compose_quote(ngx_http_request_t *r, ngx_flag_t de,
    ngx_http_ticket_reply_t *rep, ngx_str_t *body)
{
    u_char                  *p, *e, *nl;
    tk_out_t                 out;
    tk_str_t                 when, s;
    ngx_str_t                text, time, from;
    ngx_http_ticket_sink_t   sink;

    if (rep->type != REDIS_REPLY_ARRAY || rep->nelem != 3) {
        return NGX_OK;
    }

    ngx_http_ticket_reply_str(&rep->element[0], &text);
    ngx_http_ticket_reply_str(&rep->element[1], &time);
    ngx_http_ticket_reply_str(&rep->element[2], &from);

    if (text.len == 0) {
        return NGX_OK;
    }

    if (ngx_http_ticket_time_str(r, tk_str_atoll(ngx_ticket_str(&time)),
                                 &when)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_ticket_sink_init(r, &out, &sink, text.len + text.len / 8 + 128);

    tk_out_cstr(&out, de ? "\n\nAm " : "\n\nOn ");
    tk_out_str(&out, &when);
    tk_out_cstr(&out, de ? " schrieb " : ", ");
    tk_out_raw(&out, from.data, from.len);
    tk_out_cstr(&out, de ? ":\n" : " wrote:\n");

    p = text.data;
    e = text.data + text.len;

    while (p < e) {
        nl = ngx_strlchr(p, e, '\n');
        if (nl == NULL) {
            nl = e;
        }

        tk_out_raw(&out, (*p == '>') ? ">" : "> ", (*p == '>') ? 1 : 2);
        tk_out_raw(&out, p, (nl > p && nl[-1] == '\r') ? nl - p - 1 : nl - p);
        tk_out_raw(&out, "\n", 1);
        p = nl + 1;
    }

    if (ngx_http_ticket_sink_str(&out, &s) != NGX_OK) {
        return NGX_ERROR;
    }

    *body = *(ngx_str_t *) &s;

    return NGX_OK;
}


static ngx_int_t
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
    tpl->csrf = *ngx_ticket_str(&ctx->csrf);
    tpl->static_url = *ngx_ticket_str(&lcf->static_url);
    tpl->version = *ngx_ticket_str(&mcf->static_version);
    tpl->tag = *ngx_ticket_str(&lcf->subject_tag);
    tpl->to = *ngx_ticket_str(&c->to);
    tpl->cc = *ngx_ticket_str(&c->cc);
    tpl->bcc = *ngx_ticket_str(&c->bcc);
    tpl->subject = *ngx_ticket_str(&c->subject);
    tpl->body = *ngx_ticket_str(&c->body);
    tpl->pending = *ngx_ticket_str(&c->pending);

    ngx_http_ticket_cstr(&tpl->err, c->err);
    ngx_http_ticket_cstr(&tpl->err_to, c->err_to);
    ngx_http_ticket_cstr(&tpl->err_cc, c->err_cc);
    ngx_http_ticket_cstr(&tpl->err_bcc, c->err_bcc);
    ngx_http_ticket_cstr(&tpl->err_subject, c->err_subject);
    ngx_http_ticket_cstr(&tpl->err_body, c->err_body);
    ngx_http_ticket_cstr(&tpl->err_state, c->err_state);
    ngx_http_ticket_cstr(&tpl->err_confirm, c->err_confirm);

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

    if (ngx_http_ticket_security_text(r, de, sec, &tpl->security, &kind)
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

    if (ngx_http_ticket_compose_modes(r, de, v, c, ld, tpl) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_ticket_compose_send_label(r, de, c, &tpl->send_label);
}


/* One click each: reply (Reply-To or From), to all, and for a list mail
 * to the list or to the sender alone. */
static ngx_int_t
ngx_http_ticket_compose_modes(ngx_http_request_t *r, ngx_flag_t de,
    ngx_http_ticket_view_t *v, ngx_http_ticket_compose_t *c,
    ngx_http_ticket_compose_load_t *ld, tk_tpl_compose_t *tpl)
{
    ngx_uint_t                   n, i;
    ngx_http_ticket_cs_art_t    *a;
    tk_tpl_compose_modes_t      *m;

    static const char  *modes[] = { "", "all", "list", "sender" };
    static const char  *de_labels[] = {
        "Absender*in", "Alle", "Liste", "nur Absender*in" };
    static const char  *en_labels[] = {
        "Sender", "All", "List", "Sender only" };

    a = ld->target;

    if (a == NULL || a->kind != TK_ART_IN || c->posted) {
        return NGX_OK;
    }

    m = ngx_pcalloc(r->pool, 4 * sizeof(*m));
    if (m == NULL) {
        return NGX_ERROR;
    }

    tpl->modes = m;
    n = 0;

    for (i = 0; i < 4; i++) {
        if (i >= 2 && a->list_id.len == 0) {
            break;
        }

        ngx_http_ticket_cstr(&m[n].mode, i ? modes[i] : "reply");
        ngx_http_ticket_cstr(&m[n].label, de ? de_labels[i] : en_labels[i]);
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
static ngx_int_t
ngx_http_ticket_compose_send_label(ngx_http_request_t *r, ngx_flag_t de,
    ngx_http_ticket_compose_t *c, tk_str_t *label)
{
    u_char      *p;
    ngx_uint_t   n;
    ngx_str_t   *first;

    n = c->nto + c->ncc + c->nbcc;

    if (n == 0) {
        ngx_http_ticket_cstr(label, de ? "E-Mail senden" : "Send email");
        return NGX_OK;
    }

    first = (ngx_str_t *) &c->rcpt[0].addr;

    p = ngx_pnalloc(r->pool, first->len + NGX_INT_T_LEN + 64);
    if (p == NULL) {
        return NGX_ERROR;
    }

    label->data = p;

    if (n == 1) {
        p = de ? ngx_sprintf(p, "E-Mail an %V senden", first)
               : ngx_sprintf(p, "Send email to %V", first);
    } else {
        p = de ? ngx_sprintf(p, "E-Mail an %V und %ui weitere senden", first,
                             n - 1)
               : ngx_sprintf(p, "Send email to %V and %ui more", first, n - 1);
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
    ngx_flag_t  de;

    de = ngx_http_ticket_lang_de(ctx);

    art->reply_to = a->reply_to;
    art->list_id = a->list_id;

    if (a->kind == TK_ART_OUT && a->delivery.len) {
        art->delivery = a->delivery;
        art->delivery_info = a->delivery_info;

        ngx_http_ticket_cstr(&art->delivery_label,
            tk_str_eq_cstr(&a->delivery, "sent")
            ? (de ? "Zugestellt an den Mailserver" : "Delivered to the server")
            : tk_str_eq_cstr(&a->delivery, "failed")
            ? (de ? "NICHT zugestellt" : "NOT delivered")
            : (de ? "Wartet auf Versand" : "Waiting to be sent"));
    }

    if (v->right != TK_RIGHT_FULL || a->kind == TK_ART_NOTE) {
        return NGX_OK;
    }

    ngx_http_ticket_cstr(&art->reply_label, de ? "Antworten" : "Reply");
    ngx_http_ticket_cstr(&art->reply_all_label,
                         de ? "Allen antworten" : "Reply all");

    if (ngx_http_ticket_compose_url(r, &art->reply_url,
                                    "t/%uL?reply=%uL#composer", v->number,
                                    a->id) != NGX_OK
        || ngx_http_ticket_compose_url(r, &art->reply_all_url,
                                       "t/%uL?reply=%uL&to=all#composer",
                                       v->number, a->id) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (a->list_id.len == 0 || a->kind != TK_ART_IN) {
        return NGX_OK;
    }

    ngx_http_ticket_cstr(&art->list_label,
                         de ? "An die Liste antworten" : "Reply to list");
    ngx_http_ticket_cstr(&art->sender_label,
                         de ? "Nur Absender*in antworten" : "Reply to sender");

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
