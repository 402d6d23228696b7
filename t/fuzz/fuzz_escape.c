/*
 * fuzz_escape.c -- libFuzzer target: the template escapes of
 * redis-schema/support/tk_escape.c on arbitrary bytes, with properties
 * that make an escape useful, not only crash-free:
 *   tk_out_html      no < > " ' left, every & starts an entity we wrote;
 *   tk_out_url       only unreserved bytes and %XX;
 *   tk_out_json      one valid JSON string (RFC 8259) that decodes back
 *                    to the input when the input is valid UTF-8;
 *   tk_escape_html   the same bytes as tk_out_html, size reported right;
 *   tk_out_text_as_html  no < > outside the tags it writes itself.
 * A violated property abort()s, which libFuzzer records as a crash.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk_escape.h"

#define CHECK(cond, what)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "property violated: %s\n", what);              \
            abort();                                                        \
        }                                                                   \
    } while (0)


static void
check_html(const unsigned char *p, size_t n)
{
    static const char *const ent[] = { "&amp;", "&lt;", "&gt;", "&quot;",
                                       "&#39;", "&#x27;", "&#34;", NULL };
    size_t  i;
    int     k, ok;

    for (i = 0; i < n; i++) {
        CHECK(p[i] != '<' && p[i] != '>' && p[i] != '"' && p[i] != '\'',
              "html: < > \" ' in escaped output");
        if (p[i] == '&') {
            ok = 0;
            for (k = 0; ent[k]; k++) {
                size_t l = strlen(ent[k]);
                if (n - i >= l && memcmp(p + i, ent[k], l) == 0) {
                    ok = 1;
                }
            }
            CHECK(ok, "html: bare & in escaped output");
        }
    }
}


static int
hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}


static void
check_url(const unsigned char *p, size_t n, const unsigned char *in,
    size_t inlen)
{
    size_t  i, o = 0;
    int     c;

    for (i = 0; i < n; i++) {
        if (p[i] == '%') {
            CHECK(n - i >= 3 && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0,
                  "url: % not followed by two hex digits");
            c = hexval(p[i + 1]) * 16 + hexval(p[i + 2]);
            i += 2;
        } else {
            CHECK((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
                  || (p[i] >= '0' && p[i] <= '9') || strchr("-._~", p[i]),
                  "url: reserved or unsafe byte left unescaped");
            c = p[i];
        }
        CHECK(o < inlen && in[o] == c, "url: does not decode to the input");
        o++;
    }
    CHECK(o == inlen, "url: decoded length differs");
}


/* UTF-8 validity of the input (JSON passes it through, or replaces). */
static int
utf8_valid(const unsigned char *p, size_t n)
{
    size_t  i = 0, k, len;
    unsigned cp;

    while (i < n) {
        if (p[i] < 0x80) { i++; continue; }
        if ((p[i] & 0xe0) == 0xc0) { len = 2; cp = p[i] & 0x1f; }
        else if ((p[i] & 0xf0) == 0xe0) { len = 3; cp = p[i] & 0x0f; }
        else if ((p[i] & 0xf8) == 0xf0) { len = 4; cp = p[i] & 0x07; }
        else return 0;
        if (n - i < len) return 0;
        for (k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800)
            || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
            || (cp >= 0xd800 && cp <= 0xdfff))
        {
            return 0;
        }
        i += len;
    }
    return 1;
}


/* RFC 8259 string grammar; decodes into out (NULL: only check). */
static void
check_json(const unsigned char *p, size_t n, const unsigned char *in,
    size_t inlen)
{
    unsigned char  *dec;
    size_t          i, o = 0;
    unsigned        cp;
    int             k, h;

    CHECK(n >= 2 && p[0] == '"' && p[n - 1] == '"', "json: not quoted");
    CHECK(utf8_valid(p, n), "json: output is not valid UTF-8");

    dec = malloc(n * 2 + 8);

    for (i = 1; i < n - 1; i++) {
        CHECK(p[i] >= 0x20, "json: raw control character");
        CHECK(p[i] != '"', "json: unescaped quote inside the string");
        /* safe inside <script> and HTML attributes, too */
        CHECK(p[i] != '<' && p[i] != '>' && p[i] != '&',
              "json: raw < > & (script-context unsafe)");
        if (p[i] != '\\') {
            dec[o++] = p[i];
            continue;
        }
        CHECK(i + 1 < n - 1, "json: backslash at the end");
        i++;
        switch (p[i]) {
        case '"': dec[o++] = '"'; break;
        case '\\': dec[o++] = '\\'; break;
        case '/': dec[o++] = '/'; break;
        case 'b': dec[o++] = '\b'; break;
        case 'f': dec[o++] = '\f'; break;
        case 'n': dec[o++] = '\n'; break;
        case 'r': dec[o++] = '\r'; break;
        case 't': dec[o++] = '\t'; break;
        case 'u':
            CHECK(i + 4 < n - 1, "json: short \\u escape");
            cp = 0;
            for (k = 1; k <= 4; k++) {
                h = hexval(p[i + k]);
                CHECK(h >= 0, "json: bad hex in \\u escape");
                cp = cp * 16 + (unsigned) h;
            }
            i += 4;
            /* the escaper writes \u only for control and line-separator
             * characters, never surrogates */
            CHECK(cp < 0xd800 || cp > 0xdfff, "json: lone surrogate escape");
            if (cp < 0x80) {
                dec[o++] = (unsigned char) cp;
            } else if (cp < 0x800) {
                dec[o++] = 0xc0 | (cp >> 6);
                dec[o++] = 0x80 | (cp & 0x3f);
            } else {
                dec[o++] = 0xe0 | (cp >> 12);
                dec[o++] = 0x80 | ((cp >> 6) & 0x3f);
                dec[o++] = 0x80 | (cp & 0x3f);
            }
            break;
        default:
            CHECK(0, "json: unknown escape");
        }
    }

    if (utf8_valid(in, inlen)) {
        CHECK(o == inlen && memcmp(dec, in, o) == 0,
              "json: valid UTF-8 input does not round-trip");
    }

    free(dec);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tk_out_t        out;
    tk_str_t        s;
    unsigned char  *buf;
    size_t          need;

    /* tk_out_html and tk_escape_html (attribute and text contexts) */
    tk_out_init_mem(&out);
    tk_out_html(&out, data, size);
    s = tk_out_mem_str(&out);
    check_html(s.data, s.len);

    need = tk_escape_html(NULL, 0, data, size);
    CHECK(need == s.len, "tk_escape_html: size differs from tk_out_html");
    buf = malloc(need + 1);
    CHECK(tk_escape_html(buf, need + 1, data, size) == need,
          "tk_escape_html: size changes with the buffer");
    CHECK(memcmp(buf, s.data, need) == 0,
          "tk_escape_html: bytes differ from tk_out_html");
    if (need > 1) {
        /* a short buffer: never written past */
        tk_escape_html(buf, need / 2, data, size);
    }
    free(buf);
    tk_out_free_mem(&out);

    tk_out_init_mem(&out);
    tk_out_url(&out, data, size);
    s = tk_out_mem_str(&out);
    check_url(s.data, s.len, data, size);
    tk_out_free_mem(&out);

    tk_out_init_mem(&out);
    tk_out_json(&out, data, size);
    s = tk_out_mem_str(&out);
    check_json(s.data, s.len, data, size);
    tk_out_free_mem(&out);

    /* text mail to HTML: what it writes is ours, the rest escaped */
    tk_out_init_mem(&out);
    tk_out_text_as_html(&out, data, size);
    s = tk_out_mem_str(&out);
    {
        size_t i;
        for (i = 0; i < s.len; i++) {
            if (s.data[i] == '<') {
                CHECK((s.len - i >= 9 && memcmp(s.data + i, "<a href=\"", 9) == 0)
                      || (s.len - i >= 4 && memcmp(s.data + i, "</a>", 4) == 0),
                      "text_as_html: a < that is not our own link");
            }
            if (s.data[i] == '"' || s.data[i] == '\'') {
                /* quotes appear only inside our own <a ...> tag */
                const unsigned char *lt = s.data + i;
                while (lt > s.data && *lt != '<' && *lt != '>') lt--;
                CHECK(*lt == '<', "text_as_html: a quote outside a tag");
            }
        }
    }
    tk_out_free_mem(&out);

    return 0;
}
