/*
 * fuzz_multipart.c -- libFuzzer target: the module's multipart/form-data
 * parser (redis-schema/support/tk_multipart.c, from branch composer):
 * tk_multipart_boundary, tk_multipart_parse, tk_filename_clean.
 *
 * Input: CONTENT-TYPE '\n' BODY (without '\n': the body, boundary "B").
 * Properties: every part's name, filename, content_type and data are
 * spans inside the body; parts do not overlap and come in order; no
 * part's data contains the delimiter "\r\n--BOUNDARY"; a cleaned file
 * name is non-empty, at most TK_FILENAME_MAX bytes, valid UTF-8 when the
 * input was, without '/', '\\', control bytes, quotes, and not "." or "..".
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk_multipart.h"

#define MAXP 32

#define CHECK(cond, what)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "property violated: %s\n", what);              \
            abort();                                                        \
        }                                                                   \
    } while (0)

static int
inside(const tk_str_t *s, const tk_str_t *body)
{
    return s->len == 0
           || (s->data >= body->data && s->data + s->len <= body->data + body->len);
}

static int
utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0, k, len;
    unsigned cp;
    while (i < n) {
        if (p[i] < 0x80) { i++; continue; }
        if ((p[i] & 0xe0) == 0xc0) { len = 2; cp = p[i] & 0x1f; }
        else if ((p[i] & 0xf0) == 0xe0) { len = 3; cp = p[i] & 0x0f; }
        else if ((p[i] & 0xf8) == 0xf0) { len = 4; cp = p[i] & 0x07; }
        else return 0;
        if (n - i < len) return 0;
        for (k = 1; k < len; k++) { if ((p[i + k] & 0xc0) != 0x80) return 0; cp = (cp << 6) | (p[i + k] & 0x3f); }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
            || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += len;
    }
    return 1;
}

static void
check_filename(const tk_str_t *name)
{
    unsigned char  dst[TK_FILENAME_MAX + 1];
    size_t         n, i;

    memset(dst, 0xaa, sizeof(dst));
    n = tk_filename_clean(dst, name);
    CHECK(n > 0 && n <= TK_FILENAME_MAX, "clean name length");
    CHECK(!(n == 1 && dst[0] == '.') && !(n == 2 && dst[0] == '.' && dst[1] == '.'),
          "clean name is . or ..");
    for (i = 0; i < n; i++) {
        CHECK(dst[i] != '/' && dst[i] != '\\', "path separator in a clean name");
        CHECK(dst[i] >= 0x20 && dst[i] != 0x7f, "control byte in a clean name");
        CHECK(dst[i] != '"', "quote in a clean name");
    }
    if (utf8_valid(name->data, name->len)) {
        CHECK(utf8_valid(dst, n), "clean name cut a UTF-8 sequence");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tk_str_t        ct, body, boundary, delim;
    tk_part_t       parts[MAXP];
    const uint8_t  *nl;
    unsigned char  *buf, *dbuf;
    int             n, i;

    nl = memchr(data, '\n', size < 200 ? size : 200);
    buf = malloc(size ? size : 1);      /* exact size: ASan sees overreads */
    memcpy(buf, data, size);
    if (nl) {
        ct.data = buf;
        ct.len = nl - data;
        body.data = buf + ct.len + 1;
        body.len = size - ct.len - 1;
    } else {
        ct.data = (unsigned char *) "multipart/form-data; boundary=B";
        ct.len = strlen((char *) ct.data);
        body.data = buf;
        body.len = size;
    }

    /* the file name cleaner on the raw bytes too */
    check_filename(&body);

    if (tk_multipart_boundary(&ct, &boundary) != 0) {
        free(buf);
        return 0;
    }
    CHECK(boundary.len > 0 && boundary.len <= TK_BOUNDARY_MAX, "boundary length");

    n = tk_multipart_parse(&body, &boundary, parts, MAXP);
    CHECK(n >= -1 && n <= MAXP, "part count");

    dbuf = malloc(boundary.len + 4);
    memcpy(dbuf, "\r\n--", 4);
    memcpy(dbuf + 4, boundary.data, boundary.len);
    delim.data = dbuf;
    delim.len = boundary.len + 4;

    for (i = 0; i < n; i++) {
        CHECK(inside(&parts[i].name, &body) && inside(&parts[i].filename, &body)
              && inside(&parts[i].content_type, &body) && inside(&parts[i].data, &body),
              "a part's span outside the body");
        CHECK(parts[i].name.len > 0, "a part with an empty name");
        CHECK(memmem(parts[i].data.data ? parts[i].data.data : (unsigned char *) "",
                     parts[i].data.len, delim.data, delim.len) == NULL,
              "a part's data holds the delimiter");
        if (i > 0 && parts[i].data.len && parts[i - 1].data.len) {
            CHECK(parts[i].data.data >= parts[i - 1].data.data + parts[i - 1].data.len,
                  "parts overlap or are out of order");
        }
        if (parts[i].is_file) {
            check_filename(&parts[i].filename);
        }
    }

    free(dbuf);
    free(buf);
    return 0;
}
