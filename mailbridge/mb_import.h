/*
 * mb_import.h -- private to "mailbridge import": the archive as a list
 * of mails (files and mbox slices), shared by import.c (the store loop)
 * and import_sources.c (walking mbox files, maildirs and directories).
 */

#ifndef MB_IMPORT_H
#define MB_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "mailbridge.h"

/* one mail of the archive: a file, or a slice of an mbox */
typedef struct {
    unsigned       file;        /* index into files                    */
    size_t         off;
    size_t         len;         /* 0 with mbox = 0: the whole file     */
    int64_t        date;        /* Date: header, for the import order  */
    size_t         seq;         /* scan order, for equal dates         */
} mb_item_t;

typedef struct {
    char          *path;
    int            mbox;
    unsigned char *map;         /* mbox: mapped while importing        */
    size_t         size;
} mb_file_t;

typedef struct {
    const mb_config_t *cfg;
    mb_file_t     *files;
    size_t         nfiles, cfiles;
    mb_item_t     *items;
    size_t         nitems, citems;

    size_t         done, stored, dups, quarantined, errors;
    double         start, last_draw;
    int            progress;
} mb_import_t;


/* Collect the mails below path (file, maildir or directory tree). */
int mb_scan(mb_import_t *im, const char *path, int depth);
/* Split an mbox file (mapped, kept mapped) into items. */
int mb_scan_mbox(mb_import_t *im, unsigned file);
/* Order the items by their Date: header, oldest first. */
void mb_sort_by_date(mb_import_t *im);
/* The bytes of one item into m (owned: what to free afterwards). */
int mb_load(mb_import_t *im, const mb_item_t *it, mb_msg_t *m,
    unsigned char **owned);

#endif /* MB_IMPORT_H */
