/*
 * ngx_http_ticket.h -- what the parts of ngx_http_ticket_module share:
 * configuration, the request context, the Redis batch API, output and
 * form helpers, and the entry point of each view family.
 *
 * A request meets the module in this order:
 *   ngx_http_ticket_handler()          (ngx_http_ticket_request.c)
 *     -> read the body of a POST       (ngx_http_ticket_form.c)
 *     -> authenticate: session cookie or bearer token, one Redis batch
 *                                      (ngx_http_ticket_auth.c)
 *     -> route to a view; the view sends batches and renders a compiled
 *        template                      (ngx_http_ticket_overview.c, ...)
 *
 * Redis work is asynchronous: a step sends a batch and returns NGX_DONE;
 * when every reply is in, the next step runs with ctx->replies
 * (ngx_http_ticket_redis.c, _batch.c, _tx.c).
 */

#ifndef NGX_HTTP_TICKET_H
#define NGX_HTTP_TICKET_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "tk_cmd.h"
#include "tk_escape.h"
#include "tk_schema.h"
#include "tk_str.h"
#include "tk_ticket.h"
#include "tk_tpl.h"             /* the message catalogue: TK_MSG_*, TK_LANG_* */

/* ---- configuration ------------------------------------------------------ */

/* ticket_redis, resolved (ngx_http_ticket_endpoint.h) */
typedef struct ngx_http_ticket_endpoint_s  ngx_http_ticket_endpoint_t;

typedef struct {
    ngx_str_t                  redis;           /* "unix:/p" | "host:port" */
    ngx_msec_t                 redis_timeout;
    ngx_uint_t                 tx_connections;  /* WATCH connections/worker */
    ngx_uint_t                 wait_replicas;   /* ticket_redis_wait N    */
    ngx_msec_t                 wait_timeout;

    /* core only: derived at configuration time */
    ngx_http_ticket_endpoint_t *endpoint;       /* ticket_redis, resolved */
    ngx_flag_t                 used;            /* a "ticket" location */
    void                      *thread_pool;     /* "default" pool */
    ngx_str_t                  static_version;  /* "?v=" of CSS/JS links */

    ssize_t                    cache_size;      /* ticket_cache_zone; 0:
                                                   off */
    ngx_shm_zone_t            *cache_zone;      /* NULL: no page cache */

    ngx_str_t                  time_zone;       /* ticket_time_zone */
} ngx_http_ticket_main_conf_t;

typedef struct {
    ngx_flag_t                 enable;          /* "ticket" */
    ngx_str_t                  base_url;        /* "/" by default */
    ngx_str_t                  static_url;      /* ticket_static_url */
    ngx_flag_t                 cookie_secure;
    time_t                     session_timeout;
    ngx_flag_t                 cache;           /* ticket_cache */
    ngx_flag_t                 row_cache;       /* ticket_row_cache */
    ngx_str_t                  subject_tag;     /* ticket_subject_tag */
    size_t                     upload_max_size; /* ticket_upload_max_size */
    /* casework: the public request form (ngx_http_ticket_reqform.c) */
    ngx_flag_t                 form;            /* ticket_form */
    ngx_str_t                  form_group;      /* ticket_form_group */
    ngx_uint_t                 form_rate;       /* ticket_form_rate, per
                                                   IP and hour */
    size_t                     form_file_max;   /* ticket_form_attachment_
                                                   max_size */
} ngx_http_ticket_loc_conf_t;

extern ngx_module_t  ngx_http_ticket_module;

/* the content handler of a "ticket" location (ngx_http_ticket_request.c) */
ngx_int_t ngx_http_ticket_handler(ngx_http_request_t *r);

/* ---- Redis replies ------------------------------------------------------ */

/*
 * A reply, built by hiredis's reader straight into the request pool
 * (ngx_http_ticket_batch.c); a batch completes only when all its replies
 * are in.
 */
typedef struct ngx_http_ticket_reply_s  ngx_http_ticket_reply_t;

struct ngx_http_ticket_reply_s {
    int                        type;            /* REDIS_REPLY_* */
    long long                  integer;
    ngx_str_t                  str;             /* string, status, error */
    size_t                     nelem;
    ngx_http_ticket_reply_t   *element;
};

/* Helpers over replies: NULL/0 when the type does not match. */
ngx_int_t ngx_http_ticket_reply_is_error(ngx_http_ticket_reply_t *rep);
/* an error reply by which Redis refuses a write (OOM, MISCONF, ...) */
ngx_int_t ngx_http_ticket_reply_refused(ngx_str_t *err);
/* HGETALL result as field/value pairs of tk_str_t (for tk_*_parse) */
tk_str_t *ngx_http_ticket_reply_pairs(ngx_http_request_t *r,
    ngx_http_ticket_reply_t *rep, size_t *npairs);
/* value of one field in an HGETALL reply, or NULL */
ngx_str_t *ngx_http_ticket_reply_field(ngx_http_ticket_reply_t *rep,
    const char *field);
/* the same, "" when the field is absent */
void ngx_http_ticket_reply_value(ngx_http_ticket_reply_t *rep,
    const char *field, ngx_str_t *value);

/* ---- users and rights --------------------------------------------------- */

typedef struct {
    ngx_str_t                  login;
    ngx_str_t                  name;
    ngx_str_t                  email;
    ngx_str_t                  role;            /* admin | agent */
    ngx_str_t                  rights;          /* "legal:full,ALSO:read" */
    ngx_str_t                  lang;
    ngx_str_t                  session_gen;     /* TK_F_SESSION_GEN */
    ngx_flag_t                 admin;
} ngx_http_ticket_user_t;

typedef struct {
    ngx_str_t                  name;
    ngx_int_t                  right;           /* tk_right_e */
} ngx_http_ticket_group_right_t;

/* Random bytes of a session generation (TK_F_SESSION_GEN, hex). */
#define NGX_HTTP_TICKET_SESSION_GEN_BYTES  8

/* A "0"/"1" field of a hash, such as TK_F_DISABLED, is set. */
static ngx_inline ngx_flag_t
ngx_http_ticket_flag_on(ngx_str_t *value)
{
    return value->len == 1 && value->data[0] == '1';
}

/* ---- request context ---------------------------------------------------- */

typedef struct ngx_http_ticket_ctx_s  ngx_http_ticket_ctx_t;

/* A step: returns NGX_DONE after sending another batch, otherwise the
 * rc for ngx_http_finalize_request(). */
typedef ngx_int_t (*ngx_http_ticket_step_pt)(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* More reads for authentication's second batch, named by the user's
 * login (a view's first round trip folded into it): auth_extra below. */
typedef void (*ngx_http_ticket_auth_extra_pt)(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *login, tk_cmds_t *cmds);

struct ngx_http_ticket_ctx_s {
    /* the last completed batch */
    ngx_http_ticket_reply_t   *replies;
    ngx_uint_t                 nreplies;
    ngx_http_ticket_step_pt    next;
    void                      *pending;         /* redis slot, core only */

    /* set by authentication */
    ngx_str_t                  sid;             /* session id, "" for API */
    ngx_str_t                  csrf;            /* session's CSRF token   */
    ngx_http_ticket_user_t     user;
    ngx_array_t                groups;          /* of group_right_t, every
                                                   group with a right,
                                                   sorted by name */
    ngx_http_ticket_reply_t   *all_agents;      /* SMEMBERS of the
                                                   all-agents groups, as
                                                   authentication read it */
    /* set by the router before authentication: its commands go into
     * the user's batch (after tk:{ix}:gen), their replies to extra */
    ngx_http_ticket_auth_extra_pt  auth_extra;
    ngx_http_ticket_reply_t   *extra;
    ngx_uint_t                 nextra;
    unsigned                   api:1;           /* bearer token request  */
    unsigned                   authenticated:1;
    unsigned                   tx_conflict:1;   /* EXEC returned nil     */
    unsigned                   write_refused:1; /* OOM, MISCONF: a 503   */
    ngx_uint_t                 tx_retries;
    unsigned                   password_ok:1;
    ngx_str_t                  password_hash;

    /* the request, parsed */
    ngx_str_t                  path;            /* uri below base_url, "/t/5" */
    ngx_str_t                  form;            /* raw urlencoded body   */
    ngx_array_t               *uploads;         /* tk_part_t: the files of
                                                   a multipart form
                                                   (ngx_http_ticket_multipart) */

    /* view-owned state */
    void                      *view;

    /* <body data-page="...">: set by the router ("overview", "ticket",
     * "profile", "admin", "login", "error"); a view may override it */
    const char                *page;

    /* the page's Content-Security-Policy when a view needs another one
     * (NULL: NGX_HTTP_TICKET_CSP) */
    const char                *csp;

    /* entries in the mail quarantine, for an admin's navigation */
    ngx_uint_t                 quarantined;
    ngx_uint_t                 unread;       /* in-app notices (notify) */

    /* a notice for the page head (e.g. "go to" found no such ticket) */
    tk_str_t                   notice;

    /* the page cache (ngx_http_ticket_cache.h): tk:{ix}:gen as
     * authentication read it, before any data a view reads */
    uint64_t                   cache_gen;
    ngx_uint_t                 cache_epoch;
    unsigned                   cache:1;         /* cache_gen is set */
};

/* The user's groups and rights into ctx->groups, from the user hash read
 * by authentication and the all-agents groups (ngx_http_ticket_rights.c). */
ngx_int_t ngx_http_ticket_rights(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_reply_t *all_agents);
/* Right of the current user on a group (tk_right_e). */
ngx_int_t ngx_http_ticket_right(ngx_http_ticket_ctx_t *ctx, ngx_str_t *group);
/* Full right on some group: may start a ticket (new outbound ticket). */
ngx_flag_t ngx_http_ticket_full_somewhere(ngx_http_ticket_ctx_t *ctx);

/* ---- Redis (ngx_http_ticket_redis.c, _batch.c, _tx.c) -------------------- */

/* Worker start/stop: connect, reconnect with backoff. */
ngx_int_t ngx_http_ticket_redis_init_process(ngx_cycle_t *cycle);
void ngx_http_ticket_redis_exit_process(ngx_cycle_t *cycle);

/* A new, empty command list on the request pool. */
tk_cmds_t *ngx_http_ticket_cmds(ngx_http_request_t *r);

/*
 * Send every command of cmds, pipelined, on the shared connection.  When
 * all replies are in: ctx->replies/nreplies are set and step runs.  If
 * Redis is down or does not answer within ticket_redis_timeout, the
 * request gets the 503 page and step never runs.  Returns NGX_DONE (also
 * when Redis is down: the 503 then comes from a posted event), so
 * "return ngx_http_ticket_redis_send(...);" is always right.
 * Must not be used for WATCH (the connection is shared by requests).
 */
ngx_int_t ngx_http_ticket_redis_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, tk_cmds_t *cmds, ngx_http_ticket_step_pt step);

/*
 * Optimistic transaction on a connection of its own:
 *   tx_begin:  WATCH keys..., then the read commands; step sees the reads'
 *              replies (the WATCH reply is not included).
 *   tx_commit: MULTI, writes, EXEC; step sees ctx->tx_conflict = 1 when
 *              EXEC returned nil (someone changed a watched key): the
 *              caller may start again with tx_begin (at most 5 times).
 *              Otherwise ctx->replies holds the EXEC array's elements.
 *   tx_abort:  UNWATCH and give the connection back.
 * writes must not contain MULTI/EXEC (tx_commit adds them).  When all
 * ticket_redis_tx_connections are busy, tx_begin waits for one (at most
 * ticket_redis_timeout, then 503).
 * The connection is released after commit/abort, and by a pool cleanup
 * if the request dies in between.
 */
ngx_int_t ngx_http_ticket_tx_begin(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *watch_keys, ngx_uint_t nkeys,
    tk_cmds_t *reads, ngx_http_ticket_step_pt step);
ngx_int_t ngx_http_ticket_tx_commit(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, tk_cmds_t *writes,
    ngx_http_ticket_step_pt step);
void ngx_http_ticket_tx_abort(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* ---- output (ngx_http_ticket_output.c) ---------------------------------- */

/* Every page's CSP: no inline script or style, nothing from elsewhere
 * (connect-src: the composer's script asks its own server). */
#define NGX_HTTP_TICKET_CSP                                                  \
    "default-src 'none'; style-src 'self'; script-src 'self'; "              \
    "connect-src 'self'; "                                                   \
    "img-src 'self' data:; form-action 'self'; "                             \
    "frame-ancestors 'none'; base-uri 'none'"

/* The same, with remote images allowed: only for the one response in
 * which an agent asked to see a mail's images. */
#define NGX_HTTP_TICKET_CSP_IMAGES                                           \
    "default-src 'none'; style-src 'self'; script-src 'self'; "              \
    "connect-src 'self'; "                                                   \
    "img-src 'self' data: https: http:; form-action 'self'; "                \
    "frame-ancestors 'none'; base-uri 'none'"

/* A tk_out_t that fills a chain of buffers from r->pool. */
ngx_int_t ngx_http_ticket_out_init(ngx_http_request_t *r, tk_out_t *out);

/*
 * Close out: what was written as a chain of non-empty buffers (NULL when
 * nothing was) and its length.  Then nothing more is written to out.
 */
ngx_int_t ngx_http_ticket_out_chain(tk_out_t *out, ngx_chain_t **chain,
    off_t *len);

/* Append a closed chain, or len bytes at data, to out without copying
 * (both must live as long as the request); writing goes on after it. */
ngx_int_t ngx_http_ticket_out_link(tk_out_t *out, ngx_chain_t *in);
ngx_int_t ngx_http_ticket_out_ref(tk_out_t *out, u_char *data, size_t len);

/*
 * Send what was written to out with status and content type; adds the
 * security headers (CSP, X-Content-Type-Options, Referrer-Policy,
 * X-Frame-Options, Cache-Control: no-store).  Returns the rc for
 * finalize.
 */
ngx_int_t ngx_http_ticket_out_send(ngx_http_request_t *r, tk_out_t *out,
    ngx_uint_t status, const char *content_type);

/*
 * A file (attachment, raw mail): data byte for byte with content_type,
 * Content-Disposition inline or attachment with the file name (RFC 6266,
 * cleaned of path separators and control characters), nosniff, a
 * sandboxing CSP and Cache-Control: private, max-age=0.  The caller
 * decides the type from an allow-list; data stays in r->pool.
 */
ngx_int_t ngx_http_ticket_file(ngx_http_request_t *r, ngx_str_t *data,
    const char *content_type, ngx_flag_t show_inline, ngx_str_t *name);

/*
 * An HTML page: layout (header with navigation, user menu, CSRF token for
 * the logout form) around what body() writes.  title is escaped.
 */
typedef void (*ngx_http_ticket_body_pt)(tk_out_t *out, void *data);

ngx_int_t ngx_http_ticket_page(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status, ngx_str_t *title,
    ngx_http_ticket_body_pt body, void *data);

/* 1 when pages are German: the user's choice; before sign-in the
 * language of whoever signed out in this browser (NGX_HTTP_TICKET_LANG_
 * COOKIE), else the one of ours Accept-Language prefers, else German. */
ngx_flag_t ngx_http_ticket_page_de(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
/* 1 when the signed-in user reads German. */
ngx_flag_t ngx_http_ticket_lang_de(ngx_http_ticket_ctx_t *ctx);

/*
 * Languages (ngx_http_ticket_lang.c) are the catalogue's (messages.txt):
 * TK_LANG_* of the page (as ngx_http_ticket_page_de decides), of the
 * signed-in user (German for a code we lack), of a code (-1: none).
 */
ngx_uint_t ngx_http_ticket_page_lang(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
ngx_uint_t ngx_http_ticket_lang(ngx_http_ticket_ctx_t *ctx);
ngx_int_t ngx_http_ticket_lang_index(u_char *code, size_t len);

/*
 * A UI string from the catalogue in the signed-in user's language (a
 * const char *, ngx_sprintf conversions as the entry has them); _n picks
 * the FOO_ONE / FOO_OTHER plural by n; page_msg is for pages also shown
 * before sign-in.
 */
#define ngx_http_ticket_msg(ctx, id)                                          \
    tk_msg((int) ngx_http_ticket_lang(ctx), id)
#define ngx_http_ticket_msg_n(ctx, id, n)                                     \
    tk_msg_n((int) ngx_http_ticket_lang(ctx), id, n)
#define ngx_http_ticket_page_msg(r, ctx, id)                                  \
    tk_msg((int) ngx_http_ticket_page_lang(r, ctx), id)

/* A piece of a message (tk_msg_get()->segs) is the {param} name. */
#define ngx_http_ticket_seg_is(seg, name)                                     \
    ((seg)->arg >= 0 && (seg)->len == sizeof(name) - 1                        \
     && ngx_strncmp((seg)->text, name, sizeof(name) - 1) == 0)

/* Error page (404, 403, 400, 503 ...) or JSON error for the API. */
ngx_int_t ngx_http_ticket_error(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status, const char *message);

/* 303 See Other to base_url + path (path relative, e.g. "t/5"). */
ngx_int_t ngx_http_ticket_redirect(ngx_http_request_t *r,
    const char *path, size_t len);

/* base_url + path, e.g. "/tickets/" + "t/5", in r->pool. */
ngx_int_t ngx_http_ticket_url(ngx_http_request_t *r, const char *path,
    size_t len, tk_str_t *out);

/* JSON response (API). */
ngx_int_t ngx_http_ticket_json(ngx_http_request_t *r, tk_out_t *out,
    ngx_uint_t status);

/* ---- request parsing (ngx_http_ticket_form.c) --------------------------- */

/* Value of a urlencoded field in the POST body / query string, decoded
 * into r->pool.  NGX_OK, NGX_DECLINED (absent) or NGX_ERROR. */
ngx_int_t ngx_http_ticket_form_arg(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *name, ngx_str_t *value);
ngx_int_t ngx_http_ticket_query_arg(ngx_http_request_t *r, const char *name,
    ngx_str_t *value);
/* The same from a string of "&"-separated pairs (saved overviews). */
ngx_int_t ngx_http_ticket_string_arg(ngx_http_request_t *r, ngx_str_t *input,
    const char *name, ngx_str_t *value);
/* A form field, "" when absent or malformed. */
void ngx_http_ticket_form_value(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *name, ngx_str_t *value);

/* POST only: the form's csrf field equals the session's token (constant
 * time).  NGX_OK, NGX_DECLINED (missing or wrong: answer 400) or NGX_ERROR
 * (malformed body: 400).  Bearer-token requests have no session and pass. */
ngx_int_t ngx_http_ticket_check_csrf(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
/* The 403 page when check_csrf() said no to a signed-in user's form. */
ngx_int_t ngx_http_ticket_csrf_refused(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* Random bytes (getrandom) as lower-case hex into r->pool. */
ngx_int_t ngx_http_ticket_random_hex(ngx_http_request_t *r, size_t bytes,
    ngx_str_t *out);

/* s is exactly len lower-case hex digits (a token of ours). */
ngx_flag_t ngx_http_ticket_is_hex(ngx_str_t *s, size_t len);

/* Value of a request cookie (the first one of that name): NGX_OK or
 * NGX_DECLINED.  Not decoded: our cookies are hex. */
ngx_int_t ngx_http_ticket_cookie(ngx_http_request_t *r, const char *name,
    ngx_str_t *value);

/* Set-Cookie below base_url, HttpOnly, SameSite=Strict (Secure unless
 * ticket_cookie_secure is off); max_age in seconds, 0 deletes the
 * cookie, -1 makes it last as long as the browser runs. */
ngx_int_t ngx_http_ticket_set_cookie(ngx_http_request_t *r,
    const char *name, ngx_str_t *value, ngx_int_t max_age);
/* Set-Cookie that deletes it. */
ngx_int_t ngx_http_ticket_clear_cookie(ngx_http_request_t *r,
    const char *name);

/* The session id cookie (ngx_http_ticket_session.c sets it,
 * ngx_http_ticket_auth.c reads it). */
#define NGX_HTTP_TICKET_SESSION_COOKIE  "tk_session"
/* "de" or "en": the language of the user who signed out last here */
#define NGX_HTTP_TICKET_LANG_COOKIE     "tk_lang"
#define NGX_HTTP_TICKET_LANG_MAX_AGE    (365 * 86400)

/*
 * A multipart/form-data body (the composer with files,
 * ngx_http_ticket_multipart.c): its text fields become ctx->form as if
 * urlencoded, its files ctx->uploads.  NGX_OK, NGX_DECLINED (not
 * multipart: ctx->form stays) or NGX_ERROR (malformed: answer 400).
 */
ngx_int_t ngx_http_ticket_multipart(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* ---- views: entry points, one file per family --------------------------- */

/* ngx_http_ticket_session.c: /login (GET form, POST), /logout (POST). */
ngx_int_t ngx_http_ticket_login(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
ngx_int_t ngx_http_ticket_logout(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* ngx_http_ticket_auth.c: authentication of every other request; then
 * runs once the user is known.  Without a valid session or token the
 * answer is a redirect to /login (401 for the API) -- or, for auth_start
 * with a fail step, that step (sign-out of an expired session). */
ngx_int_t ngx_http_ticket_authenticate(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_step_pt then);
ngx_int_t ngx_http_ticket_auth_start(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_step_pt then,
    ngx_http_ticket_step_pt fail);

/*
 * ngx_http_ticket_password.c: passwords (yescrypt via libcrypt) take
 * ~20 ms of CPU, so they run in nginx's "default" thread pool, never on
 * the event loop.  check: step runs with ctx->password_ok set.  hash:
 * step runs with ctx->password_hash set (empty on failure).
 */
ngx_int_t ngx_http_ticket_password_check(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *hash, ngx_str_t *password,
    ngx_http_ticket_step_pt step);
ngx_int_t ngx_http_ticket_password_hash(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *password,
    ngx_http_ticket_step_pt step);

/* ngx_http_ticket_overview.c: "/" and "/overview/NAME" */
ngx_int_t ngx_http_ticket_overview(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
/* The saved overviews' reads, for authentication's batch (the router's
 * ctx->auth_extra on overview pages; ngx_http_ticket_overview_saved.c). */
void ngx_http_ticket_overview_auth_extra(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *login, tk_cmds_t *cmds);

/* ngx_http_ticket_view.c: "/t/N" GET; POST "/t/N/update", "/t/N/title"
 * (ngx_http_ticket_action.c); GET "/t/N/a/A/..." files of an article
 * (ngx_http_ticket_download.c) */
ngx_int_t ngx_http_ticket_view(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* ngx_http_ticket_goto.c: GET "/go?n=123" -- to "/t/123" if visible */
ngx_int_t ngx_http_ticket_goto(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* ngx_http_ticket_admin.c: "/admin/quarantine" (role admin only) */
ngx_int_t ngx_http_ticket_admin(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
/* ngx_http_ticket_admin_triggers.c: "/admin/triggers" (admins only) */
ngx_int_t ngx_http_ticket_admin_triggers(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
/* ngx_http_ticket_keys.c: "/admin/keys" (agents: list + import) */
ngx_int_t ngx_http_ticket_keys(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* ngx_http_ticket_profile.c: "/profile" GET and POST */
ngx_int_t ngx_http_ticket_profile(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
/* "/new": a new ticket that starts with our mail (_outbound.c) */
ngx_int_t ngx_http_ticket_outbound(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* ngx_http_ticket_notify.c: "/notifications" (helper notify) */
ngx_int_t ngx_http_ticket_notifications(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* ngx_http_ticket_search.c: "/search?q=" and "/api/v1/search?q=" */
ngx_int_t ngx_http_ticket_search(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* ngx_http_ticket_api.c: "/api/v1/..." */
ngx_int_t ngx_http_ticket_api(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* ngx_ticket_str(): view an ngx_str_t as the shared tk_str_t. */
#define ngx_ticket_str(s)  ((tk_str_t *) (s))

/* A C string constant (or NULL: empty) as a template field; tk_str_set
 * needs a literal. */
static ngx_inline void
ngx_http_ticket_cstr(tk_str_t *str, const char *s)
{
    str->data = (u_char *) s;
    str->len = s ? ngx_strlen(s) : 0;
}

/* "/customers/ID", "/customers?email=" (ngx_http_ticket_customer.c,
 * issue 13) */
ngx_int_t ngx_http_ticket_customer(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

#endif /* NGX_HTTP_TICKET_H */
