/*
 * tplc_driver.c -- the template compiler's driver: runs the stages
 * (tplc_parse, tplc_types, tplc_gen) over a set of templates and writes
 * the outputs.  Stands above every stage and is called by tplc.c's main
 * (and could be by a test); no stage calls back into it.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tplc_driver.h"
#include "tplc_gen.h"
#include "tplc_msg.h"
#include "tplc_parse.h"
#include "tplc_types.h"

static int tplc_write_if_changed(const char *dir, const char *file,
    const tplc_buf_t *b);
static int tplc_cmp_tpl(const void *a, const void *b);


int
tplc_compile(const char *outdir, const char *catalogue,
    const char *const *cfiles, int ncfiles, const char *const *paths, int n)
{
    tplc_tpl_t  *tpls;
    tplc_buf_t   h, c;
    tplc_cat_t  *cat;
    int          i, ntpls, errors;

    ntpls = n;
    tpls = tplc_alloc(ntpls * sizeof(tplc_tpl_t));
    errors = 0;
    cat = NULL;

    if (catalogue) {
        cat = tplc_alloc(sizeof(tplc_cat_t));
        if (tplc_cat_read(catalogue, cat) != 0) {
            return 1;
        }
    }

    for (i = 0; i < ntpls; i++) {
        tpls[i].path = paths[i];
        tpls[i].cat = cat;
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

    if (cat && ncfiles) {
        tplc_cat_unused(cat, cfiles, ncfiles);
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
