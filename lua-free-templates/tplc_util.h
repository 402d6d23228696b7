/*
 * tplc_util.h -- the bottom of the template compiler: memory that never
 * fails (a build tool exits instead) and a growing byte buffer.  Knows
 * nothing of templates; every other part of tplc stands on it.
 */

#ifndef TPLC_UTIL_H
#define TPLC_UTIL_H

#include <stddef.h>

typedef struct tplc_buf_s     tplc_buf_t;

struct tplc_buf_s {
    char           *data;
    size_t          len;
    size_t          cap;
};

void *tplc_alloc(size_t size);
char *tplc_strndup(const char *s, size_t n);
void tplc_buf_add(tplc_buf_t *b, const char *p, size_t n);
void tplc_buf_printf(tplc_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* TPLC_UTIL_H */
