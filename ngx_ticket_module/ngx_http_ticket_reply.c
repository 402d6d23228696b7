/*
 * ngx_http_ticket_reply.c -- sending a reply or saving a note: POST
 * /t/N/reply (the composer) and POST /api/v1/tickets/N/articles.
 *
 * One optimistic transaction on the ticket (WATCH tk:{t:N}): the
 * outbound article (tk_article_write), the ticket's state and history
 * (tk_ticket_update) and the outbox entry mailbridge sends it from
 * (tk_outbox_enqueue) commit together or not at all.  Two agents on one
 * ticket: the form carries the ticket's rev and how many articles and
 * history entries it saw; if mail came in or someone changed the ticket
 * since, nothing is written and the page comes back with the form as
 * typed and what changed (ngx_http_ticket_reply_conflict.c).  A note is
 * the same without an outbox entry.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_reply.h"
#include "ngx_http_ticket_casework.h"


#define NGX_HTTP_TICKET_REPLY_RETRIES  5

/* replies of the transaction's reads */
#define NGX_HTTP_TICKET_X_TICKET       0
#define NGX_HTTP_TICKET_X_FLAGS        1
#define NGX_HTTP_TICKET_X_HISTORY      2
#define NGX_HTTP_TICKET_X_GROUP        3
#define NGX_HTTP_TICKET_X_N            4        /* then the optional ones */




static ngx_int_t ngx_http_ticket_reply_start(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_reply_begin(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_reply_watch(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_reply_decide(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_reply_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_reply_back(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status);
static ngx_int_t ngx_http_ticket_reply_refuse(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status, const char *message);


/* ---- the two ways in -------------------------------------------------- */

ngx_int_t
ngx_http_ticket_reply(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number)
{
    ngx_http_ticket_compose_t    *c;
    ngx_http_ticket_reply_req_t  *rq;

    /* a form with files: its fields read as any form's, then checked */
    if (ngx_http_ticket_multipart(r, ctx) == NGX_ERROR) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL);
    }

    if (ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
        return ngx_http_ticket_csrf_refused(r, ctx);
    }

    c = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_compose_t));
    rq = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_reply_req_t));
    if (c == NULL || rq == NULL
        || ngx_http_ticket_reply_form(r, ctx, c) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_ticket_reply_check(r, ctx, c) != NGX_OK) {
        /* the page once more, the form as typed, nothing written (the
         * page's reads decide 404/403 for those without the right) */
        c->status = NGX_HTTP_BAD_REQUEST;
        ngx_http_ticket_reply_files_lost(ctx, c);
        return ngx_http_ticket_view_compose_again(r, ctx, number, c);
    }

    rq->number = number;
    rq->c = c;
    ctx->view = rq;

    /* "::keyword" typed without JavaScript: the text module's text */
    return ngx_http_ticket_textmod_expand(r, ctx, number, &c->body,
                                          ngx_http_ticket_reply_start);
}


ngx_int_t
ngx_http_ticket_reply_api(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number)
{
    const char                   *field, *message;
    ngx_http_ticket_compose_t    *c;
    ngx_http_ticket_reply_req_t  *rq;

    c = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_compose_t));
    rq = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_reply_req_t));
    if (c == NULL || rq == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_ticket_reply_json(r, ctx, c, &field, &message) != NGX_OK) {
        rq->error = message;
        rq->error_field = field;

    } else if (ngx_http_ticket_reply_check(r, ctx, c) != NGX_OK) {
        ngx_http_ticket_reply_first_error(c, &field, &message);
        rq->error = message;
        rq->error_field = field;
    }

    rq->number = number;
    rq->c = c;
    rq->api = 1;
    ctx->view = rq;

    return ngx_http_ticket_textmod_expand(r, ctx, number, &c->body,
                                          ngx_http_ticket_reply_start);
}


/* ---- the transaction -------------------------------------------------- */

/*
 * Before WATCH: the ticket's group -- the group hash is read in the
 * transaction and its key depends on it; and who may not write there
 * is refused before anything, even an id, is taken.
 */
static ngx_int_t
ngx_http_ticket_reply_start(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                    *cmds;
    ngx_http_ticket_compose_t    *c;
    ngx_http_ticket_reply_req_t  *rq;

    rq = ctx->view;
    c = rq->c;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL
        || (rq->key.len == 0
            && ngx_http_ticket_ticket_key(r, rq->number, &rq->key) != NGX_OK))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * The composer's form names the ticket's group as its page saw it:
     * where that is a group one may write in, no round trip before WATCH
     * (decide compares it with the ticket's; a wrong one costs a retry
     * the long way and an article id, nothing else).
     */
    if (c->group.len && (c->reply || c->note)
        && tk_valid_group(ngx_ticket_str(&c->group))
        && ngx_http_ticket_right(ctx, &c->group) == TK_RIGHT_FULL)
    {
        rq->group = c->group;
        rq->tid = c->reply;

        return ngx_http_ticket_reply_watch(r, ctx);
    }

    tk_cmds_add(cmds, "HGET %S " TK_F_GROUP, ngx_ticket_str(&rq->key));

    /* no mail named (the API): the newest mail received is answered */
    if (rq->c->reply == 0 && !rq->c->note) {
        ngx_http_ticket_compose_sort(cmds, rq->number);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_reply_begin);
}


static ngx_int_t
ngx_http_ticket_reply_begin(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_compose_t    *c;
    ngx_http_ticket_reply_req_t  *rq;

    rq = ctx->view;
    c = rq->c;

    if (ctx->nreplies < 1 || ctx->replies[0].type != REDIS_REPLY_STRING
        || !tk_valid_group(ngx_ticket_str(&ctx->replies[0].str)))
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    rq->group = ctx->replies[0].str;
    rq->tid = c->reply;

    if (c->reply == 0 && !c->note && ctx->nreplies == 2) {
        ngx_uint_t                 i, n;
        ngx_http_ticket_cs_art_t  *arts;

        if (ngx_http_ticket_compose_sorted(r, &ctx->replies[1], &arts, &n)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        for (i = n; rq->tid == 0 && i > 0; i--) {
            if (arts[i - 1].kind == TK_ART_IN) {
                rq->tid = arts[i - 1].id;
            }
        }
    }

    switch (ngx_http_ticket_right(ctx, &rq->group)) {
    case TK_RIGHT_FULL:
        break;
    case TK_RIGHT_NONE:
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    default:
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_FORBIDDEN,
                                     ngx_http_ticket_msg(ctx,
                                         TK_MSG_COMMON_YOU_HAVE_READ_ACCESS_TO_THIS));
    }

    return ngx_http_ticket_reply_watch(r, ctx);
}


/* WATCH the ticket; read it, what changed, the group, the mail answered,
 * the keys, and take the article's id -- one round trip. */
static ngx_int_t
ngx_http_ticket_reply_watch(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    char                          gkey[TK_KEY_MAX];
    tk_cmds_t                    *cmds;
    ngx_http_ticket_compose_t    *c;
    ngx_http_ticket_reply_req_t  *rq;

    rq = ctx->view;
    c = rq->c;

    /* the API's body, now that the rights let it be looked at */
    if (rq->error) {
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_BAD_REQUEST,
                                                  rq->error_field,
                                                  rq->error);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL || tk_key_group(gkey, sizeof(gkey),
                                     ngx_ticket_str(&rq->group)) == 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* how long the history is: more entries than the form saw is a
     * change to show (its entries are read only then) */
    tk_cmds_add(cmds, "HGETALL %S", ngx_ticket_str(&rq->key));
    ngx_http_ticket_compose_flags(cmds, rq->number);
    tk_cmds_add(cmds, "XLEN %S" TK_SFX_HISTORY, ngx_ticket_str(&rq->key));
    tk_cmds_add(cmds, "HGETALL %s", gkey);

    rq->at_target = rq->at_keys = rq->at_incr = -1;

    if (rq->tid) {
        rq->at_target = cmds->n;
        ngx_http_ticket_compose_art_read(cmds, rq->number, rq->tid);
    }

    rq->at_keys = cmds->n;
    rq->keys = c->note ? 0
                       : ngx_http_ticket_compose_keys(r, cmds, c->rcpt,
                                               c->nto + c->ncc + c->nbcc);
    if (!rq->keys) {
        rq->at_keys = -1;
    }

    /* the new article's id, once: INCR is no read of the watched key,
     * and a retry or refusal leaves a gap, which is harmless */
    if (rq->id == 0) {
        rq->at_incr = cmds->n;
        tk_cmds_add(cmds, "INCR " TK_KEY_SEQ_ARTICLE);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_tx_begin(r, ctx, &rq->key, 1, cmds,
                                    ngx_http_ticket_reply_decide);
}


/*
 * Everything is read under WATCH: rights, what changed since the form
 * was opened, the security decision, then the writes.  Whatever says no
 * aborts before anything is written.
 */
static ngx_int_t
ngx_http_ticket_reply_decide(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    long long                     rev;
    ngx_str_t                    *v;
    ngx_int_t                     right;
    ngx_uint_t                    i;
    unsigned                      forwarded;
    ngx_flag_t                    changed;
    tk_cmds_t                    *cmds;
    tk_ticket_t                   old, new;
    tk_article_t                  a;
    ngx_http_ticket_cs_art_t     *target;
    ngx_http_ticket_compose_t    *c;
    ngx_http_ticket_security_t    sec;
    ngx_http_ticket_reply_req_t  *rq;

    rq = ctx->view;
    c = rq->c;

    if (ctx->nreplies < (ngx_uint_t) NGX_HTTP_TICKET_X_N
                        + (rq->at_target >= 0) + (rq->at_keys >= 0)
                        + (rq->at_incr >= 0))
    {
        return ngx_http_ticket_reply_refuse(r, ctx,
                                            NGX_HTTP_INTERNAL_SERVER_ERROR,
                                            NULL);
    }

    if (rq->id == 0) {
        i = (ngx_uint_t) rq->at_incr;

        if (ctx->replies[i].type != REDIS_REPLY_INTEGER
            || ctx->replies[i].integer <= 0)
        {
            return ngx_http_ticket_reply_refuse(r, ctx,
                                            NGX_HTTP_INTERNAL_SERVER_ERROR,
                                            NULL);
        }

        rq->id = (uint64_t) ctx->replies[i].integer;
    }

    if (ngx_http_ticket_ticket_parse(r,
                                     &ctx->replies[NGX_HTTP_TICKET_X_TICKET],
                                     &old)
        != NGX_OK)
    {
        return ngx_http_ticket_reply_refuse(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (!tk_str_eq(&old.group, ngx_ticket_str(&rq->group))) {
        /* moved between the first read (or the page) and WATCH: read
         * again, the long way */
        ngx_http_ticket_tx_abort(r, ctx);
        rq->c->group.len = 0;

        if (++rq->retries < NGX_HTTP_TICKET_REPLY_RETRIES) {
            return ngx_http_ticket_reply_start(r, ctx);
        }

        return ngx_http_ticket_error(r, ctx, NGX_HTTP_CONFLICT, NULL);
    }

    right = ngx_http_ticket_right(ctx, (ngx_str_t *) &old.group);

    if (right == TK_RIGHT_NONE) {
        return ngx_http_ticket_reply_refuse(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (right != TK_RIGHT_FULL) {
        return ngx_http_ticket_reply_refuse(r, ctx, NGX_HTTP_FORBIDDEN,
                                   ngx_http_ticket_msg(ctx,
                                       TK_MSG_COMMON_YOU_HAVE_READ_ACCESS_TO_THIS));
    }

    /* two agents on one ticket: never a silent overwrite */
    v = ngx_http_ticket_reply_field(&ctx->replies[NGX_HTTP_TICKET_X_TICKET],
                                    TK_F_REV);
    rev = v ? tk_str_atoll(ngx_ticket_str(v)) : 0;

    if (c->rev >= 0 && rev != c->rev) {
        if (rq->api) {
            ngx_http_ticket_tx_abort(r, ctx);
            return ngx_http_ticket_compose_json_error(r, NGX_HTTP_CONFLICT,
                       "rev", "the ticket changed since that rev: read it "
                       "again (GET /api/v1/tickets/N)");
        }

        /* a new delivery state alone (tk_outbox_delivery) bumps rev too:
         * only articles and history entries are changes to show */
        changed = (c->arts >= 0 && old.articles > (uint64_t) c->arts)
                  || (ctx->replies[NGX_HTTP_TICKET_X_HISTORY].type
                          == REDIS_REPLY_INTEGER
                      && c->hist >= 0
                      && ctx->replies[NGX_HTTP_TICKET_X_HISTORY].integer
                         > (long long) c->hist);

        if (changed) {
            return ngx_http_ticket_reply_changes(r, ctx);
        }
    }

    /* the mail answered: one of this ticket's mails (its key names the
     * ticket), read whole */
    target = NULL;

    if (rq->tid
        && ngx_http_ticket_compose_art(&ctx->replies[rq->at_target], rq->tid,
                                       &rq->target)
           == NGX_OK
        && rq->target.kind != TK_ART_NOTE)
    {
        target = &rq->target;
    }

    if ((c->reply || c->forward) && target == NULL) {
        c->err = ngx_http_ticket_msg(ctx,
                                     TK_MSG_REPLY_THE_MESSAGE_ANSWERED_IS_NOT);
        c->reply = 0;
        return ngx_http_ticket_reply_back(r, ctx, NGX_HTTP_BAD_REQUEST);
    }

    ngx_memzero(&sec, sizeof(ngx_http_ticket_security_t));
    tk_str_set(&rq->crypt, "");

    if (!c->note) {
        ngx_http_ticket_security(&sec, c->rcpt, c->nto + c->ncc + c->nbcc,
                                 rq->at_keys >= 0
                                 ? &ctx->replies[rq->at_keys] : NULL,
                                 &ctx->replies[NGX_HTTP_TICKET_X_GROUP],
                                 ngx_http_ticket_compose_encrypted(
                                     &ctx->replies[NGX_HTTP_TICKET_X_FLAGS]));
        ngx_http_ticket_security_crypt(&sec, &rq->crypt);

        if (sec.customer_encrypted && !sec.encrypt && !c->confirm_plain) {
            c->err_confirm =
                ngx_http_ticket_msg(ctx,
                                    TK_MSG_REPLY_THE_CUSTOMER_WROTE_ENCRYPTED);
            return ngx_http_ticket_reply_back(r, ctx, NGX_HTTP_BAD_REQUEST);
        }
    }

    if (ngx_http_ticket_reply_article(r, ctx, rq, &a, target,
                                      &ctx->replies[NGX_HTTP_TICKET_X_GROUP])
        != NGX_OK)
    {
        if (c->err) {
            return ngx_http_ticket_reply_back(r, ctx, NGX_HTTP_BAD_REQUEST);
        }

        return ngx_http_ticket_reply_refuse(r, ctx,
                                            NGX_HTTP_INTERNAL_SERVER_ERROR,
                                            NULL);
    }

    /* the ticket: state afterwards (a note without one keeps it), the
     * reminder only with "waiting with reminder", the first answer */
    new = old;

    if (c->state) {
        new.state = (int) c->state;
    }

    new.pending_until = (new.state == TK_STATE_REMINDER)
                        ? (c->state ? c->pending_until : old.pending_until)
                        : 0;

    if (!c->note && new.first_response == 0) {
        new.first_response = a.time;
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return ngx_http_ticket_reply_refuse(r, ctx,
                                            NGX_HTTP_INTERNAL_SERVER_ERROR,
                                            NULL);
    }

    /* the files uploaded, after a forward's */
    forwarded = a.attachments;

    if (ngx_http_ticket_reply_files(r, ctx, &a) != NGX_OK) {
        return ngx_http_ticket_reply_refuse(r, ctx,
                                            NGX_HTTP_INTERNAL_SERVER_ERROR,
                                            NULL);
    }

    /* the ticket hash first: its HSET of "articles" must come before the
     * article's HINCRBY */
    tk_ticket_update(cmds, &old, &new, ngx_ticket_str(&ctx->user.login),
                     a.time);
    tk_article_write(cmds, &a, &new.group);

    /* a forward's attachments: copied inside Redis, the data never
     * passes through nginx (keys of one ticket share its slot) */
    ngx_http_ticket_reply_files_write(r, ctx, cmds, &a, forwarded + 1);

    for (i = 1; c->forward && !c->note && i <= forwarded; i++) {
        tk_cmds_add(cmds, "COPY " TK_FMT_ATTACHMENT
                    " " TK_FMT_ATTACHMENT,
                    (unsigned long long) rq->number,
                    (unsigned long long) target->id, (unsigned) i,
                    (unsigned long long) rq->number,
                    (unsigned long long) rq->id, (unsigned) i);
    }

    if (!c->note) {
        tk_outbox_enqueue(cmds, rq->number, rq->id, a.time);
    }

    if (cmds->failed) {
        return ngx_http_ticket_reply_refuse(r, ctx,
                                            NGX_HTTP_INTERNAL_SERVER_ERROR,
                                            NULL);
    }

    return ngx_http_ticket_tx_commit(r, ctx, cmds,
                                     ngx_http_ticket_reply_committed);
}


static ngx_int_t
ngx_http_ticket_reply_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                    i;
    ngx_http_ticket_reply_req_t  *rq;

    rq = ctx->view;

    if (ctx->tx_conflict) {
        ctx->tx_conflict = 0;

        /* someone wrote between our read and EXEC: read again -- and if
         * it was a change the agent has not seen, they get to see it */
        if (++rq->retries < NGX_HTTP_TICKET_REPLY_RETRIES) {
            return ngx_http_ticket_reply_start(r, ctx);
        }

        return ngx_http_ticket_error(r, ctx, NGX_HTTP_CONFLICT, NULL);
    }

    for (i = 0; i < ctx->nreplies; i++) {
        if (ngx_http_ticket_reply_is_error(&ctx->replies[i])) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "ticket: writing the reply to %V failed: %V",
                          &rq->key, &ctx->replies[i].str);
            return ngx_http_ticket_error(r, ctx,
                                         NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         NULL);
        }
    }

    /* who of the @@mentioned will not be told: said in the answer */
    return ngx_http_ticket_mentions_check(r, ctx,
                                          ngx_http_ticket_reply_respond);
}


/* A browser cannot fill a file input again: say so when the form comes
 * back. */
void
ngx_http_ticket_reply_files_lost(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_compose_t *c)
{
    if (ctx->uploads && ctx->uploads->nelts) {
        c->err_files =
            ngx_http_ticket_msg(ctx,
                                TK_MSG_REPLY_THE_ATTACHMENTS_WERE_NOT_KEPT);
    }
}


static ngx_int_t
ngx_http_ticket_reply_back(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_uint_t status)
{
    const char                   *field, *message;
    ngx_http_ticket_reply_req_t  *rq;

    rq = ctx->view;

    ngx_http_ticket_tx_abort(r, ctx);

    if (rq->api) {
        ngx_http_ticket_reply_first_error(rq->c, &field, &message);
        return ngx_http_ticket_compose_json_error(r, status, field,
                                                  message ? message
                                                          : "refused");
    }

    rq->c->status = status;
    ngx_http_ticket_reply_files_lost(ctx, rq->c);

    return ngx_http_ticket_view_compose_again(r, ctx, rq->number, rq->c);
}


static ngx_int_t
ngx_http_ticket_reply_refuse(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_uint_t status, const char *message)
{
    ngx_http_ticket_tx_abort(r, ctx);

    return ngx_http_ticket_error(r, ctx, status, message);
}
