/*
 * tplc.c -- the template compiler: turns the HTML templates of this
 * directory into C at build time (see README.md for the syntax).
 *
 *   tplc -o OUTDIR file.html...
 *
 * writes OUTDIR/tk_tpl.h (one struct per template, its types inferred
 * from use, and the render prototypes) and OUTDIR/tk_tpl_all.c (the
 * render functions).  Nothing is parsed per request: the generated code
 * writes literal chunks and escaped values into a tk_out_t.
 *
 * A syntax error prints "file:line: message" and exits 1 without
 * touching the outputs.  Outputs are replaced atomically and only when
 * their content changed, so make rebuilds only what a template edit
 * really affects.
 *
 * This file holds the driver, the helpers and the output step; the
 * stages are tplc_parse.c (text -> tree), tplc_types.c (uses -> C
 * types) and tplc_gen.c (tree -> C), sharing tplc.h.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tplc.h"

static int tplc_write_if_changed(const char *dir, const char *file,
    const tplc_buf_t *b);
static int tplc_cmp_tpl(const void *a, const void *b);

int
main(int argc, char **argv)
{
    const char  *outdir;
    tplc_tpl_t  *tpls;
    tplc_buf_t   h, c;
    int          i, ntpls, errors;

    if (argc < 4 || strcmp(argv[1], "-o") != 0) {
        fprintf(stderr, "usage: tplc -o OUTDIR file.html...\n");
        return 2;
    }

    outdir = argv[2];
    ntpls = argc - 3;
    tpls = tplc_alloc(ntpls * sizeof(tplc_tpl_t));
    errors = 0;

    for (i = 0; i < ntpls; i++) {
        tpls[i].path = argv[i + 3];
        if (tplc_read_file(&tpls[i]) != 0 || tplc_parse(&tpls[i]) != 0) {
            errors++;
        }
    }

    if (errors) {
        return 1;
    }

    /* output order must not depend on the order of the arguments */
    qsort(tpls, ntpls, sizeof(tplc_tpl_t), tplc_cmp_tpl);

    for (i = 1; i < ntpls; i++) {
        if (strcmp(tpls[i - 1].name, tpls[i].name) == 0) {
            fprintf(stderr, "%s:1: template name \"%s\" also used by %s\n",
                    tpls[i].path, tpls[i].name, tpls[i - 1].path);
            return 1;
        }
    }

    if (tplc_check_types(tpls, ntpls) != 0) {
        return 1;
    }

    memset(&h, 0, sizeof(h));
    memset(&c, 0, sizeof(c));
    tplc_gen_header(&h, tpls, ntpls);
    tplc_gen_source(&c, tpls, ntpls);

    if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "tplc: mkdir %s: %s\n", outdir, strerror(errno));
        return 1;
    }

    if (tplc_write_if_changed(outdir, "tk_tpl.h", &h) != 0
        || tplc_write_if_changed(outdir, "tk_tpl_all.c", &c) != 0)
    {
        return 1;
    }

    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

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

/* "file:line: message", the format editors and make understand. */
int
tplc_error(tplc_parser_t *p, const char *fmt, ...)
{
    va_list  ap;

    fprintf(stderr, "%s:%d: ", p->tpl->path, p->line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);

    return -1;
}

static int
tplc_cmp_tpl(const void *a, const void *b)
{
    return strcmp(((const tplc_tpl_t *) a)->name,
                  ((const tplc_tpl_t *) b)->name);
}

/* ---- output ------------------------------------------------------------- */

/* Leave an unchanged file alone so its mtime does not trigger rebuilds. */
static int
tplc_write_if_changed(const char *dir, const char *file, const tplc_buf_t *b)
{
    char    path[4096], tmp[4096], old[8192];
    FILE   *f;
    size_t  n, off;
    int     same;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    snprintf(tmp, sizeof(tmp), "%s/.%s.%ld.tmp", dir, file, (long) getpid());

    f = fopen(path, "rb");
    if (f) {
        same = 1;
        off = 0;

        while (same && (n = fread(old, 1, sizeof(old), f)) > 0) {
            if (off + n > b->len || memcmp(b->data + off, old, n) != 0) {
                same = 0;
            }

            off += n;
        }

        fclose(f);

        if (same && off == b->len) {
            return 0;
        }
    }

    f = fopen(tmp, "wb");
    if (f == NULL) {
        fprintf(stderr, "tplc: %s: %s\n", tmp, strerror(errno));
        return -1;
    }

    if (fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "tplc: %s: write failed\n", tmp);
        unlink(tmp);
        return -1;
    }

    if (rename(tmp, path) != 0) {
        fprintf(stderr, "tplc: rename %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }

    return 0;
}
