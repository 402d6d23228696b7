/*
 * ngx_http_ticket_overview.c -- "/" and "/overview/NAME": the ticket lists
 * agents work from.  What each overview covers (groups x states x owner)
 * is defined here once, also for the JSON API; one read of the counts
 * gives the sidebar and the sizes of the partitions, the query
 * (ngx_http_ticket_query.c) the page's rows.  The view's entry point and
 * its page are ngx_http_ticket_overview_page.c, above this file: it
 * calls parse(), cache_key() and read() here and is never called from
 * here (the page comes back through query.done).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_overview.h"





static ngx_int_t ngx_http_ticket_overview_parts(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov);
static ngx_int_t ngx_http_ticket_overview_group_parts(
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_uint_t g);
static ngx_int_t ngx_http_ticket_overview_counted(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_uint_t ngx_http_ticket_overview_fields(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov, uint16_t *idx, ngx_uint_t *nidx);
static ngx_int_t ngx_http_ticket_overview_list(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);


ngx_http_ticket_ov_def_t  ngx_http_ticket_ov_defs[NGX_HTTP_TICKET_OV_N] = {
    { "my", TK_MSG_OVERVIEW_OV_MY, TK_MSG_OVERVIEW_OV_MY_EMPTY,
      TK_STATE_NEW, TK_STATE_DEFERRED, NGX_HTTP_TICKET_OWNER_ME, 0 },
    { "unassigned", TK_MSG_OVERVIEW_OV_UNASSIGNED,
      TK_MSG_OVERVIEW_OV_UNASSIGNED_EMPTY,
      TK_STATE_NEW, TK_STATE_DEFERRED, NGX_HTTP_TICKET_OWNER_NONE, 0 },
    { "waiting", TK_MSG_OVERVIEW_OV_WAITING, TK_MSG_OVERVIEW_OV_WAITING_EMPTY,
      TK_STATE_WAITING, TK_STATE_DEFERRED, NGX_HTTP_TICKET_OWNER_ME, 0 },
    { "open", TK_MSG_OVERVIEW_OV_OPEN, TK_MSG_OVERVIEW_OV_OPEN_EMPTY,
      TK_STATE_NEW, TK_STATE_DEFERRED, NGX_HTTP_TICKET_OWNER_ANY, 0 },
    { "all", TK_MSG_OVERVIEW_OV_ALL, TK_MSG_OVERVIEW_OV_ALL_EMPTY,
      TK_STATE_NEW, TK_STATE_CLOSED, NGX_HTTP_TICKET_OWNER_ANY, 0 },
    /* unassigned open tickets started by auto-generated mail: out of
     * "unassigned", still in "open", "all" and the group overviews */
    { "auto", TK_MSG_OVERVIEW_OV_AUTO, TK_MSG_OVERVIEW_OV_AUTO_EMPTY,
      TK_STATE_NEW, TK_STATE_DEFERRED, NGX_HTTP_TICKET_OWNER_AUTO, 0 },
    /* the collective's: escalated, in progress, reminders (issue 11) */
    { "escalated", TK_MSG_OVERVIEW_OV_ESCALATED,
      TK_MSG_OVERVIEW_OV_ESCALATED_EMPTY,
      TK_STATE_NEW, TK_STATE_DEFERRED, NGX_HTTP_TICKET_OWNER_ME,
      NGX_HTTP_TICKET_ONLY_ESCALATED },
    { "in-progress", TK_MSG_OVERVIEW_OV_IN_PROGRESS,
      TK_MSG_OVERVIEW_OV_IN_PROGRESS_EMPTY,
      TK_STATE_OPEN, TK_STATE_OPEN, NGX_HTTP_TICKET_OWNER_ME, 0 },
    { "reminders", TK_MSG_OVERVIEW_OV_REMINDERS,
      TK_MSG_OVERVIEW_OV_REMINDERS_EMPTY,
      TK_STATE_NEW, TK_STATE_DEFERRED, NGX_HTTP_TICKET_OWNER_ME,
      NGX_HTTP_TICKET_ONLY_REMINDER },
};


/* ---- the overview view --------------------------------------------------- */

/*
 * The sidebar's counts, and from them the page's tickets: the view's
 * work below its page (ngx_http_ticket_overview_page.c starts it, after
 * parse() and the page cache, and gets it back through query.done).
 */
ngx_int_t
ngx_http_ticket_overview_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                    *cmds;
    ngx_http_ticket_overview_t   *ov;

    ov = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the sidebar's counts, one MGET (ngx_http_ticket_overview_counts.c) */
    if (ngx_http_ticket_overview_counts_cmd(r, ctx, ov, cmds) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the sidebar entries whose counts are not in the counts (sets, a
     * priority, a person) add their commands to the same batch */
    ov->extra = cmds->n;

    if (ngx_http_ticket_sidebar_items(r, ctx, ov, cmds) != NGX_OK
        || cmds->failed)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cmds->n == 0) {
        ov->count_vals = NULL;
        ov->count_n = 0;
        ctx->nreplies = 0;
        return ngx_http_ticket_overview_counted(r, ctx);
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_overview_counted);
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

    if (ov->counts_sent) {
        if (ctx->nreplies < 1
            || ctx->replies[0].type != REDIS_REPLY_ARRAY
            || ctx->replies[0].nelem != ctx->groups.nelts * 2)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "ticket: unexpected reply to MGET "
                          TK_PFX_INDEX_COUNTV "*");
            return ngx_http_ticket_error(r, ctx,
                                         NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         "The ticket counts could not be "
                                         "read.");
        }

        /* parsed once: the sidebar and the merge ask for each many times */
        if (ngx_http_ticket_overview_counts_parse(r, ctx, ov,
                                                  &ctx->replies[0])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ov->replies = ctx->replies;
    ov->nreplies = ctx->nreplies;
    ngx_http_ticket_overview_items_counted(ctx, ov);

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
            (void) ngx_http_ticket_overview_resolve_name(ctx, &name, ov);
        }
    }

    if (!ov->nothing && !ov->items_only
        && ngx_http_ticket_overview_cond_pending(ov))
    {
        /* a customer by address, a created range: its numbers first
         * (ngx_http_ticket_overview_probe.c) */
        return ngx_http_ticket_overview_cond_prepare(r, ctx, ov,
                                                 ngx_http_ticket_overview_list);
    }

    return ngx_http_ticket_overview_list(r, ctx);
}


/* Everything known: read the page, from a set or the partitions. */
static ngx_int_t
ngx_http_ticket_overview_list(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                   column;
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;

    if (ov->nothing || ov->items_only) {
        ov->query.total = 0;
        ov->query.nrows = 0;
        return ov->query.done(r, ctx);
    }

    /* escalated, reminders due, a tag, a customer: the set decides */
    if (ov->only || ov->tag.len || ov->customer) {
        return ngx_http_ticket_overview_sets(r, ctx, ov);
    }

    ov->query.upd_from = ov->upd_from;
    ov->query.upd_to = ov->upd_to;

    if (ov->query.num_range) {
        /* a created range is read from the crt sets (score = number):
         * sorted by number / created, or within a state or group;
         * another column falls back to created */
        column = ov->query.column;

        if (column != NGX_HTTP_TICKET_COL_NUMBER
            && column != NGX_HTTP_TICKET_COL_CREATED
            && column != NGX_HTTP_TICKET_COL_STATE
            && column != NGX_HTTP_TICKET_COL_GROUP)
        {
            /* newest first, as the updated range's fallback */
            ov->query.column = NGX_HTTP_TICKET_COL_CREATED;
            ov->query.desc = 1;
        }

        if (ov->filter_prio || ov->upd_from || ov->upd_to) {
            /* and a priority or an updated range: one score range per
             * set, so the crt partitions' ranges are read as sets are
             * (at most NGX_HTTP_TICKET_SET_CAP, newest first) and their
             * rows checked (ngx_http_ticket_overview_sets.c) */
            ov->query.column = NGX_HTTP_TICKET_COL_CREATED;

            if (ngx_http_ticket_overview_parts(ctx, ov) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ov->query.column = column;
            return ngx_http_ticket_overview_sets(r, ctx, ov);
        }
    }

    if (ngx_http_ticket_overview_parts(ctx, ov) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ov->filter_prio || ov->upd_from || ov->upd_to || ov->query.num_range
        || ov->owner_kind == NGX_HTTP_TICKET_OWNER_OTHER
        || ngx_http_ticket_overview_closed_owned(ov))
    {
        /* the sidebar counts know neither priorities nor other people's
         * partitions nor owned closed ones: count them (ZCOUNT, HMGET) */
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
    ngx_uint_t  g;

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

    for (g = 0; g < ctx->groups.nelts; g++) {

        if (!ngx_http_ticket_overview_has_group(ctx, ov, g)) {
            continue;
        }

        if (ngx_http_ticket_overview_group_parts(ctx, ov, g) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * One group's partitions: its states one by one, or -- all open states,
 * or all states, sorted by a number -- one class partition (SCHEMA.md:
 * the index has (group, open, owner) and (group, all, *)), so "all
 * tickets" of seven groups reads seven sets, not 42.
 */
static ngx_int_t
ngx_http_ticket_overview_group_parts(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov, ngx_uint_t g)
{
    ngx_int_t                       state, cls;
    ngx_uint_t                      n, states, covered;
    ngx_http_ticket_part_t         *part;
    ngx_http_ticket_group_right_t  *gr;

    gr = ctx->groups.elts;
    states = ov->filter_state ? (ngx_uint_t) 1 << ov->filter_state
                              : ov->states;
    cls = 0;
    covered = 0;

    if (ngx_http_ticket_col_numeric(ov->query.column)) {
        if (states == NGX_HTTP_TICKET_STATES_ALL
            && ov->owner_kind == NGX_HTTP_TICKET_OWNER_ANY)
        {
            cls = TK_ISTATE_ALL;
            covered = NGX_HTTP_TICKET_STATES_ALL;

        } else if ((states & NGX_HTTP_TICKET_STATES_OPEN)
                   == NGX_HTTP_TICKET_STATES_OPEN)
        {
            cls = TK_ISTATE_OPEN;
            covered = NGX_HTTP_TICKET_STATES_OPEN;
        }
    }

    if (cls) {
        n = 0;

        for (state = TK_STATE_MIN; state <= TK_STATE_MAX; state++) {
            if (covered & (1 << state)) {
                n += ngx_http_ticket_overview_count(ctx, ov, g, state,
                                                    ov->owner_kind);
            }
        }

        if (ngx_http_ticket_query_add(&ov->query, &gr[g].name, cls,
                                      &ov->owner)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        part = ov->query.parts.elts;
        part[ov->query.parts.nelts - 1].count = n;
    }

    for (state = TK_STATE_MIN; state <= TK_STATE_MAX; state++) {

        if (!(states & (1 << state)) || (covered & (1 << state))) {
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

    return NGX_OK;
}


/* Is group g (index into ctx->groups) one ov covers: the group of a
 * group overview, one of a saved overview's, the group filter? */
ngx_flag_t
ngx_http_ticket_overview_has_group(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov, ngx_uint_t g)
{
    ngx_uint_t                      i;
    ngx_str_t                      *in;
    ngx_flag_t                      found;
    ngx_http_ticket_group_right_t  *gr;

    gr = ctx->groups.elts;

    if (ov->filter_group.len
        && !tk_str_eq(ngx_ticket_str(&gr[g].name),
                      ngx_ticket_str(&ov->filter_group)))
    {
        return 0;
    }

    if (ov->def == NGX_HTTP_TICKET_OV_UNASSIGNED_G) {
        /* G and the groups every agent works in ("legal") */
        return tk_str_eq(ngx_ticket_str(&gr[g].name),
                         ngx_ticket_str(&ov->group))
               || ngx_http_ticket_overview_shared_group(ov, &gr[g].name);
    }

    if (ov->group.len
        && !tk_str_eq(ngx_ticket_str(&gr[g].name),
                      ngx_ticket_str(&ov->group)))
    {
        return 0;
    }

    if (ov->groups_in == NULL) {
        return 1;
    }

    in = ov->groups_in->elts;
    found = 0;

    for (i = 0; i < ov->groups_in->nelts && !found; i++) {
        found = tk_str_eq(ngx_ticket_str(&gr[g].name),
                          ngx_ticket_str(&in[i]));
    }

    return found;
}


/* Sum of the sidebar counts over ov's groups and states, -1 when they
 * cannot say (a priority, a set, someone else's tickets). */
/*
 * The sidebar's counts hold closed tickets for "any owner" only (a closed
 * ticket is nobody's work any more), so an owner condition over closed
 * tickets (/overview/all?owner=nobody, a saved "all of mine") cannot be
 * counted from it: its partitions are counted (ZCARD) like a person's.
 */
ngx_flag_t
ngx_http_ticket_overview_closed_owned(ngx_http_ticket_overview_t *ov)
{
    ngx_uint_t  states;

    states = ov->filter_state ? (ngx_uint_t) 1 << ov->filter_state
                              : ov->states;

    return ov->owner_kind != NGX_HTTP_TICKET_OWNER_ANY
           && (states & ((ngx_uint_t) 1 << TK_STATE_CLOSED));
}


ngx_int_t
ngx_http_ticket_overview_sum(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov)
{
    ngx_uint_t  n;

    if (!ngx_http_ticket_overview_summable(ov)) {
        return -1;
    }

    return (ngx_int_t) ngx_http_ticket_overview_fields(ctx, ov, NULL, &n);
}


/* Can the sidebar's counts give ov (not a priority, a set, someone
 * else's tickets, a customer, a range, closed tickets of an owner)? */
ngx_flag_t
ngx_http_ticket_overview_summable(ngx_http_ticket_overview_t *ov)
{
    return !(ov->filter_prio || ov->only || ov->tag.len || ov->upd_from
             || ov->upd_to || ov->owner_kind == NGX_HTTP_TICKET_OWNER_OTHER
             || ngx_http_ticket_overview_cond_any(ov)
             || ngx_http_ticket_overview_closed_owned(ov));
}


/*
 * The sidebar's counts that ngx_http_ticket_overview_sum()
 * adds up for ov, into idx (room for every field); how many.
 */
ngx_uint_t
ngx_http_ticket_overview_sum_fields(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov, uint16_t *idx)
{
    ngx_uint_t  n;

    (void) ngx_http_ticket_overview_fields(ctx, ov, idx, &n);

    return n;
}


/*
 * The one walk over ov's groups and states both of the above make: the
 * fields' indexes into idx when given, their number into *nidx; returns
 * their sum (0 while the counts are not read).
 */
static ngx_uint_t
ngx_http_ticket_overview_fields(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov, uint16_t *idx, ngx_uint_t *nidx)
{
    ngx_int_t   state, i;
    ngx_uint_t  g, sum;

    *nidx = 0;
    sum = 0;

    if (ov->nothing) {
        return 0;
    }

    for (g = 0; g < ctx->groups.nelts; g++) {
        if (!ngx_http_ticket_overview_has_group(ctx, ov, g)) {
            continue;
        }

        for (state = TK_STATE_MIN; state <= TK_STATE_MAX; state++) {
            i = ngx_http_ticket_overview_count_at(g, state, ov->owner_kind);

            if (!(ov->states & (1 << state)) || i < 0) {
                continue;
            }

            if (idx) {
                idx[*nidx] = (uint16_t) i;
            }

            (*nidx)++;
            sum += ngx_http_ticket_overview_count(ctx, ov, g, state,
                                                  ov->owner_kind);
        }
    }

    return sum;
}


/*
 * The sidebar count of an overview the counts cannot give (a priority,
 * someone else's tickets): its partitions as a page would read them,
 * one ZCOUNT (priority) or ZCARD each, into the counts batch.  Returns
 * how many commands were added.
 */
ngx_uint_t
ngx_http_ticket_overview_part_counts(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_cmds_t *cmds)
{
    char                     key[TK_KEY_MAX];
    long long                lo, hi;
    ngx_flag_t               ranged;
    ngx_uint_t               i;
    ngx_http_ticket_part_t  *part;

    if (ov->nothing || ngx_http_ticket_query_init(r, &ov->query) != NGX_OK
        || ngx_http_ticket_overview_parts(ctx, ov) != NGX_OK)
    {
        return 0;
    }

    part = ov->query.parts.elts;
    ov->query.priority = ov->filter_prio;
    ov->query.upd_from = ov->upd_from;
    ov->query.upd_to = ov->upd_to;
    ranged = ngx_http_ticket_query_score_range(&ov->query, &lo, &hi);

    for (i = 0; i < ov->query.parts.nelts; i++) {
        if (tk_key_index(key, sizeof(key), ngx_ticket_str(&part[i].group),
                         (int) part[i].state, ngx_ticket_str(&part[i].owner),
                         ov->filter_prio ? TK_SORT_PRIORITY : TK_SORT_UPDATED)
            == 0)
        {
            continue;
        }

        if (ranged) {
            tk_cmds_add(cmds, "ZCOUNT %s %lld (%lld", key, lo, hi);
        } else {
            tk_cmds_add(cmds, "ZCARD %s", key);
        }
    }

    return ov->query.parts.nelts;
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

    ov->all_agents = ctx->all_agents;

    /* the overviews a set decides (escalated, reminders) and the saved
     * ones are /api/v1/overviews/NAME/tickets (ngx_http_ticket_api_
     * overviews.c): this list has no set reading */
    if (ngx_http_ticket_overview_resolve_name(ctx, &name, ov) != NGX_OK
        || ov->only)
    {
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
