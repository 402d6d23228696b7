/*
 * ngx_http_ticket_rights.c -- the user's rights on the groups, as
 * authentication (ngx_http_ticket_auth.c) sets them up once per request
 * and every view asks them: ngx_http_ticket_right() (a ticket of a group
 * without a right is a 404), ngx_http_ticket_full_somewhere().
 */

#include "ngx_http_ticket.h"

#include <hiredis/read.h>


static ngx_int_t ngx_http_ticket_cmp_group(const void *one,
    const void *two);


/*
 * Every group the user has a right on: the groups named in the "rights"
 * field and the all-agents groups, each asked of tk_rights_get() (the one
 * place that defines rights), sorted by name for ngx_http_ticket_right().
 */
ngx_int_t
ngx_http_ticket_rights(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_reply_t *all_agents)
{
    u_char                         *p, *end, *comma, *colon, *s, *e;
    size_t                          j;
    ngx_int_t                       right;
    ngx_str_t                      *name, *names;
    ngx_uint_t                      i, n, all;
    ngx_array_t                     candidates;
    ngx_http_ticket_group_right_t  *gr;

    if (ngx_array_init(&candidates, r->pool, 8, sizeof(ngx_str_t)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ctx->user.rights.data;
    end = p + ctx->user.rights.len;

    while (p < end) {
        comma = ngx_strlchr(p, end, ',');
        if (comma == NULL) {
            comma = end;
        }

        /* "name:right": the name ends at the last colon */
        colon = NULL;

        for (s = p; s < comma; s++) {
            if (*s == ':') {
                colon = s;
            }
        }

        if (colon) {
            s = p;
            e = colon;

            while (s < e && (*s == ' ' || *s == '\t')) {
                s++;
            }

            while (e > s && (e[-1] == ' ' || e[-1] == '\t')) {
                e--;
            }

            if (e > s) {
                name = ngx_array_push(&candidates);
                if (name == NULL) {
                    return NGX_ERROR;
                }

                name->data = s;
                name->len = e - s;
            }
        }

        p = comma + 1;
    }

    for (i = 0; i < all_agents->nelem; i++) {
        if (all_agents->element[i].type != REDIS_REPLY_STRING
            || all_agents->element[i].str.len == 0)
        {
            continue;
        }

        name = ngx_array_push(&candidates);
        if (name == NULL) {
            return NGX_ERROR;
        }

        *name = all_agents->element[i].str;
    }

    names = candidates.elts;
    n = candidates.nelts;

    ngx_sort(names, n, sizeof(ngx_str_t), ngx_http_ticket_cmp_group);

    ctx->groups.nelts = 0;

    for (i = 0; i < n; i++) {
        if (i > 0 && names[i].len == names[i - 1].len
            && ngx_strncmp(names[i].data, names[i - 1].data, names[i].len)
               == 0)
        {
            continue;
        }

        all = 0;

        for (j = 0; j < all_agents->nelem; j++) {
            if (all_agents->element[j].str.len == names[i].len
                && ngx_strncmp(all_agents->element[j].str.data,
                               names[i].data, names[i].len)
                   == 0)
            {
                all = 1;
                break;
            }
        }

        right = tk_rights_get(ngx_ticket_str(&ctx->user.rights),
                              ngx_ticket_str(&names[i]), (int) all);

        if (right <= TK_RIGHT_NONE) {
            continue;
        }

        gr = ngx_array_push(&ctx->groups);
        if (gr == NULL) {
            return NGX_ERROR;
        }

        gr->name = names[i];
        gr->right = right;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_cmp_group(const void *one, const void *two)
{
    const ngx_str_t  *a = one;
    const ngx_str_t  *b = two;

    return ngx_memn2cmp(a->data, b->data, a->len, b->len);
}


ngx_int_t
ngx_http_ticket_right(ngx_http_ticket_ctx_t *ctx, ngx_str_t *group)
{
    ngx_int_t                       c;
    ngx_uint_t                      lo, hi, mid;
    ngx_http_ticket_group_right_t  *gr;

    if (!ctx->authenticated || group == NULL) {
        return TK_RIGHT_NONE;
    }

    gr = ctx->groups.elts;
    lo = 0;
    hi = ctx->groups.nelts;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = ngx_memn2cmp(gr[mid].name.data, group->data, gr[mid].name.len,
                         group->len);

        if (c == 0) {
            return gr[mid].right;
        }

        if (c < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return TK_RIGHT_NONE;
}


ngx_flag_t
ngx_http_ticket_full_somewhere(ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                      i;
    ngx_http_ticket_group_right_t  *gr;

    gr = ctx->groups.elts;

    for (i = 0; ctx->authenticated && i < ctx->groups.nelts; i++) {
        if (gr[i].right == TK_RIGHT_FULL) {
            return 1;
        }
    }

    return 0;
}
