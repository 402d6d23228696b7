/*
 * ngx_http_ticket_admin.h -- what the administration pages share (users,
 * groups, outbox, mail accounts; routed by ngx_http_ticket_admin.c).
 * Every entry point is reached only by an admin: the router checks the
 * role first, everyone else gets the 404 of an unknown page.
 */

#ifndef NGX_HTTP_TICKET_ADMIN_H
#define NGX_HTTP_TICKET_ADMIN_H

#include "ngx_http_ticket_views.h"

/* Attempts of one optimistic transaction before giving up (409). */
#define NGX_HTTP_TICKET_ADMIN_TX_RETRIES  5

/* rest: the path after "/admin/users", "/admin/groups", ... */
ngx_int_t ngx_http_ticket_admin_index(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
ngx_int_t ngx_http_ticket_admin_users(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *rest);
ngx_int_t ngx_http_ticket_admin_groups(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *rest);
ngx_int_t ngx_http_ticket_admin_outbox(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *rest);
ngx_int_t ngx_http_ticket_admin_mail(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *rest);
/* the shared overviews (ngx_http_ticket_admin_overviews.c) */
ngx_int_t ngx_http_ticket_admin_overviews(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *rest);

/* ---- users (ngx_http_ticket_admin_users.c, _admin_users_write.c) -------- */

typedef enum {
    NGX_HTTP_TICKET_AU_LIST = 0,
    NGX_HTTP_TICKET_AU_NEW,                     /* GET  /new          */
    NGX_HTTP_TICKET_AU_SHOW,                    /* GET  /LOGIN        */
    NGX_HTTP_TICKET_AU_CREATE,                  /* POST /new          */
    NGX_HTTP_TICKET_AU_SAVE,                    /* POST /LOGIN        */
    NGX_HTTP_TICKET_AU_DISABLE,                 /* POST /LOGIN/disable */
    NGX_HTTP_TICKET_AU_ENABLE,                  /* POST /LOGIN/enable  */
    NGX_HTTP_TICKET_AU_PASSWORD,                /* POST /LOGIN/password */
    NGX_HTTP_TICKET_AU_SESSIONS                 /* POST /LOGIN/sessions */
} ngx_http_ticket_au_e;

typedef struct {
    ngx_uint_t                 action;          /* ngx_http_ticket_au_e */
    ngx_str_t                  login;           /* the account, or typed */

    /* the first batch: tk:users, tk:groups, all-agents, the account */
    ngx_str_t                 *logins;          /* sorted */
    ngx_uint_t                 nlogins;
    ngx_str_t                 *groups;          /* sorted */
    ngx_uint_t                 ngroups;
    ngx_http_ticket_reply_t   *all_agents;
    ngx_http_ticket_reply_t   *user;            /* HGETALL, or NULL */

    /* the form, as typed or as stored */
    ngx_str_t                  name;
    ngx_str_t                  email;
    ngx_str_t                  role;
    ngx_str_t                  rights;          /* "g:full,h:read" */
    ngx_str_t                  password;
    ngx_str_t                  last_login;
    ngx_flag_t                 disabled;
    const char                *error;

    ngx_str_t                  gen;             /* new session generation */
} ngx_http_ticket_au_t;

/* The user page again (status 400 with au->error, or 200). */
ngx_int_t ngx_http_ticket_au_form(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status);
/* A POST of the user pages, after the first batch is in. */
ngx_int_t ngx_http_ticket_au_post(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
/* Start again from the first batch (after a WATCH conflict). */
ngx_int_t ngx_http_ticket_au_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* Sorted copy of the strings of a SMEMBERS reply, in r->pool. */
ngx_int_t ngx_http_ticket_admin_members(ngx_http_request_t *r,
    ngx_http_ticket_reply_t *set, ngx_str_t **out, ngx_uint_t *n);
/* A field of a posted admin form; for the API (ctx->api) a field not
 * sent keeps *value (the stored one), so a PATCH names only changes. */
void ngx_http_ticket_admin_field(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *name, ngx_str_t *value);
/* 303 to base_url + "admin/" + what + "?saved=" + saved (the API: JSON
 * {"done": saved, "name": name}). */
ngx_int_t ngx_http_ticket_admin_back(ngx_http_request_t *r,
    const char *what, ngx_str_t *name, const char *saved);

#endif /* NGX_HTTP_TICKET_ADMIN_H */
