/*
 * tk_search_text.c -- the texts of search hits: whether a phrase is
 * really in them (tk_search_phrases_in) and their escaped, highlighted
 * snippets (tk_search_snippet); see tk_search.h.  Words are found the
 * way tk_search.c finds them in a query.
 */

#include <string.h>

#include "tk_search.h"


#define TK_SEARCH_RUN_WORDS   32        /* words of one phrase           */
#define TK_SEARCH_WORD_MAX    64        /* bytes of a word we compare    */
#define TK_SEARCH_LEAD        80        /* snippet bytes before a match  */

/* a word to find: a prefix, or a word without its ending */
typedef struct {
    unsigned char   root[TK_SEARCH_WORD_MAX];
    size_t          len;
    int             prefix;
} tk_term_t;


static int tk_search_phrase_in(const tk_str_t *text, tk_term_t *t,
    unsigned n);
static unsigned tk_search_terms(const unsigned char *query, size_t qlen,
    tk_term_t *t, unsigned max);
static int tk_search_match(const unsigned char *p, size_t len,
    tk_term_t *t, unsigned n);
static size_t tk_search_word_end(const unsigned char *p,
    const unsigned char *end);
static size_t tk_search_utf8(const unsigned char *p, const unsigned char *end);


/* ---- phrases --------------------------------------------------------------- */

int
tk_search_phrases_in(const tk_str_t *texts, size_t n,
    const unsigned char *query, size_t qlen)
{
    size_t     i, j, start;
    unsigned   nt;
    tk_term_t  terms[TK_SEARCH_RUN_WORDS];

    for (i = 0; i < qlen; i++) {
        if (query[i] != '"') {
            continue;
        }

        start = ++i;
        while (i < qlen && query[i] != '"') {
            i++;
        }

        nt = tk_search_terms(query + start, i - start, terms,
                             TK_SEARCH_RUN_WORDS);

        for (j = 0; j < n; j++) {
            if (tk_search_phrase_in(&texts[j], terms, nt)) {
                break;
            }
        }

        if (j == n) {
            return 0;
        }
    }

    return 1;
}


/* The words t[0..n) one after the other in text (stop words skipped). */
static int
tk_search_phrase_in(const tk_str_t *text, tk_term_t *t, unsigned n)
{
    size_t                len;
    int                   quote;
    unsigned              pos;
    unsigned char         w[TK_SEARCH_WORD_MAX];
    const unsigned char  *p, *end;

    p = text->data;
    end = p + text->len;
    pos = 0;

    while (p < end && n) {
        if (!tk_search_wordc(*p) || tk_search_usep(p, end, &quote)) {
            p++;
            continue;
        }

        len = tk_search_word_end(p, end);

        /* the next word of the phrase; else a stop word inside it (they
         * have no position) is passed over -- asked only then, since
         * this runs for every word of up to a thousand mails */
        if (tk_search_match(p, len, &t[pos], 1)) {
            if (++pos == n) {
                return 1;
            }

        } else if (pos == 0 || len > TK_SEARCH_WORD_MAX
                   || (tk_utf8_lower(w, p, len), !tk_search_stopword(w, len)))
        {
            pos = tk_search_match(p, len, &t[0], 1) ? 1 : 0;
            if (pos == n) {
                return 1;
            }
        }

        p += len;
    }

    return n == 0;
}


/* ---- snippets ------------------------------------------------------------- */

int
tk_search_snippet(tk_out_t *out, const tk_str_t *text,
    const unsigned char *query, size_t qlen, size_t max)
{
    size_t               k, n, first;
    int                  quote, found, blank;
    unsigned             nterms;
    tk_term_t            terms[TK_SEARCH_TERMS_MAX * 2];
    const unsigned char *p, *end, *start, *stop;

    nterms = tk_search_terms(query, qlen, terms,
                             sizeof(terms) / sizeof(terms[0]));

    p = text->data;
    end = text->data + text->len;
    first = 0;
    found = 0;

    /* the first word that matches */
    while (p < end && nterms) {
        if (!tk_search_wordc(*p) || tk_search_usep(p, end, &quote)) {
            p++;
            continue;
        }

        n = tk_search_word_end(p, end);

        if (tk_search_match(p, n, terms, nterms)) {
            first = p - text->data;
            found = 1;
            break;
        }

        p += n;
    }

    /* from a blank some way before it, up to a blank after max bytes */
    start = text->data + (first > TK_SEARCH_LEAD ? first - TK_SEARCH_LEAD
                                                 : 0);
    if (start > text->data) {
        while (start < text->data + first && *start != ' '
               && *start != '\n')
        {
            start++;
        }
    }

    stop = start + max < end ? start + max : end;
    if (stop < end) {
        while (stop > start && *stop != ' ' && *stop != '\n') {
            stop--;
        }
        if (stop == start) {
            stop = start + max;
            while (stop < end && (*stop & 0xc0) == 0x80) {
                stop++;
            }
        }
    }

    while (start < stop && (*start == ' ' || *start == '\n'
                            || *start == '\r' || *start == '\t'))
    {
        start++;
    }

    if (start > text->data) {
        tk_out_cstr(out, "\xe2\x80\xa6");
    }

    blank = 0;

    for (p = start; p < stop; ) {

        if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') {
            if (!blank) {
                tk_out_raw(out, " ", 1);
                blank = 1;
            }
            p++;
            continue;
        }

        blank = 0;

        if (tk_search_wordc(*p) && tk_search_usep(p, stop, &quote) == 0) {
            n = tk_search_word_end(p, stop);

            if (tk_search_match(p, n, terms, nterms)) {
                tk_out_cstr(out, "<mark>");
                tk_out_html(out, p, n);
                tk_out_cstr(out, "</mark>");
                p += n;
                continue;
            }
        }

        /* one character, escaped; a broken one as U+FFFD */
        k = tk_search_utf8(p, stop);
        if (k == 0) {
            tk_out_cstr(out, "\xef\xbf\xbd");
            p++;
            continue;
        }

        if (*p < 0x20) {
            tk_out_raw(out, " ", 1);
        } else {
            tk_out_html(out, p, k);
        }

        p += k;
    }

    if (stop < end) {
        tk_out_cstr(out, "\xe2\x80\xa6");
    }

    return found;
}


/*
 * The words of a query (tk_search_parse's output) as terms to mark: a
 * prefix as it is, a word without a German or English ending, so that
 * "fristen" marks "Frist" and "Fristen" but not "Fristverlängerung".
 */
static unsigned
tk_search_terms(const unsigned char *query, size_t qlen, tk_term_t *t,
    unsigned max)
{
    size_t      i, start, n, e;
    unsigned    nt, k;
    static const char *endings[] = { "ern", "en", "er", "es", "em", "e",
                                     "n", "s" };

    nt = 0;
    i = 0;

    while (i < qlen && nt < max) {
        if (!tk_search_wordc(query[i])) {
            i++;
            continue;
        }

        start = i;
        while (i < qlen && tk_search_wordc(query[i])) {
            i++;
        }

        n = i - start;
        if (n > TK_SEARCH_WORD_MAX) {
            continue;
        }

        memcpy(t[nt].root, query + start, n);
        t[nt].prefix = (i < qlen && query[i] == '*');

        if (!t[nt].prefix) {
            for (k = 0; k < sizeof(endings) / sizeof(endings[0]); k++) {
                e = strlen(endings[k]);
                if (n >= e + 3
                    && memcmp(query + start + n - e, endings[k], e) == 0)
                {
                    n -= e;
                    break;
                }
            }
        }

        t[nt].len = n;
        nt++;
    }

    return nt;
}


/* The word p[0..len) matches a term (compared lower-cased). */
static int
tk_search_match(const unsigned char *p, size_t len, tk_term_t *t,
    unsigned n)
{
    unsigned       i;
    unsigned char  w[TK_SEARCH_WORD_MAX];

    if (len > TK_SEARCH_WORD_MAX) {
        return 0;
    }

    tk_utf8_lower(w, p, len);

    for (i = 0; i < n; i++) {
        if (len >= t[i].len && memcmp(w, t[i].root, t[i].len) == 0
            && (t[i].prefix || len - t[i].len <= 4))
        {
            return 1;
        }
    }

    return 0;
}


static size_t
tk_search_word_end(const unsigned char *p, const unsigned char *end)
{
    const unsigned char  *s;
    int                   quote;

    s = p;

    while (p < end && tk_search_wordc(*p) && tk_search_usep(p, end, &quote)
                                             == 0)
    {
        p++;
    }

    return p - s;
}


/* Length of the valid UTF-8 character at p, 0 if it is not one. */
static size_t
tk_search_utf8(const unsigned char *p, const unsigned char *end)
{
    size_t    n, i;
    uint32_t  c;

    if (*p < 0x80) {
        return 1;
    }

    if ((*p & 0xe0) == 0xc0) {
        n = 2;
        c = *p & 0x1f;
    } else if ((*p & 0xf0) == 0xe0) {
        n = 3;
        c = *p & 0x0f;
    } else if ((*p & 0xf8) == 0xf0) {
        n = 4;
        c = *p & 0x07;
    } else {
        return 0;
    }

    if ((size_t) (end - p) < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
        c = (c << 6) | (p[i] & 0x3f);
    }

    if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800)
        || (n == 4 && (c < 0x10000 || c > 0x10ffff))
        || (c >= 0xd800 && c <= 0xdfff))
    {
        return 0;
    }

    return n;
}
