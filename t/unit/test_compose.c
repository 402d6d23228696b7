/*
 * test_compose.c -- specification of what the composer accepts from
 * agents and scripts: address lists (redis-schema/tk_addr.c: header
 * injection, invalid addresses, quoting) and JSON request bodies
 * (redis-schema/tk_json.c) and multipart/form-data uploads with their
 * file names (redis-schema/tk_multipart.c).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tk_addr.h"
#include "tk_json.h"
#include "tk_multipart.h"

static tk_str_t
S(const char *s)
{
    tk_str_t  t;

    t.data = (unsigned char *) s;
    t.len = strlen(s);
    return t;
}

static int
parse(const char *list, tk_addr_t *a, int max)
{
    tk_str_t  l, bad;

    l = S(list);
    return tk_addr_parse(&l, a, max, &bad);
}

static char *
written(const char *list)
{
    static char  buf[512];
    tk_addr_t    a[8];
    tk_out_t     out;
    tk_str_t     s;
    int          n;

    n = parse(list, a, 8);
    assert_true(n >= 0);
    tk_out_init_mem(&out);
    tk_addr_write(&out, a, n);
    s = tk_out_mem_str(&out);
    memcpy(buf, s.data, s.len);
    buf[s.len] = '\0';
    tk_out_free_mem(&out);
    return buf;
}

static void
test_addr_list_forms(void **state)
{
    tk_addr_t  a[8];

    assert_int_equal(parse("ana@example.org", a, 8), 1);
    assert_int_equal(a[0].addr.len, strlen("ana@example.org"));
    assert_int_equal(a[0].name.len, 0);

    assert_int_equal(parse("Ana Beispiel <ana@example.org>, \"Doe, J\" <j@x.de>,"
                           " <b@y.com>, ", a, 8), 3);
    assert_memory_equal(a[0].name.data, "Ana Beispiel", 12);
    assert_memory_equal(a[1].name.data, "Doe, J", 6);
    assert_memory_equal(a[1].addr.data, "j@x.de", 6);
    assert_memory_equal(a[2].addr.data, "b@y.com", 7);
    assert_int_equal(parse("", a, 8), 0);
    assert_int_equal(parse(" , ", a, 8), 0);
    assert_int_equal(parse("Jürgen Ößer <j@x.de>", a, 8), 1);
}

static void
test_addr_crlf_is_refused(void **state)
{
    tk_addr_t  a[8];

    assert_int_equal(parse("ana@example.org\r\nBcc: x@evil.com", a, 8),
                     TK_ADDR_E_CTRL);
    assert_int_equal(parse("Ana\n <ana@example.org>", a, 8), TK_ADDR_E_CTRL);
    assert_int_equal(parse("\"Ana\r\" <ana@example.org>", a, 8),
                     TK_ADDR_E_CTRL);
    assert_int_equal(parse("ana@example.org\t", a, 8), TK_ADDR_E_CTRL);
}

static void
test_addr_invalid(void **state)
{
    tk_addr_t  a[8];

    assert_int_equal(parse("ana", a, 8), TK_ADDR_E_SYNTAX);
    assert_int_equal(parse("ana@localhost", a, 8), TK_ADDR_E_SYNTAX);
    assert_int_equal(parse("ana@@x.org", a, 8), TK_ADDR_E_SYNTAX);
    assert_int_equal(parse(".ana@x.org", a, 8), TK_ADDR_E_SYNTAX);
    assert_int_equal(parse("a..na@x.org", a, 8), TK_ADDR_E_SYNTAX);
    assert_int_equal(parse("ana@-x.org", a, 8), TK_ADDR_E_SYNTAX);
    assert_int_equal(parse("ana@x..org", a, 8), TK_ADDR_E_SYNTAX);
    assert_int_equal(parse("Ana <ana@x.org", a, 8), TK_ADDR_E_SYNTAX);
    assert_int_equal(parse("Ana <ana@x.org> trailing", a, 8),
                     TK_ADDR_E_SYNTAX);
    assert_int_equal(parse("\"Ana <ana@x.org>", a, 8), TK_ADDR_E_SYNTAX);
    assert_int_equal(parse("a b@x.org", a, 8), TK_ADDR_E_SYNTAX);
    assert_int_equal(parse("Ana@Home <ana@x.org>", a, 8), TK_ADDR_E_SYNTAX);
    assert_int_equal(parse("a@x.org, b@y.org, c@z.org", a, 2),
                     TK_ADDR_E_MANY);
}

static void
test_addr_written_normalised(void **state)
{
    assert_string_equal(written("ana@x.org"), "ana@x.org");
    assert_string_equal(written("  Ana   Beispiel <ana@x.org> , b@y.org"),
                        "Ana   Beispiel <ana@x.org>, b@y.org");
    assert_string_equal(written("\"Doe, J\" <j@x.de>"), "\"Doe, J\" <j@x.de>");
    assert_string_equal(written("\"a \\\"b\\\" c\" <j@x.de>"),
                        "\"a \\\"b\\\" c\" <j@x.de>");
    assert_string_equal(written("Jürgen <j@x.de>"), "Jürgen <j@x.de>");
    assert_string_equal(written("J. Doe <j@x.de>"), "\"J. Doe\" <j@x.de>");
}

static void *
test_alloc(void *data, size_t size)
{
    static unsigned char  pool[4096];
    static size_t         used;

    if (used + size > sizeof(pool)) {
        used = 0;
    }

    used += size;
    return pool + used - size;
}

static void
test_json_object_members(void **state)
{
    tk_json_member_t         m[16];
    const tk_json_member_t  *v;
    tk_str_t                 t, s;
    size_t                   err;
    int                      n;

    t = S(" {\"type\":\"reply\", \"to\" : \"a@x.org\",\"n\":42,"
          "\"attachments\":[{\"name\":\"a\"}], \"ok\":true, \"no\":null} ");
    n = tk_json_object(&t, m, 16, &err);
    assert_int_equal(n, 6);

    v = tk_json_get(m, n, "type");
    assert_non_null(v);
    assert_int_equal(v->type, TK_JSON_STRING);
    assert_int_equal(tk_json_string(&v->value, &s, test_alloc, NULL), 0);
    assert_int_equal(s.len, 5);
    assert_memory_equal(s.data, "reply", 5);

    v = tk_json_get(m, n, "n");
    assert_int_equal(v->type, TK_JSON_NUMBER);
    assert_int_equal(tk_json_uint(&v->value), 42);

    assert_int_equal(tk_json_get(m, n, "attachments")->type, TK_JSON_ARRAY);
    assert_int_equal(tk_json_get(m, n, "ok")->type, TK_JSON_TRUE);
    assert_int_equal(tk_json_get(m, n, "no")->type, TK_JSON_NULL);
    assert_null(tk_json_get(m, n, "cc"));

    t = S("[\"a\", \"b\"]");
    assert_int_equal(tk_json_array(&t, m, 16, &err), 2);
    assert_int_equal(m[1].type, TK_JSON_STRING);
}

static void
test_json_malformed_is_refused(void **state)
{
    static const char  *bad[] = {
        "", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1} x",
        "{\"a\":01}", "{\"a\":1.}", "{\"a\":\"\x01\"}", "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12\"}", "{\"a\":tru}", "{\"a\":1,\"a\":2}",
        "{'a':1}", "{\"a\":[1,]}",
        "{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}", NULL
    };
    tk_json_member_t  m[4];
    tk_str_t          t;
    size_t            err;
    int               i;

    for (i = 0; bad[i]; i++) {
        t = S(bad[i]);
        if (tk_json_object(&t, m, 4, &err) >= 0) {
            fail_msg("accepted: %s", bad[i]);
        }
    }

    t = S("{\"a\":1,\"b\":2,\"c\":3}");
    assert_int_equal(tk_json_object(&t, m, 2, &err), -1);
}

static void
test_json_string_escapes(void **state)
{
    tk_str_t  raw, s;

    raw = S("\"a\\nb\\u00e4\\u20ac\\ud83d\\ude00\\\"\\\\\"");
    assert_int_equal(tk_json_string(&raw, &s, test_alloc, NULL), 0);
    assert_int_equal(s.len, strlen("a\nb\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80\"\\"));
    assert_memory_equal(s.data, "a\nb\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80\"\\",
                        s.len);

    raw = S("\"\\u0000\"");
    assert_int_equal(tk_json_string(&raw, &s, test_alloc, NULL), -1);
    raw = S("\"\\ud83d\"");
    assert_int_equal(tk_json_string(&raw, &s, test_alloc, NULL), -1);
    raw = S("\"\\ude00\"");
    assert_int_equal(tk_json_string(&raw, &s, test_alloc, NULL), -1);

    /* raw UTF-8 passes, ill-formed bytes are refused (fuzz finding
     * t/fuzz/regress/json/invalid-utf8-in-string) */
    raw = S("\"\xc3\xa4\xf0\x9f\x98\x80\"");
    assert_int_equal(tk_json_string(&raw, &s, test_alloc, NULL), 0);
    assert_int_equal(s.len, 6);
    raw = S("\"\xff\xff\"");
    assert_int_equal(tk_json_string(&raw, &s, test_alloc, NULL), -1);
    raw = S("\"a\xc3\"");                 /* cut sequence */
    assert_int_equal(tk_json_string(&raw, &s, test_alloc, NULL), -1);
    raw = S("\"\xc0\xaf\"");             /* overlong '/' */
    assert_int_equal(tk_json_string(&raw, &s, test_alloc, NULL), -1);
    raw = S("\"\xed\xa0\x80\"");         /* a surrogate */
    assert_int_equal(tk_json_string(&raw, &s, test_alloc, NULL), -1);
}

static tk_str_t
B(const char *s, size_t n)
{
    tk_str_t  t;

    t.data = (unsigned char *) s;
    t.len = n;
    return t;
}

static void
test_multipart_boundary(void **state)
{
    tk_str_t  ct, b;

    ct = S("multipart/form-data; boundary=----WebKitFormBoundaryAbC123");
    assert_int_equal(tk_multipart_boundary(&ct, &b), 0);
    assert_int_equal(b.len, strlen("----WebKitFormBoundaryAbC123"));
    ct = S("Multipart/Form-Data; charset=utf-8; boundary=\"a b'c\"");
    assert_int_equal(tk_multipart_boundary(&ct, &b), 0);
    assert_memory_equal(b.data, "a b'c", 5);
    ct = S("multipart/form-data");
    assert_int_equal(tk_multipart_boundary(&ct, &b), -1);
    ct = S("application/x-www-form-urlencoded; boundary=x");
    assert_int_equal(tk_multipart_boundary(&ct, &b), -1);
    ct = S("multipart/form-data; boundary=\"bad\r\n\"");
    assert_int_equal(tk_multipart_boundary(&ct, &b), -1);
    ct = S("multipart/form-data; boundary=0123456789012345678901234567890123456789012345678901234567890123456789x");
    assert_int_equal(tk_multipart_boundary(&ct, &b), -1);
}

static void
test_multipart_parts(void **state)
{
    static const char  body[] =
        "preamble\r\n--XyZ\r\n"
        "Content-Disposition: form-data; name=\"csrf\"\r\n\r\n"
        "abc\r\n--XyZ\r\n"
        "content-disposition: form-data; name=\"attachment\"; filename=\"a b.pdf\"\r\n"
        "Content-Type: application/pdf\r\n\r\n"
        "%PDF\0\r\n--Xy\r\n--XyZ  \r\n"
        "Content-Disposition: form-data; name=\"body\"\r\n\r\n"
        "\r\n--XyZ--\r\nepilogue";
    tk_part_t  p[8];
    tk_str_t   b, bd;

    b = S("XyZ");
    bd = B(body, sizeof(body) - 1);
    assert_int_equal(tk_multipart_parse(&bd, &b, p, 8), 3);
    assert_memory_equal(p[0].name.data, "csrf", 4);
    assert_int_equal(p[0].is_file, 0);
    assert_int_equal(p[0].data.len, 3);
    assert_int_equal(p[1].is_file, 1);
    assert_memory_equal(p[1].filename.data, "a b.pdf", 7);
    assert_memory_equal(p[1].content_type.data, "application/pdf", 15);
    assert_int_equal(p[1].data.len, strlen("%PDF") + 1 + strlen("\r\n--Xy"));
    assert_int_equal(p[2].data.len, 0);

    /* the limit, a missing end, a part without name */
    assert_int_equal(tk_multipart_parse(&bd, &b, p, 2), -1);
    bd = S("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx");
    assert_int_equal(tk_multipart_parse(&bd, &b, p, 8), -1);
    bd = S("--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--");
    assert_int_equal(tk_multipart_parse(&bd, &b, p, 8), -1);
    /* an empty name= is no name (t/fuzz/regress/multipart/empty-name) */
    bd = S("--XyZ\r\nContent-Disposition: form-data; name=\r\n\r\nx\r\n--XyZ--");
    assert_int_equal(tk_multipart_parse(&bd, &b, p, 8), -1);
    bd = S("--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n--XyZ--");
    assert_int_equal(tk_multipart_parse(&bd, &b, p, 8), -1);
    bd = S("--XyZ--\r\n");
    assert_int_equal(tk_multipart_parse(&bd, &b, p, 8), 0);
    bd = S("no delimiter at all");
    assert_int_equal(tk_multipart_parse(&bd, &b, p, 8), -1);
}

static char *
clean(const char *name)
{
    static unsigned char  buf[TK_FILENAME_MAX + 1];
    tk_str_t              n;

    n = S(name);
    tk_filename_clean(buf, &n);
    return (char *) buf;
}

static void
test_filename_clean(void **state)
{
    char   longname[400];
    char  *c;

    assert_string_equal(clean("Bescheid.pdf"), "Bescheid.pdf");
    assert_string_equal(clean("../../etc/passwd"), "passwd");
    assert_string_equal(clean("C:\\Users\\x\\Akte 1.pdf"), "Akte 1.pdf");
    assert_string_equal(clean("a\r\nb\"c\x01.txt"), "abc.txt");
    assert_string_equal(clean(".."), "attachment");
    assert_string_equal(clean(""), "attachment");
    assert_string_equal(clean("dir/"), "attachment");
    assert_string_equal(clean(" .hidden. "), "hidden");
    assert_string_equal(clean("Übersicht ä.pdf"), "Übersicht ä.pdf");

    memset(longname, 0, sizeof(longname));
    memset(longname, 'a', 199);
    strcat(longname, "\xc3\xa4\xc3\xa4tail");
    c = clean(longname);
    assert_int_equal(strlen(c), 199);     /* not half an ä */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_list_forms),
        cmocka_unit_test(test_addr_crlf_is_refused),
        cmocka_unit_test(test_addr_invalid),
        cmocka_unit_test(test_addr_written_normalised),
        cmocka_unit_test(test_json_object_members),
        cmocka_unit_test(test_json_malformed_is_refused),
        cmocka_unit_test(test_json_string_escapes),
        cmocka_unit_test(test_multipart_boundary),
        cmocka_unit_test(test_multipart_parts),
        cmocka_unit_test(test_filename_clean),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
