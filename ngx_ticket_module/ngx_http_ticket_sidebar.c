/*
 * ngx_http_ticket_sidebar.c -- the sidebar's entries, kept per user.
 *
 * Every overview page lists some thirty overviews with their counts, and
 * resolving each like a page (ngx_http_ticket_overview_item()) was a sixth
 * of a page-cache miss.  What an entry is -- its name, label, and which
 * of the sidebar's counts add up to its count -- depends only on
 * the user (login, language, role, groups and rights), the all-agents
 * groups and the saved overviews the user sees; the counts themselves are
 * read on every page.  So the entries are kept in the page cache's zone
 * under a key made of all of that ("ovp1|..."): the key holds its data,
 * like a row's, and a change to any of it is another key.  Entries whose
 * counts need commands of their own (a set, a priority, a person) are
 * kept by name and resolved on each page as before.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_overview.h"


/* a kept entry: kind, flags, name, label (NUL-ended), fields */
#define NGX_HTTP_TICKET_SB_SUM       0          /* sum of the fields */
#define NGX_HTTP_TICKET_SB_NONE      1          /* no count */
#define NGX_HTTP_TICKET_SB_LIVE      2          /* resolved on each page */

#define NGX_HTTP_TICKET_SB_GROUP     0x01
#define NGX_HTTP_TICKET_SB_SAVED     0x02
#define NGX_HTTP_TICKET_SB_PERSONAL  0x04

/* kind, flags, name length, label length, number of fields */
#define NGX_HTTP_TICKET_SB_HEAD      (2 + 3 * sizeof(uint16_t))


typedef struct {
    u_char                     kind;
    u_char                     flags;
    ngx_str_t                  name;
    ngx_str_t                  label;
    u_char                    *idx;             /* nidx uint16_t, unaligned */
    ngx_uint_t                 nidx;
} ngx_http_ticket_sb_entry_t;


static ngx_int_t ngx_http_ticket_sidebar_key(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_str_t *key);
static ngx_flag_t ngx_http_ticket_sidebar_next(ngx_str_t *blob,
    size_t *at, ngx_http_ticket_sb_entry_t *e);
static ngx_int_t ngx_http_ticket_sidebar_take(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_str_t *blob, tk_cmds_t *cmds);
static void ngx_http_ticket_sidebar_keep(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_str_t *key);
static u_char *ngx_http_ticket_sidebar_str(u_char *p, ngx_str_t *s);


/*
 * The sidebar's entries into ov->items, as ngx_http_ticket_overview_
 * items() makes them: from the user's kept entries, or made and kept.
 */
ngx_int_t
ngx_http_ticket_sidebar_items(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_cmds_t *cmds)
{
    ngx_str_t  key, blob;

    if (ngx_http_ticket_sidebar_key(r, ctx, ov, &key) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_ticket_cache_frag_get(r, &key, &blob) == NGX_OK) {
        return ngx_http_ticket_sidebar_take(r, ctx, ov, &blob, cmds);
    }

    if (ngx_http_ticket_overview_items(r, ctx, ov, cmds) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_ticket_sidebar_keep(r, ctx, ov, &key);

    return NGX_OK;
}


/*
 * Everything the entries depend on, each part with its length (no
 * separator can be forged by a name): login, language, role, groups with
 * rights, the all-agents groups, the saved overviews as loaded.
 */
static ngx_int_t
ngx_http_ticket_sidebar_key(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_overview_t *ov, ngx_str_t *key)
{
    u_char                         *p;
    size_t                          len;
    ngx_uint_t                      i, lang;
    ngx_http_ticket_reply_t        *aa;
    ngx_http_ticket_saved_t        *sv;

    sv = ov->saved.elts;
    aa = (ov->all_agents && ov->all_agents->type == REDIS_REPLY_ARRAY)
         ? ov->all_agents : NULL;
    lang = ngx_http_ticket_lang(ctx);

    /* "ovp1|" lang "|" login role groups "|" all-agents "|" saved */
    len = sizeof("ovp1|||::||") + 3 * NGX_INT_T_LEN + ctx->user.login.len
          + ctx->user.role.len + ngx_http_ticket_cache_groups_len(ctx);

    for (i = 0; aa && i < aa->nelem; i++) {
        len += NGX_INT_T_LEN + aa->element[i].str.len;
    }

    for (i = 0; i < ov->saved.nelts; i++) {
        len += 5 * NGX_INT_T_LEN + sv[i].key.len + sv[i].name.len
               + sv[i].def.len;
    }

    key->data = ngx_pnalloc(r->pool, len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(key->data, "ovp1|%ui|", lang);
    p = ngx_http_ticket_sidebar_str(p, &ctx->user.login);
    p = ngx_http_ticket_sidebar_str(p, &ctx->user.role);

    /* as the page cache's keys have them */
    p = ngx_http_ticket_cache_groups(p, ctx);
    *p++ = '|';

    for (i = 0; aa && i < aa->nelem; i++) {
        p = ngx_http_ticket_sidebar_str(p, &aa->element[i].str);
    }

    *p++ = '|';

    for (i = 0; i < ov->saved.nelts; i++) {
        p = ngx_sprintf(p, "%ui|%ui|", sv[i].id, (ngx_uint_t) sv[i].personal);
        p = ngx_http_ticket_sidebar_str(p, &sv[i].key);
        p = ngx_http_ticket_sidebar_str(p, &sv[i].name);
        p = ngx_http_ticket_sidebar_str(p, &sv[i].def);
    }

    key->len = p - key->data;

    return NGX_OK;
}


/* "LEN:bytes" */
static u_char *
ngx_http_ticket_sidebar_str(u_char *p, ngx_str_t *s)
{
    p = ngx_sprintf(p, "%uz:", s->len);
    return ngx_cpymem(p, s->data, s->len);
}


/* The next kept entry at *at; 0 at the end or where the data is short. */
static ngx_flag_t
ngx_http_ticket_sidebar_next(ngx_str_t *blob, size_t *at,
    ngx_http_ticket_sb_entry_t *e)
{
    u_char    *p;
    size_t     left;
    uint16_t   v[3];

    left = blob->len - *at;

    if (left < NGX_HTTP_TICKET_SB_HEAD) {
        return 0;
    }

    p = blob->data + *at;
    e->kind = p[0];
    e->flags = p[1];
    ngx_memcpy(v, p + 2, sizeof(v));

    if (e->kind > NGX_HTTP_TICKET_SB_LIVE
        || left - NGX_HTTP_TICKET_SB_HEAD
           < (size_t) v[0] + v[1] + 1 + v[2] * sizeof(uint16_t))
    {
        return 0;
    }

    p += NGX_HTTP_TICKET_SB_HEAD;
    e->name.data = p;
    e->name.len = v[0];
    p += v[0];
    e->label.data = p;
    e->label.len = v[1];
    p += v[1] + 1;
    e->idx = p;
    e->nidx = v[2];
    p += v[2] * sizeof(uint16_t);

    *at = p - blob->data;

    return 1;
}


/* The entries from what was kept (checked whole before the first is
 * made: a live entry adds commands, which cannot be taken back). */
static ngx_int_t
ngx_http_ticket_sidebar_take(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_str_t *blob, tk_cmds_t *cmds)
{
    size_t                       at;
    ngx_http_ticket_ov_item_t   *item;
    ngx_http_ticket_sb_entry_t   e;

    at = 0;

    while (ngx_http_ticket_sidebar_next(blob, &at, &e)) { /* void */ }

    if (at != blob->len) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "ticket: a kept sidebar is damaged");
        return ngx_http_ticket_overview_items(r, ctx, ov, cmds);
    }

    if (ngx_http_ticket_overview_items_init(r, ov) != NGX_OK) {
        return NGX_ERROR;
    }

    at = 0;

    while (ngx_http_ticket_sidebar_next(blob, &at, &e)) {

        if (e.kind == NGX_HTTP_TICKET_SB_LIVE) {
            if (ngx_http_ticket_overview_item(r, ctx, ov, &e.name,
                                              (const char *) e.label.data,
                                              e.flags & NGX_HTTP_TICKET_SB_GROUP,
                                              cmds)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            continue;
        }

        item = ngx_array_push(&ov->items);
        if (item == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(item, sizeof(ngx_http_ticket_ov_item_t));

        item->name = e.name;
        item->label = e.label;
        item->count = -1;
        item->group = (e.flags & NGX_HTTP_TICKET_SB_GROUP) != 0;
        item->saved = (e.flags & NGX_HTTP_TICKET_SB_SAVED) != 0;
        item->personal = (e.flags & NGX_HTTP_TICKET_SB_PERSONAL) != 0;
        item->current = (ov->name.len == e.name.len
                         && ngx_strncmp(ov->name.data, e.name.data,
                                        e.name.len) == 0);

        if (e.kind == NGX_HTTP_TICKET_SB_SUM) {
            item->nidx = e.nidx;
            item->idx = ngx_palloc(r->pool, e.nidx * sizeof(uint16_t) + 1);
            if (item->idx == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(item->idx, e.idx, e.nidx * sizeof(uint16_t));
        }
    }

    ngx_http_ticket_overview_items_end(r, ov, cmds);

    return NGX_OK;
}


/* The entries just made, for the next page: what each is, not counts. */
static void
ngx_http_ticket_sidebar_keep(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_str_t *key)
{
    u_char                     *p, kind, flags;
    size_t                      len;
    uint16_t                    v[3], *idx;
    ngx_uint_t                  i, nidx, most;
    ngx_str_t                   blob;
    ngx_http_ticket_ov_item_t  *item;

    item = ov->items.elts;
    most = ctx->groups.nelts * NGX_HTTP_TICKET_CF_PER_GROUP;

    len = 0;

    for (i = 0; i < ov->items.nelts; i++) {
        len += NGX_HTTP_TICKET_SB_HEAD + item[i].name.len
               + item[i].label.len + 1;

        if (item[i].scratch) {
            len += most * sizeof(uint16_t);
        }
    }

    blob.data = ngx_pnalloc(r->pool, len);
    idx = ngx_palloc(r->pool, (most + 1) * sizeof(uint16_t));
    if (blob.data == NULL || idx == NULL || most > 65535) {
        return;
    }

    p = blob.data;

    for (i = 0; i < ov->items.nelts; i++) {
        nidx = 0;

        if (item[i].scratch) {
            kind = NGX_HTTP_TICKET_SB_SUM;
            nidx = ngx_http_ticket_overview_sum_fields(ctx, item[i].scratch,
                                                       idx);

        } else if (item[i].count == -1) {
            kind = NGX_HTTP_TICKET_SB_NONE;

        } else {
            kind = NGX_HTTP_TICKET_SB_LIVE;
        }

        if (item[i].name.len > 65535 || item[i].label.len > 65535) {
            return;
        }

        flags = (item[i].group ? NGX_HTTP_TICKET_SB_GROUP : 0)
                | (item[i].saved ? NGX_HTTP_TICKET_SB_SAVED : 0)
                | (item[i].personal ? NGX_HTTP_TICKET_SB_PERSONAL : 0);

        v[0] = (uint16_t) item[i].name.len;
        v[1] = (uint16_t) item[i].label.len;
        v[2] = (uint16_t) nidx;

        *p++ = kind;
        *p++ = flags;
        p = ngx_cpymem(p, v, sizeof(v));
        p = ngx_cpymem(p, item[i].name.data, item[i].name.len);
        p = ngx_cpymem(p, item[i].label.data, item[i].label.len);
        *p++ = '\0';
        p = ngx_cpymem(p, idx, nidx * sizeof(uint16_t));
    }

    blob.len = p - blob.data;

    ngx_http_ticket_cache_frag_put(r, key, &blob);
}
