/*
 * ngx_http_ticket_view_case.c -- the ticket page's casework parts
 * (issue 13): its tags with their forms and the autocomplete list, the
 * merge form, the "merged into" note, the link to the customer page.
 * Filled from what the page read anyway plus one ZREVRANGE of
 * tk:{ix}:tags in its first batch.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_view.h"
#include "tk_tags.h"


static ngx_int_t ngx_http_ticket_view_tag_list(ngx_http_request_t *r,
    ngx_http_ticket_view_t *v, tk_tpl_ticket_side_t *side);
static ngx_int_t ngx_http_ticket_view_tag_opts(ngx_http_request_t *r,
    ngx_http_ticket_view_t *v, tk_tpl_ticket_side_t *side);
static ngx_int_t ngx_http_ticket_view_path(ngx_http_request_t *r,
    tk_str_t *out, const char *fmt, uint64_t n);


ngx_int_t
ngx_http_ticket_view_case(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_view_t *v, ngx_http_ticket_view_page_t *page)
{
    ngx_str_t              posted;
    tk_ticket_t           *t;
    tk_tpl_ticket_side_t  *side;

    t = &v->ticket;
    side = &page->side;

    if (t->merged_into) {
        page->head.merged_number.data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (page->head.merged_number.data == NULL
            || ngx_http_ticket_view_path(r, &page->head.merged_url, "t/%uL",
                                         t->merged_into) != NGX_OK)
        {
            return NGX_ERROR;
        }

        page->head.merged_number.len =
            ngx_sprintf(page->head.merged_number.data, "%uL", t->merged_into)
            - page->head.merged_number.data;
    }

    if (t->customer
        && ngx_http_ticket_view_path(r, &side->customer_url, "customers/%uL",
                                     t->customer) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_ticket_view_tag_list(r, v, side) != NGX_OK) {
        return NGX_ERROR;
    }

    if (v->right != TK_RIGHT_FULL) {
        return NGX_OK;
    }

    if (ngx_http_ticket_view_path(r, &side->tags_url, "t/%uL/tags", v->number)
            != NGX_OK
        || (t->merged_into == 0
            && ngx_http_ticket_view_path(r, &side->merge_url, "t/%uL/merge",
                                         v->number) != NGX_OK)
        || ngx_http_ticket_uint_str(r, t->rev, &side->rev) != NGX_OK
        || ngx_http_ticket_view_tag_opts(r, v, side) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a refused form: its message, and what was typed */
    if (v->again && ngx_strcmp(v->again, "tags") == 0) {
        side->tags_error = *ngx_ticket_str(&v->again_message);
        ngx_http_ticket_form_value(r, ctx, "add", &posted);
        side->tags_posted = *ngx_ticket_str(&posted);

    } else if (v->again && ngx_strcmp(v->again, "into") == 0) {
        side->into_error = *ngx_ticket_str(&v->again_message);
        ngx_http_ticket_form_value(r, ctx, "into", &posted);
        side->into_posted = *ngx_ticket_str(&posted);
    }

    return NGX_OK;
}


/* Each tag: a search link, and (full right) its remove form. */
static ngx_int_t
ngx_http_ticket_view_tag_list(ngx_http_request_t *r,
    ngx_http_ticket_view_t *v, tk_tpl_ticket_side_t *side)
{
    u_char     *p;
    size_t      i, n, len;
    tk_str_t    tags[TK_TAGS_MAX], action;
    uintptr_t   esc;

    n = tk_tags_split(&v->ticket.tags, tags, TK_TAGS_MAX);
    if (n == 0) {
        return NGX_OK;
    }

    side->tags = ngx_pcalloc(r->pool, n * sizeof(*side->tags));
    if (side->tags == NULL) {
        return NGX_ERROR;
    }

    side->tags_n = n;
    action.len = 0;

    if (v->right == TK_RIGHT_FULL
        && ngx_http_ticket_view_path(r, &action, "t/%uL/tags", v->number)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        side->tags[i].name = tags[i];

        esc = ngx_escape_uri(NULL, tags[i].data, tags[i].len,
                             NGX_ESCAPE_ARGS);
        len = sizeof("search?tag=") - 1 + tags[i].len + 2 * esc;

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(p, "search?tag=", sizeof("search?tag=") - 1);
        ngx_escape_uri(p + sizeof("search?tag=") - 1, tags[i].data,
                       tags[i].len, NGX_ESCAPE_ARGS);

        if (ngx_http_ticket_url(r, (char *) p, len, &side->tags[i].url)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (action.len) {
            side->tags[i].remove = 1;
            side->tags[i].action = action;
            side->tags[i].csrf = side->csrf;
        }
    }

    return NGX_OK;
}


/* The most used tags, for the input's <datalist> (no script needed). */
static ngx_int_t
ngx_http_ticket_view_tag_opts(ngx_http_request_t *r,
    ngx_http_ticket_view_t *v, tk_tpl_ticket_side_t *side)
{
    ngx_uint_t                i, n;
    ngx_http_ticket_reply_t  *rep;

    rep = v->tag_names;

    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->nelem == 0) {
        return NGX_OK;
    }

    side->tag_opts = ngx_pcalloc(r->pool,
                                 rep->nelem * sizeof(*side->tag_opts));
    if (side->tag_opts == NULL) {
        return NGX_ERROR;
    }

    for (i = 0, n = 0; i < rep->nelem; i++) {
        if (rep->element[i].type != REDIS_REPLY_STRING
            || tk_tags_has(&v->ticket.tags,
                           ngx_ticket_str(&rep->element[i].str)))
        {
            continue;
        }

        side->tag_opts[n++].name = *ngx_ticket_str(&rep->element[i].str);
    }

    side->tag_opts_n = n;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_view_path(ngx_http_request_t *r, tk_str_t *out,
    const char *fmt, uint64_t n)
{
    u_char  *p, *last;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 32);
    if (p == NULL) {
        return NGX_ERROR;
    }

    last = ngx_sprintf(p, fmt, n);

    return ngx_http_ticket_url(r, (char *) p, last - p, out);
}
