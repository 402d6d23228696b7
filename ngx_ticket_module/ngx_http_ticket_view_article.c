/*
 * ngx_http_ticket_view_article.c -- the articles of the ticket page: the
 * kind and its label, the body as text or sanitised HTML mail (remote
 * images only on request), and the attachments and raw-mail links.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_view.h"


static ngx_int_t ngx_http_ticket_view_body_html(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    tk_article_t *a, tk_tpl_thread_articles_t *art, ngx_uint_t *flags);
static ngx_int_t ngx_http_ticket_view_files(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_view_art_t *va, tk_tpl_thread_articles_t *art);
static ngx_int_t ngx_http_ticket_view_link(ngx_http_request_t *r,
    tk_str_t *out, const char *fmt, ...);


/*
 * Articles in the order they came.  The kind decides the look and the
 * label: whether a text went out as mail or stayed an internal note must
 * never be a guess.  Plain text bodies become HTML here (links, line
 * breaks); HTML bodies were sanitised by mailbridge when stored.
 */
ngx_int_t
ngx_http_ticket_view_articles(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    tk_tpl_thread_t *tpl, ngx_uint_t *flags)
{
    u_char                      *p;
    tk_out_t                     out;
    ngx_uint_t                   i;
    const char                  *fmt;
    tk_article_t                *a;
    tk_tpl_thread_articles_t    *art;
    ngx_http_ticket_sink_t       sink;
    ngx_http_ticket_view_art_t  *va;

    art = ngx_pcalloc(r->pool, (v->narts + 1) * sizeof(*art));
    if (art == NULL) {
        return NGX_ERROR;
    }

    tpl->articles = art;
    tpl->articles_n = v->narts;

    for (i = 0; i < v->narts; i++, art++) {
        va = &v->arts[i];
        a = &va->a;

        if (ngx_http_ticket_uint_str(r, a->id, &art->id) != NGX_OK) {
            return NGX_ERROR;
        }

        switch (a->kind) {

        case TK_ART_OUT:
            tk_str_set(&art->kind, "out");
            ngx_http_ticket_cstr(&art->kind_label,
                                 ngx_http_ticket_msg(ctx,
                                     TK_MSG_VIEW_ARTICLE_MAIL_SENT));
            break;

        case TK_ART_NOTE:
            tk_str_set(&art->kind, "note");
            ngx_http_ticket_cstr(&art->kind_label,
                                 ngx_http_ticket_msg(ctx,
                                     TK_MSG_VIEW_ARTICLE_INTERNAL_NOTE_NOT_SENT));
            break;

        default:
            tk_str_set(&art->kind, "in");
            ngx_http_ticket_cstr(&art->kind_label,
                                 ngx_http_ticket_msg(ctx,
                                     TK_MSG_VIEW_ARTICLE_MAIL_RECEIVED));
        }

        /* a note comes from an agent, not from an address */
        art->from = (a->kind == TK_ART_NOTE && a->author.len) ? a->author
                                                              : a->from;
        if (art->from.len == 0) {
            art->from = a->author;
        }

        art->to = a->to;
        art->cc = a->cc;
        art->subject = a->subject;

        ngx_http_ticket_cstr(&art->from_label,
                             ngx_http_ticket_msg(ctx,
                                                 TK_MSG_VIEW_ARTICLE_FROM));
        ngx_http_ticket_cstr(&art->to_label,
                             ngx_http_ticket_msg(ctx, TK_MSG_COMMON_TO));
        ngx_http_ticket_cstr(&art->subject_label,
                             ngx_http_ticket_msg(ctx, TK_MSG_COMMON_SUBJECT));

        if (ngx_http_ticket_time_str(r, a->time, &art->time) != NGX_OK
            || ngx_http_ticket_iso_str(r, a->time, &art->time_iso)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (a->body_html.len) {
            if (ngx_http_ticket_view_body_html(r, ctx, v, a, art, flags)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

        } else {
            ngx_http_ticket_sink_init(r, &out, &sink, a->body.len + 64);
            tk_out_text_as_html(&out, a->body.data, a->body.len);

            if (ngx_http_ticket_sink_str(&out, &art->body) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        if (a->attachments) {
            fmt = ngx_http_ticket_msg_n(ctx, TK_MSG_VIEW_ARTICLE_ATTACHMENTS_ONE,
                                        a->attachments);

            p = ngx_pnalloc(r->pool, NGX_INT_T_LEN + ngx_strlen(fmt));
            if (p == NULL) {
                return NGX_ERROR;
            }

            art->attachments.data = p;
            art->attachments.len =
                ngx_sprintf(p, fmt, (ngx_uint_t) a->attachments) - p;
        }

        if (ngx_http_ticket_view_files(r, ctx, v, va, art) != NGX_OK
            || ngx_http_ticket_keys_article(r, ctx, &a->flags, &va->pgp_sig,
                                            &a->from, &art->pgp,
                                            &art->pgp_status)
               != NGX_OK
            || ngx_http_ticket_compose_article(r, ctx, v, a, art) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * HTML mail: inline images to their part's URL, remote ones loaded only
 * for the article named by "?images=" -- and then this response alone
 * gets a CSP that lets them load (the caller sets it, from *flags, also
 * when the articles come from the cache).  Without it, a link offers to.
 */
static ngx_int_t
ngx_http_ticket_view_body_html(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v, tk_article_t *a,
    tk_tpl_thread_articles_t *art, ngx_uint_t *flags)
{
    tk_out_t                    out;
    ngx_http_ticket_sink_t      sink;
    ngx_http_ticket_mailhtml_t  mh;

    ngx_memzero(&mh, sizeof(ngx_http_ticket_mailhtml_t));
    mh.load_remote = (v->images == a->id);

    if (ngx_http_ticket_view_link(r, &mh.cid_prefix, "t/%uL/a/%uL/cid/",
                                  v->number, a->id)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_ticket_sink_init(r, &out, &sink, a->body_html.len + 256);
    ngx_http_ticket_mailhtml(&out, &a->body_html, &mh);

    if (ngx_http_ticket_sink_str(&out, &art->body) != NGX_OK) {
        return NGX_ERROR;
    }

    art->is_html = 1;
    ngx_http_ticket_cstr(&art->html_note,
                         ngx_http_ticket_msg(ctx,
                             TK_MSG_VIEW_ARTICLE_HTML_MAIL_SHOWN_SANITISED));

    if (mh.remote == 0) {
        return NGX_OK;
    }

    if (mh.load_remote) {
        *flags |= NGX_HTTP_TICKET_CACHE_CSP_IMAGES;
        ngx_http_ticket_cstr(&art->images_label,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_VIEW_ARTICLE_HIDE_REMOTE_IMAGES));

        return ngx_http_ticket_view_link(r, &art->images_url, "t/%uL#a-%uL",
                                         v->number, a->id);
    }

    ngx_http_ticket_cstr(&art->images_label,
                         ngx_http_ticket_msg(ctx,
                             TK_MSG_VIEW_ARTICLE_LOAD_REMOTE_IMAGES));
    ngx_http_ticket_cstr(&art->images_hint,
                         ngx_http_ticket_msg(ctx,
                             TK_MSG_VIEW_ARTICLE_REMOTE_IMAGES_WERE_NOT_LOADED));

    return ngx_http_ticket_view_link(r, &art->images_url,
                                     "t/%uL?images=%uL#a-%uL", v->number,
                                     a->id, a->id);
}


/*
 * The article's attachments (name, size, type, link) and, for a mail
 * kept as received, the link to its raw message.  The part replies are
 * the third batch's, from va->first on.
 */
static ngx_int_t
ngx_http_ticket_view_files(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_view_art_t *va, tk_tpl_thread_articles_t *art)
{
    long long                        size;
    ngx_str_t                        value;
    ngx_uint_t                       k;
    tk_str_t                         size_label;
    ngx_http_ticket_reply_t         *rep;
    tk_tpl_thread_articles_files_t  *f;

    if (va->raw_size > 0) {
        if (ngx_http_ticket_view_link(r, &art->raw_url, "t/%uL/a/%uL/raw",
                                      v->number, va->a.id) != NGX_OK
            || ngx_http_ticket_size_str(r, ctx, (uint64_t) va->raw_size,
                                        &size_label) != NGX_OK)
        {
            return NGX_ERROR;
        }

        art->raw_label.data = ngx_pnalloc(r->pool, size_label.len + 64);
        if (art->raw_label.data == NULL) {
            return NGX_ERROR;
        }

        art->raw_label.len = ngx_sprintf(art->raw_label.data, "%s (.eml, %V)",
                                         ngx_http_ticket_msg(ctx,
                                             TK_MSG_VIEW_ARTICLE_RAW_MESSAGE),
                                         (ngx_str_t *) &size_label)
                             - art->raw_label.data;
    }

    if (va->parts == 0) {
        return NGX_OK;
    }

    f = ngx_pcalloc(r->pool, va->parts * sizeof(*f));
    if (f == NULL) {
        return NGX_ERROR;
    }

    art->files = f;

    for (k = 1; k <= va->parts; k++) {
        if (va->first + k - 1 >= ctx->nreplies) {
            break;
        }

        rep = &ctx->replies[va->first + k - 1];

        /* a part that is gone meanwhile is left out */
        if (rep->type != REDIS_REPLY_ARRAY
            || rep->nelem != NGX_HTTP_TICKET_PART_NFIELDS
            || rep->element[2].type != REDIS_REPLY_STRING)
        {
            continue;
        }

        ngx_http_ticket_reply_str(&rep->element[0], &value);
        f->name = *ngx_ticket_str(&value);

        ngx_http_ticket_reply_str(&rep->element[1], &value);
        f->type = *ngx_ticket_str(&value);

        if (f->type.len == 0) {
            tk_str_set(&f->type, "application/octet-stream");
        }

        size = tk_str_atoll(ngx_ticket_str(&rep->element[2].str));

        if (ngx_http_ticket_size_str(r, ctx, size > 0 ? size : 0, &f->size)
                != NGX_OK
            || ngx_http_ticket_view_link(r, &f->url, "t/%uL/a/%uL/att/%ui",
                                         v->number, va->a.id, k)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* a key file: a link to the key page's import (keys.c) */
        if (ngx_http_ticket_keys_file(r, &f->type, v->number, va->a.id, k,
                                      &f->import_url) != NGX_OK)
        {
            return NGX_ERROR;
        }
        ngx_http_ticket_cstr(&f->import_label,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_VIEW_ARTICLE_IMPORT_KEY));

        if (f->name.len == 0) {
            f->name.data = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 8);
            if (f->name.data == NULL) {
                return NGX_ERROR;
            }

            f->name.len = ngx_sprintf(f->name.data, "part-%ui", k)
                          - f->name.data;
        }

        f++;
        art->files_n++;
    }

    return NGX_OK;
}


/* base_url + a path made from fmt (ngx_sprintf), for a template field. */
static ngx_int_t
ngx_http_ticket_view_link(ngx_http_request_t *r, tk_str_t *out,
    const char *fmt, ...)
{
    u_char   buf[3 * NGX_INT64_LEN + 32], *last;
    va_list  args;

    va_start(args, fmt);
    last = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    return ngx_http_ticket_url(r, (char *) buf, last - buf, out);
}
