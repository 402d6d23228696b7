/*
 * ngx_http_ticket_admin_users.c -- "/admin/users": the accounts (list,
 * one account's page, the form for a new one).  What the forms post is
 * checked and written in ngx_http_ticket_admin_users_write.c.
 *
 *   GET  /admin/users                  list
 *   GET  /admin/users/new              form for a new account
 *   POST /admin/users/new              create it
 *   GET  /admin/users/LOGIN            the account's page
 *   POST /admin/users/LOGIN            name, email, role, rights
 *   POST /admin/users/LOGIN/disable    (and /enable, /password, /sessions)
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_admin.h"
#include "ngx_http_ticket_compose.h"
#include "tk_tpl.h"


#define NGX_HTTP_TICKET_AU_FIELDS                                            \
    TK_F_NAME " " TK_F_EMAIL " " TK_F_ROLE " " TK_F_RIGHTS " "               \
    TK_F_DISABLED " " TK_F_LAST_LOGIN
#define NGX_HTTP_TICKET_AU_NFIELDS     6


static ngx_int_t ngx_http_ticket_au_route(ngx_http_request_t *r,
    ngx_http_ticket_au_t *au, ngx_str_t *rest);
static ngx_int_t ngx_http_ticket_au_loaded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_au_list(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_au_list_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_au_rights(ngx_http_request_t *r,
    ngx_http_ticket_au_t *au, ngx_uint_t lang, ngx_str_t *rights,
    tk_tpl_admin_users_rows_rights_t **out, size_t *n);
static void ngx_http_ticket_au_list_body(tk_out_t *out, void *data);
static void ngx_http_ticket_au_form_body(tk_out_t *out, void *data);
static ngx_int_t ngx_http_ticket_au_flash(ngx_http_request_t *r,
    int lang, tk_str_t *flash);
static ngx_int_t ngx_http_ticket_au_url(ngx_http_request_t *r,
    ngx_str_t *login, const char *what, tk_str_t *url);
static ngx_int_t ngx_http_ticket_cmp_str(const void *one, const void *two);


ngx_int_t
ngx_http_ticket_admin_users(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_str_t *rest)
{
    ngx_int_t              rc;
    ngx_http_ticket_au_t  *au;

    au = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_au_t));
    if (au == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_ticket_au_route(r, au, rest);
    if (rc != NGX_OK) {
        return ngx_http_ticket_error(r, ctx, rc, NULL);
    }

    /* a form without the session's token: nothing is read or written */
    if (r->method == NGX_HTTP_POST
        && ngx_http_ticket_check_csrf(r, ctx) != NGX_OK)
    {
        return ngx_http_ticket_csrf_refused(r, ctx);
    }

    ctx->view = au;

    return ngx_http_ticket_au_read(r, ctx);
}


/* Which page or action; an HTTP status when there is none. */
static ngx_int_t
ngx_http_ticket_au_route(ngx_http_request_t *r, ngx_http_ticket_au_t *au,
    ngx_str_t *rest)
{
    u_char      *slash;
    ngx_str_t    what;
    ngx_flag_t   post;
    ngx_uint_t   i;

    static const struct {
        const char  *name;
        ngx_uint_t   action;
    } actions[] = {
        { "disable", NGX_HTTP_TICKET_AU_DISABLE },
        { "enable", NGX_HTTP_TICKET_AU_ENABLE },
        { "password", NGX_HTTP_TICKET_AU_PASSWORD },
        { "sessions", NGX_HTTP_TICKET_AU_SESSIONS },
        { NULL, 0 }
    };

    post = (r->method == NGX_HTTP_POST);

    if (!post && !(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (rest->len == 0) {
        au->action = NGX_HTTP_TICKET_AU_LIST;
        return post ? NGX_HTTP_NOT_ALLOWED : NGX_OK;
    }

    if (rest->data[0] != '/' || rest->len == 1) {
        return NGX_HTTP_NOT_FOUND;
    }

    au->login.data = rest->data + 1;
    au->login.len = rest->len - 1;
    ngx_str_null(&what);

    slash = ngx_strlchr(au->login.data, au->login.data + au->login.len, '/');

    if (slash) {
        what.data = slash + 1;
        what.len = au->login.data + au->login.len - what.data;
        au->login.len = slash - au->login.data;
    }

    if (what.len == 0 && slash == NULL && au->login.len == 3
        && ngx_strncmp(au->login.data, "new", 3) == 0)
    {
        ngx_str_null(&au->login);
        au->action = post ? NGX_HTTP_TICKET_AU_CREATE : NGX_HTTP_TICKET_AU_NEW;
        return NGX_OK;
    }

    if (!tk_valid_login(ngx_ticket_str(&au->login))) {
        return NGX_HTTP_NOT_FOUND;
    }

    if (slash == NULL) {
        au->action = post ? NGX_HTTP_TICKET_AU_SAVE : NGX_HTTP_TICKET_AU_SHOW;
        return NGX_OK;
    }

    for (i = 0; actions[i].name; i++) {
        if (what.len == ngx_strlen(actions[i].name)
            && ngx_strncmp(what.data, actions[i].name, what.len) == 0)
        {
            au->action = actions[i].action;
            return post ? NGX_OK : NGX_HTTP_NOT_ALLOWED;
        }
    }

    return NGX_HTTP_NOT_FOUND;
}


/*
 * Every page and action starts with the accounts, the groups and the
 * account concerned; writes start here again after a WATCH conflict.
 */
ngx_int_t
ngx_http_ticket_au_read(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t             *cmds;
    ngx_http_ticket_au_t  *au;

    au = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_USERS);
    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_GROUPS);
    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_GROUPS_ALL);

    if (au->login.len) {
        tk_cmds_add(cmds, "HGETALL " TK_FMTS_USER,
                    ngx_ticket_str(&au->login));
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_au_loaded);
}


static ngx_int_t
ngx_http_ticket_au_loaded(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t              value;
    ngx_uint_t             want;
    ngx_http_ticket_au_t  *au;

    au = ctx->view;
    want = au->login.len ? 4 : 3;

    if (ctx->nreplies != want || ctx->replies[0].type != REDIS_REPLY_ARRAY
        || ctx->replies[1].type != REDIS_REPLY_ARRAY
        || ctx->replies[2].type != REDIS_REPLY_ARRAY
        || (want == 4 && ctx->replies[3].type != REDIS_REPLY_ARRAY))
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    if (ngx_http_ticket_admin_members(r, &ctx->replies[0], &au->logins,
                                      &au->nlogins) != NGX_OK
        || ngx_http_ticket_admin_members(r, &ctx->replies[1], &au->groups,
                                         &au->ngroups) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    au->all_agents = &ctx->replies[2];
    au->user = NULL;

    if (want == 4) {
        au->user = &ctx->replies[3];

        if (au->user->nelem == 0) {
            if (au->action != NGX_HTTP_TICKET_AU_CREATE) {
                return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                             NULL);
            }

        } else if (au->action != NGX_HTTP_TICKET_AU_CREATE) {
            /* the stored values, unless a form brings others */
            ngx_http_ticket_reply_value(au->user, TK_F_NAME, &au->name);
            ngx_http_ticket_reply_value(au->user, TK_F_EMAIL, &au->email);
            ngx_http_ticket_reply_value(au->user, TK_F_ROLE, &au->role);
            ngx_http_ticket_reply_value(au->user, TK_F_RIGHTS, &au->rights);
            ngx_http_ticket_reply_value(au->user, TK_F_LAST_LOGIN,
                                        &au->last_login);
            ngx_http_ticket_reply_value(au->user, TK_F_DISABLED, &value);
            au->disabled = ngx_http_ticket_flag_on(&value);
        }
    }

    switch (au->action) {

    case NGX_HTTP_TICKET_AU_LIST:
        return ngx_http_ticket_au_list(r, ctx);

    case NGX_HTTP_TICKET_AU_NEW:
        ngx_str_set(&au->role, "agent");
        /* fall through */

    case NGX_HTTP_TICKET_AU_SHOW:
        return ngx_http_ticket_au_form(r, ctx, NGX_HTTP_OK);

    default:
        return ngx_http_ticket_au_post(r, ctx);
    }
}


/* ---- the list ------------------------------------------------------------ */

static ngx_int_t
ngx_http_ticket_au_list(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t             i;
    tk_cmds_t             *cmds;
    ngx_http_ticket_au_t  *au;

    au = ctx->view;

    if (au->nlogins == 0) {
        ctx->replies = NULL;
        ctx->nreplies = 0;
        return ngx_http_ticket_au_list_render(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < au->nlogins; i++) {
        if (!tk_valid_login(ngx_ticket_str(&au->logins[i]))) {
            tk_cmds_add(cmds, "ECHO -");
            continue;
        }

        tk_cmds_add(cmds, "HMGET " TK_FMTS_USER " " NGX_HTTP_TICKET_AU_FIELDS,
                    ngx_ticket_str(&au->logins[i]));
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_au_list_render);
}


static ngx_int_t
ngx_http_ticket_au_list_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                   title, v[NGX_HTTP_TICKET_AU_NFIELDS];
    ngx_flag_t                  de;
    ngx_uint_t                  i, k;
    long long                   t;
    tk_tpl_admin_users_t       *tpl;
    tk_tpl_admin_users_rows_t  *row;
    ngx_http_ticket_au_t       *au;
    ngx_http_ticket_reply_t    *rep;

    au = ctx->view;
    de = ngx_http_ticket_lang_de(ctx);

    tpl = ngx_pcalloc(r->pool, sizeof(tk_tpl_admin_users_t));
    row = ngx_pcalloc(r->pool, (au->nlogins + 1) * sizeof(*row));
    if (tpl == NULL || row == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->de = de;
    tpl->rows = row;

    if (ngx_http_ticket_url(r, "admin", 5, &tpl->admin_url) != NGX_OK
        || ngx_http_ticket_url(r, "admin/users/new",
                               sizeof("admin/users/new") - 1, &tpl->new_url)
           != NGX_OK
        || ngx_http_ticket_au_flash(r, ngx_http_ticket_lang(ctx),
                                     &tpl->flash_ok) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < au->nlogins && i < ctx->nreplies; i++) {
        rep = &ctx->replies[i];

        if (rep->type != REDIS_REPLY_ARRAY
            || rep->nelem != NGX_HTTP_TICKET_AU_NFIELDS)
        {
            continue;
        }

        for (k = 0; k < NGX_HTTP_TICKET_AU_NFIELDS; k++) {
            ngx_http_ticket_reply_str(&rep->element[k], &v[k]);
        }

        row->login = *ngx_ticket_str(&au->logins[i]);
        row->name = *ngx_ticket_str(&v[0]);
        row->email = *ngx_ticket_str(&v[1]);
        row->role = *ngx_ticket_str(&v[2]);
        row->disabled = ngx_http_ticket_flag_on(&v[4]);

        ngx_http_ticket_cstr(&row->status,
                             row->disabled ?
                                 ngx_http_ticket_msg(ctx,
                                     TK_MSG_ADMIN_USERS_DISABLED)
                                           : ngx_http_ticket_msg(ctx,
                                                 TK_MSG_TRIGGERS_ACTIVE));

        t = tk_str_atoll(ngx_ticket_str(&v[5]));

        if (ngx_http_ticket_au_url(r, &au->logins[i], NULL, &row->url)
               != NGX_OK
            || ngx_http_ticket_au_rights(r, au, ngx_http_ticket_lang(ctx), &v[3], &row->rights,
                                         &row->rights_n) != NGX_OK
            || (t > 0
                && (ngx_http_ticket_time_str(r, t, &row->last_login) != NGX_OK
                    || ngx_http_ticket_iso_str(r, t, &row->last_login_iso)
                       != NGX_OK)))
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        row++;
        tpl->rows_n++;
    }

    title.data = (u_char *) ngx_http_ticket_msg(ctx, TK_MSG_COMMON_USERS);
    title.len = ngx_strlen(title.data);

    ctx->page = "manage";

    return ngx_http_ticket_page(r, ctx, NGX_HTTP_OK, &title,
                                ngx_http_ticket_au_list_body, tpl);
}


/* A user's rights on the existing groups, in group order. */
static ngx_int_t
ngx_http_ticket_au_rights(ngx_http_request_t *r, ngx_http_ticket_au_t *au,
    ngx_uint_t lang, ngx_str_t *rights, tk_tpl_admin_users_rows_rights_t **out,
    size_t *n)
{
    int                                right;
    ngx_uint_t                         i;
    tk_tpl_admin_users_rows_rights_t  *g;

    *n = 0;
    *out = ngx_pcalloc(r->pool, (au->ngroups + 1) * sizeof(**out));
    if (*out == NULL) {
        return NGX_ERROR;
    }

    g = *out;

    for (i = 0; i < au->ngroups; i++) {
        right = tk_rights_get(ngx_ticket_str(rights),
                              ngx_ticket_str(&au->groups[i]), 0);

        if (right <= TK_RIGHT_NONE) {
            continue;
        }

        g->group = *ngx_ticket_str(&au->groups[i]);
        ngx_http_ticket_cstr(&g->right, tk_right_name(right));
        ngx_http_ticket_cstr(&g->label,
                             right == TK_RIGHT_FULL
                             ? (tk_msg((int) lang, TK_MSG_ADMIN_USERS_FULL))
                             : (tk_msg((int) lang, TK_MSG_ADMIN_USERS_READ)));
        g++;
        (*n)++;
    }

    return NGX_OK;
}


static void
ngx_http_ticket_au_list_body(tk_out_t *out, void *data)
{
    tk_tpl_admin_users(out, data);
}


/* ---- one account, or the form for a new one ----------------------------- */

ngx_int_t
ngx_http_ticket_au_form(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_uint_t status)
{
    int                          right;
    u_char                      *p;
    ngx_str_t                    title;
    ngx_flag_t                   de, all;
    ngx_uint_t                   i;
    long long                    t;
    tk_tpl_admin_user_t         *tpl;
    tk_tpl_admin_user_groups_t  *g;
    ngx_http_ticket_au_t        *au;

    au = ctx->view;
    de = ngx_http_ticket_lang_de(ctx);

    /* the API: a refused write is a JSON error (the account: GET) */
    if (ctx->api) {
        return ngx_http_ticket_compose_json_error(r, status == NGX_HTTP_OK
                                                  ? NGX_HTTP_NOT_FOUND
                                                  : 422, NULL,
                                                  au->error ? au->error
                                                            : "refused");
    }

    tpl = ngx_pcalloc(r->pool, sizeof(tk_tpl_admin_user_t));
    g = ngx_pcalloc(r->pool, (au->ngroups + 1) * sizeof(*g));
    if (tpl == NULL || g == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->de = de;
    tpl->csrf = *ngx_ticket_str(&ctx->csrf);
    tpl->is_new = (au->action == NGX_HTTP_TICKET_AU_NEW
                   || au->action == NGX_HTTP_TICKET_AU_CREATE);
    tpl->login = *ngx_ticket_str(&au->login);
    tpl->name = *ngx_ticket_str(&au->name);
    tpl->email = *ngx_ticket_str(&au->email);
    tpl->role_admin = (au->role.len == 5
                       && ngx_strncmp(au->role.data, "admin", 5) == 0);
    tpl->disabled = au->disabled;
    tpl->groups = g;

    if (au->error) {
        ngx_http_ticket_cstr(&tpl->flash_error, au->error);

    } else if (ngx_http_ticket_au_flash(r, ngx_http_ticket_lang(ctx),
                                     &tpl->flash_ok) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t = tk_str_atoll(ngx_ticket_str(&au->last_login));

    if (t > 0 && ngx_http_ticket_time_str(r, t, &tpl->last_login) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_ticket_url(r, "admin/users", sizeof("admin/users") - 1,
                            &tpl->list_url) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (tpl->is_new) {
        if (ngx_http_ticket_url(r, "admin/users/new",
                                sizeof("admin/users/new") - 1, &tpl->action)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (ngx_http_ticket_au_url(r, &au->login, NULL, &tpl->action)
                   != NGX_OK
               || ngx_http_ticket_au_url(r, &au->login, "disable",
                                         &tpl->disable_url) != NGX_OK
               || ngx_http_ticket_au_url(r, &au->login, "enable",
                                         &tpl->enable_url) != NGX_OK
               || ngx_http_ticket_au_url(r, &au->login, "password",
                                         &tpl->password_url) != NGX_OK
               || ngx_http_ticket_au_url(r, &au->login, "sessions",
                                         &tpl->sessions_url) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < au->ngroups; i++) {
        p = ngx_pnalloc(r->pool, 2 * (au->groups[i].len + 4));
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        g->name = *ngx_ticket_str(&au->groups[i]);
        g->field.data = p;
        g->field.len = ngx_sprintf(p, "r.%V", &au->groups[i]) - p;
        g->id.data = p + g->field.len;
        g->id.len = ngx_sprintf(g->id.data, "ur-%ui", i) - g->id.data;

        right = tk_rights_get(ngx_ticket_str(&au->rights),
                              ngx_ticket_str(&au->groups[i]), 0);
        g->none = (right <= TK_RIGHT_NONE);
        g->read = (right == TK_RIGHT_READ);
        g->full = (right == TK_RIGHT_FULL);

        ngx_http_ticket_cstr(&g->l_none,
                             ngx_http_ticket_msg(ctx, TK_MSG_ADMIN_USERS_NONE));
        ngx_http_ticket_cstr(&g->l_read,
                             ngx_http_ticket_msg(ctx, TK_MSG_ADMIN_USERS_READ));
        ngx_http_ticket_cstr(&g->l_full,
                             ngx_http_ticket_msg(ctx, TK_MSG_ADMIN_USERS_FULL));

        all = ngx_http_ticket_set_has(au->all_agents, &au->groups[i]);

        if (all) {
            ngx_http_ticket_cstr(&g->note,
                                 ngx_http_ticket_msg(ctx,
                                     TK_MSG_ADMIN_USERS_ALL_AGENTS_FULL));
        }

        g++;
        tpl->groups_n++;
    }

    if (tpl->is_new) {
        title.data = (u_char *) ngx_http_ticket_msg(ctx,
                                                    TK_MSG_COMMON_NEW_USER);
        title.len = ngx_strlen(title.data);

    } else {
        title = au->login;
    }

    ctx->page = "manage";

    return ngx_http_ticket_page(r, ctx, status, &title,
                                ngx_http_ticket_au_form_body, tpl);
}


static void
ngx_http_ticket_au_form_body(tk_out_t *out, void *data)
{
    tk_tpl_admin_user(out, data);
}


/* "?saved=..." after a 303: what was done, in words. */
static ngx_int_t
ngx_http_ticket_au_flash(ngx_http_request_t *r, int lang,
    tk_str_t *flash)
{
    ngx_str_t   saved;
    ngx_uint_t  i;

    static const struct {
        const char  *saved;
        int          msg;
    } msgs[] = {
        { "created", TK_MSG_ADMIN_USERS_FLASH_CREATED },
        { "saved", TK_MSG_ADMIN_GROUPS_SAVED },
        { "disabled", TK_MSG_ADMIN_USERS_FLASH_DISABLED },
        { "enabled", TK_MSG_ADMIN_USERS_FLASH_ENABLED },
        { "password", TK_MSG_ADMIN_USERS_FLASH_PASSWORD },
        { "sessions", TK_MSG_ADMIN_USERS_FLASH_SESSIONS },
        { NULL, 0 }
    };

    if (ngx_http_ticket_query_arg(r, "saved", &saved) != NGX_OK) {
        return NGX_OK;
    }

    for (i = 0; msgs[i].saved; i++) {
        if (saved.len == ngx_strlen(msgs[i].saved)
            && ngx_strncmp(saved.data, msgs[i].saved, saved.len) == 0)
        {
            ngx_http_ticket_cstr(flash, tk_msg(lang, msgs[i].msg));
            break;
        }
    }

    return NGX_OK;
}


/* base_url + "admin/users/LOGIN[/what]" (logins need no escaping). */
static ngx_int_t
ngx_http_ticket_au_url(ngx_http_request_t *r, ngx_str_t *login,
    const char *what, tk_str_t *url)
{
    u_char  *p, *last;

    p = ngx_pnalloc(r->pool, sizeof("admin/users//") + login->len
                             + (what ? ngx_strlen(what) : 0));
    if (p == NULL) {
        return NGX_ERROR;
    }

    last = ngx_sprintf(p, "admin/users/%V", login);

    if (what) {
        last = ngx_sprintf(last, "/%s", what);
    }

    return ngx_http_ticket_url(r, (char *) p, last - p, url);
}


/* ---- shared by the admin pages --------------------------------------------- */

void
ngx_http_ticket_admin_field(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    const char *name, ngx_str_t *value)
{
    ngx_str_t  v;

    switch (ngx_http_ticket_form_arg(r, ctx, name, &v)) {

    case NGX_OK:
        *value = v;
        return;

    case NGX_DECLINED:
        if (ctx->api) {
            return;
        }

        /* fall through */

    default:
        ngx_str_set(value, "");
    }
}


ngx_int_t
ngx_http_ticket_admin_members(ngx_http_request_t *r,
    ngx_http_ticket_reply_t *set, ngx_str_t **out, ngx_uint_t *n)
{
    ngx_uint_t  i;

    *n = 0;
    *out = ngx_palloc(r->pool, (set->nelem + 1) * sizeof(ngx_str_t));
    if (*out == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < set->nelem; i++) {
        if (set->element[i].type == REDIS_REPLY_STRING
            && set->element[i].str.len)
        {
            (*out)[(*n)++] = set->element[i].str;
        }
    }

    ngx_sort(*out, *n, sizeof(ngx_str_t), ngx_http_ticket_cmp_str);

    return NGX_OK;
}


ngx_int_t
ngx_http_ticket_admin_back(ngx_http_request_t *r, const char *what,
    ngx_str_t *name, const char *saved)
{
    u_char                 *p, *last;
    size_t                  len;
    tk_out_t                out;
    ngx_http_ticket_ctx_t  *ctx;

    /* the API: what was done, as JSON (ngx_http_ticket_api_admin.c) */
    ctx = ngx_http_get_module_ctx(r, ngx_http_ticket_module);

    if (ctx->api) {
        if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        tk_out_cstr(&out, "{\"done\":");
        tk_out_json(&out, saved, ngx_strlen(saved));

        if (name && name->len) {
            tk_out_cstr(&out, ",\"name\":");
            tk_out_json(&out, name->data, name->len);
        }

        tk_out_cstr(&out, "}\n");

        return ngx_http_ticket_json(r, &out,
                                    ngx_strcmp(saved, "created") == 0
                                    ? NGX_HTTP_CREATED : NGX_HTTP_OK);
    }

    len = sizeof("admin//?saved=") + ngx_strlen(what) + ngx_strlen(saved)
          + (name ? name->len * 3 : 0);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = ngx_sprintf(p, "admin/%s", what);

    if (name && name->len) {
        *last++ = '/';
        last = (u_char *) ngx_escape_uri(last, name->data, name->len,
                                         NGX_ESCAPE_URI_COMPONENT);
    }

    last = ngx_sprintf(last, "?saved=%s", saved);

    return ngx_http_ticket_redirect(r, (char *) p, last - p);
}


static ngx_int_t
ngx_http_ticket_cmp_str(const void *one, const void *two)
{
    const ngx_str_t  *a = one;
    const ngx_str_t  *b = two;

    return ngx_memn2cmp(a->data, b->data, a->len, b->len);
}
