/*
 * tplc_msg.h -- the message catalogue of the template compiler
 * (tplc_msg.c): reads and checks ngx_ticket_module/messages.txt and
 * writes its C tables into tk_tpl.h / tk_tpl_all.c.  Format and rules:
 * docs/i18n.md.
 */

#ifndef TPLC_MSG_H
#define TPLC_MSG_H

#include "tplc_tree.h"

/*
 * Reads and checks the catalogue at path: a "@languages" line, then
 * entries "[key]" with one "LANG = text" line per language.  Returns 0,
 * or 1 after printing "file:line: message" for every error found.
 */
int tplc_cat_read(const char *path, tplc_cat_t *cat);

/* The index of key (n bytes) in cat, or -1. */
int tplc_cat_find(const tplc_cat_t *cat, const char *key, size_t n);

/*
 * Warns about keys no template uses and none of the C files names as
 * TK_MSG_...; they are dead text for translators.
 */
void tplc_cat_unused(const tplc_cat_t *cat, const char *const *cfiles,
    int n);

void tplc_gen_msg_header(tplc_buf_t *b, const tplc_cat_t *cat);
void tplc_gen_msg_source(tplc_buf_t *b, const tplc_cat_t *cat);

#endif /* TPLC_MSG_H */
