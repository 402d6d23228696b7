/*
 * ngx_http_ticket_view_form.c -- the choices the ticket page's change
 * form offers: states, priorities, groups and owners, each list keeping
 * the ticket's current value so an unchanged form changes nothing.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_view.h"


/*
 * States and priorities always; groups: the existing groups the user
 * may move tickets into (full right), the ticket's own group always, so
 * that saving the form unchanged changes nothing.
 */
ngx_int_t
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
ngx_int_t
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
