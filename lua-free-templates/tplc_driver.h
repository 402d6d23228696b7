/*
 * tplc_driver.h -- the template compiler as a library call (tplc_driver.c):
 * read, parse, type-check and generate a set of templates and write
 * OUTDIR/tk_tpl.h and OUTDIR/tk_tpl_all.c.  tplc.c is its command line.
 */

#ifndef TPLC_DRIVER_H
#define TPLC_DRIVER_H

/*
 * Compiles the n templates at paths into outdir (created if missing),
 * with the message catalogue at catalogue (NULL: none; {% t %} is then
 * an error).  Keys that no template and none of the ncfiles C files use
 * are warned about.
 * Returns 0, or 1 after printing "file:line: message" to stderr; the
 * outputs are then untouched.  Outputs are replaced atomically and only
 * when their content changed.
 */
int tplc_compile(const char *outdir, const char *catalogue,
    const char *const *cfiles, int ncfiles, const char *const *paths, int n);

#endif /* TPLC_DRIVER_H */
