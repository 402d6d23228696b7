/*
 * tk_search.h -- what a user types into the search box, made into a
 * RediSearch 1.2 query for tk:ft:articles (SCHEMA.md "Full text"), and
 * the highlighted, escaped snippet of a hit.  No I/O, no allocation: the
 * module (ngx_http_ticket_search.c) sends the query and renders the
 * snippets; t/unit/test_search.c pins the rules.
 *
 * The query only ever holds words made of [a-z0-9_] and bytes >= 0x80
 * (lower-cased with tk_utf8_lower, like the index), spaces, '"' around
 * phrases and '*' after a prefix: nothing the user types can add an
 * operator, a field ("@group:{x}"), a negation or an alternative, so the
 * rights filter the module puts in front of it stays what it is.
 */

#ifndef TK_SEARCH_H
#define TK_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "tk_escape.h"
#include "tk_str.h"

/* Bytes of the user's text considered (the rest is ignored). */
#define TK_SEARCH_INPUT_MAX   256
/* Words and phrases kept; more are ignored. */
#define TK_SEARCH_TERMS_MAX   16
/* Size of the buffer tk_search_parse() needs for its output. */
#define TK_SEARCH_OUT_MAX     (3 * TK_SEARCH_INPUT_MAX + 8)
/* A prefix ("frist*") needs this many characters before the '*'. */
#define TK_SEARCH_PREFIX_MIN  3

typedef struct {
    size_t       len;       /* bytes of the query written to out       */
    unsigned     terms;     /* words, prefixes and phrases in it       */
    unsigned     phrases;   /* of which phrases                        */
    unsigned     dropped;   /* stop words left out                     */
    uint64_t     ticket;    /* "42", "#42", "Ticket#42": 42; else 0    */
} tk_search_query_t;

/*
 * The user's text (UTF-8, any length) as a query into out (at least
 * TK_SEARCH_OUT_MAX bytes).  Rules:
 *   - lower-cased (tk_utf8_lower); bytes other than [a-z0-9_] and UTF-8
 *     (>= 0x80) separate words, as RediSearch's tokenizer does; a few
 *     Unicode punctuation marks (German quotes, dashes, NBSP) too;
 *   - "..." is a phrase: its words in this order, stop words left out
 *     (a stop word inside quotes is a syntax error in RediSearch 1.2);
 *   - a run like "10010/26" or "legal-aid" is the phrase of its words;
 *   - "frist*" is a prefix (at least TK_SEARCH_PREFIX_MIN characters);
 *   - other stop words are left out; every term must match (AND).
 * q->terms is 0 when nothing searchable is left.  Returns 0, or -1 when
 * out is too small (never with TK_SEARCH_OUT_MAX).
 */
int tk_search_parse(const unsigned char *in, size_t len, unsigned char *out,
    size_t size, tk_search_query_t *q);

/*
 * Every phrase of query (tk_search_parse's output) occurs in one of the
 * n texts, word after word; stop words in the text are skipped (the
 * index gives them no position), words compare like the snippet's marks.
 * Needed because RediSearch 1.2 checks a phrase's word positions only
 * when the phrase drives the query's intersection: next to the group
 * filter, "vermieter ärger" also finds "Ärger mit dem Vermieter" and
 * mails with both words anywhere (t/search.t pins it).  1 or 0; 1 when
 * the query has no phrase.
 */
int tk_search_phrases_in(const tk_str_t *texts, size_t n,
    const unsigned char *query, size_t qlen);

/* w (lower case) is one of TK_FT_STOPWORDS. */
int tk_search_stopword(const unsigned char *w, size_t len);

/*
 * A group name as a TAG value inside "@group:{...}": every ASCII byte
 * but [A-Za-z0-9] escaped with '\' ("legal-aid" -> "legal\-aid").  dst
 * has room for 2 * len bytes; returns the bytes written.
 */
size_t tk_search_tag(unsigned char *dst, const unsigned char *name,
    size_t len);

/*
 * A snippet of text for a result list, as HTML: about max bytes around
 * the first word that matches a term of query (the output of
 * tk_search_parse), every matching word in <mark>...</mark>, everything
 * escaped (tk_out_html), white space folded into one blank, invalid
 * UTF-8 replaced by U+FFFD, "…" where text was cut.  A word matches a
 * term when it starts with it (a prefix term), or equals it give or take
 * a German/English ending ("Fristen" ~ "frist"), like the stemmer.
 * Returns 1 when a word matched, 0 when not (then the snippet is the
 * start of text).
 */
int tk_search_snippet(tk_out_t *out, const tk_str_t *text,
    const unsigned char *query, size_t qlen, size_t max);

/* Shared by tk_search.c and tk_search_text.c: a word character of
 * RediSearch's tokenizer; the length of Unicode punctuation that
 * separates words (*quote: it opens or closes a phrase), else 0. */
int tk_search_wordc(unsigned char c);
size_t tk_search_usep(const unsigned char *p, const unsigned char *end,
    int *quote);

#endif /* TK_SEARCH_H */
