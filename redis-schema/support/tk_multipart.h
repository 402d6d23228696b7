/*
 * tk_multipart.h -- multipart/form-data (RFC 7578) as browsers send a
 * form with files: the parts of a body that is all in memory, their
 * field names, file names and types.  No allocation: parts point into
 * the body (the module keeps it in the request pool).
 */

#ifndef TK_MULTIPART_H
#define TK_MULTIPART_H

#include <stddef.h>

#include "tk_str.h"

#define TK_BOUNDARY_MAX  70            /* RFC 2046 */
#define TK_FILENAME_MAX  200           /* bytes kept of a file name */

typedef struct {
    tk_str_t   name;                   /* the field's name */
    tk_str_t   filename;               /* as sent (raw), or empty */
    int        is_file;                /* a filename parameter was there */
    tk_str_t   content_type;           /* or empty */
    tk_str_t   data;
} tk_part_t;

/* The boundary of "multipart/form-data; boundary=..." (quoted or not):
 * 0, or -1 when it is no such type or the boundary is not valid. */
int tk_multipart_boundary(const tk_str_t *content_type, tk_str_t *boundary);

/*
 * The parts of body, at most max.  Returns how many, or -1 when the body
 * is not well-formed (no closing delimiter, a part without headers or
 * without a name, more than max parts).
 */
int tk_multipart_parse(const tk_str_t *body, const tk_str_t *boundary,
    tk_part_t *parts, int max);

/*
 * A file name safe to store and to offer again: the last path part
 * (after '/' or '\\'), control bytes and quotes dropped, at most
 * TK_FILENAME_MAX bytes (cut at a UTF-8 boundary), never "", "." or
 * "..".  Written to dst (TK_FILENAME_MAX + 1 bytes); returns its length.
 */
size_t tk_filename_clean(unsigned char *dst, const tk_str_t *name);

#endif /* TK_MULTIPART_H */
