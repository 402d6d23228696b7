/*
 * ngx_http_ticket_view_form.c -- the choices the ticket page's change
 * form offers: states, priorities, groups and owners, each list keeping
 * the ticket's current value so an unchanged form changes nothing.  The
 * users behind the owner choice come from the page cache when it has
 * them.  A refused form comes back showing what the agent changed, on
 * top of the stored ticket, with the message next to its field.  Also
 * the side's dates: the reminder input and the escalation's colour.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_view.h"


static u_char *ngx_http_ticket_view_user_str(u_char *p, u_char *last,
    ngx_str_t *s);
static ngx_int_t ngx_http_ticket_view_user_groups(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v, ngx_str_t *rights,
    ngx_str_t *disabled, ngx_str_t *groups);
static ngx_int_t ngx_http_ticket_view_users(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v);
static void ngx_http_ticket_view_errors(ngx_http_ticket_view_t *v,
    tk_tpl_ticket_side_t *tpl);


/*
 * What the refused form changed: a field posted with a value other than
 * the one the form showed (was_NAME), as the action counts it.  Fields
 * the agent left alone show the stored ticket, which others may have
 * changed meanwhile -- so sending the form again changes only what the
 * agent meant to.
 */
ngx_int_t
ngx_http_ticket_view_posted(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_view_t *v, const char *name, ngx_str_t *value)
{
    u_char     buf[32];
    ngx_str_t  was;

    if (v->again == NULL
        || ngx_http_ticket_form_arg(r, ctx, name, value) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    ngx_snprintf(buf, sizeof(buf), "was_%s%Z", name);

    if (ngx_http_ticket_form_arg(r, ctx, (char *) buf, &was) == NGX_OK
        && was.len == value->len
        && ngx_strncmp(was.data, value->data, was.len) == 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* The message of a refused form next to its field. */
static void
ngx_http_ticket_view_errors(ngx_http_ticket_view_t *v,
    tk_tpl_ticket_side_t *tpl)
{
    tk_str_t  *msg;

    if (v->again == NULL) {
        return;
    }

    msg = ngx_ticket_str(&v->again_message);

    if (ngx_strcmp(v->again, "owner") == 0) {
        tpl->owner_error = *msg;

    } else if (ngx_strcmp(v->again, "group") == 0) {
        tpl->group_error = *msg;

    } else if (ngx_strcmp(v->again, "pending_until") == 0) {
        tpl->pending_error = *msg;

    } else if (ngx_strcmp(v->again, "tags") == 0
               || ngx_strcmp(v->again, "into") == 0)
    {
        /* next to their own forms (ngx_http_ticket_view_case.c) */

    } else {
        tpl->form_error = *msg;
    }
}


/*
 * States and priorities always; groups: the existing groups the user
 * may move tickets into (full right), the ticket's own group always, so
 * that saving the form unchanged changes nothing.
 */
ngx_int_t
ngx_http_ticket_view_options(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_view_page_t *page)
{
    ngx_int_t                         s, state, prio;
    ngx_str_t                         value, group;
    ngx_uint_t                        i, n;
    ngx_flag_t                        own, sel;
    tk_tpl_ticket_side_t             *tpl;
    tk_tpl_ticket_side_state_opts_t  *so;
    tk_tpl_ticket_side_prio_opts_t   *po;
    tk_tpl_ticket_side_group_opts_t  *go;
    ngx_http_ticket_group_right_t    *gr;

    tpl = &page->side;

    if (!tpl->can_write) {
        return NGX_OK;
    }

    ngx_http_ticket_view_errors(v, tpl);

    /* what is selected: the stored ticket, or what a refused form
     * changed (a value no option has selects nothing: the first) */
    state = v->ticket.state;
    prio = v->ticket.priority;
    group = *(ngx_str_t *) &v->ticket.group;

    if (ngx_http_ticket_view_posted(r, ctx, v, "state", &value) == NGX_OK) {
        state = tk_state_parse((char *) value.data, value.len);
    }

    if (ngx_http_ticket_view_posted(r, ctx, v, "priority", &value) == NGX_OK) {
        prio = tk_prio_parse((char *) value.data, value.len);
    }

    if (ngx_http_ticket_view_posted(r, ctx, v, "group", &value) == NGX_OK) {
        group = value;
    }

    if (ngx_http_ticket_view_posted(r, ctx, v, "pending_until", &value)
        == NGX_OK)
    {
        tpl->pending_until = *ngx_ticket_str(&value);
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
        so[s - 1].selected = (s == state);
    }

    for (s = TK_PRIO_MIN; s <= TK_PRIO_MAX; s++) {
        if (ngx_http_ticket_uint_str(r, s, &po[s - 1].value) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_ticket_prio_label(ctx, s, &po[s - 1].label);
        po[s - 1].selected = (s == prio);
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

        sel = (gr[i].name.len == group.len
               && ngx_strncmp(gr[i].name.data, group.data, group.len) == 0);

        go[n].value = *ngx_ticket_str(&gr[i].name);
        go[n].label = go[n].value;
        go[n].selected = sel;
        n++;
    }

    tpl->group_opts = go;
    tpl->group_opts_n = n;

    return NGX_OK;
}


/*
 * The users the owner choice is made of, from the cache: every user
 * (login, display name) and whether they may own a ticket of this group
 * (enabled, a right on it).  That depends on the users' hashes, the user
 * list and the all-agents groups -- every writer of those bumps
 * tk:{ix}:gen (ticketctl user and group, the profile page) -- and on the
 * group; not on who asks.  Saves the ticket page a round trip and an
 * HMGET per user.
 */
ngx_int_t
ngx_http_ticket_view_users_cached(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v)
{
    u_char                       *p, *last;
    ngx_uint_t                    all_agents;
    ngx_http_ticket_view_user_t  *u;

    all_agents = ngx_http_ticket_set_has(v->all_agents,
                                         (ngx_str_t *) &v->ticket.group);

    /* the viewer's groups too: each user's "may own in" list (the owner
     * choice when the ticket moves) is made of them */
    p = ngx_pnalloc(r->pool, sizeof("own|||") + v->ticket.group.len + 1
                             + ngx_http_ticket_cache_groups_len(ctx));
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->users_cache.key.data = p;
    p = ngx_sprintf(p, "own|%V|%ui|", (ngx_str_t *) &v->ticket.group,
                    all_agents);
    p = ngx_http_ticket_cache_groups(p, ctx);
    v->users_cache.key.len = p - v->users_cache.key.data;
    v->users_cache.version = ctx->cache_gen;

    switch (ngx_http_ticket_cache_get(r, ctx, &v->users_cache)) {
    case NGX_OK:
        break;
    case NGX_DECLINED:
        return NGX_OK;
    default:
        return NGX_ERROR;
    }

    /* "E" or "-", then login and name, each as LENGTH ":" BYTES */
    v->users_list = ngx_array_create(r->pool, 16,
                                     sizeof(ngx_http_ticket_view_user_t));
    if (v->users_list == NULL) {
        return NGX_ERROR;
    }

    p = v->users_cache.body.data;
    last = p + v->users_cache.body.len;

    while (p < last) {
        u = ngx_array_push(v->users_list);
        if (u == NULL) {
            return NGX_ERROR;
        }

        u->eligible = (*p++ == 'E');

        if ((p = ngx_http_ticket_view_user_str(p, last, &u->login)) == NULL
            || (p = ngx_http_ticket_view_user_str(p, last, &u->name)) == NULL
            || (p = ngx_http_ticket_view_user_str(p, last, &u->groups))
               == NULL)
        {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "ticket: a cached user list is damaged");
            v->users_list = NULL;
            return NGX_OK;
        }
    }

    return NGX_OK;
}


static u_char *
ngx_http_ticket_view_user_str(u_char *p, u_char *last, ngx_str_t *s)
{
    u_char     *colon;
    ngx_int_t   n;

    colon = ngx_strlchr(p, last, ':');
    if (colon == NULL) {
        return NULL;
    }

    n = ngx_atoi(p, colon - p);
    if (n == NGX_ERROR || n > last - colon - 1) {
        return NULL;
    }

    s->data = colon + 1;
    s->len = n;

    return colon + 1 + n;
}


/*
 * Of the viewer's groups (the ones the ticket may move to), those a user
 * may own tickets in: "ALSO legal " -- the owner choice follows the
 * group select with it (static/ticket.js), the update checks it again.
 */
static ngx_int_t
ngx_http_ticket_view_user_groups(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v, ngx_str_t *rights,
    ngx_str_t *disabled, ngx_str_t *groups)
{
    u_char                         *p;
    ngx_uint_t                      g;
    ngx_http_ticket_group_right_t  *gr;

    groups->len = 0;

    if (ngx_http_ticket_flag_on(disabled)) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, ngx_http_ticket_cache_groups_len(ctx)
                             + ctx->groups.nelts + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    groups->data = p;
    gr = ctx->groups.elts;

    for (g = 0; g < ctx->groups.nelts; g++) {
        if (tk_rights_get(ngx_ticket_str(rights), ngx_ticket_str(&gr[g].name),
                          ngx_http_ticket_set_has(v->all_agents,
                                                  &gr[g].name))
            != TK_RIGHT_NONE)
        {
            p = ngx_sprintf(p, "%V ", &gr[g].name);
        }
    }

    groups->len = p - groups->data;

    return NGX_OK;
}


/*
 * The user list from the second batch's HMGETs (name, rights, disabled
 * of every user, in the order of tk:users), kept in the cache for the
 * next page of a ticket in this group.
 */
static ngx_int_t
ngx_http_ticket_view_users(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_view_t *v)
{
    u_char                       *p;
    size_t                        size;
    ngx_buf_t                     b;
    ngx_str_t                     rights, disabled;
    ngx_uint_t                    i, base;
    ngx_flag_t                    all_agents;
    ngx_chain_t                   cl;
    ngx_http_ticket_reply_t      *rep;
    ngx_http_ticket_view_user_t  *u;

    v->users_list = ngx_array_create(r->pool, v->users->nelem + 1,
                                     sizeof(ngx_http_ticket_view_user_t));
    if (v->users_list == NULL) {
        return NGX_ERROR;
    }

    base = v->users_base;
    all_agents = ngx_http_ticket_set_has(v->all_agents,
                                         (ngx_str_t *) &v->ticket.group);
    size = 0;

    for (i = 0; i < v->users->nelem && base + i < v->nsecond; i++) {
        rep = &v->second[base + i];

        if (rep->type != REDIS_REPLY_ARRAY || rep->nelem != 3) {
            continue;
        }

        u = ngx_array_push(v->users_list);
        if (u == NULL) {
            return NGX_ERROR;
        }

        u->login = v->users->element[i].str;
        ngx_http_ticket_reply_str(&rep->element[0], &u->name);
        ngx_http_ticket_reply_str(&rep->element[1], &rights);
        ngx_http_ticket_reply_str(&rep->element[2], &disabled);

        u->eligible = !ngx_http_ticket_flag_on(&disabled)
                      && tk_rights_get(ngx_ticket_str(&rights),
                                       &v->ticket.group, (int) all_agents)
                         != TK_RIGHT_NONE;

        if (ngx_http_ticket_view_user_groups(r, ctx, v, &rights, &disabled,
                                             &u->groups)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        size += 1 + 3 * (NGX_SIZE_T_LEN + 1) + u->login.len + u->name.len
                + u->groups.len;
    }

    if (v->users_cache.key.len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, size + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&b, sizeof(ngx_buf_t));
    b.pos = p;
    b.memory = 1;

    u = v->users_list->elts;

    for (i = 0; i < v->users_list->nelts; i++) {
        p = ngx_sprintf(p, "%c%uz:%V%uz:%V%uz:%V", u[i].eligible ? 'E' : '-',
                        u[i].login.len, &u[i].login, u[i].name.len,
                        &u[i].name, u[i].groups.len, &u[i].groups);
    }

    b.last = p;
    cl.buf = &b;
    cl.next = NULL;

    ngx_http_ticket_cache_put(r, ctx, &v->users_cache, &cl);

    return NGX_OK;
}


/*
 * Who may own the ticket: every enabled agent with a right on its group;
 * the current owner stays in the list even without one (so an unchanged
 * form keeps them).  Also gives the owner's display name.
 */
ngx_int_t
ngx_http_ticket_view_owners(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_view_page_t *page)
{
    tk_str_t                          owner;
    ngx_str_t                         name, value;
    ngx_uint_t                        i, j, n, base;
    ngx_flag_t                        own, sel;
    ngx_http_ticket_reply_t          *rep;
    tk_tpl_ticket_side_t             *tpl;
    ngx_http_ticket_view_user_t      *u;
    tk_tpl_ticket_side_owner_opts_t  *oo, tmp;

    tpl = &page->side;

    if (v->users_list == NULL) {

        if (!tpl->can_write) {
            /* one HMGET of the owner, if any */
            base = v->users_base;

            if (v->ticket.owner.len && base < v->nsecond) {
                rep = &v->second[base];
                if (rep->type == REDIS_REPLY_ARRAY && rep->nelem == 3) {
                    ngx_http_ticket_reply_str(&rep->element[0], &name);
                    if (name.len) {
                        page->head.owner_name = *ngx_ticket_str(&name);
                    }
                }
            }

            return NGX_OK;
        }

        if (v->users->type != REDIS_REPLY_ARRAY) {
            return NGX_OK;
        }

        if (ngx_http_ticket_view_users(r, ctx, v) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    /* selected: the stored owner, or the one a refused form named */
    owner = v->ticket.owner;

    if (ngx_http_ticket_view_posted(r, ctx, v, "owner", &value) == NGX_OK
        && (value.len == 0 || tk_valid_login(ngx_ticket_str(&value))))
    {
        owner = *ngx_ticket_str(&value);
    }

    u = v->users_list->elts;

    oo = ngx_pcalloc(r->pool, (v->users_list->nelts + 1) * sizeof(*oo));
    if (oo == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    for (i = 0; i < v->users_list->nelts; i++) {
        own = tk_str_eq(ngx_ticket_str(&u[i].login), &v->ticket.owner);
        sel = tk_str_eq(ngx_ticket_str(&u[i].login), &owner);

        if (own && u[i].name.len) {
            page->head.owner_name = *ngx_ticket_str(&u[i].name);
        }

        /* agents of the other groups too: the ticket may move there in
         * the same save (the script shows each group's own) */
        if (!tpl->can_write
            || (!own && !sel && !u[i].eligible && u[i].groups.len == 0))
        {
            continue;
        }

        oo[n].value = *ngx_ticket_str(&u[i].login);
        oo[n].groups = *ngx_ticket_str(&u[i].groups);
        oo[n].other = !u[i].eligible && !own && !sel;

        if (u[i].name.len) {
            oo[n].label.len = u[i].name.len + u[i].login.len + 3;
            oo[n].label.data = ngx_pnalloc(r->pool, oo[n].label.len);
            if (oo[n].label.data == NULL) {
                return NGX_ERROR;
            }

            ngx_sprintf(oo[n].label.data, "%V (%V)", &u[i].name,
                        &u[i].login);

        } else {
            oo[n].label = oo[n].value;
        }

        oo[n].selected = sel;
        n++;
    }

    if (!tpl->can_write) {
        return NGX_OK;
    }

    /* an owner who is no user any more: keep them selectable */
    if (owner.len) {
        for (i = 0; i < n; i++) {
            if (oo[i].selected) {
                break;
            }
        }

        if (i == n) {
            oo[n].value = owner;
            oo[n].label = owner;
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


/* ---- the side's dates: reminder input, escalation (from view.c) -------- */


/* The value of a datetime-local input for t, in the server's zone. */
ngx_int_t
ngx_http_ticket_view_local_input(ngx_http_request_t *r, int64_t t, tk_str_t *str)
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


/*
 * The escalation time (mailbridge's timers write escalation_at and
 * escalated) with its colour: esc-ok, esc-warn when less than 20 % of
 * the time from creation is left, esc-over when it is due or escalated.
 * The side is rendered on every request, so the colour follows the clock.
 */
ngx_int_t
ngx_http_ticket_view_escalation(ngx_http_request_t *r, const tk_ticket_t *t,
    tk_tpl_ticket_side_t *side)
{
    int64_t  now, total, left;

    if (t->escalation_at == 0 && t->escalated == 0) {
        return NGX_OK;
    }

    now = (int64_t) ngx_time();

    if (t->escalation_at == 0) {
        ngx_str_set(&side->escalation_class, "esc-over");
        side->escalated = 1;
        return ngx_http_ticket_time_str(r, t->escalated,
                                        &side->escalation_label) == NGX_OK
               && ngx_http_ticket_iso_str(r, t->escalated,
                                          &side->escalation_iso) == NGX_OK
               ? NGX_OK : NGX_ERROR;
    }

    total = t->escalation_at - t->created;
    left = t->escalation_at - now;

    if (t->escalated || left <= 0) {
        ngx_str_set(&side->escalation_class, "esc-over");
    } else if (left * 5 < total) {
        ngx_str_set(&side->escalation_class, "esc-warn");
    } else {
        ngx_str_set(&side->escalation_class, "esc-ok");
    }

    if (t->escalated) {
        side->escalated = 1;
    }

    if (ngx_http_ticket_time_str(r, t->escalation_at, &side->escalation_label)
            != NGX_OK
        || ngx_http_ticket_iso_str(r, t->escalation_at, &side->escalation_iso)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
