/*
 * tplc_parse.h -- the front end of the template compiler (tplc_parse.c):
 * template text -> node tree, recording each name's use (tplc_types.h).
 */

#ifndef TPLC_PARSE_H
#define TPLC_PARSE_H

#include "tplc_tree.h"

int tplc_read_file(tplc_tpl_t *tpl);
int tplc_parse(tplc_tpl_t *tpl);

#endif /* TPLC_PARSE_H */
