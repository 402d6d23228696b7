/*
 * ngx_http_ticket_overview_page.c -- the overview view's entry point and
 * its page, made once the query is done: the sidebar with every overview
 * and its count, the sortable columns, the filters, the rows and the
 * pager, each link keeping the others' settings.  Above
 * ngx_http_ticket_overview.c (which tickets an overview lists), which
 * never calls up here.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ticket_overview.h"
#include "tk_tpl.h"


static ngx_int_t ngx_http_ticket_overview_loaded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_overview_cache_lookup(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov);
static ngx_int_t ngx_http_ticket_overview_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_overview_cached(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov);
static ngx_int_t ngx_http_ticket_overview_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *heading, ngx_chain_t *fragment);
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


/* ---- the overview view ------------------------------------------------- */

/*
 * "/" and "/overview/NAME": which overview (parse(), with this request's
 * rights), then the page cache, else the counts and the tickets
 * (ngx_http_ticket_overview_read(), which ends in render() below).
 */
ngx_int_t
ngx_http_ticket_overview(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_overview_t  *ov;

    ov = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_overview_t));
    if (ov == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = ov;

    /* saving and deleting saved overviews: the forms of the page */
    if (r->method == NGX_HTTP_POST) {
        return ngx_http_ticket_overview_load(r, ctx,
                                             ngx_http_ticket_overview_post);
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                     "Overviews can only be read.");
    }

    if (ngx_http_ticket_goto_notice(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * A named overview is known without the saved ones, and a cached
     * page of it needs nothing else: the saved overviews (the sidebar
     * lists them) are read on a miss only.  A name parse() does not know
     * may be a saved one: read them, then parse again.
     */
    switch (ngx_http_ticket_overview_parse(r, ctx, ov)) {
    case NGX_OK:
        ov->query.done = ngx_http_ticket_overview_render;
    ov->query.lazy_rows = 1;
        ov->query.lazy_rows = 1;

        switch (ngx_http_ticket_overview_cache_lookup(r, ctx, ov)) {
        case NGX_OK:
            return ngx_http_ticket_overview_cached(r, ctx, ov);
        case NGX_DECLINED:
            return ngx_http_ticket_overview_load(r, ctx,
                                                 ngx_http_ticket_overview_read);
        default:
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    case NGX_DECLINED:
        return ngx_http_ticket_overview_load(r, ctx,
                                             ngx_http_ticket_overview_loaded);
    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


/* NGX_OK: the page is in the cache (ov->cache), NGX_DECLINED: not. */
static ngx_int_t
ngx_http_ticket_overview_cache_lookup(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov)
{
    if (!ctx->cache) {
        return NGX_DECLINED;
    }

    if (ngx_http_ticket_overview_cache_key(r, ctx, ov) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_ticket_cache_get(r, ctx, &ov->cache);
}


/* The saved overviews are in and the name may be one: parse again on a
 * clean state, then the cache, the read. */
static ngx_int_t
ngx_http_ticket_overview_loaded(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_array_t                  saved;
    ngx_http_ticket_reply_t     *all_agents;
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;
    saved = ov->saved;
    all_agents = ov->all_agents;
    ngx_memzero(ov, sizeof(ngx_http_ticket_overview_t));
    ov->saved = saved;
    ov->all_agents = all_agents;

    switch (ngx_http_ticket_overview_parse(r, ctx, ov)) {
    case NGX_OK:
        break;
    case NGX_DECLINED:
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                     "There is no such overview.");
    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ov->query.done = ngx_http_ticket_overview_render;

    /*
     * Rendered before, under the generation this request read: the page
     * costs no more Redis than the authentication did.  (Whether the
     * user may see this overview at all was decided just now, by
     * parse(), from this request's rights.)
     */
    if (ctx->cache) {
        if (ngx_http_ticket_overview_cache_key(r, ctx, ov) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        switch (ngx_http_ticket_cache_get(r, ctx, &ov->cache)) {
        case NGX_OK:
            return ngx_http_ticket_overview_cached(r, ctx, ov);
        case NGX_DECLINED:
            break;
        default:
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_ticket_overview_read(r, ctx);
}


/* The query is done: fill the template and send the page. */
static ngx_int_t
ngx_http_ticket_overview_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    off_t                        len;
    tk_out_t                     out;
    ngx_uint_t                   last, to;
    ngx_str_t                    heading;
    ngx_chain_t                 *fragment;
    tk_tpl_overview_t           *tpl;
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;

    tpl = ngx_pcalloc(r->pool, sizeof(tk_tpl_overview_t));
    if (tpl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->de = ngx_http_ticket_lang_de(ctx);
    tpl->desc = ov->query.desc;
    tpl->filtered = ngx_http_ticket_overview_filtered(ov);

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
                                  ngx_http_ticket_msg(ctx,
                                      TK_MSG_OVERVIEW_PAGE_GROUP), &ov->group)
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
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_OVERVIEW_PAGE_NO_TICKETS_MATCH_THESE));

    } else if (ov->current) {
        ngx_http_ticket_cstr(&tpl->empty_text,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_OVERVIEW_PAGE_NO_TICKETS_IN_THIS_OVERVIEW));

    } else if (ov->def < NGX_HTTP_TICKET_OV_N) {
        ngx_http_ticket_cstr(&tpl->empty_text,
                             ngx_http_ticket_msg(ctx,
                                 ngx_http_ticket_ov_defs[ov->def].empty));

    } else {
        ngx_http_ticket_cstr(&tpl->empty_text,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_OVERVIEW_PAGE_NO_TICKETS_IN_THIS_GROUP));
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

    /* the part between the page's head and foot is the same for every
     * user with this key: rendered on its own, it can be cached */
    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_tpl_overview(&out, tpl);

    if (ngx_http_ticket_out_chain(&out, &fragment, &len) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ov->cache.key.len) {
        ov->cache.meta = heading;
        ngx_http_ticket_cache_put(r, ctx, &ov->cache, fragment);
    }

    return ngx_http_ticket_overview_send(r, ctx, &heading, fragment);
}


/* A hit: the heading and the fragment as they were rendered. */
static ngx_int_t
ngx_http_ticket_overview_cached(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);
    if (b == NULL || cl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = ov->cache.body.data;
    b->last = ov->cache.body.data + ov->cache.body.len;
    b->memory = 1;

    cl->buf = b;
    cl->next = NULL;

    return ngx_http_ticket_overview_send(r, ctx, &ov->cache.meta,
                                         b->pos == b->last ? NULL : cl);
}


static ngx_int_t
ngx_http_ticket_overview_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *heading, ngx_chain_t *fragment)
{
    return ngx_http_ticket_page(r, ctx, NGX_HTTP_OK, heading,
                                ngx_http_ticket_overview_body, fragment);
}


static void
ngx_http_ticket_overview_body(tk_out_t *out, void *data)
{
    (void) ngx_http_ticket_out_link(out, data);
}


/* The sidebar: the entries ngx_http_ticket_overview_items() made. */
static ngx_int_t
ngx_http_ticket_overview_sidebar(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_tpl_overview_t *tpl, ngx_str_t *heading)
{
    ngx_uint_t                    i, n;
    tk_tpl_overview_overviews_t  *item;
    ngx_http_ticket_ov_item_t    *src;

    src = ov->items.elts;
    n = ov->items.nelts;

    item = ngx_pcalloc(r->pool, (n + 1) * sizeof(tk_tpl_overview_overviews_t));
    if (item == NULL) {
        return NGX_ERROR;
    }

    tpl->overviews = item;
    tpl->overviews_n = n;

    for (i = 0; i < n; i++) {
        item[i].label = *ngx_ticket_str(&src[i].label);
        item[i].group = src[i].group;
        item[i].saved = src[i].saved;
        item[i].personal = src[i].personal;
        item[i].current = src[i].current;
        item[i].name = *ngx_ticket_str(&src[i].name);

        if (ngx_http_ticket_overview_link(r, ov, &src[i].name, 0, 0, 0, 0,
                                          &item[i].url)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (src[i].count >= 0
            && ngx_http_ticket_uint_str(r, src[i].count, &item[i].count)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

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
    ngx_uint_t                    c, k;
    ngx_flag_t                    desc;
    tk_str_t                      label;
    tk_tpl_overview_cols_t       *col, *all;
    tk_tpl_overview_sort_opts_t  *opt;

    all = ngx_pcalloc(r->pool, NGX_HTTP_TICKET_COL_N * sizeof(*all));
    opt = ngx_pcalloc(r->pool, NGX_HTTP_TICKET_COL_N * sizeof(*opt));
    if (all == NULL || opt == NULL) {
        return NGX_ERROR;
    }

    tpl->cols = all;
    tpl->cols_n = 0;
    tpl->sort_opts = opt;
    tpl->sort_opts_n = NGX_HTTP_TICKET_COL_N;

    for (c = 0, k = 0; c < NGX_HTTP_TICKET_COL_N; c++) {

        /* the chosen columns in the header, every one in the sort select */
        col = &all[k];

        if (!ov->columns || (ov->columns & ((ngx_uint_t) 1 << c))) {
            k++;
            tpl->cols_n = k;
        }

        /* the current column's header link turns the order around */
        if (c == ov->query.column) {
            desc = !ov->query.desc;
            col->current = 1;
            ngx_http_ticket_cstr(&col->dir, ov->query.desc ? "desc"
                                                           : "asc");
            ngx_http_ticket_cstr(&col->aria, ov->query.desc ? "descending"
                                                            : "ascending");
        } else {
            desc = ngx_http_ticket_col_default_desc(c);
        }

        if (ngx_http_ticket_overview_link(r, ov, &ov->name, c, desc, 1, 1,
                                          &col->url)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_ticket_col_label(ctx, c, &label);

        col->name.data = (u_char *) ngx_http_ticket_col_name(c);
        col->name.len = ngx_strlen(col->name.data);
        col->label = label;

        opt[c].value = col->name;
        opt[c].label = label;
        opt[c].selected = (c == ov->query.column);

        /* a column not shown leaves its entry to the next one */
        if (k == 0 || col != &all[k - 1]) {
            ngx_memzero(col, sizeof(*col));
        }
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

    so = ngx_pcalloc(r->pool, TK_STATE_MAX * sizeof(*so));
    po = ngx_pcalloc(r->pool, TK_PRIO_MAX * sizeof(*po));
    if (so == NULL || po == NULL) {
        return NGX_ERROR;
    }

    tpl->state_opts = so;
    n = 0;

    for (s = TK_STATE_MIN; s <= TK_STATE_MAX; s++) {
        if (!(ov->states & (1 << s))) {
            continue;
        }

        i = n++;

        if (ngx_http_ticket_uint_str(r, s, &so[i].value) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_ticket_state_label(ctx, s, &so[i].label);
        so[i].selected = (s == ov->filter_state);
    }

    tpl->state_opts_n = n;

    tpl->prio_opts = po;
    tpl->prio_opts_n = TK_PRIO_MAX;

    for (s = TK_PRIO_MIN, i = 0; s <= TK_PRIO_MAX; s++, i++) {
        if (ngx_http_ticket_uint_str(r, s, &po[i].value) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_ticket_prio_label(ctx, s, &po[i].label);
        po[i].selected = (s == ov->filter_prio);
    }

    if (ngx_http_ticket_overview_forms(r, ctx, ov, tpl) != NGX_OK) {
        return NGX_ERROR;
    }

    /* a group overview is one group already; one group offers no choice */
    if (ov->def == NGX_HTTP_TICKET_OV_GROUP
        || ov->def == NGX_HTTP_TICKET_OV_ESCALATED_G
        || ctx->groups.nelts < 2)
    {
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


/* The rows as HTML, each from the row cache or rendered
 * (ngx_http_ticket_overview_row.c). */
static ngx_int_t
ngx_http_ticket_overview_rows(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_tpl_overview_t *tpl)
{
    ngx_str_t                prefix;
    ngx_uint_t               i;
    tk_tpl_overview_rows_t  *row;

    row = ngx_palloc(r->pool, (ov->query.nrows + 1) * sizeof(*row));
    if (row == NULL
        || ngx_http_ticket_overview_row_prefix(r, ctx, ov->columns, &prefix)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    tpl->rows = row;
    tpl->rows_n = ov->query.nrows;

    for (i = 0; i < ov->query.nrows; i++) {
        if (ngx_http_ticket_overview_row(r, ctx, ov->columns, &prefix,
                                         &ov->query.rows[i], &row[i].html)
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

    len = lcf->base_url.len + sizeof("overview/") - 1 + 3 * name->len
          + sizeof("?sort=&dir=desc&page=") - 1 + NGX_INT_T_LEN + 10
          + ngx_http_ticket_overview_link_len(ov);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    /* by hand: a page has ~50 links (counted bytes, no format runs) */
    p = ngx_cpymem(p, lcf->base_url.data, lcf->base_url.len);
    p = ngx_cpymem(p, "overview/", sizeof("overview/") - 1);
    p += tk_escape_url(p, 3 * name->len, name->data, name->len,
                       TK_URL_COMPONENT);

    if (page == 0) {
        out->len = p - out->data;
        return NGX_OK;
    }

    p = ngx_cpymem(p, "?sort=", sizeof("?sort=") - 1);
    p = (u_char *) stpcpy((char *) p, ngx_http_ticket_col_name(col));
    p = desc ? ngx_cpymem(p, "&dir=desc", sizeof("&dir=desc") - 1)
             : ngx_cpymem(p, "&dir=asc", sizeof("&dir=asc") - 1);

    if (filters) {
        p = ngx_http_ticket_overview_link_filters(p, ov);
    }

    if (page > 1) {
        p = ngx_cpymem(p, "&page=", sizeof("&page=") - 1);
        p = (u_char *) tk_str_putu((char *) p, page);
    }

    out->len = p - out->data;

    return NGX_OK;
}
