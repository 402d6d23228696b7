/*
 * ngx_http_ticket_search.c -- "/search?q=" and "/api/v1/search?q=": full
 * text over tk:ft:articles (RediSearch 1.2, SCHEMA.md "Full text"),
 * one row per ticket, only tickets the user may read.
 *
 *   1. the text becomes a query of words only (tk_search_parse); a bare
 *      ticket number the user can see is a redirect to it;
 *   2. FT.SEARCH "@group:{readable groups} (words)" NOCONTENT, newest
 *      time window first: RediSearch 1.2 scores every hit before it
 *      returns the best, so a word in every mail would cost ~0.16 us per
 *      mail in the archive (157 ms at a million).  A window with enough
 *      hits ends the search; a rare word goes on to all time in a few
 *      cheap steps (docs/performance.md);
 *   3. phrases are checked in the hits' texts (RediSearch 1.2 may match
 *      their words anywhere, tk_search.h);
 *   4. the hits' tickets are read and checked again: the index has the
 *      group an article was written in, the right is on the ticket's
 *      group now; the group and state filters apply there too;
 *   5. the page's tickets get the best article's snippet
 *      (ngx_http_ticket_search_page.c).
 * Results are not cached: texts rarely repeat, and a search is a few
 * cheap round trips.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_search.h"


/* Articles asked for per window: enough for a few pages of tickets. */
#define NGX_HTTP_TICKET_SEARCH_WANT_MIN   200
#define NGX_HTTP_TICKET_SEARCH_WANT_MAX   1000

/* Article fields a snippet is made of, in HMGET order. */
#define NGX_HTTP_TICKET_SEARCH_F_BODY     0
#define NGX_HTTP_TICKET_SEARCH_F_NAMES    1
#define NGX_HTTP_TICKET_SEARCH_F_FROM     2
#define NGX_HTTP_TICKET_SEARCH_F_SUBJECT  3
#define NGX_HTTP_TICKET_SEARCH_F_KIND     4
#define NGX_HTTP_TICKET_SEARCH_F_TIME     5
#define NGX_HTTP_TICKET_SEARCH_F_N        6


/*
 * Hits a wider window may be expected to have before the filters (state,
 * group) may make the search widen it: ~3 ms of RediSearch's scoring.
 */
#define NGX_HTTP_TICKET_SEARCH_HITS_MAX   20000

/* Newest first: a day, a week, a quarter, two years, everything (0). */
static time_t  ngx_http_ticket_search_windows[] = {
    86400, 7 * 86400, 91 * 86400, 730 * 86400, 0
};

#define NGX_HTTP_TICKET_SEARCH_WINDOWS                                       \
    (sizeof(ngx_http_ticket_search_windows) / sizeof(time_t))


static ngx_uint_t ngx_http_ticket_search_args(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_search_t *s,
    const char **error);
static ngx_int_t ngx_http_ticket_search_goto(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_search_start(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_search_ft(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_search_found(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_search_phrases(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_search_tickets(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_search_checked(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_search_snippets(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_search_query(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_search_t *s, tk_str_t *q);
static ngx_int_t ngx_http_ticket_search_snippet(ngx_http_request_t *r,
    ngx_http_ticket_search_t *s, ngx_http_ticket_reply_t *rep,
    ngx_http_ticket_hit_t *hit);


ngx_int_t
ngx_http_ticket_search(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                 status;
    tk_cmds_t                 *cmds;
    ngx_str_t                  key;
    const char                *error;
    ngx_http_ticket_search_t  *s;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                     "A search can only be read.");
    }

    s = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_search_t));
    if (s == NULL || ngx_http_ticket_query_init(r, &s->query) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = s;
    ctx->page = "search";

    error = NULL;
    status = ngx_http_ticket_search_args(r, ctx, s, &error);
    if (status != NGX_HTTP_OK) {
        return ngx_http_ticket_error(r, ctx, status, error);
    }

    if (s->text.len == 0 && s->filter_tag.len == 0) {
        if (ctx->api) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                                         "q is required");
        }

        return ngx_http_ticket_search_render(r, ctx);
    }

    /* "42", "#42", "Ticket#42", "[Ticket#42]" (the go-to parser, which
     * knows every way agents quote a number): that ticket, if it is
     * there for this user; otherwise the number is searched like any
     * word */
    if (!ctx->api && s->parsed.ticket == 0) {
        s->parsed.ticket = ngx_http_ticket_goto_parse(&s->text);
    }

    if (s->parsed.ticket && !ctx->api) {
        cmds = ngx_http_ticket_cmds(r);
        if (cmds == NULL
            || ngx_http_ticket_ticket_key(r, s->parsed.ticket, &key)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        tk_cmds_add(cmds, "HGET %S " TK_F_GROUP, ngx_ticket_str(&key));

        return ngx_http_ticket_redis_send(r, ctx, cmds,
                                          ngx_http_ticket_search_goto);
    }

    return ngx_http_ticket_search_start(r, ctx);
}


/*
 * q (at most TK_SEARCH_INPUT_MAX bytes are used), sort (relevance |
 * date), group, state, page.  Text that is not UTF-8 is a 400; unknown
 * filter values are ignored on the page and a 400 for the API.
 * Returns NGX_HTTP_OK or the status of the error page (*error).
 */
static ngx_uint_t
ngx_http_ticket_search_args(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_search_t *s,
    const char **error)
{
    ngx_int_t   n;
    ngx_str_t   arg;

    if (ngx_http_ticket_query_arg(r, "q", &s->text) != NGX_OK) {
        ngx_str_set(&s->text, "");
    }

    ngx_http_ticket_trim(&s->text);

    if (ngx_http_ticket_text_chars(&s->text, 0) < 0) {
        *error = "The search text is not valid UTF-8.";
        return NGX_HTTP_BAD_REQUEST;
    }

    if (tk_search_parse(s->text.data, s->text.len, s->ft, sizeof(s->ft),
                        &s->parsed)
        != 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_ticket_query_arg(r, "sort", &arg) == NGX_OK) {
        if (arg.len == 4 && ngx_strncmp(arg.data, "date", 4) == 0) {
            s->by_date = 1;

        } else if (arg.len && !(arg.len == 9
                                && ngx_strncmp(arg.data, "relevance", 9)
                                   == 0)
                   && ctx->api)
        {
            *error = "bad sort: relevance or date";
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    if (ngx_http_ticket_query_arg(r, "group", &arg) == NGX_OK && arg.len) {
        if (ngx_http_ticket_right(ctx, &arg) != TK_RIGHT_NONE) {
            s->filter_group = arg;

        } else if (ctx->api) {
            *error = "bad group";
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    if (ngx_http_ticket_query_arg(r, "state", &arg) == NGX_OK && arg.len) {
        n = tk_state_parse((const char *) arg.data, arg.len);
        if (n >= TK_STATE_MIN && n <= TK_STATE_MAX) {
            s->filter_state = n;

        } else if (ctx->api) {
            *error = "bad state";
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    if (ngx_http_ticket_tags_search(r, ctx, s, error) != NGX_OK) {
        return *error ? NGX_HTTP_BAD_REQUEST : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s->page = 1;

    if (ngx_http_ticket_query_arg(r, "page", &arg) == NGX_OK) {
        n = ngx_atoi(arg.data, arg.len);
        if (n >= 1 && n <= NGX_HTTP_TICKET_SEARCH_MAX_PAGE) {
            s->page = n;

        } else if (ctx->api) {
            *error = "bad page: 1 to 25";
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    s->query.offset = (s->page - 1) * NGX_HTTP_TICKET_SEARCH_PER_PAGE;
    s->query.limit = NGX_HTTP_TICKET_SEARCH_PER_PAGE;

    s->want = ngx_max(NGX_HTTP_TICKET_SEARCH_WANT_MIN,
                      3 * (s->query.offset + s->query.limit));
    s->want = ngx_min(s->want, NGX_HTTP_TICKET_SEARCH_WANT_MAX);

    return NGX_HTTP_OK;
}


/* HGET group of the ticket the number names: go there if it is ours. */
static ngx_int_t
ngx_http_ticket_search_goto(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                    *p;
    size_t                     len;
    ngx_http_ticket_search_t  *s;

    s = ctx->view;

    if (ctx->nreplies == 1 && ctx->replies[0].type == REDIS_REPLY_STRING
        && ctx->replies[0].str.len
        && ngx_http_ticket_right(ctx, &ctx->replies[0].str) != TK_RIGHT_NONE)
    {
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 2);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        len = ngx_sprintf(p, "t/%uL", s->parsed.ticket) - p;

        return ngx_http_ticket_redirect(r, (char *) p, len);
    }

    return ngx_http_ticket_search_start(r, ctx);
}


static ngx_int_t
ngx_http_ticket_search_start(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_search_t  *s;

    s = ctx->view;

    if (s->parsed.terms == 0) {
        s->notice = "stopwords";
        return ngx_http_ticket_search_render(r, ctx);
    }

    if (ctx->groups.nelts == 0) {
        return ngx_http_ticket_search_render(r, ctx);
    }

    s->window = 0;

    return ngx_http_ticket_search_ft(r, ctx);
}


/* FT.SEARCH over the current time window. */
static ngx_int_t
ngx_http_ticket_search_ft(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    int                        argc;
    u_char                    *p;
    time_t                     span;
    tk_str_t                   argv[16], q;
    tk_cmds_t                 *cmds;
    ngx_http_ticket_search_t  *s;

    s = ctx->view;

    if (ngx_http_ticket_search_query(r, ctx, s, &q) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cmds = ngx_http_ticket_cmds(r);
    p = ngx_pnalloc(r->pool, 2 * NGX_INT_T_LEN);
    if (cmds == NULL || p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argc = 0;
    tk_str_set(&argv[argc], "FT.SEARCH"); argc++;
    tk_str_set(&argv[argc], TK_KEY_FT_ARTICLES); argc++;
    argv[argc++] = q;
    tk_str_set(&argv[argc], "NOCONTENT"); argc++;
    tk_str_set(&argv[argc], "LANGUAGE"); argc++;
    tk_str_set(&argv[argc], "german"); argc++;
    tk_str_set(&argv[argc], "LIMIT"); argc++;
    tk_str_set(&argv[argc], "0"); argc++;
    argv[argc].data = p;
    argv[argc].len = ngx_sprintf(p, "%ui", s->want) - p;
    p += argv[argc++].len;

    span = ngx_http_ticket_search_windows[s->window];

    if (span) {
        tk_str_set(&argv[argc], "FILTER"); argc++;
        tk_str_set(&argv[argc], TK_F_TIME); argc++;
        argv[argc].data = p;
        argv[argc].len = ngx_sprintf(p, "%T", ngx_time() - span) - p;
        argc++;
        tk_str_set(&argv[argc], "+inf"); argc++;
    }

    if (s->by_date) {
        tk_str_set(&argv[argc], "SORTBY"); argc++;
        tk_str_set(&argv[argc], TK_F_TIME); argc++;
        tk_str_set(&argv[argc], "DESC"); argc++;
    }

    tk_cmds_argv(cmds, argc, argv);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_search_found);
}


/*
 * "@group:{legal|ALSO} (words)": the rights filter in front, the words
 * (nothing but words, phrases and prefixes: tk_search.h) in parentheses.
 * With a group filter only that group.
 */
static ngx_int_t
ngx_http_ticket_search_query(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_search_t *s, tk_str_t *q)
{
    u_char                         *p;
    size_t                          len;
    ngx_uint_t                      i, n;
    ngx_http_ticket_group_right_t  *gr;

    gr = ctx->groups.elts;
    len = sizeof("@" TK_F_GROUP ":{} ()") + s->parsed.len;

    for (i = 0; i < ctx->groups.nelts; i++) {
        len += 2 * gr[i].name.len + 1;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    q->data = p;
    p = ngx_cpymem(p, "@" TK_F_GROUP ":{", sizeof("@" TK_F_GROUP ":{") - 1);

    if (s->filter_group.len) {
        p += tk_search_tag(p, s->filter_group.data, s->filter_group.len);

    } else {
        for (i = 0, n = 0; i < ctx->groups.nelts; i++) {
            if (gr[i].right == TK_RIGHT_NONE) {
                continue;
            }

            if (n++) {
                *p++ = '|';
            }

            p += tk_search_tag(p, gr[i].name.data, gr[i].name.len);
        }
    }

    /* a tag alone (no words): every article, the tag filters the rows */
    p = ngx_cpymem(p, "} (", s->parsed.len ? 3 : 1);
    p = ngx_cpymem(p, s->ft, s->parsed.len);

    if (s->parsed.len) {
        *p++ = ')';
    }

    q->len = p - q->data;

    return NGX_OK;
}


/*
 * [total, id, id, ...]: too few hits in this window and an older one
 * left, look there (it holds these too); otherwise the hits, in rank
 * (or date) order.
 */
static ngx_int_t
ngx_http_ticket_search_found(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    char                       key[TK_KEY_MAX];
    uint64_t                   number, article;
    ngx_uint_t                 i, n;
    tk_cmds_t                 *cmds;
    ngx_http_ticket_reply_t   *rep;
    ngx_http_ticket_search_t  *s;

    s = ctx->view;
    rep = &ctx->replies[0];

    if (ctx->nreplies != 1 || rep->type != REDIS_REPLY_ARRAY
        || rep->nelem == 0 || rep->element[0].type != REDIS_REPLY_INTEGER)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: FT.SEARCH failed: \"%V\"",
                      rep->type == REDIS_REPLY_ERROR ? &rep->str : &s->text);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "The search failed.");
    }

    s->hits = (ngx_uint_t) rep->element[0].integer;
    s->fetched = rep->nelem - 1;

    if (s->hits < s->want
        && s->window + 1 < NGX_HTTP_TICKET_SEARCH_WINDOWS)
    {
        s->window++;
        return ngx_http_ticket_search_ft(r, ctx);
    }

    n = s->fetched;

    s->numbers = ngx_palloc(r->pool, (n + 1) * sizeof(uint64_t));
    s->articles = ngx_palloc(r->pool, (n + 1) * sizeof(uint64_t));
    if (s->numbers == NULL || s->articles == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s->ncand = 0;

    for (i = 1; i <= n; i++) {
        if (rep->element[i].type == REDIS_REPLY_STRING
            && tk_key_parse((char *) rep->element[i].str.data,
                            rep->element[i].str.len, &number, &article)
               == TK_KEY_IS_ARTICLE
            && number)
        {
            s->numbers[s->ncand] = number;
            s->articles[s->ncand] = article;
            s->ncand++;
        }
    }

    if (s->parsed.phrases == 0 || s->ncand == 0) {
        return ngx_http_ticket_search_tickets(r, ctx);
    }

    /* phrases: RediSearch 1.2 may have matched their words anywhere
     * (tk_search.h); read the hits' texts and check */
    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < s->ncand; i++) {
        if (tk_key_article(key, sizeof(key), s->numbers[i], s->articles[i])
            == 0)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        tk_cmds_add(cmds, "HMGET %s " TK_F_BODY " " TK_F_ATTACHMENT_NAMES
                    " " TK_F_FROM " " TK_F_SUBJECT, key);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_search_phrases);
}


/* One HMGET per hit: a hit without the phrase word for word is dropped. */
static ngx_int_t
ngx_http_ticket_search_phrases(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                 i, f;
    tk_str_t                   texts[4];
    ngx_http_ticket_reply_t   *rep;
    ngx_http_ticket_search_t  *s;

    s = ctx->view;

    for (i = 0; i < s->ncand; i++) {
        rep = i < ctx->nreplies ? &ctx->replies[i] : NULL;

        for (f = 0; f < 4; f++) {
            texts[f].len = 0;
            texts[f].data = NULL;

            if (rep && rep->type == REDIS_REPLY_ARRAY && f < rep->nelem) {
                ngx_http_ticket_reply_str(&rep->element[f],
                                          (ngx_str_t *) &texts[f]);
            }
        }

        if (!tk_search_phrases_in(texts, 4, s->ft, s->parsed.len)) {
            s->numbers[i] = 0;
        }
    }

    return ngx_http_ticket_search_tickets(r, ctx);
}


/* Each hit's ticket once, in the order of its best (or newest) article;
 * then read the tickets. */
static ngx_int_t
ngx_http_ticket_search_tickets(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    uint64_t                   number, *seen;
    ngx_uint_t                 i, j, n, mask;
    ngx_http_ticket_search_t  *s;

    s = ctx->view;
    n = s->ncand;

    /* a small open-addressing set of the ticket numbers seen */
    for (mask = 1; mask < 2 * n; mask <<= 1) { /* void */ }

    seen = ngx_pcalloc(r->pool, mask * sizeof(uint64_t));
    if (seen == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    mask--;
    s->ncand = 0;

    for (i = 0; i < n; i++) {
        number = s->numbers[i];
        if (number == 0) {
            continue;
        }

        for (j = ((number * 0x9e3779b97f4a7c15ULL) >> 40) & mask;
             seen[j] && seen[j] != number;
             j = (j + 1) & mask)
        { /* void */ }

        if (seen[j]) {
            continue;
        }

        seen[j] = number;
        s->numbers[s->ncand] = number;
        s->articles[s->ncand] = s->articles[i];
        s->ncand++;
    }

    if (s->ncand == 0) {
        return ngx_http_ticket_search_checked(r, ctx);
    }

    s->query.done = ngx_http_ticket_search_checked;
    s->query.numbers = s->numbers;
    s->query.nnumbers = s->ncand;

    return ngx_http_ticket_query_read_rows(r, ctx);
}


/*
 * The candidates' rows are in (s->query.rows, in candidate order, gone
 * tickets left out): keep those the user may read now and that pass the
 * filters; count them; read the page's articles.
 */
static ngx_int_t
ngx_http_ticket_search_checked(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    time_t                     span;
    ngx_uint_t                 i, c, kept, end;
    tk_cmds_t                 *cmds;
    ngx_http_ticket_row_t     *row;
    ngx_http_ticket_hit_t     *hit;
    ngx_http_ticket_search_t  *s;
    char                       key[TK_KEY_MAX];

    s = ctx->view;

    if (s->ncand == 0) {
        s->query.nrows = 0;
    }

    s->hits_page = ngx_pcalloc(r->pool, (NGX_HTTP_TICKET_SEARCH_PER_PAGE + 1)
                                        * sizeof(ngx_http_ticket_hit_t));
    if (s->hits_page == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    kept = 0;
    c = 0;
    end = s->query.offset + s->query.limit;
    s->nhits = 0;

    for (i = 0; i < s->query.nrows; i++) {
        row = &s->query.rows[i];

        /* rows keep the candidates' order: find this one's article */
        while (c < s->ncand && s->numbers[c] != row->number) {
            c++;
        }

        if (c == s->ncand) {
            break;
        }

        if (ngx_http_ticket_right(ctx, &row->group) == TK_RIGHT_NONE
            || (s->filter_group.len
                && (row->group.len != s->filter_group.len
                    || ngx_strncmp(row->group.data, s->filter_group.data,
                                   row->group.len) != 0))
            || (s->filter_state && row->state != s->filter_state)
            || !ngx_http_ticket_search_tag_ok(s, row))
        {
            continue;
        }

        if (kept >= s->query.offset && kept < end) {
            hit = &s->hits_page[s->nhits++];
            hit->row = row;
            hit->article = s->articles[c];
        }

        kept++;
    }

    s->total = kept;

    /* all hits seen only when this was all time and nothing was left out */
    s->more = (s->fetched < s->hits
               || s->window + 1 < NGX_HTTP_TICKET_SEARCH_WINDOWS);

    /* the filters left too few for this page: an older window has more,
     * if it is not too many to score (the hits grow with its span; "all"
     * is taken as ten years) */
    if (kept < end && s->window + 1 < NGX_HTTP_TICKET_SEARCH_WINDOWS) {
        span = ngx_http_ticket_search_windows[s->window + 1];
        if (span == 0) {
            span = 3650 * 86400;
        }

        if ((double) s->hits * span / ngx_http_ticket_search_windows[s->window]
            <= NGX_HTTP_TICKET_SEARCH_HITS_MAX)
        {
            s->window++;
            return ngx_http_ticket_search_ft(r, ctx);
        }
    }

    if (s->nhits == 0) {
        return ngx_http_ticket_search_render(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < s->nhits; i++) {
        if (tk_key_article(key, sizeof(key), s->hits_page[i].row->number,
                           s->hits_page[i].article)
            == 0)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        tk_cmds_add(cmds, "HMGET %s " TK_F_BODY " " TK_F_ATTACHMENT_NAMES
                    " " TK_F_FROM " " TK_F_SUBJECT " " TK_F_KIND " "
                    TK_F_TIME, key);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_search_snippets);
}


static ngx_int_t
ngx_http_ticket_search_snippets(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                 i;
    ngx_http_ticket_search_t  *s;

    s = ctx->view;

    for (i = 0; i < s->nhits && i < ctx->nreplies; i++) {
        if (ngx_http_ticket_search_snippet(r, s, &ctx->replies[i],
                                           &s->hits_page[i])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_ticket_search_render(r, ctx);
}


/*
 * The snippet of the first field with a matching word: the body, the
 * attachments' names, the sender, the subject; else the body's start.
 */
static ngx_int_t
ngx_http_ticket_search_snippet(ngx_http_request_t *r,
    ngx_http_ticket_search_t *s, ngx_http_ticket_reply_t *rep,
    ngx_http_ticket_hit_t *hit)
{
    tk_out_t                 out;
    ngx_str_t                f[NGX_HTTP_TICKET_SEARCH_F_N];
    ngx_uint_t               i;
    long long                t;
    ngx_http_ticket_sink_t   sink;
    static ngx_uint_t        order[] = {
        NGX_HTTP_TICKET_SEARCH_F_BODY, NGX_HTTP_TICKET_SEARCH_F_NAMES,
        NGX_HTTP_TICKET_SEARCH_F_FROM, NGX_HTTP_TICKET_SEARCH_F_SUBJECT
    };

    for (i = 0; i < NGX_HTTP_TICKET_SEARCH_F_N; i++) {
        ngx_str_set(&f[i], "");

        if (rep->type == REDIS_REPLY_ARRAY && i < rep->nelem) {
            ngx_http_ticket_reply_str(&rep->element[i], &f[i]);
        }
    }

    hit->kind = f[NGX_HTTP_TICKET_SEARCH_F_KIND];
    t = tk_str_atoll(ngx_ticket_str(&f[NGX_HTTP_TICKET_SEARCH_F_TIME]));
    hit->time = t > 0 ? t : 0;

    for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        ngx_http_ticket_sink_init(r, &out, &sink, 512);

        if (tk_search_snippet(&out, ngx_ticket_str(&f[order[i]]), s->ft,
                              s->parsed.len, 240))
        {
            break;
        }
    }

    /* nothing matched word for word (a stemmed form): the body's start */
    if (i == sizeof(order) / sizeof(order[0])) {
        ngx_http_ticket_sink_init(r, &out, &sink, 512);
        (void) tk_search_snippet(&out,
                         ngx_ticket_str(&f[NGX_HTTP_TICKET_SEARCH_F_BODY]),
                         s->ft, s->parsed.len, 240);
    }

    return ngx_http_ticket_sink_str(&out, &hit->snippet);
}
