/*
 * tk_str.h -- a counted string shared by the module, ticketctl and
 * mailbridge.  Its layout equals ngx_str_t (len, then data), so the module
 * can pass an ngx_str_t * where a tk_str_t * is wanted (see
 * ngx_ticket_str()).
 */

#ifndef TK_STR_H
#define TK_STR_H

#include <stddef.h>

typedef struct {
    size_t         len;
    unsigned char *data;
} tk_str_t;

#define tk_string(s)     { sizeof(s) - 1, (unsigned char *) s }
#define tk_null_string   { 0, NULL }
#define tk_str_set(str, text)                                              \
    (str)->len = sizeof(text) - 1; (str)->data = (unsigned char *) text

/* Equal bytes; case-insensitive ASCII variant for header/email matching. */
int tk_str_eq(const tk_str_t *a, const tk_str_t *b);
int tk_str_eq_ci(const tk_str_t *a, const tk_str_t *b);
int tk_str_eq_cstr(const tk_str_t *a, const char *b);

/* Parse an unsigned decimal; returns -1 unless the whole string is one. */
long long tk_str_atoll(const tk_str_t *s);

/*
 * v in decimal, written backwards so that the digits end at end: a buffer
 * of TK_UINT_LEN bytes before end is enough.  Returns the first digit.
 * (Keys and RESP are assembled with counted bytes, not snprintf.)
 */
#define TK_UINT_LEN  20
char *tk_str_utoa(char *end, unsigned long long v);

/* v in decimal at p (at most TK_UINT_LEN bytes); returns the end: what
 * pages use where ngx_sprintf("%uL") would parse a format per number. */
char *tk_str_putu(char *p, unsigned long long v);

/*
 * Lower-case UTF-8 for the full-text index and its queries: ASCII,
 * Latin-1, Latin Extended-A, Greek and Cyrillic capitals.  RediSearch 1.2
 * folds ASCII only, so without this "Ärger" would never match "ärger".
 * Every mapping keeps the byte length, so dst has len bytes (dst may be
 * src); other bytes are copied unchanged.
 */
void tk_utf8_lower(unsigned char *dst, const unsigned char *src, size_t len);

#endif /* TK_STR_H */
