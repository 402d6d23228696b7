/*
 * tplc.c -- the template compiler: turns HTML templates (the
 * application's are in ngx_ticket_module/templates/) into C at build
 * time (see README.md for the syntax).
 *
 *   tplc [-m messages.txt [-u file.c]...] -o OUTDIR file.html...
 *
 * -m reads the message catalogue ({% t key %}; its tables go into the
 * outputs too); -u names C files whose TK_MSG_* uses count for the
 * unused-key warning.
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
#include <stdlib.h>
#include <string.h>

#include "tplc_driver.h"


int
main(int argc, char **argv)
{
    const char   *catalogue, **cfiles;
    int           i, ncfiles;

    catalogue = NULL;
    cfiles = calloc(argc, sizeof(char *));
    ncfiles = 0;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-m") == 0) {
            catalogue = argv[i + 1];

        } else if (strcmp(argv[i], "-u") == 0) {
            cfiles[ncfiles++] = argv[i + 1];

        } else {
            break;
        }
    }

    if (cfiles == NULL || i + 2 >= argc || strcmp(argv[i], "-o") != 0) {
        fprintf(stderr, "usage: tplc [-m messages.txt [-u file.c]...] "
                "-o OUTDIR file.html...\n");
        return 2;
    }

    return tplc_compile(argv[i + 1], catalogue, cfiles, ncfiles,
                        (const char *const *) argv + i + 2, argc - i - 2);
}
