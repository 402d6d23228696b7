/*
 * ngx_http_ticket_admin_users_write.c -- what the user pages post: check
 * the form (a refused one is the page again, 400, nothing written), hash
 * a new password in the thread pool, then one optimistic transaction:
 * WATCH every account and tk:users, so that "is there still another
 * active admin?" and "does the login exist?" are answered by the very
 * data the MULTI replaces.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_admin.h"


#define NGX_HTTP_TICKET_AU_NAME_MAX    100
#define NGX_HTTP_TICKET_AU_PW_MIN      8
#define NGX_HTTP_TICKET_AU_PW_LIMIT    256

/* replies of the transaction's reads before the HMGET per account */
#define NGX_HTTP_TICKET_AU_TX_USERS    0        /* SMEMBERS tk:users */
#define NGX_HTTP_TICKET_AU_TX_GROUPS   1        /* SMEMBERS tk:groups */
#define NGX_HTTP_TICKET_AU_TX_TARGET   2        /* EXISTS tk:{u:LOGIN} */
#define NGX_HTTP_TICKET_AU_TX_FIRST    3


static ngx_int_t ngx_http_ticket_au_check(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_au_check_password(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_au_form_rights(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_au_hashed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_au_begin(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_au_decide(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_au_refuse(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, int id);
static void ngx_http_ticket_au_writes(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, tk_cmds_t *w);
static ngx_int_t ngx_http_ticket_au_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_flag_t ngx_http_ticket_au_is_admin(ngx_str_t *role);


ngx_int_t
ngx_http_ticket_au_post(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_int_t              rc;
    ngx_http_ticket_au_t  *au;

    au = ctx->view;

    if (au->action == NGX_HTTP_TICKET_AU_CREATE
        || au->action == NGX_HTTP_TICKET_AU_SAVE)
    {
        rc = ngx_http_ticket_au_check(r, ctx);
        if (rc != NGX_OK) {
            return rc == NGX_DECLINED
                   ? ngx_http_ticket_au_form(r, ctx, NGX_HTTP_BAD_REQUEST)
                   : NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (au->action == NGX_HTTP_TICKET_AU_CREATE
        || au->action == NGX_HTTP_TICKET_AU_PASSWORD)
    {
        if (ngx_http_ticket_au_check_password(r, ctx) != NGX_OK) {
            return ngx_http_ticket_au_form(r, ctx, NGX_HTTP_BAD_REQUEST);
        }

        /* yescrypt takes ~20 ms: the thread pool, once (not per retry) */
        if (ctx->password_hash.len == 0) {
            return ngx_http_ticket_password_hash(r, ctx, &au->password,
                                                 ngx_http_ticket_au_hashed);
        }
    }

    if (au->action == NGX_HTTP_TICKET_AU_PASSWORD
        || au->action == NGX_HTTP_TICKET_AU_SESSIONS)
    {
        if (au->gen.len == 0
            && ngx_http_ticket_random_hex(r,
                                          NGX_HTTP_TICKET_SESSION_GEN_BYTES,
                                          &au->gen)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_ticket_au_begin(r, ctx);
}


/* ---- the form ------------------------------------------------------------- */


/* NGX_OK, NGX_DECLINED (au->error says why) or NGX_ERROR. */
static ngx_int_t
ngx_http_ticket_au_check(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_int_t              n;
    ngx_str_t              login;
    ngx_http_ticket_au_t  *au;

    au = ctx->view;

    if (au->action == NGX_HTTP_TICKET_AU_CREATE) {
        ngx_http_ticket_form_value(r, ctx, "login", &login);
        ngx_http_ticket_trim(&login);

        /* logins are lower case, like at sign-in */
        au->login.data = ngx_pnalloc(r->pool, login.len + 1);
        if (au->login.data == NULL) {
            return NGX_ERROR;
        }

        au->login.len = login.len;
        ngx_strlow(au->login.data, login.data, login.len);
        au->login.data[login.len] = '\0';
    }

    /* the API changes what it names; a form posts every field */
    ngx_http_ticket_admin_field(r, ctx, "name", &au->name);
    ngx_http_ticket_admin_field(r, ctx, "email", &au->email);
    ngx_http_ticket_admin_field(r, ctx, "role", &au->role);
    ngx_http_ticket_trim(&au->name);
    ngx_http_ticket_trim(&au->email);

    if (ngx_http_ticket_au_form_rights(r, ctx) != NGX_OK) {
        return au->error ? NGX_DECLINED : NGX_ERROR;
    }

    if (au->action == NGX_HTTP_TICKET_AU_CREATE
        && !tk_valid_login(ngx_ticket_str(&au->login)))
    {
        au->error =
            ngx_http_ticket_msg(ctx,
                TK_MSG_ADMIN_USERS_WRITE_THE_LOGIN_MUST_BE_1_TO_64);
        return NGX_DECLINED;
    }

    if (au->action == NGX_HTTP_TICKET_AU_CREATE
        && ((au->user && au->user->nelem)
            || (au->login.len == 3
                && ngx_strncmp(au->login.data, "new", 3) == 0)))
    {
        au->error =
            ngx_http_ticket_msg(ctx,
                TK_MSG_ADMIN_USERS_WRITE_THERE_IS_AN_ACCOUNT_WITH_THIS);
        return NGX_DECLINED;
    }

    n = ngx_http_ticket_text_chars(&au->name, 0);

    if (n < 1 || n > NGX_HTTP_TICKET_AU_NAME_MAX) {
        au->error =
            ngx_http_ticket_msg(ctx, TK_MSG_PROFILE_THE_NAME_MUST_BE_1_TO_100);
        return NGX_DECLINED;
    }

    if (!ngx_http_ticket_valid_email(&au->email)) {
        au->error =
            ngx_http_ticket_msg(ctx,
                                TK_MSG_PROFILE_THAT_IS_NOT_AN_EMAIL_ADDRESS);
        return NGX_DECLINED;
    }

    if (!(au->role.len == 5 && ngx_strncmp(au->role.data, "agent", 5) == 0)
        && !ngx_http_ticket_au_is_admin(&au->role))
    {
        au->error =
            ngx_http_ticket_msg(ctx,
                                TK_MSG_ADMIN_USERS_WRITE_ROLE_AGENT_OR_ADMIN);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The rights come as one field per existing group, "r.NAME" = none,
 * read or full; they become "NAME:full,OTHER:read" in group order.  Only
 * groups that exist can be named this way (the transaction checks again
 * that they still do).
 */
static ngx_int_t
ngx_http_ticket_au_form_rights(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    u_char                *p, *name;
    size_t                 len;
    ngx_int_t              rc, right;
    ngx_str_t              value;
    ngx_uint_t             i;
    ngx_http_ticket_au_t  *au;

    au = ctx->view;

    /* the API's PATCH without any "r.GROUP": the rights stay */
    if (ctx->api && au->action == NGX_HTTP_TICKET_AU_SAVE
        && !(ctx->form.len >= 2 && ngx_strncmp(ctx->form.data, "r.", 2) == 0)
        && ngx_strlcasestrn(ctx->form.data, ctx->form.data + ctx->form.len,
                            (u_char *) "&r.", 3 - 1) == NULL)
    {
        return NGX_OK;
    }

    len = 0;

    for (i = 0; i < au->ngroups; i++) {
        len += au->groups[i].len + sizeof(":full,");
    }

    p = ngx_pnalloc(r->pool, len + 1);
    name = ngx_pnalloc(r->pool, TK_KEY_MAX + 3);
    if (p == NULL || name == NULL) {
        return NGX_ERROR;
    }

    au->rights.data = p;

    for (i = 0; i < au->ngroups; i++) {
        if (au->groups[i].len > TK_KEY_MAX
            || !tk_valid_group(ngx_ticket_str(&au->groups[i])))
        {
            continue;
        }

        *ngx_sprintf(name, "r.%V", &au->groups[i]) = '\0';

        rc = ngx_http_ticket_form_arg(r, ctx, (char *) name, &value);

        if (rc == NGX_DECLINED
            || (value.len == 4 && ngx_strncmp(value.data, "none", 4) == 0))
        {
            continue;
        }

        right = (rc == NGX_OK) ? tk_right_parse((char *) value.data,
                                                value.len)
                               : 0;

        if (right <= TK_RIGHT_NONE) {
            au->rights.len = p - au->rights.data;
            au->error =
                ngx_http_ticket_msg(ctx,
                    TK_MSG_ADMIN_USERS_WRITE_A_RIGHT_IS_NONE_READ_OR_FULL);
            return NGX_ERROR;
        }

        if (p > au->rights.data) {
            *p++ = ',';
        }

        p = ngx_sprintf(p, "%V:%s", &au->groups[i], tk_right_name(right));
    }

    au->rights.len = p - au->rights.data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_au_check_password(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    u_char                *p;
    ngx_int_t              n;
    ngx_str_t              confirm;
    ngx_http_ticket_au_t  *au;

    au = ctx->view;

    ngx_http_ticket_form_value(r, ctx, "password", &au->password);

    /* the form repeats the password; the API need not */
    confirm = au->password;
    ngx_http_ticket_admin_field(r, ctx, "confirm", &confirm);

    /* characters, not bytes: "ä" is one */
    n = 0;

    for (p = au->password.data; p < au->password.data + au->password.len;
         p++)
    {
        if ((*p & 0xc0) != 0x80) {
            n++;
        }
    }

    if (n < NGX_HTTP_TICKET_AU_PW_MIN) {
        au->error =
            ngx_http_ticket_msg(ctx,
                TK_MSG_ADMIN_USERS_WRITE_THE_PASSWORD_MUST_BE_AT_LEAST);
        return NGX_DECLINED;
    }

    if (au->password.len > NGX_HTTP_TICKET_AU_PW_LIMIT) {
        au->error =
            ngx_http_ticket_msg(ctx,
                TK_MSG_ADMIN_USERS_WRITE_THE_PASSWORD_IS_TOO_LONG_AT);
        return NGX_DECLINED;
    }

    if (confirm.len != au->password.len
        || ngx_strncmp(confirm.data, au->password.data, confirm.len) != 0)
    {
        au->error =
            ngx_http_ticket_msg(ctx,
                TK_MSG_ADMIN_USERS_WRITE_THE_TWO_PASSWORDS_ARE_NOT_THE);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_au_hashed(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    if (ctx->password_hash.len == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: hashing a password for \"%V\" failed",
                      &((ngx_http_ticket_au_t *) ctx->view)->login);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    return ngx_http_ticket_au_post(r, ctx);
}


/* ---- the transaction -------------------------------------------------------- */

/*
 * WATCH tk:users and every account (a few dozen): the last-admin rule
 * reads all of them, and a new account must not appear meanwhile.
 */
static ngx_int_t
ngx_http_ticket_au_begin(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t             *keys;
    ngx_uint_t             i, n;
    tk_cmds_t             *reads;
    ngx_http_ticket_au_t  *au;

    au = ctx->view;

    keys = ngx_palloc(r->pool, (au->nlogins + 3) * sizeof(ngx_str_t));
    reads = ngx_http_ticket_cmds(r);
    if (keys == NULL || reads == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;
    ngx_str_set(&keys[n], TK_KEY_USERS);
    n++;
    ngx_str_set(&keys[n], TK_KEY_GROUPS);
    n++;

    for (i = 0; i <= au->nlogins; i++) {
        keys[n].data = ngx_pnalloc(r->pool, TK_KEY_MAX);
        if (keys[n].data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        keys[n].len = tk_key_user((char *) keys[n].data, TK_KEY_MAX,
                                  ngx_ticket_str(i < au->nlogins
                                                 ? &au->logins[i]
                                                 : &au->login));
        if (keys[n].len == 0) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        n++;
    }

    tk_cmds_add(reads, "SMEMBERS " TK_KEY_USERS);
    tk_cmds_add(reads, "SMEMBERS " TK_KEY_GROUPS);
    tk_cmds_add(reads, "EXISTS %S", ngx_ticket_str(&keys[n - 1]));

    for (i = 0; i < au->nlogins; i++) {
        tk_cmds_add(reads, "HMGET %S " TK_F_ROLE " " TK_F_DISABLED,
                    ngx_ticket_str(&keys[2 + i]));
    }

    if (reads->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_tx_begin(r, ctx, keys, n, reads,
                                    ngx_http_ticket_au_decide);
}


/*
 * The watched data is in: decide against it.  An account added since
 * the first read is not watched yet: read everything again.
 */
static ngx_int_t
ngx_http_ticket_au_decide(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                   *p, *end, *comma, *colon;
    ngx_str_t                 g, role, disabled;
    ngx_flag_t                exists, self, admin, off;
    ngx_uint_t                i, admins, admins_after;
    tk_cmds_t                *writes;
    ngx_http_ticket_au_t     *au;
    ngx_http_ticket_reply_t  *rep;

    au = ctx->view;
    rep = ctx->replies;

    if (ctx->nreplies != NGX_HTTP_TICKET_AU_TX_FIRST + au->nlogins
        || rep[NGX_HTTP_TICKET_AU_TX_USERS].type != REDIS_REPLY_ARRAY
        || rep[NGX_HTTP_TICKET_AU_TX_GROUPS].type != REDIS_REPLY_ARRAY
        || rep[NGX_HTTP_TICKET_AU_TX_TARGET].type != REDIS_REPLY_INTEGER)
    {
        ngx_http_ticket_tx_abort(r, ctx);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    if (rep[NGX_HTTP_TICKET_AU_TX_USERS].nelem != au->nlogins) {
        ngx_http_ticket_tx_abort(r, ctx);

        if (++ctx->tx_retries >= NGX_HTTP_TICKET_ADMIN_TX_RETRIES) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_CONFLICT, NULL);
        }

        return ngx_http_ticket_au_read(r, ctx);
    }

    exists = rep[NGX_HTTP_TICKET_AU_TX_TARGET].integer == 1;

    if (au->action == NGX_HTTP_TICKET_AU_CREATE && exists) {
        return ngx_http_ticket_au_refuse(r, ctx,
                                         TK_MSG_ADMIN_USERS_WRITE_LOGIN_EXISTS);
    }

    if (au->action != NGX_HTTP_TICKET_AU_CREATE && !exists) {
        ngx_http_ticket_tx_abort(r, ctx);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    /* every group named must still exist */
    p = au->rights.data;
    end = p;

    if (au->action == NGX_HTTP_TICKET_AU_CREATE
        || au->action == NGX_HTTP_TICKET_AU_SAVE)
    {
        end = p + au->rights.len;
    }

    while (p < end) {
        comma = ngx_strlchr(p, end, ',');
        comma = comma ? comma : end;
        colon = ngx_strlchr(p, comma, ':');

        g.data = p;
        g.len = (colon ? colon : comma) - p;

        if (!ngx_http_ticket_set_has(&rep[NGX_HTTP_TICKET_AU_TX_GROUPS], &g))
        {
            return ngx_http_ticket_au_refuse(r, ctx,
                                       TK_MSG_ADMIN_USERS_WRITE_GROUP_REMOVED);
        }

        p = comma + 1;
    }

    /* at least one active admin must remain */
    admins = 0;
    admins_after = 0;

    for (i = 0; i < au->nlogins; i++) {
        if (rep[NGX_HTTP_TICKET_AU_TX_FIRST + i].type != REDIS_REPLY_ARRAY
            || rep[NGX_HTTP_TICKET_AU_TX_FIRST + i].nelem != 2)
        {
            continue;
        }

        ngx_http_ticket_reply_str(
            &rep[NGX_HTTP_TICKET_AU_TX_FIRST + i].element[0], &role);
        ngx_http_ticket_reply_str(
            &rep[NGX_HTTP_TICKET_AU_TX_FIRST + i].element[1], &disabled);

        admin = ngx_http_ticket_au_is_admin(&role);
        off = ngx_http_ticket_flag_on(&disabled);

        admins += (admin && !off);

        if (au->logins[i].len == au->login.len
            && ngx_strncmp(au->logins[i].data, au->login.data,
                           au->login.len) == 0)
        {
            if (au->action == NGX_HTTP_TICKET_AU_SAVE) {
                admin = ngx_http_ticket_au_is_admin(&au->role);

            } else if (au->action == NGX_HTTP_TICKET_AU_DISABLE) {
                off = 1;

            } else if (au->action == NGX_HTTP_TICKET_AU_ENABLE) {
                off = 0;
            }
        }

        admins_after += (admin && !off);
    }

    if (admins > 0 && admins_after == 0) {
        return ngx_http_ticket_au_refuse(r, ctx,
                                         TK_MSG_ADMIN_USERS_WRITE_LAST_ADMIN);
    }

    writes = ngx_http_ticket_cmds(r);
    if (writes == NULL) {
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    self = (au->login.len == ctx->user.login.len
            && ngx_strncmp(au->login.data, ctx->user.login.data,
                           au->login.len) == 0);

    ngx_http_ticket_au_writes(r, ctx, writes);

    /* a new generation ends the user's sessions -- not the one asking */
    if (self && au->gen.len && ctx->sid.len) {
        tk_cmds_add(writes, "HSET " TK_FMTS_SESSION " " TK_F_GEN " %S",
                    ngx_ticket_str(&ctx->sid), ngx_ticket_str(&au->gen));
    }

    if (writes->failed) {
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_tx_commit(r, ctx, writes,
                                     ngx_http_ticket_au_committed);
}


/* Refused against the stored data: the page again, nothing written. */
static ngx_int_t
ngx_http_ticket_au_refuse(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    int id)
{
    ngx_http_ticket_au_t  *au;

    au = ctx->view;

    ngx_http_ticket_tx_abort(r, ctx);

    au->error = ngx_http_ticket_msg(ctx, id);

    return ngx_http_ticket_au_form(r, ctx, NGX_HTTP_BAD_REQUEST);
}


/*
 * Names, rights and disabled accounts are part of rendered pages (owner
 * choice, history names), so those writes bump the page cache's
 * generation in the same MULTI (docs/architecture.md "Page cache").
 */
static void
ngx_http_ticket_au_writes(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    tk_cmds_t *w)
{
    tk_str_t              *login;
    ngx_http_ticket_au_t  *au;

    au = ctx->view;
    login = ngx_ticket_str(&au->login);

    switch (au->action) {

    case NGX_HTTP_TICKET_AU_CREATE:
        tk_cmds_add(w, "HSET " TK_FMTS_USER " " TK_F_LOGIN " %S " TK_F_NAME
                    " %S " TK_F_EMAIL " %S " TK_F_ROLE " %S " TK_F_RIGHTS
                    " %S " TK_F_LANG " de " TK_F_DISABLED " 0 " TK_F_CREATED
                    " %lld " TK_F_PASSWORD " %S", login, login,
                    ngx_ticket_str(&au->name), ngx_ticket_str(&au->email),
                    ngx_ticket_str(&au->role), ngx_ticket_str(&au->rights),
                    (long long) ngx_time(),
                    ngx_ticket_str(&ctx->password_hash));
        tk_cmds_add(w, "SADD " TK_KEY_USERS " %S", login);
        tk_index_touch(w);
        break;

    case NGX_HTTP_TICKET_AU_SAVE:
        tk_cmds_add(w, "HSET " TK_FMTS_USER " " TK_F_NAME " %S " TK_F_EMAIL
                    " %S " TK_F_ROLE " %S " TK_F_RIGHTS " %S", login,
                    ngx_ticket_str(&au->name), ngx_ticket_str(&au->email),
                    ngx_ticket_str(&au->role), ngx_ticket_str(&au->rights));
        tk_index_touch(w);
        break;

    case NGX_HTTP_TICKET_AU_DISABLE:
    case NGX_HTTP_TICKET_AU_ENABLE:
        tk_cmds_add(w, "HSET " TK_FMTS_USER " " TK_F_DISABLED " %s", login,
                    au->action == NGX_HTTP_TICKET_AU_DISABLE ? "1" : "0");
        tk_index_touch(w);
        break;

    case NGX_HTTP_TICKET_AU_PASSWORD:
        tk_cmds_add(w, "HSET " TK_FMTS_USER " " TK_F_PASSWORD " %S "
                    TK_F_SESSION_GEN " %S", login,
                    ngx_ticket_str(&ctx->password_hash),
                    ngx_ticket_str(&au->gen));
        break;

    default: /* NGX_HTTP_TICKET_AU_SESSIONS */
        tk_cmds_add(w, "HSET " TK_FMTS_USER " " TK_F_SESSION_GEN " %S",
                    login, ngx_ticket_str(&au->gen));
        break;
    }
}


static ngx_int_t
ngx_http_ticket_au_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t             i;
    const char            *saved;
    ngx_http_ticket_au_t  *au;

    static const char  *names[] = {
        "", "", "", "created", "saved", "disabled", "enabled", "password",
        "sessions"
    };

    au = ctx->view;

    if (ctx->tx_conflict) {
        ctx->tx_conflict = 0;

        if (++ctx->tx_retries < NGX_HTTP_TICKET_ADMIN_TX_RETRIES) {
            return ngx_http_ticket_au_read(r, ctx);
        }

        return ngx_http_ticket_error(r, ctx, NGX_HTTP_CONFLICT, NULL);
    }

    for (i = 0; i < ctx->nreplies; i++) {
        if (ngx_http_ticket_reply_is_error(&ctx->replies[i])) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "ticket: changing the account \"%V\" failed: %V",
                          &au->login, &ctx->replies[i].str);
            return ngx_http_ticket_error(r, ctx,
                                         NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         NULL);
        }
    }

    saved = names[au->action];

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "ticket: admin \"%V\": account \"%V\" %s",
                  &ctx->user.login, &au->login, saved);

    return ngx_http_ticket_admin_back(r, "users", &au->login, saved);
}


static ngx_flag_t
ngx_http_ticket_au_is_admin(ngx_str_t *role)
{
    return role->len == 5 && ngx_strncmp(role->data, "admin", 5) == 0;
}
