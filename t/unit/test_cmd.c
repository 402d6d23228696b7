/*
 * test_cmd.c -- the RESP command builder (tk_cmd.c), asserted on the
 * exact bytes sent to Redis.  The shared write path on top of it:
 * test_write_path.c.
 */

#include "cmd_fixture.h"


static void
assert_resp(fixture_t *f, size_t i, const char *expect)
{
    tk_str_t  s = resp(f, i);

    if (s.len != strlen(expect) || memcmp(s.data, expect, s.len) != 0) {
        print_error("command %zu: got \"%.*s\"\n", i, (int) s.len, s.data);
        fail();
    }
}


/* ---- tk_cmds_add -------------------------------------------------------- */

static void
add_splits_on_spaces(void **state)
{
    fixture_t  *f = *state;

    tk_cmds_add(&f->cmds, "SET  foo   bar");
    assert_resp(f, 0, "*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n");
    assert_int_equal(f->cmds.n, 1);
}


static void
add_expands_strings(void **state)
{
    fixture_t  *f = *state;
    tk_str_t    title = S("Bu\xc3\x9f" "geld mit Leerzeichen");

    tk_cmds_add(&f->cmds, "HSET tk:{t:%llu} title %S x%sy", 5ULL, &title,
                "-");
    assert_resp(f, 0, "*5\r\n$4\r\nHSET\r\n$8\r\ntk:{t:5}\r\n$5\r\ntitle\r\n"
                "$24\r\nBu\xc3\x9f" "geld mit Leerzeichen\r\n$3\r\nx-y\r\n");
}


static void
add_keeps_empty_arguments(void **state)
{
    fixture_t  *f = *state;
    tk_str_t    empty = S("");

    tk_cmds_add(&f->cmds, "HSET k a %s b %S", "", &empty);
    assert_resp(f, 0, "*6\r\n$4\r\nHSET\r\n$1\r\nk\r\n$1\r\na\r\n$0\r\n\r\n"
                "$1\r\nb\r\n$0\r\n\r\n");
}


static void
add_is_binary_safe_with_b(void **state)
{
    fixture_t  *f = *state;
    const char  bin[] = { 'a', '\0', '\r', '\n', ' ', 'z' };

    tk_cmds_add(&f->cmds, "SET k %b", bin, sizeof(bin));
    assert_int_equal(resp(f, 0).len, 32);
    assert_memory_equal(resp(f, 0).data, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n"
                        "$6\r\na\0\r\n z\r\n", 32);
}


static void
add_formats_numbers(void **state)
{
    fixture_t  *f = *state;

    tk_cmds_add(&f->cmds, "X %d %i %u %ld %lu %lld %llu %zu %d", -12, 7,
                4000000000U, -5L, 6UL, -9223372036854775807LL - 1,
                18446744073709551615ULL, (size_t) 3, 0);
    assert_resp(f, 0, "*10\r\n$1\r\nX\r\n$3\r\n-12\r\n$1\r\n7\r\n"
                "$10\r\n4000000000\r\n$2\r\n-5\r\n$1\r\n6\r\n"
                "$20\r\n-9223372036854775808\r\n"
                "$20\r\n18446744073709551615\r\n$1\r\n3\r\n$1\r\n0\r\n");
}


static void
add_formats_scores_exactly(void **state)
{
    fixture_t  *f = *state;

    tk_cmds_add(&f->cmds, "ZADD k %f m %f n %f o", 41700000000.0, 0.5, -2.0);
    assert_resp(f, 0, "*8\r\n$4\r\nZADD\r\n$1\r\nk\r\n$11\r\n41700000000\r\n"
                "$1\r\nm\r\n$3\r\n0.5\r\n$1\r\nn\r\n$2\r\n-2\r\n$1\r\no\r\n");
}


static void
add_percent_and_joined_conversions(void **state)
{
    fixture_t  *f = *state;
    tk_str_t    g = S("legal");

    tk_cmds_add(&f->cmds, "HINCRBY c %S:%d:%s 100%%", &g, 2, "*");
    assert_resp(f, 0, "*4\r\n$7\r\nHINCRBY\r\n$1\r\nc\r\n$9\r\nlegal:2:*\r\n"
                "$4\r\n100%\r\n");
}


static void
add_unknown_conversion_fails_the_list(void **state)
{
    fixture_t  *f = *state;

    tk_cmds_add(&f->cmds, "GET %x", 1);
    assert_true(f->cmds.failed);
}


static void
argv_encodes_each_argument(void **state)
{
    fixture_t  *f = *state;
    tk_str_t    argv[] = { S("SADD"), S("k"), S("a b"), S("") };

    tk_cmds_argv(&f->cmds, 4, argv);
    assert_resp(f, 0, "*4\r\n$4\r\nSADD\r\n$1\r\nk\r\n$3\r\na b\r\n$0\r\n\r\n");
}


static void
multi_exec_wrap_commands(void **state)
{
    fixture_t  *f = *state;

    tk_cmds_multi(&f->cmds);
    tk_cmds_add(&f->cmds, "INCR n");
    tk_cmds_exec(&f->cmds);

    assert_int_equal(f->cmds.n, 3);
    assert_resp(f, 0, "*1\r\n$5\r\nMULTI\r\n");
    assert_resp(f, 2, "*1\r\n$4\r\nEXEC\r\n");
    /* commands are contiguous: the whole buffer can be written at once */
    assert_int_equal(f->cmds.len, resp(f, 0).len + resp(f, 1).len
                     + resp(f, 2).len);
}


static void
raw_appends_encoded_command(void **state)
{
    fixture_t  *f = *state;

    tk_cmds_raw(&f->cmds, "*1\r\n$4\r\nPING\r\n", 14);
    assert_resp(f, 0, "*1\r\n$4\r\nPING\r\n");
}


static void
buffer_grows_across_many_commands(void **state)
{
    fixture_t  *f = *state;
    char        big[10000];
    int         i;

    memset(big, 'x', sizeof(big));

    for (i = 0; i < 500; i++) {
        tk_cmds_add(&f->cmds, "SET k%d %b", i, big, (size_t) (i * 20));
    }

    assert_int_equal(f->cmds.n, 500);
    decode_all(f);
    assert_memory_equal(resp(f, 499).data, "*3\r\n$3\r\nSET\r\n$4\r\nk499\r\n"
                        "$9980\r\nxxx", 30);
}


static void *
failing_alloc(void *data, size_t size)
{
    return NULL;
}


static void
allocation_failure_marks_list_failed(void **state)
{
    tk_cmds_t  c;

    tk_cmds_init(&c, failing_alloc, NULL);
    tk_cmds_add(&c, "PING");
    assert_true(c.failed);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(add_splits_on_spaces, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(add_expands_strings, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(add_keeps_empty_arguments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(add_is_binary_safe_with_b, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(add_formats_numbers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(add_formats_scores_exactly, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(add_percent_and_joined_conversions,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(add_unknown_conversion_fails_the_list,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(argv_encodes_each_argument, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(multi_exec_wrap_commands, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(raw_appends_encoded_command, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(buffer_grows_across_many_commands,
                                        setup, teardown),
        cmocka_unit_test(allocation_failure_marks_list_failed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
