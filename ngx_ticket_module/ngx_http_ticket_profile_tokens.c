/*
 * ngx_http_ticket_profile_tokens.c -- the profile page's "API tokens":
 * the signed-in user's own tokens (first digits, label, when made), a
 * new one (POST /profile/tokens, shown once on the page that answers,
 * never in a URL or a list again) and revoking one (POST
 * /profile/tokens/revoke, by its first digits among the user's own
 * tokens only).  The writes are tk_token.c's, as ticketctl's; a revoked
 * token's hash is gone, so its next request is a 401.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_profile.h"
#include "tk_token.h"


/* Tokens listed on the page; a user with more has a script problem. */
#define NGX_HTTP_TICKET_TOKENS_MAX  50


static ngx_int_t ngx_http_ticket_profile_tokens_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_profile_tokens_done(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_profile_token_made(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_profile_token_find(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_profile_token_gone(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_flag_t ngx_http_ticket_profile_exec_ok(ngx_http_ticket_ctx_t *ctx);


/* ---- the list ------------------------------------------------------------ */

ngx_int_t
ngx_http_ticket_profile_tokens(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t  *cmds;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "SMEMBERS " TK_FMTS_USER_TOKENS,
                ngx_ticket_str(&ctx->user.login));

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_profile_tokens_read);
}


/* The set is in: label and time of each (a hash gone: left out). */
static ngx_int_t
ngx_http_ticket_profile_tokens_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                   t;
    ngx_uint_t                  i, n;
    tk_cmds_t                  *cmds;
    ngx_http_ticket_profile_t  *pf;

    pf = ctx->view;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_ARRAY) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pf->tokens = &ctx->replies[0];
    n = ngx_min(pf->tokens->nelem, NGX_HTTP_TICKET_TOKENS_MAX);

    if (n == 0) {
        return ngx_http_ticket_profile_render(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < n; i++) {
        ngx_http_ticket_reply_str(&pf->tokens->element[i], &t);
        tk_cmds_add(cmds, "HMGET " TK_FMTS_TOKEN " " TK_F_LABEL " "
                    TK_F_CREATED, ngx_ticket_str(&t));
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_profile_tokens_done);
}


static ngx_int_t
ngx_http_ticket_profile_tokens_done(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                   t, created;
    ngx_uint_t                  i;
    tk_tpl_profile_tokens_t    *row;
    ngx_http_ticket_reply_t    *rep;
    ngx_http_ticket_profile_t  *pf;

    pf = ctx->view;

    row = ngx_pcalloc(r->pool, (ctx->nreplies + 1) * sizeof(*row));
    if (row == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pf->tpl.tokens = row;

    for (i = 0; i < ctx->nreplies; i++) {
        rep = &ctx->replies[i];

        if (rep->type != REDIS_REPLY_ARRAY || rep->nelem != 2
            || rep->element[1].type != REDIS_REPLY_STRING)
        {
            continue;                           /* revoked meanwhile */
        }

        ngx_http_ticket_reply_str(&pf->tokens->element[i], &t);
        ngx_http_ticket_reply_str(&rep->element[0], (ngx_str_t *) &row->label);
        ngx_http_ticket_reply_str(&rep->element[1], &created);

        row->id.data = t.data;
        row->id.len = ngx_min(t.len, TK_TOKEN_SHOWN);

        if (ngx_http_ticket_time_str(r, ngx_atotm(created.data, created.len),
                                     &row->created)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        row++;
    }

    pf->tpl.tokens_n = row - pf->tpl.tokens;

    return ngx_http_ticket_profile_render(r, ctx);
}


/* ---- a new one -------------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_profile_token_new(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                   label;
    tk_cmds_t                  *cmds;
    ngx_http_ticket_profile_t  *pf;

    pf = ctx->view;

    ngx_http_ticket_form_value(r, ctx, "label", &label);
    ngx_http_ticket_trim(&label);

    if (!tk_token_valid_label(ngx_ticket_str(&label))
        || ngx_http_ticket_text_chars(&label, 0) < 0)
    {
        return ngx_http_ticket_profile_show(r, ctx, NGX_HTTP_BAD_REQUEST,
                   ngx_http_ticket_msg(ctx,
                       TK_MSG_PROFILE_TOKENS_THE_LABEL_ONE_LINE_AT_MOST_64));
    }

    if (ngx_http_ticket_random_hex(r, TK_TOKEN_BYTES, &pf->token) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "MULTI");
    tk_token_add(cmds, ngx_ticket_str(&pf->token),
                 ngx_ticket_str(&ctx->user.login), ngx_ticket_str(&label),
                 (int64_t) ngx_time());
    tk_cmds_add(cmds, "EXEC");

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_profile_token_made);
}


/* Made: the page with the token, this once (no redirect: the token must
 * not travel in a URL). */
static ngx_int_t
ngx_http_ticket_profile_token_made(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_profile_t  *pf;

    pf = ctx->view;

    if (!ngx_http_ticket_profile_exec_ok(ctx)) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "ticket: \"%V\" made an API token %*s...",
                  &ctx->user.login, (size_t) TK_TOKEN_SHOWN, pf->token.data);

    pf->tpl.new_token = *ngx_ticket_str(&pf->token);

    return ngx_http_ticket_profile_show(r, ctx, NGX_HTTP_OK, NULL);
}


/* ---- revoking ------------------------------------------------------------- */

/* id: the first digits the list shows; looked for among the user's own
 * tokens only, so nobody revokes another's. */
ngx_int_t
ngx_http_ticket_profile_token_revoke(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                  *cmds;
    ngx_http_ticket_profile_t  *pf;

    pf = ctx->view;

    ngx_http_ticket_form_value(r, ctx, "id", &pf->token);

    if (!ngx_http_ticket_is_hex(&pf->token, TK_TOKEN_SHOWN)) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "SMEMBERS " TK_FMTS_USER_TOKENS,
                ngx_ticket_str(&ctx->user.login));

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_profile_token_find);
}


static ngx_int_t
ngx_http_ticket_profile_token_find(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                   t, found;
    ngx_uint_t                  i;
    tk_cmds_t                  *cmds;
    ngx_http_ticket_profile_t  *pf;

    pf = ctx->view;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_ARRAY) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_null(&found);

    for (i = 0; i < ctx->replies[0].nelem; i++) {
        ngx_http_ticket_reply_str(&ctx->replies[0].element[i], &t);

        if (t.len > TK_TOKEN_SHOWN
            && ngx_strncmp(t.data, pf->token.data, TK_TOKEN_SHOWN) == 0)
        {
            found = t;
        }
    }

    /* gone already (another tab): the same answer as revoked now */
    if (found.len == 0) {
        return ngx_http_ticket_redirect(r, "profile?saved=revoked",
                                        sizeof("profile?saved=revoked") - 1);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "MULTI");
    tk_token_revoke(cmds, ngx_ticket_str(&found),
                    ngx_ticket_str(&ctx->user.login));
    tk_cmds_add(cmds, "EXEC");

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_profile_token_gone);
}


static ngx_int_t
ngx_http_ticket_profile_token_gone(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    if (!ngx_http_ticket_profile_exec_ok(ctx)) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    return ngx_http_ticket_redirect(r, "profile?saved=revoked",
                                    sizeof("profile?saved=revoked") - 1);
}


/* MULTI ... EXEC went through: EXEC's array holds no error. */
static ngx_flag_t
ngx_http_ticket_profile_exec_ok(ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                i;
    ngx_http_ticket_reply_t  *last;

    if (ctx->nreplies < 2) {
        return 0;
    }

    last = &ctx->replies[ctx->nreplies - 1];

    if (last->type != REDIS_REPLY_ARRAY) {
        return 0;
    }

    for (i = 0; i < last->nelem; i++) {
        if (ngx_http_ticket_reply_is_error(&last->element[i])) {
            return 0;
        }
    }

    return 1;
}
