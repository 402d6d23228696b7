/*
 * ngx_http_ticket_reply_conflict.c -- a reply not sent because the ticket
 * changed since the composer was opened (two agents on one ticket): the
 * articles and history entries the agent has not seen, read and put in
 * words above the form as typed.  Split from ngx_http_ticket_reply.c.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_reply.h"


static ngx_int_t ngx_http_ticket_reply_fresh(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_reply_changed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);


/*
 * Not sent: the ticket changed since the form was opened.  Nothing is
 * written; the articles the agent has not seen are read (who wrote,
 * to whom) to say what changed.
 */
ngx_int_t
ngx_http_ticket_reply_changes(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                    *cmds;
    ngx_http_ticket_compose_t    *c;
    ngx_http_ticket_reply_req_t  *rq;

    rq = ctx->view;
    c = rq->c;

    ngx_http_ticket_tx_abort(r, ctx);

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "LRANGE %S:articles %lld -1", ngx_ticket_str(&rq->key),
                (long long) (c->arts >= 0 ? c->arts : 1000000000));
    /* a ticket's history is short, and a stream cannot be read from its
     * n-th entry */
    tk_cmds_add(cmds, "XRANGE %S" TK_SFX_HISTORY " - +",
                ngx_ticket_str(&rq->key));

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_reply_fresh);
}


/* The ids of the articles not seen: each read whole. */
static ngx_int_t
ngx_http_ticket_reply_fresh(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    long long                     id;
    tk_cmds_t                    *cmds;
    ngx_uint_t                    i;
    ngx_http_ticket_reply_t      *ids;
    ngx_http_ticket_reply_req_t  *rq;

    rq = ctx->view;
    ids = ctx->nreplies ? &ctx->replies[0] : NULL;

    if (ctx->nreplies < 2) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rq->history = &ctx->replies[1];

    cmds = ngx_http_ticket_cmds(r);
    rq->fresh = ngx_pcalloc(r->pool, ((ids && ids->type == REDIS_REPLY_ARRAY)
                                      ? ids->nelem : 0) * sizeof(*rq->fresh)
                                     + 1);
    if (cmds == NULL || rq->fresh == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; ids && ids->type == REDIS_REPLY_ARRAY && i < ids->nelem; i++)
    {
        id = tk_str_atoll(ngx_ticket_str(&ids->element[i].str));
        if (id <= 0) {
            continue;
        }

        rq->fresh[rq->nfresh++].id = (uint64_t) id;
        ngx_http_ticket_compose_art_read(cmds, rq->number, (uint64_t) id);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cmds->n == 0) {
        ctx->nreplies = 0;
        return ngx_http_ticket_reply_changed(r, ctx);
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_reply_changed);
}


/* What changed, in words, and the page again with the form as typed. */
static ngx_int_t
ngx_http_ticket_reply_changed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    u_char                       *p;
    tk_str_t                     *s;
    ngx_str_t                    *who;
    ngx_uint_t                    i;
    const char                   *what;
    ngx_http_ticket_hist_t        h;
    ngx_http_ticket_cs_art_t      a;
    ngx_http_ticket_reply_t      *history;
    ngx_http_ticket_compose_t    *c;
    ngx_http_ticket_reply_req_t  *rq;

    rq = ctx->view;
    c = rq->c;
    history = rq->history;

    c->changes = ngx_array_create(r->pool, 4, sizeof(tk_str_t));
    if (c->changes == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < rq->nfresh && i < ctx->nreplies; i++) {
        if (ngx_http_ticket_compose_art(&ctx->replies[i], rq->fresh[i].id, &a)
            != NGX_OK)
        {
            continue;
        }

        switch (a.kind) {
        case TK_ART_IN:
            what = ngx_http_ticket_msg(ctx, TK_MSG_REPLY_NEW_MAIL_FROM);
            who = &a.from;
            break;
        case TK_ART_OUT:
            what = ngx_http_ticket_msg(ctx, TK_MSG_REPLY_MAIL_SENT_TO);
            who = &a.to;
            break;
        default:
            what = ngx_http_ticket_msg(ctx, TK_MSG_REPLY_NEW_INTERNAL_NOTE_BY);
            who = &a.author;
        }

        s = ngx_array_push(c->changes);
        p = ngx_pnalloc(r->pool, ngx_strlen(what) + (who ? who->len : 0));
        if (s == NULL || p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        s->data = p;
        s->len = (who ? ngx_sprintf(p, "%s%V", what, who)
                      : ngx_sprintf(p, "%s", what)) - p;
    }

    for (i = c->hist > 0 ? (ngx_uint_t) c->hist : 0;
         history->type == REDIS_REPLY_ARRAY && i < history->nelem;
         i++)
    {
        if (ngx_http_ticket_history_entry(&history->element[i], &h)
            != NGX_OK)
        {
            continue;
        }

        s = ngx_array_push(c->changes);
        if (s == NULL
            || ngx_http_ticket_history_plain(r, ctx, &h, (ngx_str_t *) s)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    c->status = NGX_HTTP_CONFLICT;
    ngx_http_ticket_reply_files_lost(ctx, c);

    return ngx_http_ticket_view_compose_again(r, ctx, rq->number, c);
}
