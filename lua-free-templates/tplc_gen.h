/*
 * tplc_gen.h -- code generation of the template compiler (tplc_gen.c): node
 * tree -> tk_tpl.h and tk_tpl_all.c.
 */

#ifndef TPLC_GEN_H
#define TPLC_GEN_H

#include "tplc_tree.h"

void tplc_gen_header(tplc_buf_t *b, tplc_tpl_t *tpls, int ntpls);
void tplc_gen_source(tplc_buf_t *b, tplc_tpl_t *tpls, int ntpls);

#endif /* TPLC_GEN_H */
