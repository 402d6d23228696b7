/*
 * charset.c -- every text that enters the ticket system is valid UTF-8.
 * Mail lies about charsets (latin1 labels on UTF-8, no label on 8-bit
 * text, names iconv doesn't know), and rejecting such a mail would bounce
 * an activist's message.  So the conversion never fails: declared
 * charset, else UTF-8, else windows-1252, and says when it guessed.
 */

#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "mailbridge.h"

typedef struct {
    unsigned char  *p;
    size_t          len;
    size_t          cap;
    mb_msg_t       *m;
} mb_sbuf_t;

static int mb_utf8_seq(const unsigned char *p, size_t n);
static void mb_put(mb_sbuf_t *b, const void *p, size_t n);
static void mb_put_cp(mb_sbuf_t *b, unsigned cp);
static void mb_decode_mixed(mb_sbuf_t *b, const unsigned char *p, size_t n);
static int mb_iconv(mb_sbuf_t *b, const char *charset,
    const unsigned char *p, size_t n, size_t *errors);
static tk_str_t mb_finish(mb_sbuf_t *b);
static int mb_is_charset(const char *cs, const char *const *names);

/* windows-1252 0x80..0x9F; the five holes become U+FFFD */
static const unsigned short mb_cp1252[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
    0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178
};

static const char *const mb_utf8_names[] = {
    "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us",
    NULL
};

/* labels browsers (WHATWG) decode as windows-1252: we do the same */
static const char *const mb_1252_names[] = {
    "windows-1252", "cp1252", "iso-8859-1", "iso8859-1", "latin1",
    "iso_8859-1", "l1", "x-cp1252", NULL
};


tk_str_t
mb_to_utf8(mb_msg_t *m, const char *charset, const unsigned char *p,
    size_t n, int *guessed)
{
    mb_sbuf_t   b;
    size_t      i, errors;
    int         has8 = 0, esc = 0, valid;

    b.m = m;
    b.p = NULL;
    b.len = b.cap = 0;

    for (i = 0; i < n; i++) {
        if (p[i] >= 0x80) {
            has8 = 1;
        } else if (p[i] == 0x1b || p[i] == '+' || p[i] == '~') {
            esc = 1;            /* ISO-2022-*, UTF-7, HZ are 7-bit */
        }
    }

    if (charset && *charset == '\0') {
        charset = NULL;
    }

    if (!has8 && (!esc || charset == NULL
                  || mb_is_charset(charset, mb_utf8_names)
                  || mb_is_charset(charset, mb_1252_names)))
    {
        mb_put(&b, p, n);
        return mb_finish(&b);
    }

    valid = has8 && mb_utf8_seq(p, n) == 0;

    if (charset == NULL || mb_is_charset(charset, mb_utf8_names)) {
        if (valid) {
            /* unlabelled or "us-ascii" 8-bit text that is UTF-8 */
            if (charset == NULL || strncasecmp(charset, "utf", 3) != 0) {
                *guessed = 1;
            }
            mb_put(&b, p, n);

        } else {
            *guessed = 1;
            mb_decode_mixed(&b, p, n);
        }

        return mb_finish(&b);
    }

    if (valid) {
        /* labelled latin1/KOI8/... but every byte sequence is UTF-8:
         * real 8-bit text almost never is, a mislabel almost always */
        *guessed = 1;
        mb_put(&b, p, n);
        return mb_finish(&b);
    }

    if (mb_is_charset(charset, mb_1252_names)) {
        mb_decode_mixed(&b, p, n);
        return mb_finish(&b);
    }

    errors = 0;
    if (mb_iconv(&b, charset, p, n, &errors) != 0 || errors > n / 50 + 1) {
        /* unknown or wrong label: fall back rather than print garbage */
        *guessed = 1;
        b.len = 0;
        mb_decode_mixed(&b, p, n);

    } else if (errors) {
        *guessed = 1;
    }

    return mb_finish(&b);
}


tk_str_t
mb_utf8_clean(mb_msg_t *m, const char *s)
{
    mb_sbuf_t  b;
    size_t     n;

    b.m = m;
    b.p = NULL;
    b.len = b.cap = 0;

    if (s == NULL) {
        return mb_memdup(m, "", 0);
    }

    n = strlen(s);
    if (mb_utf8_seq((const unsigned char *) s, n) == 0) {
        mb_put(&b, s, n);
    } else {
        mb_decode_mixed(&b, (const unsigned char *) s, n);
    }

    return mb_finish(&b);
}


/*
 * Returns 0 when p[0..n) is strict UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), else the offset+1 of the first
 * bad byte.
 */
static int
mb_utf8_seq(const unsigned char *p, size_t n)
{
    size_t    i = 0, k, len;
    unsigned  cp, min;

    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }

        if ((p[i] & 0xe0) == 0xc0) {
            len = 2; cp = p[i] & 0x1f; min = 0x80;
        } else if ((p[i] & 0xf0) == 0xe0) {
            len = 3; cp = p[i] & 0x0f; min = 0x800;
        } else if ((p[i] & 0xf8) == 0xf0) {
            len = 4; cp = p[i] & 0x07; min = 0x10000;
        } else {
            return (int) (i + 1 > 0x7fffffff ? 0x7fffffff : i + 1);
        }

        if (i + len > n) {
            return (int) (i + 1 > 0x7fffffff ? 0x7fffffff : i + 1);
        }

        for (k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return (int) (i + 1 > 0x7fffffff ? 0x7fffffff : i + 1);
            }
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }

        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return (int) (i + 1 > 0x7fffffff ? 0x7fffffff : i + 1);
        }

        i += len;
    }

    return 0;
}


/* Valid UTF-8 sequences stay, every other byte is read as windows-1252:
 * right for 8-bit text and for UTF-8 with a few broken bytes. */
static void
mb_decode_mixed(mb_sbuf_t *b, const unsigned char *p, size_t n)
{
    size_t  i = 0, len;

    while (i < n) {
        if (p[i] < 0x80) {
            mb_put(b, &p[i], 1);
            i++;
            continue;
        }

        len = (p[i] & 0xe0) == 0xc0 ? 2 : (p[i] & 0xf0) == 0xe0 ? 3
              : (p[i] & 0xf8) == 0xf0 ? 4 : 0;

        if (len && i + len <= n && mb_utf8_seq(&p[i], len) == 0) {
            mb_put(b, &p[i], len);
            i += len;
            continue;
        }

        mb_put_cp(b, p[i] < 0xa0 ? mb_cp1252[p[i] - 0x80] : p[i]);
        i++;
    }
}


/* Strict iconv with U+FFFD for each undecodable byte; -1: unknown. */
static int
mb_iconv(mb_sbuf_t *b, const char *charset, const unsigned char *p,
    size_t n, size_t *errors)
{
    iconv_t   cd;
    char     *in, *out, tmp[4096];
    size_t    inleft, outleft;
    size_t    r;

    cd = iconv_open("UTF-8", g_mime_charset_iconv_name(charset));
    if (cd == (iconv_t) -1) {
        return -1;
    }

    in = (char *) p;
    inleft = n;

    for ( ;; ) {
        out = tmp;
        outleft = sizeof(tmp);
        r = iconv(cd, inleft ? &in : NULL, inleft ? &inleft : NULL,
                  &out, &outleft);
        mb_put(b, tmp, sizeof(tmp) - outleft);

        if (r != (size_t) -1) {
            if (inleft == 0) {
                /* flush shift state (ISO-2022-JP) */
                out = tmp;
                outleft = sizeof(tmp);
                iconv(cd, NULL, NULL, &out, &outleft);
                mb_put(b, tmp, sizeof(tmp) - outleft);
                break;
            }
            continue;
        }

        if (errno == E2BIG) {
            continue;
        }

        /* EILSEQ or EINVAL (truncated at the end): mark, skip a byte */
        mb_put_cp(b, 0xFFFD);
        (*errors)++;
        if (inleft == 0) {
            break;
        }
        in++;
        inleft--;
        if (inleft == 0) {
            break;
        }
    }

    iconv_close(cd);
    return 0;
}


static int
mb_is_charset(const char *cs, const char *const *names)
{
    for ( ; *names; names++) {
        if (strcasecmp(cs, *names) == 0) {
            return 1;
        }
    }

    return 0;
}


static void
mb_put(mb_sbuf_t *b, const void *p, size_t n)
{
    unsigned char  *np;
    size_t          cap;

    if (n == 0) {
        return;             /* p may be NULL (an empty part) */
    }

    if (b->len + n + 1 > b->cap) {
        cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        np = mb_alloc(b->m, cap);
        if (np == NULL) {
            return;
        }
        if (b->len) {
            memcpy(np, b->p, b->len);
        }
        b->p = np;
        b->cap = cap;
    }

    memcpy(b->p + b->len, p, n);
    b->len += n;
}


static void
mb_put_cp(mb_sbuf_t *b, unsigned cp)
{
    unsigned char  u[4];

    if (cp < 0x80) {
        u[0] = (unsigned char) cp;
        mb_put(b, u, 1);
    } else if (cp < 0x800) {
        u[0] = (unsigned char) (0xc0 | (cp >> 6));
        u[1] = (unsigned char) (0x80 | (cp & 0x3f));
        mb_put(b, u, 2);
    } else {
        u[0] = (unsigned char) (0xe0 | (cp >> 12));
        u[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
        u[2] = (unsigned char) (0x80 | (cp & 0x3f));
        mb_put(b, u, 3);
    }
}


/* NULs dropped and line ends made LF: Redis and the page don't care,
 * but search snippets, quoting and tests do. */
static tk_str_t
mb_finish(mb_sbuf_t *b)
{
    tk_str_t  s;
    size_t    i, j;

    if (b->p == NULL) {
        return mb_memdup(b->m, "", 0);
    }

    for (i = 0, j = 0; i < b->len; i++) {
        if (b->p[i] == '\0') {
            continue;
        }
        if (b->p[i] == '\r') {
            if (i + 1 < b->len && b->p[i + 1] == '\n') {
                continue;
            }
            b->p[j++] = '\n';
            continue;
        }
        b->p[j++] = b->p[i];
    }

    b->p[j] = '\0';
    s.data = b->p;
    s.len = j;
    return s;
}
