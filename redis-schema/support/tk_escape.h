/*
 * tk_escape.h -- output escaping and the output sink used by compiled
 * templates, the JSON API and history entries.  One implementation for
 * every program: templates escape by default through tk_out_html().
 */

#ifndef TK_ESCAPE_H
#define TK_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

#include "tk_str.h"

/*
 * An output sink writes into the current chunk [pos, end) and asks
 * more() for a new chunk when it is full.  The module's more() hands out
 * nginx buffers from the request pool; ticketctl and tests use a malloc'd
 * growing buffer (tk_out_init_mem).  After a failed more() the sink is
 * "failed" and every further write is a no-op; check tk_out_failed().
 */
typedef struct tk_out_s tk_out_t;

struct tk_out_s {
    unsigned char *pos;
    unsigned char *end;
    /* returns 0 and sets pos/end to a chunk of >= min bytes, or -1 */
    int          (*more)(tk_out_t *out, size_t min);
    void          *data;        /* for more() */
    int            failed;
    /* memory sink state (tk_out_init_mem) */
    unsigned char *mem;
    size_t         mem_size;
};

void tk_out_init_mem(tk_out_t *out);              /* malloc-backed sink  */
void tk_out_free_mem(tk_out_t *out);
tk_str_t tk_out_mem_str(tk_out_t *out);           /* what was written    */
static inline int tk_out_failed(const tk_out_t *out) { return out->failed; }

void tk_out_raw(tk_out_t *out, const void *p, size_t n);     /* as is   */
void tk_out_cstr(tk_out_t *out, const char *s);
void tk_out_str(tk_out_t *out, const tk_str_t *s);
void tk_out_html(tk_out_t *out, const void *p, size_t n);    /* & < > " ' */
void tk_out_url(tk_out_t *out, const void *p, size_t n);     /* %XX      */
void tk_out_json(tk_out_t *out, const void *p, size_t n);    /* "..." with quotes */
void tk_out_uint(tk_out_t *out, uint64_t v);
void tk_out_int(tk_out_t *out, int64_t v);

/* Unix seconds as "2026-11-24 14:05" (UTC offset applied) / ISO 8601. */
void tk_out_time(tk_out_t *out, int64_t t, int utc_offset_minutes);
void tk_out_time_iso(tk_out_t *out, int64_t t);

/*
 * Unix seconds split into a UTC calendar date without gmtime_r (no lock,
 * no time zone lookup).  Returns 0, or -1 outside the years 0..9999,
 * where callers fall back to gmtime_r.  yday counts days since
 * 1970-01-01, so two times are on the same day when their days are equal.
 */
typedef struct {
    int      year;          /* 2026 */
    int      mon;           /* 1..12 */
    int      mday;          /* 1..31 */
    int      hour;
    int      min;
    int      sec;
    int64_t  days;
} tk_tm_t;

int tk_time_split(int64_t t, tk_tm_t *tm);

/*
 * Plain-text mail body to HTML: escapes, keeps line breaks (the page
 * shows it in white-space: pre-wrap), turns http(s) URLs into links with
 * rel="noopener noreferrer nofollow".  Invalid UTF-8 is replaced by U+FFFD.
 */
void tk_out_text_as_html(tk_out_t *out, const void *p, size_t n);

/* Escaping into a caller buffer; returns bytes needed (may exceed size). */
size_t tk_escape_html(unsigned char *dst, size_t size, const void *p, size_t n);

/*
 * Percent-encoding, the one implementation: RFC 3986 unreserved
 * characters (A-Z a-z 0-9 - . _ ~) and those in keep stay, every other
 * byte is %XX.  tk_escape_url returns the bytes needed (at most 3 * n)
 * and writes what fits; tk_out_url is tk_out_url_keep(TK_URL_COMPONENT).
 */
#define TK_URL_COMPONENT  ""                /* path segment, query value */
#define TK_URL_PATH       "/"               /* a path of segments        */
#define TK_URL_CID        "!$()*+,;=:@%"    /* an encoded cid: URL (RFC
                                               2392): '%' stays          */
#define TK_URL_ATTR_CHAR  "!#$&+^`|"        /* RFC 8187 attr-char        */

size_t tk_escape_url(unsigned char *dst, size_t size, const void *p, size_t n,
                     const char *keep);
void tk_out_url_keep(tk_out_t *out, const void *p, size_t n, const char *keep);

/*
 * Length of the well-formed UTF-8 sequence at p (1..4, n > 0 bytes
 * left), or minus the length of its maximal ill-formed prefix.
 */
int tk_utf8_seq(const unsigned char *p, size_t n);

#endif /* TK_ESCAPE_H */
