/*
 * test_search.c -- specification of redis-schema/tk_search.c: the search
 * box's text as a RediSearch 1.2 query (lower-casing, what becomes a
 * phrase or a prefix, stop words, syntax characters that must never
 * reach the query, ticket numbers), group names as TAG values, and the
 * escaped, highlighted snippets.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tk_search.h"


static unsigned char  qbuf[TK_SEARCH_OUT_MAX + 1];
static tk_search_query_t  q;

/* The query made of text, as a C string. */
static const char *
parse(const char *text)
{
    assert_int_equal(tk_search_parse((const unsigned char *) text,
                                     strlen(text), qbuf, TK_SEARCH_OUT_MAX,
                                     &q), 0);
    qbuf[q.len] = '\0';
    return (const char *) qbuf;
}


static void
test_lower_case(void **state)
{
    assert_string_equal(parse("Frist"), "frist");
    assert_string_equal(parse("ÄRGER Öl ÜBER-Straße"),
                        "ärger öl straße"); /* "über": a stop word */
    assert_string_equal(parse("ÜBERWEISUNG"), "überweisung");
    assert_string_equal(parse("Ärger mit der POLIZEI"), "ärger polizei");
    assert_int_equal(q.terms, 2);
    assert_int_equal(q.dropped, 2);           /* mit, der */
}


static void
test_syntax_characters(void **state)
{
    /* a field, a tag, alternatives, negation: only words survive */
    assert_string_equal(parse("@group:{geheim} frist"),
                        "\"group geheim\" frist");
    assert_string_equal(parse("-frist"), "frist");
    assert_string_equal(parse("frist | geheim"), "frist geheim");
    assert_string_equal(parse("a|b"), "b");   /* "a" is a stop word */
    assert_string_equal(parse("(frist) ~geheim"), "frist geheim");
    assert_string_equal(parse("@ticket:[1 99]"), "\"ticket 1\" 99");
    assert_string_equal(parse("x\\y} {"), "\"x y\"");
    assert_string_equal(parse("%frist% $x ^y 'z'"), "frist x y z");
    assert_string_equal(parse("}{)(|-@:~*\"\""), "");
    assert_int_equal(q.terms, 0);

    /* whatever comes in, the output has only these bytes */
    {
        const char    *in = "@group:{legal|also} -(x) \"a \\\" b\" ;\n%{";
        size_t         i;

        parse(in);
        for (i = 0; i < q.len; i++) {
            assert_true((qbuf[i] >= 'a' && qbuf[i] <= 'z')
                        || (qbuf[i] >= '0' && qbuf[i] <= '9')
                        || qbuf[i] == '_' || qbuf[i] == ' '
                        || qbuf[i] == '"' || qbuf[i] == '*'
                        || qbuf[i] >= 0x80);
        }
    }
}


static void
test_phrases(void **state)
{
    assert_string_equal(parse("\"an die Polizei\""), "polizei");
    assert_string_equal(parse("\"Polizei hat uns nach ungefähr\""),
                        "\"polizei ungefähr\"");
    assert_string_equal(parse("\"die der das\""), "");
    assert_int_equal(q.terms, 0);
    assert_int_equal(q.dropped, 3);
    /* an open quote runs to the end; '*' in a phrase is no prefix */
    assert_string_equal(parse("frist \"einspruch einlegen*"),
                        "frist \"einspruch einlegen\"");
    /* German quotes are quotes */
    assert_string_equal(parse("\xe2\x80\x9e" "Frist verlängert"
                              "\xe2\x80\x9c"),
                        "\"frist verlängert\"");
    /* a run with punctuation inside is the phrase of its words */
    assert_string_equal(parse("Js 10010/26"), "js \"10010 26\"");
    assert_string_equal(parse("legal-aid"), "\"legal aid\"");
    assert_string_equal(parse("aylin.ostnodorf@posteo.example"),
                        "\"aylin ostnodorf posteo example\"");
}


static void
test_prefix(void **state)
{
    assert_string_equal(parse("frist*"), "frist*");
    assert_string_equal(parse("Frist* Ärg*"), "frist* ärg*");
    /* too short for a prefix: the word itself */
    assert_string_equal(parse("fr*"), "fr");
    /* a stop word with a '*' is a prefix, not a stop word */
    assert_string_equal(parse("die*"), "die*");
    assert_string_equal(parse("fr*ost"), "\"fr ost\"");
    assert_string_equal(parse("**"), "");
}


static void
test_stop_words(void **state)
{
    assert_true(tk_search_stopword((const unsigned char *) "die", 3));
    assert_true(tk_search_stopword((const unsigned char *) "f\xc3\xbcr", 4));
    assert_true(tk_search_stopword((const unsigned char *) "just", 4));
    assert_false(tk_search_stopword((const unsigned char *) "nicht", 5));
    assert_false(tk_search_stopword((const unsigned char *) "also", 4));
    assert_false(tk_search_stopword((const unsigned char *) "di", 2));
    assert_string_equal(parse("Die Frist für den Einspruch"),
                        "frist einspruch");
}


static void
test_ticket_numbers(void **state)
{
    parse("42");
    assert_int_equal(q.ticket, 42);
    assert_string_equal((char *) qbuf, "42");
    parse(" #42 ");
    assert_int_equal(q.ticket, 42);
    parse("Ticket#1234");
    assert_int_equal(q.ticket, 1234);
    parse("ticket #7");
    assert_int_equal(q.ticket, 7);
    parse("042");
    assert_int_equal(q.ticket, 0);
    parse("42 frist");
    assert_int_equal(q.ticket, 0);
    parse("10010/26");
    assert_int_equal(q.ticket, 0);
    parse("1234567890123456789");
    assert_int_equal(q.ticket, 0);
}


static void
test_limits(void **state)
{
    char    big[TK_SEARCH_INPUT_MAX * 2 + 1];
    size_t  i;

    /* "ab ab ab ...": at most TK_SEARCH_TERMS_MAX terms */
    for (i = 0; i + 3 <= sizeof(big) - 1; i += 3) {
        memcpy(big + i, "ab ", 3);
    }
    big[i] = '\0';
    parse(big);
    assert_int_equal(q.terms, TK_SEARCH_TERMS_MAX);

    /* a long word of umlauts is cut at a character boundary */
    for (i = 0; i + 2 <= sizeof(big) - 1; i += 2) {
        memcpy(big + i, "\xc3\x84", 2);
    }
    big[i] = '\0';
    parse(big + 1);                     /* starts mid-character */
    assert_true(q.len <= TK_SEARCH_INPUT_MAX);

    /* too small an output buffer fails cleanly */
    assert_int_equal(tk_search_parse((const unsigned char *) "frist", 5,
                                     qbuf, 3, &q), -1);
    assert_int_equal(q.terms, 0);
}


static void
test_tag(void **state)
{
    unsigned char  out[64];
    size_t         n;

    n = tk_search_tag(out, (const unsigned char *) "legal-aid", 9);
    assert_int_equal(n, 10);
    assert_memory_equal(out, "legal\\-aid", 10);

    n = tk_search_tag(out, (const unsigned char *) "ALSO", 4);
    assert_memory_equal(out, "ALSO", n);

    n = tk_search_tag(out, (const unsigned char *) "a|b)@x.y", 8);
    assert_int_equal(n, 12);
    assert_memory_equal(out, "a\\|b\\)\\@x\\.y", 12);
}


static int
phrase_in(const char *text, const char *query)
{
    tk_str_t  t[2];

    t[0].data = (unsigned char *) "nothing here";
    t[0].len = 12;
    t[1].data = (unsigned char *) text;
    t[1].len = strlen(text);
    parse(query);

    return tk_search_phrases_in(t, 2, qbuf, q.len);
}


static void
test_phrase_check(void **state)
{
    const char  *mail = "Wir haben Fristverlängerung beantragt.\n"
                        "Viel Ärger mit dem Vermieter.";

    assert_true(phrase_in(mail, "\"Ärger mit dem Vermieter\""));
    assert_int_equal(q.phrases, 1);
    assert_true(phrase_in(mail, "\"ärger vermieter\" frist"));
    assert_false(phrase_in(mail, "\"vermieter ärger\""));
    assert_false(phrase_in(mail, "\"vermieter beantragt\""));
    assert_true(phrase_in(mail, "\"fristverlängerung beantragt\" "
                                "\"viel ärger\""));
    assert_false(phrase_in(mail, "\"fristverlängerung beantragt\" "
                                 "\"ärger viel\""));
    /* stemmed forms, like the index; no phrase: nothing to check */
    assert_true(phrase_in("Die Fristen laufen ab", "\"frist laufen\""));
    assert_true(phrase_in(mail, "vermieter ärger"));
    assert_int_equal(q.phrases, 0);
    /* a run with punctuation is a phrase too */
    assert_true(phrase_in("Az. 231 Js 10010/26", "10010/26"));
    assert_false(phrase_in("Az. 231 Js 26/10010", "10010/26"));
}


/* snippet of text for query as a C string (malloc'd sink) */
static char  snip[4096];
static int   snip_found;

static const char *
snippet(const char *text, const char *query, size_t max)
{
    tk_out_t   out;
    tk_str_t   t, s;

    t.data = (unsigned char *) text;
    t.len = strlen(text);
    parse(query);

    tk_out_init_mem(&out);
    snip_found = tk_search_snippet(&out, &t, qbuf, q.len, max);
    assert_false(tk_out_failed(&out));
    s = tk_out_mem_str(&out);
    assert_true(s.len < sizeof(snip));
    memcpy(snip, s.data, s.len);
    snip[s.len] = '\0';
    tk_out_free_mem(&out);

    return snip;
}


static void
test_snippet_escaping(void **state)
{
    assert_string_equal(snippet("Hallo <script>alert(1)</script> Frist",
                                "frist", 200),
                        "Hallo &lt;script&gt;alert(1)&lt;/script&gt; "
                        "<mark>Frist</mark>");
    assert_true(snip_found);
    /* a match inside markup-like text is escaped inside the mark */
    assert_string_equal(snippet("<b>Frist</b>", "b", 200),
                        "&lt;<mark>b</mark>&gt;Frist&lt;/<mark>b</mark>&gt;");
    assert_string_equal(snippet("\"a\" & 'b'", "zzz", 200),
                        "&quot;a&quot; &amp; &#39;b&#39;");
    assert_false(snip_found);
}


static void
test_snippet_marks(void **state)
{
    assert_string_equal(snippet("Die Fristen und die Frist, keine "
                                "Fristverlängerung.", "fristen", 200),
                        "Die <mark>Fristen</mark> und die "
                        "<mark>Frist</mark>, keine Fristverlängerung.");
    assert_string_equal(snippet("Fristverlängerung beantragt", "frist*",
                                200),
                        "<mark>Fristverlängerung</mark> beantragt");
    assert_string_equal(snippet("Viel ÄRGER mit Ärger", "ärger", 200),
                        "Viel <mark>ÄRGER</mark> mit <mark>Ärger</mark>");
    /* white space folded, control bytes blanked, bad UTF-8 replaced */
    assert_string_equal(snippet("a\n\n  b\x01" "c \xff d", "zzz", 200),
                        "a b c \xef\xbf\xbd d");
}


static void
test_snippet_window(void **state)
{
    char         text[2000];
    const char  *s;
    size_t       i;

    /* the match is far in: the snippet starts before it, with "…" */
    for (i = 0; i < 1000; i += 5) {
        memcpy(text + i, "blah ", 5);
    }
    strcpy(text + 1000, "Gewahrsam ");
    for (i = 1010; i < 1990; i += 5) {
        memcpy(text + i, "blah ", 5);
    }
    text[1990] = '\0';

    s = snippet(text, "gewahrsam", 200);
    assert_true(snip_found);
    assert_memory_equal(s, "\xe2\x80\xa6", 3);
    assert_non_null(strstr(s, "<mark>Gewahrsam</mark>"));
    assert_true(strlen(s) < 200 + 40);
    assert_string_equal(s + strlen(s) - 3, "\xe2\x80\xa6");
    /* never cut inside a character */
    s = snippet("\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4", "zzz", 3);
    assert_string_equal(s, "\xc3\xa4\xc3\xa4\xe2\x80\xa6");
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lower_case),
        cmocka_unit_test(test_syntax_characters),
        cmocka_unit_test(test_phrases),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_stop_words),
        cmocka_unit_test(test_ticket_numbers),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_tag),
        cmocka_unit_test(test_phrase_check),
        cmocka_unit_test(test_snippet_escaping),
        cmocka_unit_test(test_snippet_marks),
        cmocka_unit_test(test_snippet_window),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
