/*
 * tk_search.c -- the search box's text as a RediSearch 1.2 query (see
 * tk_search.h; phrases and snippets of the hits: tk_search_text.c).  The
 * query is built from scratch out of the words found in the text, never
 * by escaping it: what is not a word character cannot reach RediSearch's
 * parser.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tk_schema.h"
#include "tk_search.h"


#define TK_SEARCH_RUN_WORDS   32        /* words of one phrase or run    */

typedef struct {
    size_t          off;
    size_t          len;
} tk_word_t;

typedef struct {
    unsigned char  *out;
    size_t          size;
    size_t          len;
    int             failed;
} tk_qbuf_t;


static uint64_t tk_search_ticket(const unsigned char *p, size_t len);
static void tk_search_emit(tk_qbuf_t *b, const unsigned char *s,
    tk_word_t *w, unsigned n, int prefix, tk_search_query_t *q);
static void tk_qbuf_add(tk_qbuf_t *b, const void *p, size_t n);
static size_t tk_search_chars(const unsigned char *p, size_t len);


/* ---- the query ----------------------------------------------------------- */

int
tk_search_parse(const unsigned char *in, size_t len, unsigned char *out,
    size_t size, tk_search_query_t *q)
{
    size_t          i, n, k, start;
    int             quote, prefix;
    unsigned        nw;
    unsigned char   s[TK_SEARCH_INPUT_MAX];
    tk_word_t       w[TK_SEARCH_RUN_WORDS];
    tk_qbuf_t       b;

    memset(q, 0, sizeof(*q));

    /* cut at a character boundary: a broken last character would become
     * a word of its own */
    if (len > TK_SEARCH_INPUT_MAX) {
        len = TK_SEARCH_INPUT_MAX;
        while (len > 0 && (in[len] & 0xc0) == 0x80) {
            len--;
        }
    }

    q->ticket = tk_search_ticket(in, len);

    tk_utf8_lower(s, in, len);

    b.out = out;
    b.size = size;
    b.len = 0;
    b.failed = 0;

    i = 0;

    while (i < len && q->terms < TK_SEARCH_TERMS_MAX) {

        n = tk_search_usep(s + i, s + len, &quote);

        if (quote) {
            /* a phrase: words up to the closing quote (or the end) */
            i += n;
            nw = 0;

            while (i < len) {
                n = tk_search_usep(s + i, s + len, &quote);
                if (quote) {
                    i += n;
                    break;
                }

                if (n || !tk_search_wordc(s[i])) {
                    i += n ? n : 1;
                    continue;
                }

                start = i;
                while (i < len && tk_search_wordc(s[i])
                       && tk_search_usep(s + i, s + len, &quote) == 0)
                {
                    i++;
                }

                if (nw < TK_SEARCH_RUN_WORDS) {
                    w[nw].off = start;
                    w[nw].len = i - start;
                    nw++;
                }
            }

            tk_search_emit(&b, s, w, nw, 0, q);
            continue;
        }

        if (n || s[i] == ' ' || s[i] == '\t' || s[i] == '\r'
            || s[i] == '\n' || s[i] == '"')
        {
            i += n ? n : 1;
            continue;
        }

        /* a run of anything but blanks and quotes: its words */
        nw = 0;
        prefix = 0;

        while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r'
               && s[i] != '\n' && s[i] != '"')
        {
            k = tk_search_usep(s + i, s + len, &quote);
            if (quote) {
                break;
            }

            if (k || !tk_search_wordc(s[i])) {
                /* '*' right after a word that ends the run */
                prefix = (s[i] == '*' && i > 0 && tk_search_wordc(s[i - 1]));
                i += k ? k : 1;
                continue;
            }

            prefix = 0;
            start = i;

            while (i < len && tk_search_wordc(s[i])
                   && tk_search_usep(s + i, s + len, &quote) == 0)
            {
                i++;
            }

            if (nw < TK_SEARCH_RUN_WORDS) {
                w[nw].off = start;
                w[nw].len = i - start;
                nw++;
            }
        }

        tk_search_emit(&b, s, w, nw, prefix && nw == 1, q);
    }

    if (b.failed) {
        q->len = 0;
        q->terms = 0;
        return -1;
    }

    q->len = b.len;

    return 0;
}


/*
 * One term: a word, a prefix or a phrase of the words w (stop words left
 * out; a prefix keeps its word, "die*" is no stop word).
 */
static void
tk_search_emit(tk_qbuf_t *b, const unsigned char *s, tk_word_t *w,
    unsigned n, int prefix, tk_search_query_t *q)
{
    unsigned  i, kept;

    if (prefix && tk_search_chars(s + w[0].off, w[0].len)
                  < TK_SEARCH_PREFIX_MIN)
    {
        prefix = 0;
    }

    kept = 0;

    for (i = 0; i < n; i++) {
        if (!prefix && tk_search_stopword(s + w[i].off, w[i].len)) {
            q->dropped++;
            continue;
        }

        w[kept++] = w[i];
    }

    if (kept == 0) {
        return;
    }

    if (b->len) {
        tk_qbuf_add(b, " ", 1);
    }

    if (kept > 1) {
        tk_qbuf_add(b, "\"", 1);
    }

    for (i = 0; i < kept; i++) {
        if (i) {
            tk_qbuf_add(b, " ", 1);
        }
        tk_qbuf_add(b, s + w[i].off, w[i].len);
    }

    if (kept > 1) {
        tk_qbuf_add(b, "\"", 1);
        q->phrases++;

    } else if (prefix) {
        tk_qbuf_add(b, "*", 1);
    }

    q->terms++;
}


static void
tk_qbuf_add(tk_qbuf_t *b, const void *p, size_t n)
{
    if (b->failed || b->size - b->len < n) {
        b->failed = 1;
        return;
    }

    memcpy(b->out + b->len, p, n);
    b->len += n;
}


/* A word character of RediSearch's tokenizer (after lower-casing). */
int
tk_search_wordc(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'
           || (c >= 'A' && c <= 'Z') || c >= 0x80;
}


/*
 * Unicode punctuation that separates words in a query although the
 * index keeps it inside tokens (German quotes, dashes, NBSP, ellipsis):
 * its length in bytes, 0 for anything else; *quote is set for quotes,
 * which open and close phrases like '"'.
 */
size_t
tk_search_usep(const unsigned char *p, const unsigned char *end, int *quote)
{
    *quote = 0;

    if (*p == '"') {
        *quote = 1;
        return 1;
    }

    if (end - p >= 2 && p[0] == 0xc2
        && (p[1] == 0xa0 || p[1] == 0xab || p[1] == 0xbb))
    {
        return 2;                               /* NBSP « » */
    }

    if (end - p >= 3 && p[0] == 0xe2 && p[1] == 0x80) {
        switch (p[2]) {
        case 0x9c: case 0x9d: case 0x9e:        /* “ ” „ */
            *quote = 1;
            return 3;
        case 0x93: case 0x94: case 0x98: case 0x99: case 0x9a: case 0xa6:
            return 3;                           /* – — ‘ ’ ‚ … */
        }
    }

    return 0;
}


/*
 * The stop words once as a table sorted by length and bytes, for a
 * binary search: a phrase check looks up every word of up to a thousand
 * mails.  Built on first use (nginx workers have one thread; a second
 * thread building it at the same time writes the same values).
 */
#define TK_SEARCH_STOPWORDS_MAX  256

static tk_str_t  tk_search_sw[TK_SEARCH_STOPWORDS_MAX];
static size_t    tk_search_nsw;

static int
tk_search_sw_cmp(const void *a, const void *b)
{
    const tk_str_t  *x = a, *y = b;

    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }

    return memcmp(x->data, y->data, x->len);
}


int
tk_search_stopword(const unsigned char *w, size_t len)
{
    const char  *p, *e;
    tk_str_t     key;
    size_t       n, i, j;

    if (tk_search_nsw == 0) {
        n = 0;
        for (p = TK_FT_STOPWORDS; *p && n < TK_SEARCH_STOPWORDS_MAX; ) {
            e = strchr(p, ' ');
            if (e == NULL) {
                e = p + strlen(p);
            }

            tk_search_sw[n].data = (unsigned char *) p;
            tk_search_sw[n].len = e - p;
            n++;
            p = *e ? e + 1 : e;
        }

        /* insertion sort: qsort may malloc, and this runs on a request */
        for (i = 1; i < n; i++) {
            key = tk_search_sw[i];
            for (j = i; j > 0 && tk_search_sw_cmp(&tk_search_sw[j - 1], &key)
                                 > 0; j--)
            {
                tk_search_sw[j] = tk_search_sw[j - 1];
            }
            tk_search_sw[j] = key;
        }

        tk_search_nsw = n;
    }

    key.data = (unsigned char *) w;
    key.len = len;

    return bsearch(&key, tk_search_sw, tk_search_nsw, sizeof(tk_str_t),
                   tk_search_sw_cmp) != NULL;
}


/* "42", "#42", "Ticket#42", "ticket #42" (blanks around): 42, else 0. */
static uint64_t
tk_search_ticket(const unsigned char *p, size_t len)
{
    size_t     i, digits;
    uint64_t   n;

    i = 0;

    while (i < len && (p[i] == ' ' || p[i] == '\t')) {
        i++;
    }

    if (len - i >= 6 && strncasecmp((const char *) p + i, "ticket", 6) == 0) {
        i += 6;
        while (i < len && p[i] == ' ') {
            i++;
        }
    }

    if (i < len && p[i] == '#') {
        i++;
    }

    if (i >= len || p[i] < '1' || p[i] > '9') {
        return 0;
    }

    n = 0;
    digits = 0;

    while (i < len && p[i] >= '0' && p[i] <= '9') {
        if (++digits > 18) {
            return 0;
        }
        n = n * 10 + (p[i++] - '0');
    }

    while (i < len && (p[i] == ' ' || p[i] == '\t')) {
        i++;
    }

    return i == len ? n : 0;
}


/* Characters (not bytes) of UTF-8. */
static size_t
tk_search_chars(const unsigned char *p, size_t len)
{
    size_t  i, n;

    for (i = 0, n = 0; i < len; i++) {
        n += ((p[i] & 0xc0) != 0x80);
    }

    return n;
}


size_t
tk_search_tag(unsigned char *dst, const unsigned char *name, size_t len)
{
    size_t         i;
    unsigned char  c, *p;

    p = dst;

    for (i = 0; i < len; i++) {
        c = name[i];

        if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                          || (c >= '0' && c <= '9')))
        {
            *p++ = '\\';
        }

        *p++ = c;
    }

    return p - dst;
}
