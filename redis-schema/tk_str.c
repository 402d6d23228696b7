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
        if (v > (LLONG_MAX - d) / 10) {
            return -1;
        }

        v = v * 10 + d;
    }

    return v;
}
