/*
 * test_trigger.c -- trigger rules (redis-schema/tk_trigger.c): the
 * shipped default on German subjects (whole words, any case, umlauts
 * folded by UTF + UCP; "Fristverlängerung" matches by decision, see
 * docs/user-guide.md "Triggers"), the exact conditions, and invalid
 * rules refused with PCRE2's message and offset.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tk_trigger.h"

#define S(lit)  { sizeof(lit) - 1, (unsigned char *) lit }


/* A rule from field/value C strings (NULL-terminated list). */
static int
load(tk_trigger_t *t, tk_trigger_error_t *err, ...)
{
    tk_str_t     pairs[40];
    const char  *s;
    size_t       n = 0;
    va_list      ap;

    va_start(ap, err);
    while ((s = va_arg(ap, const char *)) != NULL && n < 40) {
        pairs[n].data = (unsigned char *) s;
        pairs[n].len = strlen(s);
        n++;
    }
    va_end(ap);

    return tk_trigger_load(t, "1", pairs, n / 2, err);
}


static tk_trigger_input_t
input(const char *subject)
{
    tk_trigger_input_t  in;

    memset(&in, 0, sizeof(in));
    in.subject.data = (unsigned char *) subject;
    in.subject.len = strlen(subject);
    in.group.data = (unsigned char *) "legal";
    in.group.len = 5;
    in.priority = TK_PRIO_NORMAL;
    in.state = TK_STATE_NEW;
    return in;
}


static int
subject_matches(const tk_trigger_t *t, const char *subject)
{
    tk_trigger_input_t  in = input(subject);
    void               *md = tk_trigger_match_data();
    int                 rc;

    rc = tk_trigger_match(t, TK_TRIGGER_ON_CREATE, &in, md);
    tk_trigger_match_data_free(md);
    return rc;
}


static void
test_default_german_subjects(void **state)
{
    tk_trigger_t        t;
    tk_trigger_error_t  err;
    size_t              i;

    static const struct {
        const char  *subject;
        int          match;
    } cases[] = {
        { "DRINGEND: Frist morgen", 1 },
        { "Eilt!", 1 },
        { "eilt", 1 },
        { "Fristverl\xc3\xa4ngerung", 1 },           /* decided: yes */
        { "FRISTVERL\xc3\x84NGERUNG beantragt", 1 }, /* Ä folds to ä */
        { "Fristen und Termine", 1 },
        { "Widerspruchsfrist endet Freitag", 1 },    /* ... -frist */
        { "Einspruchsfristen", 1 },
        { "dringende Bitte um R\xc3\xbc" "ckruf", 1 },
        { "Re: [Ticket#42] dringend!!", 1 },
        { "\xc3\x9c" "berdringend", 0 },              /* Ü is a letter */
        { "Ausfristung", 0 },
        { "Befristung meines Vertrags", 0 },
        { "befristet", 0 },
        { "Er teilt mit", 0 },
        { "Beilt", 0 },
        { "nicht eilig", 0 },
        { "Hausdurchsuchung", 0 },
        { "", 0 },
    };

    (void) state;
    assert_int_equal(load(&t, &err, TK_F_TRG_NAME, TK_TRIGGER_DEFAULT_NAME,
                          TK_F_TRG_SUBJECT, TK_TRIGGER_DEFAULT_SUBJECT,
                          TK_F_TRG_ICASE, "1", TK_F_TRG_SET_PRIORITY,
                          "urgent", NULL), 0);
    assert_int_equal(t.set_priority, TK_PRIO_URGENT);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (subject_matches(&t, cases[i].subject) != cases[i].match) {
            fail_msg("\"%s\" should %smatch", cases[i].subject,
                     cases[i].match ? "" : "not ");
        }
    }

    tk_trigger_free(&t);
}


/* without icase the same pattern is case-sensitive */
static void
test_icase_option(void **state)
{
    tk_trigger_t        t;
    tk_trigger_error_t  err;

    (void) state;
    assert_int_equal(load(&t, &err, TK_F_TRG_NAME, "x", TK_F_TRG_SUBJECT,
                          "\\bStra\xc3\x9f" "e\\b", NULL), 0);
    assert_true(subject_matches(&t, "Die Stra\xc3\x9f" "e"));
    assert_false(subject_matches(&t, "DIE STRA\xc3\x9f" "E"));
    tk_trigger_free(&t);

    /* UCP: \b and \w know umlauts; caseless Ü = ü */
    assert_int_equal(load(&t, &err, TK_F_TRG_NAME, "x", TK_F_TRG_SUBJECT,
                          "\\b\xc3\xbc" "ber\\w+", TK_F_TRG_ICASE, "1",
                          NULL), 0);
    assert_true(subject_matches(&t, "\xc3\x9c" "berwachung"));
    assert_false(subject_matches(&t, "F\xc3\xbc" "berwachung"));
    tk_trigger_free(&t);
}


static void
test_conditions(void **state)
{
    tk_trigger_t        t;
    tk_trigger_error_t  err;
    tk_trigger_input_t  in;
    void               *md = tk_trigger_match_data();

    (void) state;
    assert_int_equal(load(&t, &err, TK_F_TRG_NAME, "c", TK_F_TRG_ON, "update",
                          TK_F_TRG_GROUP, "ALSO,legal", TK_F_TRG_PRIORITY,
                          "normal,high", TK_F_TRG_STATE, "new", TK_F_TRG_AUTO,
                          "0", TK_F_TRG_FROM, "@polizei\\.de$", NULL), 0);

    in = input("x");
    in.from.data = (unsigned char *) "wache@polizei.de";
    in.from.len = strlen("wache@polizei.de");

    assert_false(tk_trigger_match(&t, TK_TRIGGER_ON_CREATE, &in, md));
    assert_true(tk_trigger_match(&t, TK_TRIGGER_ON_UPDATE, &in, md));

    in.priority = TK_PRIO_URGENT;
    assert_false(tk_trigger_match(&t, TK_TRIGGER_ON_UPDATE, &in, md));
    in.priority = TK_PRIO_HIGH;
    in.autogen = 1;
    assert_false(tk_trigger_match(&t, TK_TRIGGER_ON_UPDATE, &in, md));
    in.autogen = 0;
    in.group.data = (unsigned char *) "Zivilrecht";
    in.group.len = strlen("Zivilrecht");
    assert_false(tk_trigger_match(&t, TK_TRIGGER_ON_UPDATE, &in, md));
    in.group.data = (unsigned char *) "ALSO";
    in.group.len = 4;
    in.state = TK_STATE_OPEN;
    assert_false(tk_trigger_match(&t, TK_TRIGGER_ON_UPDATE, &in, md));
    in.state = TK_STATE_NEW;
    assert_true(tk_trigger_match(&t, TK_TRIGGER_ON_UPDATE, &in, md));
    in.from.len = 0;                         /* no sender: no match */
    assert_false(tk_trigger_match(&t, TK_TRIGGER_ON_UPDATE, &in, md));

    t.active = 0;
    in.from.len = strlen("wache@polizei.de");
    assert_false(tk_trigger_match(&t, TK_TRIGGER_ON_UPDATE, &in, md));

    tk_trigger_free(&t);
    tk_trigger_match_data_free(md);
}


static void
test_actions(void **state)
{
    tk_trigger_t        t;
    tk_trigger_error_t  err;

    (void) state;
    assert_int_equal(load(&t, &err, TK_F_TRG_NAME, "a", TK_F_TRG_SET_STATE,
                          "open", TK_F_TRG_SET_OWNER, "-", TK_F_TRG_SET_GROUP,
                          "Zivilrecht", TK_F_TRG_NOTIFY, "anna,@legal",
                          TK_F_TRG_NOTE, "Zeile 1\nZeile 2", NULL), 0);
    assert_int_equal(t.set_state, TK_STATE_OPEN);
    assert_string_equal(t.set_owner, "");       /* "-" unassigns */
    assert_string_equal(t.set_group, "Zivilrecht");
    assert_string_equal(t.notify, "anna,@legal");
    assert_string_equal(t.note, "Zeile 1\nZeile 2");
    tk_trigger_free(&t);
}


static void
test_invalid_pattern(void **state)
{
    tk_trigger_t        t;
    tk_trigger_error_t  err;

    (void) state;
    assert_int_equal(load(&t, &err, TK_F_TRG_NAME, "k", TK_F_TRG_SUBJECT,
                          "Frist(morgen", NULL), -1);
    assert_string_equal(err.field, TK_F_TRG_SUBJECT);
    assert_string_equal(err.message, "missing closing parenthesis");
    assert_int_equal(err.offset, 12);
    tk_trigger_free(&t);

    /* the offset counts bytes of the UTF-8 pattern */
    assert_int_equal(load(&t, &err, TK_F_TRG_NAME, "k", TK_F_TRG_BODY,
                          "\xc3\xa4[z-a]", NULL), -1);
    assert_string_equal(err.field, TK_F_TRG_BODY);
    assert_string_equal(err.message, "range out of order in character class");
    assert_int_equal(err.offset, 5);
    tk_trigger_free(&t);

    assert_int_equal(tk_trigger_check_pattern("(?<=a+)b", 0, &err), -1);
    assert_non_null(strstr(err.message, "lookbehind"));
    assert_true(err.offset >= 0);
    assert_int_equal(tk_trigger_check_pattern(TK_TRIGGER_DEFAULT_SUBJECT, 1,
                                              &err), 0);
}


static void
test_invalid_fields(void **state)
{
    static const char *const  bad[][2] = {
        { TK_F_TRG_ON, "sometimes" },
        { TK_F_TRG_PRIORITY, "urgent,sofort" },
        { TK_F_TRG_STATE, "offen" },
        { TK_F_TRG_AUTO, "ja" },
        { TK_F_TRG_SET_PRIORITY, "9" },
        { TK_F_TRG_SET_OWNER, "anna,bert" },
        { TK_F_TRG_NOTIFY, "anna,@le gal" },
        { TK_F_TRG_GROUP, "a:b" },
        { TK_F_TRG_NAME, "a,b" },
        { TK_F_TRG_NAME, "a\r\nX-Evil: 1" },
    };
    tk_trigger_t        t;
    tk_trigger_error_t  err;
    size_t              i;

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (load(&t, &err, TK_F_TRG_NAME, "n", bad[i][0], bad[i][1], NULL)
            != -1)
        {
            fail_msg("%s = \"%s\" accepted", bad[i][0], bad[i][1]);
        }
        assert_int_equal(err.offset, -1);
        tk_trigger_free(&t);
    }

    assert_int_equal(load(&t, &err, TK_F_TRG_SUBJECT, "x", NULL), -1);
    assert_string_equal(err.field, TK_F_TRG_NAME);
    tk_trigger_free(&t);
}


/* the module's path: every byte from the caller's allocator (an arena
 * here, the request pool there), the same verdicts */
static void
test_load_alloc(void **state)
{
    tk_arena_t          arena;
    tk_trigger_t        t;
    tk_trigger_error_t  err;
    tk_str_t            pairs[4] = { S("name"), S("p"), S("subject"),
                                     S("(?<!\\p{L})frist\\p{L}*") };
    void               *md;

    (void) state;
    tk_arena_init(&arena);
    assert_int_equal(tk_trigger_load_alloc(&t, "9", pairs, 2, &err,
                                           tk_arena_alloc, &arena), 0);
    md = tk_trigger_match_data();
    {
        tk_trigger_input_t  in = input("zum fristablauf");

        assert_true(tk_trigger_match(&t, TK_TRIGGER_ON_CREATE, &in, md));
    }
    tk_trigger_match_data_free(md);
    tk_trigger_free(&t);

    pairs[3] = (tk_str_t) S("a{2,1}");
    assert_int_equal(tk_trigger_load_alloc(&t, "9", pairs, 2, &err,
                                           tk_arena_alloc, &arena), -1);
    assert_string_equal(err.field, "subject");
    assert_string_equal(err.message,
                        "numbers out of order in {} quantifier");
    assert_int_equal(err.offset, 5);
    tk_trigger_free(&t);
    tk_arena_reset(&arena);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_default_german_subjects),
        cmocka_unit_test(test_icase_option),
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_invalid_pattern),
        cmocka_unit_test(test_invalid_fields),
        cmocka_unit_test(test_load_alloc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
