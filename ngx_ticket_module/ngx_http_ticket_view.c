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
 * then the lists the forms need (NGX_HTTP_TICKET_VIEW_LISTS of them,
 * unless the page cache has them), then SISMEMBER */
#define NGX_HTTP_TICKET_R_LISTS        3


static ngx_int_t ngx_http_ticket_view_show(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number, const char *again,
    ngx_str_t *message, ngx_http_ticket_compose_t *compose);
static ngx_int_t ngx_http_ticket_view_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_view_cache_get(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v);
static void ngx_http_ticket_view_raw_sizes(tk_cmds_t *cmds, uint64_t number,
    ngx_http_ticket_reply_t *ids);
static ngx_int_t ngx_http_ticket_view_parts(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_view_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_view_thread(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_view_page_t *page);
static void ngx_http_ticket_view_body(tk_out_t *out, void *data);



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

        return ngx_http_ticket_view_show(r, ctx, number, NULL, NULL, NULL);
    }

    if (rest.len > 3 && ngx_strncmp(rest.data, "/a/", 3) == 0) {
        uint64_t  art;
        size_t    k;

        /* "/a/A/split" (issue 13) */
        k = ngx_http_ticket_number(rest.data + 3, rest.data + rest.len, &art);
        if (k && rest.len == 3 + k + 6
            && ngx_strncmp(rest.data + 3 + k, "/split", 6) == 0)
        {
            return ngx_http_ticket_split_form(r, ctx, number, art);
        }

        return ngx_http_ticket_download(r, ctx, number, &rest);
    }

    if (rest.len == 7 && ngx_strncmp(rest.data, "/update", 7) == 0) {
        action = NGX_HTTP_TICKET_UPDATE;

    } else if (rest.len == 6 && ngx_strncmp(rest.data, "/title", 6) == 0) {
        action = NGX_HTTP_TICKET_RENAME;

    } else if (rest.len == 6 && ngx_strncmp(rest.data, "/reply", 6) == 0) {
        return r->method == NGX_HTTP_POST
               ? ngx_http_ticket_reply(r, ctx, number)
               : ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);

    } else if (rest.len == 9 && ngx_strncmp(rest.data, "/security", 9) == 0) {
        return ngx_http_ticket_compose_security_json(r, ctx, number);

    } else if (rest.len == 9 && ngx_strncmp(rest.data, "/complete", 9) == 0) {
        return ngx_http_ticket_complete(r, ctx, number);

    } else if (rest.len == 5 && ngx_strncmp(rest.data, "/tags", 5) == 0) {
        return ngx_http_ticket_tags_form(r, ctx, number);

    } else if (rest.len == 6 && ngx_strncmp(rest.data, "/merge", 6) == 0) {
        return ngx_http_ticket_merge_form(r, ctx, number);

    } else if (rest.len == 13
               && ngx_strncmp(rest.data, "/subscription", 13) == 0)
    {
        return ngx_http_ticket_subscription(r, ctx, number, 0);

    } else {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    return ngx_http_ticket_action(r, ctx, number, action);
}


/* ---- the page ------------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_view_again(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number, const char *field, ngx_str_t *message)
{
    ctx->page = "ticket";

    return ngx_http_ticket_view_show(r, ctx, number, field, message, NULL);
}


/*
 * First batch: the ticket, its article ids, its history, and the lists
 * the forms need (users, groups, all-agents groups) -- read before the
 * rights are known because it saves a round trip and costs little.
 */
ngx_int_t
ngx_http_ticket_view_compose_again(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number, ngx_http_ticket_compose_t *c)
{
    return ngx_http_ticket_view_show(r, ctx, number, NULL, NULL, c);
}


static ngx_int_t
ngx_http_ticket_view_show(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number, const char *again, ngx_str_t *message,
    ngx_http_ticket_compose_t *compose)
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
    v->compose = compose;

    if (again) {
        v->again = again;
        v->again_message = *message;
    }

    /* "?unseen=a,b": a reply just mentioned agents who were not told */
    if (again == NULL && compose == NULL
        && ngx_http_ticket_mention_notice(r, ctx) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

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

    if (ngx_http_ticket_view_lists_get(r, ctx, v) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_ticket_ticket_read(cmds, &v->key);
    ngx_http_ticket_view_lists_read(cmds, v);
    /* the subscribe button (per user: outside the page cache) */
    tk_cmds_add(cmds, "SISMEMBER " TK_FMT_SUBSCRIBERS " %S",
                (unsigned long long) number,
                ngx_ticket_str(&ctx->user.login));

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_view_read);
}


/*
 * The ticket is in: check the right (none: the 404 of a missing ticket),
 * then read every article -- unless the page cache has them for the
 * ticket's revision -- and the users that could own it.
 */
static ngx_int_t
ngx_http_ticket_view_read(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                *cmds;
    ngx_uint_t                i, sub;
    ngx_http_ticket_view_t   *v;
    ngx_http_ticket_reply_t  *users;

    v = ctx->view;
    sub = NGX_HTTP_TICKET_R_LISTS
          + (v->lists_cached ? 0 : NGX_HTTP_TICKET_VIEW_LISTS);

    if (ctx->nreplies <= sub) {
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

    /* a refused form of someone who may not change the ticket at all:
     * that is the answer, not the form (which they do not get) */
    if (v->again && v->right != TK_RIGHT_FULL) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_FORBIDDEN,
                                     ngx_http_ticket_msg(ctx,
                                         TK_MSG_COMMON_YOU_HAVE_READ_ACCESS_TO_THIS));
    }

    v->history = &ctx->replies[NGX_HTTP_TICKET_READ_HISTORY];
    v->ids = &ctx->replies[NGX_HTTP_TICKET_READ_ARTICLES];
    ngx_http_ticket_view_lists_set(r, ctx, v,
                                   &ctx->replies[NGX_HTTP_TICKET_R_LISTS]);
    users = v->users;
    v->subscribed = (ctx->replies[sub].integer == 1);

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->cache
        && (ngx_http_ticket_view_cache_get(r, ctx, v) != NGX_OK
            || ngx_http_ticket_view_users_cached(r, ctx, v) != NGX_OK))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* replies: one HGETALL per article, one STRLEN of each raw mail,
     * then one HMGET per user */
    if (!v->cached) {
        v->narticles = ngx_http_ticket_articles_read(cmds, v->number,
                               &ctx->replies[NGX_HTTP_TICKET_READ_ARTICLES]);
        ngx_http_ticket_view_raw_sizes(cmds, v->number,
                               &ctx->replies[NGX_HTTP_TICKET_READ_ARTICLES]);
    }

    v->users_base = cmds->n;

    if (v->users_list) {
        /* the page cache had them */

    } else if (v->right == TK_RIGHT_FULL && users->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < users->nelem; i++) {
            if (!tk_valid_login(ngx_ticket_str(&users->element[i].str))) {
                tk_cmds_add(cmds, "ECHO -");
                continue;
            }

            tk_cmds_add(cmds, "HMGET " TK_FMTS_USER " " TK_F_NAME " "
                        TK_F_RIGHTS " " TK_F_DISABLED,
                        ngx_ticket_str(&users->element[i].str));
        }

    } else if (v->ticket.owner.len && tk_valid_login(&v->ticket.owner)) {
        /* read only: just the owner's name */
        tk_cmds_add(cmds, "HMGET " TK_FMTS_USER " " TK_F_NAME " "
                    TK_F_RIGHTS " " TK_F_DISABLED, &v->ticket.owner);
    }

    /* every user's name comes with the owner choice (full right) */
    if (ngx_http_ticket_view_history_read(r, v, cmds,
                                          v->users_list != NULL
                                          || v->right == TK_RIGHT_FULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if ((v->right == TK_RIGHT_FULL || v->compose)
        && ngx_http_ticket_compose_reads(r, ctx, v, cmds) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
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
 * The articles as rendered for this revision of the ticket ("rev", read
 * with the ticket, before any article): every write to the ticket or an
 * article bumps it in the same MULTI.  The key is what else the articles'
 * HTML depends on -- the location (links), the language, the article
 * whose remote images are shown -- and nothing about the user: whoever
 * may read the ticket (checked just before) sees the same articles.
 */
static ngx_int_t
ngx_http_ticket_view_cache_get(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v)
{
    u_char                      *p;
    long long                    rev;
    ngx_str_t                   *value;
    ngx_http_ticket_loc_conf_t  *lcf;

    value = ngx_http_ticket_reply_field(
                              &ctx->replies[NGX_HTTP_TICKET_READ_TICKET],
                              TK_F_REV);

    /* no rev yet: a ticket never written since it was created */
    rev = (value == NULL) ? 0 : tk_str_atoll(ngx_ticket_str(value));

    if (rev < 0) {
        return NGX_OK;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    p = ngx_pnalloc(r->pool, sizeof("tk|||||") + 1 + lcf->base_url.len
                             + ctx->user.lang.len + 2 * NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->cache.key.data = p;
    /* the reply links of articles are for those who may reply */
    v->cache.key.len = ngx_sprintf(p, "tk|%V|%uL|%V|%uL|%i", &lcf->base_url,
                                   v->number, &ctx->user.lang, v->images,
                                   v->right)
                       - p;
    v->cache.version = (uint64_t) rev;

    switch (ngx_http_ticket_cache_get(r, ctx, &v->cache)) {
    case NGX_OK:
        v->cached = 1;
        return NGX_OK;
    case NGX_DECLINED:
        return NGX_OK;
    default:
        return NGX_ERROR;
    }
}


/*
 * STRLEN of every article's raw mail, for the ".eml" link (is there
 * one?): exactly the
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
            ngx_http_ticket_reply_value(&v->second[i], TK_F_PGP_SIG,
                                        &va->pgp_sig);
            break;

        case NGX_DECLINED:
            continue;

        default:
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "ticket: an article of ticket %uL is not valid",
                          v->number);
            continue;
        }

        /* STRLEN says whether the raw mail is there; it is stored
         * gzip-compressed, so the size shown is the article's "size"
         * (as received) when it has one */
        raw = &v->second[v->narticles + i];
        va->raw_size = (raw->type == REDIS_REPLY_INTEGER) ? raw->integer : 0;
        if (va->raw_size > 0 && va->a.size > 0) {
            va->raw_size = (long long) va->a.size;
        }
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
    tk_tpl_ticket_t              *head;
    tk_tpl_ticket_side_t         *side;
    ngx_http_ticket_view_t       *v;
    ngx_http_ticket_view_page_t  *page;

    v = ctx->view;
    t = &v->ticket;
    de = ngx_http_ticket_lang_de(ctx);

    if (!v->compose_loaded && (v->right == TK_RIGHT_FULL || v->compose)) {
        return ngx_http_ticket_compose_load(r, ctx, v,
                                            ngx_http_ticket_view_render);
    }

    page = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_view_page_t));
    if (page == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    head = &page->head;
    side = &page->side;

    head->de = de;
    head->can_write = (v->right == TK_RIGHT_FULL);
    head->csrf = *ngx_ticket_str(&ctx->csrf);
    head->title = t->title;
    head->group = t->group;
    head->has_owner = t->owner.len ? 1 : 0;
    head->owner_name = t->owner;

    side->de = de;
    side->can_write = head->can_write;
    side->csrf = head->csrf;
    side->group = t->group;
    side->owner_login = t->owner;
    side->customer_name = t->customer_name.len ? t->customer_name
                                               : t->customer_email;
    if (t->customer_name.len) {
        side->customer_email = t->customer_email;
    }

    ngx_http_ticket_state_label(ctx, t->state, &head->state);
    ngx_http_ticket_prio_label(ctx, t->priority, &head->priority);

    if (ngx_http_ticket_uint_str(r, t->number, &head->number) != NGX_OK
        || ngx_http_ticket_uint_str(r, t->state, &head->state_id) != NGX_OK
        || ngx_http_ticket_uint_str(r, t->priority, &head->priority_id)
           != NGX_OK
        || ngx_http_ticket_time_str(r, t->created, &side->created) != NGX_OK
        || ngx_http_ticket_time_str(r, t->updated, &side->updated) != NGX_OK
        || ngx_http_ticket_iso_str(r, t->created, &side->created_iso)
           != NGX_OK
        || ngx_http_ticket_iso_str(r, t->updated, &side->updated_iso)
           != NGX_OK
        || ngx_http_ticket_url(r, "", 0, &head->back_url) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    side->state_id = head->state_id;
    side->priority_id = head->priority_id;

    if (t->pending_until) {
        if (ngx_http_ticket_time_str(r, t->pending_until,
                                     &side->pending_label)
                != NGX_OK
            || ngx_http_ticket_view_local_input(r, t->pending_until,
                                           &side->pending_until)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    side->was_pending_until = side->pending_until;

    if (ngx_http_ticket_view_escalation(r, t, side) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    head->rename_url.data = ngx_pnalloc(r->pool, 2 * NGX_INT64_LEN + 32);
    side->update_url.data = ngx_pnalloc(r->pool, 2 * NGX_INT64_LEN + 32);
    if (head->rename_url.data == NULL || side->update_url.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    head->rename_url.len = ngx_sprintf(head->rename_url.data, "t/%uL/title",
                                       t->number) - head->rename_url.data;
    side->update_url.len = ngx_sprintf(side->update_url.data,
                                       "t/%uL/update", t->number)
                           - side->update_url.data;
    side->subscribed = v->subscribed;
    if (ngx_http_ticket_view_sub_url(r, t->number, &side->subscription_url)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_ticket_url(r, (char *) head->rename_url.data,
                            head->rename_url.len, &head->rename_url)
            != NGX_OK
        || ngx_http_ticket_url(r, (char *) side->update_url.data,
                               side->update_url.len, &side->update_url)
           != NGX_OK
        || ngx_http_ticket_view_thread(r, ctx, v, page) != NGX_OK
        || ngx_http_ticket_view_options(r, ctx, v, page) != NGX_OK
        || ngx_http_ticket_view_owners(r, ctx, v, page) != NGX_OK
        || ngx_http_ticket_view_history(r, ctx, v, side) != NGX_OK
        || ngx_http_ticket_view_case(r, ctx, v, page) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    title.data = t->title.data;
    title.len = t->title.len;

    if (title.len == 0) {
        title.data = (u_char *) ngx_http_ticket_msg(ctx, TK_MSG_COMMON_TICKET);
        title.len = ngx_strlen(title.data);
    }

    page->compose = v->compose ? v->compose->tpl : NULL;

    /* a refused form: the page again, with what it said (422); a reply
     * that came back says its own status (400, 409) */
    return ngx_http_ticket_page(r, ctx,
                                (v->compose && v->compose->status)
                                ? v->compose->status
                                : v->again ? 422 : NGX_HTTP_OK,
                                &title, ngx_http_ticket_view_body, page);
}


/*
 * The articles: from the cache, or rendered and then cached under the
 * revision read before them.  A page that shows an article's remote
 * images needs the CSP that allows them, cached or not.
 */
static ngx_int_t
ngx_http_ticket_view_thread(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_view_t *v, ngx_http_ticket_view_page_t *page)
{
    off_t         len;
    tk_out_t      out;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (v->cached) {
        if (v->cache.flags & NGX_HTTP_TICKET_CACHE_CSP_IMAGES) {
            ctx->csp = NGX_HTTP_TICKET_CSP_IMAGES;
        }

        if (v->cache.body.len == 0) {
            return NGX_OK;
        }

        b = ngx_calloc_buf(r->pool);
        cl = ngx_alloc_chain_link(r->pool);
        if (b == NULL || cl == NULL) {
            return NGX_ERROR;
        }

        b->pos = v->cache.body.data;
        b->last = v->cache.body.data + v->cache.body.len;
        b->memory = 1;

        cl->buf = b;
        cl->next = NULL;
        page->articles = cl;

        return NGX_OK;
    }

    page->thread.de = page->head.de;
    v->cache.flags = 0;

    if (ngx_http_ticket_view_articles(r, ctx, v, &page->thread,
                                      &v->cache.flags)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (v->cache.flags & NGX_HTTP_TICKET_CACHE_CSP_IMAGES) {
        ctx->csp = NGX_HTTP_TICKET_CSP_IMAGES;
    }

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_ERROR;
    }

    tk_tpl_thread(&out, &page->thread);

    if (ngx_http_ticket_out_chain(&out, &page->articles, &len) != NGX_OK) {
        return NGX_ERROR;
    }

    if (v->cache.key.len) {
        ngx_http_ticket_cache_put(r, ctx, &v->cache, page->articles);
    }

    return NGX_OK;
}


static void
ngx_http_ticket_view_body(tk_out_t *out, void *data)
{
    ngx_http_ticket_view_page_t  *page = data;

    tk_tpl_ticket(out, &page->head);
    (void) ngx_http_ticket_out_link(out, page->articles);

    if (page->compose) {
        tk_tpl_compose(out, page->compose);
    }

    tk_tpl_ticket_side(out, &page->side);
}
