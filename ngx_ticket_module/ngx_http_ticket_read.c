/*
 * ngx_http_ticket_read.c -- one ticket as the ticket page and the JSON
 * API read it: its number in a URL, its hash and articles, and its
 * history entries, parsed from the JSON tk_history_add() stores (the
 * API passes them on only after this check) and told in words in the
 * user's language for the page.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"


static void ngx_http_ticket_history_value(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *field, ngx_str_t *value,
    ngx_str_t *label);


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
    tk_cmds_add(cmds, "LRANGE %S:history 0 -1", ngx_ticket_str(key));
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
 * A history entry as written by tk_history_add(): a flat JSON object of
 * strings, numbers and nulls.  Anything else is refused (the API passes
 * entries through as raw JSON only after this check).
 */
ngx_int_t
ngx_http_ticket_history_parse(ngx_http_request_t *r, ngx_str_t *json,
    ngx_http_ticket_hist_t *h)
{
    u_char      *p, *last, *d, *start;
    uint32_t     c, lo;
    ngx_str_t    key, val;
    ngx_int_t    i;
    ngx_flag_t   is_str;

    ngx_memzero(h, sizeof(ngx_http_ticket_hist_t));
    ngx_str_null(&key);
    ngx_str_set(&h->by, "");
    ngx_str_set(&h->field, "");
    ngx_str_set(&h->from, "");
    ngx_str_set(&h->to, "");

    p = json->data;
    last = json->data + json->len;

#define ngx_http_ticket_ws()                                                 \
    while (p < last && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))\
        p++

    ngx_http_ticket_ws();

    if (p == last || *p != '{') {
        return NGX_ERROR;
    }

    p++;

    /* room for every decoded string: never longer than the input */
    d = ngx_pnalloc(r->pool, json->len + 1);
    if (d == NULL) {
        return NGX_ERROR;
    }

    ngx_http_ticket_ws();

    if (p < last && *p == '}') {
        p++;
        goto done;
    }

    for ( ;; ) {

        /* a key, then a value: both strings go through the same code */
        for (i = 0; i < 2; i++) {
            ngx_http_ticket_ws();

            if (p == last) {
                return NGX_ERROR;
            }

            is_str = (*p == '"');

            if (!is_str) {
                if (i == 0) {
                    return NGX_ERROR;
                }

                start = p;

                while (p < last && (*p == '-' || *p == '+' || *p == '.'
                                    || *p == 'e' || *p == 'E'
                                    || (*p >= '0' && *p <= '9')
                                    || (*p >= 'a' && *p <= 'z')))
                {
                    p++;
                }

                val.data = start;
                val.len = p - start;

                if (val.len == 0
                    || (val.data[0] >= 'a' && val.data[0] <= 'z'
                        && !(val.len == 4
                             && ngx_strncmp(val.data, "null", 4) == 0)
                        && !(val.len == 4
                             && ngx_strncmp(val.data, "true", 4) == 0)
                        && !(val.len == 5
                             && ngx_strncmp(val.data, "false", 5) == 0)))
                {
                    return NGX_ERROR;
                }

                if (val.data[0] == 'n') {
                    ngx_str_set(&val, "");
                }

                break;
            }

            p++;
            start = d;

            while (p < last && *p != '"') {

                if (*p < 0x20) {
                    return NGX_ERROR;
                }

                if (*p != '\\') {
                    *d++ = *p++;
                    continue;
                }

                if (++p == last) {
                    return NGX_ERROR;
                }

                switch (*p++) {
                case '"':  *d++ = '"';  break;
                case '\\': *d++ = '\\'; break;
                case '/':  *d++ = '/';  break;
                case 'b':  *d++ = '\b'; break;
                case 'f':  *d++ = '\f'; break;
                case 'n':  *d++ = '\n'; break;
                case 'r':  *d++ = '\r'; break;
                case 't':  *d++ = '\t'; break;

                case 'u':
                    if (last - p < 4
                        || ngx_hextoi(p, 4) == NGX_ERROR)
                    {
                        return NGX_ERROR;
                    }

                    c = (uint32_t) ngx_hextoi(p, 4);
                    p += 4;

                    if (c >= 0xd800 && c <= 0xdbff) {
                        if (last - p < 6 || p[0] != '\\' || p[1] != 'u'
                            || ngx_hextoi(p + 2, 4) == NGX_ERROR)
                        {
                            return NGX_ERROR;
                        }

                        lo = (uint32_t) ngx_hextoi(p + 2, 4);
                        if (lo < 0xdc00 || lo > 0xdfff) {
                            return NGX_ERROR;
                        }

                        p += 6;
                        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);

                    } else if (c >= 0xdc00 && c <= 0xdfff) {
                        return NGX_ERROR;
                    }

                    /* UTF-8 is never longer than the escape it came from */
                    if (c < 0x80) {
                        *d++ = (u_char) c;
                    } else if (c < 0x800) {
                        *d++ = (u_char) (0xc0 | (c >> 6));
                        *d++ = (u_char) (0x80 | (c & 0x3f));
                    } else if (c < 0x10000) {
                        *d++ = (u_char) (0xe0 | (c >> 12));
                        *d++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
                        *d++ = (u_char) (0x80 | (c & 0x3f));
                    } else {
                        *d++ = (u_char) (0xf0 | (c >> 18));
                        *d++ = (u_char) (0x80 | ((c >> 12) & 0x3f));
                        *d++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
                        *d++ = (u_char) (0x80 | (c & 0x3f));
                    }

                    break;

                default:
                    return NGX_ERROR;
                }
            }

            if (p == last) {
                return NGX_ERROR;
            }

            p++;

            if (i == 0) {
                key.data = start;
                key.len = d - start;

                ngx_http_ticket_ws();

                if (p == last || *p != ':') {
                    return NGX_ERROR;
                }

                p++;
                continue;
            }

            val.data = start;
            val.len = d - start;
        }

        if (key.len == 4 && ngx_strncmp(key.data, "time", 4) == 0) {
            h->time = ngx_atotm(val.data, val.len);
            if (h->time == NGX_ERROR) {
                h->time = 0;
            }

        } else if (key.len == 2 && ngx_strncmp(key.data, "by", 2) == 0) {
            h->by = val;

        } else if (key.len == 5 && ngx_strncmp(key.data, "field", 5) == 0) {
            h->field = val;

        } else if (key.len == 4 && ngx_strncmp(key.data, "from", 4) == 0) {
            h->from = val;

        } else if (key.len == 2 && ngx_strncmp(key.data, "to", 2) == 0) {
            h->to = val;
        }

        ngx_http_ticket_ws();

        if (p < last && *p == ',') {
            p++;
            continue;
        }

        if (p < last && *p == '}') {
            p++;
            break;
        }

        return NGX_ERROR;
    }

done:

    ngx_http_ticket_ws();

#undef ngx_http_ticket_ws

    return p == last ? NGX_OK : NGX_ERROR;
}


/* The label of a history value: states and priorities as words. */
static void
ngx_http_ticket_history_value(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *field, ngx_str_t *value,
    ngx_str_t *label)
{
    long long  n;
    tk_str_t   s;

    *label = *value;

    if (value->len == 0) {
        return;
    }

    if (field->len == sizeof(TK_F_STATE) - 1
        && ngx_strncmp(field->data, TK_F_STATE, field->len) == 0)
    {
        ngx_http_ticket_state_label(ctx,
                            tk_state_parse((char *) value->data, value->len),
                            &s);
        label->data = s.data;
        label->len = s.len;

    } else if (field->len == sizeof(TK_F_PRIORITY) - 1
               && ngx_strncmp(field->data, TK_F_PRIORITY, field->len) == 0)
    {
        ngx_http_ticket_prio_label(ctx,
                            tk_prio_parse((char *) value->data, value->len),
                            &s);
        label->data = s.data;
        label->len = s.len;

    } else if (field->len == sizeof(TK_F_PENDING_UNTIL) - 1
               && ngx_strncmp(field->data, TK_F_PENDING_UNTIL, field->len)
                  == 0)
    {
        n = tk_str_atoll(ngx_ticket_str(value));
        if (n > 0 && ngx_http_ticket_time_str(r, n, &s) == NGX_OK) {
            label->data = s.data;
            label->len = s.len;
        }
    }
}


/* "franka changed state from new to in progress", in the user's words. */
ngx_int_t
ngx_http_ticket_history_text(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_hist_t *h, tk_str_t *text)
{
    u_char      *p;
    size_t       len;
    ngx_flag_t   de;
    ngx_str_t    from, to, *f;
    const char  *what;

    de = ngx_http_ticket_lang_de(ctx);
    f = &h->field;

    ngx_http_ticket_history_value(r, ctx, f, &h->from, &from);
    ngx_http_ticket_history_value(r, ctx, f, &h->to, &to);

    len = h->by.len + f->len + from.len + to.len + 128;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    text->data = p;

#define ngx_http_ticket_field_is(name)                                       \
    (f->len == sizeof(name) - 1 && ngx_strncmp(f->data, name, f->len) == 0)

    if (ngx_http_ticket_field_is("created")) {
        p = ngx_sprintf(p, de ? "%V hat das Ticket angelegt"
                              : "%V created the ticket", &h->by);

    } else if (ngx_http_ticket_field_is(TK_F_OWNER) && from.len == 0) {
        p = ngx_sprintf(p, de ? "%V hat das Ticket %V zugewiesen"
                              : "%V assigned the ticket to %V", &h->by, &to);

    } else if (ngx_http_ticket_field_is(TK_F_OWNER) && to.len == 0) {
        p = ngx_sprintf(p, de ? "%V hat die Zuweisung an %V aufgehoben"
                              : "%V unassigned %V", &h->by, &from);

    } else if (ngx_http_ticket_field_is(TK_F_PENDING_UNTIL) && to.len == 0) {
        p = ngx_sprintf(p, de ? "%V hat die Erinnerung entfernt"
                              : "%V removed the reminder", &h->by);

    } else if (ngx_http_ticket_field_is(TK_F_PENDING_UNTIL)) {
        p = ngx_sprintf(p, de ? "%V hat eine Erinnerung f\xc3\xbcr %V gesetzt"
                              : "%V set a reminder for %V", &h->by, &to);

    } else {
        what = NULL;

        if (ngx_http_ticket_field_is(TK_F_STATE)) {
            what = de ? "den Status" : "state";

        } else if (ngx_http_ticket_field_is(TK_F_PRIORITY)) {
            what = de ? "die Priorit\xc3\xa4t" : "priority";

        } else if (ngx_http_ticket_field_is(TK_F_GROUP)) {
            what = de ? "die AG" : "group";

        } else if (ngx_http_ticket_field_is(TK_F_OWNER)) {
            what = de ? "die Zust\xc3\xa4ndigkeit" : "owner";

        } else if (ngx_http_ticket_field_is(TK_F_TITLE)) {
            what = de ? "den Titel" : "title";

        } else if (ngx_http_ticket_field_is(TK_F_CUSTOMER)) {
            what = de ? "die Kund*in" : "customer";
        }

        if (what) {
            p = ngx_sprintf(p, de ? "%V hat %s von \xe2\x80\x9e%V\xe2\x80\x9c "
                                    "auf \xe2\x80\x9e%V\xe2\x80\x9c ge\xc3\xa4ndert"
                                  : "%V changed %s from \xe2\x80\x9c%V\xe2\x80\x9d"
                                    " to \xe2\x80\x9c%V\xe2\x80\x9d",
                            &h->by, what, &from, &to);

        } else {
            /* a field this page does not know yet: still say something */
            p = ngx_sprintf(p, de ? "%V: %V \xe2\x80\x9e%V\xe2\x80\x9c "
                                    "\xe2\x86\x92 \xe2\x80\x9e%V\xe2\x80\x9c"
                                  : "%V: %V \xe2\x80\x9c%V\xe2\x80\x9d "
                                    "\xe2\x86\x92 \xe2\x80\x9c%V\xe2\x80\x9d",
                            &h->by, f, &from, &to);
        }
    }

#undef ngx_http_ticket_field_is

    text->len = p - text->data;

    return NGX_OK;
}
