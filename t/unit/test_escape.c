/*
 * test_escape.c -- specification of the output sink and the escaping
 * writers of redis-schema/tk_escape.c (and the tk_str.c helpers): what
 * each writer emits, XSS vectors, invalid UTF-8, chunk boundaries.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tk_escape.h"
#include "tk_str.h"

typedef void (*writer_pt)(tk_out_t *out, const void *p, size_t n);

/*
 * A sink handing out chunks of chunk_size bytes (or min, if larger), as
 * nginx buffers would, and collecting what was written into one string.
 * max_min records the largest chunk a writer ever insisted on.
 */
typedef struct {
    tk_out_t        out;
    unsigned char   chunk[64];
    unsigned char  *chunk_start;
    size_t          chunk_size;
    char            result[8192];
    size_t          len;
    size_t          max_min;
    int             calls;
    int             fail_after;     /* more() fails from this call on */
} tiny_sink_t;

static void
tiny_flush(tiny_sink_t *t)
{
    size_t  n;

    if (t->chunk_start == NULL) {
        return;
    }

    n = t->out.pos - t->chunk_start;
    assert_true(t->len + n < sizeof(t->result));
    memcpy(t->result + t->len, t->chunk_start, n);
    t->len += n;
    t->result[t->len] = '\0';
    t->chunk_start = t->out.pos;
}

static int
tiny_more(tk_out_t *out, size_t min)
{
    tiny_sink_t  *t;
    size_t        size;

    t = out->data;
    tiny_flush(t);
    t->calls++;

    if (min > t->max_min) {
        t->max_min = min;
    }

    if (t->fail_after && t->calls >= t->fail_after) {
        return -1;
    }

    size = t->chunk_size > min ? t->chunk_size : min;
    assert_true(size <= sizeof(t->chunk));

    t->chunk_start = t->chunk;
    out->pos = t->chunk;
    out->end = t->chunk + size;

    return 0;
}

static void
tiny_init(tiny_sink_t *t, size_t chunk_size)
{
    memset(t, 0, sizeof(*t));
    t->chunk_size = chunk_size;
    t->out.more = tiny_more;
    t->out.data = t;
}

static const char *
tiny_result(tiny_sink_t *t)
{
    tiny_flush(t);
    t->result[t->len] = '\0';
    return t->result;
}

/* The output of one writer call through the memory sink, as a C string. */
static char *
render(writer_pt w, const char *s, size_t n)
{
    static char  buf[16384];
    tk_out_t     out;
    tk_str_t     r;

    tk_out_init_mem(&out);
    w(&out, s, n);
    assert_false(tk_out_failed(&out));
    r = tk_out_mem_str(&out);
    assert_true(r.len < sizeof(buf));
    memcpy(buf, r.data, r.len + 1);
    assert_int_equal(strlen(buf), r.len);
    tk_out_free_mem(&out);

    return buf;
}

#define HTML(s)   render(tk_out_html, s, sizeof(s) - 1)
#define URL(s)    render(tk_out_url, s, sizeof(s) - 1)
#define JSON(s)   render(tk_out_json, s, sizeof(s) - 1)
#define TEXT(s)   render(tk_out_text_as_html, s, sizeof(s) - 1)

#define LINK(u)                                                              \
    "<a href=\"" u "\" rel=\"noopener noreferrer nofollow\">" u "</a>"

/* ---- memory sink -------------------------------------------------------- */

static void
mem_sink_collects_everything_written(void **state)
{
    tk_out_t  out;
    tk_str_t  r;
    size_t    i;

    tk_out_init_mem(&out);
    for (i = 0; i < 100000; i++) {
        tk_out_raw(&out, "0123456789", 10);
    }

    tk_out_cstr(&out, "end");
    r = tk_out_mem_str(&out);
    assert_false(tk_out_failed(&out));
    assert_int_equal(r.len, 1000003);
    assert_memory_equal(r.data + 999990, "0123456789end", 14);  /* + NUL */
    tk_out_free_mem(&out);
}

static void
mem_sink_starts_empty(void **state)
{
    tk_out_t  out;
    tk_str_t  r;

    tk_out_init_mem(&out);
    r = tk_out_mem_str(&out);
    assert_int_equal(r.len, 0);
    assert_string_equal((char *) r.data, "");
    tk_out_free_mem(&out);
}

static void
str_writers_accept_null_and_empty(void **state)
{
    tk_out_t  out;
    tk_str_t  empty = tk_null_string, s = tk_string("abc");

    tk_out_init_mem(&out);
    tk_out_str(&out, NULL);
    tk_out_str(&out, &empty);
    tk_out_cstr(&out, NULL);
    tk_out_str(&out, &s);
    tk_out_raw(&out, NULL, 0);
    tk_out_html(&out, NULL, 0);
    assert_string_equal((char *) tk_out_mem_str(&out).data, "abc");
    tk_out_free_mem(&out);
}

/* ---- HTML --------------------------------------------------------------- */

static void
html_escapes_the_five_special_characters(void **state)
{
    assert_string_equal(HTML("a&b<c>d\"e'f"),
                        "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    assert_string_equal(HTML("plain text / = ;"), "plain text / = ;");
    assert_string_equal(HTML(""), "");
}

/* each special character at every position of a longer text, next to
 * bytes one off from it (a faster scan must not confuse them), and all
 * bytes besides the five untouched */
static void
html_finds_each_special_character_at_every_position(void **state)
{
    static const char  specials[] = "&<>\"'";
    static const char  *entity[] = { "&amp;", "&lt;", "&gt;", "&quot;",
                                     "&#39;" };
    char                text[40], want[64];
    size_t              c, pos, i;
    int                 b;

    for (c = 0; c < 5; c++) {
        for (pos = 0; pos < 24; pos++) {
            /* neighbours one below and above the special byte (and
             * 0x80 + it): the test for a byte must not match them */
            for (i = 0; i < 24; i++) {
                b = (i & 1) ? specials[c] + 1
                    : (i & 2) ? specials[c] - 1 : specials[c] | 0x80;
                text[i] = (char) (strchr(specials, b) ? 'x' : b);
            }

            text[pos] = specials[c];
            snprintf(want, sizeof(want), "%.*s%s%.*s", (int) pos, text,
                     entity[c], (int) (23 - pos), text + pos + 1);
            assert_string_equal(render(tk_out_html, text, 24), want);
        }
    }

    for (b = 1; b < 256; b++) {
        if (strchr(specials, b) == NULL) {
            memset(text, b, 17);
            assert_memory_equal(render(tk_out_html, text, 17), text, 17);
        }
    }
}

static void
html_neutralises_script_injection(void **state)
{
    assert_string_equal(HTML("<script>alert(1)</script>"),
                        "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_string_equal(HTML("\"><img src=x onerror=alert(1)>"),
                        "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    assert_string_equal(HTML("' onmouseover='alert(1)"),
                        "&#39; onmouseover=&#39;alert(1)");
}

static void
html_keeps_utf8_and_entities_are_escaped_again(void **state)
{
    assert_string_equal(HTML("Grüße — ✓"), "Grüße — ✓");
    assert_string_equal(HTML("&amp;"), "&amp;amp;");
}

static void
escape_html_into_buffer_reports_needed_size(void **state)
{
    unsigned char  buf[32];
    size_t         n;

    n = tk_escape_html(buf, sizeof(buf), "a<b", 3);
    assert_int_equal(n, 6);
    assert_memory_equal(buf, "a&lt;b", 6);

    /* too small: no partial entity and nothing after the first miss */
    memset(buf, 'X', sizeof(buf));
    n = tk_escape_html(buf, 4, "a<b", 3);
    assert_int_equal(n, 6);
    assert_memory_equal(buf, "aXXX", 4);

    n = tk_escape_html(NULL, 0, "\"'", 2);
    assert_int_equal(n, 11);
}

/* ---- URL ---------------------------------------------------------------- */

static void
url_keeps_only_unreserved_characters(void **state)
{
    assert_string_equal(URL("AZaz09-._~"), "AZaz09-._~");
    assert_string_equal(URL("a b&c=d/e?f#g+h%"),
                        "a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25");
    assert_string_equal(URL("ü\"<>'"), "%C3%BC%22%3C%3E%27");
    assert_string_equal(render(tk_out_url, "\0\n", 2), "%00%0A");
}

/* tk_escape_url into a buffer, NUL-terminated, with its return value */
static char *
url_keep(const char *s, const char *keep, size_t *need)
{
    static char  buf[4096];
    size_t       n;

    n = tk_escape_url((unsigned char *) buf, sizeof(buf) - 1, s, strlen(s),
                      keep);
    assert_true(n < sizeof(buf));
    buf[n] = '\0';

    if (need) {
        *need = n;
    }

    return buf;
}

static void
url_escape_component_is_what_templates_write(void **state)
{
    assert_string_equal(url_keep("a b&c=d/e?f#g+h%", TK_URL_COMPONENT, NULL),
                        "a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25");
    assert_string_equal(url_keep("group-Rechts hilfe", NULL, NULL),
                        "group-Rechts%20hilfe");
    assert_string_equal(url_keep("Ärger", TK_URL_COMPONENT, NULL),
                        "%C3%84rger");
}

static void
url_escape_path_keeps_slashes(void **state)
{
    assert_string_equal(url_keep("/t/5?x=1 2", TK_URL_PATH, NULL),
                        "/t/5%3Fx%3D1%202");
}

static void
url_escape_cid_keeps_its_percent_encoding(void **state)
{
    /* RFC 2392: a cid: URL is already encoded; nginx decodes it once */
    assert_string_equal(url_keep("part1.%3Cx%3E@mail:a=b;c", TK_URL_CID, NULL),
                        "part1.%3Cx%3E@mail:a=b;c");
    assert_string_equal(url_keep("a b\"<>/?#", TK_URL_CID, NULL),
                        "a%20b%22%3C%3E%2F%3F%23");
}

static void
url_escape_attr_char_is_rfc_8187(void **state)
{
    assert_string_equal(url_keep("Brief an's Amt (2).pdf", TK_URL_ATTR_CHAR,
                                 NULL),
                        "Brief%20an%27s%20Amt%20%282%29.pdf");
    assert_string_equal(url_keep("!#$&+^`|~-._", TK_URL_ATTR_CHAR, NULL),
                        "!#$&+^`|~-._");
    assert_string_equal(url_keep("Übersicht.pdf", TK_URL_ATTR_CHAR, NULL),
                        "%C3%9Cbersicht.pdf");
}

static void
url_escape_never_writes_a_partial_escape(void **state)
{
    unsigned char  buf[8];
    size_t         n;

    memset(buf, 'X', sizeof(buf));
    n = tk_escape_url(buf, 4, "ab c", 4, NULL);
    assert_int_equal(n, 6);                     /* what it needs */
    assert_memory_equal(buf, "abXX", 4);        /* "%20" did not fit */

    assert_int_equal(tk_escape_url(NULL, 0, "a\xff", 2, NULL), 4);
}

static void
url_writer_escapes_long_values_whole(void **state)
{
    char    in[700], want[2100], *p;
    size_t  i;

    p = want;

    for (i = 0; i < sizeof(in) - 1; i++) {
        in[i] = (i % 3) ? 'a' : ' ';
        p = stpcpy(p, (i % 3) ? "a" : "%20");
    }

    in[sizeof(in) - 1] = '\0';
    assert_string_equal(render(tk_out_url, in, sizeof(in) - 1), want);
}

static void
url_encodes_javascript_scheme(void **state)
{
    assert_string_equal(URL("javascript:alert(1)"),
                        "javascript%3Aalert%281%29");
}

/* ---- JSON --------------------------------------------------------------- */

static void
json_writes_a_quoted_string(void **state)
{
    assert_string_equal(JSON(""), "\"\"");
    assert_string_equal(JSON("abc äöü"), "\"abc äöü\"");
}

static void
json_escapes_quotes_backslash_and_controls(void **state)
{
    assert_string_equal(JSON("a\"b\\c"), "\"a\\\"b\\\\c\"");
    assert_string_equal(JSON("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
    assert_string_equal(render(tk_out_json, "\0\x01\x1f", 3),
                        "\"\\u0000\\u0001\\u001f\"");
}

static void
json_is_safe_inside_html(void **state)
{
    assert_string_equal(JSON("</script><b>&"),
                        "\"\\u003c/script\\u003e\\u003cb\\u003e\\u0026\"");
    /* U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR */
    assert_string_equal(JSON("a\xe2\x80\xa8" "b\xe2\x80\xa9"),
                        "\"a\\u2028b\\u2029\"");
}

static void
json_replaces_invalid_utf8(void **state)
{
    /* lone continuation byte, bad lead byte, truncated sequence */
    assert_string_equal(JSON("a\x80z"), "\"a\xef\xbf\xbdz\"");
    assert_string_equal(JSON("\xff"), "\"\xef\xbf\xbd\"");
    assert_string_equal(JSON("x\xe2\x82"), "\"x\xef\xbf\xbd\"");
    /* overlong "/" and a UTF-16 surrogate are not UTF-8 */
    assert_string_equal(JSON("\xc0\xaf"), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    assert_string_equal(JSON("\xed\xa0\x80"),
                        "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    /* above U+10FFFF */
    assert_string_equal(JSON("\xf4\x90\x80\x80"),
                        "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                        "\xef\xbf\xbd\"");
    /* 4-byte sequences that are valid pass */
    assert_string_equal(JSON("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");
}

/* ---- numbers and times -------------------------------------------------- */

static char *
render_int(int64_t v, int is_signed)
{
    static char  buf[64];
    tk_out_t     out;

    tk_out_init_mem(&out);
    if (is_signed) {
        tk_out_int(&out, v);
    } else {
        tk_out_uint(&out, (uint64_t) v);
    }

    strcpy(buf, (char *) tk_out_mem_str(&out).data);
    tk_out_free_mem(&out);
    return buf;
}

static void
numbers_are_decimal(void **state)
{
    assert_string_equal(render_int(0, 0), "0");
    assert_string_equal(render_int(42, 0), "42");
    assert_string_equal(render_int(-1, 0), "18446744073709551615");
    assert_string_equal(render_int(-42, 1), "-42");
    assert_string_equal(render_int(INT64_MIN, 1), "-9223372036854775808");
    assert_string_equal(render_int(INT64_MAX, 1), "9223372036854775807");
}

static char *
render_time(int64_t t, int offset, int iso)
{
    static char  buf[64];
    tk_out_t     out;

    tk_out_init_mem(&out);
    if (iso) {
        tk_out_time_iso(&out, t);
    } else {
        tk_out_time(&out, t, offset);
    }

    strcpy(buf, (char *) tk_out_mem_str(&out).data);
    tk_out_free_mem(&out);
    return buf;
}

static void
time_is_minutes_with_utc_offset(void **state)
{
    /* 1795529109 = 2026-11-24 14:05:09 UTC */
    assert_string_equal(render_time(1795529109, 0, 0), "2026-11-24 14:05");
    assert_string_equal(render_time(1795529109, 60, 0), "2026-11-24 15:05");
    assert_string_equal(render_time(1795529109, -900, 0),
                        "2026-11-23 23:05");
    /* 2026-12-31 23:30 UTC is next year in Berlin */
    assert_string_equal(render_time(1798759800, 60, 0), "2027-01-01 00:30");
    assert_string_equal(render_time(0, 0, 0), "1970-01-01 00:00");
}

static void
time_iso_is_utc_with_seconds(void **state)
{
    assert_string_equal(render_time(1795529109, 0, 1),
                        "2026-11-24T14:05:09Z");
    assert_string_equal(render_time(0, 0, 1), "1970-01-01T00:00:00Z");
}

static void
time_out_of_range_is_a_question_mark(void **state)
{
    assert_string_equal(render_time(INT64_MAX, 60, 0), "?");
    assert_string_equal(render_time(INT64_MAX, 0, 1), "?");
}

/* ---- plain text as HTML ------------------------------------------------- */

static void
text_is_escaped_and_keeps_line_breaks(void **state)
{
    assert_string_equal(TEXT("a < b\n\"c\" & 'd'\r\n"),
                        "a &lt; b\n&quot;c&quot; &amp; &#39;d&#39;\r\n");
    assert_string_equal(TEXT("<script>alert(1)</script>"),
                        "&lt;script&gt;alert(1)&lt;/script&gt;");
}

static void
text_links_http_and_https_urls(void **state)
{
    assert_string_equal(TEXT("see http://example.org/a?b=1 now"),
                        "see " LINK("http://example.org/a?b=1") " now");
    assert_string_equal(TEXT("https://x.test/"), LINK("https://x.test/"));
    assert_string_equal(TEXT("HTTPS://X.TEST/p\nnext"),
                        LINK("HTTPS://X.TEST/p") "\nnext");
}

static void
text_link_escapes_inside_href(void **state)
{
    assert_string_equal(TEXT("http://x.test/?a=1&b=2"),
                        LINK("http://x.test/?a=1&amp;b=2"));
    /* a quote ends the URL: it can never leave the attribute */
    assert_string_equal(TEXT("http://x.test/\"onmouseover=\"alert(1)"),
                        LINK("http://x.test/")
                        "&quot;onmouseover=&quot;alert(1)");
    assert_string_equal(TEXT("http://x.test/'><script>"),
                        LINK("http://x.test/") "&#39;&gt;&lt;script&gt;");
    assert_string_equal(TEXT("<http://x.test/a>"),
                        "&lt;" LINK("http://x.test/a") "&gt;");
}

static void
text_link_drops_trailing_punctuation(void **state)
{
    assert_string_equal(TEXT("at http://x.test/a."),
                        "at " LINK("http://x.test/a") ".");
    assert_string_equal(TEXT("http://x.test/a?!,;:"),
                        LINK("http://x.test/a") "?!,;:");
    assert_string_equal(TEXT("(see http://x.test/a)"),
                        "(see " LINK("http://x.test/a") ")");
    /* a balanced ")" belongs to the URL (Wikipedia style) */
    assert_string_equal(TEXT("(http://x.test/A_(b)), ok"),
                        "(" LINK("http://x.test/A_(b)") "), ok");
}

static void
text_does_not_link_other_schemes(void **state)
{
    assert_string_equal(TEXT("javascript:alert(1)"), "javascript:alert(1)");
    assert_string_equal(TEXT("<a href=\"javascript:alert(1)\">x</a>"),
                        "&lt;a href=&quot;javascript:alert(1)&quot;&gt;x"
                        "&lt;/a&gt;");
    assert_string_equal(TEXT("data:text/html,<b>"), "data:text/html,&lt;b&gt;");
    assert_string_equal(TEXT("ftp://x.test/"), "ftp://x.test/");
}

static void
text_needs_a_host_and_a_word_boundary(void **state)
{
    assert_string_equal(TEXT("http:// x"), "http:// x");
    assert_string_equal(TEXT("https://."), "https://.");
    assert_string_equal(TEXT("xhttp://x.test/"), "xhttp://x.test/");
    assert_string_equal(TEXT("a.http://x.test/"),
                        "a." LINK("http://x.test/"));
    assert_string_equal(TEXT("http:/x"), "http:/x");
}

static void
text_replaces_invalid_utf8(void **state)
{
    assert_string_equal(TEXT("ok ü \xc3 \xfe!"),
                        "ok ü \xef\xbf\xbd \xef\xbf\xbd!");
    /* invalid UTF-8 ends a URL */
    assert_string_equal(TEXT("http://x.test/\xff"),
                        LINK("http://x.test/") "\xef\xbf\xbd");
    /* valid UTF-8 is part of it */
    assert_string_equal(TEXT("http://x.test/ü"), LINK("http://x.test/ü"));
}

/* ---- chunk boundaries --------------------------------------------------- */

/*
 * Every writer must produce the same bytes whatever the chunk size, and
 * must never need a chunk larger than one byte to make progress.
 */
static void
writers_work_across_tiny_chunks(void **state)
{
    static const char  *input = "Grüße <b>\"x\" & 'y'</b> \xff\xe2\x82 "
                                "see https://x.test/a?b=1&c=(2). "
                                "\x01\n\xe2\x80\xa8 ~end";
    static writer_pt    writers[] = {
        tk_out_raw, tk_out_html, tk_out_url, tk_out_json,
        tk_out_text_as_html
    };
    tiny_sink_t         t;
    char                expect[8192];
    size_t              w, chunk, n;

    n = strlen(input);

    for (w = 0; w < sizeof(writers) / sizeof(writers[0]); w++) {
        strcpy(expect, render(writers[w], input, n));

        for (chunk = 1; chunk <= 9; chunk++) {
            tiny_init(&t, chunk);
            writers[w](&t.out, input, n);
            assert_false(tk_out_failed(&t.out));
            assert_string_equal(tiny_result(&t), expect);
            assert_int_equal(t.max_min, 1);
        }
    }
}

static void
numbers_and_times_work_across_tiny_chunks(void **state)
{
    tiny_sink_t  t;

    tiny_init(&t, 1);
    tk_out_uint(&t.out, 18446744073709551615ULL);
    tk_out_cstr(&t.out, " ");
    tk_out_int(&t.out, -42);
    tk_out_cstr(&t.out, " ");
    tk_out_time(&t.out, 1795529109, 60);
    tk_out_cstr(&t.out, " ");
    tk_out_time_iso(&t.out, 1795529109);
    assert_string_equal(tiny_result(&t), "18446744073709551615 -42 "
                        "2026-11-24 15:05 2026-11-24T14:05:09Z");
}

static void
failed_sink_stays_failed(void **state)
{
    tiny_sink_t  t;

    tiny_init(&t, 4);
    t.fail_after = 3;

    tk_out_html(&t.out, "<<<<<<<<", 8);
    assert_true(tk_out_failed(&t.out));
    tk_out_raw(&t.out, "more", 4);
    tk_out_json(&t.out, "x", 1);
    tk_out_uint(&t.out, 7);
    assert_int_equal(t.calls, 3);
    /* what fitted before the failure: two 4-byte chunks */
    assert_string_equal(tiny_result(&t), "&lt;&lt;");
}

static void
sink_without_more_fails(void **state)
{
    tk_out_t       out;
    unsigned char  buf[4];

    memset(&out, 0, sizeof(out));
    out.pos = buf;
    out.end = buf + sizeof(buf);
    tk_out_raw(&out, "abcd", 4);
    assert_false(tk_out_failed(&out));
    tk_out_raw(&out, "e", 1);
    assert_true(tk_out_failed(&out));
    assert_memory_equal(buf, "abcd", 4);
}

/* ---- tk_str ------------------------------------------------------------- */

static void
str_compare(void **state)
{
    tk_str_t  a = tk_string("Hello"), b = tk_string("hello"),
              c = tk_string("hello!"), e = tk_null_string;

    assert_false(tk_str_eq(&a, &b));
    assert_true(tk_str_eq(&b, &b));
    assert_true(tk_str_eq_ci(&a, &b));
    assert_false(tk_str_eq_ci(&a, &c));
    assert_true(tk_str_eq_cstr(&b, "hello"));
    assert_false(tk_str_eq_cstr(&b, "hell"));
    assert_true(tk_str_eq_cstr(&e, ""));
    assert_true(tk_str_eq(&e, &e));
}

static long long
atoll_of(const char *s)
{
    tk_str_t  str;

    str.len = strlen(s);
    str.data = (unsigned char *) s;
    return tk_str_atoll(&str);
}

static void
str_atoll_accepts_only_whole_decimals(void **state)
{
    tk_str_t  e = tk_null_string;

    assert_int_equal(atoll_of("0"), 0);
    assert_int_equal(atoll_of("12345"), 12345);
    assert_true(atoll_of("9223372036854775807") == 9223372036854775807LL);
    assert_int_equal(atoll_of("9223372036854775808"), -1);
    assert_int_equal(atoll_of(""), -1);
    assert_int_equal(atoll_of("-1"), -1);
    assert_int_equal(atoll_of("+1"), -1);
    assert_int_equal(atoll_of("12a"), -1);
    assert_int_equal(atoll_of(" 1"), -1);
    assert_int_equal(tk_str_atoll(&e), -1);
}

/* RediSearch 1.2 folds ASCII only; the index must see "ärger" for "Ärger". */
static void
utf8_lower_folds_german_and_cyrillic_capitals(void **state)
{
    const char     *in = "\xc3\x84" "RGER \xc3\x96l \xc3\x9c" "BER Stra\xc3\x9f"
                         "e \xd0\x9c\xd0\x98\xd0\xa0 \xc5\x81\xc3\x97 \xe2\x82\xac";
    const char     *want = "\xc3\xa4" "rger \xc3\xb6l \xc3\xbc" "ber stra\xc3\x9f"
                           "e \xd0\xbc\xd0\xb8\xd1\x80 \xc5\x82\xc3\x97 \xe2\x82\xac";
    unsigned char   out[64];
    size_t          n;

    (void) state;
    n = strlen(in);
    tk_utf8_lower(out, (const unsigned char *) in, n);
    assert_memory_equal(out, want, n);

    /* a truncated sequence is copied, not read past */
    tk_utf8_lower(out, (const unsigned char *) "A\xc3", 2);
    assert_memory_equal(out, "a\xc3", 2);
}

int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(mem_sink_collects_everything_written),
        cmocka_unit_test(mem_sink_starts_empty),
        cmocka_unit_test(str_writers_accept_null_and_empty),
        cmocka_unit_test(html_escapes_the_five_special_characters),
        cmocka_unit_test(html_finds_each_special_character_at_every_position),
        cmocka_unit_test(html_neutralises_script_injection),
        cmocka_unit_test(html_keeps_utf8_and_entities_are_escaped_again),
        cmocka_unit_test(escape_html_into_buffer_reports_needed_size),
        cmocka_unit_test(url_keeps_only_unreserved_characters),
        cmocka_unit_test(url_encodes_javascript_scheme),
        cmocka_unit_test(json_writes_a_quoted_string),
        cmocka_unit_test(json_escapes_quotes_backslash_and_controls),
        cmocka_unit_test(json_is_safe_inside_html),
        cmocka_unit_test(json_replaces_invalid_utf8),
        cmocka_unit_test(numbers_are_decimal),
        cmocka_unit_test(time_is_minutes_with_utc_offset),
        cmocka_unit_test(time_iso_is_utc_with_seconds),
        cmocka_unit_test(time_out_of_range_is_a_question_mark),
        cmocka_unit_test(text_is_escaped_and_keeps_line_breaks),
        cmocka_unit_test(text_links_http_and_https_urls),
        cmocka_unit_test(text_link_escapes_inside_href),
        cmocka_unit_test(text_link_drops_trailing_punctuation),
        cmocka_unit_test(text_does_not_link_other_schemes),
        cmocka_unit_test(text_needs_a_host_and_a_word_boundary),
        cmocka_unit_test(text_replaces_invalid_utf8),
        cmocka_unit_test(writers_work_across_tiny_chunks),
        cmocka_unit_test(numbers_and_times_work_across_tiny_chunks),
        cmocka_unit_test(failed_sink_stays_failed),
        cmocka_unit_test(sink_without_more_fails),
        cmocka_unit_test(url_escape_component_is_what_templates_write),
        cmocka_unit_test(url_escape_path_keeps_slashes),
        cmocka_unit_test(url_escape_cid_keeps_its_percent_encoding),
        cmocka_unit_test(url_escape_attr_char_is_rfc_8187),
        cmocka_unit_test(url_escape_never_writes_a_partial_escape),
        cmocka_unit_test(url_writer_escapes_long_values_whole),
        cmocka_unit_test(str_compare),
        cmocka_unit_test(utf8_lower_folds_german_and_cyrillic_capitals),
        cmocka_unit_test(str_atoll_accepts_only_whole_decimals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
