/* tc_zip.h -- a zip file of stored entries (tc_zip.c). */

#ifndef TC_ZIP_H
#define TC_ZIP_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    char           *name;
    unsigned long   crc;
    unsigned long   size;
    unsigned long   off;
} tc_zip_entry_t;

typedef struct {
    FILE            *f;
    unsigned long    off;
    tc_zip_entry_t  *e;
    size_t           n, cap;
} tc_zip_t;

int tc_zip_open(tc_zip_t *z, FILE *f);
int tc_zip_add(tc_zip_t *z, const char *name, const void *data, size_t len);
int tc_zip_close(tc_zip_t *z);              /* writes the directory */

#endif /* TC_ZIP_H */
