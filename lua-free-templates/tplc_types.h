/*
 * tplc_types.h -- type inference of the template compiler (tplc_types.c): names
 * -> struct fields and their C types.
 */

#ifndef TPLC_TYPES_H
#define TPLC_TYPES_H

#include "tplc_tree.h"

int tplc_resolve(tplc_parser_t *p, const char *s, size_t n, unsigned use,
    tplc_field_t **field, int *depth);
tplc_struct_t *tplc_struct_new(tplc_tpl_t *tpl, const char *prefix,
    const char *name, int line);
int tplc_check_structs(tplc_tpl_t *tpl);
int tplc_check_types(tplc_tpl_t *tpls, int ntpls);

#endif /* TPLC_TYPES_H */
