/*
 * tplc.c -- the template compiler: turns HTML templates (the
 * application's are in ngx_ticket_module/templates/) into C at build
 * time (see README.md for the syntax).
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
 * This file is only the command line; the compiler is a library
 * (build/libtplc.a): tplc_driver.c runs the stages tplc_parse.c (text
 * -> tree), tplc_types.c (uses -> C types) and tplc_gen.c (tree -> C),
 * which share tplc_tree.h and stand on tplc_util.c.
 */

#include <stdio.h>
#include <string.h>

#include "tplc_driver.h"


int
main(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[1], "-o") != 0) {
        fprintf(stderr, "usage: tplc -o OUTDIR file.html...\n");
        return 2;
    }

    return tplc_compile(argv[2], (const char *const *) argv + 3, argc - 3);
}
