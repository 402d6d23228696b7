/*
 * tk_escape.c -- the output sink and every escaping writer (tk_escape.h):
 * HTML, URL, JSON, numbers and plain-text mail bodies as HTML (times
 * are in tk_time.c).
 * Compiled templates, the JSON API and ticketctl all write through here,
 * so there is exactly one definition of "escaped".
 *
 * Writers never allocate and never need more contiguous room than the
 * sink's current chunk offers: a value is written in pieces, and more()
 * is asked for a new chunk whenever the current one is full.  Only the
 * memory sink's more() (tk_out_init_mem) calls malloc.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tk_escape.h"

#define TK_OUT_MEM_INITIAL  1024

/* U+FFFD REPLACEMENT CHARACTER, for bytes that are not UTF-8 */
#define TK_UTF8_REPLACEMENT "\xef\xbf\xbd"

static const char  tk_hex[] = "0123456789ABCDEF";

/*
 * Byte classes for the HTML writers, so the hot loops skip plain bytes
 * with one table load each and copy them as one run.  1..5 index
 * tk_html_entities; TK_C_H may start a link, TK_C_HIGH a UTF-8 sequence
 * (both only for tk_out_text_as_html).
 */
#define TK_C_H     6
#define TK_C_HIGH  7

#define TK_C_ENTITIES                                                        \
    ['&'] = 1, ['<'] = 2, ['>'] = 3, ['"'] = 4, ['\''] = 5

static const unsigned char  tk_html_class[256] = { TK_C_ENTITIES };

static const unsigned char  tk_text_class[256] = {
    TK_C_ENTITIES,
    ['h'] = TK_C_H, ['H'] = TK_C_H,
    [0x80 ... 0xff] = TK_C_HIGH
};

/* ASCII letters and digits: a link does not start after one. */
static const unsigned char  tk_alnum[256] = {
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1
};

static const struct {
    const char  *s;
    size_t       len;
} tk_html_entities[6] = {
    { NULL, 0 },
    { "&amp;", 5 }, { "&lt;", 4 }, { "&gt;", 4 }, { "&quot;", 6 },
    { "&#39;", 5 }
};

static int tk_out_more(tk_out_t *out, size_t min);
static int tk_out_mem_more(tk_out_t *out, size_t min);
static const char *tk_html_entity(unsigned char c, size_t *len);
static size_t tk_json_escape(unsigned char c, char *buf);
static size_t tk_url_length(const unsigned char *p, const unsigned char *e);
static void tk_out_link(tk_out_t *out, const unsigned char *url, size_t n);

/* ---- the sink ----------------------------------------------------------- */

/*
 * The current chunk is full: ask the sink's owner for another one of at
 * least min bytes.  A failure is sticky, so callers can write a whole
 * page and check tk_out_failed() once at the end.
 */
static int
tk_out_more(tk_out_t *out, size_t min)
{
    if (out->failed) {
        return -1;
    }

    if (out->more == NULL || out->more(out, min) != 0
        || out->pos == NULL || (size_t) (out->end - out->pos) < min)
    {
        out->failed = 1;
        return -1;
    }

    return 0;
}

/*
 * The memory sink is one growing buffer: "more" means realloc, keeping
 * what was written.  One byte past end is kept free for the NUL that
 * tk_out_mem_str() appends, so tests can compare C strings.
 */
static int
tk_out_mem_more(tk_out_t *out, size_t min)
{
    unsigned char  *mem;
    size_t          used, size;

    used = out->mem ? (size_t) (out->pos - out->mem) : 0;
    size = out->mem_size ? out->mem_size : TK_OUT_MEM_INITIAL;

    while (size - used < min + 1) {
        if (size > ((size_t) -1) / 2) {
            return -1;
        }

        size *= 2;
    }

    if (size == out->mem_size) {
        return 0;
    }

    mem = realloc(out->mem, size);
    if (mem == NULL) {
        return -1;
    }

    out->mem = mem;
    out->mem_size = size;
    out->pos = mem + used;
    out->end = mem + size - 1;

    return 0;
}

void
tk_out_init_mem(tk_out_t *out)
{
    memset(out, 0, sizeof(tk_out_t));
    out->more = tk_out_mem_more;

    if (tk_out_mem_more(out, 0) != 0) {
        out->failed = 1;
    }
}

void
tk_out_free_mem(tk_out_t *out)
{
    free(out->mem);
    memset(out, 0, sizeof(tk_out_t));
}

tk_str_t
tk_out_mem_str(tk_out_t *out)
{
    tk_str_t  s;

    if (out->mem == NULL) {
        s.len = 0;
        s.data = (unsigned char *) "";
        return s;
    }

    *out->pos = '\0';
    s.len = out->pos - out->mem;
    s.data = out->mem;

    return s;
}

/* ---- plain writers ------------------------------------------------------ */

void
tk_out_raw_more(tk_out_t *out, const void *p, size_t n)
{
    const unsigned char  *s;
    size_t                k;

    s = p;

    while (n > 0) {
        if (out->pos == out->end && tk_out_more(out, 1) != 0) {
            return;
        }

        if (out->failed) {
            return;
        }

        k = out->end - out->pos;
        if (k > n) {
            k = n;
        }

        memcpy(out->pos, s, k);
        out->pos += k;
        s += k;
        n -= k;
    }
}

void
tk_out_cstr(tk_out_t *out, const char *s)
{
    if (s) {
        tk_out_raw(out, s, strlen(s));
    }
}

void
tk_out_str(tk_out_t *out, const tk_str_t *s)
{
    if (s && s->len) {
        tk_out_raw(out, s->data, s->len);
    }
}

void
tk_out_uint(tk_out_t *out, uint64_t v)
{
    char  buf[20], *p;

    p = buf + sizeof(buf);

    do {
        *--p = (char) ('0' + v % 10);
        v /= 10;
    } while (v);

    tk_out_raw(out, p, buf + sizeof(buf) - p);
}

void
tk_out_int(tk_out_t *out, int64_t v)
{
    if (v < 0) {
        tk_out_raw(out, "-", 1);
        /* via unsigned: -INT64_MIN does not fit in int64_t */
        tk_out_uint(out, (uint64_t) 0 - (uint64_t) v);
        return;
    }

    tk_out_uint(out, (uint64_t) v);
}

/* ---- HTML --------------------------------------------------------------- */

/*
 * The five characters that can end a text node or an attribute value,
 * quoted either way.  Escaping all five everywhere means one function is
 * right in every context the templates use.
 */
static const char *
tk_html_entity(unsigned char c, size_t *len)
{
    unsigned char  k;

    k = tk_html_class[c];
    if (k == 0) {
        return NULL;
    }

    *len = tk_html_entities[k].len;
    return tk_html_entities[k].s;
}

void
tk_out_html(tk_out_t *out, const void *p, size_t n)
{
    const unsigned char  *s, *e, *run;
    unsigned char         k;

    if (out->failed || n == 0) {
        return;
    }

    s = p;
    e = s + n;
    run = s;

    for ( ;; ) {
        while (s < e && tk_html_class[*s] == 0) {
            s++;
        }

        if (s == e) {
            break;
        }

        k = tk_html_class[*s];
        tk_out_raw(out, run, s - run);
        tk_out_raw(out, tk_html_entities[k].s, tk_html_entities[k].len);
        run = ++s;
    }

    tk_out_raw(out, run, s - run);
}

size_t
tk_escape_html(unsigned char *dst, size_t size, const void *p, size_t n)
{
    const unsigned char  *s;
    const char           *entity;
    size_t                need, len, i;
    int                   full;

    s = p;
    need = 0;
    full = 0;

    for (i = 0; i < n; i++) {
        entity = tk_html_entity(s[i], &len);
        if (entity == NULL) {
            entity = (const char *) &s[i];
            len = 1;
        }

        /* stop at the first miss: no partial entity, no gaps */
        if (!full && need + len <= size) {
            memcpy(dst + need, entity, len);

        } else {
            full = 1;
        }

        need += len;
    }

    return need;
}

/* ---- URL ---------------------------------------------------------------- */

/*
 * Percent-encoding, the one implementation (templates' "| url", the
 * module's links, redirects, cid: images, Content-Disposition): the RFC
 * 3986 unreserved characters and those in keep stay, every other byte
 * becomes %XX (upper-case hex).  Like tk_escape_html: stops at the first
 * character that does not fit, returns the bytes needed (3 * n at most).
 */
size_t
tk_escape_url(unsigned char *dst, size_t size, const void *p, size_t n,
              const char *keep)
{
    const unsigned char  *s;
    unsigned char         c;
    size_t                need, i;
    int                   plain, full;

    s = p;
    need = 0;
    full = 0;

    for (i = 0; i < n; i++) {
        c = s[i];
        plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                || (c >= '0' && c <= '9') || c == '-' || c == '.'
                || c == '_' || c == '~'
                || (c != '\0' && keep != NULL && strchr(keep, c) != NULL);

        if (!full && need + (plain ? 1 : 3) <= size) {
            if (plain) {
                dst[need] = c;

            } else {
                dst[need] = '%';
                dst[need + 1] = tk_hex[c >> 4];
                dst[need + 2] = tk_hex[c & 0xf];
            }

        } else {
            full = 1;
        }

        need += plain ? 1 : 3;
    }

    return need;
}

void
tk_out_url_keep(tk_out_t *out, const void *p, size_t n, const char *keep)
{
    const unsigned char  *s;
    unsigned char         buf[3 * 256];
    size_t                chunk, len;

    s = p;

    while (n && !out->failed) {
        chunk = n < 256 ? n : 256;
        len = tk_escape_url(buf, sizeof(buf), s, chunk, keep);
        tk_out_raw(out, buf, len);
        s += chunk;
        n -= chunk;
    }
}

void
tk_out_url(tk_out_t *out, const void *p, size_t n)
{
    tk_out_url_keep(out, p, n, TK_URL_COMPONENT);
}

/* ---- UTF-8 -------------------------------------------------------------- */

/*
 * Length of the well-formed UTF-8 sequence at p (1..4), or minus the
 * length of its maximal ill-formed prefix, which is replaced by one
 * U+FFFD (the WHATWG/Unicode "maximal subpart" rule browsers use, so the
 * page shows what a browser would have shown).  Overlongs, surrogates
 * and code points above U+10FFFF are ill-formed.
 */
int
tk_utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char  c, lo, hi;
    int            need, i;

    c = p[0];
    lo = 0x80;
    hi = 0xbf;

    if (c < 0x80) {
        return 1;

    } else if (c < 0xc2) {
        return -1;

    } else if (c < 0xe0) {
        need = 1;

    } else if (c < 0xf0) {
        need = 2;
        if (c == 0xe0) {
            lo = 0xa0;
        } else if (c == 0xed) {
            hi = 0x9f;
        }

    } else if (c < 0xf5) {
        need = 3;
        if (c == 0xf0) {
            lo = 0x90;
        } else if (c == 0xf4) {
            hi = 0x8f;
        }

    } else {
        return -1;
    }

    for (i = 1; i <= need; i++) {
        if ((size_t) i >= n || p[i] < lo || p[i] > hi) {
            return -i;
        }

        lo = 0x80;
        hi = 0xbf;
    }

    return need + 1;
}

/* ---- JSON --------------------------------------------------------------- */

/*
 * Escape for one ASCII byte inside a JSON string, or 0 when it stands
 * for itself.  < > & are escaped too, so the string is safe inside an
 * HTML <script> or attribute as well.
 */
static size_t
tk_json_escape(unsigned char c, char *buf)
{
    buf[0] = '\\';

    switch (c) {
    case '"':
    case '\\':
        buf[1] = (char) c;
        return 2;
    case '\b':
        buf[1] = 'b';
        return 2;
    case '\f':
        buf[1] = 'f';
        return 2;
    case '\n':
        buf[1] = 'n';
        return 2;
    case '\r':
        buf[1] = 'r';
        return 2;
    case '\t':
        buf[1] = 't';
        return 2;
    case '<':
    case '>':
    case '&':
        break;
    default:
        if (c >= 0x20) {
            return 0;
        }
    }

    memcpy(buf + 1, "u00", 3);
    buf[4] = tk_hex[c >> 4];
    buf[5] = (char) (tk_hex[c & 0xf] | 0x20);    /* lower case: \u003c */

    return 6;
}

void
tk_out_json(tk_out_t *out, const void *p, size_t n)
{
    const unsigned char  *s, *e, *run;
    char                  esc[6];
    size_t                len;
    int                   k;

    if (out->failed) {
        return;
    }

    s = p;
    e = n ? s + n : s;      /* p may be NULL when n is 0 */
    run = s;

    tk_out_raw(out, "\"", 1);

    while (s < e) {
        if (*s < 0x80) {
            len = tk_json_escape(*s, esc);
            if (len) {
                tk_out_raw(out, run, s - run);
                tk_out_raw(out, esc, len);
                run = s + 1;
            }

            s++;
            continue;
        }

        k = tk_utf8_seq(s, e - s);

        if (k < 0) {
            tk_out_raw(out, run, s - run);
            tk_out_raw(out, TK_UTF8_REPLACEMENT, 3);
            s += -k;
            run = s;
            continue;
        }

        /* U+2028, U+2029: valid JSON, but line ends in older JavaScript */
        if (k == 3 && s[0] == 0xe2 && s[1] == 0x80
            && (s[2] == 0xa8 || s[2] == 0xa9))
        {
            tk_out_raw(out, run, s - run);
            tk_out_raw(out, s[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
            run = s + 3;
        }

        s += k;
    }

    tk_out_raw(out, run, s - run);
    tk_out_raw(out, "\"", 1);
}

/* ---- plain text as HTML ------------------------------------------------- */

/*
 * Length of the http(s) URL at p, or 0 when there is none.  The URL ends
 * at white space, a control byte, < > " ' or invalid UTF-8; trailing
 * sentence punctuation is not part of it, nor is a ")" without its "("
 * ("(see http://x/a_(b))." links http://x/a_(b)).
 */
static size_t
tk_url_length(const unsigned char *p, const unsigned char *e)
{
    const unsigned char  *s;
    size_t                prefix, len, i;
    int                   k, open;
    unsigned char         c;

    if (e - p >= 8 && strncasecmp((const char *) p, "https://", 8) == 0) {
        prefix = 8;

    } else if (e - p >= 7 && strncasecmp((const char *) p, "http://", 7) == 0) {
        prefix = 7;

    } else {
        return 0;
    }

    s = p + prefix;

    while (s < e) {
        c = *s;

        if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"'
            || c == '\'')
        {
            break;
        }

        if (c < 0x80) {
            s++;
            continue;
        }

        k = tk_utf8_seq(s, e - s);
        if (k < 0) {
            break;
        }

        s += k;
    }

    len = s - p;

    while (len > prefix) {
        c = p[len - 1];

        if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!'
            || c == '?')
        {
            len--;
            continue;
        }

        if (c == ')') {
            open = 0;
            for (i = prefix; i < len; i++) {
                open += (p[i] == '(') - (p[i] == ')');
            }

            if (open < 0) {
                len--;
                continue;
            }
        }

        break;
    }

    return len > prefix ? len : 0;
}

/* The URL is HTML-escaped in the href and as the link text. */
static void
tk_out_link(tk_out_t *out, const unsigned char *url, size_t n)
{
    static const char  rel[] = "\" rel=\"noopener noreferrer nofollow\">";

    tk_out_raw(out, "<a href=\"", 9);
    tk_out_html(out, url, n);
    tk_out_raw(out, rel, sizeof(rel) - 1);
    tk_out_html(out, url, n);
    tk_out_raw(out, "</a>", 4);
}

void
tk_out_text_as_html(tk_out_t *out, const void *p, size_t n)
{
    const unsigned char  *start, *s, *e, *run;
    size_t                len;
    int                   k;
    unsigned char         c, cls;

    if (out->failed || n == 0) {
        return;
    }

    start = p;
    s = start;
    e = s + n;
    run = s;

    while (s < e) {
        c = *s;
        cls = tk_text_class[c];

        if (cls == 0) {
            s++;
            continue;
        }

        if (cls == TK_C_H) {
            /* a link starts at a word boundary: not inside "xhttp://" */
            if (s == start || !tk_alnum[s[-1]]) {
                len = tk_url_length(s, e);
                if (len) {
                    tk_out_raw(out, run, s - run);
                    tk_out_link(out, s, len);
                    s += len;
                    run = s;
                    continue;
                }
            }

            s++;
            continue;
        }

        if (cls == TK_C_HIGH) {
            k = tk_utf8_seq(s, e - s);
            if (k > 0) {
                s += k;
                continue;
            }

            tk_out_raw(out, run, s - run);
            tk_out_raw(out, TK_UTF8_REPLACEMENT, 3);
            s += -k;
            run = s;
            continue;
        }

        tk_out_raw(out, run, s - run);
        tk_out_raw(out, tk_html_entities[cls].s, tk_html_entities[cls].len);
        s++;
        run = s;
    }

    tk_out_raw(out, run, s - run);
}


void
tk_out_msg(tk_out_t *out, const tk_msg_t *m, const tk_str_t *const *args,
    int raw)
{
    size_t               i;
    const tk_msg_seg_t  *seg;

    if (m->segs == NULL) {
        if (raw) {
            tk_out_raw(out, m->text, m->len);
        } else {
            tk_out_html(out, m->text, m->len);
        }

        return;
    }

    for (i = 0; i < m->nsegs; i++) {
        seg = &m->segs[i];

        if (seg->arg >= 0) {
            tk_out_html(out, args[seg->arg]->data, args[seg->arg]->len);
        } else if (raw) {
            tk_out_raw(out, seg->text, seg->len);
        } else {
            tk_out_html(out, seg->text, seg->len);
        }
    }
}
