/*
 * ngx_http_ticket_overview_saved.c -- the overviews agents save: loaded
 * before every overview page (the user's own, the shared ones the user
 * may see, and the all-agents groups the "[G] unassigned" overviews
 * add) and the sidebar's entries with their counts.  Definitions are
 * query strings (SCHEMA.md "Saved overviews"), parsed by
 * ngx_http_ticket_overview_apply(); saving them is
 * ngx_http_ticket_overview_save.c.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_overview.h"



/* replies of the load batch */
#define NGX_HTTP_TICKET_L_MINE         0        /* HGETALL tk:{u:L}:overviews */
#define NGX_HTTP_TICKET_L_SHARED       1        /* HGETALL tk:overviews */


static ngx_int_t ngx_http_ticket_overview_loaded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_overview_take(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_http_ticket_reply_t *hash, ngx_flag_t personal);
static ngx_flag_t ngx_http_ticket_overview_visible(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *def);
static ngx_int_t ngx_http_ticket_overview_pri_fields(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_http_ticket_overview_t *tmp, ngx_uint_t g, ngx_uint_t *n);
static void ngx_http_ticket_overview_pri_hmget(ngx_http_request_t *r,
    ngx_http_ticket_overview_t *ov, tk_cmds_t *cmds);


/* ---- loading ----------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_overview_load(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_step_pt next)
{
    tk_cmds_t                   *cmds;
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;
    ov->loaded_next = next;

    /* read with the user already (the router asked for it) */
    if (ctx->nextra == 2) {
        ctx->replies = ctx->extra;
        ctx->nreplies = ctx->nextra;
        ctx->extra = NULL;
        ctx->nextra = 0;
        return ngx_http_ticket_overview_loaded(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_ticket_overview_auth_extra(r, ctx, &ctx->user.login, cmds);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_overview_loaded);
}


/*
 * The two reads, also as the router's ctx->auth_extra for overview pages:
 * in the user's batch they save a round trip on every page-cache miss
 * (two small HGETALLs more on a hit).
 */
void
ngx_http_ticket_overview_auth_extra(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *login, tk_cmds_t *cmds)
{
    tk_cmds_add(cmds, "HGETALL " TK_FMTS_USER_OVERVIEWS,
                ngx_ticket_str(login));
    tk_cmds_add(cmds, "HGETALL " TK_KEY_OVERVIEWS);
}


static ngx_int_t
ngx_http_ticket_overview_loaded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;

    if (ngx_array_init(&ov->saved, r->pool, 8,
                       sizeof(ngx_http_ticket_saved_t))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->nreplies != 2) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the all-agents groups as authentication read them (its replies
     * live on in the request's pool) */
    ov->all_agents = ctx->all_agents;

    if (ngx_http_ticket_overview_take(r, ctx, ov,
                                      &ctx->replies[NGX_HTTP_TICKET_L_MINE],
                                      1)
            != NGX_OK
        || ngx_http_ticket_overview_take(r, ctx, ov,
                                  &ctx->replies[NGX_HTTP_TICKET_L_SHARED], 0)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ov->loaded_next(r, ctx);
}


/* The entries of one HGETALL (id, definition, ...) the user may see,
 * by id: the order they were made in. */
static ngx_int_t
ngx_http_ticket_overview_take(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_http_ticket_reply_t *hash, ngx_flag_t personal)
{
    ngx_int_t                 id;
    ngx_uint_t                i, k;
    ngx_str_t                 name;
    ngx_http_ticket_saved_t  *sv, tmp;

    if (hash->type != REDIS_REPLY_ARRAY) {
        return NGX_OK;
    }

    for (i = 0; i + 1 < hash->nelem; i += 2) {
        id = ngx_atoi(hash->element[i].str.data, hash->element[i].str.len);

        if (id <= 0 || hash->element[i + 1].type != REDIS_REPLY_STRING
            || (!personal
                && !ngx_http_ticket_overview_visible(r, ctx,
                                                &hash->element[i + 1].str)))
        {
            continue;
        }

        if (ngx_http_ticket_string_arg(r, &hash->element[i + 1].str, "name",
                                       &name)
            != NGX_OK || name.len == 0)
        {
            continue;
        }

        sv = ngx_array_push(&ov->saved);
        if (sv == NULL) {
            return NGX_ERROR;
        }

        sv->id = id;
        sv->key = hash->element[i].str;
        sv->def = hash->element[i + 1].str;
        sv->name = name;
        sv->personal = personal;

        /* insertion by id: a handful of entries */
        for (k = ov->saved.nelts - 1; k > 0; k--) {
            sv = ov->saved.elts;

            if (sv[k - 1].personal == sv[k].personal
                && sv[k - 1].id > sv[k].id)
            {
                tmp = sv[k - 1];
                sv[k - 1] = sv[k];
                sv[k] = tmp;
            }
        }
    }

    return NGX_OK;
}


/* A shared overview is for the roles it names ("" all) and for users
 * with a right on one of its visible groups ("" all). */
static ngx_flag_t
ngx_http_ticket_overview_visible(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *def)
{
    ngx_str_t   arg, item;
    u_char     *p, *last, *comma;
    ngx_flag_t  ok;

    if (ngx_http_ticket_string_arg(r, def, "roles", &arg) == NGX_OK
        && arg.len)
    {
        ok = 0;

        for (p = arg.data, last = arg.data + arg.len; p < last && !ok;
             p = comma + 1)
        {
            comma = ngx_strlchr(p, last, ',');
            if (comma == NULL) {
                comma = last;
            }

            item.data = p;
            item.len = comma - p;
            ok = tk_str_eq(ngx_ticket_str(&item),
                           ngx_ticket_str(&ctx->user.role));
        }

        if (!ok) {
            return 0;
        }
    }

    if (ngx_http_ticket_string_arg(r, def, "vgroups", &arg) != NGX_OK
        || arg.len == 0)
    {
        return 1;
    }

    for (p = arg.data, last = arg.data + arg.len; p < last; p = comma + 1) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        item.data = p;
        item.len = comma - p;

        if (item.len && ngx_http_ticket_right(ctx, &item) != TK_RIGHT_NONE) {
            return 1;
        }
    }

    return 0;
}


ngx_http_ticket_saved_t *
ngx_http_ticket_overview_find(ngx_http_ticket_overview_t *ov,
    ngx_str_t *name)
{
    ngx_uint_t                i;
    ngx_http_ticket_saved_t  *sv;

    sv = ov->saved.elts;

    for (i = 0; i < ov->saved.nelts; i++) {
        if (sv[i].key.len == name->len
            && ngx_strncmp(sv[i].key.data, name->data, name->len) == 0)
        {
            return &sv[i];
        }
    }

    return NULL;
}


ngx_flag_t
ngx_http_ticket_overview_shared_group(ngx_http_ticket_overview_t *ov,
    ngx_str_t *name)
{
    return ov->all_agents != NULL
           && ngx_http_ticket_set_has(ov->all_agents, name);
}


/* ---- the sidebar's entries ------------------------------------------- */

/*
 * The named overviews, the saved ones, then per group "all", "unassigned
 * (and the shared groups)" and "escalated".  Counts come from the
 * sidebar's counts where the partitions say it; the others (sets, a
 * priority, a person) add their commands to the same batch.
 */
ngx_int_t
ngx_http_ticket_overview_items(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_cmds_t *cmds)
{
    ngx_uint_t                      i, g;
    ngx_str_t                       name;
    ngx_http_ticket_saved_t        *sv;
    ngx_http_ticket_ov_def_t       *def;
    ngx_http_ticket_group_right_t  *gr;
    static const char              *prefix[] = { "group-", "unassigned-",
                                                 "escalated-" };

    if (ngx_http_ticket_overview_items_init(r, ov) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_TICKET_OV_N; i++) {
        def = &ngx_http_ticket_ov_defs[i];
        name.data = (u_char *) def->name;
        name.len = ngx_strlen(def->name);

        if (ngx_http_ticket_overview_item(r, ctx, ov, &name,
                                          ngx_http_ticket_msg(ctx, def->label),
                                          0, cmds)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    sv = ov->saved.elts;

    for (i = 0; i < ov->saved.nelts; i++) {
        if (ngx_http_ticket_overview_item(r, ctx, ov, &sv[i].key, NULL, 0,
                                          cmds)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    gr = ctx->groups.elts;

    for (g = 0; g < ctx->groups.nelts; g++) {
        for (i = 0; i < 3; i++) {
            name.len = ngx_strlen(prefix[i]) + gr[g].name.len;
            name.data = ngx_pnalloc(r->pool, name.len);
            if (name.data == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(ngx_cpymem(name.data, prefix[i],
                                  name.len - gr[g].name.len),
                       gr[g].name.data, gr[g].name.len);

            if (ngx_http_ticket_overview_item(r, ctx, ov, &name, NULL, 1,
                                              cmds)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    ngx_http_ticket_overview_items_end(r, ov, cmds);

    return NGX_OK;
}


ngx_int_t
ngx_http_ticket_overview_items_init(ngx_http_request_t *r,
    ngx_http_ticket_overview_t *ov)
{
    if (ngx_array_init(&ov->items, r->pool, 32,
                       sizeof(ngx_http_ticket_ov_item_t))
            != NGX_OK
        || ngx_array_init(&ov->pri_fields, r->pool, 16, sizeof(tk_str_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* The priority counts of every entry with a priority: one HMGET. */
void
ngx_http_ticket_overview_items_end(ngx_http_request_t *r,
    ngx_http_ticket_overview_t *ov, tk_cmds_t *cmds)
{
    if (ov->pri_fields.nelts) {
        ov->pri_reply = cmds->n - ov->extra;
        ngx_http_ticket_overview_pri_hmget(r, ov, cmds);
    }
}


/* The fields "G:S:O:P" of one group of an overview with a priority. */
static ngx_int_t
ngx_http_ticket_overview_pri_fields(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_http_ticket_overview_t *tmp, ngx_uint_t g, ngx_uint_t *n)
{
    u_char                         *p;
    ngx_int_t                       s;
    tk_str_t                       *f;
    ngx_http_ticket_group_right_t  *gr;

    gr = ctx->groups.elts;

    for (s = TK_STATE_MIN; s <= TK_STATE_MAX; s++) {
        if (!(tmp->states & (1 << s))) {
            continue;
        }

        f = ngx_array_push(&ov->pri_fields);
        p = ngx_pnalloc(r->pool, gr[g].name.len + tmp->owner.len
                                 + 2 * NGX_INT_T_LEN + 4);
        if (f == NULL || p == NULL) {
            return NGX_ERROR;
        }

        f->data = p;
        f->len = ngx_sprintf(p, "%V:%i:%V:%i", &gr[g].name, s, &tmp->owner,
                             tmp->filter_prio) - p;
        (*n)++;
    }

    return NGX_OK;
}


static void
ngx_http_ticket_overview_pri_hmget(ngx_http_request_t *r,
    ngx_http_ticket_overview_t *ov, tk_cmds_t *cmds)
{
    tk_str_t  *argv;

    argv = ngx_palloc(r->pool, (ov->pri_fields.nelts + 2) * sizeof(tk_str_t));
    if (argv == NULL) {
        cmds->failed = 1;
        return;
    }

    tk_str_set(&argv[0], "HMGET");
    tk_str_set(&argv[1], TK_KEY_INDEX_COUNTS_PRI);
    ngx_memcpy(&argv[2], ov->pri_fields.elts,
               ov->pri_fields.nelts * sizeof(tk_str_t));

    tk_cmds_argv(cmds, (int) ov->pri_fields.nelts + 2, argv);
}


/*
 * One entry: resolved like a page would be (a scratch overview), its
 * count from the sidebar's counts later, or its commands now.
 */
ngx_int_t
ngx_http_ticket_overview_item(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_str_t *name, const char *label, ngx_flag_t group, tk_cmds_t *cmds)
{
    u_char                      *p;
    const char                  *first, *second;
    ngx_flag_t                   shared;
    ngx_uint_t                   g;
    ngx_http_ticket_ov_item_t   *item;
    ngx_http_ticket_overview_t  *tmp;

    tmp = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_overview_t));
    item = ngx_array_push(&ov->items);
    if (tmp == NULL || item == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(item, sizeof(ngx_http_ticket_ov_item_t));

    tmp->saved = ov->saved;
    tmp->all_agents = ov->all_agents;

    if (ngx_http_ticket_overview_resolve_name(ctx, name, tmp) != NGX_OK) {
        ov->items.nelts--;
        return NGX_OK;
    }

    if (tmp->current
        && ngx_http_ticket_overview_apply(r, ctx, tmp, &tmp->current->def)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    item->name = *name;
    item->group = group;
    item->count = -1;
    item->current = (ov->name.len == name->len
                     && ngx_strncmp(ov->name.data, name->data, name->len)
                        == 0);

    if (tmp->current) {
        item->saved = 1;
        item->personal = tmp->current->personal;
        item->label = tmp->current->name;

    } else if (label) {
        item->label.data = (u_char *) label;
        item->label.len = ngx_strlen(label);

    } else {
        /* "[legal] all tickets", "[ALSO] unassigned (+ legal)" */
        second = NULL;

        if (tmp->def == NGX_HTTP_TICKET_OV_GROUP) {
            first = ngx_http_ticket_msg(ctx,
                                        TK_MSG_OVERVIEW_SAVED_ALL_TICKETS);

        } else if (tmp->def == NGX_HTTP_TICKET_OV_ESCALATED_G) {
            first = ngx_http_ticket_msg(ctx, TK_MSG_TICKET_SIDE_ESCALATED);

        } else {
            first = ngx_http_ticket_msg(ctx, TK_MSG_PROFILE_UNASSIGNED);
            shared = 0;

            for (g = 0; g < ctx->groups.nelts; g++) {
                shared |= ngx_http_ticket_overview_has_group(ctx, tmp, g)
                          && !tk_str_eq(ngx_ticket_str(&((
                                 ngx_http_ticket_group_right_t *)
                                 ctx->groups.elts)[g].name),
                                 ngx_ticket_str(&tmp->group));
            }

            if (shared) {
                second = ngx_http_ticket_msg(ctx,
                                        TK_MSG_OVERVIEW_SAVED_SHARED_GROUPS);
            }
        }

        item->label.data = ngx_pnalloc(r->pool, tmp->group.len + 3
                                                + ngx_strlen(first)
                                                + (second ? ngx_strlen(second)
                                                          : 0));
        if (item->label.data == NULL) {
            return NGX_ERROR;
        }

        /* by hand: three entries per group on every overview page */
        p = item->label.data;
        *p++ = '[';
        p = ngx_cpymem(p, tmp->group.data, tmp->group.len);
        *p++ = ']';
        *p++ = ' ';
        p = ngx_cpymem(p, first, ngx_strlen(first));

        if (second) {
            p = ngx_cpymem(p, second, ngx_strlen(second));
        }

        item->label.len = p - item->label.data;
    }

    /* the counts the vectors cannot give: a set, a priority, a person;
     * "[G] escalated" per group would be one ZCARD per group: its page
     * counts (the sidebar stays within its commands) */
    if (tmp->def == NGX_HTTP_TICKET_OV_ESCALATED_G
        || ngx_http_ticket_overview_cond_any(tmp))
    {
        /* a customer's set holds tickets of every group, a created range
         * needs its numbers first: the page counts */
        item->count = -1;

    } else if (tmp->only || tmp->tag.len) {
        item->first = cmds->n - ov->extra;
        item->n = ngx_http_ticket_overview_set_counts(r, ctx, tmp, cmds);
        item->count = -2;                       /* sum of the replies */

    } else if (tmp->filter_prio && !tmp->upd_from && !tmp->upd_to
               && tmp->owner_kind != NGX_HTTP_TICKET_OWNER_OTHER)
    {
        /* fields of tk:{ix}:counts:pri, one HMGET for all such entries */
        item->first = ov->pri_fields.nelts;
        item->n = 0;
        item->pri = 1;
        item->count = -2;

        for (g = 0; g < ctx->groups.nelts; g++) {
            if (!tmp->nothing
                && ngx_http_ticket_overview_has_group(ctx, tmp, g)
                && ngx_http_ticket_overview_pri_fields(r, ctx, ov, tmp, g,
                                                       &item->n)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

    } else if (tmp->owner_kind == NGX_HTTP_TICKET_OWNER_OTHER
               || tmp->filter_prio || tmp->upd_from || tmp->upd_to
               || ngx_http_ticket_overview_closed_owned(tmp))
    {
        item->first = cmds->n - ov->extra;
        item->n = ngx_http_ticket_overview_part_counts(r, ctx, tmp, cmds);
        item->count = -2;

    } else {
        item->count = ngx_http_ticket_overview_sum(ctx, tmp);
        item->scratch = tmp;
    }

    return NGX_OK;
}


/* The batch is in: sums of set counts, sums of the counts. */
void
ngx_http_ticket_overview_items_counted(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov)
{
    ngx_uint_t                  i, k, at;
    ngx_int_t                   n;
    ngx_http_ticket_reply_t    *rep;
    ngx_http_ticket_ov_item_t  *item;

    item = ov->items.elts;

    for (i = 0; i < ov->items.nelts; i++) {

        if (item[i].idx) {
            /* an entry as the user's sidebar plan keeps it */
            n = 0;

            for (k = 0; k < item[i].nidx; k++) {
                if (ov->count_vals && item[i].idx[k] < ov->count_n)
                {
                    n += ov->count_vals[item[i].idx[k]];
                }
            }

            item[i].count = n;
            continue;
        }

        if (item[i].scratch) {
            /* the scratch overview reads the same counts */
            item[i].scratch->count_n = ov->count_n;
            item[i].scratch->count_vals = ov->count_vals;
            item[i].count = ngx_http_ticket_overview_sum(ctx,
                                                         item[i].scratch);
            continue;
        }

        if (item[i].count != -2) {
            continue;
        }

        n = 0;

        for (k = 0; k < item[i].n; k++) {
            if (item[i].pri) {
                /* an element of the one HMGET of tk:{ix}:counts:pri */
                at = ov->extra + ov->pri_reply;
                rep = (at < ov->nreplies
                       && ov->replies[at].type == REDIS_REPLY_ARRAY
                       && item[i].first + k < ov->replies[at].nelem)
                      ? &ov->replies[at].element[item[i].first + k] : NULL;

                if (rep && rep->type == REDIS_REPLY_STRING) {
                    n += ngx_max(0, tk_str_atoll(ngx_ticket_str(&rep->str)));
                }

                continue;
            }

            at = ov->extra + item[i].first + k;
            rep = at < ov->nreplies ? &ov->replies[at] : NULL;

            if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer > 0)
            {
                n += rep->integer;
            }
        }

        item[i].count = (item[i].n || item[i].pri) ? n : -1;
    }
}
