/*
 * tk_multipart.c -- multipart/form-data bodies (see tk_multipart.h).
 */

#include <string.h>

#include "tk_multipart.h"


static const unsigned char *tk_find(const unsigned char *p,
    const unsigned char *end, const unsigned char *s, size_t n);
static int tk_part_headers(const unsigned char *p, const unsigned char *end,
    tk_part_t *part);
static int tk_header_param(const unsigned char *p, const unsigned char *end,
    const char *name, tk_str_t *value);
static int tk_ci_prefix(const unsigned char *p, const unsigned char *end,
    const char *s);


/* memmem: parts hold any bytes, NUL included */
static const unsigned char *
tk_find(const unsigned char *p, const unsigned char *end,
    const unsigned char *s, size_t n)
{
    while ((size_t) (end - p) >= n) {
        p = memchr(p, s[0], (size_t) (end - p) - n + 1);
        if (p == NULL) {
            return NULL;
        }

        if (memcmp(p, s, n) == 0) {
            return p;
        }

        p++;
    }

    return NULL;
}


static int
tk_ci_prefix(const unsigned char *p, const unsigned char *end, const char *s)
{
    size_t  i, n;

    n = strlen(s);

    if ((size_t) (end - p) < n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if ((p[i] | 0x20) != (s[i] | 0x20)) {
            return 0;
        }
    }

    return 1;
}


int
tk_multipart_boundary(const tk_str_t *content_type, tk_str_t *boundary)
{
    size_t                i;
    const unsigned char  *p, *end;

    p = content_type->data;
    end = p + content_type->len;

    if (!tk_ci_prefix(p, end, "multipart/form-data")) {
        return -1;
    }

    p += sizeof("multipart/form-data") - 1;

    if (tk_header_param(p, end, "boundary", boundary) != 0
        || boundary->len == 0 || boundary->len > TK_BOUNDARY_MAX)
    {
        return -1;
    }

    /* bchars of RFC 2046, and no trailing space */
    for (i = 0; i < boundary->len; i++) {
        unsigned char  c = boundary->data[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z') || strchr("'()+_,-./:=? ", c))
            || c == 0)
        {
            return -1;
        }
    }

    return boundary->data[boundary->len - 1] == ' ' ? -1 : 0;
}


/*
 * ';'-separated parameters after the value: name=token or
 * name="quoted" (backslash escapes are kept, browsers send %22 anyway).
 */
static int
tk_header_param(const unsigned char *p, const unsigned char *end,
    const char *name, tk_str_t *value)
{
    size_t  n;

    n = strlen(name);

    while (p < end) {
        p = memchr(p, ';', (size_t) (end - p));
        if (p == NULL) {
            return -1;
        }

        p++;

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (!tk_ci_prefix(p, end, name) || p + n >= end || p[n] != '=') {
            continue;
        }

        p += n + 1;

        if (p < end && *p == '"') {
            const unsigned char  *q;

            for (q = p + 1; q < end && *q != '"'; q++) {
                if (*q == '\\' && q + 1 < end) {
                    q++;
                }
            }

            if (q >= end) {
                return -1;
            }

            value->data = (unsigned char *) p + 1;
            value->len = (size_t) (q - p - 1);
            return 0;
        }

        value->data = (unsigned char *) p;

        while (p < end && *p != ';' && *p != ' ' && *p != '\t') {
            p++;
        }

        value->len = (size_t) (p - value->data);
        return 0;
    }

    return -1;
}


/* Content-Disposition (form-data; name; filename) and Content-Type. */
static int
tk_part_headers(const unsigned char *p, const unsigned char *end,
    tk_part_t *part)
{
    const unsigned char  *eol, *v;
    int                   disposition;

    disposition = 0;

    while (p < end) {
        eol = tk_find(p, end, (const unsigned char *) "\r\n", 2);
        if (eol == NULL) {
            eol = end;
        }

        if (tk_ci_prefix(p, eol, "content-disposition:")) {
            v = p + sizeof("content-disposition:") - 1;

            while (v < eol && (*v == ' ' || *v == '\t')) {
                v++;
            }

            /* an empty name= counts as no name: no field is "" */
            if (!tk_ci_prefix(v, eol, "form-data")
                || tk_header_param(v, eol, "name", &part->name) != 0
                || part->name.len == 0)
            {
                return -1;
            }

            part->is_file = (tk_header_param(v, eol, "filename",
                                             &part->filename) == 0);
            disposition = 1;

        } else if (tk_ci_prefix(p, eol, "content-type:")) {
            v = p + sizeof("content-type:") - 1;

            while (v < eol && (*v == ' ' || *v == '\t')) {
                v++;
            }

            part->content_type.data = (unsigned char *) v;
            part->content_type.len = (size_t) (eol - v);
        }

        p = eol + 2;
    }

    return disposition ? 0 : -1;
}


int
tk_multipart_parse(const tk_str_t *body, const tk_str_t *boundary,
    tk_part_t *parts, int max)
{
    int                   n;
    unsigned char         delim[TK_BOUNDARY_MAX + 4];
    size_t                dlen;
    const unsigned char  *p, *end, *hend, *next;

    if (boundary->len == 0 || boundary->len > TK_BOUNDARY_MAX) {
        return -1;
    }

    /* "\r\n--BOUNDARY": the body starts with it less the CRLF */
    delim[0] = '\r';
    delim[1] = '\n';
    delim[2] = '-';
    delim[3] = '-';
    memcpy(delim + 4, boundary->data, boundary->len);
    dlen = boundary->len + 4;

    p = body->data;
    end = p + body->len;

    if ((size_t) (end - p) >= dlen - 2 && memcmp(p, delim + 2, dlen - 2) == 0)
    {
        p += dlen - 2;

    } else {
        p = tk_find(p, end, delim, dlen);
        if (p == NULL) {
            return -1;
        }

        p += dlen;
    }

    for (n = 0;; n++) {
        /* after a delimiter: "--" ends it all, else CRLF (transport
         * padding of blanks allowed) and a part */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
            return n;
        }

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (end - p < 2 || p[0] != '\r' || p[1] != '\n' || n == max) {
            return -1;
        }

        p += 2;

        hend = tk_find(p, end, (const unsigned char *) "\r\n\r\n", 4);
        if (hend == NULL) {
            return -1;
        }

        memset(&parts[n], 0, sizeof(tk_part_t));

        if (tk_part_headers(p, hend, &parts[n]) != 0) {
            return -1;
        }

        p = hend + 4;

        next = tk_find(p, end, delim, dlen);
        if (next == NULL) {
            return -1;
        }

        parts[n].data.data = (unsigned char *) p;
        parts[n].data.len = (size_t) (next - p);

        p = next + dlen;
    }
}


size_t
tk_filename_clean(unsigned char *dst, const tk_str_t *name)
{
    size_t                len, i;
    const unsigned char  *p, *end, *s;

    p = name->data;
    end = p + name->len;

    /* the last path part: browsers on Windows once sent C:\x\y.pdf */
    for (s = p; s < end; s++) {
        if (*s == '/' || *s == '\\') {
            p = s + 1;
        }
    }

    len = 0;

    for (; p < end && len < TK_FILENAME_MAX; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '"') {
            continue;
        }

        dst[len++] = *p;
    }

    /* not in the middle of a UTF-8 sequence */
    if (len == TK_FILENAME_MAX && p < end && (*p & 0xc0) == 0x80) {
        while (len && (dst[len - 1] & 0xc0) == 0x80) {
            len--;
        }

        if (len && dst[len - 1] >= 0xc0) {
            len--;
        }
    }

    /* no leading or trailing blanks and dots */
    for (i = 0; i < len && (dst[i] == ' ' || dst[i] == '.'); i++) {
        /* void */
    }

    if (i) {
        memmove(dst, dst + i, len - i);
        len -= i;
    }

    while (len && (dst[len - 1] == ' ' || dst[len - 1] == '.')) {
        len--;
    }

    if (len == 0) {
        memcpy(dst, "attachment", sizeof("attachment") - 1);
        len = sizeof("attachment") - 1;
    }

    dst[len] = '\0';

    return len;
}
