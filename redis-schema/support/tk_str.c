/*
 * tk_str.c -- comparisons and number parsing on counted strings
 * (tk_str.h), shared by the module, ticketctl and mailbridge.
 */

#include <limits.h>
#include <string.h>

#include "tk_str.h"

static unsigned char tk_str_lower(unsigned char c);

int
tk_str_eq(const tk_str_t *a, const tk_str_t *b)
{
    if (a->len != b->len) {
        return 0;
    }

    return a->len == 0 || memcmp(a->data, b->data, a->len) == 0;
}

/* ASCII only on purpose: header names and the domain part of addresses. */
static unsigned char
tk_str_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char) (c | 0x20) : c;
}

int
tk_str_eq_ci(const tk_str_t *a, const tk_str_t *b)
{
    size_t  i;

    if (a->len != b->len) {
        return 0;
    }

    for (i = 0; i < a->len; i++) {
        if (tk_str_lower(a->data[i]) != tk_str_lower(b->data[i])) {
            return 0;
        }
    }

    return 1;
}

int
tk_str_eq_cstr(const tk_str_t *a, const char *b)
{
    size_t  n;

    n = strlen(b);
    if (a->len != n) {
        return 0;
    }

    return n == 0 || memcmp(a->data, b, n) == 0;
}

/*
 * Strict: digits only, no sign, no blanks, no overflow -- a Redis field
 * holding "12abc" is corrupt and must not read as 12.
 */
long long
tk_str_atoll(const tk_str_t *s)
{
    long long  v;
    size_t     i;
    int        d;

    if (s == NULL || s->len == 0 || s->data == NULL) {
        return -1;
    }

    v = 0;
    for (i = 0; i < s->len; i++) {
        if (s->data[i] < '0' || s->data[i] > '9') {
            return -1;
        }

        d = s->data[i] - '0';

        /* 18 digits always fit: the division only for longer ones */
        if (i >= 18 && v > (LLONG_MAX - d) / 10) {
            return -1;
        }

        v = v * 10 + d;
    }

    return v;
}


/* Second byte of a two-byte sequence lead..b1 -> lower-case lead/b1. */
static void
tk_utf8_lower2(unsigned char *lead, unsigned char *b1)
{
    unsigned  cp, lo;

    cp = ((unsigned) (*lead & 0x1f) << 6) | (*b1 & 0x3f);
    lo = cp;

    if ((cp >= 0xc0 && cp <= 0xde && cp != 0xd7)      /* Latin-1       */
        || (cp >= 0x391 && cp <= 0x3ab && cp != 0x3a2) /* Greek         */
        || (cp >= 0x410 && cp <= 0x42f))               /* Cyrillic А-Я  */
    {
        lo = cp + 0x20;

    } else if (cp >= 0x400 && cp <= 0x40f) {           /* Cyrillic Ѐ-Џ  */
        lo = cp + 0x50;

    } else if (cp == 0x178) {                          /* Ÿ             */
        lo = 0xff;

    } else if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14a && cp <= 0x177))
    {
        lo = cp | 1;                                   /* even capitals */

    } else if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e))
    {
        lo = (cp & 1) ? cp + 1 : cp;                   /* odd capitals  */
    }

    *lead = (unsigned char) (0xc0 | (lo >> 6));
    *b1 = (unsigned char) (0x80 | (lo & 0x3f));
}

void
tk_utf8_lower(unsigned char *dst, const unsigned char *src, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        dst[i] = src[i];

        if (src[i] < 0x80) {
            dst[i] = tk_str_lower(src[i]);

        } else if ((src[i] & 0xe0) == 0xc0 && i + 1 < len
                   && (src[i + 1] & 0xc0) == 0x80)
        {
            dst[i + 1] = src[i + 1];
            tk_utf8_lower2(&dst[i], &dst[i + 1]);
            i++;
        }
    }
}


char *
tk_str_utoa(char *end, unsigned long long v)
{
    char  *p;

    p = end;

    do {
        *--p = (char) ('0' + v % 10);
        v /= 10;
    } while (v);

    return p;
}


char *
tk_str_putu(char *p, unsigned long long v)
{
    char    buf[TK_UINT_LEN], *d;
    size_t  n;

    d = tk_str_utoa(buf + TK_UINT_LEN, v);
    n = (size_t) (buf + TK_UINT_LEN - d);
    memcpy(p, d, n);

    return p + n;
}
