/*
 * ngx_http_ticket_view.c -- one ticket: "/t/N" shows it (articles with
 * their attachments and raw mail links, properties, history) with the
 * forms that change it; the changes are POSTed to "/t/N/update" and
 * "/t/N/title" (ngx_http_ticket_action.c), the files are served below
 * "/t/N/a/" (ngx_http_ticket_download.c).  How a ticket and its articles
 * are read is shared with the JSON API.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"
#include "tk_tpl.h"


/* replies of the page's first batch: ngx_http_ticket_ticket_read()'s,
 * then the lists the forms need */
#define NGX_HTTP_TICKET_R_USERS        3
#define NGX_HTTP_TICKET_R_GROUPS       4
#define NGX_HTTP_TICKET_R_ALL_AGENTS   5
#define NGX_HTTP_TICKET_R_FIRST_N      6

/* Parts of one mail listed on the page; more are rare, and reachable. */
#define NGX_HTTP_TICKET_MAX_PARTS      200

/* Fields of a part the list shows, in HMGET order (never its data). */
#define NGX_HTTP_TICKET_PART_FIELDS                                          \
    TK_F_NAME " " TK_F_CONTENT_TYPE " " TK_F_SIZE
#define NGX_HTTP_TICKET_PART_NFIELDS   3


/* An article as the page shows it, with what the later batches say. */
typedef struct {
    tk_article_t               a;
    long long                  raw_size;        /* 0: no raw mail kept */
    ngx_uint_t                 parts;           /* listed attachments */
    ngx_uint_t                 first;           /* its first part reply */
} ngx_http_ticket_view_art_t;


typedef struct {
    uint64_t                   number;
    ngx_str_t                  key;             /* tk:{t:N} */
    tk_ticket_t                ticket;
    ngx_int_t                  right;
    uint64_t                   images;          /* ?images=A: load them */
    ngx_http_ticket_reply_t   *history;
    ngx_http_ticket_reply_t   *users;           /* SMEMBERS tk:users */
    ngx_http_ticket_reply_t   *groups;          /* SMEMBERS tk:groups */
    ngx_http_ticket_reply_t   *all_agents;
    ngx_uint_t                 narticles;

    /* the second batch: per article HGETALL, then per article STRLEN of
     * its raw mail, then per user HMGET (from users_base on) */
    ngx_http_ticket_reply_t   *second;
    ngx_uint_t                 nsecond;
    ngx_uint_t                 users_base;

    ngx_http_ticket_view_art_t *arts;
    ngx_uint_t                 narts;
} ngx_http_ticket_view_t;


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
static ngx_int_t ngx_http_ticket_view_articles(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    tk_tpl_ticket_t *tpl);
static ngx_int_t ngx_http_ticket_view_body_html(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    tk_article_t *a, tk_tpl_ticket_articles_t *art);
static ngx_int_t ngx_http_ticket_view_files(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_view_art_t *va, tk_tpl_ticket_articles_t *art);
static ngx_int_t ngx_http_ticket_view_link(ngx_http_request_t *r,
    tk_str_t *out, const char *fmt, ...);
static ngx_int_t ngx_http_ticket_view_history(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    tk_tpl_ticket_t *tpl);
static ngx_int_t ngx_http_ticket_view_options(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    tk_tpl_ticket_t *tpl);
static ngx_int_t ngx_http_ticket_view_owners(ngx_http_request_t *r,
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


/*
 * Articles in the order they came.  The kind decides the look and the
 * label: whether a text went out as mail or stayed an internal note must
 * never be a guess.  Plain text bodies become HTML here (links, line
 * breaks); HTML bodies were sanitised by mailbridge when stored.
 */
static ngx_int_t
ngx_http_ticket_view_articles(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    tk_tpl_ticket_t *tpl)
{
    u_char                      *p;
    tk_out_t                     out;
    ngx_uint_t                   i;
    ngx_flag_t                   de;
    tk_article_t                *a;
    tk_tpl_ticket_articles_t    *art;
    ngx_http_ticket_sink_t       sink;
    ngx_http_ticket_view_art_t  *va;

    de = ngx_http_ticket_lang_de(ctx);

    art = ngx_pcalloc(r->pool, (v->narts + 1) * sizeof(*art));
    if (art == NULL) {
        return NGX_ERROR;
    }

    tpl->articles = art;
    tpl->articles_n = v->narts;

    for (i = 0; i < v->narts; i++, art++) {
        va = &v->arts[i];
        a = &va->a;

        if (ngx_http_ticket_uint_str(r, a->id, &art->id) != NGX_OK) {
            return NGX_ERROR;
        }

        switch (a->kind) {

        case TK_ART_OUT:
            tk_str_set(&art->kind, "out");
            ngx_http_ticket_cstr(&art->kind_label,
                                 de ? "E-Mail gesendet" : "Mail sent");
            break;

        case TK_ART_NOTE:
            tk_str_set(&art->kind, "note");
            ngx_http_ticket_cstr(&art->kind_label,
                                 de ? "Interne Notiz \xe2\x80\x94 nicht "
                                      "versendet"
                                    : "Internal note \xe2\x80\x94 not sent");
            break;

        default:
            tk_str_set(&art->kind, "in");
            ngx_http_ticket_cstr(&art->kind_label,
                                 de ? "E-Mail erhalten" : "Mail received");
        }

        /* a note comes from an agent, not from an address */
        art->from = (a->kind == TK_ART_NOTE && a->author.len) ? a->author
                                                              : a->from;
        if (art->from.len == 0) {
            art->from = a->author;
        }

        art->to = a->to;
        art->cc = a->cc;
        art->subject = a->subject;

        ngx_http_ticket_cstr(&art->from_label, de ? "Von" : "From");
        ngx_http_ticket_cstr(&art->to_label, de ? "An" : "To");
        ngx_http_ticket_cstr(&art->subject_label,
                             de ? "Betreff" : "Subject");

        if (ngx_http_ticket_time_str(r, a->time, &art->time) != NGX_OK
            || ngx_http_ticket_iso_str(r, a->time, &art->time_iso)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (a->body_html.len) {
            if (ngx_http_ticket_view_body_html(r, ctx, v, a, art) != NGX_OK) {
                return NGX_ERROR;
            }

        } else {
            ngx_http_ticket_sink_init(r, &out, &sink, a->body.len + 64);
            tk_out_text_as_html(&out, a->body.data, a->body.len);

            if (ngx_http_ticket_sink_str(&out, &art->body) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        if (a->attachments) {
            p = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 16);
            if (p == NULL) {
                return NGX_ERROR;
            }

            art->attachments.data = p;
            art->attachments.len =
                ngx_sprintf(p, "%ui %s", (ngx_uint_t) a->attachments,
                            de ? (a->attachments == 1 ? "Anhang"
                                                      : "Anh\xc3\xa4nge")
                               : (a->attachments == 1 ? "attachment"
                                                      : "attachments"))
                - p;
        }

        if (ngx_http_ticket_view_files(r, ctx, v, va, art) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * HTML mail: inline images to their part's URL, remote ones loaded only
 * for the article named by "?images=" -- and then this response alone
 * gets a CSP that lets them load.  Without it, a link offers to.
 */
static ngx_int_t
ngx_http_ticket_view_body_html(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v, tk_article_t *a,
    tk_tpl_ticket_articles_t *art)
{
    tk_out_t                    out;
    ngx_flag_t                  de;
    ngx_http_ticket_sink_t      sink;
    ngx_http_ticket_mailhtml_t  mh;

    de = ngx_http_ticket_lang_de(ctx);

    ngx_memzero(&mh, sizeof(ngx_http_ticket_mailhtml_t));
    mh.load_remote = (v->images == a->id);

    if (ngx_http_ticket_view_link(r, &mh.cid_prefix, "t/%uL/a/%uL/cid/",
                                  v->number, a->id)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_ticket_sink_init(r, &out, &sink, a->body_html.len + 256);
    ngx_http_ticket_mailhtml(&out, &a->body_html, &mh);

    if (ngx_http_ticket_sink_str(&out, &art->body) != NGX_OK) {
        return NGX_ERROR;
    }

    art->is_html = 1;
    ngx_http_ticket_cstr(&art->html_note,
                         de ? "HTML-Mail, bereinigt angezeigt"
                            : "HTML mail, shown sanitised");

    if (mh.remote == 0) {
        return NGX_OK;
    }

    if (mh.load_remote) {
        ctx->csp = NGX_HTTP_TICKET_CSP_IMAGES;
        ngx_http_ticket_cstr(&art->images_label,
                             de ? "Externe Bilder ausblenden"
                                : "Hide remote images");

        return ngx_http_ticket_view_link(r, &art->images_url, "t/%uL#a-%uL",
                                         v->number, a->id);
    }

    ngx_http_ticket_cstr(&art->images_label,
                         de ? "Externe Bilder laden"
                            : "Load remote images");
    ngx_http_ticket_cstr(&art->images_hint,
                         de ? "Externe Bilder wurden nicht geladen: der "
                              "Absender k\xc3\xb6nnte sonst sehen, dass "
                              "die Mail gelesen wurde."
                            : "Remote images were not loaded: the sender "
                              "could see that the mail was read.");

    return ngx_http_ticket_view_link(r, &art->images_url,
                                     "t/%uL?images=%uL#a-%uL", v->number,
                                     a->id, a->id);
}


/*
 * The article's attachments (name, size, type, link) and, for a mail
 * kept as received, the link to its raw message.  The part replies are
 * the third batch's, from va->first on.
 */
static ngx_int_t
ngx_http_ticket_view_files(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_view_art_t *va, tk_tpl_ticket_articles_t *art)
{
    long long                        size;
    ngx_str_t                        value;
    ngx_uint_t                       k;
    ngx_flag_t                       de;
    tk_str_t                         size_label;
    ngx_http_ticket_reply_t         *rep;
    tk_tpl_ticket_articles_files_t  *f;

    de = ngx_http_ticket_lang_de(ctx);

    if (va->raw_size > 0) {
        if (ngx_http_ticket_view_link(r, &art->raw_url, "t/%uL/a/%uL/raw",
                                      v->number, va->a.id) != NGX_OK
            || ngx_http_ticket_size_str(r, ctx, (uint64_t) va->raw_size,
                                        &size_label) != NGX_OK)
        {
            return NGX_ERROR;
        }

        art->raw_label.data = ngx_pnalloc(r->pool, size_label.len + 64);
        if (art->raw_label.data == NULL) {
            return NGX_ERROR;
        }

        art->raw_label.len = ngx_sprintf(art->raw_label.data, "%s (.eml, %V)",
                                         de ? "Originalnachricht"
                                            : "raw message",
                                         (ngx_str_t *) &size_label)
                             - art->raw_label.data;
    }

    if (va->parts == 0) {
        return NGX_OK;
    }

    f = ngx_pcalloc(r->pool, va->parts * sizeof(*f));
    if (f == NULL) {
        return NGX_ERROR;
    }

    art->files = f;

    for (k = 1; k <= va->parts; k++) {
        if (va->first + k - 1 >= ctx->nreplies) {
            break;
        }

        rep = &ctx->replies[va->first + k - 1];

        /* a part that is gone meanwhile is left out */
        if (rep->type != REDIS_REPLY_ARRAY
            || rep->nelem != NGX_HTTP_TICKET_PART_NFIELDS
            || rep->element[2].type != REDIS_REPLY_STRING)
        {
            continue;
        }

        ngx_http_ticket_reply_str(&rep->element[0], &value);
        f->name = *ngx_ticket_str(&value);

        ngx_http_ticket_reply_str(&rep->element[1], &value);
        f->type = *ngx_ticket_str(&value);

        if (f->type.len == 0) {
            tk_str_set(&f->type, "application/octet-stream");
        }

        size = tk_str_atoll(ngx_ticket_str(&rep->element[2].str));

        if (ngx_http_ticket_size_str(r, ctx, size > 0 ? size : 0, &f->size)
                != NGX_OK
            || ngx_http_ticket_view_link(r, &f->url, "t/%uL/a/%uL/att/%ui",
                                         v->number, va->a.id, k)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (f->name.len == 0) {
            f->name.data = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 8);
            if (f->name.data == NULL) {
                return NGX_ERROR;
            }

            f->name.len = ngx_sprintf(f->name.data, "part-%ui", k)
                          - f->name.data;
        }

        f++;
        art->files_n++;
    }

    return NGX_OK;
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


/* ---- form options ------------------------------------------------------------ */

/*
 * States and priorities always; groups: the existing groups the user
 * may move tickets into (full right), the ticket's own group always, so
 * that saving the form unchanged changes nothing.
 */
static ngx_int_t
ngx_http_ticket_view_options(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    tk_tpl_ticket_t *tpl)
{
    ngx_int_t                       s;
    ngx_uint_t                      i, n;
    ngx_flag_t                      own;
    tk_tpl_ticket_state_opts_t     *so;
    tk_tpl_ticket_prio_opts_t      *po;
    tk_tpl_ticket_group_opts_t     *go;
    ngx_http_ticket_group_right_t  *gr;

    if (!tpl->can_write) {
        return NGX_OK;
    }

    so = ngx_pcalloc(r->pool, TK_STATE_MAX * sizeof(*so));
    po = ngx_pcalloc(r->pool, TK_PRIO_MAX * sizeof(*po));
    go = ngx_pcalloc(r->pool, (ctx->groups.nelts + 1) * sizeof(*go));
    if (so == NULL || po == NULL || go == NULL) {
        return NGX_ERROR;
    }

    for (s = TK_STATE_MIN; s <= TK_STATE_MAX; s++) {
        if (ngx_http_ticket_uint_str(r, s, &so[s - 1].value) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_ticket_state_label(ctx, s, &so[s - 1].label);
        so[s - 1].selected = (s == v->ticket.state);
    }

    for (s = TK_PRIO_MIN; s <= TK_PRIO_MAX; s++) {
        if (ngx_http_ticket_uint_str(r, s, &po[s - 1].value) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_ticket_prio_label(ctx, s, &po[s - 1].label);
        po[s - 1].selected = (s == v->ticket.priority);
    }

    tpl->state_opts = so;
    tpl->state_opts_n = TK_STATE_MAX;
    tpl->prio_opts = po;
    tpl->prio_opts_n = TK_PRIO_MAX;

    gr = ctx->groups.elts;
    n = 0;

    for (i = 0; i < ctx->groups.nelts; i++) {
        own = tk_str_eq(ngx_ticket_str(&gr[i].name), &v->ticket.group);

        if (!own
            && (gr[i].right != TK_RIGHT_FULL
                || !ngx_http_ticket_set_has(v->groups, &gr[i].name)))
        {
            continue;
        }

        go[n].value = *ngx_ticket_str(&gr[i].name);
        go[n].label = go[n].value;
        go[n].selected = own;
        n++;
    }

    tpl->group_opts = go;
    tpl->group_opts_n = n;

    return NGX_OK;
}


/*
 * Who may own the ticket: every enabled agent with a right on its group;
 * the current owner stays in the list even without one (so an unchanged
 * form keeps them).  Also gives the owner's display name.
 */
static ngx_int_t
ngx_http_ticket_view_owners(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    tk_tpl_ticket_t *tpl)
{
    ngx_str_t                    login, name, rights, disabled;
    ngx_uint_t                   i, j, n, base;
    ngx_flag_t                   all_agents, own;
    ngx_http_ticket_reply_t     *rep;
    tk_tpl_ticket_owner_opts_t  *oo, tmp;

    base = v->users_base;
    all_agents = ngx_http_ticket_set_has(v->all_agents,
                                         (ngx_str_t *) &v->ticket.group);

    if (!tpl->can_write) {
        /* one HMGET of the owner, if any */
        if (v->ticket.owner.len && base < v->nsecond) {
            rep = &v->second[base];
            if (rep->type == REDIS_REPLY_ARRAY && rep->nelem == 3) {
                ngx_http_ticket_reply_str(&rep->element[0], &name);
                if (name.len) {
                    tpl->owner_name = *ngx_ticket_str(&name);
                }
            }
        }

        return NGX_OK;
    }

    if (v->users->type != REDIS_REPLY_ARRAY) {
        return NGX_OK;
    }

    oo = ngx_pcalloc(r->pool, (v->users->nelem + 1) * sizeof(*oo));
    if (oo == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    for (i = 0; i < v->users->nelem && base + i < v->nsecond; i++) {
        login = v->users->element[i].str;
        rep = &v->second[base + i];

        if (rep->type != REDIS_REPLY_ARRAY || rep->nelem != 3) {
            continue;
        }

        ngx_http_ticket_reply_str(&rep->element[0], &name);
        ngx_http_ticket_reply_str(&rep->element[1], &rights);
        ngx_http_ticket_reply_str(&rep->element[2], &disabled);

        own = tk_str_eq(ngx_ticket_str(&login), &v->ticket.owner);

        if (own && name.len) {
            tpl->owner_name = *ngx_ticket_str(&name);
        }

        if (!own
            && (ngx_http_ticket_flag_on(&disabled)
                || tk_rights_get(ngx_ticket_str(&rights), &v->ticket.group,
                                 all_agents) == TK_RIGHT_NONE))
        {
            continue;
        }

        oo[n].value = *ngx_ticket_str(&login);

        if (name.len) {
            oo[n].label.len = name.len + login.len + 3;
            oo[n].label.data = ngx_pnalloc(r->pool, oo[n].label.len);
            if (oo[n].label.data == NULL) {
                return NGX_ERROR;
            }

            ngx_sprintf(oo[n].label.data, "%V (%V)", &name, &login);

        } else {
            oo[n].label = oo[n].value;
        }

        oo[n].selected = own;
        n++;
    }

    /* an owner who is no user any more: keep them selectable */
    if (v->ticket.owner.len) {
        for (i = 0; i < n; i++) {
            if (oo[i].selected) {
                break;
            }
        }

        if (i == n) {
            oo[n].value = v->ticket.owner;
            oo[n].label = v->ticket.owner;
            oo[n].selected = 1;
            n++;
        }
    }

    /* by label, as people look for a name */
    for (i = 1; i < n; i++) {
        tmp = oo[i];

        for (j = i;
             j > 0 && ngx_http_ticket_casecmp(&oo[j - 1].label, &tmp.label)
                      > 0;
             j--)
        {
            oo[j] = oo[j - 1];
        }

        oo[j] = tmp;
    }

    tpl->owner_opts = oo;
    tpl->owner_opts_n = n;

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


/* base_url + a path made from fmt (ngx_sprintf), for a template field. */
static ngx_int_t
ngx_http_ticket_view_link(ngx_http_request_t *r, tk_str_t *out,
    const char *fmt, ...)
{
    u_char   buf[3 * NGX_INT64_LEN + 32], *last;
    va_list  args;

    va_start(args, fmt);
    last = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    return ngx_http_ticket_url(r, (char *) buf, last - buf, out);
}
