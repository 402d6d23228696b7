/*
 * ngx_http_ticket_overview.c -- "/" and "/overview/NAME": the ticket lists
 * agents work from, with the counts of every overview in a sidebar.
 *
 * Also the ticket list query over the overview index (shared with the
 * JSON API) and the small helpers every view uses; see
 * ngx_http_ticket_views.h.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>
#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"
#include "tk_tpl.h"


#define NGX_HTTP_TICKET_PER_PAGE       50
#define NGX_HTTP_TICKET_MAX_PAGE       100000

/* Owner kinds of the overviews; a partition's owner is one of these. */
#define NGX_HTTP_TICKET_OWNER_ME       0
#define NGX_HTTP_TICKET_OWNER_NONE     1
#define NGX_HTTP_TICKET_OWNER_ANY      2
#define NGX_HTTP_TICKET_OWNER_OTHER    3        /* API: someone else */

/*
 * Sidebar counts per visible group: the fields of tk:{ix}:counts in this
 * order.  Every overview is a sum over a subset of them.
 */
#define NGX_HTTP_TICKET_CF_ANY         0        /* states 1..6, owner "*" */
#define NGX_HTTP_TICKET_CF_NONE        6        /* states 1..5, owner "-" */
#define NGX_HTTP_TICKET_CF_ME          11       /* states 1..5, owner me  */
#define NGX_HTTP_TICKET_CF_PER_GROUP   16

#define NGX_HTTP_TICKET_OV_GROUP       ((ngx_uint_t) -1)


typedef struct {
    const char                *name;
    const char                *label_en;
    const char                *label_de;
    const char                *empty_en;
    const char                *empty_de;
    ngx_int_t                  state_min;
    ngx_int_t                  state_max;
    ngx_uint_t                 owner;           /* NGX_HTTP_TICKET_OWNER_* */
} ngx_http_ticket_ov_def_t;


typedef struct {
    const char                *name;
    const char                *label_en;
    const char                *label_de;
    ngx_flag_t                 default_desc;
} ngx_http_ticket_col_def_t;


/* The overview view's state; the query comes first (see views.h). */
typedef struct {
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

    ngx_http_ticket_reply_t   *counts;          /* HMGET tk:{ix}:counts */
} ngx_http_ticket_overview_t;


typedef struct {
    ngx_http_request_t        *r;
    tk_tpl_overview_t         *tpl;
} ngx_http_ticket_overview_body_t;


static ngx_int_t ngx_http_ticket_overview_parse(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov);
static ngx_int_t ngx_http_ticket_overview_resolve(ngx_http_ticket_ctx_t *ctx,
    ngx_str_t *name, ngx_http_ticket_overview_t *ov);
static ngx_int_t ngx_http_ticket_overview_parts(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov);
static ngx_int_t ngx_http_ticket_overview_counted(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_uint_t ngx_http_ticket_overview_count(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov, ngx_uint_t g, ngx_int_t state,
    ngx_uint_t owner_kind);
static ngx_int_t ngx_http_ticket_overview_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_overview_body(tk_out_t *out, void *data);
static ngx_int_t ngx_http_ticket_overview_sidebar(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_tpl_overview_t *tpl, ngx_str_t *heading);
static ngx_int_t ngx_http_ticket_overview_columns(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_tpl_overview_t *tpl);
static ngx_int_t ngx_http_ticket_overview_filters(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_tpl_overview_t *tpl);
static ngx_int_t ngx_http_ticket_overview_rows(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_tpl_overview_t *tpl);
static ngx_int_t ngx_http_ticket_overview_link(ngx_http_request_t *r,
    ngx_http_ticket_overview_t *ov, ngx_str_t *name, ngx_uint_t col,
    ngx_flag_t desc, ngx_uint_t page, ngx_flag_t filters, tk_str_t *out);

static ngx_int_t ngx_http_ticket_query_counted(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_query_ranged(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_query_rows(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);


static ngx_http_ticket_ov_def_t  ngx_http_ticket_ov_defs[] = {
    { "my", "My tickets", "Meine Tickets",
      "Nothing is assigned to you right now.",
      "Dir ist gerade nichts zugewiesen.",
      TK_STATE_NEW, TK_STATE_DEFERRED, NGX_HTTP_TICKET_OWNER_ME },
    { "unassigned", "Unassigned in my groups",
      "Nicht zugewiesen (meine AGs)",
      "Every open ticket of your groups has someone looking after it.",
      "Alle offenen Tickets deiner AGs sind jemandem zugewiesen.",
      TK_STATE_NEW, TK_STATE_DEFERRED, NGX_HTTP_TICKET_OWNER_NONE },
    { "waiting", "My tickets, waiting", "Meine Tickets (wartend)",
      "You are not waiting for anything.",
      "Du wartest gerade auf nichts.",
      TK_STATE_WAITING, TK_STATE_DEFERRED, NGX_HTTP_TICKET_OWNER_ME },
    { "open", "Open in my groups", "Offen (meine AGs)",
      "No open tickets in your groups.",
      "Keine offenen Tickets in deinen AGs.",
      TK_STATE_NEW, TK_STATE_DEFERRED, NGX_HTTP_TICKET_OWNER_ANY },
    { "all", "All tickets", "Alle Tickets",
      "No tickets yet.", "Noch keine Tickets.",
      TK_STATE_NEW, TK_STATE_CLOSED, NGX_HTTP_TICKET_OWNER_ANY },
};

#define NGX_HTTP_TICKET_OV_N                                                 \
    (sizeof(ngx_http_ticket_ov_defs) / sizeof(ngx_http_ticket_ov_def_t))


static ngx_http_ticket_col_def_t  ngx_http_ticket_col_defs[] = {
    { "number", "No.", "Nr.", 1 },
    { "title", "Title", "Titel", 0 },
    { "customer", "Customer", "Kund*in", 0 },
    { "group", "Group", "AG", 0 },
    { "owner", "Owner", "Zuständig", 0 },
    { "state", "State", "Status", 0 },
    { "priority", "Priority", "Priorität", 1 },
    { "created", "Created", "Erstellt", 1 },
    { "updated", "Updated", "Aktualisiert", 1 },
};


/* Fields of a ticket hash a list shows, in HMGET order. */
static const char  *ngx_http_ticket_row_fields[] = {
    TK_F_NUMBER, TK_F_TITLE, TK_F_CUSTOMER_NAME, TK_F_CUSTOMER_EMAIL,
    TK_F_GROUP, TK_F_OWNER, TK_F_STATE, TK_F_PRIORITY, TK_F_CREATED,
    TK_F_UPDATED
};

#define NGX_HTTP_TICKET_ROW_FIELDS                                           \
    (sizeof(ngx_http_ticket_row_fields) / sizeof(char *))


/* ---- the overview view --------------------------------------------------- */

ngx_int_t
ngx_http_ticket_overview(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_int_t                     state;
    ngx_uint_t                    g, s, i, nfields;
    tk_str_t                     *argv;
    tk_cmds_t                    *cmds;
    ngx_str_t                     me, none, any, *owner;
    ngx_http_ticket_overview_t   *ov;
    ngx_http_ticket_group_right_t *gr;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                     "Overviews can only be read.");
    }

    ov = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_overview_t));
    if (ov == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = ov;

    switch (ngx_http_ticket_overview_parse(r, ctx, ov)) {
    case NGX_OK:
        break;
    case NGX_DECLINED:
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                     "There is no such overview.");
    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * One HMGET for the whole sidebar: per visible group the counts of
     * every state with any owner, unassigned, and mine.  The current
     * overview's partitions are among them.
     */
    nfields = ctx->groups.nelts * NGX_HTTP_TICKET_CF_PER_GROUP;

    if (nfields == 0) {
        ov->counts = NULL;
        return ngx_http_ticket_overview_counted(r, ctx);
    }

    argv = ngx_pnalloc(r->pool, (2 + nfields) * sizeof(tk_str_t));
    if (argv == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_str_set(&argv[0], "HMGET");
    tk_str_set(&argv[1], TK_KEY_INDEX_COUNTS);

    ngx_str_set(&any, TK_OWNER_ANY);
    ngx_str_set(&none, TK_OWNER_NONE);
    me = ctx->user.login;

    gr = ctx->groups.elts;
    i = 2;

    for (g = 0; g < ctx->groups.nelts; g++) {
        for (s = 0; s < NGX_HTTP_TICKET_CF_PER_GROUP; s++) {

            if (s < NGX_HTTP_TICKET_CF_NONE) {
                owner = &any;
                state = TK_STATE_MIN + s;

            } else if (s < NGX_HTTP_TICKET_CF_ME) {
                owner = &none;
                state = TK_STATE_MIN + s - NGX_HTTP_TICKET_CF_NONE;

            } else {
                owner = &me;
                state = TK_STATE_MIN + s - NGX_HTTP_TICKET_CF_ME;
            }

            if (ngx_http_ticket_count_field(r, &gr[g].name, state, owner,
                                            &argv[i++])
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_argv(cmds, (int) i, argv);

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_overview_counted);
}


/*
 * Which overview, which page, sort and filters.  NGX_DECLINED for an
 * unknown overview or a group the user cannot see (404); bad sort or
 * page values fall back to the defaults (links get edited by hand, a
 * list is still more useful than an error).
 */
static ngx_int_t
ngx_http_ticket_overview_parse(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov)
{
    ngx_int_t     n;
    ngx_str_t     name, arg;
    const char   *prefix = "/overview/";

    if (ctx->path.len <= 1
        || (ctx->path.len <= ngx_strlen(prefix)
            && ngx_strncmp(ctx->path.data, prefix, ctx->path.len) == 0))
    {
        /* "/", "/overview", "/overview/": the start page */
        ngx_str_set(&name, "my");
        ov->home = 1;

    } else if (ctx->path.len > ngx_strlen(prefix)
               && ngx_strncmp(ctx->path.data, prefix, ngx_strlen(prefix))
                  == 0)
    {
        name.data = ctx->path.data + ngx_strlen(prefix);
        name.len = ctx->path.len - ngx_strlen(prefix);

    } else {
        return NGX_DECLINED;
    }

    if (ngx_http_ticket_overview_resolve(ctx, &name, ov) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (ngx_http_ticket_query_init(r, &ov->query) != NGX_OK) {
        return NGX_ERROR;
    }

    ov->query.column = NGX_HTTP_TICKET_COL_UPDATED;
    ov->query.desc = 1;

    if (ngx_http_ticket_query_arg(r, "sort", &arg) == NGX_OK) {
        n = ngx_http_ticket_col_parse(&arg);
        if (n != NGX_ERROR) {
            ov->query.column = n;
            ov->query.desc = ngx_http_ticket_col_default_desc(n);
        }
    }

    if (ngx_http_ticket_query_arg(r, "dir", &arg) == NGX_OK) {
        if (arg.len == 3 && ngx_strncmp(arg.data, "asc", 3) == 0) {
            ov->query.desc = 0;

        } else if (arg.len == 4 && ngx_strncmp(arg.data, "desc", 4) == 0) {
            ov->query.desc = 1;
        }
    }

    ov->page = 1;

    if (ngx_http_ticket_query_arg(r, "page", &arg) == NGX_OK) {
        n = ngx_atoi(arg.data, arg.len);
        if (n >= 1 && n <= NGX_HTTP_TICKET_MAX_PAGE) {
            ov->page = n;
        }
    }

    if (ngx_http_ticket_query_arg(r, "state", &arg) == NGX_OK && arg.len) {
        n = tk_state_parse((const char *) arg.data, arg.len);
        if (n >= ov->state_min && n <= ov->state_max) {
            ov->filter_state = n;
        }
    }

    if (ngx_http_ticket_query_arg(r, "priority", &arg) == NGX_OK
        && arg.len)
    {
        n = tk_prio_parse((const char *) arg.data, arg.len);
        if (n >= TK_PRIO_MIN && n <= TK_PRIO_MAX) {
            ov->filter_prio = n;
        }
    }

    if (ov->def != NGX_HTTP_TICKET_OV_GROUP
        && ngx_http_ticket_query_arg(r, "group", &arg) == NGX_OK
        && arg.len
        && ngx_http_ticket_right(ctx, &arg) != TK_RIGHT_NONE)
    {
        ov->filter_group = arg;
    }

    ov->query.priority = ov->filter_prio;
    ov->query.limit = NGX_HTTP_TICKET_PER_PAGE;
    ov->query.offset = (ov->page - 1) * NGX_HTTP_TICKET_PER_PAGE;
    ov->query.done = ngx_http_ticket_overview_render;

    return NGX_OK;
}


/*
 * An overview by name: which groups, states and owner it covers.
 * NGX_DECLINED for an unknown name or a group the user cannot see.
 */
static ngx_int_t
ngx_http_ticket_overview_resolve(ngx_http_ticket_ctx_t *ctx, ngx_str_t *name,
    ngx_http_ticket_overview_t *ov)
{
    ngx_uint_t  i;

    ov->name = *name;
    ov->def = NGX_HTTP_TICKET_OV_N;

    for (i = 0; i < NGX_HTTP_TICKET_OV_N; i++) {
        if (name->len == ngx_strlen(ngx_http_ticket_ov_defs[i].name)
            && ngx_strncmp(name->data, ngx_http_ticket_ov_defs[i].name,
                           name->len)
               == 0)
        {
            ov->def = i;
            ov->state_min = ngx_http_ticket_ov_defs[i].state_min;
            ov->state_max = ngx_http_ticket_ov_defs[i].state_max;
            ov->owner_kind = ngx_http_ticket_ov_defs[i].owner;
            break;
        }
    }

    if (ov->def == NGX_HTTP_TICKET_OV_N) {

        if (name->len <= 6 || ngx_strncmp(name->data, "group-", 6) != 0) {
            return NGX_DECLINED;
        }

        ov->group.data = name->data + 6;
        ov->group.len = name->len - 6;

        if (ngx_http_ticket_right(ctx, &ov->group) == TK_RIGHT_NONE) {
            return NGX_DECLINED;
        }

        ov->def = NGX_HTTP_TICKET_OV_GROUP;
        ov->state_min = TK_STATE_MIN;
        ov->state_max = TK_STATE_MAX;
        ov->owner_kind = NGX_HTTP_TICKET_OWNER_ANY;
    }

    switch (ov->owner_kind) {
    case NGX_HTTP_TICKET_OWNER_ME:
        ov->owner = ctx->user.login;
        break;
    case NGX_HTTP_TICKET_OWNER_NONE:
        ngx_str_set(&ov->owner, TK_OWNER_NONE);
        break;
    default:
        ngx_str_set(&ov->owner, TK_OWNER_ANY);
    }

    return NGX_OK;
}


/* Sidebar counts are in: build the overview's partitions and read them. */
static ngx_int_t
ngx_http_ticket_overview_counted(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_int_t                    state;
    ngx_str_t                    name;
    ngx_uint_t                   g, mine;
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;

    if (ctx->groups.nelts) {
        if (ctx->nreplies < 1
            || ctx->replies[0].type != REDIS_REPLY_ARRAY
            || ctx->replies[0].nelem
               != ctx->groups.nelts * NGX_HTTP_TICKET_CF_PER_GROUP)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "ticket: unexpected reply to HMGET %s",
                          TK_KEY_INDEX_COUNTS);
            return ngx_http_ticket_error(r, ctx,
                                         NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         "The ticket counts could not be "
                                         "read.");
        }

        ov->counts = &ctx->replies[0];
    }

    /*
     * The start page is "my tickets" -- unless there are none: then the
     * unassigned ones of my groups, where work waits for someone.
     */
    if (ov->home) {
        mine = 0;

        for (g = 0; g < ctx->groups.nelts; g++) {
            for (state = ov->state_min; state <= ov->state_max; state++) {
                mine += ngx_http_ticket_overview_count(ctx, ov, g, state,
                                                       ov->owner_kind);
            }
        }

        if (mine == 0) {
            ngx_str_set(&name, "unassigned");
            (void) ngx_http_ticket_overview_resolve(ctx, &name, ov);
        }
    }

    if (ngx_http_ticket_overview_parts(ctx, ov) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ov->filter_prio) {
        /* the sidebar counts do not know priorities: ZCOUNT them */
        return ngx_http_ticket_query_run(r, ctx, &ov->query);
    }

    return ngx_http_ticket_query_fetch(r, ctx, &ov->query);
}


/*
 * The overview's partitions, narrowed by the filters: visible groups (or
 * the one group) x its states x its owner.  With the sidebar's counts at
 * hand each partition gets its size from there.
 */
static ngx_int_t
ngx_http_ticket_overview_parts(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov)
{
    ngx_int_t                       state;
    ngx_uint_t                      g;
    ngx_http_ticket_part_t         *part;
    ngx_http_ticket_group_right_t  *gr;

    /* an owner filter narrows "any owner"; on "my" it must be me */
    if (ov->filter_owner.len) {
        if (ov->owner_kind == NGX_HTTP_TICKET_OWNER_ANY) {
            ov->owner = ov->filter_owner;
            ov->owner_kind = NGX_HTTP_TICKET_OWNER_OTHER;

        } else if (!tk_str_eq(ngx_ticket_str(&ov->owner),
                              ngx_ticket_str(&ov->filter_owner)))
        {
            return NGX_OK;
        }
    }

    gr = ctx->groups.elts;

    for (g = 0; g < ctx->groups.nelts; g++) {

        if (ov->group.len
            && !tk_str_eq(ngx_ticket_str(&gr[g].name),
                          ngx_ticket_str(&ov->group)))
        {
            continue;
        }

        if (ov->filter_group.len
            && !tk_str_eq(ngx_ticket_str(&gr[g].name),
                          ngx_ticket_str(&ov->filter_group)))
        {
            continue;
        }

        for (state = ov->state_min; state <= ov->state_max; state++) {

            if (ov->filter_state && state != ov->filter_state) {
                continue;
            }

            if (ngx_http_ticket_query_add(&ov->query, &gr[g].name, state,
                                          &ov->owner)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            part = ov->query.parts.elts;
            part[ov->query.parts.nelts - 1].count =
                ngx_http_ticket_overview_count(ctx, ov, g, state,
                                               ov->owner_kind);
        }
    }

    return NGX_OK;
}


/*
 * The API's ticket list: the same overviews and filters as the pages
 * ("all" without a name).  NGX_DECLINED for an unknown overview or a
 * group the user cannot see.  The caller then runs the query.
 */
ngx_int_t
ngx_http_ticket_overview_query(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_filter_t *f,
    ngx_http_ticket_query_t *q)
{
    ngx_str_t                    name;
    ngx_http_ticket_overview_t  *ov;

    ov = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_overview_t));
    if (ov == NULL) {
        return NGX_ERROR;
    }

    name = f->overview;

    if (name.len == 0) {
        ngx_str_set(&name, "all");
    }

    if (ngx_http_ticket_overview_resolve(ctx, &name, ov) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (f->state && (f->state < ov->state_min || f->state > ov->state_max)) {
        return NGX_OK;
    }

    if (f->group.len && ngx_http_ticket_right(ctx, &f->group)
                        == TK_RIGHT_NONE)
    {
        return NGX_OK;
    }

    ov->filter_state = f->state;
    ov->filter_group = f->group;
    ov->filter_owner = f->owner;
    ov->query = *q;

    if (ngx_http_ticket_overview_parts(ctx, ov) != NGX_OK) {
        return NGX_ERROR;
    }

    *q = ov->query;

    return NGX_OK;
}


/* One count of the sidebar reply: visible group g, state, owner kind. */
static ngx_uint_t
ngx_http_ticket_overview_count(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov, ngx_uint_t g, ngx_int_t state,
    ngx_uint_t owner_kind)
{
    long long                 n;
    ngx_uint_t                i;
    ngx_http_ticket_reply_t  *rep;

    if (ov->counts == NULL || state < TK_STATE_MIN || state > TK_STATE_MAX) {
        return 0;
    }

    i = g * NGX_HTTP_TICKET_CF_PER_GROUP;

    switch (owner_kind) {
    case NGX_HTTP_TICKET_OWNER_ANY:
        i += NGX_HTTP_TICKET_CF_ANY + state - TK_STATE_MIN;
        break;
    case NGX_HTTP_TICKET_OWNER_NONE:
        if (state == TK_STATE_CLOSED) {
            return 0;
        }
        i += NGX_HTTP_TICKET_CF_NONE + state - TK_STATE_MIN;
        break;
    case NGX_HTTP_TICKET_OWNER_OTHER:
        return 0;
    default:
        if (state == TK_STATE_CLOSED) {
            return 0;
        }
        i += NGX_HTTP_TICKET_CF_ME + state - TK_STATE_MIN;
    }

    if (i >= ov->counts->nelem) {
        return 0;
    }

    rep = &ov->counts->element[i];

    if (rep->type != REDIS_REPLY_STRING) {
        return 0;
    }

    n = tk_str_atoll(ngx_ticket_str(&rep->str));

    return n > 0 ? (ngx_uint_t) n : 0;
}


/* ---- rendering ------------------------------------------------------------ */

/* The query is done: fill the template and send the page. */
static ngx_int_t
ngx_http_ticket_overview_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                        last, to;
    ngx_str_t                         heading;
    tk_tpl_overview_t                *tpl;
    ngx_http_ticket_overview_t       *ov;
    ngx_http_ticket_overview_body_t  *body;

    ov = ctx->view;

    tpl = ngx_pcalloc(r->pool, sizeof(tk_tpl_overview_t));
    body = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_overview_body_t));
    if (tpl == NULL || body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->de = ngx_http_ticket_lang_de(ctx);
    tpl->desc = ov->query.desc;
    tpl->filtered = (ov->filter_state || ov->filter_prio
                     || ov->filter_group.len);

    ngx_str_set(&heading, "Tickets");

    if (ngx_http_ticket_overview_sidebar(r, ctx, ov, tpl, &heading)
            != NGX_OK
        || ngx_http_ticket_overview_columns(r, ctx, ov, tpl) != NGX_OK
        || ngx_http_ticket_overview_filters(r, ctx, ov, tpl) != NGX_OK
        || ngx_http_ticket_overview_rows(r, ctx, ov, tpl) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a bare group name says little as a heading */
    if (ov->def == NGX_HTTP_TICKET_OV_GROUP) {
        heading.len = ov->group.len + sizeof("Group ") - 1;
        heading.data = ngx_pnalloc(r->pool, heading.len);
        if (heading.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        heading.len = ngx_sprintf(heading.data, "%s%V",
                                  tpl->de ? "AG " : "Group ", &ov->group)
                      - heading.data;
    }

    tpl->heading = *ngx_ticket_str(&heading);

    if (ngx_http_ticket_overview_link(r, ov, &ov->name, 0, 0, 0, 0,
                                      &tpl->self_url)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* "clear filters" keeps the sort order */
    tpl->reset_url = tpl->self_url;

    if (tpl->filtered
        && ngx_http_ticket_overview_link(r, ov, &ov->name, ov->query.column,
                                         ov->query.desc, 1, 0,
                                         &tpl->reset_url)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (tpl->filtered) {
        ngx_http_ticket_cstr(&tpl->empty_text,
                             tpl->de ? "Keine Tickets passen zu diesen "
                                       "Filtern."
                                     : "No tickets match these filters.");

    } else if (ov->def < NGX_HTTP_TICKET_OV_N) {
        ngx_http_ticket_cstr(&tpl->empty_text,
                             tpl->de ? ngx_http_ticket_ov_defs[ov->def].empty_de
                                     : ngx_http_ticket_ov_defs[ov->def].empty_en);

    } else {
        ngx_http_ticket_cstr(&tpl->empty_text,
                             tpl->de ? "Keine Tickets in dieser AG."
                                     : "No tickets in this group.");
    }

    /* pager: "51–100 of 1234", prev/next only where there is a page */
    to = ov->query.offset + ov->query.nrows;
    last = (ov->query.total + NGX_HTTP_TICKET_PER_PAGE - 1)
           / NGX_HTTP_TICKET_PER_PAGE;

    if (ngx_http_ticket_uint_str(r, ov->query.total, &tpl->total) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->range.data = ngx_pnalloc(r->pool, 2 * NGX_INT64_LEN + 4);
    if (tpl->range.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->range.len = ngx_sprintf(tpl->range.data, "%ui\xe2\x80\x93%ui",
                                 ov->query.nrows ? ov->query.offset + 1 : 0,
                                 to)
                     - tpl->range.data;

    if (ov->page > 1
        && ngx_http_ticket_overview_link(r, ov, &ov->name, ov->query.column,
                                         ov->query.desc,
                                         ngx_min(ov->page - 1,
                                                 ngx_max(last, 1)),
                                         1, &tpl->prev_url)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ov->page < last
        && ngx_http_ticket_overview_link(r, ov, &ov->name, ov->query.column,
                                         ov->query.desc, ov->page + 1, 1,
                                         &tpl->next_url)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body->r = r;
    body->tpl = tpl;

    return ngx_http_ticket_page(r, ctx, NGX_HTTP_OK, &heading,
                                ngx_http_ticket_overview_body, body);
}


static void
ngx_http_ticket_overview_body(tk_out_t *out, void *data)
{
    ngx_http_ticket_overview_body_t  *body = data;

    tk_tpl_overview(out, body->tpl);
}


static ngx_int_t
ngx_http_ticket_overview_sidebar(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_tpl_overview_t *tpl, ngx_str_t *heading)
{
    ngx_int_t                       s;
    ngx_uint_t                      i, g, n, count;
    ngx_flag_t                      de;
    ngx_str_t                       name;
    tk_tpl_overview_overviews_t    *item;
    ngx_http_ticket_ov_def_t       *def;
    ngx_http_ticket_group_right_t  *gr;

    de = ngx_http_ticket_lang_de(ctx);
    gr = ctx->groups.elts;
    n = NGX_HTTP_TICKET_OV_N + ctx->groups.nelts;

    item = ngx_pcalloc(r->pool, n * sizeof(tk_tpl_overview_overviews_t));
    if (item == NULL) {
        return NGX_ERROR;
    }

    tpl->overviews = item;
    tpl->overviews_n = n;

    for (i = 0; i < n; i++) {

        count = 0;

        if (i < NGX_HTTP_TICKET_OV_N) {
            def = &ngx_http_ticket_ov_defs[i];
            name.data = (u_char *) def->name;
            name.len = ngx_strlen(def->name);

            for (g = 0; g < ctx->groups.nelts; g++) {
                for (s = def->state_min; s <= def->state_max; s++) {
                    count += ngx_http_ticket_overview_count(ctx, ov, g, s,
                                                            def->owner);
                }
            }

            item[i].label.data = (u_char *) (de ? def->label_de
                                                : def->label_en);
            item[i].label.len = ngx_strlen(item[i].label.data);
            item[i].current = (ov->def == i);

        } else {
            g = i - NGX_HTTP_TICKET_OV_N;

            name.len = sizeof("group-") - 1 + gr[g].name.len;
            name.data = ngx_pnalloc(r->pool, name.len);
            if (name.data == NULL) {
                return NGX_ERROR;
            }

            ngx_sprintf(name.data, "group-%V", &gr[g].name);

            for (s = TK_STATE_MIN; s <= TK_STATE_MAX; s++) {
                count += ngx_http_ticket_overview_count(ctx, ov, g, s,
                                                    NGX_HTTP_TICKET_OWNER_ANY);
            }

            item[i].label = *ngx_ticket_str(&gr[g].name);
            item[i].group = 1;
            item[i].current = (ov->def == NGX_HTTP_TICKET_OV_GROUP
                               && ov->group.len == gr[g].name.len
                               && ngx_strncmp(ov->group.data,
                                              gr[g].name.data,
                                              ov->group.len) == 0);
        }

        if (ngx_http_ticket_overview_link(r, ov, &name, 0, 0, 0, 0,
                                          &item[i].url)
                != NGX_OK
            || ngx_http_ticket_uint_str(r, count, &item[i].count) != NGX_OK)
        {
            return NGX_ERROR;
        }

        item[i].name = *ngx_ticket_str(&name);

        if (item[i].current) {
            heading->data = item[i].label.data;
            heading->len = item[i].label.len;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_overview_columns(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_tpl_overview_t *tpl)
{
    ngx_uint_t                    c;
    ngx_flag_t                    desc;
    tk_tpl_overview_cols_t       *col;
    tk_tpl_overview_sort_opts_t  *opt;

    col = ngx_pcalloc(r->pool, NGX_HTTP_TICKET_COL_N * sizeof(*col));
    opt = ngx_pcalloc(r->pool, NGX_HTTP_TICKET_COL_N * sizeof(*opt));
    if (col == NULL || opt == NULL) {
        return NGX_ERROR;
    }

    tpl->cols = col;
    tpl->cols_n = NGX_HTTP_TICKET_COL_N;
    tpl->sort_opts = opt;
    tpl->sort_opts_n = NGX_HTTP_TICKET_COL_N;

    for (c = 0; c < NGX_HTTP_TICKET_COL_N; c++) {

        /* the current column's header link turns the order around */
        if (c == ov->query.column) {
            desc = !ov->query.desc;
            col[c].current = 1;
            ngx_http_ticket_cstr(&col[c].dir, ov->query.desc ? "desc"
                                                             : "asc");
            ngx_http_ticket_cstr(&col[c].aria, ov->query.desc ? "descending"
                                                              : "ascending");
        } else {
            desc = ngx_http_ticket_col_default_desc(c);
        }

        if (ngx_http_ticket_overview_link(r, ov, &ov->name, c, desc, 1, 1,
                                          &col[c].url)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        col[c].name.data = (u_char *) ngx_http_ticket_col_name(c);
        col[c].name.len = ngx_strlen(col[c].name.data);
        ngx_http_ticket_col_label(ctx, c, &col[c].label);

        opt[c].value = col[c].name;
        opt[c].label = col[c].label;
        opt[c].selected = (c == ov->query.column);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_overview_filters(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_tpl_overview_t *tpl)
{
    ngx_int_t                       s;
    ngx_uint_t                      i, n;
    tk_tpl_overview_state_opts_t   *so;
    tk_tpl_overview_prio_opts_t    *po;
    tk_tpl_overview_group_opts_t   *go;
    ngx_http_ticket_group_right_t  *gr;

    n = ov->state_max - ov->state_min + 1;

    so = ngx_pcalloc(r->pool, n * sizeof(*so));
    po = ngx_pcalloc(r->pool, TK_PRIO_MAX * sizeof(*po));
    if (so == NULL || po == NULL) {
        return NGX_ERROR;
    }

    tpl->state_opts = so;
    tpl->state_opts_n = n;

    for (s = ov->state_min, i = 0; s <= ov->state_max; s++, i++) {
        if (ngx_http_ticket_uint_str(r, s, &so[i].value) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_ticket_state_label(ctx, s, &so[i].label);
        so[i].selected = (s == ov->filter_state);
    }

    tpl->prio_opts = po;
    tpl->prio_opts_n = TK_PRIO_MAX;

    for (s = TK_PRIO_MIN, i = 0; s <= TK_PRIO_MAX; s++, i++) {
        if (ngx_http_ticket_uint_str(r, s, &po[i].value) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_ticket_prio_label(ctx, s, &po[i].label);
        po[i].selected = (s == ov->filter_prio);
    }

    /* a group overview is one group already; one group offers no choice */
    if (ov->def == NGX_HTTP_TICKET_OV_GROUP || ctx->groups.nelts < 2) {
        return NGX_OK;
    }

    go = ngx_pcalloc(r->pool, ctx->groups.nelts * sizeof(*go));
    if (go == NULL) {
        return NGX_ERROR;
    }

    tpl->group_opts = go;
    tpl->group_opts_n = ctx->groups.nelts;
    gr = ctx->groups.elts;

    for (i = 0; i < ctx->groups.nelts; i++) {
        go[i].value = *ngx_ticket_str(&gr[i].name);
        go[i].label = go[i].value;
        go[i].selected = (ov->filter_group.len == gr[i].name.len
                          && ngx_strncmp(ov->filter_group.data,
                                         gr[i].name.data,
                                         gr[i].name.len) == 0);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_overview_rows(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_tpl_overview_t *tpl)
{
    u_char                  *p;
    size_t                   len;
    ngx_uint_t               i;
    ngx_flag_t               de;
    tk_tpl_overview_rows_t  *row;
    ngx_http_ticket_row_t   *src;

    de = ngx_http_ticket_lang_de(ctx);

    row = ngx_pcalloc(r->pool, (ov->query.nrows + 1) * sizeof(*row));
    if (row == NULL) {
        return NGX_ERROR;
    }

    tpl->rows = row;
    tpl->rows_n = ov->query.nrows;

    for (i = 0; i < ov->query.nrows; i++) {
        src = &ov->query.rows[i];

        p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 2);
        if (p == NULL) {
            return NGX_ERROR;
        }

        len = ngx_sprintf(p, "t/%uL", src->number) - p;

        if (ngx_http_ticket_url(r, (char *) p, len, &row[i].url) != NGX_OK) {
            return NGX_ERROR;
        }

        row[i].number.data = p + 2;
        row[i].number.len = len - 2;
        row[i].title = *ngx_ticket_str(&src->title);

        ngx_http_ticket_cstr(&row[i].no_title, de ? "(ohne Betreff)"
                                                  : "(no subject)");

        row[i].customer = *ngx_ticket_str(src->customer_name.len
                                          ? &src->customer_name
                                          : &src->customer_email);
        row[i].customer_email = *ngx_ticket_str(&src->customer_email);
        row[i].group = *ngx_ticket_str(&src->group);
        row[i].owner = *ngx_ticket_str(&src->owner);

        ngx_http_ticket_state_label(ctx, src->state, &row[i].state);
        ngx_http_ticket_prio_label(ctx, src->priority, &row[i].priority);

        if (ngx_http_ticket_uint_str(r, src->state, &row[i].state_id)
                != NGX_OK
            || ngx_http_ticket_uint_str(r, src->priority,
                                        &row[i].priority_id) != NGX_OK
            || ngx_http_ticket_short_time(r, ctx, src->created,
                                          &row[i].created) != NGX_OK
            || ngx_http_ticket_short_time(r, ctx, src->updated,
                                          &row[i].updated) != NGX_OK
            || ngx_http_ticket_time_str(r, src->created,
                                        &row[i].created_full) != NGX_OK
            || ngx_http_ticket_time_str(r, src->updated,
                                        &row[i].updated_full) != NGX_OK
            || ngx_http_ticket_iso_str(r, src->created, &row[i].created_iso)
               != NGX_OK
            || ngx_http_ticket_iso_str(r, src->updated, &row[i].updated_iso)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * A link to an overview: base_url "overview/NAME", then (when col is
 * given, i.e. page > 0) sort, dir, the current filters and the page.
 * The name and the group filter are percent-encoded; the template
 * escapes the whole URL for HTML.
 */
static ngx_int_t
ngx_http_ticket_overview_link(ngx_http_request_t *r,
    ngx_http_ticket_overview_t *ov, ngx_str_t *name, ngx_uint_t col,
    ngx_flag_t desc, ngx_uint_t page, ngx_flag_t filters, tk_str_t *out)
{
    u_char                      *p;
    size_t                       len;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    len = lcf->base_url.len + sizeof("overview/") - 1
          + name->len + 2 * ngx_escape_uri(NULL, name->data, name->len,
                                            NGX_ESCAPE_URI_COMPONENT)
          + sizeof("?sort=&dir=desc&state=&priority=&group=&page=") - 1
          + 10 + 2 * NGX_INT_T_LEN + 3 * ov->filter_group.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    p = ngx_sprintf(p, "%Voverview/", &lcf->base_url);
    p = (u_char *) ngx_escape_uri(p, name->data, name->len,
                                  NGX_ESCAPE_URI_COMPONENT);

    if (page == 0) {
        out->len = p - out->data;
        return NGX_OK;
    }

    p = ngx_sprintf(p, "?sort=%s&dir=%s", ngx_http_ticket_col_name(col),
                    desc ? "desc" : "asc");

    if (filters && ov->filter_state) {
        p = ngx_sprintf(p, "&state=%i", ov->filter_state);
    }

    if (filters && ov->filter_prio) {
        p = ngx_sprintf(p, "&priority=%i", ov->filter_prio);
    }

    if (filters && ov->filter_group.len) {
        p = ngx_cpymem(p, "&group=", sizeof("&group=") - 1);
        p = (u_char *) ngx_escape_uri(p, ov->filter_group.data,
                                      ov->filter_group.len, NGX_ESCAPE_ARGS);
    }

    if (page > 1) {
        p = ngx_sprintf(p, "&page=%ui", page);
    }

    out->len = p - out->data;

    return NGX_OK;
}


/* ---- the ticket list query ------------------------------------------------ */

ngx_int_t
ngx_http_ticket_query_init(ngx_http_request_t *r, ngx_http_ticket_query_t *q)
{
    ngx_memzero(q, sizeof(ngx_http_ticket_query_t));

    q->column = NGX_HTTP_TICKET_COL_UPDATED;
    q->desc = 1;
    q->limit = NGX_HTTP_TICKET_PER_PAGE;

    return ngx_array_init(&q->parts, r->pool, 16,
                          sizeof(ngx_http_ticket_part_t));
}


ngx_int_t
ngx_http_ticket_query_add(ngx_http_ticket_query_t *q, ngx_str_t *group,
    ngx_int_t state, ngx_str_t *owner)
{
    ngx_http_ticket_part_t  *part;

    part = ngx_array_push(&q->parts);
    if (part == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(part, sizeof(ngx_http_ticket_part_t));

    part->group = *group;
    part->state = state;
    part->owner = *owner;

    return NGX_OK;
}


/*
 * Read the partitions' sizes first (the API has no sidebar to take them
 * from): one HMGET of tk:{ix}:counts, or with a priority filter one
 * ZCOUNT of each partition's priority set over that priority's range.
 */
ngx_int_t
ngx_http_ticket_query_run(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_query_t *q)
{
    char                     key[TK_KEY_MAX];
    long long                lo;
    tk_str_t                *argv;
    tk_cmds_t               *cmds;
    ngx_uint_t               i;
    ngx_http_ticket_part_t  *part;

    if (q->parts.nelts == 0) {
        return ngx_http_ticket_query_fetch(r, ctx, q);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    part = q->parts.elts;

    if (q->priority) {
        lo = (long long) q->priority * 10000000000LL;

        for (i = 0; i < q->parts.nelts; i++) {
            if (tk_key_index(key, sizeof(key), ngx_ticket_str(&part[i].group),
                             (int) part[i].state,
                             ngx_ticket_str(&part[i].owner), TK_SORT_PRIORITY)
                == 0)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            tk_cmds_add(cmds, "ZCOUNT %s %lld (%lld", key, lo,
                        lo + 10000000000LL);
        }

    } else {
        argv = ngx_pnalloc(r->pool, (q->parts.nelts + 2) * sizeof(tk_str_t));
        if (argv == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        tk_str_set(&argv[0], "HMGET");
        tk_str_set(&argv[1], TK_KEY_INDEX_COUNTS);

        for (i = 0; i < q->parts.nelts; i++) {
            if (ngx_http_ticket_count_field(r, &part[i].group, part[i].state,
                                            &part[i].owner, &argv[i + 2])
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        tk_cmds_argv(cmds, (int) q->parts.nelts + 2, argv);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_query_counted);
}


static ngx_int_t
ngx_http_ticket_query_counted(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    long long                 n;
    ngx_uint_t                i;
    ngx_http_ticket_reply_t  *rep;
    ngx_http_ticket_query_t  *q;
    ngx_http_ticket_part_t   *part;

    q = ctx->view;
    part = q->parts.elts;

    for (i = 0; i < q->parts.nelts; i++) {

        if (q->priority) {
            rep = (i < ctx->nreplies) ? &ctx->replies[i] : NULL;

        } else {
            rep = (ctx->nreplies == 1
                   && ctx->replies[0].type == REDIS_REPLY_ARRAY
                   && i < ctx->replies[0].nelem)
                  ? &ctx->replies[0].element[i] : NULL;
        }

        n = 0;

        if (rep && rep->type == REDIS_REPLY_INTEGER) {
            n = rep->integer;

        } else if (rep && rep->type == REDIS_REPLY_STRING) {
            n = tk_str_atoll(ngx_ticket_str(&rep->str));
        }

        part[i].count = n > 0 ? (ngx_uint_t) n : 0;
    }

    return ngx_http_ticket_query_fetch(r, ctx, q);
}


/* Partitions of one state (then group) side by side. */
static ngx_int_t ngx_libc_cdecl
ngx_http_ticket_part_cmp_state(const void *one, const void *two)
{
    const ngx_http_ticket_part_t  *a = one, *b = two;

    if (a->state != b->state) {
        return a->state < b->state ? -1 : 1;
    }

    return ngx_memn2cmp(a->group.data, b->group.data, a->group.len,
                        b->group.len);
}


/* Groups as people read them: case does not matter ("also" < "Legal"). */
static ngx_int_t ngx_libc_cdecl
ngx_http_ticket_part_cmp_group(const void *one, const void *two)
{
    ngx_http_ticket_part_t  *a, *b;
    ngx_int_t                rc;

    a = (ngx_http_ticket_part_t *) one;
    b = (ngx_http_ticket_part_t *) two;

    rc = ngx_http_ticket_casecmp(ngx_ticket_str(&a->group),
                                 ngx_ticket_str(&b->group));
    if (rc == 0) {
        rc = ngx_memn2cmp(a->group.data, b->group.data, a->group.len,
                          b->group.len);
    }

    if (rc != 0) {
        return rc;
    }

    return a->state - b->state;
}


/*
 * Which sets to read and how: the sort key of the index, lexical or by
 * score, and the order within a set.  A sort the sets cannot give falls
 * back to "updated, newest first" (owner in owner-specific partitions,
 * where it is the same for all; other columns with a priority filter).
 */
static void
ngx_http_ticket_query_plan(ngx_http_ticket_query_t *q)
{
    ngx_http_ticket_part_t  *part;

    q->sort = TK_SORT_UPDATED;
    q->lex = 0;
    q->set_desc = 1;

    if (q->priority) {
        q->sort = TK_SORT_PRIORITY;

        if (q->column == NGX_HTTP_TICKET_COL_UPDATED
            || q->column == NGX_HTTP_TICKET_COL_PRIORITY)
        {
            q->set_desc = q->desc;
        }

        return;
    }

    switch (q->column) {

    case NGX_HTTP_TICKET_COL_NUMBER:
    case NGX_HTTP_TICKET_COL_CREATED:
        q->sort = TK_SORT_CREATED;
        q->set_desc = q->desc;
        break;

    case NGX_HTTP_TICKET_COL_PRIORITY:
        q->sort = TK_SORT_PRIORITY;
        q->set_desc = q->desc;
        break;

    case NGX_HTTP_TICKET_COL_UPDATED:
        q->set_desc = q->desc;
        break;

    case NGX_HTTP_TICKET_COL_TITLE:
        q->sort = TK_SORT_TITLE;
        q->lex = 1;
        q->set_desc = q->desc;
        break;

    case NGX_HTTP_TICKET_COL_CUSTOMER:
        q->sort = TK_SORT_CUSTOMER;
        q->lex = 1;
        q->set_desc = q->desc;
        break;

    case NGX_HTTP_TICKET_COL_OWNER:
        part = q->parts.elts;
        if (q->parts.nelts
            && part[0].owner.len == 1 && part[0].owner.data[0] == '*')
        {
            q->sort = TK_SORT_OWNER;
            q->lex = 1;
            q->set_desc = q->desc;
        }
        break;

    default:
        /* state, group: segments, each by updated, newest first */
        break;
    }
}


/*
 * Cut the partitions into segments in page order: one per state or group
 * when sorting by that column (the partitions' order decides, the sets
 * are read newest first), otherwise a single segment merging them all.
 */
static ngx_int_t
ngx_http_ticket_query_segments(ngx_http_request_t *r,
    ngx_http_ticket_query_t *q)
{
    ngx_uint_t               i, n;
    ngx_flag_t               concat, by_state;
    ngx_http_ticket_seg_t   *seg, tmp;
    ngx_http_ticket_part_t  *part;

    part = q->parts.elts;
    n = q->parts.nelts;
    by_state = (q->column == NGX_HTTP_TICKET_COL_STATE);
    concat = by_state || q->column == NGX_HTTP_TICKET_COL_GROUP;

    if (concat && n > 1) {
        ngx_sort(part, n, sizeof(ngx_http_ticket_part_t),
                 by_state ? ngx_http_ticket_part_cmp_state
                          : ngx_http_ticket_part_cmp_group);
    }

    seg = ngx_pcalloc(r->pool, (n + 1) * sizeof(ngx_http_ticket_seg_t));
    if (seg == NULL) {
        return NGX_ERROR;
    }

    q->segs = seg;
    q->nsegs = 0;
    q->total = 0;

    for (i = 0; i < n; i++) {

        if (q->nsegs == 0
            || (concat && by_state
                && part[i].state != part[seg[q->nsegs - 1].first].state)
            || (concat && !by_state
                && ngx_memn2cmp(part[i].group.data,
                                part[seg[q->nsegs - 1].first].group.data,
                                part[i].group.len,
                                part[seg[q->nsegs - 1].first].group.len)
                   != 0))
        {
            seg[q->nsegs].first = i;
            q->nsegs++;
        }

        seg[q->nsegs - 1].nparts++;
        seg[q->nsegs - 1].total += part[i].count;
        q->total += part[i].count;
    }

    if (concat && q->desc) {
        for (i = 0; i < q->nsegs / 2; i++) {
            tmp = seg[i];
            seg[i] = seg[q->nsegs - 1 - i];
            seg[q->nsegs - 1 - i] = tmp;
        }
    }

    return NGX_OK;
}


/*
 * Read the first (offset + limit) entries of every partition the page
 * touches; partitions counted empty and segments outside the page are
 * not read at all.
 */
ngx_int_t
ngx_http_ticket_query_fetch(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_query_t *q)
{
    char                     key[TK_KEY_MAX];
    long long                lo, hi;
    tk_cmds_t               *cmds;
    ngx_uint_t               s, i, cum, end;
    ngx_http_ticket_seg_t   *seg;
    ngx_http_ticket_part_t  *part;

    ngx_http_ticket_query_plan(q);

    if (ngx_http_ticket_query_segments(r, q) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    part = q->parts.elts;
    end = q->offset + q->limit;
    lo = (long long) q->priority * 10000000000LL;
    hi = lo + 10000000000LL;
    cum = 0;

    for (s = 0; s < q->nsegs; s++) {
        seg = &q->segs[s];

        if (cum + seg->total <= q->offset || cum >= end) {
            cum += seg->total;
            continue;
        }

        seg->skip = q->offset > cum ? q->offset - cum : 0;
        seg->end = ngx_min(seg->total, end - cum);
        cum += seg->total;

        for (i = seg->first; i < seg->first + seg->nparts; i++) {

            if (part[i].count == 0) {
                continue;
            }

            if (tk_key_index(key, sizeof(key), ngx_ticket_str(&part[i].group),
                             (int) part[i].state,
                             ngx_ticket_str(&part[i].owner), q->sort)
                == 0)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            part[i].want = seg->end;
            part[i].index = cmds->n;

            if (q->priority) {
                if (q->set_desc) {
                    tk_cmds_add(cmds, "ZREVRANGEBYSCORE %s (%lld %lld "
                                "WITHSCORES LIMIT 0 %llu", key, hi, lo,
                                (unsigned long long) seg->end);
                } else {
                    tk_cmds_add(cmds, "ZRANGEBYSCORE %s %lld (%lld "
                                "WITHSCORES LIMIT 0 %llu", key, lo, hi,
                                (unsigned long long) seg->end);
                }

            } else if (q->lex) {
                if (q->set_desc) {
                    tk_cmds_add(cmds, "ZREVRANGEBYLEX %s + - LIMIT 0 %llu",
                                key, (unsigned long long) seg->end);
                } else {
                    tk_cmds_add(cmds, "ZRANGEBYLEX %s - + LIMIT 0 %llu",
                                key, (unsigned long long) seg->end);
                }

            } else {
                tk_cmds_add(cmds, "%s %s 0 %llu WITHSCORES",
                            q->set_desc ? "ZREVRANGE" : "ZRANGE", key,
                            (unsigned long long) seg->end - 1);
            }
        }
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cmds->n == 0) {
        q->nrows = 0;
        return q->done(r, ctx);
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_query_ranged);
}


/* Is entry i of part a before entry j of part b in the page's order? */
static ngx_flag_t
ngx_http_ticket_query_before(ngx_http_ticket_query_t *q,
    ngx_http_ticket_part_t *a, ngx_http_ticket_part_t *b)
{
    ngx_int_t   rc;
    ngx_str_t  *ma, *mb;

    if (q->lex) {
        ma = &a->reply->element[a->pos].str;
        mb = &b->reply->element[b->pos].str;
        rc = 0;

    } else {
        ma = &a->reply->element[2 * a->pos].str;
        mb = &b->reply->element[2 * b->pos].str;
        rc = (a->scores[a->pos] < b->scores[b->pos])
             ? -1 : (a->scores[a->pos] > b->scores[b->pos]);
    }

    /* equal scores: Redis orders by member, so do we */
    if (rc == 0) {
        rc = ngx_memn2cmp(ma->data, mb->data, ma->len, mb->len);
    }

    return q->set_desc ? rc > 0 : rc < 0;
}


/* The ticket number in an index member: "N", or "text\x1fNNNN...". */
static uint64_t
ngx_http_ticket_query_number(ngx_str_t *member)
{
    u_char     *p;
    tk_str_t    digits;
    long long   n;

    p = member->data + member->len;

    while (p > member->data && p[-1] != 0x1f) {
        p--;
    }

    digits.data = p;
    digits.len = member->data + member->len - p;

    n = tk_str_atoll(&digits);

    return n > 0 ? (uint64_t) n : 0;
}


/* The ranges are in: k-way merge each segment, then read the rows. */
static ngx_int_t
ngx_http_ticket_query_ranged(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    u_char                    buf[64];
    uint64_t                 *numbers;
    ngx_uint_t                s, i, k, n, f;
    tk_str_t                 *argv;
    tk_cmds_t                *cmds;
    ngx_http_ticket_seg_t    *seg;
    ngx_http_ticket_part_t   *part, *best;
    ngx_http_ticket_query_t  *q;
    ngx_http_ticket_reply_t  *rep, *score;

    q = ctx->view;
    part = q->parts.elts;

    for (i = 0; i < q->parts.nelts; i++) {
        part[i].len = 0;
        part[i].pos = 0;

        if (part[i].want == 0 || part[i].index >= ctx->nreplies) {
            continue;
        }

        rep = &ctx->replies[part[i].index];

        if (rep->type != REDIS_REPLY_ARRAY) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "ticket: reading index %V:%i:%V failed: %V",
                          &part[i].group, part[i].state, &part[i].owner,
                          &rep->str);
            continue;
        }

        part[i].reply = rep;
        part[i].len = q->lex ? rep->nelem : rep->nelem / 2;

        if (q->lex) {
            continue;
        }

        part[i].scores = ngx_palloc(r->pool, (part[i].len + 1)
                                             * sizeof(double));
        if (part[i].scores == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        for (k = 0; k < part[i].len; k++) {
            score = &rep->element[2 * k + 1];
            n = ngx_min(score->str.len, sizeof(buf) - 1);
            ngx_memcpy(buf, score->str.data, n);
            buf[n] = '\0';
            part[i].scores[k] = strtod((char *) buf, NULL);
        }
    }

    numbers = ngx_palloc(r->pool, (q->limit + 1) * sizeof(uint64_t));
    if (numbers == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    for (s = 0; s < q->nsegs && n < q->limit; s++) {
        seg = &q->segs[s];

        for (k = 0; k < seg->end && n < q->limit; k++) {
            best = NULL;

            for (i = seg->first; i < seg->first + seg->nparts; i++) {
                if (part[i].pos < part[i].len
                    && (best == NULL
                        || ngx_http_ticket_query_before(q, &part[i], best)))
                {
                    best = &part[i];
                }
            }

            if (best == NULL) {
                break;
            }

            if (k >= seg->skip) {
                numbers[n++] = ngx_http_ticket_query_number(
                               &best->reply->element[q->lex ? best->pos
                                                            : 2 * best->pos]
                                    .str);
            }

            best->pos++;
        }
    }

    q->nrows = 0;

    if (n == 0) {
        return q->done(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    argv = ngx_pnalloc(r->pool,
                       (NGX_HTTP_TICKET_ROW_FIELDS + 2) * sizeof(tk_str_t));
    if (cmds == NULL || argv == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_str_set(&argv[0], "HMGET");

    for (f = 0; f < NGX_HTTP_TICKET_ROW_FIELDS; f++) {
        argv[f + 2].data = (u_char *) ngx_http_ticket_row_fields[f];
        argv[f + 2].len = ngx_strlen(ngx_http_ticket_row_fields[f]);
    }

    for (i = 0; i < n; i++) {
        argv[1].data = ngx_pnalloc(r->pool, TK_KEY_MAX);
        if (argv[1].data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        argv[1].len = tk_key_ticket((char *) argv[1].data, TK_KEY_MAX,
                                    numbers[i]);

        tk_cmds_argv(cmds, (int) NGX_HTTP_TICKET_ROW_FIELDS + 2, argv);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_query_rows);
}


/* One HMGET per ticket is in; a ticket deleted meanwhile is left out. */
static ngx_int_t
ngx_http_ticket_query_rows(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    long long                 v;
    ngx_str_t                 s;
    ngx_uint_t                i;
    ngx_http_ticket_row_t    *row;
    ngx_http_ticket_reply_t  *rep, *e;
    ngx_http_ticket_query_t  *q;

    q = ctx->view;

    q->rows = ngx_pcalloc(r->pool, (ctx->nreplies + 1)
                                   * sizeof(ngx_http_ticket_row_t));
    if (q->rows == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->nrows = 0;

    for (i = 0; i < ctx->nreplies; i++) {
        rep = &ctx->replies[i];

        if (rep->type != REDIS_REPLY_ARRAY
            || rep->nelem != NGX_HTTP_TICKET_ROW_FIELDS
            || rep->element[0].type != REDIS_REPLY_STRING)
        {
            continue;
        }

        e = rep->element;
        row = &q->rows[q->nrows];

        v = tk_str_atoll(ngx_ticket_str(&e[0].str));
        if (v <= 0) {
            continue;
        }

        row->number = (uint64_t) v;

        ngx_http_ticket_reply_str(&e[1], &row->title);
        ngx_http_ticket_reply_str(&e[2], &row->customer_name);
        ngx_http_ticket_reply_str(&e[3], &row->customer_email);
        ngx_http_ticket_reply_str(&e[4], &row->group);
        ngx_http_ticket_reply_str(&e[5], &row->owner);

        ngx_http_ticket_reply_str(&e[6], &s);
        row->state = tk_state_parse((const char *) s.data, s.len);
        ngx_http_ticket_reply_str(&e[7], &s);
        row->priority = tk_prio_parse((const char *) s.data, s.len);

        ngx_http_ticket_reply_str(&e[8], &s);
        v = tk_str_atoll(ngx_ticket_str(&s));
        row->created = v > 0 ? v : 0;

        ngx_http_ticket_reply_str(&e[9], &s);
        v = tk_str_atoll(ngx_ticket_str(&s));
        row->updated = v > 0 ? v : 0;

        q->nrows++;
    }

    return q->done(r, ctx);
}


ngx_int_t
ngx_http_ticket_count_field(ngx_http_request_t *r, ngx_str_t *group,
    ngx_int_t state, ngx_str_t *owner, tk_str_t *field)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, group->len + owner->len + NGX_INT_T_LEN + 2);
    if (p == NULL) {
        return NGX_ERROR;
    }

    field->data = p;
    field->len = ngx_sprintf(p, "%V:%i:%V", group, state, owner) - p;

    return NGX_OK;
}


/* ---- columns -------------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_col_parse(ngx_str_t *name)
{
    ngx_uint_t  c;

    for (c = 0; c < NGX_HTTP_TICKET_COL_N; c++) {
        if (name->len == ngx_strlen(ngx_http_ticket_col_defs[c].name)
            && ngx_strncmp(name->data, ngx_http_ticket_col_defs[c].name,
                           name->len) == 0)
        {
            return c;
        }
    }

    return NGX_ERROR;
}


const char *
ngx_http_ticket_col_name(ngx_uint_t col)
{
    return col < NGX_HTTP_TICKET_COL_N ? ngx_http_ticket_col_defs[col].name
                                       : "updated";
}


ngx_flag_t
ngx_http_ticket_col_default_desc(ngx_uint_t col)
{
    return col < NGX_HTTP_TICKET_COL_N
           ? ngx_http_ticket_col_defs[col].default_desc : 1;
}


void
ngx_http_ticket_col_label(ngx_http_ticket_ctx_t *ctx, ngx_uint_t col,
    tk_str_t *label)
{
    ngx_http_ticket_col_def_t  *c;

    c = &ngx_http_ticket_col_defs[col < NGX_HTTP_TICKET_COL_N ? col : 0];

    label->data = (u_char *) (ngx_http_ticket_lang_de(ctx) ? c->label_de
                                                           : c->label_en);
    label->len = ngx_strlen(label->data);
}


ngx_flag_t
ngx_http_ticket_col_with_priority(ngx_uint_t col)
{
    return col == NGX_HTTP_TICKET_COL_UPDATED
           || col == NGX_HTTP_TICKET_COL_PRIORITY
           || col == NGX_HTTP_TICKET_COL_STATE
           || col == NGX_HTTP_TICKET_COL_GROUP;
}


/* ---- language and formatting ---------------------------------------------- */

ngx_flag_t
ngx_http_ticket_lang_de(ngx_http_ticket_ctx_t *ctx)
{
    return ctx->user.lang.len == 2
           && ngx_strncmp(ctx->user.lang.data, "de", 2) == 0;
}


void
ngx_http_ticket_state_label(ngx_http_ticket_ctx_t *ctx, ngx_int_t state,
    tk_str_t *label)
{
    const char  *s;

    s = ngx_http_ticket_lang_de(ctx) ? tk_state_label_de((int) state)
                                     : tk_state_label_en((int) state);

    label->data = (u_char *) (s ? s : "?");
    label->len = ngx_strlen(label->data);
}


void
ngx_http_ticket_prio_label(ngx_http_ticket_ctx_t *ctx, ngx_int_t prio,
    tk_str_t *label)
{
    const char  *s;

    s = ngx_http_ticket_lang_de(ctx) ? tk_prio_label_de((int) prio)
                                     : tk_prio_label_en((int) prio);

    label->data = (u_char *) (s ? s : "?");
    label->len = ngx_strlen(label->data);
}


/* Minutes east of UTC at time t, from the server's time zone. */
static int
ngx_http_ticket_utc_offset(int64_t t)
{
    struct tm  tm;
    time_t     tt;

    tt = (time_t) t;
    ngx_libc_localtime(tt, &tm);

#if (NGX_HAVE_GMTOFF)
    return (int) (tm.tm_gmtoff / 60);
#else
    return 0;
#endif
}


ngx_int_t
ngx_http_ticket_time_str(ngx_http_request_t *r, int64_t t, tk_str_t *str)
{
    tk_out_t                out;
    ngx_http_ticket_sink_t  sink;

    if (t <= 0) {
        tk_str_set(str, "");
        return NGX_OK;
    }

    ngx_http_ticket_sink_init(r, &out, &sink, 32);
    tk_out_time(&out, t, ngx_http_ticket_utc_offset(t));

    return ngx_http_ticket_sink_str(&out, str);
}


ngx_int_t
ngx_http_ticket_short_time(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    int64_t t, tk_str_t *str)
{
    u_char      *p;
    struct tm    tm, now;
    static char  *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

    if (t <= 0) {
        tk_str_set(str, "");
        return NGX_OK;
    }

    ngx_libc_localtime((time_t) t, &tm);
    ngx_libc_localtime(ngx_time(), &now);

    p = ngx_pnalloc(r->pool, 32);
    if (p == NULL) {
        return NGX_ERROR;
    }

    str->data = p;

    if (tm.tm_year == now.tm_year && tm.tm_yday == now.tm_yday) {
        p = ngx_sprintf(p, "%02d:%02d", tm.tm_hour, tm.tm_min);

    } else if (tm.tm_year == now.tm_year) {
        p = ngx_http_ticket_lang_de(ctx)
            ? ngx_sprintf(p, "%02d.%02d. %02d:%02d", tm.tm_mday,
                          tm.tm_mon + 1, tm.tm_hour, tm.tm_min)
            : ngx_sprintf(p, "%d %s %02d:%02d", tm.tm_mday,
                          months[tm.tm_mon % 12], tm.tm_hour, tm.tm_min);

    } else {
        p = ngx_sprintf(p, "%04d-%02d-%02d", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday);
    }

    str->len = p - str->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_ticket_iso_str(ngx_http_request_t *r, int64_t t, tk_str_t *str)
{
    tk_out_t                out;
    ngx_http_ticket_sink_t  sink;

    if (t <= 0) {
        tk_str_set(str, "");
        return NGX_OK;
    }

    ngx_http_ticket_sink_init(r, &out, &sink, 32);
    tk_out_time_iso(&out, t);

    return ngx_http_ticket_sink_str(&out, str);
}


ngx_int_t
ngx_http_ticket_uint_str(ngx_http_request_t *r, uint64_t v, tk_str_t *str)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    str->data = p;
    str->len = ngx_sprintf(p, "%uL", v) - p;

    return NGX_OK;
}


ngx_int_t
ngx_http_ticket_url(ngx_http_request_t *r, const char *path, size_t len,
    tk_str_t *str)
{
    u_char                      *p;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    p = ngx_pnalloc(r->pool, lcf->base_url.len + len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    str->data = p;
    p = ngx_cpymem(p, lcf->base_url.data, lcf->base_url.len);
    p = ngx_cpymem(p, path, len);
    str->len = p - str->data;

    return NGX_OK;
}


/* ---- a growing string sink -------------------------------------------------- */

/*
 * more(): the next chunk must continue the same string, so grow by
 * copying into a buffer at least twice as big.  Large sizes come from the
 * pool's large allocations and go with the request.
 */
static int
ngx_http_ticket_sink_more(tk_out_t *out, size_t min)
{
    u_char                  *p;
    size_t                   used, size;
    ngx_http_ticket_sink_t  *sink = out->data;

    if (sink->start == NULL) {
        return -1;
    }

    used = out->pos - sink->start;
    size = ngx_max(2 * (size_t) (out->end - sink->start), used + min + 64);

    p = ngx_pnalloc(sink->pool, size);
    if (p == NULL) {
        return -1;
    }

    ngx_memcpy(p, sink->start, used);

    sink->start = p;
    out->pos = p + used;
    out->end = p + size;

    return 0;
}


void
ngx_http_ticket_sink_init(ngx_http_request_t *r, tk_out_t *out,
    ngx_http_ticket_sink_t *sink, size_t size)
{
    ngx_memzero(out, sizeof(tk_out_t));

    sink->pool = r->pool;
    sink->start = ngx_pnalloc(r->pool, size);

    out->more = ngx_http_ticket_sink_more;
    out->data = sink;

    if (sink->start == NULL) {
        out->failed = 1;
        return;
    }

    out->pos = sink->start;
    out->end = sink->start + size;
}


ngx_int_t
ngx_http_ticket_sink_str(tk_out_t *out, tk_str_t *str)
{
    ngx_http_ticket_sink_t  *sink = out->data;

    if (tk_out_failed(out) || sink->start == NULL) {
        return NGX_ERROR;
    }

    str->data = sink->start;
    str->len = out->pos - sink->start;

    return NGX_OK;
}


/* ---- input checks and replies ---------------------------------------------- */

void
ngx_http_ticket_trim(ngx_str_t *s)
{
    while (s->len && (s->data[0] == ' ' || s->data[0] == '\t'
                      || s->data[0] == '\r' || s->data[0] == '\n'))
    {
        s->data++;
        s->len--;
    }

    while (s->len && (s->data[s->len - 1] == ' '
                      || s->data[s->len - 1] == '\t'
                      || s->data[s->len - 1] == '\r'
                      || s->data[s->len - 1] == '\n'))
    {
        s->len--;
    }
}


/*
 * Titles, names and the like end up in mail headers, index members and
 * history entries: only valid UTF-8, no control characters (line breaks
 * only where the field is multi-line).
 */
ngx_int_t
ngx_http_ticket_text_chars(ngx_str_t *s, ngx_flag_t multiline)
{
    u_char     *p, *last;
    uint32_t    c;
    ngx_int_t   n;

    p = s->data;
    last = s->data + s->len;
    n = 0;

    while (p < last) {

        if (*p < 0x80) {
            if ((*p < 0x20 || *p == 0x7f)
                && !(multiline && (*p == '\n' || *p == '\r' || *p == '\t')))
            {
                return -1;
            }

            p++;
            n++;
            continue;
        }

        c = ngx_utf8_decode(&p, last - p);

        if (c > 0x10ffff || (c >= 0x80 && c < 0xa0)) {
            return -1;
        }

        n++;
    }

    return n;
}


ngx_int_t
ngx_http_ticket_casecmp(tk_str_t *a, tk_str_t *b)
{
    size_t  i, n;
    u_char  ca, cb;

    n = ngx_min(a->len, b->len);

    for (i = 0; i < n; i++) {
        ca = ngx_tolower(a->data[i]);
        cb = ngx_tolower(b->data[i]);

        if (ca != cb) {
            return ca < cb ? -1 : 1;
        }
    }

    return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
}


void
ngx_http_ticket_reply_str(ngx_http_ticket_reply_t *rep, ngx_str_t *s)
{
    if (rep != NULL
        && (rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_STATUS))
    {
        *s = rep->str;
        return;
    }

    ngx_str_set(s, "");
}
