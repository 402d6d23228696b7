/*
 * ngx_http_ticket_view.c -- one ticket: "/t/N" shows it (articles with
 * their attachments and raw mail links, properties, history) with the
 * forms that change it; the changes are POSTed to "/t/N/update" and
 * "/t/N/title" (ngx_http_ticket_action.c), the files are served below
 * "/t/N/a/" (ngx_http_ticket_download.c).  How a ticket and its articles
 * are read is shared with the JSON API.
 *
 * The page's parts are filled by ngx_http_ticket_view_article.c and
 * ngx_http_ticket_view_form.c (ngx_http_ticket_view.h).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_view.h"


/* replies of the page's first batch: ngx_http_ticket_ticket_read()'s,
 * then the lists the forms need */
#define NGX_HTTP_TICKET_R_USERS        3
#define NGX_HTTP_TICKET_R_GROUPS       4
#define NGX_HTTP_TICKET_R_ALL_AGENTS   5
#define NGX_HTTP_TICKET_R_FIRST_N      6


typedef struct {
    tk_tpl_ticket_t            tpl;
} ngx_http_ticket_view_page_t;

static ngx_int_t ngx_http_ticket_view_show(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number);
static ngx_int_t ngx_http_ticket_view_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_view_raw_sizes(tk_cmds_t *cmds, uint64_t number,
    ngx_http_ticket_reply_t *ids);
static ngx_int_t ngx_http_ticket_view_parts(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_view_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_view_history(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    tk_tpl_ticket_t *tpl);
static void ngx_http_ticket_view_body(tk_out_t *out, void *data);

static ngx_int_t ngx_http_ticket_local_input(ngx_http_request_t *r,
    int64_t t, tk_str_t *str);


/* ---- routing -------------------------------------------------------------- */

/*
 * "/t/N", "/t/N/update", "/t/N/title", and the files of an article below
 * "/t/N/a/".  N is digits only; anything else is the same 404 as a
 * ticket that does not exist.
 */
ngx_int_t
ngx_http_ticket_view(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    size_t      n;
    uint64_t    number;
    ngx_str_t   rest;
    ngx_uint_t  action;

    rest.data = ctx->path.data + sizeof("/t/") - 1;
    rest.len = ctx->path.len - (sizeof("/t/") - 1);

    n = ngx_http_ticket_number(rest.data, rest.data + rest.len, &number);

    if (n == 0) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    rest.data += n;
    rest.len -= n;

    if (rest.len == 0) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
        }

        return ngx_http_ticket_view_show(r, ctx, number);
    }

    if (rest.len > 3 && ngx_strncmp(rest.data, "/a/", 3) == 0) {
        return ngx_http_ticket_download(r, ctx, number, &rest);
    }

    if (rest.len == 7 && ngx_strncmp(rest.data, "/update", 7) == 0) {
        action = NGX_HTTP_TICKET_UPDATE;

    } else if (rest.len == 6 && ngx_strncmp(rest.data, "/title", 6) == 0) {
        action = NGX_HTTP_TICKET_RENAME;

    } else {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    return ngx_http_ticket_action(r, ctx, number, action);
}


/* ---- the page ------------------------------------------------------------- */

/*
 * First batch: the ticket, its article ids, its history, and the lists
 * the forms need (users, groups, all-agents groups) -- read before the
 * rights are known because it saves a round trip and costs little.
 */
static ngx_int_t
ngx_http_ticket_view_show(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number)
{
    ngx_str_t                arg;
    tk_cmds_t               *cmds;
    ngx_http_ticket_view_t  *v;

    v = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_view_t));
    if (v == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = v;
    v->number = number;

    /* "?images=A": show article A's remote images, in this response only */
    if (ngx_http_ticket_query_arg(r, "images", &arg) == NGX_OK
        && ngx_http_ticket_number(arg.data, arg.data + arg.len, &v->images)
           != arg.len)
    {
        v->images = 0;
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL
        || ngx_http_ticket_ticket_key(r, number, &v->key) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_ticket_ticket_read(cmds, &v->key);
    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_USERS);
    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_GROUPS);
    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_GROUPS_ALL);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_view_read);
}


/*
 * The ticket is in: check the right (none: the 404 of a missing ticket),
 * then read every article and the users that could own it.
 */
static ngx_int_t
ngx_http_ticket_view_read(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                *cmds;
    ngx_uint_t                i;
    ngx_http_ticket_view_t   *v;
    ngx_http_ticket_reply_t  *users;

    v = ctx->view;

    if (ctx->nreplies < NGX_HTTP_TICKET_R_FIRST_N) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (ngx_http_ticket_ticket_parse(r,
                                &ctx->replies[NGX_HTTP_TICKET_READ_TICKET],
                                &v->ticket))
    {
    case NGX_OK:
        break;

    case NGX_DECLINED:
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);

    default:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: %V is not a valid ticket hash", &v->key);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    v->right = ngx_http_ticket_right(ctx, (ngx_str_t *) &v->ticket.group);

    if (v->right == TK_RIGHT_NONE) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    v->history = &ctx->replies[NGX_HTTP_TICKET_READ_HISTORY];
    users = &ctx->replies[NGX_HTTP_TICKET_R_USERS];
    v->users = users;
    v->groups = &ctx->replies[NGX_HTTP_TICKET_R_GROUPS];
    v->all_agents = &ctx->replies[NGX_HTTP_TICKET_R_ALL_AGENTS];

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* replies: one HGETALL per article, one STRLEN of each raw mail,
     * then one HMGET per user */
    v->narticles = ngx_http_ticket_articles_read(cmds, v->number,
                               &ctx->replies[NGX_HTTP_TICKET_READ_ARTICLES]);
    ngx_http_ticket_view_raw_sizes(cmds, v->number,
                               &ctx->replies[NGX_HTTP_TICKET_READ_ARTICLES]);
    v->users_base = cmds->n;

    if (v->right == TK_RIGHT_FULL && users->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < users->nelem; i++) {
            if (!tk_valid_login(ngx_ticket_str(&users->element[i].str))) {
                tk_cmds_add(cmds, "ECHO -");
                continue;
            }

            tk_cmds_add(cmds, "HMGET tk:{u:%S} " TK_F_NAME " " TK_F_RIGHTS
                        " " TK_F_DISABLED, ngx_ticket_str(&users->element[i].str));
        }

    } else if (v->ticket.owner.len && tk_valid_login(&v->ticket.owner)) {
        /* read only: just the owner's name */
        tk_cmds_add(cmds, "HMGET tk:{u:%S} " TK_F_NAME " " TK_F_RIGHTS " "
                    TK_F_DISABLED, &v->ticket.owner);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cmds->n == 0) {
        ctx->nreplies = 0;
        return ngx_http_ticket_view_parts(r, ctx);
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_view_parts);
}


/*
 * STRLEN of every article's raw mail, for the ".eml" link: exactly the
 * ids ngx_http_ticket_articles_read() took, in its order, so reply
 * narticles + i belongs to article reply i.
 */
static void
ngx_http_ticket_view_raw_sizes(tk_cmds_t *cmds, uint64_t number,
    ngx_http_ticket_reply_t *ids)
{
    char        key[TK_KEY_MAX];
    size_t      len;
    long long   id;
    ngx_uint_t  i;

    if (ids->type != REDIS_REPLY_ARRAY) {
        return;
    }

    for (i = 0; i < ids->nelem; i++) {
        id = tk_str_atoll(ngx_ticket_str(&ids->element[i].str));
        if (id <= 0) {
            continue;
        }

        len = tk_key_raw(key, sizeof(key), number, (uint64_t) id);
        if (len == 0) {
            continue;
        }

        tk_cmds_add(cmds, "STRLEN %b", key, len);
    }
}


/*
 * Articles and users are in; keep them (the next batch replaces
 * ctx->replies).  An article with attachments needs their names, types
 * and sizes -- a third round trip, only for tickets that have files.
 */
static ngx_int_t
ngx_http_ticket_view_parts(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    char                         key[TK_KEY_MAX];
    size_t                       len;
    tk_cmds_t                   *cmds;
    ngx_uint_t                   i, k;
    ngx_http_ticket_reply_t     *raw;
    ngx_http_ticket_view_t      *v;
    ngx_http_ticket_view_art_t  *va;

    v = ctx->view;
    v->second = ctx->replies;
    v->nsecond = ctx->nreplies;

    v->arts = ngx_pcalloc(r->pool, (v->narticles + 1)
                                   * sizeof(ngx_http_ticket_view_art_t));
    cmds = ngx_http_ticket_cmds(r);
    if (v->arts == NULL || cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < v->narticles && v->narticles + i < v->nsecond; i++) {
        va = &v->arts[v->narts];

        switch (ngx_http_ticket_article_parse(r, &v->second[i], &va->a)) {
        case NGX_OK:
            break;

        case NGX_DECLINED:
            continue;

        default:
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "ticket: an article of ticket %uL is not valid",
                          v->number);
            continue;
        }

        raw = &v->second[v->narticles + i];
        va->raw_size = (raw->type == REDIS_REPLY_INTEGER) ? raw->integer : 0;
        va->parts = ngx_min(va->a.attachments, NGX_HTTP_TICKET_MAX_PARTS);
        va->first = cmds->n;

        for (k = 1; k <= va->parts; k++) {
            len = tk_key_attachment(key, sizeof(key), v->number, va->a.id,
                                    (unsigned) k);
            tk_cmds_add(cmds, "HMGET %b " NGX_HTTP_TICKET_PART_FIELDS, key,
                        len);
        }

        v->narts++;
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cmds->n == 0) {
        ctx->replies = NULL;
        ctx->nreplies = 0;
        return ngx_http_ticket_view_render(r, ctx);
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_view_render);
}


static ngx_int_t
ngx_http_ticket_view_render(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_flag_t                    de;
    ngx_str_t                     title;
    tk_ticket_t                  *t;
    tk_tpl_ticket_t              *tpl;
    ngx_http_ticket_view_t       *v;
    ngx_http_ticket_view_page_t  *page;

    v = ctx->view;
    t = &v->ticket;
    de = ngx_http_ticket_lang_de(ctx);

    page = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_view_page_t));
    if (page == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl = &page->tpl;

    tpl->de = de;
    tpl->can_write = (v->right == TK_RIGHT_FULL);
    tpl->csrf = *ngx_ticket_str(&ctx->csrf);
    tpl->title = t->title;
    tpl->group = t->group;
    tpl->has_owner = t->owner.len ? 1 : 0;
    tpl->owner_name = t->owner;
    tpl->owner_login = t->owner;
    tpl->customer_name = t->customer_name.len ? t->customer_name
                                              : t->customer_email;
    if (t->customer_name.len) {
        tpl->customer_email = t->customer_email;
    }

    ngx_http_ticket_state_label(ctx, t->state, &tpl->state);
    ngx_http_ticket_prio_label(ctx, t->priority, &tpl->priority);

    if (ngx_http_ticket_uint_str(r, t->number, &tpl->number) != NGX_OK
        || ngx_http_ticket_uint_str(r, t->state, &tpl->state_id) != NGX_OK
        || ngx_http_ticket_uint_str(r, t->priority, &tpl->priority_id)
           != NGX_OK
        || ngx_http_ticket_time_str(r, t->created, &tpl->created) != NGX_OK
        || ngx_http_ticket_time_str(r, t->updated, &tpl->updated) != NGX_OK
        || ngx_http_ticket_iso_str(r, t->created, &tpl->created_iso)
           != NGX_OK
        || ngx_http_ticket_iso_str(r, t->updated, &tpl->updated_iso)
           != NGX_OK
        || ngx_http_ticket_url(r, "", 0, &tpl->back_url) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (t->pending_until) {
        if (ngx_http_ticket_time_str(r, t->pending_until, &tpl->pending_label)
                != NGX_OK
            || ngx_http_ticket_local_input(r, t->pending_until,
                                           &tpl->pending_until)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    tpl->rename_url.data = ngx_pnalloc(r->pool, 2 * NGX_INT64_LEN + 32);
    tpl->update_url.data = ngx_pnalloc(r->pool, 2 * NGX_INT64_LEN + 32);
    if (tpl->rename_url.data == NULL || tpl->update_url.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->rename_url.len = ngx_sprintf(tpl->rename_url.data, "t/%uL/title",
                                      t->number) - tpl->rename_url.data;
    tpl->update_url.len = ngx_sprintf(tpl->update_url.data, "t/%uL/update",
                                      t->number) - tpl->update_url.data;

    if (ngx_http_ticket_url(r, (char *) tpl->rename_url.data,
                            tpl->rename_url.len, &tpl->rename_url) != NGX_OK
        || ngx_http_ticket_url(r, (char *) tpl->update_url.data,
                               tpl->update_url.len, &tpl->update_url)
           != NGX_OK
        || ngx_http_ticket_view_articles(r, ctx, v, tpl) != NGX_OK
        || ngx_http_ticket_view_history(r, ctx, v, tpl) != NGX_OK
        || ngx_http_ticket_view_options(r, ctx, v, tpl) != NGX_OK
        || ngx_http_ticket_view_owners(r, ctx, v, tpl) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    title.data = t->title.data;
    title.len = t->title.len;

    if (title.len == 0) {
        ngx_str_set(&title, "Ticket");
    }

    return ngx_http_ticket_page(r, ctx, NGX_HTTP_OK, &title,
                                ngx_http_ticket_view_body, page);
}


static void
ngx_http_ticket_view_body(tk_out_t *out, void *data)
{
    ngx_http_ticket_view_page_t  *page = data;

    tk_tpl_ticket(out, &page->tpl);
}


/* ---- history ---------------------------------------------------------------- */

static ngx_int_t
ngx_http_ticket_view_history(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    tk_tpl_ticket_t *tpl)
{
    ngx_uint_t                i, n;
    ngx_http_ticket_hist_t    h;
    tk_tpl_ticket_history_t  *item;

    if (v->history->type != REDIS_REPLY_ARRAY || v->history->nelem == 0) {
        return NGX_OK;
    }

    item = ngx_pcalloc(r->pool, v->history->nelem * sizeof(*item));
    if (item == NULL) {
        return NGX_ERROR;
    }

    tpl->history = item;
    n = 0;

    for (i = 0; i < v->history->nelem; i++) {

        if (ngx_http_ticket_history_parse(r, &v->history->element[i].str, &h)
            != NGX_OK)
        {
            continue;
        }

        if (ngx_http_ticket_history_text(r, ctx, &h, &item[n].text) != NGX_OK
            || ngx_http_ticket_time_str(r, h.time, &item[n].time) != NGX_OK
            || ngx_http_ticket_iso_str(r, h.time, &item[n].time_iso)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        n++;
    }

    tpl->history_n = n;

    return NGX_OK;
}


/* ---- small helpers -------------------------------------------------------- */


/* The value of a datetime-local input for t, in the server's zone. */
static ngx_int_t
ngx_http_ticket_local_input(ngx_http_request_t *r, int64_t t, tk_str_t *str)
{
    u_char     *p;
    struct tm   tm;
    time_t      tt;

    tt = (time_t) t;
    ngx_libc_localtime(tt, &tm);

    p = ngx_pnalloc(r->pool, sizeof("2026-11-24T14:05") + 8);
    if (p == NULL) {
        return NGX_ERROR;
    }

    str->data = p;
    str->len = ngx_sprintf(p, "%04d-%02d-%02dT%02d:%02d", tm.tm_year + 1900,
                           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min)
               - p;

    return NGX_OK;
}
