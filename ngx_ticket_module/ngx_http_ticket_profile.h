/*
 * ngx_http_ticket_profile.h -- what the profile page's two files share:
 * ngx_http_ticket_profile.c (name, email, language, password) and
 * ngx_http_ticket_profile_tokens.c (the user's API tokens).
 */

#ifndef NGX_HTTP_TICKET_PROFILE_H
#define NGX_HTTP_TICKET_PROFILE_H

#include "ngx_http_ticket_views.h"
#include "tk_tpl.h"

typedef struct {
    tk_tpl_profile_t           tpl;
    ngx_str_t                  new_password;
    ngx_str_t                  old_password;
    ngx_uint_t                 lang;            /* TK_LANG_* the form shows */
    tk_tpl_profile_langs_t     langs[TK_LANG_N];

    /* the page to render once the tokens are read */
    ngx_uint_t                 status;
    ngx_flag_t                 notify_posted;   /* matrix: show the form */
    ngx_http_ticket_reply_t   *tokens;          /* SMEMBERS, or NULL */
    ngx_str_t                  token;           /* made, or to revoke */
} ngx_http_ticket_profile_t;

/* The page (status; error: the form came back refused). */
ngx_int_t ngx_http_ticket_profile_show(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status, const char *error);
/* The page with pf->tpl as set up and pf->status. */
ngx_int_t ngx_http_ticket_profile_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* Read the user's tokens into pf->tpl, then render. */
ngx_int_t ngx_http_ticket_profile_tokens(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
/* POST /profile/tokens (label): a new token, shown once. */
ngx_int_t ngx_http_ticket_profile_token_new(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
/* POST /profile/tokens/revoke (id: the token's first digits). */
ngx_int_t ngx_http_ticket_profile_token_revoke(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

#endif /* NGX_HTTP_TICKET_PROFILE_H */
