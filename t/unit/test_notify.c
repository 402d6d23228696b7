/*
 * test_notify.c -- notification settings (redis-schema/tk_notify.c):
 * Zammad's defaults, every cell of the matrix deciding alone, the groups
 * of the scope "unassigned", parsing over the defaults, the command list
 * that stores them, and "@@login" found where it is meant (not in mail
 * addresses, not with a trailing full stop).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tk_notify.h"

#define S(lit)  { sizeof(lit) - 1, (unsigned char *) lit }

static void *
alloc(void *data, size_t size)
{
    (void) data;
    return test_malloc(size);
}


static void
test_defaults(void **state)
{
    tk_notify_conf_t  c;
    tk_str_t          g = S("legal");
    tk_notify_ctx_t   mine = { 1, 0, 0, &g }, nobody = { 0, 1, 0, &g },
                      sub = { 0, 0, 1, &g }, other = { 0, 0, 0, &g };

    (void) state;
    tk_notify_conf_default(&c);

    /* Zammad: create/update for mine, unassigned, subscribed */
    assert_true(tk_notify_wants(&c, TK_NEV_CREATE, &mine));
    assert_true(tk_notify_wants(&c, TK_NEV_CREATE, &nobody));
    assert_true(tk_notify_wants(&c, TK_NEV_UPDATE, &sub));
    assert_false(tk_notify_wants(&c, TK_NEV_UPDATE, &other));
    /* reminder and escalation for mine only */
    assert_true(tk_notify_wants(&c, TK_NEV_REMINDER, &mine));
    assert_false(tk_notify_wants(&c, TK_NEV_REMINDER, &nobody));
    assert_true(tk_notify_wants(&c, TK_NEV_ESCALATION, &mine));
    assert_false(tk_notify_wants(&c, TK_NEV_ESCALATION, &sub));
    assert_true(c.email);
    assert_true(c.assigned);
    assert_int_equal(c.digest, TK_DIGEST_OFF);
    assert_false(tk_notify_wants(&c, TK_NEV_N, &mine));
}


/* one ticked cell: it alone says yes, for exactly its situation */
static void
test_each_cell(void **state)
{
    tk_notify_conf_t  c;
    tk_str_t          g = S("legal");
    tk_notify_ctx_t   sit[TK_NSC_N] = {
        { 1, 0, 0, &g }, { 0, 1, 0, &g }, { 0, 0, 1, &g }, { 0, 0, 0, &g }
    };
    int               ev, sc, e2, s2, want;

    (void) state;

    for (ev = 0; ev < TK_NEV_N; ev++) {
        for (sc = 0; sc < TK_NSC_N; sc++) {
            memset(&c, 0, sizeof(c));
            c.m[ev][sc] = 1;
            for (e2 = 0; e2 < TK_NEV_N; e2++) {
                for (s2 = 0; s2 < TK_NSC_N; s2++) {
                    want = e2 == ev && (sc == TK_NSC_ALL || s2 == sc);
                    assert_int_equal(tk_notify_wants(&c, e2, &sit[s2]), want);
                }
            }
        }
    }
}


static void
test_unassigned_groups(void **state)
{
    tk_notify_conf_t  c;
    tk_str_t          legal = S("legal"), also = S("ALSO"), leg = S("leg");
    tk_notify_ctx_t   a = { 0, 1, 0, &legal }, b = { 0, 1, 0, &also },
                      d = { 0, 1, 0, &leg };
    tk_str_t          pairs[] = { S("groups"), S("Zivil,legal"),
                                  S("create:unassigned"), S("1") };

    (void) state;
    memset(&c, 0, sizeof(c));
    tk_notify_conf_parse(&c, pairs, 2);
    assert_true(tk_notify_wants(&c, TK_NEV_CREATE, &a));
    assert_false(tk_notify_wants(&c, TK_NEV_CREATE, &b));
    assert_false(tk_notify_wants(&c, TK_NEV_CREATE, &d));   /* no prefix */
}


static void
test_parse(void **state)
{
    tk_notify_conf_t  c;
    tk_str_t          pairs[] = {
        S("create:mine"), S("0"), S("escalation:all"), S("1"),
        S("email"), S("0"), S("digest"), S("daily"), S("assigned"), S("0"),
        S("bogus:mine"), S("1"), S("create:bogus"), S("1"),
    };

    (void) state;
    tk_notify_conf_default(&c);
    tk_notify_conf_parse(&c, pairs, 7);
    assert_false(c.m[TK_NEV_CREATE][TK_NSC_MINE]);
    assert_true(c.m[TK_NEV_CREATE][TK_NSC_UNASSIGNED]);     /* default kept */
    assert_true(c.m[TK_NEV_ESCALATION][TK_NSC_ALL]);
    assert_false(c.email);
    assert_false(c.assigned);
    assert_int_equal(c.digest, TK_DIGEST_DAILY);
}


static void
test_write(void **state)
{
    tk_cmds_t         cmds;
    tk_notify_conf_t  c;
    tk_str_t          login = S("anna"), cmd;

    (void) state;
    tk_notify_conf_default(&c);
    c.digest = TK_DIGEST_HOURLY;
    tk_cmds_init(&cmds, alloc, NULL);
    tk_notify_conf_write(&cmds, &login, &c);
    assert_false(cmds.failed);
    /* DEL, one HSET of the flags, sixteen cells */
    assert_int_equal(cmds.n, 2 + TK_NEV_N * TK_NSC_N);
    cmd = tk_cmds_get(&cmds, 0);
    assert_non_null(memmem(cmd.data, cmd.len, "tk:{u:anna}:notify", 18));
    cmd = tk_cmds_get(&cmds, 1);
    assert_non_null(memmem(cmd.data, cmd.len, "hourly", 6));
    /* the test allocator checks for leaks: the list's memory */
    test_free(cmds.buf);
    test_free(cmds.cmd);
}


static void
test_mentions(void **state)
{
    tk_str_t   text = S("@@anna, frag mal @@bert.schulz. Nicht: x@@carla, "
                        "mail@@dora.de, @@@eve, @@ leer, (@@frank.) @@GROSS");
    const char *want[] = { "anna", "bert.schulz", "frank" };
    size_t     pos = 0, i = 0;
    tk_str_t   m;

    (void) state;
    while (tk_mention_next(&text, &pos, &m)) {
        assert_true(i < 3);
        assert_int_equal(m.len, strlen(want[i]));
        assert_memory_equal(m.data, want[i], m.len);
        i++;
    }
    assert_int_equal(i, 3);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_each_cell),
        cmocka_unit_test(test_unassigned_groups),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_write),
        cmocka_unit_test(test_mentions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
