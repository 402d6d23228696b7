/*
 * ngx_http_ticket_session.c -- sessions begin and end here: the sign-in
 * form (GET/POST /login) with its CSRF double-submit cookie and rate
 * limit, and sign-out (POST /logout).  Requests with a session are
 * authenticated in ngx_http_ticket_auth.c.
 */

#include "ngx_http_ticket.h"
#include "tk_tpl.h"

#include <hiredis/read.h>


#define NGX_HTTP_TICKET_CSRF_COOKIE     "tk_csrf"
#define NGX_HTTP_TICKET_CSRF_MAX_AGE    1800
#define NGX_HTTP_TICKET_TOKEN_BYTES     32

/* failed sign-ins counted per account and per address for 15 minutes */
#define NGX_HTTP_TICKET_RL_WINDOW       900
#define NGX_HTTP_TICKET_RL_USER_MAX     10
#define NGX_HTTP_TICKET_RL_IP_MAX       30

/*
 * Checked instead when the account does not exist or is disabled, so the
 * answer takes as long as for a real one and does not reveal which logins
 * exist.  Its password is irrelevant: the result is ignored.
 */
static char  ngx_http_ticket_dummy_hash[] =
    "$y$j9T$j3wn2iJohwLRAYqACQA681$85dJxx4HJOxckhKMNQP5a96ShpLlcAmGXlj64UYmVrC";


/* The sign-in form between its steps (ctx->view). */
typedef struct {
    ngx_str_t                  login;           /* lower-cased */
    ngx_str_t                  password;
    ngx_str_t                  next;
    ngx_str_t                  csrf;            /* pre-session token */
    ngx_str_t                  ip;
    ngx_str_t                  rl_user;         /* counter keys */
    ngx_str_t                  rl_ip;
    ngx_str_t                  sid;
    ngx_str_t                  error;           /* flash message */
    ngx_str_t                  gen;             /* user's session_gen */
    ngx_flag_t                 valid_login;
    ngx_flag_t                 user_ok;         /* exists, enabled */
} ngx_http_ticket_login_t;


static ngx_int_t ngx_http_ticket_login_form(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status, ngx_str_t *error);
static ngx_int_t ngx_http_ticket_login_message(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, int id, ngx_int_t n, ngx_str_t *msg);
static ngx_int_t ngx_http_ticket_login_post(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_login_limits(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_login_checked(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_login_failed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_login_done(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_login_body(tk_out_t *out, void *data);
static ngx_flag_t ngx_http_ticket_local_next(ngx_http_request_t *r,
    ngx_str_t *next);

static ngx_int_t ngx_http_ticket_logout_session(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_logout_done(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_logout_anonymous(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);


/* ---- sign in ------------------------------------------------------------ */

ngx_int_t
ngx_http_ticket_login(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_int_t                 rc;
    ngx_http_ticket_login_t  *lg;

    lg = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_login_t));
    if (lg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = lg;
    ctx->page = "login";

    if (r->method == NGX_HTTP_POST) {
        return ngx_http_ticket_login_post(r, ctx);
    }

    /* a broken or foreign "next" is dropped, not an error */
    rc = ngx_http_ticket_query_arg(r, "next", &lg->next);
    if (rc != NGX_OK || !ngx_http_ticket_local_next(r, &lg->next)) {
        ngx_str_null(&lg->next);
    }

    return ngx_http_ticket_login_form(r, ctx, NGX_HTTP_OK, NULL);
}


/*
 * The form, with the double-submit token: a random value in the tk_csrf
 * cookie (HttpOnly, SameSite=Strict) and in a hidden field; a POST must
 * carry both, equal, before anything else happens.  A valid cookie is
 * kept so that two open sign-in tabs both work.
 */
static ngx_int_t
ngx_http_ticket_login_form(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *error)
{
    ngx_str_t                 title, cookie;
    ngx_http_ticket_login_t  *lg;

    lg = ctx->view;

    if (ngx_http_ticket_cookie(r, NGX_HTTP_TICKET_CSRF_COOKIE, &cookie)
            == NGX_OK
        && ngx_http_ticket_is_hex(&cookie, NGX_HTTP_TICKET_TOKEN_BYTES * 2))
    {
        lg->csrf = cookie;

    } else if (ngx_http_ticket_random_hex(r, NGX_HTTP_TICKET_TOKEN_BYTES,
                                          &lg->csrf)
               != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_ticket_set_cookie(r, NGX_HTTP_TICKET_CSRF_COOKIE, &lg->csrf,
                                   NGX_HTTP_TICKET_CSRF_MAX_AGE)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (error) {
        lg->error = *error;
    }

    ctx->page = "login";

    title.data = (u_char *) ngx_http_ticket_page_msg(r, ctx,
                                                     TK_MSG_SESSION_SIGN_IN);
    title.len = ngx_strlen(title.data);

    return ngx_http_ticket_page(r, ctx, status, &title,
                                ngx_http_ticket_login_body, r);
}


static void
ngx_http_ticket_login_body(tk_out_t *out, void *data)
{
    ngx_http_request_t  *r = data;

    tk_tpl_login_t               tpl;
    ngx_http_ticket_ctx_t       *ctx;
    ngx_http_ticket_login_t     *lg;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ticket_module);
    lg = ctx->view;

    ngx_memzero(&tpl, sizeof(tk_tpl_login_t));

    if (ngx_http_ticket_url(r, "login", sizeof("login") - 1, &tpl.action)
        != NGX_OK)
    {
        out->failed = 1;
        return;
    }

    tpl.csrf = *ngx_ticket_str(&lg->csrf);
    tpl.next = *ngx_ticket_str(&lg->next);
    tpl.login = *ngx_ticket_str(&lg->login);
    tpl.error = *ngx_ticket_str(&lg->error);
    tpl.de = ngx_http_ticket_page_de(r, ctx) ? 1 : 0;

    tk_tpl_login(out, &tpl);
}


/* A flash message in the page's language, "%d" filled in. */
static ngx_int_t
ngx_http_ticket_login_message(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, int id, ngx_int_t n, ngx_str_t *msg)
{
    u_char      *p;
    const char  *fmt;

    fmt = ngx_http_ticket_page_msg(r, ctx, id);

    p = ngx_pnalloc(r->pool, ngx_strlen(fmt) + NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    msg->data = p;
    msg->len = ngx_sprintf(p, fmt, n) - p;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_login_post(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    size_t                    i;
    u_char                   *ip;
    ngx_str_t                 csrf, cookie, msg;
    ngx_uint_t                diff;
    tk_cmds_t                *cmds;
    ngx_http_ticket_login_t  *lg;
    char                      key[TK_KEY_MAX];
    ngx_int_t                 rc[4];

    lg = ctx->view;

    rc[0] = ngx_http_ticket_form_arg(r, ctx, "login", &lg->login);
    rc[1] = ngx_http_ticket_form_arg(r, ctx, "password", &lg->password);
    rc[2] = ngx_http_ticket_form_arg(r, ctx, "csrf", &csrf);
    rc[3] = ngx_http_ticket_form_arg(r, ctx, "next", &lg->next);

    for (i = 0; i < 4; i++) {
        if (rc[i] == NGX_ERROR) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL);
        }
    }

    if (rc[0] != NGX_OK) {
        ngx_str_set(&lg->login, "");
    }

    if (rc[1] != NGX_OK) {
        ngx_str_set(&lg->password, "");
    }

    if (rc[3] != NGX_OK || !ngx_http_ticket_local_next(r, &lg->next)) {
        ngx_str_null(&lg->next);
    }

    /* the double submit: cookie and field, equal; nothing is written
     * to Redis before this holds */
    diff = 1;

    if (rc[2] == NGX_OK
        && ngx_http_ticket_cookie(r, NGX_HTTP_TICKET_CSRF_COOKIE, &cookie)
           == NGX_OK
        && ngx_http_ticket_is_hex(&cookie, NGX_HTTP_TICKET_TOKEN_BYTES * 2)
        && csrf.len == cookie.len)
    {
        diff = 0;

        for (i = 0; i < csrf.len; i++) {
            diff |= csrf.data[i] ^ cookie.data[i];
        }
    }

    if (diff) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ticket: sign-in form without a valid CSRF token");

        if (ngx_http_ticket_login_message(r, ctx,
                                          TK_MSG_SESSION_FORM_EXPIRED, 0,
                                          &msg)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_ticket_login_form(r, ctx, NGX_HTTP_BAD_REQUEST, &msg);
    }

    /* logins are lower case; surrounding blanks are a typing accident */
    while (lg->login.len && lg->login.data[0] == ' ') {
        lg->login.data++;
        lg->login.len--;
    }

    while (lg->login.len && lg->login.data[lg->login.len - 1] == ' ') {
        lg->login.len--;
    }

    lg->login.data[lg->login.len] = '\0';
    ngx_strlow(lg->login.data, lg->login.data, lg->login.len);

    lg->valid_login = tk_valid_login(ngx_ticket_str(&lg->login));

    ip = ngx_pnalloc(r->pool, r->connection->addr_text.len + 1);
    if (ip == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lg->ip.data = ip;
    lg->ip.len = r->connection->addr_text.len;
    *ngx_cpymem(ip, r->connection->addr_text.data, lg->ip.len) = '\0';

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (lg->valid_login) {
        lg->rl_user.data = ngx_pnalloc(r->pool, TK_KEY_MAX);
        if (lg->rl_user.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        lg->rl_user.len = snprintf((char *) lg->rl_user.data, TK_KEY_MAX,
                                   TK_FMT_RL_LOGIN_USER,
                                   (char *) lg->login.data);

        tk_cmds_add(cmds, "GET %b", lg->rl_user.data, lg->rl_user.len);
        tk_cmds_add(cmds, "TTL %b", lg->rl_user.data, lg->rl_user.len);
    }

    lg->rl_ip.data = ngx_pnalloc(r->pool, TK_KEY_MAX);
    if (lg->rl_ip.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lg->rl_ip.len = snprintf((char *) lg->rl_ip.data, TK_KEY_MAX,
                             TK_FMT_RL_LOGIN_IP, (char *) ip);

    tk_cmds_add(cmds, "GET %b", lg->rl_ip.data, lg->rl_ip.len);
    tk_cmds_add(cmds, "TTL %b", lg->rl_ip.data, lg->rl_ip.len);

    if (lg->valid_login) {
        tk_cmds_add(cmds, "HGETALL %b", key,
                    tk_key_user(key, sizeof(key),
                                ngx_ticket_str(&lg->login)));
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_login_limits);
}


/*
 * Counters first: a blocked account or address gets 429 without its
 * password being looked at, so guessing gains nothing while blocked.
 */
static ngx_int_t
ngx_http_ticket_login_limits(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_int_t                 user_count, user_ttl, ip_count, ip_ttl, ttl;
    ngx_uint_t                i, n;
    ngx_str_t                 hash, disabled, msg;
    ngx_http_ticket_reply_t  *rep, *user;
    ngx_http_ticket_login_t  *lg;

    lg = ctx->view;
    n = lg->valid_login ? 5 : 2;

    if (ctx->nreplies != n) {
        return ngx_http_ticket_error(r, ctx,
                                     NGX_HTTP_INTERNAL_SERVER_ERROR, NULL);
    }

    for (i = 0; i < n; i++) {
        if (ngx_http_ticket_reply_is_error(&ctx->replies[i])) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "ticket: redis error while signing in: %V",
                          &ctx->replies[i].str);
            return ngx_http_ticket_error(r, ctx,
                                         NGX_HTTP_INTERNAL_SERVER_ERROR, NULL);
        }
    }

    rep = ctx->replies;
    user_count = 0;
    user_ttl = -1;
    user = NULL;

    if (lg->valid_login) {
        user_count = ngx_atoi(rep[0].str.data, rep[0].str.len);
        user_ttl = rep[1].integer;
        user = &rep[4];
        rep += 2;
    }

    ip_count = ngx_atoi(rep[0].str.data, rep[0].str.len);
    ip_ttl = rep[1].integer;

    if (user_count >= NGX_HTTP_TICKET_RL_USER_MAX
        || ip_count >= NGX_HTTP_TICKET_RL_IP_MAX)
    {
        ttl = 0;

        if (user_count >= NGX_HTTP_TICKET_RL_USER_MAX) {
            ttl = user_ttl;
        }

        if (ip_count >= NGX_HTTP_TICKET_RL_IP_MAX && ip_ttl > ttl) {
            ttl = ip_ttl;
        }

        if (ttl <= 0) {
            ttl = NGX_HTTP_TICKET_RL_WINDOW;
        }

        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "ticket: sign-in as \"%V\" from %V refused: too many "
                      "failed attempts", &lg->login, &lg->ip);

        if (ngx_http_ticket_login_message(r, ctx,
                                          TK_MSG_SESSION_TOO_MANY_ATTEMPTS,
                                          (ttl + 59) / 60, &msg)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_ticket_login_form(r, ctx, 429, &msg);
    }

    ngx_str_set(&hash, "");

    if (user) {
        ngx_http_ticket_reply_value(user, TK_F_PASSWORD, &hash);
        ngx_http_ticket_reply_value(user, TK_F_DISABLED, &disabled);
        ngx_http_ticket_reply_value(user, TK_F_SESSION_GEN, &lg->gen);

        lg->user_ok = hash.len > 0 && !ngx_http_ticket_flag_on(&disabled);
    }

    if (!lg->user_ok) {
        hash.data = (u_char *) ngx_http_ticket_dummy_hash;
        hash.len = sizeof(ngx_http_ticket_dummy_hash) - 1;
    }

    return ngx_http_ticket_password_check(r, ctx, &hash, &lg->password,
                                          ngx_http_ticket_login_checked);
}


static ngx_int_t
ngx_http_ticket_login_checked(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    char                         key[TK_KEY_MAX];
    size_t                       len;
    tk_cmds_t                   *cmds;
    ngx_http_ticket_login_t     *lg;
    ngx_http_ticket_loc_conf_t  *lcf;

    lg = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!(ctx->password_ok && lg->user_ok)) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "ticket: sign-in as \"%V\" from %V failed",
                      &lg->login, &lg->ip);

        tk_cmds_multi(cmds);

        if (lg->valid_login) {
            tk_cmds_add(cmds, "INCR %b", lg->rl_user.data, lg->rl_user.len);
            tk_cmds_add(cmds, "EXPIRE %b %d", lg->rl_user.data,
                        lg->rl_user.len, NGX_HTTP_TICKET_RL_WINDOW);
        }

        tk_cmds_add(cmds, "INCR %b", lg->rl_ip.data, lg->rl_ip.len);
        tk_cmds_add(cmds, "EXPIRE %b %d", lg->rl_ip.data, lg->rl_ip.len,
                    NGX_HTTP_TICKET_RL_WINDOW);
        tk_cmds_exec(cmds);

        return ngx_http_ticket_redis_send(r, ctx, cmds,
                                          ngx_http_ticket_login_failed);
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    if (ngx_http_ticket_random_hex(r, TK_SESSION_ID_BYTES, &lg->sid) != NGX_OK
        || ngx_http_ticket_random_hex(r, NGX_HTTP_TICKET_TOKEN_BYTES,
                                      &ctx->csrf)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = tk_key_session(key, sizeof(key), ngx_ticket_str(&lg->sid));

    tk_cmds_multi(cmds);
    /* the session belongs to the user's current generation: a new one
     * (password change, "end all sessions") ends it (auth.c) */
    tk_cmds_add(cmds, "HSET %b " TK_F_LOGIN " %S " TK_F_CSRF " %S "
                TK_F_CREATED " %lld " TK_F_IP " %S " TK_F_GEN " %S", key,
                len, ngx_ticket_str(&lg->login), ngx_ticket_str(&ctx->csrf),
                (long long) ngx_time(), ngx_ticket_str(&lg->ip),
                ngx_ticket_str(&lg->gen));
    tk_cmds_add(cmds, "EXPIRE %b %lld", key, len,
                (long long) lcf->session_timeout);
    tk_cmds_add(cmds, "HSET " TK_FMTS_USER " " TK_F_LAST_LOGIN " %lld",
                ngx_ticket_str(&lg->login), (long long) ngx_time());
    tk_cmds_exec(cmds);
    tk_cmds_add(cmds, "DEL %b", lg->rl_user.data, lg->rl_user.len);

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_login_done);
}


static ngx_int_t
ngx_http_ticket_login_failed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                 msg;
    ngx_http_ticket_login_t  *lg;

    lg = ctx->view;

    if (ctx->nreplies == 0
        || ctx->replies[ctx->nreplies - 1].type != REDIS_REPLY_ARRAY)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: could not count the failed sign-in of \"%V\"",
                      &lg->login);
    }

    if (ngx_http_ticket_login_message(r, ctx, TK_MSG_SESSION_LOGIN_WRONG, 0,
                                      &msg)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_login_form(r, ctx, NGX_HTTP_UNAUTHORIZED, &msg);
}


static ngx_int_t
ngx_http_ticket_login_done(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_login_t     *lg;
    ngx_http_ticket_loc_conf_t  *lcf;

    lg = ctx->view;

    /* MULTI, HSET, EXPIRE, HSET, EXEC, DEL: the session exists if EXEC
     * ran */
    if (ctx->nreplies != 6 || ctx->replies[4].type != REDIS_REPLY_ARRAY) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: could not store the session of \"%V\"",
                      &lg->login);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "ticket: \"%V\" signed in from %V", &lg->login, &lg->ip);

    if (ngx_http_ticket_set_cookie(r, NGX_HTTP_TICKET_SESSION_COOKIE,
                                   &lg->sid, -1)
           != NGX_OK
        || ngx_http_ticket_clear_cookie(r, NGX_HTTP_TICKET_CSRF_COOKIE)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (lg->next.len == 0) {
        return ngx_http_ticket_redirect(r, "", 0);
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    return ngx_http_ticket_redirect(r,
                                    (char *) lg->next.data + lcf->base_url.len,
                                    lg->next.len - lcf->base_url.len);
}


/*
 * "next" may only lead to a page of this application: a path below
 * base_url, no "//" or "\" a browser could read as another host, no
 * control characters for the Location header.
 */
static ngx_flag_t
ngx_http_ticket_local_next(ngx_http_request_t *r, ngx_str_t *next)
{
    u_char                      *p, *last;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    if (next->len < lcf->base_url.len
        || ngx_strncmp(next->data, lcf->base_url.data, lcf->base_url.len) != 0)
    {
        return 0;
    }

    last = next->data + next->len;

    for (p = next->data; p < last; p++) {
        if (*p <= ' ' || *p >= 0x7f || *p == '\\'
            || (*p == '/' && p + 1 < last && p[1] == '/'))
        {
            return 0;
        }
    }

    return 1;
}


/* ---- sign out ----------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_logout(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    return ngx_http_ticket_auth_start(r, ctx, ngx_http_ticket_logout_session,
                                      ngx_http_ticket_logout_anonymous);
}


static ngx_int_t
ngx_http_ticket_logout_session(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    char        key[TK_KEY_MAX];
    ngx_int_t   rc;
    tk_cmds_t  *cmds;

    if (ctx->sid.len == 0) {
        /* a bearer token has no session to end */
        return ngx_http_ticket_redirect(r, "login", sizeof("login") - 1);
    }

    rc = ngx_http_ticket_check_csrf(r, ctx);

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ticket: sign-out of \"%V\" without a valid CSRF token",
                      &ctx->user.login);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "DEL %b", key,
                tk_key_session(key, sizeof(key), ngx_ticket_str(&ctx->sid)));

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_logout_done);
}


/* The sign-in page that follows speaks the language of who just left. */
static ngx_int_t
ngx_http_ticket_logout_done(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t  lang;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "ticket: \"%V\" signed out", &ctx->user.login);

    ngx_str_set(&lang, "en");

    if (ngx_http_ticket_lang_de(ctx)) {
        ngx_str_set(&lang, "de");
    }

    if (ngx_http_ticket_set_cookie(r, NGX_HTTP_TICKET_LANG_COOKIE, &lang,
                                   NGX_HTTP_TICKET_LANG_MAX_AGE)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_logout_anonymous(r, ctx);
}


static ngx_int_t
ngx_http_ticket_logout_anonymous(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    if (ngx_http_ticket_clear_cookie(r, NGX_HTTP_TICKET_SESSION_COOKIE)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redirect(r, "login", sizeof("login") - 1);
}
