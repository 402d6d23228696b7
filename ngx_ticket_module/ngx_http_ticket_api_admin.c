/*
 * ngx_http_ticket_api_admin.c -- "/api/v1/admin/...": the admin pages
 * for scripts, admins only (everyone else: the 404 of an unknown URL).
 *
 *   GET   /api/v1/admin/users               accounts
 *   GET   /api/v1/admin/users/LOGIN         one account
 *   POST  /api/v1/admin/users               create (login, name, ...)
 *   PATCH /api/v1/admin/users/LOGIN         name, email, role, r.GROUP
 *   POST  /api/v1/admin/users/LOGIN/disable (enable, password, sessions)
 *   GET   /api/v1/admin/groups              groups
 *   POST  /api/v1/admin/groups              create
 *   PATCH /api/v1/admin/groups/NAME         email, display_name, ...
 *   GET   /api/v1/admin/outbox              the outbound queue
 *   GET   /api/v1/admin/mail                IMAP accounts' last poll
 *   GET   /api/v1/admin/quarantine          mails not taken in
 *
 * Writes run the admin pages' own handlers on the JSON turned into
 * their form (ngx_http_ticket_api_form): the same checks, the same
 * transactions and write paths (tk_group_write for groups).  Reads are
 * plain lists of the hashes the pages show, one round trip for the
 * names and one for the hashes.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_admin.h"
#include "ngx_http_ticket_api_json.h"
#include "ngx_http_ticket_compose.h"


#define NGX_HTTP_TICKET_API_ADMIN_MAX  200


/* A list: where the names are, the hash of each, its fields. */
typedef struct {
    const char                *path;        /* below /api/v1/admin */
    const char                *names;       /* command giving the names */
    const char                *hash;        /* %S: one name */
    const char                *id;          /* the name's member */
    int                      (*valid)(const tk_str_t *name);
                                            /* GET .../NAME; NULL: none */
    const char                *fields[10];
} ngx_http_ticket_api_list_def_t;


typedef struct {
    const ngx_http_ticket_api_list_def_t  *def;
    ngx_str_t                  one;         /* GET .../NAME: that one */
    ngx_http_ticket_reply_t   *names;
} ngx_http_ticket_api_admin_t;


static const ngx_http_ticket_api_list_def_t  ngx_http_ticket_api_lists[] = {
    { "/users", "SMEMBERS " TK_KEY_USERS, "HMGET " TK_FMTS_USER, "login",
      tk_valid_login, { TK_F_NAME, TK_F_EMAIL, TK_F_ROLE, TK_F_RIGHTS, TK_F_DISABLED,
        TK_F_LAST_LOGIN, TK_F_LANG, NULL } },
    { "/groups", "SMEMBERS " TK_KEY_GROUPS, "HMGET " TK_FMTS_GROUP, "name",
      tk_valid_group, { TK_F_EMAIL, TK_F_DISPLAY_NAME, TK_F_SIGNATURE, TK_F_ALL_AGENTS,
        TK_F_PGP_SIGN, NULL } },
    { "/mail", "SMEMBERS " TK_KEY_MAILBOXES, "HMGET " TK_FMTS_MAILBOX,
      "name", NULL,
      { TK_F_URL, TK_F_LAST_POLL, TK_F_LAST_OK, TK_F_FETCHED, TK_F_LAST_ERROR,
        NULL } },
    { "/quarantine", "ZREVRANGE " TK_KEY_QUARANTINE " 0 99",
      "HMGET " TK_FMTS_QUARANTINE, "id", NULL,
      { TK_F_REASON, TK_F_TIME, TK_F_SOURCE, TK_F_SIZE, NULL } },
    { NULL, NULL, NULL, NULL, NULL, { NULL } }
};


static ngx_int_t ngx_http_ticket_api_admin_write(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *rest);
static ngx_int_t ngx_http_ticket_api_admin_list(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const ngx_http_ticket_api_list_def_t *def,
    ngx_str_t *one);
static ngx_int_t ngx_http_ticket_api_admin_names(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_api_admin_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_api_admin_outbox(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_api_admin_outbox_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);


/* rest: "/admin..." below "/api/v1". */
ngx_int_t
ngx_http_ticket_api_admin(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_str_t *rest)
{
    size_t                                 len;
    ngx_str_t                              sub, one;
    const ngx_http_ticket_api_list_def_t  *def;

    if (!ctx->user.admin) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    sub.data = rest->data + 6;
    sub.len = rest->len - 6;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_api_admin_write(r, ctx, &sub);
    }

    if (sub.len == 7 && ngx_strncmp(sub.data, "/outbox", 7) == 0) {
        return ngx_http_ticket_api_admin_outbox(r, ctx);
    }

    for (def = ngx_http_ticket_api_lists; def->path; def++) {
        len = ngx_strlen(def->path);

        if (sub.len < len || ngx_strncmp(sub.data, def->path, len) != 0) {
            continue;
        }

        if (sub.len == len) {
            ngx_str_null(&one);
            return ngx_http_ticket_api_admin_list(r, ctx, def, &one);
        }

        /* users and groups: one of them */
        one.data = sub.data + len + 1;
        one.len = sub.len - len - 1;

        if (sub.data[len] == '/' && def->valid
            && def->valid(ngx_ticket_str(&one)))
        {
            return ngx_http_ticket_api_admin_list(r, ctx, def, &one);
        }

        break;
    }

    return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
}


/*
 * The writes are the admin pages' POSTs: "/users" is "/users/new",
 * PATCH is POST.  The page's handler then routes, checks and answers
 * (in JSON, as ctx->api is set: ngx_http_ticket_admin_back and the
 * forms' error paths).
 */
static ngx_int_t
ngx_http_ticket_api_admin_write(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *sub)
{
    u_char       *p;
    const char   *field, *message, **known;

    static const char  *users[] = {
        "login", "name", "email", "role", "password", "confirm", "r.*", NULL
    };
    static const char  *groups[] = {
        "name", "email", "display_name", "signature", "all_agents", NULL
    };

    if (r->method != NGX_HTTP_POST && r->method != NGX_HTTP_PATCH) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    if (sub->len >= 6 && ngx_strncmp(sub->data, "/users", 6) == 0) {
        known = users;

    } else if (sub->len >= 7 && ngx_strncmp(sub->data, "/groups", 7) == 0) {
        known = groups;

    } else {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (ngx_http_ticket_api_form(r, ctx, known, &field, &message) != NGX_OK) {
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_BAD_REQUEST,
                                                  field, message);
    }

    /* "/admin" + sub, and "/new" after a bare collection */
    p = ngx_pnalloc(r->pool, sub->len + sizeof("/admin/new"));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->path.data = p;
    p = ngx_cpymem(p, "/admin", 6);
    p = ngx_cpymem(p, sub->data, sub->len);

    if (sub->len == 6 || sub->len == 7) {
        if (r->method != NGX_HTTP_POST) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
        }

        p = ngx_cpymem(p, "/new", 4);
    }

    ctx->path.len = p - ctx->path.data;

    /* the pages know POST only; a PATCH is their "save" */
    r->method = NGX_HTTP_POST;

    return ngx_http_ticket_admin(r, ctx);
}


/* ---- lists ---------------------------------------------------------------- */

static ngx_int_t
ngx_http_ticket_api_admin_list(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const ngx_http_ticket_api_list_def_t *def,
    ngx_str_t *one)
{
    tk_cmds_t                    *cmds;
    ngx_http_ticket_api_admin_t  *aa;

    aa = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_api_admin_t));
    if (aa == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    aa->def = def;
    aa->one = *one;
    ctx->view = aa;

    if (one->len) {
        ctx->nreplies = 0;
        return ngx_http_ticket_api_admin_names(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, def->names);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_api_admin_names);
}


/* The names are in (or it is one): an HMGET of the fields for each. */
static ngx_int_t
ngx_http_ticket_api_admin_names(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    u_char                       *p, *end;
    ngx_str_t                     name;
    ngx_uint_t                    i, n;
    tk_cmds_t                    *cmds;
    const char           *const *f;
    ngx_http_ticket_api_admin_t  *aa;

    aa = ctx->view;

    if (aa->one.len == 0) {
        if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_ARRAY) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        aa->names = &ctx->replies[0];
    }

    n = aa->one.len ? 1 : ngx_min(aa->names->nelem,
                                  NGX_HTTP_TICKET_API_ADMIN_MAX);

    if (n == 0) {
        ctx->nreplies = 0;
        return ngx_http_ticket_api_admin_send(r, ctx);
    }

    /* "HMGET KEY f1 f2 ...": the key from the name, then the fields */
    p = ngx_pnalloc(r->pool, 256);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    end = ngx_cpymem(p, aa->def->hash, ngx_strlen(aa->def->hash));

    for (f = aa->def->fields; *f; f++) {
        *end++ = ' ';
        end = ngx_cpymem(end, *f, ngx_strlen(*f));
    }

    *end = '\0';

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (aa->one.len) {
            name = aa->one;

        } else {
            ngx_http_ticket_reply_str(&aa->names->element[i], &name);
        }

        tk_cmds_add(cmds, (char *) p, ngx_ticket_str(&name));
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_api_admin_send);
}


/*
 * {"users":[{"login":...,"name":...}, ...],"total":N}; one of them is
 * the object alone (404 when it has none of the fields: no such one).
 */
static ngx_int_t
ngx_http_ticket_api_admin_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_out_t                      out;
    ngx_str_t                     name, v;
    ngx_uint_t                    i, k, set;
    ngx_http_ticket_reply_t      *rep;
    ngx_http_ticket_api_admin_t  *aa;

    aa = ctx->view;

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (aa->one.len == 0) {
        tk_out_cstr(&out, "{");
        tk_out_json(&out, aa->def->path + 1, ngx_strlen(aa->def->path + 1));
        tk_out_cstr(&out, ":[");
    }

    for (i = 0; i < ctx->nreplies; i++) {
        rep = &ctx->replies[i];

        if (rep->type != REDIS_REPLY_ARRAY) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (aa->one.len) {
            name = aa->one;

        } else {
            ngx_http_ticket_reply_str(&aa->names->element[i], &name);
        }

        tk_out_cstr(&out, i ? ",\n{" : "\n{");
        ngx_http_ticket_api_str(&out, aa->def->id, ngx_ticket_str(&name), 0);

        set = 0;

        for (k = 0; aa->def->fields[k] && k < rep->nelem; k++) {
            ngx_http_ticket_reply_str(&rep->element[k], &v);
            set += (rep->element[k].type == REDIS_REPLY_STRING);

            tk_out_cstr(&out, ",");
            ngx_http_ticket_api_str(&out, aa->def->fields[k],
                                    ngx_ticket_str(&v), 1);
        }

        tk_out_cstr(&out, "}");

        if (aa->one.len && set == 0) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
        }
    }

    if (aa->one.len == 0) {
        tk_out_cstr(&out, "],\"total\":");
        tk_out_uint(&out, aa->names->nelem);
        tk_out_cstr(&out, "}");
    }

    tk_out_cstr(&out, "\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}


/* ---- the outbox ------------------------------------------------------------ */

/* The queue's length and its oldest entries, as the stream has them. */
static ngx_int_t
ngx_http_ticket_api_admin_outbox(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t  *cmds;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "XLEN " TK_KEY_OUTBOX);
    tk_cmds_add(cmds, "XRANGE " TK_KEY_OUTBOX " - + COUNT %d",
                NGX_HTTP_TICKET_API_ADMIN_MAX);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_api_admin_outbox_send);
}


/* {"outbox":[{"id":"1-0","FIELD":"VALUE",...}],"total":N} */
static ngx_int_t
ngx_http_ticket_api_admin_outbox_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_out_t                  out;
    ngx_str_t                 v;
    ngx_uint_t                i, k;
    ngx_http_ticket_reply_t  *range, *e, *kv;

    if (ctx->nreplies != 2 || ctx->replies[0].type != REDIS_REPLY_INTEGER
        || ctx->replies[1].type != REDIS_REPLY_ARRAY)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    range = &ctx->replies[1];

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_out_cstr(&out, "{\"outbox\":[");

    for (i = 0; i < range->nelem; i++) {
        e = &range->element[i];

        if (e->type != REDIS_REPLY_ARRAY || e->nelem != 2
            || e->element[1].type != REDIS_REPLY_ARRAY)
        {
            continue;
        }

        ngx_http_ticket_reply_str(&e->element[0], &v);
        tk_out_cstr(&out, i ? ",\n{" : "\n{");
        ngx_http_ticket_api_str(&out, "id", ngx_ticket_str(&v), 0);

        kv = &e->element[1];

        for (k = 0; k + 1 < kv->nelem; k += 2) {
            ngx_http_ticket_reply_str(&kv->element[k], &v);
            tk_out_cstr(&out, ",");
            tk_out_json(&out, v.data, v.len);
            tk_out_cstr(&out, ":");
            ngx_http_ticket_reply_str(&kv->element[k + 1], &v);
            tk_out_json(&out, v.data, v.len);
        }

        tk_out_cstr(&out, "}");
    }

    tk_out_cstr(&out, "],\"total\":");
    tk_out_uint(&out, (ngx_uint_t) ctx->replies[0].integer);
    tk_out_cstr(&out, "}\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}
