/*
 * ngx_http_ticket_profile.c -- "/profile": the signed-in user's display
 * name, notification address and language (POST /profile), and their
 * password (POST /profile/password, the current one required); their
 * API tokens: ngx_http_ticket_profile_tokens.c.
 *
 * Success is a 303 back to "/profile?saved=..." (reloading the page
 * does not post again); a refused form is shown again with status 400,
 * the values as typed and a message saying what to fix.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_profile.h"


#define NGX_HTTP_TICKET_NAME_MAX       100
#define NGX_HTTP_TICKET_EMAIL_MAX      254
#define NGX_HTTP_TICKET_PASSWORD_MIN   8
#define NGX_HTTP_TICKET_PASSWORD_LIMIT 256


static ngx_int_t ngx_http_ticket_profile_shown(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_profile_body(tk_out_t *out, void *data);
static ngx_int_t ngx_http_ticket_profile_post(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_step_pt save);
static ngx_int_t ngx_http_ticket_profile_save(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_profile_saved(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_password(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_password_stored(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_password_checked(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_password_hashed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_password_saved(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_flag_t ngx_http_ticket_profile_written(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *what);


ngx_int_t
ngx_http_ticket_profile(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_profile_t  *pf;

    pf = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_profile_t));
    if (pf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = pf;

    /* the form shows the stored values unless a POST brings others */
    pf->tpl.name = *ngx_ticket_str(&ctx->user.name);
    pf->tpl.email = *ngx_ticket_str(&ctx->user.email);
    pf->lang = ngx_http_ticket_lang(ctx);

    if (ctx->path.len == sizeof("/profile") - 1) {

        if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
            return ngx_http_ticket_profile_show(r, ctx, NGX_HTTP_OK, NULL);
        }

        if (r->method == NGX_HTTP_POST) {
            return ngx_http_ticket_profile_post(r, ctx,
                                                ngx_http_ticket_profile_save);
        }

        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    if (ctx->path.len == sizeof("/profile/notifications") - 1
        && ngx_strncmp(ctx->path.data, "/profile/notifications",
                       ctx->path.len) == 0)
    {
        if (r->method == NGX_HTTP_POST) {
            return ngx_http_ticket_profile_post(r, ctx,
                                        ngx_http_ticket_profile_notify_save);
        }

        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    if (ctx->path.len == sizeof("/profile/password") - 1
        && ngx_strncmp(ctx->path.data, "/profile/password",
                       ctx->path.len) == 0)
    {
        if (r->method == NGX_HTTP_POST) {
            return ngx_http_ticket_profile_post(r, ctx,
                                                ngx_http_ticket_password);
        }

        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    /* API tokens: a new one, or one revoked */
    if (r->method == NGX_HTTP_POST
        && ctx->path.len == sizeof("/profile/tokens") - 1
        && ngx_strncmp(ctx->path.data, "/profile/tokens", ctx->path.len) == 0)
    {
        return ngx_http_ticket_profile_post(r, ctx,
                                            ngx_http_ticket_profile_token_new);
    }

    if (r->method == NGX_HTTP_POST
        && ctx->path.len == sizeof("/profile/tokens/revoke") - 1
        && ngx_strncmp(ctx->path.data, "/profile/tokens/revoke",
                       ctx->path.len) == 0)
    {
        return ngx_http_ticket_profile_post(r, ctx,
                                        ngx_http_ticket_profile_token_revoke);
    }

    return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
}


/* The page; error set: the form came back refused. */
ngx_int_t
ngx_http_ticket_profile_show(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status, const char *error)
{
    ngx_str_t                   saved;
    ngx_uint_t                  i;
    ngx_http_ticket_profile_t  *pf;

    pf = ctx->view;

    pf->tpl.csrf = *ngx_ticket_str(&ctx->csrf);
    pf->tpl.login = *ngx_ticket_str(&ctx->user.login);

    /* every language of the catalogue, each named in itself */
    for (i = 0; i < TK_LANG_N; i++) {
        ngx_http_ticket_cstr(&pf->langs[i].code, tk_msg_langs[i]);
        ngx_http_ticket_cstr(&pf->langs[i].name, tk_msg(i, TK_MSG_LANG_NAME));
        pf->langs[i].selected = (i == pf->lang);
    }

    pf->tpl.langs = pf->langs;
    pf->tpl.langs_n = TK_LANG_N;

    if (ngx_http_ticket_url(r, "profile", sizeof("profile") - 1,
                            &pf->tpl.profile_url) != NGX_OK
        || ngx_http_ticket_url(r, "profile/password",
                               sizeof("profile/password") - 1,
                               &pf->tpl.password_url) != NGX_OK
        || ngx_http_ticket_url(r, "profile/tokens",
                               sizeof("profile/tokens") - 1,
                               &pf->tpl.tokens_url) != NGX_OK
        || ngx_http_ticket_url(r, "profile/tokens/revoke",
                               sizeof("profile/tokens/revoke") - 1,
                               &pf->tpl.revoke_url) != NGX_OK
        /* casework: the user's own text modules */
        || ngx_http_ticket_url(r, "text-modules", sizeof("text-modules") - 1,
                               &pf->tpl.textmods_url) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (error) {
        ngx_http_ticket_cstr(&pf->tpl.flash_error, error);

    } else if (ngx_http_ticket_query_arg(r, "saved", &saved) == NGX_OK) {

        if (saved.len == 6 && ngx_strncmp(saved.data, "notify", 6) == 0) {
            ngx_http_ticket_cstr(&pf->tpl.flash_ok,
                                 ngx_http_ticket_msg(ctx,
                                     TK_MSG_PROFILE_YOUR_NOTIFICATION_SETTINGS));
        } else if (saved.len == 8
                   && ngx_strncmp(saved.data, "password", 8) == 0)
        {
            ngx_http_ticket_cstr(&pf->tpl.flash_ok,
                                 ngx_http_ticket_msg(ctx,
                                     TK_MSG_PROFILE_YOUR_PASSWORD_HAS_BEEN));

        } else if (saved.len == 7
                   && ngx_strncmp(saved.data, "revoked", 7) == 0)
        {
            ngx_http_ticket_cstr(&pf->tpl.flash_ok,
                                 ngx_http_ticket_msg(ctx,
                                     TK_MSG_PROFILE_THE_TOKEN_HAS_BEEN_REVOKED));
        } else {
            ngx_http_ticket_cstr(&pf->tpl.flash_ok,
                                 ngx_http_ticket_msg(ctx,
                                     TK_MSG_PROFILE_YOUR_PROFILE_HAS_BEEN_SAVED));
        }
    }

    pf->status = status;

    return ngx_http_ticket_profile_tokens(r, ctx);
}


/* The tokens are in: the notification settings (one HGETALL), then the
 * page. */
ngx_int_t
ngx_http_ticket_profile_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t  *cmds;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGETALL " TK_FMTS_USER_NOTIFY,
                ngx_ticket_str(&ctx->user.login));
    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_profile_shown);
}


static ngx_int_t
ngx_http_ticket_profile_shown(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                   title;
    ngx_http_ticket_profile_t  *pf;

    pf = ctx->view;

    if (ctx->nreplies != 1
        || ngx_http_ticket_profile_notify_tpl(r, ctx,
               pf->notify_posted ? NULL : &ctx->replies[0], &pf->tpl)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    title.data = (u_char *) ngx_http_ticket_msg(ctx, TK_MSG_COMMON_PROFILE);
    title.len = ngx_strlen(title.data);

    return ngx_http_ticket_page(r, ctx, pf->status, &title,
                                ngx_http_ticket_profile_body, pf);
}


/* A refused notification form: the page again (422), the matrix as sent. */
ngx_int_t
ngx_http_ticket_profile_notify_refused(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *error)
{
    ngx_http_ticket_profile_t  *pf;

    pf = ctx->view;
    pf->notify_posted = 1;
    ngx_http_ticket_cstr(&pf->tpl.notify_error, error);

    return ngx_http_ticket_profile_show(r, ctx, 422, NULL);
}


static void
ngx_http_ticket_profile_body(tk_out_t *out, void *data)
{
    ngx_http_ticket_profile_t  *pf = data;

    tk_tpl_profile(out, &pf->tpl);
}


/* A POST without the session's token: 403, nothing is read or written. */
static ngx_int_t
ngx_http_ticket_profile_post(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_step_pt save)
{
    if (ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
        return ngx_http_ticket_csrf_refused(r, ctx);
    }

    return save(r, ctx);
}


/* ---- name, email, language ------------------------------------------------ */

static ngx_int_t
ngx_http_ticket_profile_save(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_int_t                   n;
    ngx_str_t                   name, email, lang, key;
    tk_cmds_t                  *cmds;
    ngx_http_ticket_profile_t  *pf;

    pf = ctx->view;

    ngx_http_ticket_form_value(r, ctx, "name", &name);
    ngx_http_ticket_form_value(r, ctx, "email", &email);

    if (ngx_http_ticket_form_arg(r, ctx, "lang", &lang) != NGX_OK) {
        lang = ctx->user.lang;
    }

    ngx_http_ticket_trim(&name);
    ngx_http_ticket_trim(&email);

    /* show what was typed, whatever happens next */
    pf->tpl.name = *ngx_ticket_str(&name);
    pf->tpl.email = *ngx_ticket_str(&email);

    n = ngx_http_ticket_text_chars(&name, 0);

    if (n < 1 || n > NGX_HTTP_TICKET_NAME_MAX) {
        return ngx_http_ticket_profile_show(r, ctx, NGX_HTTP_BAD_REQUEST,
                   ngx_http_ticket_msg(ctx,
                       TK_MSG_PROFILE_THE_NAME_MUST_BE_1_TO_100));
    }

    if (!ngx_http_ticket_valid_email(&email)) {
        return ngx_http_ticket_profile_show(r, ctx, NGX_HTTP_BAD_REQUEST,
                   ngx_http_ticket_msg(ctx,
                       TK_MSG_PROFILE_THAT_IS_NOT_AN_EMAIL_ADDRESS));
    }

    /* the catalogue's languages, nothing else */
    n = ngx_http_ticket_lang_index(lang.data, lang.len);

    if (n < 0) {
        return ngx_http_ticket_profile_show(r, ctx, NGX_HTTP_BAD_REQUEST,
                   ngx_http_ticket_msg(ctx,
                       TK_MSG_PROFILE_LANGUAGE_DEUTSCH_OR_ENGLISH));
    }

    pf->lang = n;

    key.data = ngx_pnalloc(r->pool, TK_KEY_MAX);
    cmds = ngx_http_ticket_cmds(r);
    if (key.data == NULL || cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    key.len = tk_key_user((char *) key.data, TK_KEY_MAX,
                          ngx_ticket_str(&ctx->user.login));
    if (key.len == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * The name is what others see of the user -- as a ticket's owner and
     * in the owner choice, which the page cache keeps per generation --
     * so tk:{ix}:gen goes up with it, in the same MULTI: the cache relies
     * on the bump and the change being one write.
     */
    tk_cmds_add(cmds, "MULTI");
    tk_cmds_add(cmds, "HSET %S " TK_F_NAME " %S " TK_F_EMAIL " %S "
                TK_F_LANG " %S", ngx_ticket_str(&key), ngx_ticket_str(&name),
                ngx_ticket_str(&email), ngx_ticket_str(&lang));
    tk_index_touch(cmds);
    tk_cmds_add(cmds, "EXEC");

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_profile_saved);
}


static ngx_int_t
ngx_http_ticket_profile_saved(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    if (!ngx_http_ticket_profile_written(r, ctx, "profile")) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    return ngx_http_ticket_redirect(r, "profile?saved=profile",
                                    sizeof("profile?saved=profile") - 1);
}


/* The save is in: one HSET, or MULTI ... EXEC (whose last reply is the
 * array of results, nil when aborted); what ("profile", "password")
 * names it in the log when Redis refused it. */
static ngx_flag_t
ngx_http_ticket_profile_written(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *what)
{
    ngx_uint_t                i;
    ngx_http_ticket_reply_t  *last;

    last = ctx->nreplies ? &ctx->replies[ctx->nreplies - 1] : NULL;

    if (last && ctx->nreplies > 1) {
        if (last->type != REDIS_REPLY_ARRAY) {
            last = NULL;

        } else {
            for (i = 0; i < last->nelem; i++) {
                if (ngx_http_ticket_reply_is_error(&last->element[i])) {
                    last = NULL;
                    break;
                }
            }
        }
    }

    if (last == NULL || ngx_http_ticket_reply_is_error(last)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: saving the %s of \"%V\" failed", what,
                      &ctx->user.login);
        return 0;
    }

    return 1;
}


/*
 * Good enough to catch typos, not RFC 5322: one "@", something on both
 * sides, a dot in the domain, no spaces or control characters.
 */
ngx_flag_t
ngx_http_ticket_valid_email(ngx_str_t *email)
{
    u_char  *p, *at, *last;

    if (email->len < 3 || email->len > NGX_HTTP_TICKET_EMAIL_MAX
        || ngx_http_ticket_text_chars(email, 0) < 0)
    {
        return 0;
    }

    last = email->data + email->len;
    at = NULL;

    for (p = email->data; p < last; p++) {
        if (*p == ' ' || *p == '<' || *p == '>' || *p == ',' || *p == ';') {
            return 0;
        }

        if (*p == '@') {
            if (at) {
                return 0;
            }

            at = p;
        }
    }

    if (at == NULL || at == email->data || last - at < 4) {
        return 0;
    }

    p = ngx_strlchr(at + 2, last, '.');

    return p != NULL && p < last - 1;
}


/* ---- password ----------------------------------------------------------------- */

/*
 * Check the new password first (cheap), then the current one against
 * the stored hash in the thread pool, then hash the new one there too.
 */
static ngx_int_t
ngx_http_ticket_password(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                     *p;
    ngx_int_t                   n;
    ngx_str_t                   old, new, confirm;
    tk_cmds_t                  *cmds;
    ngx_http_ticket_profile_t  *pf;

    pf = ctx->view;

    ngx_http_ticket_form_value(r, ctx, "old", &old);
    ngx_http_ticket_form_value(r, ctx, "new", &new);
    ngx_http_ticket_form_value(r, ctx, "confirm", &confirm);

    if (old.len == 0) {
        return ngx_http_ticket_profile_show(r, ctx, NGX_HTTP_BAD_REQUEST,
                   ngx_http_ticket_msg(ctx,
                       TK_MSG_PROFILE_PLEASE_ENTER_YOUR_CURRENT));
    }

    /* characters, not bytes: "ä" is one */
    n = 0;

    for (p = new.data; p < new.data + new.len; p++) {
        if ((*p & 0xc0) != 0x80) {
            n++;
        }
    }

    if (n < NGX_HTTP_TICKET_PASSWORD_MIN) {
        return ngx_http_ticket_profile_show(r, ctx, NGX_HTTP_BAD_REQUEST,
                   ngx_http_ticket_msg(ctx,
                       TK_MSG_PROFILE_THE_NEW_PASSWORD_MUST_BE_AT));
    }

    if (new.len > NGX_HTTP_TICKET_PASSWORD_LIMIT) {
        return ngx_http_ticket_profile_show(r, ctx, NGX_HTTP_BAD_REQUEST,
                   ngx_http_ticket_msg(ctx,
                       TK_MSG_PROFILE_THE_NEW_PASSWORD_IS_TOO_LONG));
    }

    if (new.len != confirm.len
        || ngx_strncmp(new.data, confirm.data, new.len) != 0)
    {
        return ngx_http_ticket_profile_show(r, ctx, NGX_HTTP_BAD_REQUEST,
                   ngx_http_ticket_msg(ctx,
                       TK_MSG_PROFILE_THE_TWO_NEW_PASSWORDS_ARE_NOT));
    }

    pf->old_password = old;
    pf->new_password = new;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGET " TK_FMTS_USER " " TK_F_PASSWORD,
                ngx_ticket_str(&ctx->user.login));

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_password_stored);
}


static ngx_int_t
ngx_http_ticket_password_stored(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                   hash;
    ngx_http_ticket_profile_t  *pf;

    pf = ctx->view;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_STRING) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: \"%V\" has no password hash",
                      &ctx->user.login);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    /* the hash must outlive this reply: crypt reads it in a thread */
    hash.len = ctx->replies[0].str.len;
    hash.data = ngx_pstrdup(r->pool, &ctx->replies[0].str);
    if (hash.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_password_check(r, ctx, &hash, &pf->old_password,
                                          ngx_http_ticket_password_checked);
}


static ngx_int_t
ngx_http_ticket_password_checked(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_profile_t  *pf;

    pf = ctx->view;

    if (!ctx->password_ok) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ticket: \"%V\" gave a wrong current password when "
                      "changing it", &ctx->user.login);

        return ngx_http_ticket_profile_show(r, ctx, NGX_HTTP_BAD_REQUEST,
                   ngx_http_ticket_msg(ctx,
                       TK_MSG_PROFILE_THE_CURRENT_PASSWORD_IS_NOT));
    }

    return ngx_http_ticket_password_hash(r, ctx, &pf->new_password,
                                         ngx_http_ticket_password_hashed);
}


static ngx_int_t
ngx_http_ticket_password_hashed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t   gen;
    tk_cmds_t  *cmds;

    if (ctx->password_hash.len == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: hashing the new password of \"%V\" failed",
                      &ctx->user.login);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * A new password ends the user's other sessions (someone who knew
     * the old one may be signed in): a new session generation, which
     * this session takes along in the same MULTI (docs/security.md).
     */
    if (ngx_http_ticket_random_hex(r, NGX_HTTP_TICKET_SESSION_GEN_BYTES,
                                   &gen)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_multi(cmds);
    tk_cmds_add(cmds, "HSET " TK_FMTS_USER " " TK_F_PASSWORD " %S "
                TK_F_SESSION_GEN " %S", ngx_ticket_str(&ctx->user.login),
                ngx_ticket_str(&ctx->password_hash), ngx_ticket_str(&gen));

    if (ctx->sid.len) {
        tk_cmds_add(cmds, "HSET " TK_FMTS_SESSION " " TK_F_GEN " %S",
                    ngx_ticket_str(&ctx->sid), ngx_ticket_str(&gen));
    }

    tk_cmds_exec(cmds);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_password_saved);
}


static ngx_int_t
ngx_http_ticket_password_saved(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    if (!ngx_http_ticket_profile_written(r, ctx, "password")) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "ticket: \"%V\" changed their password", &ctx->user.login);

    return ngx_http_ticket_redirect(r, "profile?saved=password",
                                    sizeof("profile?saved=password") - 1);
}
