/*
 * tc_zip.c -- a small zip writer for "ticketctl customer export": stored
 * entries (no compression; mail is mostly text, the archive is made
 * once and read by a person), CRC-32 from zlib, names in UTF-8 (flag
 * bit 11).  Enough for every unzip, Windows' Explorer and macOS.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tc_zip.h"


static void
tc_zip_u16(FILE *f, unsigned v)
{
    fputc(v & 0xff, f);
    fputc((v >> 8) & 0xff, f);
}


static void
tc_zip_u32(FILE *f, unsigned long v)
{
    tc_zip_u16(f, v & 0xffff);
    tc_zip_u16(f, (v >> 16) & 0xffff);
}


int
tc_zip_open(tc_zip_t *z, FILE *f)
{
    memset(z, 0, sizeof(*z));
    z->f = f;
    return 0;
}


int
tc_zip_add(tc_zip_t *z, const char *name, const void *data, size_t len)
{
    tc_zip_entry_t  *e;
    size_t           nlen = strlen(name);
    unsigned long    crc;

    if (len > 0xfffffffful || z->off > 0xfffffffful || nlen > 0xffff) {
        return -1;                          /* no zip64 */
    }

    if (z->n == z->cap) {
        size_t           cap = z->cap ? 2 * z->cap : 64;
        tc_zip_entry_t  *ne = realloc(z->e, cap * sizeof(*ne));

        if (ne == NULL) {
            return -1;
        }
        z->e = ne;
        z->cap = cap;
    }

    crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, data, (uInt) len);

    e = &z->e[z->n];
    e->name = strdup(name);
    if (e->name == NULL) {
        return -1;
    }
    e->crc = crc;
    e->size = len;
    e->off = z->off;
    z->n++;

    tc_zip_u32(z->f, 0x04034b50);           /* local file header */
    tc_zip_u16(z->f, 20);                   /* version needed */
    tc_zip_u16(z->f, 0x0800);               /* UTF-8 names */
    tc_zip_u16(z->f, 0);                    /* stored */
    tc_zip_u16(z->f, 0);                    /* time */
    tc_zip_u16(z->f, 0x21);                 /* date: 1980-01-01 */
    tc_zip_u32(z->f, crc);
    tc_zip_u32(z->f, len);
    tc_zip_u32(z->f, len);
    tc_zip_u16(z->f, (unsigned) nlen);
    tc_zip_u16(z->f, 0);
    fwrite(name, 1, nlen, z->f);
    if (len) {
        fwrite(data, 1, len, z->f);
    }
    z->off += 30 + nlen + len;

    return ferror(z->f) ? -1 : 0;
}


int
tc_zip_close(tc_zip_t *z)
{
    size_t         i, nlen;
    unsigned long  start = z->off, size = 0;

    for (i = 0; i < z->n; i++) {
        nlen = strlen(z->e[i].name);
        tc_zip_u32(z->f, 0x02014b50);       /* central directory */
        tc_zip_u16(z->f, 20);
        tc_zip_u16(z->f, 20);
        tc_zip_u16(z->f, 0x0800);
        tc_zip_u16(z->f, 0);
        tc_zip_u16(z->f, 0);
        tc_zip_u16(z->f, 0x21);
        tc_zip_u32(z->f, z->e[i].crc);
        tc_zip_u32(z->f, z->e[i].size);
        tc_zip_u32(z->f, z->e[i].size);
        tc_zip_u16(z->f, (unsigned) nlen);
        tc_zip_u16(z->f, 0);
        tc_zip_u16(z->f, 0);
        tc_zip_u16(z->f, 0);
        tc_zip_u16(z->f, 0);
        tc_zip_u32(z->f, 0);
        tc_zip_u32(z->f, z->e[i].off);
        fwrite(z->e[i].name, 1, nlen, z->f);
        size += 46 + nlen;
        free(z->e[i].name);
    }

    tc_zip_u32(z->f, 0x06054b50);           /* end of central directory */
    tc_zip_u16(z->f, 0);
    tc_zip_u16(z->f, 0);
    tc_zip_u16(z->f, (unsigned) z->n);
    tc_zip_u16(z->f, (unsigned) z->n);
    tc_zip_u32(z->f, size);
    tc_zip_u32(z->f, start);
    tc_zip_u16(z->f, 0);

    free(z->e);
    z->e = NULL;
    return fflush(z->f) || ferror(z->f) ? -1 : 0;
}
