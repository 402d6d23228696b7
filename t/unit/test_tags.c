/*
 * test_tags.c -- specification of redis-schema/tk_tags.c: what a typed
 * tag becomes (trimmed, blanks folded, lower case also beyond ASCII) and
 * what is refused (commas, key and query syntax, control bytes, invalid
 * UTF-8, too long), and the stored list (sorted, unique).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tk_tags.h"


static char  out[TK_TAG_MAX + 1];

/* The normalised tag as a C string, "" when refused. */
static const char *
norm(const char *in)
{
    size_t  n;

    n = tk_tag_normalise((const unsigned char *) in, strlen(in),
                         (unsigned char *) out);
    out[n] = '\0';
    return out;
}


static void
test_normalise(void **state)
{
    assert_string_equal(norm("Mietrecht"), "mietrecht");
    assert_string_equal(norm("  Miet   Recht \t"), "miet recht");
    assert_string_equal(norm("KÜNDIGUNG"), "kündigung");
    assert_string_equal(norm("Räumung-2026"), "räumung-2026");
    assert_string_equal(norm("ΑΣΥΛΟ"), "ασυλο");
    assert_string_equal(norm("#eilt/§"), "#eilt/§");
}


static void
test_refused(void **state)
{
    char  max[TK_TAG_MAX + 2];

    assert_string_equal(norm(""), "");
    assert_string_equal(norm("   "), "");
    assert_string_equal(norm("a,b"), "");
    assert_string_equal(norm("x{y}"), "");
    assert_string_equal(norm("x*"), "");
    assert_string_equal(norm("say \"x\""), "");
    assert_string_equal(norm("back\\slash"), "");
    assert_string_equal(norm("line\nbreak"), "");
    assert_string_equal(norm("\xff\xfe"), "");
    assert_string_equal(norm("\xc3"), "");            /* cut sequence */
    assert_string_equal(norm("\xc0\xaf"), "");        /* overlong '/' */
    assert_string_equal(norm("\xed\xa0\x80"), "");    /* a surrogate */

    memset(max, 'a', TK_TAG_MAX);
    max[TK_TAG_MAX] = '\0';
    assert_int_equal(strlen(norm(max)), TK_TAG_MAX);
    max[TK_TAG_MAX] = 'a';
    max[TK_TAG_MAX + 1] = '\0';
    assert_string_equal(norm(max), "");
}


static void
test_join_split_has(void **state)
{
    unsigned char  buf[TK_TAGS_LEN_MAX];
    tk_str_t       tags[4], list, one;
    size_t         n;

    tk_str_set(&tags[0], "miete");
    tk_str_set(&tags[1], "asyl");
    tk_str_set(&tags[2], "miete");
    tk_str_set(&tags[3], "eilt");

    n = tk_tags_join(tags, 4, buf);
    assert_int_equal(n, strlen("asyl,eilt,miete"));
    assert_memory_equal(buf, "asyl,eilt,miete", n);

    list.data = buf;
    list.len = n;
    assert_int_equal(tk_tags_split(&list, tags, 4), 3);
    assert_int_equal(tags[2].len, 5);

    tk_str_set(&one, "eilt");
    assert_true(tk_tags_has(&list, &one));
    tk_str_set(&one, "eil");
    assert_false(tk_tags_has(&list, &one));

    list.len = 0;
    assert_int_equal(tk_tags_split(&list, tags, 4), 0);
    assert_int_equal(tk_tags_join(tags, 0, buf), 0);
}


static void
test_text_valid(void **state)
{
    assert_true(tk_text_valid((const unsigned char *) "Mieterverein Nord", 17));
    assert_false(tk_text_valid((const unsigned char *) "a\nb", 3));
    assert_true(tk_text_valid_lines((const unsigned char *) "a\r\nb\tc", 6, 1));
    assert_false(tk_text_valid_lines((const unsigned char *) "a\x01", 2, 1));
    assert_false(tk_text_valid((const unsigned char *) "\xe2\x82", 2));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_join_split_has),
        cmocka_unit_test(test_text_valid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
