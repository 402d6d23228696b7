/*
 * ngx_http_ticket_view_cached.c -- what the ticket page keeps in the
 * page cache besides its rendered thread (ngx_http_ticket_view.c) and
 * the owner choice (ngx_http_ticket_view_form.c):
 *   - the global lists its forms need (SMEMBERS tk:users, tk:groups,
 *     tk:groups:all-agents, ZREVRANGE tk:{ix}:tags, the template names),
 *     under tk:{ix}:gen, which every writer of those keys bumps in the
 *     same MULTI (tk_index_touch: tc_user/admin users, tk_group_write,
 *     tk_tags_sync/tk_tags_index, tk_template_write/delete);
 *   - the composer's reads of the ticket's articles (is one encrypted?
 *     the mail answered, whole), under the ticket's rev, which every
 *     write of the ticket or an article bumps (the thread's argument).
 * Both are kept as the Redis replies they replace (packed), so the code
 * that uses them cannot tell a hit from a read.  Nothing of the user is
 * in them: rights are applied to them afterwards, on every request.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_view.h"
#include "tk_textmod.h"


static size_t ngx_http_ticket_vc_size(ngx_http_ticket_reply_t *rep,
    ngx_uint_t depth);
static u_char *ngx_http_ticket_vc_pack(u_char *p, ngx_http_ticket_reply_t *rep);
static u_char *ngx_http_ticket_vc_unpack(ngx_pool_t *pool, u_char *p,
    u_char *last, ngx_http_ticket_reply_t *rep, ngx_uint_t depth);
static u_char *ngx_http_ticket_vc_num(u_char *p, u_char *last, char end,
    ngx_int_t *n);
static ngx_int_t ngx_http_ticket_vc_get(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_cache_item_t *item,
    ngx_http_ticket_reply_t *reps, ngx_uint_t n);
static void ngx_http_ticket_vc_put(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_cache_item_t *item,
    ngx_http_ticket_reply_t **reps, ngx_uint_t n);


/* ---- replies packed ------------------------------------------------------ */

/*
 * A reply as bytes: "n" nil, "iNUM;" integer, "sLEN:BYTES" string,
 * "aN:" and its N elements (one level: all the page caches).  Anything
 * else (an error, deeper arrays): 0, and nothing is cached.
 */
static size_t
ngx_http_ticket_vc_size(ngx_http_ticket_reply_t *rep, ngx_uint_t depth)
{
    size_t      len, one;
    ngx_uint_t  i;

    switch (rep->type) {
    case REDIS_REPLY_NIL:
        return 1;

    case REDIS_REPLY_INTEGER:
        return 2 + NGX_INT64_LEN;

    case REDIS_REPLY_STRING:
        return 2 + NGX_SIZE_T_LEN + rep->str.len;

    case REDIS_REPLY_ARRAY:
        if (depth) {
            return 0;
        }

        len = 2 + NGX_SIZE_T_LEN;

        for (i = 0; i < rep->nelem; i++) {
            one = ngx_http_ticket_vc_size(&rep->element[i], 1);
            if (one == 0) {
                return 0;
            }

            len += one;
        }

        return len;

    default:
        return 0;
    }
}


static u_char *
ngx_http_ticket_vc_pack(u_char *p, ngx_http_ticket_reply_t *rep)
{
    ngx_uint_t  i;

    switch (rep->type) {
    case REDIS_REPLY_INTEGER:
        return ngx_sprintf(p, "i%L;", rep->integer);

    case REDIS_REPLY_STRING:
        p = ngx_sprintf(p, "s%uz:", rep->str.len);
        return ngx_cpymem(p, rep->str.data, rep->str.len);

    case REDIS_REPLY_ARRAY:
        p = ngx_sprintf(p, "a%uz:", rep->nelem);

        for (i = 0; i < rep->nelem; i++) {
            p = ngx_http_ticket_vc_pack(p, &rep->element[i]);
        }

        return p;

    default:
        *p++ = 'n';
        return p;
    }
}


/* Strings point into the copy the cache gave (r->pool): no copy more. */
static u_char *
ngx_http_ticket_vc_unpack(ngx_pool_t *pool, u_char *p, u_char *last,
    ngx_http_ticket_reply_t *rep, ngx_uint_t depth)
{
    ngx_int_t   n;
    ngx_uint_t  i;

    ngx_memzero(rep, sizeof(ngx_http_ticket_reply_t));

    if (p >= last) {
        return NULL;
    }

    switch (*p++) {
    case 'n':
        rep->type = REDIS_REPLY_NIL;
        return p;

    case 'i':
        /* a sign is never packed but by a negative integer */
        if (p < last && *p == '-') {
            p = ngx_http_ticket_vc_num(p + 1, last, ';', &n);
            n = -n;
        } else {
            p = ngx_http_ticket_vc_num(p, last, ';', &n);
        }

        rep->type = REDIS_REPLY_INTEGER;
        rep->integer = n;
        return p;

    case 's':
        p = ngx_http_ticket_vc_num(p, last, ':', &n);
        if (p == NULL || n > last - p) {
            return NULL;
        }

        rep->type = REDIS_REPLY_STRING;
        rep->str.data = p;
        rep->str.len = n;
        return p + n;

    case 'a':
        p = ngx_http_ticket_vc_num(p, last, ':', &n);
        if (p == NULL || depth || n > last - p) {
            return NULL;
        }

        rep->type = REDIS_REPLY_ARRAY;
        rep->nelem = n;
        rep->element = ngx_palloc(pool, (n + 1)
                                        * sizeof(ngx_http_ticket_reply_t));
        if (rep->element == NULL) {
            return NULL;
        }

        for (i = 0; p && i < (ngx_uint_t) n; i++) {
            p = ngx_http_ticket_vc_unpack(pool, p, last, &rep->element[i], 1);
        }

        return p;

    default:
        return NULL;
    }
}


static u_char *
ngx_http_ticket_vc_num(u_char *p, u_char *last, char end, ngx_int_t *n)
{
    u_char  *e;

    e = ngx_strlchr(p, last, end);
    if (e == NULL || e == p) {
        return NULL;
    }

    *n = ngx_atoi(p, e - p);

    return (*n == NGX_ERROR) ? NULL : e + 1;
}


/* n replies from the cache: NGX_OK, NGX_DECLINED (a miss), NGX_ERROR */
static ngx_int_t
ngx_http_ticket_vc_get(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_cache_item_t *item, ngx_http_ticket_reply_t *reps,
    ngx_uint_t n)
{
    u_char      *p, *last;
    ngx_int_t    rc;
    ngx_uint_t   i;

    rc = ngx_http_ticket_cache_get(r, ctx, item);
    if (rc != NGX_OK) {
        return rc;
    }

    p = item->body.data;
    last = p + item->body.len;

    for (i = 0; p && i < n; i++) {
        p = ngx_http_ticket_vc_unpack(r->pool, p, last, &reps[i], 0);
    }

    if (p != last) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "ticket: the cached replies \"%V\" are damaged",
                      &item->key);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static void
ngx_http_ticket_vc_put(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_cache_item_t *item, ngx_http_ticket_reply_t **reps,
    ngx_uint_t n)
{
    u_char       *p;
    size_t        len, one;
    ngx_buf_t     b;
    ngx_uint_t    i;
    ngx_chain_t   cl;

    len = 0;

    for (i = 0; i < n; i++) {
        one = ngx_http_ticket_vc_size(reps[i], 0);
        if (one == 0) {
            return;                     /* an error reply: not kept */
        }

        len += one;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return;
    }

    ngx_memzero(&b, sizeof(ngx_buf_t));
    b.pos = p;

    for (i = 0; i < n; i++) {
        p = ngx_http_ticket_vc_pack(p, reps[i]);
    }

    b.last = p;
    cl.buf = &b;
    cl.next = NULL;

    ngx_http_ticket_cache_put(r, ctx, item, &cl);
}


/* ---- the global lists, under tk:{ix}:gen ---------------------------------- */

/* Before the first batch (the generation came with the session). */
ngx_int_t
ngx_http_ticket_view_lists_get(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v)
{
    if (!ctx->cache) {
        return NGX_OK;
    }

    ngx_str_set(&v->lists_cache.key, "lists|");
    v->lists_cache.version = ctx->cache_gen;

    switch (ngx_http_ticket_vc_get(r, ctx, &v->lists_cache, v->lists,
                                   NGX_HTTP_TICKET_VIEW_LISTS))
    {
    case NGX_OK:
        v->lists_cached = 1;
        return NGX_OK;
    case NGX_DECLINED:
        return NGX_OK;
    default:
        return NGX_ERROR;
    }
}


/* The lists' reads, in v->lists' order, unless the cache had them. */
void
ngx_http_ticket_view_lists_read(tk_cmds_t *cmds, ngx_http_ticket_view_t *v)
{
    if (v->lists_cached) {
        return;
    }

    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_USERS);
    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_GROUPS);
    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_GROUPS_ALL);
    tk_cmds_add(cmds, "ZREVRANGE " TK_KEY_TAGS " 0 99");
    tk_template_sort_names(cmds);
}


/* The lists read (rep: the first of them), pointed to and kept. */
void
ngx_http_ticket_view_lists_set(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_reply_t *rep)
{
    ngx_uint_t                i;
    ngx_http_ticket_reply_t  *reps[NGX_HTTP_TICKET_VIEW_LISTS];

    if (!v->lists_cached) {
        for (i = 0; i < NGX_HTTP_TICKET_VIEW_LISTS; i++) {
            reps[i] = &rep[i];
        }

        if (v->lists_cache.key.len) {
            ngx_http_ticket_vc_put(r, ctx, &v->lists_cache, reps,
                                   NGX_HTTP_TICKET_VIEW_LISTS);
        }

    } else {
        rep = v->lists;
    }

    v->users = &rep[0];
    v->groups = &rep[1];
    v->all_agents = &rep[2];
    v->tag_names = &rep[3];
    v->templates = &rep[4];
}


/* ---- the composer's article reads, under the ticket's rev ---------------- */

/*
 * Key: the ticket, the article asked for (?reply=A, 0: the newest mail);
 * version: the rev read with the ticket (v->cache.version).  On a hit
 * ld->encrypted and ld->target are set and ld->cached says so.
 */
ngx_int_t
ngx_http_ticket_compose_cache_get(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_compose_load_t *ld, uint64_t reply)
{
    u_char                   *p;
    ngx_http_ticket_reply_t   reps[3];

    if (!ctx->cache || v->cache.key.len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, sizeof("cmp||") + 2 * NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ld->cache.key.data = p;
    ld->cache.key.len = ngx_sprintf(p, "cmp|%uL|%uL", v->number, reply) - p;
    ld->cache.version = v->cache.version;

    switch (ngx_http_ticket_vc_get(r, ctx, &ld->cache, reps, 3)) {
    case NGX_OK:
        break;
    case NGX_DECLINED:
        return NGX_OK;
    default:
        return NGX_ERROR;
    }

    /* encrypted, the id answered (0: none), its HMGET */
    if (reps[0].type != REDIS_REPLY_INTEGER
        || reps[1].type != REDIS_REPLY_INTEGER)
    {
        return NGX_OK;
    }

    ld->encrypted = reps[0].integer ? 1 : 0;
    ld->target = NULL;

    if (reps[1].integer > 0) {
        if (ngx_http_ticket_compose_art(&reps[2], (uint64_t) reps[1].integer,
                                        &ld->target_art)
            != NGX_OK)
        {
            return NGX_OK;
        }

        ld->target = &ld->target_art;
    }

    ld->cached = 1;

    return NGX_OK;
}


/* What the reads found, kept for the next view of the same rev. */
void
ngx_http_ticket_compose_cache_put(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_compose_load_t *ld)
{
    ngx_http_ticket_reply_t   enc, id, nil, *reps[3];

    if (ld->cached || ld->cache.key.len == 0) {
        return;
    }

    ngx_memzero(&enc, sizeof(ngx_http_ticket_reply_t));
    ngx_memzero(&id, sizeof(ngx_http_ticket_reply_t));
    ngx_memzero(&nil, sizeof(ngx_http_ticket_reply_t));

    enc.type = REDIS_REPLY_INTEGER;
    enc.integer = ld->encrypted;
    id.type = REDIS_REPLY_INTEGER;
    id.integer = (ld->target && ld->target_rep) ? (long long) ld->target->id
                                                : 0;
    nil.type = REDIS_REPLY_NIL;

    reps[0] = &enc;
    reps[1] = &id;
    reps[2] = id.integer ? ld->target_rep : &nil;

    ngx_http_ticket_vc_put(r, ctx, &ld->cache, reps, 3);
}


/* ---- the quoted mail, escaped, under the ticket's rev -------------------- */

/*
 * A fresh composer's text is the mail answered, quoted: made of that
 * article (the same for one rev), the language and whether it is a
 * forward.  Made and escaped for the textarea it is most of what the
 * composer costs for a long mail, so it is kept escaped.  Not with
 * ?template= (whose text goes around the quote).
 */
ngx_int_t
ngx_http_ticket_compose_quote_cached(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_compose_t *c, ngx_http_ticket_compose_load_t *ld)
{
    u_char  *p;

    if (ld->cache.key.len == 0 || ld->tpl_at >= 0 || ld->target == NULL) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, sizeof("qh||||") + 3 * NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_DECLINED;
    }

    ld->quote.key.data = p;
    ld->quote.key.len = ngx_sprintf(p, "qh|%uL|%uL|%ui|%ui", v->number,
                                    ld->target->id, ngx_http_ticket_lang(ctx),
                                    (ngx_uint_t) (c->forward ? 1 : 0))
                        - p;
    ld->quote.version = ld->cache.version;

    if (ngx_http_ticket_cache_get(r, ctx, &ld->quote) != NGX_OK) {
        return NGX_DECLINED;
    }

    ld->quote_html = ld->quote.body;

    return NGX_OK;
}


ngx_int_t
ngx_http_ticket_compose_body(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_compose_t *c,
    ngx_http_ticket_compose_load_t *ld, tk_str_t *body, tk_str_t *html)
{
    tk_out_t                 out;
    tk_str_t                 s;
    ngx_buf_t                b;
    ngx_chain_t              cl;
    ngx_http_ticket_sink_t   sink;

    if (ld && ld->quote_html.len) {
        *html = *ngx_ticket_str(&ld->quote_html);
        return NGX_OK;
    }

    *body = *ngx_ticket_str(&c->body);

    if (ld == NULL || ld->quote.key.len == 0 || c->body.len == 0) {
        return NGX_OK;
    }

    /* a miss: escaped here (as the template would), and kept */
    ngx_http_ticket_sink_init(r, &out, &sink, c->body.len + c->body.len / 8
                                              + 64);
    tk_out_html(&out, c->body.data, c->body.len);

    if (ngx_http_ticket_sink_str(&out, &s) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&b, sizeof(ngx_buf_t));
    b.pos = s.data;
    b.last = s.data + s.len;
    cl.buf = &b;
    cl.next = NULL;

    ngx_http_ticket_cache_put(r, ctx, &ld->quote, &cl);

    *html = s;
    body->len = 0;

    return NGX_OK;
}
