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
} ngx_http_ticket_auth_t;


static ngx_int_t ngx_http_ticket_auth_found(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_auth_load_user(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_auth_t *auth);
static ngx_int_t ngx_http_ticket_auth_user(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_auth_fail(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_auth_t *auth);
static void ngx_http_ticket_auth_gen(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_reply_t *rep);
static ngx_int_t ngx_http_ticket_rights(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_reply_t *all_agents);
static ngx_int_t ngx_http_ticket_cmp_group(const void *one,
    const void *two);
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

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_auth_found);
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

    ngx_http_ticket_reply_value(hash, TK_F_LOGIN, &auth->login);

    if (ctx->sid.len) {
        ngx_http_ticket_reply_value(hash, TK_F_CSRF, &ctx->csrf);
        ngx_http_ticket_reply_value(hash, TK_F_GEN, &auth->gen);

        if (auth->login.len == 0 || ctx->csrf.len == 0) {
            /* expired or ended */
            ngx_str_null(&ctx->sid);
            ngx_str_null(&ctx->csrf);
            return ngx_http_ticket_auth_fail(r, ctx, auth);
        }

    } else {
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
        /* the header of an admin's pages shows it; O(1) and in this
         * round trip anyway, so not worth a role check first */
        tk_cmds_add(cmds, "ZCARD " TK_KEY_QUARANTINE);
        /* the unread badge of the page head: O(1), this round trip, and
         * never in the page cache (the head is rendered per request) */
        tk_cmds_add(cmds, "ZCARD " TK_FMTS_USER_UNREAD,
                    ngx_ticket_str(&auth->login));

        lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

        if (ngx_http_ticket_key(r, tk_key_session, &ctx->sid, &key)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /*
         * Sliding expiry, renewed at most once a minute (an eighth of a
         * short timeout): EXPIRE is a write -- with appendfsync always a
         * disk sync -- and a page view is a read.  So a session lasts
         * between timeout - 60 s and timeout after its last request.
         */
        if (auth->ttl < 0
            || auth->ttl < (long long) (lcf->session_timeout
                                         - ngx_min(60, lcf->session_timeout
                                                       / 8)))
        {
            tk_cmds_add(cmds, "EXPIRE %b %lld", key.data, key.len,
                        (long long) lcf->session_timeout);
        }
    }

    /*
     * The page cache's version, in this round trip rather than another.
     * It must be read before the data a view renders (which comes in
     * later batches): then what is rendered is at least as new as the
     * version it is cached under.  See ngx_http_ticket_cache.c.
     */
    if (ngx_http_ticket_cache_enabled(r)) {
        auth->gen_reply = cmds->n;
        tk_cmds_add(cmds, "GET " TK_KEY_INDEX_GEN);
    }

    /* the view's first reads, after the generation (the order above) */
    if (ctx->auth_extra) {
        auth->extra_reply = cmds->n;
        ctx->auth_extra(r, ctx, &auth->login, cmds);
        auth->nextra = cmds->n - auth->extra_reply;
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


ngx_flag_t
ngx_http_ticket_full_somewhere(ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                      i;
    ngx_http_ticket_group_right_t  *gr;

    gr = ctx->groups.elts;

    for (i = 0; ctx->authenticated && i < ctx->groups.nelts; i++) {
        if (gr[i].right == TK_RIGHT_FULL) {
            return 1;
        }
    }

    return 0;
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
