/*
 * ngx_http_ticket_session.c -- who is asking: the sign-in form with its
 * rate limit, sessions (cookie) and API tokens (bearer), passwords checked
 * and hashed in nginx's thread pool, and the rights of the user.
 */

#include "ngx_http_ticket.h"
#include "tk_tpl.h"

#include <crypt.h>
#include <hiredis/hiredis.h>

#if (NGX_THREADS)
#include <ngx_thread_pool.h>
#endif


#define NGX_HTTP_TICKET_CSRF_COOKIE     "tk_csrf"
#define NGX_HTTP_TICKET_SESSION_COOKIE  "tk_session"
#define NGX_HTTP_TICKET_CSRF_MAX_AGE    1800
#define NGX_HTTP_TICKET_TOKEN_BYTES     32
#define NGX_HTTP_TICKET_PASSWORD_MAX    1024

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
    ngx_flag_t                 valid_login;
    ngx_flag_t                 user_ok;         /* exists, enabled */
} ngx_http_ticket_login_t;


/* Authentication between its two batches (ctx->view until it is done). */
typedef struct {
    ngx_http_ticket_step_pt    then;
    ngx_http_ticket_step_pt    fail;            /* NULL: redirect / 401 */
    ngx_str_t                  login;
    ngx_flag_t                 had_cookie;
} ngx_http_ticket_auth_t;


/* A yescrypt job for the thread pool: everything it touches is here. */
typedef struct {
    ngx_http_request_t        *request;
    ngx_http_ticket_ctx_t     *ctx;
    ngx_http_ticket_step_pt    step;
    ngx_flag_t                 hash;            /* 1: hash, 0: check */
    ngx_flag_t                 ok;
    char                      *password;
    char                       setting[CRYPT_OUTPUT_SIZE];
    char                       output[CRYPT_OUTPUT_SIZE];
    struct crypt_data          data;
} ngx_http_ticket_crypt_t;


static ngx_int_t ngx_http_ticket_login_form(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status, ngx_str_t *error);
static ngx_int_t ngx_http_ticket_login_message(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *en, const char *de, ngx_int_t n,
    ngx_str_t *msg);
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

static ngx_int_t ngx_http_ticket_auth_start(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_step_pt then,
    ngx_http_ticket_step_pt fail);
static ngx_int_t ngx_http_ticket_auth_session(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_auth_token(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_auth_load_user(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_auth_t *auth);
static ngx_int_t ngx_http_ticket_auth_user(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_auth_fail(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_auth_t *auth);
static ngx_int_t ngx_http_ticket_rights(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_reply_t *all_agents);
static ngx_int_t ngx_http_ticket_cmp_group(const void *one,
    const void *two);

static ngx_int_t ngx_http_ticket_crypt(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *setting, ngx_str_t *password,
    ngx_flag_t hash, ngx_http_ticket_step_pt step);
static void ngx_http_ticket_crypt_thread(void *data, ngx_log_t *log);
static void ngx_http_ticket_crypt_done(ngx_event_t *ev);
static ngx_int_t ngx_http_ticket_crypt_finish(ngx_http_request_t *r,
    ngx_http_ticket_crypt_t *job);

static ngx_int_t ngx_http_ticket_set_cookie(ngx_http_request_t *r,
    const char *name, ngx_str_t *value, ngx_int_t max_age);
static ngx_flag_t ngx_http_ticket_is_hex(ngx_str_t *s, size_t len);
static ngx_int_t ngx_http_ticket_key(ngx_http_request_t *r,
    size_t (*build)(char *, size_t, const tk_str_t *), ngx_str_t *name,
    ngx_str_t *key);
static void ngx_http_ticket_reply_value(ngx_http_ticket_reply_t *rep,
    const char *field, ngx_str_t *value);
static ngx_int_t ngx_http_ticket_url_encode(ngx_http_request_t *r,
    ngx_str_t *src, ngx_str_t *dst);


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

    if (ngx_http_ticket_page_de(r, ctx)) {
        ngx_str_set(&title, "Anmelden");

    } else {
        ngx_str_set(&title, "Sign in");
    }

    return ngx_http_ticket_page(r, ctx, status, &title,
                                ngx_http_ticket_login_body, r);
}


static void
ngx_http_ticket_login_body(tk_out_t *out, void *data)
{
    ngx_http_request_t  *r = data;

    u_char                      *p;
    tk_tpl_login_t               tpl;
    ngx_http_ticket_ctx_t       *ctx;
    ngx_http_ticket_login_t     *lg;
    ngx_http_ticket_loc_conf_t  *lcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ticket_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);
    lg = ctx->view;

    ngx_memzero(&tpl, sizeof(tk_tpl_login_t));

    p = ngx_pnalloc(r->pool, lcf->base_url.len + sizeof("login") - 1);
    if (p == NULL) {
        out->failed = 1;
        return;
    }

    tpl.action.data = p;
    p = ngx_cpymem(p, lcf->base_url.data, lcf->base_url.len);
    p = ngx_cpymem(p, "login", sizeof("login") - 1);
    tpl.action.len = p - tpl.action.data;

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
    ngx_http_ticket_ctx_t *ctx, const char *en, const char *de,
    ngx_int_t n, ngx_str_t *msg)
{
    u_char      *p;
    const char  *fmt;

    fmt = ngx_http_ticket_page_de(r, ctx) ? de : en;

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
                "The form has expired. Please try again.",
                "Das Formular ist abgelaufen. Bitte noch einmal versuchen.",
                0, &msg)
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
                "Too many attempts, try again in %i minutes.",
                "Zu viele Versuche, bitte in %i Minuten noch einmal "
                "versuchen.",
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

        lg->user_ok = hash.len > 0
                      && !(disabled.len == 1 && disabled.data[0] == '1');
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
    tk_cmds_add(cmds, "HSET %b " TK_F_LOGIN " %S " TK_F_CSRF " %S "
                TK_F_CREATED " %lld " TK_F_IP " %S", key, len,
                ngx_ticket_str(&lg->login), ngx_ticket_str(&ctx->csrf),
                (long long) ngx_time(), ngx_ticket_str(&lg->ip));
    tk_cmds_add(cmds, "EXPIRE %b %lld", key, len,
                (long long) lcf->session_timeout);
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

    if (ngx_http_ticket_login_message(r, ctx,
            "Login or password wrong.",
            "Benutzername oder Passwort falsch.", 0, &msg)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_login_form(r, ctx, NGX_HTTP_UNAUTHORIZED, &msg);
}


static ngx_int_t
ngx_http_ticket_login_done(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                    empty;
    ngx_http_ticket_login_t     *lg;
    ngx_http_ticket_loc_conf_t  *lcf;

    lg = ctx->view;

    /* MULTI, HSET, EXPIRE, EXEC, DEL: the session exists if EXEC ran */
    if (ctx->nreplies != 5 || ctx->replies[3].type != REDIS_REPLY_ARRAY) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: could not store the session of \"%V\"",
                      &lg->login);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "ticket: \"%V\" signed in from %V", &lg->login, &lg->ip);

    ngx_str_set(&empty, "");

    if (ngx_http_ticket_set_cookie(r, NGX_HTTP_TICKET_SESSION_COOKIE,
                                   &lg->sid, -1)
           != NGX_OK
        || ngx_http_ticket_set_cookie(r, NGX_HTTP_TICKET_CSRF_COOKIE, &empty, 0)
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


static ngx_int_t
ngx_http_ticket_logout_done(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "ticket: \"%V\" signed out", &ctx->user.login);

    return ngx_http_ticket_logout_anonymous(r, ctx);
}


static ngx_int_t
ngx_http_ticket_logout_anonymous(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t  empty;

    ngx_str_set(&empty, "");

    if (ngx_http_ticket_set_cookie(r, NGX_HTTP_TICKET_SESSION_COOKIE, &empty,
                                   0)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redirect(r, "login", sizeof("login") - 1);
}


/* ---- authentication ----------------------------------------------------- */

ngx_int_t
ngx_http_ticket_authenticate(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_step_pt then)
{
    return ngx_http_ticket_auth_start(r, ctx, then, NULL);
}


/*
 * A bearer token (Authorization: Bearer T) or the session cookie.  Each
 * costs two round trips: the session or token hash, then the user with
 * the all-agents groups (and, for a session, the sliding EXPIRE).
 */
static ngx_int_t
ngx_http_ticket_auth_start(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_step_pt then, ngx_http_ticket_step_pt fail)
{
    u_char                  *p, *last;
    ngx_str_t                token, key;
    tk_cmds_t               *cmds;
    ngx_table_elt_t         *h;
    ngx_http_ticket_auth_t  *auth;

    auth = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_auth_t));
    if (auth == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    auth->then = then;
    auth->fail = fail;

    ctx->view = auth;
    ctx->authenticated = 0;
    ngx_str_null(&ctx->sid);
    ngx_str_null(&ctx->csrf);

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = r->headers_in.authorization;

    if (h && h->value.len > sizeof("Bearer ") - 1
        && ngx_strncasecmp(h->value.data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1)
           == 0)
    {
        token.data = h->value.data + sizeof("Bearer ") - 1;
        token.len = h->value.len - (sizeof("Bearer ") - 1);

        while (token.len && token.data[0] == ' ') {
            token.data++;
            token.len--;
        }

        /* RFC 6750 b64token */
        last = token.data + token.len;

        for (p = token.data; p < last; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                  || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'
                  || *p == '_' || *p == '~' || *p == '+' || *p == '/'
                  || *p == '='))
            {
                break;
            }
        }

        if (token.len == 0 || token.len > 256 || p != last
            || ngx_http_ticket_key(r, tk_key_token, &token, &key) != NGX_OK)
        {
            return ngx_http_ticket_auth_fail(r, ctx, auth);
        }

        tk_cmds_add(cmds, "HGETALL %b", key.data, key.len);

        return ngx_http_ticket_redis_send(r, ctx, cmds,
                                          ngx_http_ticket_auth_token);
    }

    if (ngx_http_ticket_cookie(r, NGX_HTTP_TICKET_SESSION_COOKIE, &ctx->sid)
        != NGX_OK)
    {
        ngx_str_null(&ctx->sid);
        return ngx_http_ticket_auth_fail(r, ctx, auth);
    }

    auth->had_cookie = 1;

    if (!ngx_http_ticket_is_hex(&ctx->sid, TK_SESSION_ID_BYTES * 2)
        || ngx_http_ticket_key(r, tk_key_session, &ctx->sid, &key) != NGX_OK)
    {
        ngx_str_null(&ctx->sid);
        return ngx_http_ticket_auth_fail(r, ctx, auth);
    }

    tk_cmds_add(cmds, "HGETALL %b", key.data, key.len);

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_auth_session);
}


static ngx_int_t
ngx_http_ticket_auth_session(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_auth_t  *auth;

    auth = ctx->view;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_ARRAY) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    ngx_http_ticket_reply_value(&ctx->replies[0], TK_F_LOGIN, &auth->login);
    ngx_http_ticket_reply_value(&ctx->replies[0], TK_F_CSRF, &ctx->csrf);

    if (auth->login.len == 0 || ctx->csrf.len == 0) {
        /* expired or ended */
        ngx_str_null(&ctx->sid);
        ngx_str_null(&ctx->csrf);
        return ngx_http_ticket_auth_fail(r, ctx, auth);
    }

    return ngx_http_ticket_auth_load_user(r, ctx, auth);
}


static ngx_int_t
ngx_http_ticket_auth_token(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                disabled;
    ngx_http_ticket_auth_t  *auth;

    auth = ctx->view;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_ARRAY) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    ngx_http_ticket_reply_value(&ctx->replies[0], TK_F_LOGIN, &auth->login);
    ngx_http_ticket_reply_value(&ctx->replies[0], TK_F_DISABLED, &disabled);

    if (auth->login.len == 0
        || (disabled.len == 1 && disabled.data[0] == '1'))
    {
        return ngx_http_ticket_auth_fail(r, ctx, auth);
    }

    return ngx_http_ticket_auth_load_user(r, ctx, auth);
}


static ngx_int_t
ngx_http_ticket_auth_load_user(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_auth_t *auth)
{
    ngx_str_t                    key;
    tk_cmds_t                   *cmds;
    ngx_http_ticket_loc_conf_t  *lcf;

    if (!tk_valid_login(ngx_ticket_str(&auth->login))
        || ngx_http_ticket_key(r, tk_key_user, &auth->login, &key) != NGX_OK)
    {
        return ngx_http_ticket_auth_fail(r, ctx, auth);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGETALL %b", key.data, key.len);
    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_GROUPS_ALL);

    if (ctx->sid.len) {
        lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

        if (ngx_http_ticket_key(r, tk_key_session, &ctx->sid, &key)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        tk_cmds_add(cmds, "EXPIRE %b %lld", key.data, key.len,
                    (long long) lcf->session_timeout);
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_auth_user);
}


static ngx_int_t
ngx_http_ticket_auth_user(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                 disabled;
    ngx_http_ticket_auth_t   *auth;
    ngx_http_ticket_user_t   *u;
    ngx_http_ticket_reply_t  *user;

    auth = ctx->view;

    if (ctx->nreplies < 2 || ctx->replies[0].type != REDIS_REPLY_ARRAY
        || ctx->replies[1].type != REDIS_REPLY_ARRAY)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    user = &ctx->replies[0];

    ngx_http_ticket_reply_value(user, TK_F_DISABLED, &disabled);

    if (user->nelem == 0 || (disabled.len == 1 && disabled.data[0] == '1')) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ticket: \"%V\" is unknown or disabled", &auth->login);
        return ngx_http_ticket_auth_fail(r, ctx, auth);
    }

    u = &ctx->user;

    u->login = auth->login;
    ngx_http_ticket_reply_value(user, TK_F_NAME, &u->name);
    ngx_http_ticket_reply_value(user, TK_F_EMAIL, &u->email);
    ngx_http_ticket_reply_value(user, TK_F_ROLE, &u->role);
    ngx_http_ticket_reply_value(user, TK_F_RIGHTS, &u->rights);
    ngx_http_ticket_reply_value(user, TK_F_LANG, &u->lang);

    if (u->name.len == 0) {
        u->name = u->login;
    }

    u->admin = (u->role.len == 5 && ngx_strncmp(u->role.data, "admin", 5)
                                    == 0);

    if (ngx_http_ticket_rights(r, ctx, &ctx->replies[1]) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->authenticated = 1;
    ctx->view = NULL;
    ctx->replies = NULL;
    ctx->nreplies = 0;

    return auth->then(r, ctx);
}


static ngx_int_t
ngx_http_ticket_auth_fail(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_auth_t *auth)
{
    u_char     *p;
    size_t      len;
    ngx_str_t   empty, next;

    ctx->authenticated = 0;
    ctx->view = NULL;

    if (auth->fail) {
        return auth->fail(r, ctx);
    }

    if (ctx->api) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                     "unauthorized");
    }

    if (auth->had_cookie) {
        ngx_str_set(&empty, "");

        if (ngx_http_ticket_set_cookie(r, NGX_HTTP_TICKET_SESSION_COOKIE,
                                       &empty, 0)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* back here after signing in; a POST is not repeated */
    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_redirect(r, "login", sizeof("login") - 1);
    }

    if (ngx_http_ticket_url_encode(r, &r->unparsed_uri, &next) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof("login?next=") - 1 + next.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(ngx_cpymem(p, "login?next=", sizeof("login?next=") - 1),
               next.data, next.len);

    return ngx_http_ticket_redirect(r, (char *) p, len);
}


/*
 * Every group the user has a right on: the groups named in the "rights"
 * field and the all-agents groups, each asked of tk_rights_get() (the one
 * place that defines rights), sorted by name for ngx_http_ticket_right().
 */
static ngx_int_t
ngx_http_ticket_rights(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_reply_t *all_agents)
{
    u_char                         *p, *end, *comma, *colon, *s, *e;
    size_t                          j;
    ngx_int_t                       right;
    ngx_str_t                      *name, *names;
    ngx_uint_t                      i, n, all;
    ngx_array_t                     candidates;
    ngx_http_ticket_group_right_t  *gr;

    if (ngx_array_init(&candidates, r->pool, 8, sizeof(ngx_str_t)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ctx->user.rights.data;
    end = p + ctx->user.rights.len;

    while (p < end) {
        comma = ngx_strlchr(p, end, ',');
        if (comma == NULL) {
            comma = end;
        }

        /* "name:right": the name ends at the last colon */
        colon = NULL;

        for (s = p; s < comma; s++) {
            if (*s == ':') {
                colon = s;
            }
        }

        if (colon) {
            s = p;
            e = colon;

            while (s < e && (*s == ' ' || *s == '\t')) {
                s++;
            }

            while (e > s && (e[-1] == ' ' || e[-1] == '\t')) {
                e--;
            }

            if (e > s) {
                name = ngx_array_push(&candidates);
                if (name == NULL) {
                    return NGX_ERROR;
                }

                name->data = s;
                name->len = e - s;
            }
        }

        p = comma + 1;
    }

    for (i = 0; i < all_agents->nelem; i++) {
        if (all_agents->element[i].type != REDIS_REPLY_STRING
            || all_agents->element[i].str.len == 0)
        {
            continue;
        }

        name = ngx_array_push(&candidates);
        if (name == NULL) {
            return NGX_ERROR;
        }

        *name = all_agents->element[i].str;
    }

    names = candidates.elts;
    n = candidates.nelts;

    ngx_sort(names, n, sizeof(ngx_str_t), ngx_http_ticket_cmp_group);

    ctx->groups.nelts = 0;

    for (i = 0; i < n; i++) {
        if (i > 0 && names[i].len == names[i - 1].len
            && ngx_strncmp(names[i].data, names[i - 1].data, names[i].len)
               == 0)
        {
            continue;
        }

        all = 0;

        for (j = 0; j < all_agents->nelem; j++) {
            if (all_agents->element[j].str.len == names[i].len
                && ngx_strncmp(all_agents->element[j].str.data,
                               names[i].data, names[i].len)
                   == 0)
            {
                all = 1;
                break;
            }
        }

        right = tk_rights_get(ngx_ticket_str(&ctx->user.rights),
                              ngx_ticket_str(&names[i]), (int) all);

        if (right <= TK_RIGHT_NONE) {
            continue;
        }

        gr = ngx_array_push(&ctx->groups);
        if (gr == NULL) {
            return NGX_ERROR;
        }

        gr->name = names[i];
        gr->right = right;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_cmp_group(const void *one, const void *two)
{
    const ngx_str_t  *a = one;
    const ngx_str_t  *b = two;

    return ngx_memn2cmp(a->data, b->data, a->len, b->len);
}


ngx_int_t
ngx_http_ticket_right(ngx_http_ticket_ctx_t *ctx, ngx_str_t *group)
{
    ngx_int_t                       c;
    ngx_uint_t                      lo, hi, mid;
    ngx_http_ticket_group_right_t  *gr;

    if (!ctx->authenticated || group == NULL) {
        return TK_RIGHT_NONE;
    }

    gr = ctx->groups.elts;
    lo = 0;
    hi = ctx->groups.nelts;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = ngx_memn2cmp(gr[mid].name.data, group->data, gr[mid].name.len,
                         group->len);

        if (c == 0) {
            return gr[mid].right;
        }

        if (c < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return TK_RIGHT_NONE;
}


/* ---- passwords ---------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_password_check(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *hash, ngx_str_t *password,
    ngx_http_ticket_step_pt step)
{
    return ngx_http_ticket_crypt(r, ctx, hash, password, 0, step);
}


ngx_int_t
ngx_http_ticket_password_hash(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *password,
    ngx_http_ticket_step_pt step)
{
    return ngx_http_ticket_crypt(r, ctx, NULL, password, 1, step);
}


/*
 * yescrypt costs ~20 ms of CPU: it runs in the thread pool while the
 * request waits (r->main->blocked keeps nginx from freeing the request and
 * the job, which lives in its pool, until the thread is done).
 */
static ngx_int_t
ngx_http_ticket_crypt(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_str_t *setting, ngx_str_t *password, ngx_flag_t hash,
    ngx_http_ticket_step_pt step)
{
    ngx_http_ticket_crypt_t      *job;
    ngx_http_ticket_main_conf_t  *mcf;
#if (NGX_THREADS)
    ngx_thread_task_t            *task;
#endif

    ctx->password_ok = 0;
    ngx_str_null(&ctx->password_hash);

    if (password->len > NGX_HTTP_TICKET_PASSWORD_MAX
        || (setting && setting->len >= CRYPT_OUTPUT_SIZE))
    {
        return step(r, ctx);
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ticket_module);

#if (NGX_THREADS)
    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_http_ticket_crypt_t));
    if (task == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    job = task->ctx;
#else
    job = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_crypt_t));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
#endif

    job->request = r;
    job->ctx = ctx;
    job->step = step;
    job->hash = hash;

    job->password = ngx_pnalloc(r->pool, password->len + 1);
    if (job->password == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ngx_cpymem(job->password, password->data, password->len) = '\0';

    if (setting) {
        *ngx_cpymem(job->setting, setting->data, setting->len) = '\0';
    }

#if (NGX_THREADS)
    if (mcf->thread_pool) {
        task->handler = ngx_http_ticket_crypt_thread;
        task->event.handler = ngx_http_ticket_crypt_done;
        task->event.data = job;
        task->event.log = r->connection->log;

        if (ngx_thread_task_post(mcf->thread_pool, task) != NGX_OK) {
            return ngx_http_ticket_error(r, ctx,
                                         NGX_HTTP_SERVICE_UNAVAILABLE, NULL);
        }

        r->main->blocked++;
        r->main->count++;

        return NGX_DONE;
    }
#endif

    ngx_http_ticket_crypt_thread(job, r->connection->log);

    return ngx_http_ticket_crypt_finish(r, job);
}


/* In a pool thread: touches nothing but the job. */
static void
ngx_http_ticket_crypt_thread(void *data, ngx_log_t *log)
{
    ngx_http_ticket_crypt_t  *job = data;

    char    *out;
    size_t   i, len;
    u_char   diff;

    job->ok = 0;

    if (job->hash
        && crypt_gensalt_rn("$y$", 0, NULL, 0, job->setting,
                            sizeof(job->setting))
           == NULL)
    {
        return;
    }

    out = crypt_r(job->password, job->setting, &job->data);

    if (out != NULL && out[0] != '*') {
        len = ngx_strlen(out);

        if (job->hash) {
            if (len < sizeof(job->output)) {
                ngx_memcpy(job->output, out, len + 1);
                job->ok = 1;
            }

        } else if (len == ngx_strlen(job->setting)) {
            diff = 0;

            for (i = 0; i < len; i++) {
                diff |= (u_char) (out[i] ^ job->setting[i]);
            }

            job->ok = (diff == 0);
        }
    }

    explicit_bzero(&job->data, sizeof(job->data));
    explicit_bzero(job->password, ngx_strlen(job->password));
}


static void
ngx_http_ticket_crypt_done(ngx_event_t *ev)
{
    ngx_http_ticket_crypt_t  *job = ev->data;

    ngx_int_t            rc;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = job->request;
    c = r->connection;

    r->main->blocked--;

    if (c->error) {
        /* the request was terminated while the thread ran */
        ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
        ngx_http_run_posted_requests(c);
        return;
    }

    rc = ngx_http_ticket_crypt_finish(r, job);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_ticket_crypt_finish(ngx_http_request_t *r,
    ngx_http_ticket_crypt_t *job)
{
    size_t                  len;
    ngx_http_ticket_ctx_t  *ctx;

    ctx = job->ctx;

    if (!job->hash) {
        ctx->password_ok = job->ok ? 1 : 0;
        return job->step(r, ctx);
    }

    if (job->ok) {
        len = ngx_strlen(job->output);

        ctx->password_hash.data = ngx_pnalloc(r->pool, len + 1);
        if (ctx->password_hash.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(ctx->password_hash.data, job->output, len + 1);
        ctx->password_hash.len = len;

    } else {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, ngx_errno,
                      "ticket: could not hash a password");
    }

    return job->step(r, ctx);
}


/* ---- helpers ------------------------------------------------------------ */

/* max_age: seconds, 0 deletes the cookie, -1 makes a browser-session one */
static ngx_int_t
ngx_http_ticket_set_cookie(ngx_http_request_t *r, const char *name,
    ngx_str_t *value, ngx_int_t max_age)
{
    u_char                      *p;
    size_t                       len;
    ngx_table_elt_t             *h;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    len = ngx_strlen(name) + 1 + value->len
          + sizeof("; Path=") - 1 + lcf->base_url.len
          + sizeof("; Max-Age=") - 1 + NGX_INT_T_LEN
          + sizeof("; HttpOnly; SameSite=Strict; Secure") - 1;

    p = ngx_pnalloc(r->pool, len);
    h = ngx_list_push(&r->headers_out.headers);
    if (p == NULL || h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Set-Cookie");
    h->value.data = p;
    h->lowcase_key = NULL;

    p = ngx_sprintf(p, "%s=%V; Path=%V", name, value, &lcf->base_url);

    if (max_age >= 0) {
        p = ngx_sprintf(p, "; Max-Age=%i", max_age);
    }

    p = ngx_cpymem(p, "; HttpOnly; SameSite=Strict",
                   sizeof("; HttpOnly; SameSite=Strict") - 1);

    if (lcf->cookie_secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    h->value.len = p - h->value.data;

    return NGX_OK;
}


/* s is len lower-case hex digits (our tokens; anything else is foreign) */
static ngx_flag_t
ngx_http_ticket_is_hex(ngx_str_t *s, size_t len)
{
    size_t  i;

    if (s->len != len) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s->data[i] >= '0' && s->data[i] <= '9')
              || (s->data[i] >= 'a' && s->data[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}


static ngx_int_t
ngx_http_ticket_key(ngx_http_request_t *r,
    size_t (*build)(char *, size_t, const tk_str_t *), ngx_str_t *name,
    ngx_str_t *key)
{
    key->data = ngx_pnalloc(r->pool, TK_KEY_MAX);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    key->len = build((char *) key->data, TK_KEY_MAX, ngx_ticket_str(name));

    return key->len ? NGX_OK : NGX_DECLINED;
}


static void
ngx_http_ticket_reply_value(ngx_http_ticket_reply_t *rep, const char *field,
    ngx_str_t *value)
{
    ngx_str_t  *v;

    v = ngx_http_ticket_reply_field(rep, field);

    if (v == NULL) {
        ngx_str_set(value, "");
        return;
    }

    *value = *v;
}


/* Percent-encode all but unreserved characters and "/". */
static ngx_int_t
ngx_http_ticket_url_encode(ngx_http_request_t *r, ngx_str_t *src,
    ngx_str_t *dst)
{
    u_char        *p, c;
    size_t         i;
    static u_char  hex[] = "0123456789ABCDEF";

    p = ngx_pnalloc(r->pool, src->len * 3 + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    dst->data = p;

    for (i = 0; i < src->len; i++) {
        c = src->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~' || c == '/')
        {
            *p++ = c;
            continue;
        }

        *p++ = '%';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 0xf];
    }

    dst->len = p - dst->data;

    return NGX_OK;
}
