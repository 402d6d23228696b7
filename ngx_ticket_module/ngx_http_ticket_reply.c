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
 * typed and what changed.  A note is the same without an outbox entry.
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
static ngx_int_t ngx_http_ticket_reply_decide(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_reply_changed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_reply_changes(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_reply_t *history);
static ngx_int_t ngx_http_ticket_reply_fresh(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_reply_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_reply_back(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status);
static void ngx_http_ticket_reply_files_lost(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_compose_t *c);
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
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_BAD_REQUEST,
                                                  field, message);
    }

    if (ngx_http_ticket_reply_check(r, ctx, c) != NGX_OK) {
        ngx_http_ticket_reply_first_error(c, &field, &message);
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_BAD_REQUEST,
                                                  field, message);
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
    ngx_http_ticket_reply_req_t  *rq;

    rq = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL
        || (rq->key.len == 0
            && ngx_http_ticket_ticket_key(r, rq->number, &rq->key) != NGX_OK))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
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
    char                          gkey[TK_KEY_MAX];
    tk_cmds_t                    *cmds;
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
                                     ngx_http_ticket_lang_de(ctx)
                                     ? "Du hast f\xc3\xbcr diese AG nur "
                                       "Lesezugriff."
                                     : "You have read access to this "
                                       "group only.");
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL || tk_key_group(gkey, sizeof(gkey),
                                     ngx_ticket_str(&rq->group)) == 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the history, to find the entries the form has not seen (none
     * asked: none read -- "+ -" is an empty range); a ticket's history
     * is short, and a stream cannot be read from its n-th entry */
    tk_cmds_add(cmds, "HGETALL %S", ngx_ticket_str(&rq->key));
    ngx_http_ticket_compose_flags(cmds, rq->number);
    tk_cmds_add(cmds, "XRANGE %S" TK_SFX_HISTORY " %s %s",
                ngx_ticket_str(&rq->key), c->hist >= 0 ? "-" : "+",
                c->hist >= 0 ? "+" : "-");
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
    ngx_flag_t                    de, changed;
    tk_cmds_t                    *cmds;
    tk_ticket_t                   old, new;
    tk_article_t                  a;
    ngx_http_ticket_cs_art_t     *target;
    ngx_http_ticket_compose_t    *c;
    ngx_http_ticket_security_t    sec;
    ngx_http_ticket_reply_req_t  *rq;

    rq = ctx->view;
    c = rq->c;
    de = ngx_http_ticket_lang_de(ctx);

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
        /* moved between the first read and WATCH: read again */
        ngx_http_ticket_tx_abort(r, ctx);

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
                                   de ? "Du hast f\xc3\xbcr diese AG nur "
                                        "Lesezugriff."
                                      : "You have read access to this "
                                        "group only.");
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
                          == REDIS_REPLY_ARRAY
                      && c->hist >= 0
                      && ctx->replies[NGX_HTTP_TICKET_X_HISTORY].nelem
                         > (size_t) c->hist);

        if (changed) {
            return ngx_http_ticket_reply_changes(r, ctx,
                                  &ctx->replies[NGX_HTTP_TICKET_X_HISTORY]);
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
        c->err = de ? "Die beantwortete Nachricht gibt es in diesem Ticket "
                      "nicht."
                    : "The message answered is not in this ticket.";
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
            c->err_confirm = de ? "Die Kundin hat in diesem Ticket "
                                  "verschl\xc3\xbcsselt geschrieben. Diese "
                                  "Antwort ginge unverschl\xc3\xbcsselt "
                                  "hinaus: bitte best\xc3\xa4tigen."
                                : "The customer wrote encrypted in this "
                                  "ticket. This reply would go out "
                                  "unencrypted: please confirm.";
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
        tk_cmds_add(cmds, "COPY tk:{t:%llu}:a:%llu:att:%u"
                    " tk:{t:%llu}:a:%llu:att:%u",
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


/*
 * Not sent: the ticket changed since the form was opened.  Nothing is
 * written; the articles the agent has not seen are read (who wrote,
 * to whom) to say what changed.
 */
static ngx_int_t
ngx_http_ticket_reply_changes(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_reply_t *history)
{
    tk_cmds_t                    *cmds;
    ngx_http_ticket_compose_t    *c;
    ngx_http_ticket_reply_req_t  *rq;

    rq = ctx->view;
    c = rq->c;
    rq->history = history;

    ngx_http_ticket_tx_abort(r, ctx);

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "LRANGE %S:articles %lld -1", ngx_ticket_str(&rq->key),
                (long long) (c->arts >= 0 ? c->arts : 1000000000));

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
    ngx_flag_t                    de;
    const char                   *what;
    ngx_http_ticket_hist_t        h;
    ngx_http_ticket_cs_art_t      a;
    ngx_http_ticket_reply_t      *history;
    ngx_http_ticket_compose_t    *c;
    ngx_http_ticket_reply_req_t  *rq;

    rq = ctx->view;
    c = rq->c;
    de = ngx_http_ticket_lang_de(ctx);
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
            what = de ? "Neue E-Mail von " : "New mail from ";
            who = &a.from;
            break;
        case TK_ART_OUT:
            what = de ? "E-Mail gesendet an " : "Mail sent to ";
            who = &a.to;
            break;
        default:
            what = de ? "Neue interne Notiz von " : "New internal note by ";
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


static ngx_int_t
ngx_http_ticket_reply_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_out_t                      out;
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

    if (!rq->api) {
        u_char  buf[2 * NGX_INT64_LEN + 16], *last;

        last = ngx_sprintf(buf, "t/%uL#a-%uL", rq->number, rq->id);
        return ngx_http_ticket_redirect(r, (char *) buf, last - buf);
    }

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_out_cstr(&out, "{\"id\":");
    tk_out_uint(&out, rq->id);
    tk_out_cstr(&out, ",\"ticket\":");
    tk_out_uint(&out, rq->number);
    tk_out_cstr(&out, rq->c->note ? ",\"kind\":\"note\",\"delivery\":null"
                                  : ",\"kind\":\"out\",\"delivery\":"
                                    "\"queued\"");
    tk_out_cstr(&out, ",\"message_id\":");

    if (rq->message_id.len) {
        tk_out_json(&out, rq->message_id.data, rq->message_id.len);
    } else {
        tk_out_cstr(&out, "null");
    }

    tk_out_cstr(&out, ",\"crypt\":");
    tk_out_json(&out, rq->crypt.data, rq->crypt.len);
    tk_out_cstr(&out, "}\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_CREATED);
}


/* Not sent: the page again with the message (API: the JSON error). */
/* A browser cannot fill a file input again: say so when the form comes
 * back. */
static void
ngx_http_ticket_reply_files_lost(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_compose_t *c)
{
    if (ctx->uploads && ctx->uploads->nelts) {
        c->err_files = ngx_http_ticket_lang_de(ctx)
                       ? "Die Anh\xc3\xa4nge sind nicht gespeichert: bitte "
                         "noch einmal ausw\xc3\xa4hlen."
                       : "The attachments were not kept: please choose them "
                         "again.";
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
