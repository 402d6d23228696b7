/*
 * ngx_http_ticket_compose.c -- the composer on the ticket page.  A reply
 * by mail is the default; an internal note is the other mode of the
 * same form.  Fresh, it answers the newest mail (or the one named by
 * "?reply=A", to its sender, to all, or to the mailing list: "?to="),
 * quoted; posted back (errors, a conflict), it shows what was typed.
 * Its reads (full right only): the group, every article's flags (one
 * SORT), the answered article and the quote made of it (those three
 * from the page cache for the ticket's rev), the recipients' keys.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_view.h"
#include "tk_textmod.h"


/* replies of the composer's first batch */
#define NGX_HTTP_TICKET_C_GROUP        0
#define NGX_HTTP_TICKET_C_FLAGS        1


static void ngx_http_ticket_compose_query(ngx_http_request_t *r,
    ngx_http_ticket_compose_t *c);
static ngx_int_t ngx_http_ticket_compose_loaded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_reply_t *rep, ngx_uint_t n);
static ngx_int_t ngx_http_ticket_compose_kinds(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_compose_target(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_compose_more(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_compose_defaults(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_compose_t *c, ngx_http_ticket_compose_load_t *ld);
static ngx_int_t ngx_http_ticket_compose_list_addr(ngx_http_request_t *r,
    ngx_http_ticket_cs_art_t *t, ngx_str_t *to);
static ngx_int_t ngx_http_ticket_compose_others(ngx_http_request_t *r,
    ngx_http_ticket_cs_art_t *t, ngx_str_t *group_email, ngx_str_t *to,
    ngx_str_t *cc);
static void ngx_http_ticket_compose_untag(ngx_http_request_t *r,
    uint64_t number, ngx_str_t *subject);
static ngx_int_t ngx_http_ticket_compose_re(ngx_http_request_t *r,
    ngx_str_t *subject, ngx_str_t *out);
static ngx_int_t ngx_http_ticket_compose_ready(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_compose_quote(ngx_http_request_t *r,
    ngx_uint_t lang, ngx_http_ticket_compose_t *c, ngx_http_ticket_cs_art_t *a,
    ngx_str_t *body);


/* ---- the reads -------------------------------------------------------- */

/*
 * The composer's first reads go with the page's second batch (after its
 * articles and users), so a page with the composer costs one batch more
 * at most: the group (address, signature, signing key), every article's
 * flags, the candidate for the mail answered (the one named, else the
 * newest article) and the customer's key.
 */
ngx_int_t
ngx_http_ticket_compose_reads(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v, tk_cmds_t *cmds)
{
    char                             gkey[TK_KEY_MAX];
    ngx_http_ticket_compose_t       *c;
    ngx_http_ticket_compose_load_t  *ld;

    c = v->compose;

    if (c == NULL) {
        c = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_compose_t));
        if (c == NULL) {
            return NGX_ERROR;
        }

        c->rev = -1;
        c->arts = -1;
        c->hist = -1;
        ngx_http_ticket_compose_query(r, c);
        v->compose = c;
    }

    ld = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_compose_load_t));
    if (ld == NULL || tk_key_group(gkey, sizeof(gkey), &v->ticket.group) == 0)
    {
        return NGX_ERROR;
    }

    c->load = ld;
    ld->keys_at = -1;
    ld->first = cmds->n;

    ld->cand = c->reply;

    if (ld->cand == 0 && !c->posted && v->ids->type == REDIS_REPLY_ARRAY
        && v->ids->nelem)
    {
        long long  id;

        id = tk_str_atoll(ngx_ticket_str(
                              &v->ids->element[v->ids->nelem - 1].str));
        ld->cand = id > 0 ? (uint64_t) id : 0;
    }

    /* a fresh form: what the articles say may be cached for this rev */
    if (!c->posted
        && ngx_http_ticket_compose_cache_get(r, ctx, v, ld, c->reply)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    tk_cmds_add(cmds, "HGETALL %s", gkey);

    if (!ld->cached) {
        ngx_http_ticket_compose_flags(cmds, v->number);

        if (ld->cand) {
            ngx_http_ticket_compose_art_read(cmds, v->number, ld->cand);
        }
    }

    /* casework: the templates (read with the page's lists) */
    ld->tpl_at = -1;
    if (!c->posted) {
        ngx_str_t   want;
        ngx_uint_t  k;

        ld->templates = v->templates;
        /* ?template=ID: what the form takes of it */
        if (ngx_http_ticket_query_arg(r, "template", &want) != NGX_OK
            || want.len == 0 || want.len > 20)
        {
            want.len = 0;
        }
        for (k = 0; k < want.len; k++) {
            if (want.data[k] < '0' || want.data[k] > '9') {
                want.len = 0;
            }
        }
        if (want.len) {
            ld->tpl_at = cmds->n - ld->first;
            tk_template_read(cmds, ngx_ticket_str(&want));
        }
    }

    /* the reply mostly goes to the customer alone: then the page needs
     * no batch more for its security line */
    if (!c->posted && v->ticket.customer_email.len
        && v->ticket.customer_email.len <= TK_ADDR_LEN_MAX)
    {
        tk_addr_t  one;

        ngx_memzero(&one, sizeof(tk_addr_t));
        one.addr = v->ticket.customer_email;
        ld->keys_for = *(ngx_str_t *) &v->ticket.customer_email;

        if (ngx_http_ticket_compose_keys(r, cmds, &one, 1) != 1) {
            return NGX_ERROR;
        }
    }

    ld->n = cmds->n - ld->first;

    return cmds->failed ? NGX_ERROR : NGX_OK;
}


/* The page's batches are in (ctx->replies is kept for step). */
ngx_int_t
ngx_http_ticket_compose_load(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_view_t *v, ngx_http_ticket_step_pt step)
{
    ngx_http_ticket_compose_load_t  *ld;

    if (v->right != TK_RIGHT_FULL) {
        /* a reply posted back to a user who may only read: as actions */
        v->compose = NULL;
        v->compose_loaded = 1;

        return ngx_http_ticket_error(r, ctx, NGX_HTTP_FORBIDDEN,
                                     ngx_http_ticket_msg(ctx,
                                         TK_MSG_COMMON_YOU_HAVE_READ_ACCESS_TO_THIS));
    }

    ld = v->compose ? v->compose->load : NULL;

    if (ld == NULL || ld->first + ld->n > v->nsecond) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ld->step = step;
    ld->saved = ctx->replies;
    ld->nsaved = ctx->nreplies;

    return ngx_http_ticket_compose_loaded(r, ctx, v->second + ld->first,
                                          ld->n);
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

    if (ngx_http_ticket_query_arg(r, "to", &arg) == NGX_OK
        && arg.len == 7 && ngx_strncmp(arg.data, "forward", 7) == 0)
    {
        c->mode = arg;
        c->forward = 1;
    }

    if (ngx_http_ticket_query_arg(r, "type", &arg) == NGX_OK
        && arg.len == 4 && ngx_strncmp(arg.data, "note", 4) == 0)
    {
        c->note = 1;
    }
}


/*
 * The group, every article's kind and flags, and the candidate: the
 * article named, else the newest -- the mail answered nearly always, so
 * mostly no batch more is needed for it.
 */
static ngx_int_t
ngx_http_ticket_compose_loaded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_reply_t *rep, ngx_uint_t n)
{
    tk_cmds_t                       *cmds;
    ngx_http_ticket_view_t          *v;
    ngx_http_ticket_compose_t       *c;
    ngx_http_ticket_compose_load_t  *ld;

    v = ctx->view;
    c = v->compose;
    ld = c->load;

    if (n < (ngx_uint_t) ((ld->cached ? 1 : 2 + (ld->cand ? 1 : 0))
                          + (ld->keys_for.len ? 1 : 0)))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ld->group = &rep[NGX_HTTP_TICKET_C_GROUP];

    if (ld->keys_for.len) {
        ld->keys = &rep[n - 1];
    }

    if (ld->tpl_at >= 0 && (ngx_uint_t) ld->tpl_at < n) {
        ld->chosen = &rep[ld->tpl_at];
    }

    if (ld->cached) {
        return ngx_http_ticket_compose_more(r, ctx);
    }

    ld->encrypted = ngx_http_ticket_compose_encrypted(
                                     &rep[NGX_HTTP_TICKET_C_FLAGS]);

    /* the candidate is a mail (in or out): the one answered */
    if (ld->cand
        && ngx_http_ticket_compose_art(&rep[2], ld->cand,
                                       &ld->target_art)
           == NGX_OK
        && ld->target_art.kind != TK_ART_NOTE)
    {
        ld->target = &ld->target_art;
        ld->target_rep = &rep[2];
        return ngx_http_ticket_compose_more(r, ctx);
    }

    if (c->posted || v->ids->type != REDIS_REPLY_ARRAY
        || v->ids->nelem == 0)
    {
        return ngx_http_ticket_compose_more(r, ctx);
    }

    /* the newest article is a note (or the one named is none of this
     * ticket's mails): look for the newest mail */
    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_ticket_compose_sort(cmds, v->number);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_compose_kinds);
}


static ngx_int_t
ngx_http_ticket_compose_kinds(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                       *cmds;
    ngx_uint_t                       i, n;
    ngx_http_ticket_view_t          *v;
    ngx_http_ticket_cs_art_t        *arts;
    ngx_http_ticket_compose_load_t  *ld;

    v = ctx->view;
    ld = v->compose->load;
    ld->cand = 0;

    if (ctx->nreplies != 1
        || ngx_http_ticket_compose_sorted(r, &ctx->replies[0], &arts, &n)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = n; ld->cand == 0 && i > 0; i--) {
        if (arts[i - 1].kind != TK_ART_NOTE) {
            ld->cand = arts[i - 1].id;
        }
    }

    if (ld->cand == 0) {
        return ngx_http_ticket_compose_more(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_ticket_compose_art_read(cmds, v->number, ld->cand);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_compose_target);
}


/* The mail answered, found by its kind. */
static ngx_int_t
ngx_http_ticket_compose_target(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_view_t          *v;
    ngx_http_ticket_compose_load_t  *ld;

    v = ctx->view;
    ld = v->compose->load;

    if (ctx->nreplies == 1
        && ngx_http_ticket_compose_art(&ctx->replies[0], ld->cand,
                                       &ld->target_art)
           == NGX_OK)
    {
        ld->target = &ld->target_art;
        ld->target_rep = &ctx->replies[0];
    }

    return ngx_http_ticket_compose_more(r, ctx);
}


/* Defaults of a fresh form from the mail answered, then the keys of the
 * recipients. */
static ngx_int_t
ngx_http_ticket_compose_more(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                       *cmds;
    ngx_http_ticket_view_t          *v;
    ngx_http_ticket_compose_t       *c;
    ngx_http_ticket_compose_load_t  *ld;

    v = ctx->view;
    c = v->compose;
    ld = c->load;

    /* the mail answered is known: for the next view of this rev */
    ngx_http_ticket_compose_cache_put(r, ctx, ld);

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!c->posted) {
        if (ngx_http_ticket_compose_defaults(r, ctx, v, c, ld) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* what the defaults could not parse simply gets no key check:
         * sending it is refused with the message next to the field */
        (void) ngx_http_ticket_compose_rcpt(c, ngx_http_ticket_lang(ctx));
        c->err_to = c->err_cc = c->err_bcc = NULL;
    }

    ld->keys_at = 0;

    if (ld->keys && c->nto + c->ncc + c->nbcc == 1
        && tk_str_eq_ci(&c->rcpt[0].addr, ngx_ticket_str(&ld->keys_for)))
    {
        /* the customer alone: her key was read with the first batch */
        ld->keys_at = -1;

    } else if (ngx_http_ticket_compose_keys(r, cmds, c->rcpt,
                                            c->nto + c->ncc + c->nbcc)
               == 0)
    {
        ld->keys = NULL;
        ld->keys_at = -1;

    } else {
        ld->keys = NULL;
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


/*
 * Recipients and subject of a fresh composer.  A mail we sent is
 * answered to the same people; a mail received to its Reply-To (or
 * From) -- "sender" ignores a Reply-To (lists set it), "all" adds its
 * To and Cc without our own address, "list" writes to the list.
 */
static ngx_int_t
ngx_http_ticket_compose_defaults(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_compose_t *c, ngx_http_ticket_compose_load_t *ld)
{
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
        return ngx_http_ticket_compose_re(r, (ngx_str_t *) &t->title,
                                          &c->subject);
    }

    c->reply = a->id;

    if (c->forward) {
        /* to whom is the agent's to say */

    } else if (a->kind == TK_ART_OUT) {
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

    /* the quote: escaped from the page cache, else made (and kept) */
    if (ngx_http_ticket_compose_quote_cached(r, ctx, v, c, ld) != NGX_OK
        && ngx_http_ticket_compose_quote(r, ngx_http_ticket_lang(ctx), c, a,
                                         &c->body)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the answered mail's subject (a mail we sent: without its tag,
     * which goes in front again when it is sent), else the title */
    subject = a->subject.len ? a->subject : *(ngx_str_t *) &t->title;
    ngx_http_ticket_compose_untag(r, v->number, &subject);

    if (!c->forward) {
        return ngx_http_ticket_compose_re(r, &subject, &c->subject);
    }

    c->subject.data = ngx_pnalloc(r->pool, subject.len + 5);
    if (c->subject.data == NULL) {
        return NGX_ERROR;
    }

    c->subject.len = ngx_sprintf(c->subject.data, "Fwd: %V", &subject)
                     - c->subject.data;

    return NGX_OK;
}


/* "[Ticket#42] Re: x" -> "Re: x": our own tag is put in front on send */
static void
ngx_http_ticket_compose_untag(ngx_http_request_t *r, uint64_t number,
    ngx_str_t *subject)
{
    u_char                       tag[64];
    size_t                       len;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    len = ngx_snprintf(tag, sizeof(tag), "[%V%uL] ", &lcf->subject_tag,
                       number) - tag;

    if (subject->len >= len
        && ngx_strncasecmp(subject->data, tag, len) == 0)
    {
        subject->data += len;
        subject->len -= len;
    }
}


/* "Re: " in front, unless it is a reply already (Re:, AW:). */
static ngx_int_t
ngx_http_ticket_compose_re(ngx_http_request_t *r, ngx_str_t *subject,
    ngx_str_t *out)
{
    u_char  *p;

    if (subject->len >= 3
        && (ngx_strncasecmp(subject->data, (u_char *) "re:", 3) == 0
            || ngx_strncasecmp(subject->data, (u_char *) "aw:", 3) == 0))
    {
        *out = *subject;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, subject->len + 4);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    out->len = ngx_sprintf(p, "Re: %V", subject) - p;

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

    keys = (ld->keys_at >= 0 && (ngx_uint_t) ld->keys_at < ctx->nreplies)
           ? &ctx->replies[ld->keys_at] : ld->keys;

    ngx_http_ticket_security(&sec, c->rcpt, c->nto + c->ncc + c->nbcc, keys,
                             ld->group, ld->encrypted);

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
ngx_http_ticket_compose_quote(ngx_http_request_t *r, ngx_uint_t lang,
    ngx_http_ticket_compose_t *c, ngx_http_ticket_cs_art_t *a,
    ngx_str_t *body)
{
    u_char                  *p, *e, *nl;
    tk_out_t                 out;
    tk_str_t                 when, s;
    ngx_str_t                text, from;
    ngx_http_ticket_sink_t   sink;

    text = a->body;
    from = a->from;

    if (text.len == 0) {
        return NGX_OK;
    }

    if (ngx_http_ticket_time_str(r, a->time, &when) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_ticket_sink_init(r, &out, &sink, text.len + text.len / 8 + 256);

    if (c->forward) {
        /* a forwarded mail as mail programs show one: unquoted */
        tk_out_cstr(&out, tk_msg((int) lang, TK_MSG_COMPOSE_FORWARDED_MESSAGE_FROM));
        tk_out_raw(&out, from.data, from.len);
        tk_out_cstr(&out, tk_msg((int) lang, TK_MSG_COMPOSE_DATE));
        tk_out_str(&out, &when);
        tk_out_cstr(&out, "\n\n");
        tk_out_raw(&out, text.data, text.len);
        goto done;
    }

    tk_out_cstr(&out, tk_msg((int) lang, TK_MSG_COMPOSE_ON));
    tk_out_str(&out, &when);
    tk_out_cstr(&out, tk_msg((int) lang, TK_MSG_COMPOSE_TEXT_2));
    tk_out_raw(&out, from.data, from.len);
    tk_out_cstr(&out, tk_msg((int) lang, TK_MSG_COMPOSE_WROTE));

    p = text.data;
    e = text.data + text.len;

    while (p < e) {
        nl = memchr(p, '\n', e - p);         /* vectorised: mails are long */
        if (nl == NULL) {
            nl = e;
        }

        tk_out_raw(&out, (*p == '>') ? ">" : "> ", (*p == '>') ? 1 : 2);
        tk_out_raw(&out, p, (nl > p && nl[-1] == '\r') ? nl - p - 1 : nl - p);
        tk_out_raw(&out, "\n", 1);
        p = nl + 1;
    }

done:

    if (ngx_http_ticket_sink_str(&out, &s) != NGX_OK) {
        return NGX_ERROR;
    }

    *body = *(ngx_str_t *) &s;

    return NGX_OK;
}
