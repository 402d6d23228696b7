/*

 * test_outbox_failed.c -- tk_outbox_delivery() keeps the admins' list of failed
 * mail (tk:{ix}:outbox:failed): a final failure is added, a later
 * success removes it, a try in between leaves it alone.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tk_cmd.h"
#include "tk_outbox.h"


/* Every command of c as one text, arguments separated by ' ', commands
 * by '\n' (RESP decoded). */
static void
decode(tk_cmds_t *c, char *out, size_t size)
{
    size_t   i;
    char    *o = out;

    for (i = 0; i < c->n; i++) {
        tk_str_t     s = tk_cmds_get(c, i);
        const char  *p = (const char *) s.data;
        long         argc, len, k;
        char        *e;

        argc = strtol(p + 1, &e, 10);
        p = e + 2;

        for (k = 0; k < argc; k++) {
            len = strtol(p + 1, &e, 10);
            p = e + 2;
            assert_true((size_t) (o - out) + (size_t) len + 2 < size);
            memcpy(o, p, (size_t) len);
            o += len;
            *o++ = k + 1 < argc ? ' ' : '\n';
            p += len + 2;
        }
    }

    *o = '\0';
}


static void
run(int state, char *text, size_t size)
{
    tk_arena_t  arena;
    tk_cmds_t   c;
    tk_str_t    info = { 8, (unsigned char *) "550 nope" };

    tk_arena_init(&arena);
    tk_cmds_init(&c, tk_arena_alloc, &arena);
    tk_outbox_delivery(&c, 42, 108, state, &info, 3, 2000000000);
    assert_false(c.failed);
    decode(&c, text, size);
    tk_arena_reset(&arena);
}


static void
failed_is_listed(void **state)
{
    char  text[4096];

    (void) state;
    run(TK_DELIVERY_FAILED, text, sizeof(text));
    assert_non_null(strstr(text, "ZADD " TK_KEY_OUTBOX_FAILED
                                 " 2000000000 42:108\n"));
    assert_non_null(strstr(text, "ZREMRANGEBYSCORE " TK_KEY_OUTBOX_FAILED
                                 " -inf 1998790400\n"));
}


static void
sent_is_unlisted(void **state)
{
    char  text[4096];

    (void) state;
    run(TK_DELIVERY_SENT, text, sizeof(text));
    assert_non_null(strstr(text, "ZREM " TK_KEY_OUTBOX_FAILED " 42:108\n"));
    assert_null(strstr(text, "ZADD"));
}


static void
queued_leaves_the_list(void **state)
{
    char  text[4096];

    (void) state;
    run(TK_DELIVERY_QUEUED, text, sizeof(text));
    assert_null(strstr(text, TK_KEY_OUTBOX_FAILED));
    assert_non_null(strstr(text, "delivery queued"));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(failed_is_listed),
        cmocka_unit_test(sent_is_unlisted),
        cmocka_unit_test(queued_leaves_the_list),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
