/*
 * tk_tags.c -- tags on tickets: normalising what was typed, the stored
 * list, and the tag sets kept in step with the ticket (tk_tags.h).
 */

#include <stdlib.h>
#include <string.h>

#include "tk_tags.h"
#include "tk_ticket.h"


static size_t tk_utf8_char(const unsigned char *p, const unsigned char *end);
static int tk_tag_cmp(const void *a, const void *b);
static void tk_tags_one(tk_cmds_t *c, uint64_t number, const tk_str_t *tag,
    int add, int count, int64_t updated);


/* Bytes of the valid UTF-8 sequence at p (no overlongs, no surrogates),
 * 0 when invalid. */
static size_t
tk_utf8_char(const unsigned char *p, const unsigned char *end)
{
    size_t  n, i;

    if (p[0] < 0x80) {
        return 1;
    }

    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;

    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;

    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;

    } else {
        return 0;
    }

    if ((size_t) (end - p) < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }

    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0)
        || (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
    {
        return 0;
    }

    return n;
}


int
tk_text_valid_lines(const unsigned char *p, size_t len, int lines)
{
    const unsigned char  *end;
    size_t                k;

    for (end = p + len; p < end; p += k) {
        k = tk_utf8_char(p, end);

        if (k == 0) {
            return 0;
        }

        if (k == 1 && (*p < 0x20 || *p == 0x7f)
            && !(lines && (*p == '\t' || *p == '\n' || *p == '\r')))
        {
            return 0;
        }
    }

    return 1;
}


size_t
tk_tag_normalise(const unsigned char *in, size_t len, unsigned char *out)
{
    const unsigned char  *p, *end;
    size_t                n, k;
    int                   blank;

    end = in + len;
    n = 0;
    blank = 0;

    for (p = in; p < end; p += k) {
        k = tk_utf8_char(p, end);
        if (k == 0) {
            return 0;
        }

        if (k == 1 && (*p == ' ' || *p == '\t')) {
            blank = n > 0;
            continue;
        }

        if (k == 1 && (*p < 0x20 || *p == 0x7f || *p == ',' || *p == '{'
                       || *p == '}' || *p == '*' || *p == '"'
                       || *p == '\\'))
        {
            return 0;
        }

        if (n + blank + k > TK_TAG_MAX) {
            return 0;
        }

        if (blank) {
            out[n++] = ' ';
            blank = 0;
        }

        memcpy(out + n, p, k);
        n += k;
    }

    tk_utf8_lower(out, out, n);

    return n;
}


size_t
tk_tags_split(const tk_str_t *list, tk_str_t *tags, size_t max)
{
    unsigned char  *p, *end, *start;
    size_t          n;

    n = 0;

    if (list->len == 0) {
        return 0;
    }

    p = list->data;
    end = p + list->len;

    while (p <= end && n < max) {
        start = p;

        while (p < end && *p != ',') {
            p++;
        }

        if (p > start) {
            tags[n].data = start;
            tags[n].len = (size_t) (p - start);
            n++;
        }

        p++;
    }

    return n;
}


static int
tk_tag_cmp(const void *a, const void *b)
{
    const tk_str_t  *x = a, *y = b;
    size_t           n;
    int              rc;

    n = x->len < y->len ? x->len : y->len;
    rc = memcmp(x->data, y->data, n);

    if (rc) {
        return rc;
    }

    return x->len < y->len ? -1 : x->len > y->len;
}


size_t
tk_tags_join(tk_str_t *tags, size_t n, unsigned char *buf)
{
    size_t  i, len, kept;

    if (n == 0) {
        return 0;
    }

    qsort(tags, n, sizeof(tk_str_t), tk_tag_cmp);

    len = 0;
    kept = 0;

    for (i = 0; i < n && kept < TK_TAGS_MAX; i++) {
        if (tags[i].len == 0 || tags[i].len > TK_TAG_MAX
            || (i > 0 && tk_str_eq(&tags[i], &tags[i - 1])))
        {
            continue;
        }

        if (len) {
            buf[len++] = ',';
        }

        memcpy(buf + len, tags[i].data, tags[i].len);
        len += tags[i].len;
        kept++;
    }

    return len;
}


int
tk_tags_has(const tk_str_t *list, const tk_str_t *tag)
{
    tk_str_t  tags[TK_TAGS_MAX];
    size_t    i, n;

    n = tk_tags_split(list, tags, TK_TAGS_MAX);

    for (i = 0; i < n; i++) {
        if (tk_str_eq(&tags[i], tag)) {
            return 1;
        }
    }

    return 0;
}


/* One tag set and (count) its count. */
static void
tk_tags_one(tk_cmds_t *c, uint64_t number, const tk_str_t *tag, int add,
    int count, int64_t updated)
{
    if (add) {
        tk_cmds_add(c, "ZADD " TK_FMTS_TAG " %lld %llu", tag,
                    (long long) updated, (unsigned long long) number);

    } else {
        tk_cmds_add(c, "ZREM " TK_FMTS_TAG " %llu", tag,
                    (unsigned long long) number);
    }

    if (count) {
        tk_cmds_add(c, "ZINCRBY " TK_KEY_TAGS " %d %S", add ? 1 : -1, tag);
    }
}


/*
 * Both lists are sorted (stored form), but old ones written by hand may
 * not be: membership is asked, not merged.  A count that reaches 0 goes
 * (ZREMRANGEBYSCORE), so autocomplete never offers a tag nobody uses.
 */
void
tk_tags_sync(tk_cmds_t *c, tk_feed_t *f, uint64_t number,
    const tk_str_t *old, const tk_str_t *new, int64_t updated,
    const tk_str_t *by, int64_t now)
{
    static const tk_str_t  empty = tk_null_string;

    tk_str_t  otags[TK_TAGS_MAX], ntags[TK_TAGS_MAX];
    size_t    i, no, nn;
    int       dropped;

    if (old == NULL) {
        old = &empty;
    }

    no = tk_tags_split(old, otags, TK_TAGS_MAX);
    nn = tk_tags_split(new, ntags, TK_TAGS_MAX);
    dropped = 0;

    for (i = 0; i < nn; i++) {
        tk_tags_one(c, number, &ntags[i], 1, !tk_tags_has(old, &ntags[i]),
                    updated);
    }

    for (i = 0; i < no; i++) {
        if (!tk_tags_has(new, &otags[i])) {
            tk_tags_one(c, number, &otags[i], 0, 1, updated);
            dropped = 1;
        }
    }

    if (dropped) {
        tk_cmds_add(c, "ZREMRANGEBYSCORE " TK_KEY_TAGS " -inf 0");
    }

    if (tk_str_eq(old, new)) {
        return;
    }

    tk_index_touch(c);
    tk_history_add(c, number, now, by, TK_F_TAGS, old, new);
    tk_feed_changed(c, f, TK_F_TAGS, old, new);
}


void
tk_tags_index(tk_cmds_t *c, uint64_t number, const tk_str_t *tags,
    int64_t updated)
{
    tk_str_t  t[TK_TAGS_MAX];
    size_t    i, n;

    n = tk_tags_split(tags, t, TK_TAGS_MAX);

    for (i = 0; i < n; i++) {
        tk_tags_one(c, number, &t[i], 1, 1, updated);
    }
}
