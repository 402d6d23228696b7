/*
 * tplc_util.c -- memory and byte buffers of the template compiler.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tplc_util.h"

/* A build tool: running out of memory is fatal, so callers need no checks. */
void *
tplc_alloc(size_t size)
{
    void  *p;

    p = calloc(1, size ? size : 1);
    if (p == NULL) {
        fprintf(stderr, "tplc: out of memory\n");
        exit(1);
    }

    return p;
}

char *
tplc_strndup(const char *s, size_t n)
{
    char  *p;

    p = tplc_alloc(n + 1);
    memcpy(p, s, n);
    return p;
}

void
tplc_buf_add(tplc_buf_t *b, const char *p, size_t n)
{
    char    *data;
    size_t   cap;

    if (b->len + n + 1 > b->cap) {
        cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap) {
            cap *= 2;
        }

        data = realloc(b->data, cap);
        if (data == NULL) {
            fprintf(stderr, "tplc: out of memory\n");
            exit(1);
        }

        b->data = data;
        b->cap = cap;
    }

    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void
tplc_buf_printf(tplc_buf_t *b, const char *fmt, ...)
{
    va_list  ap;
    char     small[512], *big;
    int      n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);

    if (n < 0) {
        return;
    }

    if ((size_t) n < sizeof(small)) {
        tplc_buf_add(b, small, n);
        return;
    }

    big = tplc_alloc(n + 1);
    va_start(ap, fmt);
    vsnprintf(big, n + 1, fmt, ap);
    va_end(ap);
    tplc_buf_add(b, big, n);
    free(big);
}
