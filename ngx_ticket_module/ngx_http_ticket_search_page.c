/*
 * ngx_http_ticket_search_page.c -- the results of a search
 * (ngx_http_ticket_search.c) as a page (templates/search.html) or, for
 * "/api/v1/search", as JSON:
 *
 *   {"query":"frist","sort":"relevance","page":1,"per_page":20,
 *    "total":3,"more":false,"tickets":[{"number":42,"title":...,
 *    "article":108,"kind":"in","time":"...","snippet":"... <mark>Frist</mark> ..."}]}
 *
 * "snippet" is HTML (escaped text, <mark> around matches) in both; "more"
 * says that total counts only the newest hits (a word in many mails).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ticket_search.h"
#include "tk_tpl.h"


static ngx_int_t ngx_http_ticket_search_html(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_search_t *s);
static ngx_int_t ngx_http_ticket_search_json(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_search_t *s);
static ngx_int_t ngx_http_ticket_search_hits(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_search_t *s,
    tk_tpl_search_t *tpl);
static ngx_int_t ngx_http_ticket_search_filters(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_search_t *s,
    tk_tpl_search_t *tpl);
static ngx_int_t ngx_http_ticket_search_link(ngx_http_request_t *r,
    ngx_http_ticket_search_t *s, ngx_uint_t page, tk_str_t *out);
static void ngx_http_ticket_search_body(tk_out_t *out, void *data);
static void ngx_http_ticket_search_jstr(tk_out_t *out, const char *name,
    ngx_str_t *value, ngx_flag_t null_if_empty);
static void ngx_http_ticket_search_jtime(tk_out_t *out, const char *name,
    int64_t t);


ngx_int_t
ngx_http_ticket_search_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_search_t  *s;

    s = ctx->view;

    return ctx->api ? ngx_http_ticket_search_json(r, ctx, s)
                    : ngx_http_ticket_search_html(r, ctx, s);
}


static ngx_int_t
ngx_http_ticket_search_html(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_search_t *s)
{
    ngx_uint_t        last;
    ngx_str_t         title;
    tk_tpl_search_t  *tpl;

    tpl = ngx_pcalloc(r->pool, sizeof(tk_tpl_search_t));
    if (tpl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->de = ngx_http_ticket_lang_de(ctx);
    tpl->q = *ngx_ticket_str(&s->text);
    tpl->by_date = s->by_date;
    tpl->searched = (s->text.len > 0 || s->filter_tag.len > 0);
    tpl->tag = s->filter_tag;                   /* issue 13 */
    tpl->more = s->more;

    if (ngx_http_ticket_url(r, "search", 6, &tpl->action) != NGX_OK
        || ngx_http_ticket_search_filters(r, ctx, s, tpl) != NGX_OK
        || ngx_http_ticket_search_hits(r, ctx, s, tpl) != NGX_OK
        || ngx_http_ticket_uint_str(r, s->total, &tpl->total) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (s->notice) {
        ngx_http_ticket_cstr(&tpl->empty_text,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_SEARCH_PAGE_ONLY_STOP_WORDS_THE_AND));

    } else if (tpl->searched && s->nhits == 0) {
        ngx_http_ticket_cstr(&tpl->empty_text,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_SEARCH_PAGE_NOTHING_FOUND));
    }

    /* pager: "21–40", prev/next where there is a page */
    tpl->range.data = ngx_pnalloc(r->pool, 2 * NGX_INT_T_LEN + 4);
    if (tpl->range.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->range.len = ngx_sprintf(tpl->range.data, "%ui\xe2\x80\x93%ui",
                                 s->nhits ? s->query.offset + 1 : 0,
                                 s->query.offset + s->nhits)
                     - tpl->range.data;

    last = (s->total + NGX_HTTP_TICKET_SEARCH_PER_PAGE - 1)
           / NGX_HTTP_TICKET_SEARCH_PER_PAGE;

    if ((s->page > 1
         && ngx_http_ticket_search_link(r, s, s->page - 1, &tpl->prev_url)
            != NGX_OK)
        || (s->page < last && s->page < NGX_HTTP_TICKET_SEARCH_MAX_PAGE
            && ngx_http_ticket_search_link(r, s, s->page + 1, &tpl->next_url)
               != NGX_OK))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (s->text.len) {
        title.len = s->text.len + sizeof("Suche: ") - 1;
        title.data = ngx_pnalloc(r->pool, title.len);
        if (title.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        title.len = ngx_sprintf(title.data, "%s%V",
                                ngx_http_ticket_msg(ctx,
                                    TK_MSG_SEARCH_PAGE_SEARCH), &s->text)
                    - title.data;

    } else {
        title.data = (u_char *) ngx_http_ticket_msg(ctx, TK_MSG_SEARCH_SEARCH);
        title.len = ngx_strlen(title.data);
    }

    return ngx_http_ticket_page(r, ctx, NGX_HTTP_OK, &title,
                                ngx_http_ticket_search_body, tpl);
}


static void
ngx_http_ticket_search_body(tk_out_t *out, void *data)
{
    tk_tpl_search(out, data);
}


static ngx_int_t
ngx_http_ticket_search_hits(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_search_t *s,
    tk_tpl_search_t *tpl)
{
    u_char                  *p;
    size_t                   len;
    ngx_uint_t               i;
    tk_tpl_search_hits_t    *h;
    ngx_http_ticket_row_t   *row;
    ngx_http_ticket_hit_t   *hit;

    h = ngx_pcalloc(r->pool, (s->nhits + 1) * sizeof(*h));
    if (h == NULL) {
        return NGX_ERROR;
    }

    tpl->hits = h;
    tpl->hits_n = s->nhits;

    for (i = 0; i < s->nhits; i++) {
        hit = &s->hits_page[i];
        row = hit->row;

        p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 2);
        if (p == NULL) {
            return NGX_ERROR;
        }

        len = ngx_sprintf(p, "t/%uL", row->number) - p;

        if (ngx_http_ticket_url(r, (char *) p, len, &h[i].url) != NGX_OK) {
            return NGX_ERROR;
        }

        h[i].number.data = p + 2;
        h[i].number.len = len - 2;
        h[i].title = *ngx_ticket_str(&row->title);
        ngx_http_ticket_cstr(&h[i].no_title,
                             ngx_http_ticket_msg(ctx,
                                                 TK_MSG_COMMON_NO_SUBJECT));
        h[i].group = *ngx_ticket_str(&row->group);
        h[i].customer = *ngx_ticket_str(row->customer_name.len
                                        ? &row->customer_name
                                        : &row->customer_email);
        h[i].kind = *ngx_ticket_str(&hit->kind);
        h[i].snippet = hit->snippet;

        if (hit->kind.len == 4 && ngx_strncmp(hit->kind.data, "note", 4) == 0)
        {
            ngx_http_ticket_cstr(&h[i].kind_label,
                                 ngx_http_ticket_msg(ctx,
                                                     TK_MSG_SEARCH_PAGE_NOTE));

        } else if (hit->kind.len == 3
                   && ngx_strncmp(hit->kind.data, "out", 3) == 0)
        {
            ngx_http_ticket_cstr(&h[i].kind_label,
                                 ngx_http_ticket_msg(ctx,
                                                     TK_MSG_SEARCH_PAGE_REPLY));

        } else {
            ngx_http_ticket_cstr(&h[i].kind_label,
                                 ngx_http_ticket_msg(ctx,
                                                     TK_MSG_SEARCH_PAGE_MAIL));
        }

        ngx_http_ticket_state_label(ctx, row->state, &h[i].state);

        if (ngx_http_ticket_uint_str(r, row->state, &h[i].state_id) != NGX_OK
            || ngx_http_ticket_short_time(r, ctx, hit->time, &h[i].time)
               != NGX_OK
            || ngx_http_ticket_time_str(r, hit->time, &h[i].time_full)
               != NGX_OK
            || ngx_http_ticket_iso_str(r, hit->time, &h[i].time_iso)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ticket_search_filters(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_search_t *s,
    tk_tpl_search_t *tpl)
{
    ngx_int_t                       st;
    ngx_uint_t                      i, n;
    tk_tpl_search_state_opts_t     *so;
    tk_tpl_search_group_opts_t     *go;
    ngx_http_ticket_group_right_t  *gr;

    so = ngx_pcalloc(r->pool, TK_STATE_MAX * sizeof(*so));
    go = ngx_pcalloc(r->pool, (ctx->groups.nelts + 1) * sizeof(*go));
    if (so == NULL || go == NULL) {
        return NGX_ERROR;
    }

    tpl->state_opts = so;
    tpl->state_opts_n = TK_STATE_MAX - TK_STATE_MIN + 1;

    for (st = TK_STATE_MIN, i = 0; st <= TK_STATE_MAX; st++, i++) {
        if (ngx_http_ticket_uint_str(r, st, &so[i].value) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_ticket_state_label(ctx, st, &so[i].label);
        so[i].selected = (st == s->filter_state);
    }

    /* one group offers no choice */
    if (ctx->groups.nelts < 2) {
        return NGX_OK;
    }

    gr = ctx->groups.elts;

    for (i = 0, n = 0; i < ctx->groups.nelts; i++) {
        if (gr[i].right == TK_RIGHT_NONE) {
            continue;
        }

        go[n].value = *ngx_ticket_str(&gr[i].name);
        go[n].label = go[n].value;
        go[n].selected = (s->filter_group.len == gr[i].name.len
                          && ngx_strncmp(s->filter_group.data,
                                         gr[i].name.data,
                                         gr[i].name.len) == 0);
        n++;
    }

    tpl->group_opts = go;
    tpl->group_opts_n = n;

    return NGX_OK;
}


/* base_url "search?q=...&sort=date&group=...&state=N&page=P" */
static ngx_int_t
ngx_http_ticket_search_link(ngx_http_request_t *r,
    ngx_http_ticket_search_t *s, ngx_uint_t page, tk_str_t *out)
{
    u_char                      *p;
    size_t                       len;
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    len = lcf->base_url.len + sizeof("search?q=&sort=date&group=&state="
                                     "&page=")
          + 3 * s->text.len + 3 * s->filter_group.len + 2 * NGX_INT_T_LEN;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    p = ngx_sprintf(p, "%Vsearch?q=", &lcf->base_url);
    p = (u_char *) ngx_escape_uri(p, s->text.data, s->text.len,
                                  NGX_ESCAPE_ARGS);

    if (s->by_date) {
        p = ngx_cpymem(p, "&sort=date", sizeof("&sort=date") - 1);
    }

    if (s->filter_group.len) {
        p = ngx_cpymem(p, "&group=", sizeof("&group=") - 1);
        p = (u_char *) ngx_escape_uri(p, s->filter_group.data,
                                      s->filter_group.len, NGX_ESCAPE_ARGS);
    }

    if (s->filter_state) {
        p = ngx_sprintf(p, "&state=%i", s->filter_state);
    }

    if (page > 1) {
        p = ngx_sprintf(p, "&page=%ui", page);
    }

    out->len = p - out->data;

    return NGX_OK;
}


/* ---- JSON ----------------------------------------------------------------- */

static ngx_int_t
ngx_http_ticket_search_json(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_search_t *s)
{
    tk_out_t                out;
    ngx_uint_t              i;
    const char             *name;
    ngx_http_ticket_row_t  *row;
    ngx_http_ticket_hit_t  *hit;

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_out_cstr(&out, "{");
    ngx_http_ticket_search_jstr(&out, "query", &s->text, 0);
    tk_out_cstr(&out, s->by_date ? ",\"sort\":\"date\",\"page\":"
                                 : ",\"sort\":\"relevance\",\"page\":");
    tk_out_uint(&out, s->page);
    tk_out_cstr(&out, ",\"per_page\":");
    tk_out_uint(&out, NGX_HTTP_TICKET_SEARCH_PER_PAGE);
    tk_out_cstr(&out, ",\"total\":");
    tk_out_uint(&out, s->total);
    tk_out_cstr(&out, s->more ? ",\"more\":true" : ",\"more\":false");
    tk_out_cstr(&out, ",\"tickets\":[");

    for (i = 0; i < s->nhits; i++) {
        hit = &s->hits_page[i];
        row = hit->row;

        tk_out_cstr(&out, i ? ",{\"number\":" : "{\"number\":");
        tk_out_uint(&out, row->number);
        tk_out_cstr(&out, ",");
        ngx_http_ticket_search_jstr(&out, "title", &row->title, 0);
        tk_out_cstr(&out, ",");
        ngx_http_ticket_search_jstr(&out, "group", &row->group, 0);
        tk_out_cstr(&out, ",");
        ngx_http_ticket_search_jstr(&out, "owner", &row->owner, 1);
        tk_out_cstr(&out, ",\"customer\":{");
        ngx_http_ticket_search_jstr(&out, "name", &row->customer_name, 0);
        tk_out_cstr(&out, ",");
        ngx_http_ticket_search_jstr(&out, "email", &row->customer_email, 0);
        tk_out_cstr(&out, "},\"state\":");
        name = tk_state_name((int) row->state);
        tk_out_json(&out, name ? name : "", name ? ngx_strlen(name) : 0);
        tk_out_cstr(&out, ",\"state_id\":");
        tk_out_int(&out, row->state);
        tk_out_cstr(&out, ",\"priority\":");
        name = tk_prio_name((int) row->priority);
        tk_out_json(&out, name ? name : "", name ? ngx_strlen(name) : 0);
        tk_out_cstr(&out, ",\"priority_id\":");
        tk_out_int(&out, row->priority);
        ngx_http_ticket_search_jtime(&out, "created", row->created);
        ngx_http_ticket_search_jtime(&out, "updated", row->updated);
        tk_out_cstr(&out, ",\"article\":");
        tk_out_uint(&out, hit->article);
        tk_out_cstr(&out, ",");
        ngx_http_ticket_search_jstr(&out, "kind", &hit->kind, 0);
        ngx_http_ticket_search_jtime(&out, "time", hit->time);
        tk_out_cstr(&out, ",\"snippet\":");
        tk_out_json(&out, hit->snippet.data, hit->snippet.len);
        tk_out_cstr(&out, "}");
    }

    tk_out_cstr(&out, "]}\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}


/* "name":"value" (or null) -- the API's conventions (api.c) */
static void
ngx_http_ticket_search_jstr(tk_out_t *out, const char *name,
    ngx_str_t *value, ngx_flag_t null_if_empty)
{
    tk_out_json(out, name, ngx_strlen(name));
    tk_out_cstr(out, ":");

    if (value->len == 0 && null_if_empty) {
        tk_out_cstr(out, "null");
        return;
    }

    tk_out_json(out, value->data, value->len);
}


static void
ngx_http_ticket_search_jtime(tk_out_t *out, const char *name, int64_t t)
{
    tk_out_cstr(out, ",");
    tk_out_json(out, name, ngx_strlen(name));

    if (t <= 0) {
        tk_out_cstr(out, ":null");
        return;
    }

    tk_out_cstr(out, ":\"");
    tk_out_time_iso(out, t);
    tk_out_cstr(out, "\"");
}
