/*
 * ngx_http_ticket_auth.c -- who is asking: every request but /login is
 * authenticated here, by the session cookie or an API token (bearer),
 * and gets the user and their rights per group for this request only.
 */

#include "ngx_http_ticket.h"
#include "ngx_http_ticket_cache.h"

#include <hiredis/read.h>


/* Authentication between its two batches (ctx->view until it is done). */
typedef struct {
    ngx_http_ticket_step_pt    then;
    ngx_http_ticket_step_pt    fail;            /* NULL: redirect / 401 */
    ngx_str_t                  login;
    ngx_str_t                  gen;             /* the session's TK_F_GEN */
    ngx_flag_t                 had_cookie;
    long long                  ttl;             /* the session's, or -1 */
    ngx_uint_t                 gen_reply;       /* GET tk:{ix}:gen; 0:
                                                   not asked */
    ngx_uint_t                 extra_reply;     /* ctx->auth_extra's */
    ngx_uint_t                 nextra;
    ngx_uint_t                 user_first;      /* the user's reads in the
                                                   batch: 0, or 2 after the
                                                   session's (one trip) */
    ngx_http_ticket_reply_t   *user_replies;    /* kept over an EXPIRE */
    ngx_uint_t                 nuser_replies;
} ngx_http_ticket_auth_t;

/* the session's TTL is not read yet (one round trip: with the user) */
#define NGX_HTTP_TICKET_TTL_UNKNOWN  -3


static ngx_int_t ngx_http_ticket_auth_found(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_auth_load_user(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_auth_t *auth);
static ngx_int_t ngx_http_ticket_auth_user_cmds(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_auth_t *auth,
    tk_cmds_t *cmds);
static ngx_flag_t ngx_http_ticket_auth_renew(ngx_http_request_t *r,
    ngx_http_ticket_auth_t *auth);
static ngx_int_t ngx_http_ticket_auth_expire(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, tk_cmds_t *cmds);
static ngx_int_t ngx_http_ticket_auth_sid_key(ngx_http_request_t *r,
    ngx_str_t *sid, ngx_str_t *key);
static ngx_flag_t ngx_http_ticket_auth_session(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_auth_t *auth, ngx_http_ticket_reply_t *hash,
    ngx_str_t *login);
static ngx_int_t ngx_http_ticket_auth_both(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_auth_renewed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_auth_user(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_auth_fail(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_auth_t *auth);
static void ngx_http_ticket_auth_gen(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_reply_t *rep);
static ngx_int_t ngx_http_ticket_key(ngx_http_request_t *r,
    size_t (*build)(char *, size_t, const tk_str_t *), ngx_str_t *name,
    ngx_str_t *key);
static ngx_int_t ngx_http_ticket_url_encode(ngx_http_request_t *r,
    ngx_str_t *src, ngx_str_t *dst);


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
ngx_int_t
ngx_http_ticket_auth_start(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_step_pt then, ngx_http_ticket_step_pt fail)
{
    u_char                  *p, *last;
    ngx_str_t                token, key, ckey;
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
                                          ngx_http_ticket_auth_found);
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
    /* whether the sliding expiry needs an EXPIRE (a write) this time */
    tk_cmds_add(cmds, "TTL %b", key.data, key.len);

    /*
     * A session seen before: its login is known (a session's user never
     * changes), so the user is read in the same round trip.  The session
     * hash still decides: without it, nothing read here is used.
     */
    if (ngx_http_ticket_auth_sid_key(r, &ctx->sid, &ckey) == NGX_OK
        && ngx_http_ticket_cache_frag_get(r, &ckey, &auth->login) == NGX_OK
        && tk_valid_login(ngx_ticket_str(&auth->login)))
    {
        auth->ttl = NGX_HTTP_TICKET_TTL_UNKNOWN;
        auth->user_first = cmds->n;

        if (ngx_http_ticket_auth_user_cmds(r, ctx, auth, cmds) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_ticket_redis_send(r, ctx, cmds,
                                          ngx_http_ticket_auth_both);
    }

    ngx_str_null(&auth->login);

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_auth_found);
}


/* "sid|ID": the key of a session's login in the page cache's zone. */
static ngx_int_t
ngx_http_ticket_auth_sid_key(ngx_http_request_t *r, ngx_str_t *sid,
    ngx_str_t *key)
{
    key->len = sizeof("sid|") - 1 + sid->len;
    key->data = ngx_pnalloc(r->pool, key->len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(key->data, "sid|", sizeof("sid|") - 1),
               sid->data, sid->len);

    return NGX_OK;
}


/*
 * One round trip: the session (hash, TTL), then the user's reads.  The
 * session is checked as ngx_http_ticket_auth_found() does; a session of
 * another login (it cannot be: ids are random) is read the long way.
 */
static ngx_int_t
ngx_http_ticket_auth_both(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                 login;
    tk_cmds_t                *cmds;
    ngx_http_ticket_auth_t   *auth;
    ngx_http_ticket_reply_t  *hash;

    auth = ctx->view;

    if (ctx->nreplies < auth->user_first + 2
        || ctx->replies[0].type != REDIS_REPLY_ARRAY)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    hash = &ctx->replies[0];
    auth->ttl = (ctx->replies[1].type == REDIS_REPLY_INTEGER)
                ? ctx->replies[1].integer : -1;

    if (!ngx_http_ticket_auth_session(ctx, auth, hash, &login)) {
        return ngx_http_ticket_auth_fail(r, ctx, auth);
    }

    if (!tk_str_eq(ngx_ticket_str(&login), ngx_ticket_str(&auth->login))) {
        auth->login = login;
        auth->user_first = 0;
        return ngx_http_ticket_auth_load_user(r, ctx, auth);
    }

    auth->user_replies = ctx->replies + auth->user_first;
    auth->nuser_replies = ctx->nreplies - auth->user_first;

    /* the sliding expiry, now that the TTL is known: its own round trip,
     * at most once a minute */
    if (ngx_http_ticket_auth_renew(r, auth)) {
        cmds = ngx_http_ticket_cmds(r);
        if (cmds == NULL
            || ngx_http_ticket_auth_expire(r, ctx, cmds) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_ticket_redis_send(r, ctx, cmds,
                                          ngx_http_ticket_auth_renewed);
    }

    return ngx_http_ticket_auth_renewed(r, ctx);
}


static ngx_int_t
ngx_http_ticket_auth_renewed(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_auth_t  *auth;

    auth = ctx->view;
    ctx->replies = auth->user_replies;
    ctx->nreplies = auth->nuser_replies;

    return ngx_http_ticket_auth_user(r, ctx);
}


/* A session hash: its login, CSRF token and generation; 0 when it has
 * none of them (expired or signed out), and the request has no session. */
static ngx_flag_t
ngx_http_ticket_auth_session(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_auth_t *auth, ngx_http_ticket_reply_t *hash,
    ngx_str_t *login)
{
    ngx_http_ticket_reply_value(hash, TK_F_LOGIN, login);
    ngx_http_ticket_reply_value(hash, TK_F_CSRF, &ctx->csrf);
    ngx_http_ticket_reply_value(hash, TK_F_GEN, &auth->gen);

    if (login->len == 0 || ctx->csrf.len == 0) {
        ngx_str_null(&ctx->sid);
        ngx_str_null(&ctx->csrf);
        return 0;
    }

    return 1;
}


/*
 * The session or token hash is in: both name their user.  A session
 * also holds its CSRF token (neither: expired or signed out); a token
 * may have been disabled by the administrator.
 */
static ngx_int_t
ngx_http_ticket_auth_found(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                 disabled;
    ngx_http_ticket_auth_t   *auth;
    ngx_http_ticket_reply_t  *hash;

    auth = ctx->view;

    if (ctx->nreplies != (ctx->sid.len ? 2 : 1)
        || ctx->replies[0].type != REDIS_REPLY_ARRAY)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    hash = &ctx->replies[0];
    auth->ttl = (ctx->sid.len && ctx->replies[1].type == REDIS_REPLY_INTEGER)
                ? ctx->replies[1].integer : -1;

    if (ctx->sid.len) {
        if (!ngx_http_ticket_auth_session(ctx, auth, hash, &auth->login)) {
            return ngx_http_ticket_auth_fail(r, ctx, auth);
        }

    } else {
        ngx_http_ticket_reply_value(hash, TK_F_LOGIN, &auth->login);
        ngx_http_ticket_reply_value(hash, TK_F_DISABLED, &disabled);

        if (auth->login.len == 0 || ngx_http_ticket_flag_on(&disabled)) {
            return ngx_http_ticket_auth_fail(r, ctx, auth);
        }
    }

    return ngx_http_ticket_auth_load_user(r, ctx, auth);
}


static ngx_int_t
ngx_http_ticket_auth_load_user(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_auth_t *auth)
{
    ngx_str_t   key;
    tk_cmds_t  *cmds;

    if (!tk_valid_login(ngx_ticket_str(&auth->login))) {
        return ngx_http_ticket_auth_fail(r, ctx, auth);
    }

    /* next time in one round trip (ngx_http_ticket_auth_both()) */
    if (ctx->sid.len
        && ngx_http_ticket_auth_sid_key(r, &ctx->sid, &key) == NGX_OK)
    {
        ngx_http_ticket_cache_frag_put(r, &key, &auth->login);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    auth->user_first = 0;

    if (ngx_http_ticket_auth_user_cmds(r, ctx, auth, cmds) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_auth_user);
}


/*
 * Sliding expiry, renewed at most once a minute (an eighth of a short
 * timeout): EXPIRE is a write -- with appendfsync always a disk sync --
 * and a page view is a read.  So a session lasts between timeout - 60 s
 * and timeout after its last request.
 */
static ngx_flag_t
ngx_http_ticket_auth_renew(ngx_http_request_t *r, ngx_http_ticket_auth_t *auth)
{
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    return auth->ttl != NGX_HTTP_TICKET_TTL_UNKNOWN
           && (auth->ttl < 0
               || auth->ttl < (long long) (lcf->session_timeout
                                           - ngx_min(60,
                                                lcf->session_timeout / 8)));
}


/* The session's sliding EXPIRE into cmds: with the user's reads, or on
 * its own when the TTL came with them (ngx_http_ticket_auth_both()). */
static ngx_int_t
ngx_http_ticket_auth_expire(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    tk_cmds_t *cmds)
{
    ngx_str_t                    key;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    if (ngx_http_ticket_key(r, tk_key_session, &ctx->sid, &key) != NGX_OK) {
        return NGX_ERROR;
    }

    tk_cmds_add(cmds, "EXPIRE %b %lld", key.data, key.len,
                (long long) lcf->session_timeout);

    return NGX_OK;
}


/* The user's reads into cmds (from auth->user_first on: the indices kept
 * are relative to it). */
static ngx_int_t
ngx_http_ticket_auth_user_cmds(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_auth_t *auth,
    tk_cmds_t *cmds)
{
    ngx_str_t  key;

    if (ngx_http_ticket_key(r, tk_key_user, &auth->login, &key) != NGX_OK) {
        return NGX_ERROR;
    }

    tk_cmds_add(cmds, "HGETALL %b", key.data, key.len);
    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_GROUPS_ALL);

    if (ctx->sid.len) {
        /* the header of an admin's pages shows it; O(1) and in this
         * round trip anyway, so not worth a role check first */
        tk_cmds_add(cmds, "ZCARD " TK_KEY_QUARANTINE);
        /* the unread badge of the page head: O(1), this round trip, and
         * never in the page cache (the head is rendered per request) */
        tk_cmds_add(cmds, "ZCARD " TK_FMTS_USER_UNREAD,
                    ngx_ticket_str(&auth->login));

        if (ngx_http_ticket_auth_renew(r, auth)
            && ngx_http_ticket_auth_expire(r, ctx, cmds) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    /*
     * The page cache's version, in this round trip rather than another.
     * It must be read before the data a view renders (which comes in
     * later batches): then what is rendered is at least as new as the
     * version it is cached under.  See ngx_http_ticket_cache.c.
     */
    if (ngx_http_ticket_cache_enabled(r)) {
        auth->gen_reply = cmds->n - auth->user_first;
        tk_cmds_add(cmds, "GET " TK_KEY_INDEX_GEN);
    }

    /* the view's first reads, after the generation (the order above) */
    if (ctx->auth_extra) {
        auth->extra_reply = cmds->n - auth->user_first;
        ctx->auth_extra(r, ctx, &auth->login, cmds);
        auth->nextra = cmds->n - auth->user_first - auth->extra_reply;
    }

    return cmds->failed ? NGX_ERROR : NGX_OK;
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

    if (user->nelem == 0 || ngx_http_ticket_flag_on(&disabled)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ticket: \"%V\" is unknown or disabled", &auth->login);
        return ngx_http_ticket_auth_fail(r, ctx, auth);
    }

    u = &ctx->user;

    ngx_http_ticket_reply_value(user, TK_F_SESSION_GEN, &u->session_gen);

    /*
     * "End all sessions" (admin page) and a password change give the
     * user a new session generation; a session made under another one
     * is over -- checked here, in the user hash this request reads
     * anyway, so it costs no round trip (docs/security.md).
     */
    if (ctx->sid.len
        && (u->session_gen.len != auth->gen.len
            || ngx_strncmp(u->session_gen.data, auth->gen.data,
                           auth->gen.len) != 0))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ticket: a session of \"%V\" was ended", &auth->login);
        ngx_str_null(&ctx->sid);
        ngx_str_null(&ctx->csrf);
        return ngx_http_ticket_auth_fail(r, ctx, auth);
    }

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

    if (ctx->sid.len && ctx->nreplies > 2
        && ctx->replies[2].type == REDIS_REPLY_INTEGER
        && ctx->replies[2].integer > 0)
    {
        ctx->quarantined = (ngx_uint_t) ctx->replies[2].integer;
    }

    if (ctx->sid.len && ctx->nreplies > 3
        && ctx->replies[3].type == REDIS_REPLY_INTEGER
        && ctx->replies[3].integer > 0)
    {
        ctx->unread = (ngx_uint_t) ctx->replies[3].integer;
    }
    ctx->all_agents = &ctx->replies[1];         /* overviews use it too */

    if (ngx_http_ticket_rights(r, ctx, &ctx->replies[1]) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (auth->gen_reply && auth->gen_reply < ctx->nreplies) {
        ngx_http_ticket_auth_gen(r, ctx, &ctx->replies[auth->gen_reply]);
    }

    /* the replies stay in the request's pool for the view */
    if (auth->nextra && auth->extra_reply + auth->nextra <= ctx->nreplies) {
        ctx->extra = &ctx->replies[auth->extra_reply];
        ctx->nextra = auth->nextra;
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
    ngx_str_t   next;

    ctx->authenticated = 0;
    ctx->view = NULL;

    if (auth->fail) {
        return auth->fail(r, ctx);
    }

    if (ctx->api) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                     "unauthorized");
    }

    if (auth->had_cookie
        && ngx_http_ticket_clear_cookie(r, NGX_HTTP_TICKET_SESSION_COOKIE)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
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


/* The generation: a number, or nil before the first ticket (0).  Anything
 * else leaves this request uncached. */
static void
ngx_http_ticket_auth_gen(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_reply_t *rep)
{
    long long  gen;

    if (rep->type == REDIS_REPLY_NIL) {
        gen = 0;

    } else if (rep->type == REDIS_REPLY_STRING) {
        gen = tk_str_atoll(ngx_ticket_str(&rep->str));

    } else {
        gen = -1;
    }

    if (gen < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: %s is not a number: pages are not cached",
                      TK_KEY_INDEX_GEN);
        return;
    }

    ngx_http_ticket_cache_generation(r, ctx, (uint64_t) gen);
}


/* ---- helpers ------------------------------------------------------------ */

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


/* Percent-encode all but unreserved characters and "/". */
static ngx_int_t
ngx_http_ticket_url_encode(ngx_http_request_t *r, ngx_str_t *src,
    ngx_str_t *dst)
{
    dst->data = ngx_pnalloc(r->pool, src->len * 3 + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    dst->len = tk_escape_url(dst->data, src->len * 3, src->data, src->len,
                             TK_URL_PATH);

    return NGX_OK;
}
