/*
 * ngx_http_ticket_read.c -- one ticket as the ticket page and the JSON
 * API read it: its number in a URL, its hash and articles, and its
 * history entries (the stream tk_history_add() writes), told in words
 * in the user's language for the page.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"


/* ---- a ticket and its articles ------------------------------------------ */

/*
 * A ticket number in a URL: 1 to 19 digits, no leading zero.  Returns
 * how many bytes from p it takes, 0 when there is none.
 */
size_t
ngx_http_ticket_number(u_char *p, u_char *last, uint64_t *number)
{
    u_char  *digits;

    digits = p;

    while (p < last && *p >= '0' && *p <= '9') {
        p++;
    }

    if (p == digits || p - digits > 19 || *digits == '0') {
        return 0;
    }

    *number = (uint64_t) ngx_atoof(digits, p - digits);

    return p - digits;
}


ngx_int_t
ngx_http_ticket_ticket_key(ngx_http_request_t *r, uint64_t number,
    ngx_str_t *key)
{
    key->data = ngx_pnalloc(r->pool, TK_KEY_MAX);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    key->len = tk_key_ticket((char *) key->data, TK_KEY_MAX, number);

    return NGX_OK;
}


/* The ticket hash, its article ids and its history: NGX_HTTP_TICKET_READ_*
 * are their replies. */
void
ngx_http_ticket_ticket_read(tk_cmds_t *cmds, ngx_str_t *key)
{
    tk_cmds_add(cmds, "HGETALL %S", ngx_ticket_str(key));
    tk_cmds_add(cmds, "LRANGE %S:articles 0 -1", ngx_ticket_str(key));
    tk_cmds_add(cmds, "XRANGE %S:history - +", ngx_ticket_str(key));
}


/* NGX_DECLINED: no such ticket (an empty hash); NGX_ERROR: the hash is
 * there but is no valid ticket. */
ngx_int_t
ngx_http_ticket_ticket_parse(ngx_http_request_t *r,
    ngx_http_ticket_reply_t *rep, tk_ticket_t *t)
{
    size_t     npairs;
    tk_str_t  *pairs;

    pairs = ngx_http_ticket_reply_pairs(r, rep, &npairs);

    if (pairs == NULL || npairs == 0) {
        return NGX_DECLINED;
    }

    return tk_ticket_parse(t, pairs, npairs) == 0 ? NGX_OK : NGX_ERROR;
}


/* One HGETALL per article id of the ids reply (LRANGE); returns how many
 * were added: their replies come in that order. */
ngx_uint_t
ngx_http_ticket_articles_read(tk_cmds_t *cmds, uint64_t number,
    ngx_http_ticket_reply_t *ids)
{
    char        key[TK_KEY_MAX];
    size_t      len;
    long long   id;
    ngx_uint_t  i, n;

    n = 0;

    if (ids->type != REDIS_REPLY_ARRAY) {
        return 0;
    }

    for (i = 0; i < ids->nelem; i++) {
        id = tk_str_atoll(ngx_ticket_str(&ids->element[i].str));
        if (id <= 0) {
            continue;
        }

        len = tk_key_article(key, sizeof(key), number, (uint64_t) id);
        if (len == 0) {
            continue;
        }

        tk_cmds_add(cmds, "HGETALL %b", key, len);
        n++;
    }

    return n;
}


/* NGX_DECLINED: the article is gone; NGX_ERROR: it is not valid. */
ngx_int_t
ngx_http_ticket_article_parse(ngx_http_request_t *r,
    ngx_http_ticket_reply_t *rep, tk_article_t *a)
{
    size_t     npairs;
    tk_str_t  *pairs;

    pairs = ngx_http_ticket_reply_pairs(r, rep, &npairs);

    if (pairs == NULL || npairs == 0) {
        return NGX_DECLINED;
    }

    return tk_article_parse(a, pairs, npairs) == 0 ? NGX_OK : NGX_ERROR;
}


/* ---- history entries ---------------------------------------------------- */

/*
 * One entry of XRANGE tk:{t:N}:history as tk_history_add() wrote it:
 * [ID, [time T by LOGIN field F from X to Y]], from/to left out when
 * there is no value.  An entry without a field is none of ours.
 */
ngx_int_t
ngx_http_ticket_history_entry(ngx_http_ticket_reply_t *entry,
    ngx_http_ticket_hist_t *h)
{
    ngx_str_t                *name, *value;
    ngx_uint_t                i;
    ngx_http_ticket_reply_t  *kv;

    ngx_memzero(h, sizeof(ngx_http_ticket_hist_t));

    if (entry->type != REDIS_REPLY_ARRAY || entry->nelem != 2
        || entry->element[1].type != REDIS_REPLY_ARRAY)
    {
        return NGX_ERROR;
    }

    kv = entry->element[1].element;

    for (i = 0; i + 1 < entry->element[1].nelem; i += 2) {
        name = &kv[i].str;
        value = &kv[i + 1].str;

#define ngx_http_ticket_name_is(s)                                           \
    (name->len == sizeof(s) - 1 && ngx_strncmp(name->data, s, name->len) == 0)

        if (ngx_http_ticket_name_is("time")) {
            h->time = ngx_atotm(value->data, value->len);

        } else if (ngx_http_ticket_name_is("by")) {
            h->by = *value;

        } else if (ngx_http_ticket_name_is("field")) {
            h->field = *value;

        } else if (ngx_http_ticket_name_is("from")) {
            h->from = *value;
            h->has_from = 1;

        } else if (ngx_http_ticket_name_is("to")) {
            h->to = *value;
            h->has_to = 1;
        }

#undef ngx_http_ticket_name_is
    }

    if (h->time == NGX_ERROR) {
        h->time = 0;
    }

    return h->field.len ? NGX_OK : NGX_ERROR;
}


/* {"time":N,"by":"login","field":"state","from":"1","to":"2"}, null for
 * a from/to the entry does not have. */
void
ngx_http_ticket_history_json(tk_out_t *out, ngx_http_ticket_hist_t *h)
{
    tk_out_cstr(out, "{\"time\":");
    tk_out_int(out, h->time);
    tk_out_cstr(out, ",\"by\":");
    tk_out_json(out, h->by.data, h->by.len);
    tk_out_cstr(out, ",\"field\":");
    tk_out_json(out, h->field.data, h->field.len);
    tk_out_cstr(out, ",\"from\":");

    if (h->has_from) {
        tk_out_json(out, h->from.data, h->from.len);
    } else {
        tk_out_cstr(out, "null");
    }

    tk_out_cstr(out, ",\"to\":");

    if (h->has_to) {
        tk_out_json(out, h->to.data, h->to.len);
    } else {
        tk_out_cstr(out, "null");
    }

    tk_out_cstr(out, "}");
}
