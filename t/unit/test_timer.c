/*
 * test_timer.c -- the write path of a ticket's timers
 * (redis-schema/tk_timer.c): which commands a recompute, an escalation
 * and a reminder put into the MULTI, decoded one per line.
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
#include "tk_feed.h"
#include "tk_timer.h"

#define S(lit)  { sizeof(lit) - 1, (unsigned char *) lit }

typedef struct {
    tk_arena_t  arena;
    tk_cmds_t   cmds;
    char        text[64 * 1024];
} fixture_t;


static int
setup(void **state)
{
    static const tk_str_t  mb = S("mailbridge");
    fixture_t             *f;

    f = calloc(1, sizeof(fixture_t));
    tk_arena_init(&f->arena);
    tk_cmds_init(&f->cmds, tk_arena_alloc, &f->arena);
    tk_cmds_actor(&f->cmds, &mb, TK_SRC_SYSTEM);
    *state = f;
    return 0;
}


static int
teardown(void **state)
{
    fixture_t  *f = *state;

    tk_arena_reset(&f->arena);
    free(f);
    return 0;
}


static const char *
decode(fixture_t *f)
{
    char    *o = f->text;
    size_t   i;

    assert_false(f->cmds.failed);

    for (i = 0; i < f->cmds.n; i++) {
        tk_str_t    s = tk_cmds_get(&f->cmds, i);
        const char *p = (const char *) s.data;
        long        argc, len, k;
        char       *e;

        argc = strtol(p + 1, &e, 10);
        p = e + 2;
        for (k = 0; k < argc; k++) {
            len = strtol(p + 1, &e, 10);
            p = e + 2;
            memcpy(o, p, (size_t) len);
            o += len;
            p += len + 2;
            *o++ = k + 1 < argc ? ' ' : '\n';
        }
    }

    *o = '\0';
    return f->text;
}


static void
has(fixture_t *f, const char *line)
{
    if (strstr(f->text, line) == NULL) {
        print_error("missing \"%s\" in:\n%s", line, f->text);
        fail();
    }
}


static void
hasnt(fixture_t *f, const char *line)
{
    if (strstr(f->text, line) != NULL) {
        print_error("unexpected \"%s\" in:\n%s", line, f->text);
        fail();
    }
}


static void
ticket(tk_ticket_t *t)
{
    static const tk_str_t  g = S("legal"), o = S("sanne");

    memset(t, 0, sizeof(tk_ticket_t));
    t->number = 42;
    t->group = g;
    t->owner = o;
    t->state = TK_STATE_NEW;
    t->priority = TK_PRIO_URGENT;
    t->created = 1000;
    t->rev = 7;
}


static void
test_recompute_new(void **state)
{
    fixture_t         *f = *state;
    tk_ticket_t        t;
    tk_timer_state_t   ts;

    ticket(&t);
    memset(&ts, 0, sizeof(ts));
    tk_ticket_set_escalation(&f->cmds, &t, &ts, 87400, 0, 0, 2000);
    decode(f);

    has(f, "HSET tk:{t:42} escalation_at 87400\n");
    has(f, "ZADD tk:{ix}:due:escalation:0 87400 42\n");
    /* the shard's bound in the index only ever moves earlier here */
    has(f, "ZADD tk:{ix}:due:escalation LT 87400 0\n");
    has(f, "ZREM tk:{ix}:due:reminder:0 42\n");
    hasnt(f, "ZREM tk:{ix}:due:reminder 0");
    has(f, "HINCRBY tk:{t:42} rev 1\n");
    has(f, "changed escalation_at escalation_at 87400 escalation_at.from \n");
    has(f, "by mailbridge");
    hasnt(f, "tk:{t:42}:history");
}


static void
test_recompute_unchanged_writes_no_field(void **state)
{
    fixture_t         *f = *state;
    tk_ticket_t        t;
    tk_timer_state_t   ts;

    ticket(&t);
    t.escalation_at = 87400;
    memset(&ts, 0, sizeof(ts));
    tk_ticket_set_escalation(&f->cmds, &t, &ts, 87400, 0, 0, 2000);
    decode(f);

    /* the due entry is made sure of, nothing else: no rev, no feed */
    has(f, "ZADD tk:{ix}:due:escalation:0 87400 42\n");
    hasnt(f, "HSET");
    hasnt(f, "HINCRBY");
    hasnt(f, "XADD");
}


static void
test_first_response_takes_back(void **state)
{
    static const tk_str_t  ix = S("legal sanne");
    fixture_t             *f = *state;
    tk_ticket_t            t;
    tk_timer_state_t       ts;

    ticket(&t);
    t.escalation_at = 87400;
    memset(&ts, 0, sizeof(ts));
    ts.escalated = 87401;
    ts.ix = ix;
    tk_ticket_set_escalation(&f->cmds, &t, &ts, 0, 90000, 0, 90000);
    decode(f);

    has(f, "HSET tk:{t:42} first_response 90000\n");
    has(f, "HSET tk:{t:42} escalation_at \n");
    has(f, "HSET tk:{t:42} escalated \n");
    has(f, "ZREM tk:{ix}:due:escalation:0 42\n");
    has(f, "ZREM tk:{ix}:esc:g:legal 42\n");
    has(f, "ZREM tk:{ix}:esc:o:sanne 42\n");
    has(f, "field escalated from 87401 to \n");
}


static void
test_escalate(void **state)
{
    fixture_t         *f = *state;
    tk_ticket_t        t;
    tk_timer_state_t   ts;

    ticket(&t);
    t.escalation_at = 87400;
    memset(&ts, 0, sizeof(ts));
    tk_ticket_escalate(&f->cmds, &t, &ts, 87401);
    decode(f);

    has(f, "ZREM tk:{ix}:due:escalation:0 42\n");
    has(f, "HSET tk:{t:42} escalated 87401\n");
    has(f, "ZADD tk:{ix}:esc:g:legal 87400 42\n");
    has(f, "ZADD tk:{ix}:esc:o:sanne 87400 42\n");
    has(f, "HSET tk:{t:42} timer_ix legal sanne\n");
    has(f, "XADD tk:{t:42}:history * time 87401 by mailbridge field escalated to 87401\n");
    has(f, "XADD tk:{ix}:notify * event escalated ticket 42 group legal owner sanne due 87400 time 87401\n");
    has(f, "INCR tk:{ix}:gen\n");
    has(f, "rev 8");
}


static void
test_remind_and_leave(void **state)
{
    static const tk_str_t  none = S("");
    fixture_t             *f = *state;
    tk_ticket_t            t;
    tk_timer_state_t       ts;

    ticket(&t);
    t.owner = none;
    t.state = TK_STATE_REMINDER;
    t.pending_until = 5000;
    memset(&ts, 0, sizeof(ts));
    tk_ticket_remind(&f->cmds, &t, &ts, 5001);
    decode(f);

    has(f, "ZREM tk:{ix}:due:reminder:0 42\n");
    has(f, "HSET tk:{t:42} reminded 5000\n");
    has(f, "ZADD tk:{ix}:remdue:o:- 5000 42\n");
    has(f, "event reminder ticket 42 group legal owner  due 5000");

    /* then the ticket leaves the reminder state: out of "reminders due" */
    {
        static const tk_str_t  ix = S("legal -");

        tk_arena_reset(&f->arena);
        tk_cmds_init(&f->cmds, tk_arena_alloc, &f->arena);
        t.state = TK_STATE_OPEN;
        ts.reminded = 5000;
        ts.ix = ix;
        tk_ticket_set_escalation(&f->cmds, &t, &ts, 0, 0, 0, 6000);
        decode(f);
        has(f, "HSET tk:{t:42} reminded \n");
        has(f, "ZREM tk:{ix}:remdue:o:- 42\n");
        has(f, "ZREM tk:{ix}:due:reminder:0 42\n");
    }
}


static void
test_moved_group(void **state)
{
    static const tk_str_t  ix = S("ALSO sanne"), g = S("legal");
    fixture_t             *f = *state;
    tk_ticket_t            t;
    tk_timer_state_t       ts;

    ticket(&t);
    t.group = g;
    t.escalation_at = 87400;
    memset(&ts, 0, sizeof(ts));
    ts.escalated = 87401;
    ts.ix = ix;
    tk_ticket_set_escalation(&f->cmds, &t, &ts, 87400, 0, 0, 90000);
    decode(f);

    has(f, "ZREM tk:{ix}:esc:g:ALSO 42\n");
    has(f, "ZADD tk:{ix}:esc:g:legal 87400 42\n");
    has(f, "HSET tk:{t:42} timer_ix legal sanne\n");
    hasnt(f, "ZADD tk:{ix}:due:escalation");
}


/* timers (issue 11, memory): ticket N lives in shard N / TK_DUE_SHARD */
static void
test_due_shards(void **state)
{
    fixture_t  *f = *state;
    char        key[TK_KEY_MAX];

    assert_int_equal(tk_timer_due_key(key, sizeof(key),
                                      TK_KEY_DUE_ESCALATION, 127), 24);
    assert_string_equal(key, "tk:{ix}:due:escalation:0");
    tk_timer_due_key(key, sizeof(key), TK_KEY_DUE_ESCALATION, 128);
    assert_string_equal(key, "tk:{ix}:due:escalation:1");
    tk_timer_due_key(key, sizeof(key), TK_KEY_DUE_REMINDER, 1000000);
    assert_string_equal(key, "tk:{ix}:due:reminder:7812");
    assert_int_equal(tk_timer_due_key(key, 10, TK_KEY_DUE_REMINDER, 1), 0);

    tk_timer_due_add(&f->cmds, TK_KEY_DUE_REMINDER, 1000000, 5000);
    tk_timer_drop(&f->cmds, TK_KEY_DUE_REMINDER, 1000001);
    tk_timer_due_bound(&f->cmds, TK_KEY_DUE_REMINDER, 7812, 6000);
    tk_timer_due_bound(&f->cmds, TK_KEY_DUE_ESCALATION, 3, 0);
    decode(f);
    assert_string_equal(f->text,
        "ZADD tk:{ix}:due:reminder:7812 5000 1000000\n"
        "ZADD tk:{ix}:due:reminder LT 5000 7812\n"
        "ZREM tk:{ix}:due:reminder:7812 1000001\n"
        "ZADD tk:{ix}:due:reminder 6000 7812\n"
        "ZREM tk:{ix}:due:escalation 3\n");
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recompute_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recompute_unchanged_writes_no_field,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_response_takes_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_escalate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remind_and_leave, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moved_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_due_shards, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
