/*
 * ngx_http_ticket_view.c -- one ticket: "/t/N" shows it (articles,
 * properties, history), POST "/t/N/update" changes group, owner, state
 * and priority, POST "/t/N/title" renames it.
 *
 * Changes are optimistic transactions on the ticket key (WATCH, read,
 * MULTI/EXEC through tk_ticket_update, retried on conflict), so two
 * agents changing one ticket at once never lose an index entry.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"
#include "tk_tpl.h"


#define NGX_HTTP_TICKET_TITLE_MAX      200
#define NGX_HTTP_TICKET_TX_RETRIES     5

#define NGX_HTTP_TICKET_SHOW           0
#define NGX_HTTP_TICKET_UPDATE         1
#define NGX_HTTP_TICKET_RENAME         2

/* replies of the page's first batch */
#define NGX_HTTP_TICKET_R_TICKET       0
#define NGX_HTTP_TICKET_R_ARTICLES     1
#define NGX_HTTP_TICKET_R_HISTORY      2
#define NGX_HTTP_TICKET_R_USERS        3
#define NGX_HTTP_TICKET_R_GROUPS       4
#define NGX_HTTP_TICKET_R_ALL_AGENTS   5
#define NGX_HTTP_TICKET_R_FIRST_N      6

/* replies of an update's reads */
#define NGX_HTTP_TICKET_U_TICKET       0
#define NGX_HTTP_TICKET_U_GROUPS       1
#define NGX_HTTP_TICKET_U_ALL_AGENTS   2
#define NGX_HTTP_TICKET_U_OWNER        3


typedef struct {
    uint64_t                   number;
    ngx_str_t                  key;             /* tk:{t:N} */
    ngx_uint_t                 action;

    /* the page */
    tk_ticket_t                ticket;
    ngx_int_t                  right;
    ngx_http_ticket_reply_t   *history;
    ngx_http_ticket_reply_t   *users;           /* SMEMBERS tk:users */
    ngx_http_ticket_reply_t   *groups;          /* SMEMBERS tk:groups */
    ngx_http_ticket_reply_t   *all_agents;
    ngx_uint_t                 narticles;

    /* the change asked for; a field not posted stays as it is */
    unsigned                   set_group:1;
    unsigned                   set_owner:1;
    unsigned                   set_state:1;
    unsigned                   set_priority:1;
    unsigned                   set_pending:1;
    ngx_str_t                  group;
    ngx_str_t                  owner;
    ngx_str_t                  owner_check;     /* posted, changed or not */
    ngx_int_t                  state;
    ngx_int_t                  priority;
    int64_t                    pending_until;
    ngx_str_t                  title;
} ngx_http_ticket_view_t;


typedef struct {
    tk_tpl_ticket_t            tpl;
} ngx_http_ticket_view_page_t;


static ngx_int_t ngx_http_ticket_view_show(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v);
static ngx_int_t ngx_http_ticket_view_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_view_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_view_articles(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    tk_tpl_ticket_t *tpl);
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

static ngx_int_t ngx_http_ticket_view_post(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v);
static ngx_int_t ngx_http_ticket_view_field(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *name, ngx_str_t *value);
static ngx_int_t ngx_http_ticket_view_form(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    const char **error);
static ngx_int_t ngx_http_ticket_view_begin(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_view_change(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_view_refuse(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status, const char *message);
static ngx_int_t ngx_http_ticket_view_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_view_back(ngx_http_request_t *r,
    ngx_http_ticket_view_t *v);

static ngx_flag_t ngx_http_ticket_set_has(ngx_http_ticket_reply_t *set,
    ngx_str_t *member);
static ngx_int_t ngx_http_ticket_parse_local_time(ngx_str_t *s,
    int64_t *t);
static ngx_int_t ngx_http_ticket_local_input(ngx_http_request_t *r,
    int64_t t, tk_str_t *str);


/* ---- routing -------------------------------------------------------------- */

/*
 * "/t/N", "/t/N/update", "/t/N/title".  N is digits only; anything else
 * is the same 404 as a ticket that does not exist.
 */
ngx_int_t
ngx_http_ticket_view(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                  *p, *last, *digits;
    ngx_str_t                rest;
    ngx_http_ticket_view_t  *v;

    p = ctx->path.data + sizeof("/t/") - 1;
    last = ctx->path.data + ctx->path.len;
    digits = p;

    while (p < last && *p >= '0' && *p <= '9') {
        p++;
    }

    if (p == digits || p - digits > 19 || *digits == '0') {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    v = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_view_t));
    if (v == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = v;

    v->number = (uint64_t) ngx_atoof(digits, p - digits);

    v->key.data = ngx_pnalloc(r->pool, TK_KEY_MAX);
    if (v->key.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    v->key.len = tk_key_ticket((char *) v->key.data, TK_KEY_MAX, v->number);

    rest.data = p;
    rest.len = last - p;

    if (rest.len == 0) {
        v->action = NGX_HTTP_TICKET_SHOW;

    } else if (rest.len == 7 && ngx_strncmp(rest.data, "/update", 7) == 0) {
        v->action = NGX_HTTP_TICKET_UPDATE;

    } else if (rest.len == 6 && ngx_strncmp(rest.data, "/title", 6) == 0) {
        v->action = NGX_HTTP_TICKET_RENAME;

    } else {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (v->action == NGX_HTTP_TICKET_SHOW) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
        }

        return ngx_http_ticket_view_show(r, ctx, v);
    }

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    return ngx_http_ticket_view_post(r, ctx, v);
}


/* ---- the page ------------------------------------------------------------- */

/*
 * First batch: the ticket, its article ids, its history, and the lists
 * the forms need (users, groups, all-agents groups) -- read before the
 * rights are known because it saves a round trip and costs little.
 */
static ngx_int_t
ngx_http_ticket_view_show(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_view_t *v)
{
    tk_cmds_t  *cmds;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGETALL %S", ngx_ticket_str(&v->key));
    tk_cmds_add(cmds, "LRANGE %S:articles 0 -1", ngx_ticket_str(&v->key));
    tk_cmds_add(cmds, "LRANGE %S:history 0 -1", ngx_ticket_str(&v->key));
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
    char                      key[TK_KEY_MAX];
    size_t                    npairs, len;
    tk_str_t                 *pairs;
    tk_cmds_t                *cmds;
    long long                 id;
    ngx_uint_t                i;
    ngx_http_ticket_view_t   *v;
    ngx_http_ticket_reply_t  *ids, *users;

    v = ctx->view;

    if (ctx->nreplies < NGX_HTTP_TICKET_R_FIRST_N) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pairs = ngx_http_ticket_reply_pairs(r,
                                &ctx->replies[NGX_HTTP_TICKET_R_TICKET],
                                &npairs);

    if (pairs == NULL || npairs == 0) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (tk_ticket_parse(&v->ticket, pairs, npairs) != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: %V is not a valid ticket hash", &v->key);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    v->right = ngx_http_ticket_right(ctx, (ngx_str_t *) &v->ticket.group);

    if (v->right == TK_RIGHT_NONE) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    ids = &ctx->replies[NGX_HTTP_TICKET_R_ARTICLES];
    v->history = &ctx->replies[NGX_HTTP_TICKET_R_HISTORY];
    users = &ctx->replies[NGX_HTTP_TICKET_R_USERS];
    v->users = users;
    v->groups = &ctx->replies[NGX_HTTP_TICKET_R_GROUPS];
    v->all_agents = &ctx->replies[NGX_HTTP_TICKET_R_ALL_AGENTS];

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* replies: one HGETALL per article, then one HMGET per user */
    v->narticles = 0;

    if (ids->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < ids->nelem; i++) {
            id = tk_str_atoll(ngx_ticket_str(&ids->element[i].str));
            if (id <= 0) {
                continue;
            }

            len = tk_key_article(key, sizeof(key), v->number, (uint64_t) id);
            if (len == 0) {
                continue;
            }

            tk_cmds_add(cmds, "HGETALL %b", key, len);
            v->narticles++;
        }
    }

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
    u_char                    *p;
    size_t                     npairs;
    tk_out_t                   out;
    tk_str_t                  *pairs;
    ngx_uint_t                 i, n;
    ngx_flag_t                 de;
    tk_article_t               a;
    tk_tpl_ticket_articles_t  *art;
    ngx_http_ticket_sink_t     sink;

    de = ngx_http_ticket_lang_de(ctx);

    art = ngx_pcalloc(r->pool, (v->narticles + 1) * sizeof(*art));
    if (art == NULL) {
        return NGX_ERROR;
    }

    tpl->articles = art;
    n = 0;

    for (i = 0; i < v->narticles && i < ctx->nreplies; i++) {

        pairs = ngx_http_ticket_reply_pairs(r, &ctx->replies[i], &npairs);
        if (pairs == NULL || npairs == 0) {
            continue;
        }

        ngx_memzero(&a, sizeof(tk_article_t));

        if (tk_article_parse(&a, pairs, npairs) != 0) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "ticket: an article of ticket %uL is not valid",
                          v->number);
            continue;
        }

        if (ngx_http_ticket_uint_str(r, a.id, &art[n].id) != NGX_OK) {
            return NGX_ERROR;
        }

        switch (a.kind) {

        case TK_ART_OUT:
            tk_str_set(&art[n].kind, "out");
            ngx_http_ticket_cstr(&art[n].kind_label,
                                 de ? "E-Mail gesendet" : "Mail sent");
            break;

        case TK_ART_NOTE:
            tk_str_set(&art[n].kind, "note");
            ngx_http_ticket_cstr(&art[n].kind_label,
                                 de ? "Interne Notiz \xe2\x80\x94 nicht "
                                      "versendet"
                                    : "Internal note \xe2\x80\x94 not sent");
            break;

        default:
            tk_str_set(&art[n].kind, "in");
            ngx_http_ticket_cstr(&art[n].kind_label,
                                 de ? "E-Mail erhalten" : "Mail received");
        }

        /* a note comes from an agent, not from an address */
        art[n].from = (a.kind == TK_ART_NOTE && a.author.len) ? a.author
                                                              : a.from;
        if (art[n].from.len == 0) {
            art[n].from = a.author;
        }

        art[n].to = a.to;
        art[n].cc = a.cc;
        art[n].subject = a.subject;

        ngx_http_ticket_cstr(&art[n].from_label, de ? "Von" : "From");
        ngx_http_ticket_cstr(&art[n].to_label, de ? "An" : "To");
        ngx_http_ticket_cstr(&art[n].subject_label,
                             de ? "Betreff" : "Subject");

        if (ngx_http_ticket_time_str(r, a.time, &art[n].time) != NGX_OK
            || ngx_http_ticket_iso_str(r, a.time, &art[n].time_iso)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (a.body_html.len) {
            art[n].is_html = 1;
            art[n].body = a.body_html;
            ngx_http_ticket_cstr(&art[n].html_note,
                                 de ? "HTML-Mail, bereinigt angezeigt"
                                    : "HTML mail, shown sanitised");

        } else {
            ngx_http_ticket_sink_init(r, &out, &sink, a.body.len + 64);
            tk_out_text_as_html(&out, a.body.data, a.body.len);

            if (ngx_http_ticket_sink_str(&out, &art[n].body) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        if (a.attachments) {
            p = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 16);
            if (p == NULL) {
                return NGX_ERROR;
            }

            art[n].attachments.data = p;
            art[n].attachments.len =
                ngx_sprintf(p, "%ui %s", (ngx_uint_t) a.attachments,
                            de ? (a.attachments == 1 ? "Anhang" : "Anh\xc3\xa4nge")
                               : (a.attachments == 1 ? "attachment"
                                                     : "attachments"))
                - p;
        }

        n++;
    }

    tpl->articles_n = n;

    return NGX_OK;
}


/* ---- history ---------------------------------------------------------------- */

/* The label of a history value: states and priorities as words. */
static void
ngx_http_ticket_history_value(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *field, ngx_str_t *value,
    ngx_str_t *label)
{
    long long  n;
    tk_str_t   s;

    *label = *value;

    if (value->len == 0) {
        return;
    }

    if (field->len == sizeof(TK_F_STATE) - 1
        && ngx_strncmp(field->data, TK_F_STATE, field->len) == 0)
    {
        ngx_http_ticket_state_label(ctx,
                            tk_state_parse((char *) value->data, value->len),
                            &s);
        label->data = s.data;
        label->len = s.len;

    } else if (field->len == sizeof(TK_F_PRIORITY) - 1
               && ngx_strncmp(field->data, TK_F_PRIORITY, field->len) == 0)
    {
        ngx_http_ticket_prio_label(ctx,
                            tk_prio_parse((char *) value->data, value->len),
                            &s);
        label->data = s.data;
        label->len = s.len;

    } else if (field->len == sizeof(TK_F_PENDING_UNTIL) - 1
               && ngx_strncmp(field->data, TK_F_PENDING_UNTIL, field->len)
                  == 0)
    {
        n = tk_str_atoll(ngx_ticket_str(value));
        if (n > 0 && ngx_http_ticket_time_str(r, n, &s) == NGX_OK) {
            label->data = s.data;
            label->len = s.len;
        }
    }
}


/* "franka changed state from new to in progress", in the user's words. */
static ngx_int_t
ngx_http_ticket_history_text(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_hist_t *h, tk_str_t *text)
{
    u_char      *p;
    size_t       len;
    ngx_flag_t   de;
    ngx_str_t    from, to, *f;
    const char  *what;

    de = ngx_http_ticket_lang_de(ctx);
    f = &h->field;

    ngx_http_ticket_history_value(r, ctx, f, &h->from, &from);
    ngx_http_ticket_history_value(r, ctx, f, &h->to, &to);

    len = h->by.len + f->len + from.len + to.len + 128;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    text->data = p;

#define ngx_http_ticket_field_is(name)                                       \
    (f->len == sizeof(name) - 1 && ngx_strncmp(f->data, name, f->len) == 0)

    if (ngx_http_ticket_field_is("created")) {
        p = ngx_sprintf(p, de ? "%V hat das Ticket angelegt"
                              : "%V created the ticket", &h->by);

    } else if (ngx_http_ticket_field_is(TK_F_OWNER) && from.len == 0) {
        p = ngx_sprintf(p, de ? "%V hat das Ticket %V zugewiesen"
                              : "%V assigned the ticket to %V", &h->by, &to);

    } else if (ngx_http_ticket_field_is(TK_F_OWNER) && to.len == 0) {
        p = ngx_sprintf(p, de ? "%V hat die Zuweisung an %V aufgehoben"
                              : "%V unassigned %V", &h->by, &from);

    } else if (ngx_http_ticket_field_is(TK_F_PENDING_UNTIL) && to.len == 0) {
        p = ngx_sprintf(p, de ? "%V hat die Erinnerung entfernt"
                              : "%V removed the reminder", &h->by);

    } else if (ngx_http_ticket_field_is(TK_F_PENDING_UNTIL)) {
        p = ngx_sprintf(p, de ? "%V hat eine Erinnerung f\xc3\xbcr %V gesetzt"
                              : "%V set a reminder for %V", &h->by, &to);

    } else {
        what = NULL;

        if (ngx_http_ticket_field_is(TK_F_STATE)) {
            what = de ? "den Status" : "state";

        } else if (ngx_http_ticket_field_is(TK_F_PRIORITY)) {
            what = de ? "die Priorit\xc3\xa4t" : "priority";

        } else if (ngx_http_ticket_field_is(TK_F_GROUP)) {
            what = de ? "die AG" : "group";

        } else if (ngx_http_ticket_field_is(TK_F_OWNER)) {
            what = de ? "die Zust\xc3\xa4ndigkeit" : "owner";

        } else if (ngx_http_ticket_field_is(TK_F_TITLE)) {
            what = de ? "den Titel" : "title";

        } else if (ngx_http_ticket_field_is(TK_F_CUSTOMER)) {
            what = de ? "die Kund*in" : "customer";
        }

        if (what) {
            p = ngx_sprintf(p, de ? "%V hat %s von \xe2\x80\x9e%V\xe2\x80\x9c "
                                    "auf \xe2\x80\x9e%V\xe2\x80\x9c ge\xc3\xa4ndert"
                                  : "%V changed %s from \xe2\x80\x9c%V\xe2\x80\x9d"
                                    " to \xe2\x80\x9c%V\xe2\x80\x9d",
                            &h->by, what, &from, &to);

        } else {
            /* a field this page does not know yet: still say something */
            p = ngx_sprintf(p, de ? "%V: %V \xe2\x80\x9e%V\xe2\x80\x9c "
                                    "\xe2\x86\x92 \xe2\x80\x9e%V\xe2\x80\x9c"
                                  : "%V: %V \xe2\x80\x9c%V\xe2\x80\x9d "
                                    "\xe2\x86\x92 \xe2\x80\x9c%V\xe2\x80\x9d",
                            &h->by, f, &from, &to);
        }
    }

#undef ngx_http_ticket_field_is

    text->len = p - text->data;

    return NGX_OK;
}


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


/*
 * A history entry as written by tk_history_add(): a flat JSON object of
 * strings, numbers and nulls.  Anything else is refused (the API passes
 * entries through as raw JSON only after this check).
 */
ngx_int_t
ngx_http_ticket_history_parse(ngx_http_request_t *r, ngx_str_t *json,
    ngx_http_ticket_hist_t *h)
{
    u_char      *p, *last, *d, *start;
    uint32_t     c, lo;
    ngx_str_t    key, val;
    ngx_int_t    i;
    ngx_flag_t   is_str;

    ngx_memzero(h, sizeof(ngx_http_ticket_hist_t));
    ngx_str_null(&key);
    ngx_str_set(&h->by, "");
    ngx_str_set(&h->field, "");
    ngx_str_set(&h->from, "");
    ngx_str_set(&h->to, "");

    p = json->data;
    last = json->data + json->len;

#define ngx_http_ticket_ws()                                                 \
    while (p < last && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))\
        p++

    ngx_http_ticket_ws();

    if (p == last || *p != '{') {
        return NGX_ERROR;
    }

    p++;

    /* room for every decoded string: never longer than the input */
    d = ngx_pnalloc(r->pool, json->len + 1);
    if (d == NULL) {
        return NGX_ERROR;
    }

    ngx_http_ticket_ws();

    if (p < last && *p == '}') {
        p++;
        goto done;
    }

    for ( ;; ) {

        /* a key, then a value: both strings go through the same code */
        for (i = 0; i < 2; i++) {
            ngx_http_ticket_ws();

            if (p == last) {
                return NGX_ERROR;
            }

            is_str = (*p == '"');

            if (!is_str) {
                if (i == 0) {
                    return NGX_ERROR;
                }

                start = p;

                while (p < last && (*p == '-' || *p == '+' || *p == '.'
                                    || *p == 'e' || *p == 'E'
                                    || (*p >= '0' && *p <= '9')
                                    || (*p >= 'a' && *p <= 'z')))
                {
                    p++;
                }

                val.data = start;
                val.len = p - start;

                if (val.len == 0
                    || (val.data[0] >= 'a' && val.data[0] <= 'z'
                        && !(val.len == 4
                             && ngx_strncmp(val.data, "null", 4) == 0)
                        && !(val.len == 4
                             && ngx_strncmp(val.data, "true", 4) == 0)
                        && !(val.len == 5
                             && ngx_strncmp(val.data, "false", 5) == 0)))
                {
                    return NGX_ERROR;
                }

                if (val.data[0] == 'n') {
                    ngx_str_set(&val, "");
                }

                break;
            }

            p++;
            start = d;

            while (p < last && *p != '"') {

                if (*p < 0x20) {
                    return NGX_ERROR;
                }

                if (*p != '\\') {
                    *d++ = *p++;
                    continue;
                }

                if (++p == last) {
                    return NGX_ERROR;
                }

                switch (*p++) {
                case '"':  *d++ = '"';  break;
                case '\\': *d++ = '\\'; break;
                case '/':  *d++ = '/';  break;
                case 'b':  *d++ = '\b'; break;
                case 'f':  *d++ = '\f'; break;
                case 'n':  *d++ = '\n'; break;
                case 'r':  *d++ = '\r'; break;
                case 't':  *d++ = '\t'; break;

                case 'u':
                    if (last - p < 4
                        || ngx_hextoi(p, 4) == NGX_ERROR)
                    {
                        return NGX_ERROR;
                    }

                    c = (uint32_t) ngx_hextoi(p, 4);
                    p += 4;

                    if (c >= 0xd800 && c <= 0xdbff) {
                        if (last - p < 6 || p[0] != '\\' || p[1] != 'u'
                            || ngx_hextoi(p + 2, 4) == NGX_ERROR)
                        {
                            return NGX_ERROR;
                        }

                        lo = (uint32_t) ngx_hextoi(p + 2, 4);
                        if (lo < 0xdc00 || lo > 0xdfff) {
                            return NGX_ERROR;
                        }

                        p += 6;
                        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);

                    } else if (c >= 0xdc00 && c <= 0xdfff) {
                        return NGX_ERROR;
                    }

                    /* UTF-8 is never longer than the escape it came from */
                    if (c < 0x80) {
                        *d++ = (u_char) c;
                    } else if (c < 0x800) {
                        *d++ = (u_char) (0xc0 | (c >> 6));
                        *d++ = (u_char) (0x80 | (c & 0x3f));
                    } else if (c < 0x10000) {
                        *d++ = (u_char) (0xe0 | (c >> 12));
                        *d++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
                        *d++ = (u_char) (0x80 | (c & 0x3f));
                    } else {
                        *d++ = (u_char) (0xf0 | (c >> 18));
                        *d++ = (u_char) (0x80 | ((c >> 12) & 0x3f));
                        *d++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
                        *d++ = (u_char) (0x80 | (c & 0x3f));
                    }

                    break;

                default:
                    return NGX_ERROR;
                }
            }

            if (p == last) {
                return NGX_ERROR;
            }

            p++;

            if (i == 0) {
                key.data = start;
                key.len = d - start;

                ngx_http_ticket_ws();

                if (p == last || *p != ':') {
                    return NGX_ERROR;
                }

                p++;
                continue;
            }

            val.data = start;
            val.len = d - start;
        }

        if (key.len == 4 && ngx_strncmp(key.data, "time", 4) == 0) {
            h->time = ngx_atotm(val.data, val.len);
            if (h->time == NGX_ERROR) {
                h->time = 0;
            }

        } else if (key.len == 2 && ngx_strncmp(key.data, "by", 2) == 0) {
            h->by = val;

        } else if (key.len == 5 && ngx_strncmp(key.data, "field", 5) == 0) {
            h->field = val;

        } else if (key.len == 4 && ngx_strncmp(key.data, "from", 4) == 0) {
            h->from = val;

        } else if (key.len == 2 && ngx_strncmp(key.data, "to", 2) == 0) {
            h->to = val;
        }

        ngx_http_ticket_ws();

        if (p < last && *p == ',') {
            p++;
            continue;
        }

        if (p < last && *p == '}') {
            p++;
            break;
        }

        return NGX_ERROR;
    }

done:

    ngx_http_ticket_ws();

#undef ngx_http_ticket_ws

    return p == last ? NGX_OK : NGX_ERROR;
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

    base = v->narticles;
    all_agents = ngx_http_ticket_set_has(v->all_agents,
                                         (ngx_str_t *) &v->ticket.group);

    if (!tpl->can_write) {
        /* one HMGET of the owner, if any */
        if (v->ticket.owner.len && base < ctx->nreplies) {
            rep = &ctx->replies[base];
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

    for (i = 0; i < v->users->nelem && base + i < ctx->nreplies; i++) {
        login = v->users->element[i].str;
        rep = &ctx->replies[base + i];

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
            && ((disabled.len == 1 && disabled.data[0] == '1')
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


/* ---- changes ---------------------------------------------------------------- */

/*
 * POST /t/N/update and /t/N/title: the CSRF token first, then every
 * field on its own (400 with a message that says what is wrong), and
 * only then the transaction that checks rights against the stored
 * ticket.  Nothing is written before all of that passed.
 */
static ngx_int_t
ngx_http_ticket_view_post(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_view_t *v)
{
    const char  *error;

    if (ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_FORBIDDEN,
                                     ngx_http_ticket_lang_de(ctx)
                                     ? "Das Formular war veraltet. Bitte lade "
                                       "die Seite neu und versuche es noch "
                                       "einmal."
                                     : "The form was out of date. Please "
                                       "reload the page and try again.");
    }

    if (ngx_http_ticket_view_form(r, ctx, v, &error) != NGX_OK) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST, error);
    }

    ctx->tx_retries = 0;

    return ngx_http_ticket_view_begin(r, ctx);
}


/*
 * A posted field counts only if it differs from what the form showed
 * ("was_NAME"): an agent who changes the priority in a form opened an
 * hour ago must not reset the state someone else set meanwhile.  Without
 * "was_NAME" (scripts, old forms) the field counts.
 */
static ngx_int_t
ngx_http_ticket_view_field(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    const char *name, ngx_str_t *value)
{
    u_char     buf[32];
    ngx_int_t  rc;
    ngx_str_t  was;

    rc = ngx_http_ticket_form_arg(r, ctx, name, value);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_snprintf(buf, sizeof(buf), "was_%s%Z", name);

    rc = ngx_http_ticket_form_arg(r, ctx, (char *) buf, &was);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK && was.len == value->len
        && ngx_strncmp(was.data, value->data, was.len) == 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * Read and check the posted fields: NGX_OK, or NGX_ERROR with *error
 * set to what the 400 page says (NULL for a malformed body).
 */
static ngx_int_t
ngx_http_ticket_view_form(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_view_t *v, const char **error)
{
    ngx_int_t   n, rc;
    ngx_str_t   value;
    ngx_flag_t  de;

    de = ngx_http_ticket_lang_de(ctx);
    *error = NULL;

    if (v->action == NGX_HTTP_TICKET_RENAME) {
        rc = ngx_http_ticket_form_arg(r, ctx, "title", &value);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_str_set(&value, "");
        }

        ngx_http_ticket_trim(&value);
        n = ngx_http_ticket_text_chars(&value, 0);

        if (n < 1 || n > NGX_HTTP_TICKET_TITLE_MAX) {
            *error = de ? "Der Titel muss 1 bis 200 Zeichen lang sein, ohne "
                          "Steuerzeichen."
                        : "The title must be 1 to 200 characters long, "
                          "without control characters.";
            return NGX_ERROR;
        }

        v->title = value;
        return NGX_OK;
    }

    rc = ngx_http_ticket_view_field(r, ctx, "state", &value);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        v->state = tk_state_parse((char *) value.data, value.len);
        if (v->state < TK_STATE_MIN || v->state > TK_STATE_MAX) {
            *error = de ? "Diesen Status gibt es nicht (1 bis 6)."
                        : "There is no such state (1 to 6).";
            return NGX_ERROR;
        }

        v->set_state = 1;
    }

    rc = ngx_http_ticket_view_field(r, ctx, "priority", &value);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        v->priority = tk_prio_parse((char *) value.data, value.len);
        if (v->priority < TK_PRIO_MIN || v->priority > TK_PRIO_MAX) {
            *error = de ? "Diese Priorit\xc3\xa4t gibt es nicht (1 bis 4)."
                        : "There is no such priority (1 to 4).";
            return NGX_ERROR;
        }

        v->set_priority = 1;
    }

    rc = ngx_http_ticket_view_field(r, ctx, "group", &value);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        if (!tk_valid_group(ngx_ticket_str(&value))) {
            *error = de ? "Diese AG gibt es nicht."
                        : "There is no such group.";
            return NGX_ERROR;
        }

        v->group = value;
        v->set_group = 1;
    }

    /* the owner as posted, changed or not: a move to another group
     * checks that they may see it */
    if (ngx_http_ticket_form_arg(r, ctx, "owner", &value) == NGX_OK
        && tk_valid_login(ngx_ticket_str(&value)))
    {
        v->owner_check = value;
    }

    rc = ngx_http_ticket_view_field(r, ctx, "owner", &value);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        if (value.len && !tk_valid_login(ngx_ticket_str(&value))) {
            *error = de ? "Diese Person gibt es nicht."
                        : "There is no such agent.";
            return NGX_ERROR;
        }

        v->owner = value;
        v->set_owner = 1;
    }

    rc = ngx_http_ticket_view_field(r, ctx, "pending_until", &value);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        ngx_http_ticket_trim(&value);

        if (value.len
            && ngx_http_ticket_parse_local_time(&value, &v->pending_until)
               != NGX_OK)
        {
            *error = de ? "Das Erinnerungsdatum ist ung\xc3\xbcltig "
                          "(JJJJ-MM-TT SS:MM)."
                        : "The reminder date is not valid "
                          "(YYYY-MM-DD HH:MM).";
            return NGX_ERROR;
        }

        v->set_pending = value.len ? 1 : 0;
    }

    return NGX_OK;
}


/*
 * WATCH the ticket and read it together with what the checks need: the
 * groups, the all-agents groups and, when an owner is named, that user.
 * Runs again after a conflict.
 */
static ngx_int_t
ngx_http_ticket_view_begin(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t               *cmds;
    ngx_http_ticket_view_t  *v;

    v = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGETALL %S", ngx_ticket_str(&v->key));
    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_GROUPS);
    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_GROUPS_ALL);

    if (v->set_owner && v->owner.len) {
        v->owner_check = v->owner;
    }

    if (v->owner_check.len) {
        tk_cmds_add(cmds, "HMGET tk:{u:%S} " TK_F_LOGIN " " TK_F_RIGHTS " "
                    TK_F_DISABLED, ngx_ticket_str(&v->owner_check));
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_tx_begin(r, ctx, &v->key, 1, cmds,
                                    ngx_http_ticket_view_change);
}


/*
 * The stored ticket is in: check rights and references against it,
 * build the new ticket and write it with the shared write path.  A
 * request that changes nothing writes nothing (and gets the same 303).
 */
static ngx_int_t
ngx_http_ticket_view_change(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    size_t                    npairs;
    tk_str_t                 *pairs;
    tk_cmds_t                *cmds;
    ngx_int_t                 right;
    ngx_str_t                 rights, disabled, login;
    ngx_flag_t                de, all_agents, moved;
    tk_ticket_t               old, new;
    ngx_http_ticket_view_t   *v;
    ngx_http_ticket_reply_t  *rep;

    v = ctx->view;
    de = ngx_http_ticket_lang_de(ctx);

    if (ctx->nreplies < NGX_HTTP_TICKET_U_OWNER) {
        return ngx_http_ticket_view_refuse(r, ctx,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           NULL);
    }

    pairs = ngx_http_ticket_reply_pairs(r,
                                &ctx->replies[NGX_HTTP_TICKET_U_TICKET],
                                &npairs);

    if (pairs == NULL || npairs == 0
        || tk_ticket_parse(&old, pairs, npairs) != 0)
    {
        return ngx_http_ticket_view_refuse(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    right = ngx_http_ticket_right(ctx, (ngx_str_t *) &old.group);

    if (right == TK_RIGHT_NONE) {
        return ngx_http_ticket_view_refuse(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (right != TK_RIGHT_FULL) {
        return ngx_http_ticket_view_refuse(r, ctx, NGX_HTTP_FORBIDDEN,
                                   de ? "Du hast f\xc3\xbcr diese AG nur "
                                        "Lesezugriff."
                                      : "You have read access to this "
                                        "group only.");
    }

    new = old;

    if (v->action == NGX_HTTP_TICKET_RENAME) {
        new.title = *ngx_ticket_str(&v->title);
        goto write;
    }

    if (v->set_group && !tk_str_eq(ngx_ticket_str(&v->group), &old.group)) {

        if (!ngx_http_ticket_set_has(&ctx->replies[NGX_HTTP_TICKET_U_GROUPS],
                                     &v->group))
        {
            return ngx_http_ticket_view_refuse(r, ctx, NGX_HTTP_BAD_REQUEST,
                                   de ? "Diese AG gibt es nicht."
                                      : "There is no such group.");
        }

        if (ngx_http_ticket_right(ctx, &v->group) != TK_RIGHT_FULL) {
            return ngx_http_ticket_view_refuse(r, ctx, NGX_HTTP_BAD_REQUEST,
                                   de ? "In diese AG darfst du keine "
                                        "Tickets verschieben."
                                      : "You may not move tickets into "
                                        "that group.");
        }

        new.group = *ngx_ticket_str(&v->group);
    }

    if (v->set_owner) {
        new.owner = *ngx_ticket_str(&v->owner);
    }

    if (v->set_state) {
        new.state = (int) v->state;
    }

    if (v->set_priority) {
        new.priority = (int) v->priority;
    }

    /* the reminder belongs to "waiting with reminder" only */
    if (new.state != TK_STATE_REMINDER) {
        new.pending_until = 0;

    } else if (v->set_pending) {
        new.pending_until = v->pending_until;
    }

    /* a named owner must be an enabled agent with a right on the group
     * the ticket ends up in (checked when owner or group change) */
    moved = !tk_str_eq(&new.group, &old.group);

    if (new.owner.len && (moved || !tk_str_eq(&new.owner, &old.owner))) {

        /* the user read is the one the new owner is (someone else may
         * have assigned the ticket meanwhile: then there is no check) */
        rep = (v->owner_check.len
               && tk_str_eq(ngx_ticket_str(&v->owner_check), &new.owner)
               && ctx->nreplies > NGX_HTTP_TICKET_U_OWNER)
              ? &ctx->replies[NGX_HTTP_TICKET_U_OWNER] : NULL;

        if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->nelem != 3) {
            if (v->set_owner) {
                return ngx_http_ticket_view_refuse(r, ctx,
                                   NGX_HTTP_BAD_REQUEST,
                                   de ? "Diese Person gibt es nicht."
                                      : "There is no such agent.");
            }

            goto write;
        }

        ngx_http_ticket_reply_str(&rep->element[0], &login);
        ngx_http_ticket_reply_str(&rep->element[1], &rights);
        ngx_http_ticket_reply_str(&rep->element[2], &disabled);

        all_agents = ngx_http_ticket_set_has(
                         &ctx->replies[NGX_HTTP_TICKET_U_ALL_AGENTS],
                         (ngx_str_t *) &new.group);

        if (login.len == 0 || (disabled.len == 1 && disabled.data[0] == '1')) {
            return ngx_http_ticket_view_refuse(r, ctx, NGX_HTTP_BAD_REQUEST,
                                   de ? "Diese Person gibt es nicht."
                                      : "There is no such agent.");
        }

        if (tk_rights_get(ngx_ticket_str(&rights), &new.group, all_agents)
            == TK_RIGHT_NONE)
        {
            return ngx_http_ticket_view_refuse(r, ctx, NGX_HTTP_BAD_REQUEST,
                                   de ? "Diese Person hat keinen Zugriff "
                                        "auf die AG des Tickets."
                                      : "That agent has no access to the "
                                        "ticket's group.");
        }
    }

write:

    if (tk_str_eq(&new.title, &old.title)
        && tk_str_eq(&new.group, &old.group)
        && tk_str_eq(&new.owner, &old.owner)
        && new.state == old.state
        && new.priority == old.priority
        && new.pending_until == old.pending_until)
    {
        ngx_http_ticket_tx_abort(r, ctx);
        return ngx_http_ticket_view_back(r, v);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_ticket_update(cmds, &old, &new, ngx_ticket_str(&ctx->user.login),
                     (int64_t) ngx_time());

    if (cmds->failed) {
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_tx_commit(r, ctx, cmds,
                                     ngx_http_ticket_view_committed);
}


/* An error page for a change refused inside the transaction. */
static ngx_int_t
ngx_http_ticket_view_refuse(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_uint_t status, const char *message)
{
    ngx_http_ticket_tx_abort(r, ctx);

    return ngx_http_ticket_error(r, ctx, status, message);
}


/*
 * EXEC is done.  Someone else changed the ticket between our read and
 * our write: read it again and re-apply the change on top, a few times;
 * then give up with a message rather than overwrite their change.
 */
static ngx_int_t
ngx_http_ticket_view_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t               i;
    ngx_http_ticket_view_t  *v;

    v = ctx->view;

    if (ctx->tx_conflict) {
        ctx->tx_conflict = 0;

        if (++ctx->tx_retries < NGX_HTTP_TICKET_TX_RETRIES) {
            return ngx_http_ticket_view_begin(r, ctx);
        }

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "ticket: %V changed %ui times during an update, "
                      "giving up", &v->key, ctx->tx_retries);

        return ngx_http_ticket_error(r, ctx, NGX_HTTP_CONFLICT,
                                     ngx_http_ticket_lang_de(ctx)
                                     ? "Das Ticket wurde gerade von anderen "
                                       "ge\xc3\xa4ndert. Bitte versuche es "
                                       "noch einmal."
                                     : "The ticket was being changed by "
                                       "others. Please try again.");
    }

    for (i = 0; i < ctx->nreplies; i++) {
        if (ngx_http_ticket_reply_is_error(&ctx->replies[i])) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "ticket: writing %V failed: %V", &v->key,
                          &ctx->replies[i].str);
            return ngx_http_ticket_error(r, ctx,
                                         NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         NULL);
        }
    }

    return ngx_http_ticket_view_back(r, v);
}


/* 303 to the ticket page: the browser shows the result of the change. */
static ngx_int_t
ngx_http_ticket_view_back(ngx_http_request_t *r, ngx_http_ticket_view_t *v)
{
    u_char  *p, *last;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 2);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = ngx_sprintf(p, "t/%uL", v->number);

    return ngx_http_ticket_redirect(r, (char *) p, last - p);
}


/* ---- small helpers -------------------------------------------------------- */

/* Is member in a SMEMBERS reply?  Sets here are tens of names. */
static ngx_flag_t
ngx_http_ticket_set_has(ngx_http_ticket_reply_t *set, ngx_str_t *member)
{
    ngx_uint_t  i;

    if (set == NULL || set->type != REDIS_REPLY_ARRAY) {
        return 0;
    }

    for (i = 0; i < set->nelem; i++) {
        if (set->element[i].str.len == member->len
            && ngx_strncmp(set->element[i].str.data, member->data,
                           member->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * "2026-11-24T14:05" (datetime-local) or "2026-11-24 14:05" or
 * "2026-11-24" in the server's time zone -- the zone the page shows
 * times in.
 */
static ngx_int_t
ngx_http_ticket_parse_local_time(ngx_str_t *s, int64_t *t)
{
    u_char     *p;
    struct tm   tm;
    time_t      tt;
    ngx_int_t   y, mo, d, h, mi;

    p = s->data;
    h = 9;
    mi = 0;

    if ((s->len != 10 && s->len != 16 && s->len != 19)
        || p[4] != '-' || p[7] != '-')
    {
        return NGX_ERROR;
    }

    y = ngx_atoi(p, 4);
    mo = ngx_atoi(p + 5, 2);
    d = ngx_atoi(p + 8, 2);

    if (s->len >= 16) {
        if ((p[10] != 'T' && p[10] != ' ') || p[13] != ':') {
            return NGX_ERROR;
        }

        h = ngx_atoi(p + 11, 2);
        mi = ngx_atoi(p + 14, 2);

        if (s->len == 19 && (p[16] != ':' || ngx_atoi(p + 17, 2) < 0)) {
            return NGX_ERROR;
        }
    }

    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31
        || h < 0 || h > 23 || mi < 0 || mi > 59)
    {
        return NGX_ERROR;
    }

    ngx_memzero(&tm, sizeof(struct tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_isdst = -1;

    tt = mktime(&tm);
    if (tt == (time_t) -1 || tm.tm_mday != d) {
        return NGX_ERROR;
    }

    *t = (int64_t) tt;

    return NGX_OK;
}


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
