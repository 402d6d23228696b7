/*
 * tk_json.c -- request bodies of the API (see tk_json.h): a recursive
 * descent checker that records the top-level members' spans.
 */

#include <string.h>

#include "tk_escape.h"
#include "tk_json.h"


typedef struct {
    const unsigned char  *start;
    const unsigned char  *p;
    const unsigned char  *end;
} tk_json_t;


static int tk_json_value(tk_json_t *j, int depth, int *type);
static int tk_json_skip_string(tk_json_t *j);
static int tk_json_skip_number(tk_json_t *j);
static int tk_json_word(tk_json_t *j, const char *w);
static void tk_json_ws(tk_json_t *j);
static int tk_json_members(tk_json_t *j, int open, int close,
    tk_json_member_t *m, int max, int depth);
static int tk_json_hex4(const unsigned char *p, unsigned *v);


static void
tk_json_ws(tk_json_t *j)
{
    while (j->p < j->end
           && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n'
               || *j->p == '\r'))
    {
        j->p++;
    }
}


int
tk_json_object(const tk_str_t *text, tk_json_member_t *m, int max,
    size_t *errpos)
{
    int        n;
    tk_json_t  j;

    j.start = text->data;
    j.p = text->data;
    j.end = text->data + text->len;

    tk_json_ws(&j);
    n = tk_json_members(&j, '{', '}', m, max, 1);

    if (n >= 0) {
        tk_json_ws(&j);
        if (j.p != j.end) {
            n = -1;
        }
    }

    *errpos = (size_t) (j.p - j.start);
    return n;
}


int
tk_json_array(const tk_str_t *value, tk_json_member_t *el, int max,
    size_t *errpos)
{
    int        n;
    tk_json_t  j;

    j.start = value->data;
    j.p = value->data;
    j.end = value->data + value->len;

    n = tk_json_members(&j, '[', ']', el, max, 1);

    if (n >= 0 && j.p != j.end) {
        n = -1;
    }

    *errpos = (size_t) (j.p - j.start);
    return n;
}


/*
 * An object ('{', keyed members) or an array ('['); records up to max
 * members when m is not NULL (the top level), only checks below it.
 */
static int
tk_json_members(tk_json_t *j, int open, int close, tk_json_member_t *m,
    int max, int depth)
{
    int                   n, i, type;
    tk_str_t              key;
    const unsigned char  *vs;

    if (depth > TK_JSON_DEPTH || j->p >= j->end || *j->p != open) {
        return -1;
    }

    j->p++;
    n = 0;
    tk_json_ws(j);

    if (j->p < j->end && *j->p == close) {
        j->p++;
        return 0;
    }

    for (;;) {
        key.data = NULL;
        key.len = 0;

        tk_json_ws(j);

        if (open == '{') {
            if (j->p >= j->end || *j->p != '"') {
                return -1;
            }

            key.data = (unsigned char *) j->p + 1;

            if (tk_json_skip_string(j) != 0) {
                return -1;
            }

            key.len = (size_t) (j->p - key.data - 1);

            tk_json_ws(j);

            if (j->p >= j->end || *j->p != ':') {
                return -1;
            }

            j->p++;
            tk_json_ws(j);
        }

        vs = j->p;

        if (tk_json_value(j, depth, &type) != 0) {
            return -1;
        }

        if (m) {
            if (n == max) {
                return -1;
            }

            for (i = 0; open == '{' && i < n; i++) {
                if (tk_str_eq(&m[i].key, &key)) {
                    j->p = key.data;
                    return -1;
                }
            }

            m[n].key = key;
            m[n].type = type;
            m[n].value.data = (unsigned char *) vs;
            m[n].value.len = (size_t) (j->p - vs);
        }

        n++;

        tk_json_ws(j);

        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }

        if (j->p < j->end && *j->p == close) {
            j->p++;
            return n;
        }

        return -1;
    }
}


static int
tk_json_value(tk_json_t *j, int depth, int *type)
{
    if (j->p >= j->end) {
        return -1;
    }

    switch (*j->p) {

    case '"':
        *type = TK_JSON_STRING;
        return tk_json_skip_string(j);

    case '{':
        *type = TK_JSON_OBJECT;
        return tk_json_members(j, '{', '}', NULL, 0, depth + 1) < 0 ? -1 : 0;

    case '[':
        *type = TK_JSON_ARRAY;
        return tk_json_members(j, '[', ']', NULL, 0, depth + 1) < 0 ? -1 : 0;

    case 't':
        *type = TK_JSON_TRUE;
        return tk_json_word(j, "true");

    case 'f':
        *type = TK_JSON_FALSE;
        return tk_json_word(j, "false");

    case 'n':
        *type = TK_JSON_NULL;
        return tk_json_word(j, "null");

    default:
        *type = TK_JSON_NUMBER;
        return tk_json_skip_number(j);
    }
}


static int
tk_json_word(tk_json_t *j, const char *w)
{
    size_t  len;

    len = strlen(w);

    if ((size_t) (j->end - j->p) < len || memcmp(j->p, w, len) != 0) {
        return -1;
    }

    j->p += len;
    return 0;
}


/* "..." with escapes checked; raw control bytes are not allowed. */
static int
tk_json_skip_string(tk_json_t *j)
{
    unsigned  v;

    j->p++;

    while (j->p < j->end) {

        if (*j->p == '"') {
            j->p++;
            return 0;
        }

        if (*j->p < 0x20) {
            return -1;
        }

        if (*j->p != '\\') {
            j->p++;
            continue;
        }

        if (j->end - j->p < 2) {
            return -1;
        }

        switch (j->p[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n':
        case 'r': case 't':
            j->p += 2;
            break;

        case 'u':
            if (j->end - j->p < 6 || tk_json_hex4(j->p + 2, &v) != 0) {
                return -1;
            }
            j->p += 6;
            break;

        default:
            return -1;
        }
    }

    return -1;
}


static int
tk_json_skip_number(tk_json_t *j)
{
    const unsigned char  *s;

    if (j->p < j->end && *j->p == '-') {
        j->p++;
    }

    s = j->p;

    if (j->p < j->end && *j->p == '0') {
        j->p++;

    } else {
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
            j->p++;
        }
    }

    if (j->p == s) {
        return -1;
    }

    if (j->p < j->end && *j->p == '.') {
        j->p++;
        s = j->p;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
            j->p++;
        }
        if (j->p == s) {
            return -1;
        }
    }

    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-')) {
            j->p++;
        }
        s = j->p;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
            j->p++;
        }
        if (j->p == s) {
            return -1;
        }
    }

    return 0;
}


static int
tk_json_hex4(const unsigned char *p, unsigned *v)
{
    int  i;

    *v = 0;

    for (i = 0; i < 4; i++) {
        *v <<= 4;

        if (p[i] >= '0' && p[i] <= '9') {
            *v |= p[i] - '0';
        } else if ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f') {
            *v |= (p[i] | 0x20) - 'a' + 10;
        } else {
            return -1;
        }
    }

    return 0;
}


const tk_json_member_t *
tk_json_get(const tk_json_member_t *m, int n, const char *key)
{
    int  i;

    for (i = 0; i < n; i++) {
        if (tk_str_eq_cstr(&m[i].key, key)) {
            return &m[i];
        }
    }

    return NULL;
}


int
tk_json_string(const tk_str_t *raw, tk_str_t *out, tk_alloc_pt alloc,
    void *alloc_data)
{
    unsigned              v, lo;
    unsigned char        *d;
    const unsigned char  *p, *e;

    if (raw->len < 2 || raw->data[0] != '"' || raw->data[raw->len - 1] != '"')
    {
        return -1;
    }

    /* decoding never grows the text */
    d = alloc(alloc_data, raw->len);
    if (d == NULL) {
        return -1;
    }

    out->data = d;
    p = raw->data + 1;
    e = raw->data + raw->len - 1;

    while (p < e) {

        if (*p != '\\' && *p < 0x80) {
            *d++ = *p++;
            continue;
        }

        /* RFC 8259 8.1: the text is UTF-8; ill-formed bytes are an error */
        if (*p != '\\') {
            int  k = tk_utf8_seq(p, (size_t) (e - p));

            if (k < 0) {
                return -1;
            }

            while (k-- > 0) {
                *d++ = *p++;
            }

            continue;
        }

        if (e - p < 2) {
            return -1;
        }

        switch (p[1]) {
        case '"':  *d++ = '"';  p += 2; continue;
        case '\\': *d++ = '\\'; p += 2; continue;
        case '/':  *d++ = '/';  p += 2; continue;
        case 'b':  *d++ = '\b'; p += 2; continue;
        case 'f':  *d++ = '\f'; p += 2; continue;
        case 'n':  *d++ = '\n'; p += 2; continue;
        case 'r':  *d++ = '\r'; p += 2; continue;
        case 't':  *d++ = '\t'; p += 2; continue;
        case 'u':  break;
        default:   return -1;
        }

        if (e - p < 6 || tk_json_hex4(p + 2, &v) != 0 || v == 0) {
            return -1;
        }

        p += 6;

        if (v >= 0xdc00 && v <= 0xdfff) {
            return -1;
        }

        if (v >= 0xd800 && v <= 0xdbff) {
            if (e - p < 6 || p[0] != '\\' || p[1] != 'u'
                || tk_json_hex4(p + 2, &lo) != 0 || lo < 0xdc00
                || lo > 0xdfff)
            {
                return -1;
            }

            p += 6;
            v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
        }

        if (v < 0x80) {
            *d++ = (unsigned char) v;
        } else if (v < 0x800) {
            *d++ = (unsigned char) (0xc0 | (v >> 6));
            *d++ = (unsigned char) (0x80 | (v & 0x3f));
        } else if (v < 0x10000) {
            *d++ = (unsigned char) (0xe0 | (v >> 12));
            *d++ = (unsigned char) (0x80 | ((v >> 6) & 0x3f));
            *d++ = (unsigned char) (0x80 | (v & 0x3f));
        } else {
            *d++ = (unsigned char) (0xf0 | (v >> 18));
            *d++ = (unsigned char) (0x80 | ((v >> 12) & 0x3f));
            *d++ = (unsigned char) (0x80 | ((v >> 6) & 0x3f));
            *d++ = (unsigned char) (0x80 | (v & 0x3f));
        }
    }

    out->len = (size_t) (d - out->data);
    return 0;
}


long long
tk_json_uint(const tk_str_t *raw)
{
    return tk_str_atoll(raw);
}
