/*
 * ngx_http_ticket_overview.h -- what the overview view's files share:
 * the overviews there are, and the view's state between its steps.
 *   ngx_http_ticket_overview_page.c  the entry point and the page
 *   ngx_http_ticket_overview_def.c   which overview: names, definitions,
 *                                    filters, the cache key
 *   ngx_http_ticket_overview_saved.c saved overviews: loaded, the sidebar
 *   ngx_http_ticket_overview_save.c  ... saved, changed, deleted
 *   ngx_http_ticket_overview.c       which tickets an overview lists
 *   ngx_http_ticket_overview_sets.c  ... when a set decides (escalated,
 *                                    reminders due, a tag, a customer)
 *   ngx_http_ticket_overview_filter.c customer and created range; the
 *                                    ad hoc filters of links
 *   ngx_http_ticket_overview_probe.c ... a customer's id from an address,
 *                                    a created range as ticket numbers
 * The page file uses the others, never the other way round.
 */

#ifndef NGX_HTTP_TICKET_OVERVIEW_H
#define NGX_HTTP_TICKET_OVERVIEW_H

#include "ngx_http_ticket_views.h"
#include "ngx_http_ticket_cache.h"
#include "tk_tpl.h"


/* Owner kinds of the overviews; a partition's owner is one of these. */
#define NGX_HTTP_TICKET_OWNER_ME       0
#define NGX_HTTP_TICKET_OWNER_NONE     1
#define NGX_HTTP_TICKET_OWNER_ANY      2
#define NGX_HTTP_TICKET_OWNER_OTHER    3        /* API: someone else */
#define NGX_HTTP_TICKET_OWNER_AUTO     4        /* unassigned, flag auto */

#define NGX_HTTP_TICKET_OV_GROUP       ((ngx_uint_t) -1)   /* "group-NAME" */
#define NGX_HTTP_TICKET_OV_SAVED       ((ngx_uint_t) -2)   /* "ID"         */
#define NGX_HTTP_TICKET_OV_UNASSIGNED_G ((ngx_uint_t) -3)  /* G + shared  */
#define NGX_HTTP_TICKET_OV_ESCALATED_G ((ngx_uint_t) -4)   /* "escalated-G" */
#define NGX_HTTP_TICKET_OV_N           ((ngx_uint_t) 9)    /* named ones */

/* An overview narrowed to what a set says (ngx_http_ticket_overview_sets.c) */
#define NGX_HTTP_TICKET_ONLY_ESCALATED 1
#define NGX_HTTP_TICKET_ONLY_REMINDER  2

/* States as a bit mask: bit s for state s. */
#define NGX_HTTP_TICKET_STATES_OPEN    0x3e             /* 1..5 */
#define NGX_HTTP_TICKET_STATES_ALL     0x7e             /* 1..6 */

/*
 * Sidebar counts per visible group: the fields of tk:{ix}:counts in this
 * order.  Every overview is a sum over a subset of them.
 */
#define NGX_HTTP_TICKET_CF_ANY         0        /* states 1..6, owner "*" */
#define NGX_HTTP_TICKET_CF_NONE        6        /* states 1..5, owner "-" */
#define NGX_HTTP_TICKET_CF_ME          11       /* states 1..5, owner me  */
#define NGX_HTTP_TICKET_CF_AUTO        16       /* states 1..5, owner "!" */
#define NGX_HTTP_TICKET_CF_PER_GROUP   21

/* Read at most this many tickets of a set (escalated, reminders, tag). */
#define NGX_HTTP_TICKET_SET_CAP        1000

/* A saved overview the user may see, as loaded (its definition is parsed
 * when it is the one shown, its sidebar count from its conditions). */
typedef struct {
    ngx_uint_t                 id;
    ngx_str_t                  def;             /* "name=...&states=..." */
    ngx_str_t                  name;
    ngx_str_t                  key;             /* "17", the URL name */
    unsigned                   personal:1;
} ngx_http_ticket_saved_t;


typedef struct {
    const char                *name;
    int                        label;           /* TK_MSG_OVERVIEW_OV_* */
    int                        empty;
    ngx_int_t                  state_min;
    ngx_int_t                  state_max;
    ngx_uint_t                 owner;           /* NGX_HTTP_TICKET_OWNER_* */
    ngx_uint_t                 only;            /* NGX_HTTP_TICKET_ONLY_* */
} ngx_http_ticket_ov_def_t;


typedef struct ngx_http_ticket_overview_s  ngx_http_ticket_overview_t;

/* One entry of the sidebar: its link name, label, count. */
typedef struct {
    ngx_str_t                  name;            /* "my", "group-legal", "17" */
    ngx_str_t                  label;
    ngx_int_t                  count;           /* -1: not known */
    ngx_uint_t                 first;           /* its count replies ... */
    ngx_uint_t                 n;               /* ... in the counts batch */
    unsigned                   group:1;         /* a per-group entry */
    unsigned                   saved:1;
    unsigned                   personal:1;
    unsigned                   current:1;
    unsigned                   pri:1;           /* from tk:{ix}:counts:pri */
    ngx_http_ticket_overview_t *scratch;        /* counted from the HMGET */
    uint16_t                  *idx;             /* ... or the sum of these
                                                   fields (kept entries) */
    ngx_uint_t                 nidx;
} ngx_http_ticket_ov_item_t;


/* The overview view's state; the query comes first (see views.h). */
struct ngx_http_ticket_overview_s {
    ngx_http_ticket_query_t    query;
    ngx_uint_t                 def;             /* index, or OV_GROUP */
    ngx_str_t                  name;            /* "my", "group-legal" */
    ngx_str_t                  group;           /* of "group-NAME" */
    ngx_int_t                  state_min;
    ngx_int_t                  state_max;
    ngx_uint_t                 owner_kind;
    ngx_str_t                  owner;           /* partition owner */

    ngx_int_t                  filter_state;    /* 0: any */
    ngx_int_t                  filter_prio;
    ngx_str_t                  filter_group;    /* "": any */
    ngx_str_t                  filter_owner;    /* API: login or "-" */
    ngx_uint_t                 page;
    unsigned                   home:1;          /* "/": my, or unassigned */

    /* the conditions beyond (groups, states range, owner) */
    ngx_uint_t                 states;          /* mask, see STATES_* */
    ngx_array_t               *groups_in;       /* ngx_str_t; NULL: any */
    ngx_uint_t                 only;            /* NGX_HTTP_TICKET_ONLY_* */
    ngx_str_t                  tag;             /* "": any */
    ngx_str_t                  filter_tag;      /* ad hoc */
    ngx_uint_t                 filter_only;
    ngx_str_t                  filter_who;      /* ad hoc owner, as sent */
    ngx_int_t                  def_column;      /* saved sort, or -1 */
    ngx_int_t                  cond_prio;       /* saved priority, or 0 */
    ngx_uint_t                 columns;         /* shown: mask, 0 all */
    int64_t                    upd_from;        /* updated range, Unix s */
    int64_t                    upd_to;          /* inclusive; 0: open */
    ngx_str_t                  filter_from;     /* ad hoc, as typed */
    ngx_str_t                  filter_to;
    unsigned                   filter_columns:1;
    ngx_flag_t                 def_desc;

    /* customer and created range (ngx_http_ticket_overview_filter.c) */
    uint64_t                   customer;        /* id; 0: any */
    ngx_str_t                  cust_email;      /* by address: to resolve */
    ngx_str_t                  filter_cust;     /* ad hoc, as typed */
    int64_t                    crt_from;        /* created range, Unix s */
    int64_t                    crt_to;          /* inclusive; 0: open */
    ngx_str_t                  filter_cfrom;    /* ad hoc, as typed */
    ngx_str_t                  filter_cto;
    ngx_http_ticket_step_pt    cond_next;
    void                      *probe;           /* created -> numbers */
    unsigned                   nothing:1;       /* filters exclude all */
    unsigned                   counts_sent:1;   /* the MGET is reply 0 */

    /* saved overviews (loaded first), the shared groups (all agents) */
    ngx_array_t                saved;           /* ngx_http_ticket_saved_t */
    ngx_http_ticket_saved_t   *current;         /* the one shown, or NULL */
    ngx_http_ticket_reply_t   *all_agents;      /* SMEMBERS reply */
    ngx_uint_t                 extra;           /* first extra count reply */
    ngx_http_ticket_reply_t   *replies;         /* of the counts batch */
    ngx_uint_t                 nreplies;
    ngx_array_t                items;           /* ngx_http_ticket_ov_item_t */
    ngx_array_t                pri_fields;      /* tk_str_t, of the HMGET */
    ngx_uint_t                 pri_reply;       /* its reply, from extra */

    ngx_uint_t                *count_vals;      /* tk:{ix}:cv:*, parsed */
    ngx_uint_t                 count_n;         /* values in count_vals */

    /* the page cache: key and version when this page may be cached */
    ngx_http_ticket_cache_item_t  cache;

    /* loading, saving */
    ngx_http_ticket_step_pt    loaded_next;
    ngx_http_ticket_step_pt    set_done;        /* sets: the page's done */
    ngx_str_t                  api_name;        /* the API's NAME */
    unsigned                   items_only:1;    /* API: the list, no page */
    ngx_uint_t                 save_id;
    ngx_str_t                  save_def;
    unsigned                   save_shared:1;
};


extern ngx_http_ticket_ov_def_t  ngx_http_ticket_ov_defs[NGX_HTTP_TICKET_OV_N];

/* ---- the sidebar's counts (ngx_http_ticket_overview_counts.c) ---------- */

/* The MGET of the visible groups' counts vectors into cmds (none when
 * the user sees no group); sets ov->counts_sent. */
ngx_int_t ngx_http_ticket_overview_counts_cmd(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_cmds_t *cmds);
/* Its reply into ov->count_vals / count_n. */
ngx_int_t ngx_http_ticket_overview_counts_parse(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_http_ticket_reply_t *mget);
/* One count of the sidebar reply: visible group g, state, owner kind. */
ngx_uint_t ngx_http_ticket_overview_count(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov, ngx_uint_t g, ngx_int_t state,
    ngx_uint_t owner_kind);
/* Where among the counts one is: -1 where it has none. */
ngx_int_t ngx_http_ticket_overview_count_at(ngx_uint_t g, ngx_int_t state,
    ngx_uint_t owner_kind);

/* Which overview, page, sort and filters (ctx->view = ov): NGX_OK,
 * NGX_DECLINED (no such overview for this user: 404) or NGX_ERROR. */
ngx_int_t ngx_http_ticket_overview_parse(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov);

/* ov->cache's key and version for this request's page. */
ngx_int_t ngx_http_ticket_overview_cache_key(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov);

/* Read the counts, then the query; ov->query.done gets the result. */
ngx_int_t ngx_http_ticket_overview_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* One row as HTML (ngx_http_ticket_overview_row.c): from the row cache,
 * else rendered and kept.  columns: the shown ones (mask, 0: all);
 * prefix: the rows' common part of the cache key, from _row_prefix()
 * once per page. */
ngx_int_t ngx_http_ticket_overview_row_prefix(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t columns, ngx_str_t *prefix);
ngx_int_t ngx_http_ticket_overview_row(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t columns, ngx_str_t *prefix,
    ngx_http_ticket_row_t *src, tk_str_t *html);

/* ---- ngx_http_ticket_overview.c, for the saved ones ---------------------- */

/* An overview by name ("my", "group-G", "17"); NGX_DECLINED: none such
 * for this user.  ov->saved and ov->all_agents must be loaded. */
ngx_int_t ngx_http_ticket_overview_resolve_name(ngx_http_ticket_ctx_t *ctx,
    ngx_str_t *name, ngx_http_ticket_overview_t *ov);

/* Apply a definition ("states=1,2&owner=me...") to ov, which resolve()
 * set up as "all"; NGX_ERROR only for memory: what is not valid is left
 * out, a group the user cannot read never gets in. */
ngx_int_t ngx_http_ticket_overview_apply(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_str_t *def);

/* Sum of the sidebar counts over ov's groups, states and owner; -1 when
 * they cannot say (a priority, a set, a person). */
ngx_int_t ngx_http_ticket_overview_sum(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov);
ngx_flag_t ngx_http_ticket_overview_summable(ngx_http_ticket_overview_t *ov);
ngx_uint_t ngx_http_ticket_overview_sum_fields(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov, uint16_t *idx);

/* Commands counting ov's partitions (priority: ZCOUNT, else ZCARD)
 * into cmds; returns how many (their replies are summed). */
ngx_uint_t ngx_http_ticket_overview_part_counts(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_cmds_t *cmds);

/* Is group g (index into ctx->groups) one ov covers? */
ngx_flag_t ngx_http_ticket_overview_has_group(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov, ngx_uint_t g);

/* ---- ngx_http_ticket_overview_saved.c ------------------------------------ */

/* Read the user's and the shared overviews, then next() (the all-agents
 * groups come from the authentication). */
ngx_int_t ngx_http_ticket_overview_load(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_step_pt next);
/* The saved overview named "ID", or NULL. */
ngx_http_ticket_saved_t *ngx_http_ticket_overview_find(
    ngx_http_ticket_overview_t *ov, ngx_str_t *name);
/* ---- ngx_http_ticket_overview_save.c ------------------------------------- */

/* The page's filters beyond state/priority/group and its save forms. */
ngx_int_t ngx_http_ticket_overview_forms(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_tpl_overview_t *tpl);
/* POST /overview/save, /overview/ID/delete. */
ngx_int_t ngx_http_ticket_overview_post(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
/* ov's conditions as a definition (what "save as new" stores). */
ngx_int_t ngx_http_ticket_overview_def(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_str_t *def);
/* The sidebar's entries into ov->items; the commands of the counts the
 * HMGET cannot give are appended to cmds (replies from ov->extra on). */
ngx_int_t ngx_http_ticket_overview_items(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_cmds_t *cmds);
/* ... the same in parts: the arrays, one entry (label: its text if it
 * is not a saved overview's or a group's), the HMGET of the priority
 * counts after the last. */
ngx_int_t ngx_http_ticket_overview_items_init(ngx_http_request_t *r,
    ngx_http_ticket_overview_t *ov);
ngx_int_t ngx_http_ticket_overview_item(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_str_t *name, const char *label, ngx_flag_t group, tk_cmds_t *cmds);
void ngx_http_ticket_overview_items_end(ngx_http_request_t *r,
    ngx_http_ticket_overview_t *ov, tk_cmds_t *cmds);
/* The counts batch is in (ov->replies): every entry's count. */
void ngx_http_ticket_overview_items_counted(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov);

/* ---- ngx_http_ticket_sidebar.c ----------------------------------------- */

/* ngx_http_ticket_overview_items() as the user's kept entries say. */
ngx_int_t ngx_http_ticket_sidebar_items(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_cmds_t *cmds);

/* Is name one of the all-agents groups? */
ngx_flag_t ngx_http_ticket_overview_shared_group(
    ngx_http_ticket_overview_t *ov, ngx_str_t *name);

/* ---- ngx_http_ticket_api_overviews.c ------------------------------------- */

/* GET /api/v1/overviews, /api/v1/overviews/NAME/tickets (rest after
 * "/api/v1/overviews"). */
ngx_int_t ngx_http_ticket_api_overviews(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *rest);

/* ---- ngx_http_ticket_overview_sets.c ------------------------------------- */

/* The page of an overview narrowed by a set (ov->only, ov->tag): read
 * the set(s), their rows, keep what matches, sort, cut the page; then
 * ov->query.done. */
ngx_int_t ngx_http_ticket_overview_sets(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov);
/* Commands that count the set of an overview in the sidebar batch:
 * returns how many were added (their replies are summed). */
ngx_uint_t ngx_http_ticket_overview_set_counts(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_cmds_t *cmds);

/* ---- ngx_http_ticket_overview_filter.c ----------------------------------- */

/* The ad hoc customer (id or address) and created range of the page. */
void ngx_http_ticket_overview_cond_args(ngx_http_request_t *r,
    ngx_http_ticket_overview_t *ov);
/* ... of a saved definition ("customer=ID&created_from=S&created_to=S"). */
void ngx_http_ticket_overview_cond_apply(ngx_http_request_t *r,
    ngx_http_ticket_overview_t *ov, ngx_str_t *def);
/* Is the page filtered ad hoc ("clear filters")? */
ngx_flag_t ngx_http_ticket_overview_filtered(ngx_http_ticket_overview_t *ov);
/* The page's ad hoc filters (all of them) in a link: room, and written. */
size_t ngx_http_ticket_overview_link_len(ngx_http_ticket_overview_t *ov);
u_char *ngx_http_ticket_overview_link_filters(u_char *p,
    ngx_http_ticket_overview_t *ov);
/* Room for, and the parts of, a definition and the page cache's key. */
size_t ngx_http_ticket_overview_cond_len(ngx_http_ticket_overview_t *ov);
u_char *ngx_http_ticket_overview_cond_def(u_char *p,
    ngx_http_ticket_overview_t *ov);
u_char *ngx_http_ticket_overview_cond_key(u_char *p,
    ngx_http_ticket_overview_t *ov);
/* Is one of them set (the sidebar cannot count it)? */
ngx_flag_t ngx_http_ticket_overview_cond_any(ngx_http_ticket_overview_t *ov);
/* An owner condition over closed tickets: not in the sidebar's HMGET. */
ngx_flag_t ngx_http_ticket_overview_closed_owned(
    ngx_http_ticket_overview_t *ov);
/* Before the page is read: the customer's id from an address, a created
 * range as ticket numbers (ov->query.num_*); then next(). */
ngx_flag_t ngx_http_ticket_overview_cond_pending(
    ngx_http_ticket_overview_t *ov);
ngx_int_t ngx_http_ticket_overview_cond_prepare(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_http_ticket_step_pt next);
/* Does a row carry tag (its stored list, "a,b,c")? */
ngx_flag_t ngx_http_ticket_overview_row_tag(ngx_str_t *tags, ngx_str_t *tag);

#endif /* NGX_HTTP_TICKET_OVERVIEW_H */
