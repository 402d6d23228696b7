/*
 * ngx_http_ticket_view.h -- what the ticket page's files share: the
 * page's state between its batches and the parts that fill the template.
 *   ngx_http_ticket_view.c          routing, the reads, the page
 *   ngx_http_ticket_view_article.c  articles: bodies, HTML mail, files
 *   ngx_http_ticket_view_form.c     the options of the change forms
 *   ngx_http_ticket_view_history.c  the history, people by their names
 */

#ifndef NGX_HTTP_TICKET_VIEW_H
#define NGX_HTTP_TICKET_VIEW_H

#include "ngx_http_ticket_views.h"
#include "ngx_http_ticket_cache.h"
#include "ngx_http_ticket_compose.h"
#include "tk_tpl.h"


/* Parts of one mail listed on the page; more are rare, and reachable. */
#define NGX_HTTP_TICKET_MAX_PARTS      200

/* Fields of a part the list shows, in HMGET order (never its data). */
#define NGX_HTTP_TICKET_PART_FIELDS                                          \
    TK_F_NAME " " TK_F_CONTENT_TYPE " " TK_F_SIZE
#define NGX_HTTP_TICKET_PART_NFIELDS   3


/* users, groups, all-agents groups, tags, template names */
#define NGX_HTTP_TICKET_VIEW_LISTS     5


/* A user as the owner choice knows them. */
typedef struct {
    ngx_str_t                  login;
    ngx_str_t                  name;
    ngx_flag_t                 eligible;        /* enabled, a right on the
                                                   ticket's group */
    ngx_str_t                  groups;          /* "ALSO legal ": of the
                                                   viewer's groups those the
                                                   user may own tickets in */
} ngx_http_ticket_view_user_t;


/* An article as the page shows it, with what the later batches say. */
typedef struct {
    tk_article_t               a;
    long long                  raw_size;        /* 0: no raw mail kept */
    ngx_uint_t                 parts;           /* listed attachments */
    ngx_uint_t                 first;           /* its first part reply */
    ngx_str_t                  pgp_sig;         /* TK_F_PGP_SIG, or "" */
} ngx_http_ticket_view_art_t;


typedef struct {
    uint64_t                   number;
    ngx_str_t                  key;             /* tk:{t:N} */
    tk_ticket_t                ticket;
    ngx_int_t                  right;
    uint64_t                   images;          /* ?images=A: load them */
    const char                *again;           /* a refused form: field */
    ngx_str_t                  again_message;
    ngx_http_ticket_reply_t   *history;
    ngx_http_ticket_reply_t   *users;           /* SMEMBERS tk:users */
    ngx_http_ticket_reply_t   *groups;          /* SMEMBERS tk:groups */
    ngx_http_ticket_reply_t   *all_agents;
    ngx_http_ticket_reply_t   *tag_names;       /* ZREVRANGE tk:{ix}:tags */
    ngx_http_ticket_reply_t   *templates;       /* SORT tk:templates names */
    /* those five from the page cache (ngx_http_ticket_view_cached.c) */
    ngx_http_ticket_cache_item_t  lists_cache;
    ngx_http_ticket_reply_t    lists[NGX_HTTP_TICKET_VIEW_LISTS];
    unsigned                   lists_cached:1;
    ngx_flag_t                 subscribed;      /* the user follows it */
    ngx_uint_t                 narticles;

    /* the second batch: per article HGETALL, then per article STRLEN of
     * its raw mail, then per user HMGET (from users_base on) */
    ngx_http_ticket_reply_t   *second;
    ngx_uint_t                 nsecond;
    ngx_uint_t                 users_base;

    ngx_http_ticket_view_art_t *arts;
    ngx_uint_t                 narts;

    /* the page cache: the articles as thread.html made them, per ticket
     * revision (cache.body on a hit); the users for the owner choice, per
     * group and generation */
    ngx_http_ticket_cache_item_t  cache;
    unsigned                   cached:1;
    ngx_http_ticket_cache_item_t  users_cache;
    ngx_array_t               *users_list;      /* view_user_t, or NULL */

    /* the history's entries; without users_list, the logins they name
     * (ngx_str_t), whose HGET name replies start at names_base */
    ngx_http_ticket_hist_t    *hist;
    ngx_uint_t                 nhist;
    ngx_array_t               *name_logins;
    ngx_uint_t                 names_base;
    /* the composer (ngx_http_ticket_compose.c): the form as posted when
     * a reply comes back, the article ids of the first batch */
    ngx_http_ticket_compose_t *compose;
    ngx_http_ticket_reply_t   *ids;
    unsigned                   compose_loaded:1;
} ngx_http_ticket_view_t;


/* The page: ticket.html, the articles (thread.html), ticket_side.html. */
typedef struct {
    tk_tpl_ticket_t            head;
    tk_tpl_thread_t            thread;
    tk_tpl_ticket_side_t       side;
    ngx_chain_t               *articles;        /* thread.html's output */
    tk_tpl_compose_t          *compose;         /* NULL: no composer */
} ngx_http_ticket_view_page_t;


/* Articles, their bodies and files (ngx_http_ticket_view_article.c);
 * sets NGX_HTTP_TICKET_CACHE_CSP_IMAGES in *flags when the page needs
 * the CSP that lets remote images load. */
ngx_int_t ngx_http_ticket_view_articles(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    tk_tpl_thread_t *tpl, ngx_uint_t *flags);

/* Tags, merge form, merged note, customer link (ngx_http_ticket_view_case.c) */
ngx_int_t ngx_http_ticket_view_case(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_view_page_t *page);

/* The change forms' choices, the owner's name (ngx_http_ticket_view_form.c). */
/* The value of a datetime-local input for t, in the server's zone, and
 * the escalation time with its warning colour (ngx_http_ticket_view_form.c) */
ngx_int_t ngx_http_ticket_view_local_input(ngx_http_request_t *r, int64_t t,
    tk_str_t *str);
ngx_int_t ngx_http_ticket_view_escalation(ngx_http_request_t *r,
    const tk_ticket_t *t, tk_tpl_ticket_side_t *side);
ngx_int_t ngx_http_ticket_view_options(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_view_page_t *page);
ngx_int_t ngx_http_ticket_view_owners(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_view_page_t *page);
/* The history (ngx_http_ticket_view_history.c): its entries parsed
 * after the first batch, adding the names to read to the second unless
 * the page reads every user anyway (have_users); then its sentences. */
ngx_int_t ngx_http_ticket_view_history_read(ngx_http_request_t *r,
    ngx_http_ticket_view_t *v, tk_cmds_t *cmds, ngx_flag_t have_users);
ngx_int_t ngx_http_ticket_view_history(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    tk_tpl_ticket_side_t *tpl);
/* A refused form's value of name when the agent changed it (posted and
 * different from was_NAME): NGX_OK; else NGX_DECLINED. */
ngx_int_t ngx_http_ticket_view_posted(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v, const char *name,
    ngx_str_t *value);
/* The users from the cache (v->users_list), if it has them. */
ngx_int_t ngx_http_ticket_view_users_cached(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v);

/*
 * The composer (ngx_http_ticket_compose.c) for a user with full right:
 * compose_reads adds its first reads to the page's second batch;
 * compose_load reads the rest once the page's batches are in
 * (ctx->replies is kept for step), then runs step again with
 * v->compose_loaded set.
 * compose_again: the ticket page once more, with the composer as posted
 * (a reply that was not sent).
 */
ngx_int_t ngx_http_ticket_compose_reads(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v, tk_cmds_t *cmds);
ngx_int_t ngx_http_ticket_compose_load(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_step_pt step);
/* The composer's template from what it read
 * (ngx_http_ticket_compose_form.c). */
ngx_int_t ngx_http_ticket_compose_tpl(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_compose_t *c, ngx_http_ticket_compose_load_t *ld,
    ngx_http_ticket_security_t *sec);
/* An article's Reply-To, List-Id, delivery state and reply links. */
ngx_int_t ngx_http_ticket_compose_article(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v, tk_article_t *a,
    tk_tpl_thread_articles_t *art);
/* What the page keeps in the cache besides its thread
 * (ngx_http_ticket_view_cached.c): the global lists under tk:{ix}:gen --
 * lists_get before the first batch, lists_read adds their reads unless
 * it had them, lists_set points v at them (and keeps what was read) --
 * and the composer's article reads under the ticket's rev. */
ngx_int_t ngx_http_ticket_view_lists_get(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v);
void ngx_http_ticket_view_lists_read(tk_cmds_t *cmds,
    ngx_http_ticket_view_t *v);
void ngx_http_ticket_view_lists_set(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_reply_t *rep);
ngx_int_t ngx_http_ticket_compose_cache_get(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_compose_load_t *ld, uint64_t reply);
void ngx_http_ticket_compose_cache_put(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_compose_load_t *ld);
/* the quoted mail escaped, from the cache (NGX_OK: ld->quote_html), and
 * the textarea's text: the quote escaped (kept for the next view) or the
 * text as it is */
ngx_int_t ngx_http_ticket_compose_quote_cached(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_compose_t *c, ngx_http_ticket_compose_load_t *ld);
ngx_int_t ngx_http_ticket_compose_body(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_compose_t *c,
    ngx_http_ticket_compose_load_t *ld, tk_str_t *body, tk_str_t *html);
ngx_int_t ngx_http_ticket_view_compose_again(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number,
    ngx_http_ticket_compose_t *c);

#endif /* NGX_HTTP_TICKET_VIEW_H */
