/*
 * test_outbox.c -- the outbox part of the shared write path
 * (tk_outbox.c) as mailbridge's sender uses it, asserted on the commands
 * sent to Redis: a finished entry leaves the stream, its pending list and
 * the retry schedule; a retry is a ZADD in ms; a notice is a new entry.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tk_outbox.h"

#define S(lit)  { sizeof(lit) - 1, (unsigned char *) lit }

static char  text[65536];


/* every command as "ARG ARG ...\n" (checks the RESP framing) */
static const char *
decode(const tk_cmds_t *c)
{
    char    *o = text;
    size_t   i;

    assert_false(c->failed);

    for (i = 0; i < c->n; i++) {
        tk_str_t    s = tk_cmds_get(c, i);
        const char *p = (const char *) s.data;
        long        argc, len, k;
        char       *e;

        assert_int_equal(*p, '*');
        argc = strtol(p + 1, &e, 10);
        p = e + 2;
        for (k = 0; k < argc; k++) {
            assert_int_equal(*p, '$');
            len = strtol(p + 1, &e, 10);
            p = e + 2;
            memcpy(o, p, (size_t) len);
            o += len;
            *o++ = k + 1 < argc ? ' ' : '\n';
            p += len + 2;
        }
        assert_true(p == (const char *) s.data + s.len);
    }

    *o = '\0';
    return text;
}


static void
done_unschedules(void **state)
{
    tk_arena_t  a;
    tk_cmds_t   c;
    tk_str_t    id = S("1700000000000-0");

    tk_arena_init(&a);
    tk_cmds_init(&c, tk_arena_alloc, &a);
    tk_outbox_done(&c, &id);
    assert_string_equal(decode(&c),
        "XACK tk:{ix}:outbox mailbridge 1700000000000-0\n"
        "XDEL tk:{ix}:outbox 1700000000000-0\n"
        "ZREM tk:{ix}:outbox:retry 1700000000000-0\n");
    tk_arena_reset(&a);
}


static void
retry_and_notice(void **state)
{
    tk_arena_t  a;
    tk_cmds_t   c;
    tk_str_t    id = S("1700000000000-3");
    tk_str_t    info = S("451 4.3.0 later");

    tk_arena_init(&a);
    tk_cmds_init(&c, tk_arena_alloc, &a);
    tk_outbox_delivery(&c, 42, 108, TK_DELIVERY_QUEUED, &info, 3, 1700000100);
    tk_outbox_retry(&c, &id, 1700000160000LL);
    tk_outbox_notice(&c, 42, 108);
    assert_string_equal(decode(&c),
        "HSET tk:{t:42}:a:108 delivery queued delivery_info 451 4.3.0 later"
        " delivery_tries 3 delivery_time 1700000100\n"
        "HINCRBY tk:{t:42} rev 1\n"
        "XADD tk:{ix}:feed MAXLEN ~ 100000 * ticket 42 event delivery src mail"
        " by mailbridge article 108 delivery queued delivery_tries 3"
        " delivery_info 451 4.3.0 later\n"
        "ZADD tk:{ix}:outbox:retry 1700000160000 1700000000000-3\n"
        "XADD tk:{ix}:outbox * ticket 42 article 108 kind notice\n");
    tk_arena_reset(&a);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(done_unschedules),
        cmocka_unit_test(retry_and_notice),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
