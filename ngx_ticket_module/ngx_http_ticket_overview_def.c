/*
 * ngx_http_ticket_overview_def.c -- which overview a request shows: the
 * name ("my", "group-G", "unassigned-G", "escalated-G", a saved "17"),
 * what it covers (groups, states, owner, and beyond: priority, escalated
 * or reminder due, a tag), a saved definition on top, the ad hoc
 * filters of the page (GET parameters), sort and page, and the page
 * cache's key for all of that.  Used by ngx_http_ticket_overview.c
 * (the reading) and the page; calls neither.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ticket_overview.h"


#define NGX_HTTP_TICKET_MAX_PAGE       100000


static ngx_int_t ngx_http_ticket_overview_resolve(ngx_http_ticket_ctx_t *ctx,
    ngx_str_t *name, ngx_http_ticket_overview_t *ov);
static ngx_uint_t ngx_http_ticket_overview_group_kind(ngx_str_t *name,
    ngx_str_t *group);
static void ngx_http_ticket_overview_owner(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov);
static ngx_int_t ngx_http_ticket_overview_who(ngx_http_ticket_ctx_t *ctx,
    ngx_str_t *who, ngx_uint_t *kind, ngx_str_t *owner);
static ngx_int_t ngx_http_ticket_overview_adhoc(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov);
static ngx_uint_t ngx_http_ticket_overview_only(ngx_str_t *arg);
static ngx_flag_t ngx_http_ticket_overview_tag_ok(ngx_str_t *tag);
static ngx_uint_t ngx_http_ticket_overview_columns_parse(ngx_str_t *arg);


/*
 * Which overview, which page, sort and filters.  NGX_DECLINED for an
 * unknown overview or a group the user cannot see (404); bad sort or
 * page values fall back to the defaults (links get edited by hand, a
 * list is still more useful than an error).
 */
ngx_int_t
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

    } else if (ov->api_name.len) {
        name = ov->api_name;                    /* /api/v1/overviews/NAME */

    } else {
        return NGX_DECLINED;
    }

    if (ngx_http_ticket_overview_resolve(ctx, &name, ov) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (ov->current
        && ngx_http_ticket_overview_apply(r, ctx, ov, &ov->current->def)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_ticket_query_init(r, &ov->query) != NGX_OK) {
        return NGX_ERROR;
    }

    ov->query.column = NGX_HTTP_TICKET_COL_UPDATED;
    ov->query.desc = 1;

    if (ov->def_column >= 0) {
        ov->query.column = ov->def_column;
        ov->query.desc = ov->def_desc;
    }

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

    /* updated from / to ("2026-11-24"; "to" is the whole day) */
    if (ngx_http_ticket_query_arg(r, "from", &arg) == NGX_OK && arg.len
        && ngx_http_ticket_parse_local_day(&arg, &ov->upd_from) == NGX_OK)
    {
        ov->filter_from = arg;
    }

    if (ngx_http_ticket_query_arg(r, "to", &arg) == NGX_OK && arg.len
        && ngx_http_ticket_parse_local_day(&arg, &ov->upd_to) == NGX_OK)
    {
        ov->filter_to = arg;
        ov->upd_to += (arg.len == 10) ? 86399 : 59;
    }

    /* the columns shown: "columns=number,title,updated" (ad hoc over
     * a saved choice) */
    if (ngx_http_ticket_query_arg(r, "columns", &arg) == NGX_OK && arg.len) {
        ov->columns = ngx_http_ticket_overview_columns_parse(&arg);
        ov->filter_columns = 1;
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
        if (n >= TK_STATE_MIN && n <= TK_STATE_MAX
            && (ov->states & (1 << n)))
        {
            ov->filter_state = n;
        }
    }

    if (ngx_http_ticket_overview_adhoc(r, ctx, ov) != NGX_OK) {
        return NGX_ERROR;
    }

    /* customer, created from / to (ngx_http_ticket_overview_filter.c) */
    ngx_http_ticket_overview_cond_args(r, ov);

    if (ngx_http_ticket_query_arg(r, "priority", &arg) == NGX_OK
        && arg.len)
    {
        n = tk_prio_parse((const char *) arg.data, arg.len);
        if (n >= TK_PRIO_MIN && n <= TK_PRIO_MAX) {
            /* a saved priority and another one: nothing is both */
            ov->nothing |= (ov->filter_prio && ov->filter_prio != n);
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

    return NGX_OK;
}


/*
 * What an overview page depends on besides the data, all of it: the
 * location (links), the user (the "my" counts, which groups with which
 * right), language, today's date (short times say "14:05" today, a date
 * tomorrow), and the overview, sort, filters and page as parse() made
 * them.  The version is the generation authentication read.
 */
ngx_int_t
ngx_http_ticket_overview_cache_key(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov)
{
    size_t                       len;
    u_char                      *p;
    ngx_time_t                  *tp;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);
    tp = ngx_timeofday();

    len = sizeof("ov||||||||||||||||||") + lcf->base_url.len
          + ctx->user.login.len + ctx->user.lang.len
          + ngx_http_ticket_cache_groups_len(ctx) + ov->name.len
          + ov->filter_group.len + 8 * NGX_INT_T_LEN + NGX_TIME_T_LEN
          + 2 * NGX_INT64_LEN + 2
          + ov->filter_who.len + ov->filter_tag.len + ctx->csrf.len
          + (ov->current ? ov->current->def.len : 0)
          + ngx_http_ticket_overview_cond_len(ov);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ov->cache.key.data = p;

    p = ngx_sprintf(p, "ov|%V|%V|%V|%T|", &lcf->base_url, &ctx->user.login,
                    &ctx->user.lang,
                    (time_t) ((tp->sec + tp->gmtoff * 60) / 86400));
    p = ngx_http_ticket_cache_groups(p, ctx);
    p = ngx_sprintf(p, "|%V|%ui|%ui|%ui|%ui|%i|%i|%V", &ov->name,
                    (ngx_uint_t) ov->home, ov->query.column,
                    (ngx_uint_t) ov->query.desc, ov->page, ov->filter_state,
                    ov->filter_prio, &ov->filter_group);
    /* the forms carry the session's CSRF token: a page per session */
    p = ngx_sprintf(p, "|%L|%L", ov->upd_from, ov->upd_to);
    p = ngx_sprintf(p, "|%ui|%V|%ui|%V|%V|", ov->columns, &ov->filter_who,
                    ov->filter_only,
                    &ov->filter_tag, &ctx->csrf);
    p = ngx_http_ticket_overview_cond_key(p, ov);

    if (ov->current) {
        p = ngx_cpymem(p, ov->current->def.data, ov->current->def.len);
    }

    ov->cache.key.len = p - ov->cache.key.data;
    ov->cache.version = ctx->cache_gen;

    return NGX_OK;
}


/*
 * An overview by name: which groups, states and owner it covers.
 * NGX_DECLINED for an unknown name or a group the user cannot see.
 * Saved overviews ("17") start as "all": their definition narrows it
 * (ngx_http_ticket_overview_apply(), called by parse()).
 */
ngx_int_t
ngx_http_ticket_overview_resolve_name(ngx_http_ticket_ctx_t *ctx,
    ngx_str_t *name, ngx_http_ticket_overview_t *ov)
{
    return ngx_http_ticket_overview_resolve(ctx, name, ov);
}


static ngx_int_t
ngx_http_ticket_overview_resolve(ngx_http_ticket_ctx_t *ctx, ngx_str_t *name,
    ngx_http_ticket_overview_t *ov)
{
    ngx_uint_t  i, kind;
    ngx_str_t   all;

    ov->name = *name;
    ov->def = NGX_HTTP_TICKET_OV_N;
    ov->only = 0;
    ov->group.len = 0;
    ov->groups_in = NULL;
    ov->current = NULL;
    ov->def_column = -1;

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
            ov->only = ngx_http_ticket_ov_defs[i].only;
            break;
        }
    }

    if (ov->def == NGX_HTTP_TICKET_OV_N) {
        kind = ngx_http_ticket_overview_group_kind(name, &ov->group);

        if (kind == NGX_HTTP_TICKET_OV_N) {
            ov->current = ngx_http_ticket_overview_find(ov, name);
            if (ov->current == NULL) {
                return NGX_DECLINED;
            }

            ngx_str_set(&all, "all");
            (void) ngx_http_ticket_overview_resolve(ctx, &all, ov);

            ov->name = *name;
            ov->def = NGX_HTTP_TICKET_OV_SAVED;
            ov->current = ngx_http_ticket_overview_find(ov, name);

            return NGX_OK;
        }

        if (ngx_http_ticket_right(ctx, &ov->group) == TK_RIGHT_NONE) {
            return NGX_DECLINED;
        }

        ov->def = kind;
        ov->state_min = TK_STATE_MIN;
        ov->state_max = TK_STATE_MAX;
        ov->owner_kind = NGX_HTTP_TICKET_OWNER_ANY;

        if (kind == NGX_HTTP_TICKET_OV_UNASSIGNED_G) {
            /* "[G] unassigned of G and legal": G and the shared groups */
            ov->state_max = TK_STATE_DEFERRED;
            ov->owner_kind = NGX_HTTP_TICKET_OWNER_NONE;

        } else if (kind == NGX_HTTP_TICKET_OV_ESCALATED_G) {
            ov->state_max = TK_STATE_DEFERRED;
            ov->only = NGX_HTTP_TICKET_ONLY_ESCALATED;
        }
    }

    ov->states = 0;

    for (i = (ngx_uint_t) ov->state_min; i <= (ngx_uint_t) ov->state_max; i++)
    {
        ov->states |= 1 << i;
    }

    ngx_http_ticket_overview_owner(ctx, ov);

    return NGX_OK;
}


/* "group-G", "unassigned-G", "escalated-G": the kind and G, or OV_N. */
static ngx_uint_t
ngx_http_ticket_overview_group_kind(ngx_str_t *name, ngx_str_t *group)
{
    ngx_uint_t   i;
    size_t       len;
    static struct {
        const char  *prefix;
        ngx_uint_t   kind;
    } kinds[] = {
        { "group-", NGX_HTTP_TICKET_OV_GROUP },
        { "unassigned-", NGX_HTTP_TICKET_OV_UNASSIGNED_G },
        { "escalated-", NGX_HTTP_TICKET_OV_ESCALATED_G },
    };

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        len = ngx_strlen(kinds[i].prefix);

        if (name->len > len
            && ngx_strncmp(name->data, kinds[i].prefix, len) == 0)
        {
            group->data = name->data + len;
            group->len = name->len - len;
            return kinds[i].kind;
        }
    }

    return NGX_HTTP_TICKET_OV_N;
}


/* The partition owner of ov's owner kind. */
static void
ngx_http_ticket_overview_owner(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov)
{
    switch (ov->owner_kind) {
    case NGX_HTTP_TICKET_OWNER_ME:
        ov->owner = ctx->user.login;
        break;
    case NGX_HTTP_TICKET_OWNER_NONE:
        ngx_str_set(&ov->owner, TK_OWNER_NONE);
        break;
    case NGX_HTTP_TICKET_OWNER_AUTO:
        ngx_str_set(&ov->owner, TK_OWNER_AUTO);
        break;
    case NGX_HTTP_TICKET_OWNER_OTHER:
        break;                                  /* set by the caller */
    default:
        ngx_str_set(&ov->owner, TK_OWNER_ANY);
    }
}


/*
 * "me", "nobody", "anyone", "auto" or a login: the owner kind and the
 * partition owner.  NGX_DECLINED for anything else.
 */
static ngx_int_t
ngx_http_ticket_overview_who(ngx_http_ticket_ctx_t *ctx, ngx_str_t *who,
    ngx_uint_t *kind, ngx_str_t *owner)
{
    static struct {
        const char  *name;
        ngx_uint_t   kind;
    } words[] = {
        { "me", NGX_HTTP_TICKET_OWNER_ME },
        { "nobody", NGX_HTTP_TICKET_OWNER_NONE },
        { "anyone", NGX_HTTP_TICKET_OWNER_ANY },
        { "auto", NGX_HTTP_TICKET_OWNER_AUTO },
    };
    ngx_uint_t  i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (who->len == ngx_strlen(words[i].name)
            && ngx_strncmp(who->data, words[i].name, who->len) == 0)
        {
            *kind = words[i].kind;

            switch (*kind) {
            case NGX_HTTP_TICKET_OWNER_ME:
                *owner = ctx->user.login;
                break;
            case NGX_HTTP_TICKET_OWNER_NONE:
                ngx_str_set(owner, TK_OWNER_NONE);
                break;
            case NGX_HTTP_TICKET_OWNER_AUTO:
                ngx_str_set(owner, TK_OWNER_AUTO);
                break;
            default:
                ngx_str_set(owner, TK_OWNER_ANY);
            }

            return NGX_OK;
        }
    }

    if (!tk_valid_login(ngx_ticket_str(who))) {
        return NGX_DECLINED;
    }

    /* a login that is mine is "me": the sidebar counts know it */
    if (tk_str_eq(ngx_ticket_str(who), ngx_ticket_str(&ctx->user.login))) {
        *kind = NGX_HTTP_TICKET_OWNER_ME;
    } else {
        *kind = NGX_HTTP_TICKET_OWNER_OTHER;
    }

    *owner = *who;

    return NGX_OK;
}


/*
 * The ad hoc filters beyond state, priority and group: owner ("who"),
 * only escalated / reminders due, a tag.  Each narrows the overview; one
 * that contradicts it (an owner filter on "my tickets" naming someone
 * else) leaves nothing.
 */
static ngx_int_t
ngx_http_ticket_overview_adhoc(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov)
{
    ngx_str_t   arg, owner;
    ngx_uint_t  kind;

    if (ngx_http_ticket_query_arg(r, "owner", &arg) == NGX_OK && arg.len
        && ngx_http_ticket_overview_who(ctx, &arg, &kind, &owner) == NGX_OK
        && kind != NGX_HTTP_TICKET_OWNER_ANY)
    {
        ov->filter_who = arg;

        if (ov->owner_kind == NGX_HTTP_TICKET_OWNER_ANY) {
            ov->owner_kind = kind;
            ov->owner = owner;

        } else if (!tk_str_eq(ngx_ticket_str(&ov->owner),
                              ngx_ticket_str(&owner)))
        {
            ov->nothing = 1;
        }
    }

    if (ngx_http_ticket_query_arg(r, "only", &arg) == NGX_OK && arg.len) {
        kind = ngx_http_ticket_overview_only(&arg);

        if (kind) {
            ov->filter_only = kind;
            ov->nothing |= (ov->only && ov->only != kind);
            ov->only = kind;
        }
    }

    if (ngx_http_ticket_query_arg(r, "tag", &arg) == NGX_OK && arg.len
        && ngx_http_ticket_overview_tag_ok(&arg))
    {
        ov->filter_tag = arg;
        ov->nothing |= (ov->tag.len && !tk_str_eq(ngx_ticket_str(&ov->tag),
                                                  ngx_ticket_str(&arg)));
        ov->tag = arg;
    }

    /* the sets are one kind at a time: escalated or reminders or a tag */
    ov->nothing |= (ov->only && ov->tag.len);

    return NGX_OK;
}


/* "escalated", "reminder": NGX_HTTP_TICKET_ONLY_*, else 0. */
static ngx_uint_t
ngx_http_ticket_overview_only(ngx_str_t *arg)
{
    if (arg->len == 9 && ngx_strncmp(arg->data, "escalated", 9) == 0) {
        return NGX_HTTP_TICKET_ONLY_ESCALATED;
    }

    if (arg->len == 8 && ngx_strncmp(arg->data, "reminder", 8) == 0) {
        return NGX_HTTP_TICKET_ONLY_REMINDER;
    }

    return 0;
}


/* A tag as the tags helper keeps them: lower case, no blanks, ':' or ','
 * (it becomes part of a key); lower-cased here in place. */
static ngx_flag_t
ngx_http_ticket_overview_tag_ok(ngx_str_t *tag)
{
    ngx_uint_t  i;

    if (tag->len == 0 || tag->len > 64) {
        return 0;
    }

    for (i = 0; i < tag->len; i++) {
        if (tag->data[i] <= 0x20 || tag->data[i] == 0x7f
            || tag->data[i] == ':' || tag->data[i] == ','
            || tag->data[i] == '{' || tag->data[i] == '}'
            || tag->data[i] == '*')
        {
            return 0;
        }

        tag->data[i] = ngx_tolower(tag->data[i]);
    }

    return 1;
}


/*
 * A saved definition on top of "all": groups (only those the user can
 * read stay), states, owner, priority, only, tag, sort.  Invalid parts
 * are left out, so a definition written by an older version still
 * shows something sensible.
 */
ngx_int_t
ngx_http_ticket_overview_apply(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_str_t *def)
{
    ngx_int_t    n;
    ngx_str_t    arg, item, owner, *gname;
    ngx_uint_t   kind, states;
    u_char      *p, *last, *comma;

    if (ngx_http_ticket_string_arg(r, def, "groups", &arg) == NGX_OK
        && arg.len)
    {
        ov->groups_in = ngx_array_create(r->pool, 4, sizeof(ngx_str_t));
        if (ov->groups_in == NULL) {
            return NGX_ERROR;
        }

        for (p = arg.data, last = arg.data + arg.len; p < last;
             p = comma + 1)
        {
            comma = ngx_strlchr(p, last, ',');
            if (comma == NULL) {
                comma = last;
            }

            item.data = p;
            item.len = comma - p;

            if (item.len && ngx_http_ticket_right(ctx, &item)
                            != TK_RIGHT_NONE)
            {
                gname = ngx_array_push(ov->groups_in);
                if (gname == NULL) {
                    return NGX_ERROR;
                }

                *gname = item;
            }
        }

        /* every group named is out of reach: the overview is empty */
        ov->nothing |= (ov->groups_in->nelts == 0);
    }

    if (ngx_http_ticket_string_arg(r, def, "states", &arg) == NGX_OK
        && arg.len)
    {
        states = 0;

        for (p = arg.data, last = arg.data + arg.len; p < last; p++) {
            if (*p >= '0' + TK_STATE_MIN && *p <= '0' + TK_STATE_MAX) {
                states |= 1 << (*p - '0');
            }
        }

        if (states) {
            ov->states = states;
        }
    }

    if (ngx_http_ticket_string_arg(r, def, "owner", &arg) == NGX_OK
        && arg.len
        && ngx_http_ticket_overview_who(ctx, &arg, &kind, &owner) == NGX_OK)
    {
        ov->owner_kind = kind;
        ov->owner = owner;
    }

    if (ngx_http_ticket_string_arg(r, def, "priority", &arg) == NGX_OK
        && arg.len)
    {
        n = tk_prio_parse((const char *) arg.data, arg.len);
        if (n >= TK_PRIO_MIN && n <= TK_PRIO_MAX) {
            ov->filter_prio = n;
            ov->cond_prio = n;
        }
    }

    if (ngx_http_ticket_string_arg(r, def, "only", &arg) == NGX_OK) {
        ov->only = ngx_http_ticket_overview_only(&arg);
    }

    if (ngx_http_ticket_string_arg(r, def, "tag", &arg) == NGX_OK
        && ngx_http_ticket_overview_tag_ok(&arg))
    {
        ov->tag = arg;
    }

    if (ngx_http_ticket_string_arg(r, def, "sort", &arg) == NGX_OK) {
        n = ngx_http_ticket_col_parse(&arg);
        if (n != NGX_ERROR) {
            ov->def_column = n;
            ov->def_desc = ngx_http_ticket_col_default_desc(n);
        }
    }

    if (ngx_http_ticket_string_arg(r, def, "dir", &arg) == NGX_OK) {
        ov->def_desc = !(arg.len == 3 && ngx_strncmp(arg.data, "asc", 3) == 0);
    }

    if (ngx_http_ticket_string_arg(r, def, "columns", &arg) == NGX_OK) {
        ov->columns = ngx_http_ticket_overview_columns_parse(&arg);
    }

    if (ngx_http_ticket_string_arg(r, def, "updated_from", &arg) == NGX_OK) {
        ov->upd_from = ngx_max(0, tk_str_atoll(ngx_ticket_str(&arg)));
    }

    if (ngx_http_ticket_string_arg(r, def, "updated_to", &arg) == NGX_OK) {
        ov->upd_to = ngx_max(0, tk_str_atoll(ngx_ticket_str(&arg)));
    }

    ngx_http_ticket_overview_cond_apply(r, ov, def);

    return NGX_OK;
}


/* "number,title,updated": a mask of columns (bit c for column c); 0 --
 * all -- when none is known.  The title always stays: it is the link. */
static ngx_uint_t
ngx_http_ticket_overview_columns_parse(ngx_str_t *arg)
{
    ngx_int_t    c;
    ngx_str_t    item;
    ngx_uint_t   mask;
    u_char      *p, *last, *comma;

    mask = 0;

    for (p = arg->data, last = arg->data + arg->len; p < last; p = comma + 1)
    {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        item.data = p;
        item.len = comma - p;
        c = ngx_http_ticket_col_parse(&item);

        if (c != NGX_ERROR) {
            mask |= (ngx_uint_t) 1 << c;
        }
    }

    return mask ? mask | (1 << NGX_HTTP_TICKET_COL_TITLE) : 0;
}
