/*
 * tk_json.h -- just enough JSON for request bodies of the API: one
 * object whose members are looked at by name.  The whole text is checked
 * (RFC 8259 syntax, nesting at most TK_JSON_DEPTH); values stay spans of
 * the input until a caller decodes the ones it wants.  Strings decode
 * into memory from the caller's allocator (tk_alloc_pt, as tk_cmds_t).
 */

#ifndef TK_JSON_H
#define TK_JSON_H

#include <stddef.h>

#include "tk_cmd.h"
#include "tk_str.h"

#define TK_JSON_DEPTH  16

typedef enum {
    TK_JSON_NONE = 0,
    TK_JSON_STRING,
    TK_JSON_NUMBER,
    TK_JSON_TRUE,
    TK_JSON_FALSE,
    TK_JSON_NULL,
    TK_JSON_ARRAY,
    TK_JSON_OBJECT
} tk_json_type_e;

typedef struct {
    tk_str_t   key;              /* raw, without the quotes */
    int        type;             /* tk_json_type_e          */
    tk_str_t   value;            /* raw span of the value   */
} tk_json_member_t;

/*
 * The members of the object that is the whole text (white space
 * around it allowed).  Returns how many (at most max), or -1 when the
 * text is no such object, a key repeats or there are more than max
 * members; *errpos is then the byte offset of the problem.
 */
int tk_json_object(const tk_str_t *text, tk_json_member_t *m, int max,
    size_t *errpos);

/* The elements of an array value (keys empty); -1 as above. */
int tk_json_array(const tk_str_t *value, tk_json_member_t *el, int max,
    size_t *errpos);

/* The member named key, or NULL. */
const tk_json_member_t *tk_json_get(const tk_json_member_t *m, int n,
    const char *key);

/*
 * Decode a string value (the raw span with its quotes) to UTF-8.
 * \u0000 and lone surrogates are refused.  0, or -1.
 */
int tk_json_string(const tk_str_t *raw, tk_str_t *out, tk_alloc_pt alloc,
    void *alloc_data);

/* A number value as a non-negative integer, or -1. */
long long tk_json_uint(const tk_str_t *raw);

#endif /* TK_JSON_H */
