/*
 * test_feed.c -- the change feed (redis-schema/tk_feed.c): every write of
 * the shared write path puts exactly one XADD tk:{ix}:feed into its
 * MULTI ... EXEC, with who, from where and what changed; neighbouring
 * parts of one change of one ticket make one entry.
 */

#include "cmd_fixture.h"
#include "tk_feed.h"
#include "tk_outbox.h"
#include "tk_ticket.h"

#define XADD    "XADD tk:{ix}:feed MAXLEN ~ " TK_FEED_MAXLEN " * "


/* The one feed line, which must lie between MULTI and EXEC. */
static void
assert_one_entry(fixture_t *f, const char *fields)
{
    char         want[4096];
    const char  *multi, *xadd, *exec;

    decode_all(f);
    snprintf(want, sizeof(want), XADD "%s\n", fields);

    if (count_prefix(f, "XADD tk:{ix}:feed ") != 1) {
        print_error("want exactly one feed entry in:\n%s", f->text);
        fail();
    }

    xadd = strstr(f->text, want);
    if (xadd == NULL) {
        print_error("missing \"%s\" in:\n%s", want, f->text);
        fail();
    }

    multi = strstr(f->text, "MULTI\n");
    exec = strstr(f->text, "EXEC\n");
    assert_true(multi == f->text);
    assert_non_null(exec);
    assert_true(multi < xadd && xadd < exec);
}


static void
ticket_fixture(tk_ticket_t *t)
{
    memset(t, 0, sizeof(tk_ticket_t));
    t->number = 7;
    tk_str_set(&t->title, "Gewahrsam nach Demo");
    tk_str_set(&t->group, "legal");
    t->state = TK_STATE_NEW;
    t->priority = TK_PRIO_NORMAL;
    t->created = 1700000000;
    t->updated = 1700000000;
}


static void
article_fixture(tk_article_t *a, int kind)
{
    memset(a, 0, sizeof(tk_article_t));
    a->id = 11;
    a->ticket = 7;
    a->kind = kind;
    tk_str_set(&a->from, "ana@example.net");
    tk_str_set(&a->subject, "Gewahrsam");
    tk_str_set(&a->body, "Hallo");
    a->time = 1700000000;
}


static void
create_appends_one_entry_inside_multi(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  t;
    tk_str_t     sanne = S("sanne");

    ticket_fixture(&t);
    tk_cmds_actor(&f->cmds, &sanne, TK_SRC_WEB);
    tk_cmds_multi(&f->cmds);
    tk_ticket_create(&f->cmds, &t, NULL);
    tk_cmds_exec(&f->cmds);

    assert_one_entry(f, "ticket 7 rev 1 event created src web by sanne "
                     "group legal");
}


/* a mail's new ticket and its first article are one change */
static void
create_and_first_article_make_one_entry(void **state)
{
    fixture_t     *f = *state;
    tk_ticket_t    t;
    tk_article_t   a;
    tk_str_t       ana = S("ana@example.net"), group = S("legal");

    ticket_fixture(&t);
    article_fixture(&a, TK_ART_IN);
    tk_cmds_actor(&f->cmds, &ana, TK_SRC_MAIL);
    tk_cmds_multi(&f->cmds);
    tk_ticket_create(&f->cmds, &t, NULL);
    tk_article_write(&f->cmds, &a, &group);
    tk_cmds_exec(&f->cmds);

    assert_one_entry(f, "ticket 7 rev 2 event created src mail "
                     "by ana@example.net group legal article 11 kind in");
}


static void
update_names_changed_fields_with_old_and_new(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  old, new;
    tk_str_t     by = S("franka");

    ticket_fixture(&old);
    old.rev = 5;
    new = old;
    tk_str_set(&new.group, "ALSO");
    tk_str_set(&new.owner, "franka");
    new.state = TK_STATE_OPEN;

    tk_cmds_actor(&f->cmds, &by, TK_SRC_API);
    tk_cmds_multi(&f->cmds);
    tk_ticket_update(&f->cmds, &old, &new, &by, 1700000100);
    tk_cmds_exec(&f->cmds);

    assert_one_entry(f, "ticket 7 rev 6 event update src api by franka "
                     "group ALSO changed group,owner,state group ALSO "
                     "group.from legal owner franka owner.from  "
                     "state 2 state.from 1");
}


/* the history keeps its own format: the feed is beside it, not in it */
static void
update_keeps_history_entries(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  old, new;
    tk_str_t     by = S("ju");

    ticket_fixture(&old);
    new = old;
    new.priority = TK_PRIO_URGENT;

    tk_cmds_actor(&f->cmds, &by, TK_SRC_WEB);
    tk_cmds_multi(&f->cmds);
    tk_ticket_update(&f->cmds, &old, &new, &by, 1700000100);
    tk_cmds_exec(&f->cmds);

    /* rev unknown (the ticket was not read): left out, never guessed */
    assert_one_entry(f, "ticket 7 event update src web by ju group legal "
                     "changed priority priority 4 priority.from 2");
    assert_int_equal(count_prefix(f, "XADD tk:{t:7}:history * time 1700000100"
                                  " by ju field priority from 2 to 4\n"), 1);
}


static void
article_alone_names_its_kind(void **state)
{
    fixture_t     *f = *state;
    tk_article_t   a;
    tk_str_t       group = S("legal"), sanne = S("sanne");

    article_fixture(&a, TK_ART_OUT);
    a.author = sanne;
    tk_cmds_actor(&f->cmds, &sanne, TK_SRC_WEB);
    tk_cmds_multi(&f->cmds);
    tk_article_write(&f->cmds, &a, &group);
    tk_outbox_enqueue(&f->cmds, 7, 11, 1700000000);
    tk_cmds_exec(&f->cmds);

    assert_one_entry(f, "ticket 7 event article src web by sanne "
                     "group legal article 11 kind out");
}


/* a reply that also sets the state: one change */
static void
article_then_update_make_one_entry(void **state)
{
    fixture_t     *f = *state;
    tk_ticket_t    old, new;
    tk_article_t   a;
    tk_str_t       group = S("legal"), sanne = S("sanne");

    ticket_fixture(&old);
    old.rev = 3;
    new = old;
    new.state = TK_STATE_WAITING;
    article_fixture(&a, TK_ART_OUT);

    tk_cmds_actor(&f->cmds, &sanne, TK_SRC_WEB);
    tk_cmds_multi(&f->cmds);
    tk_article_write(&f->cmds, &a, &group);
    tk_ticket_update(&f->cmds, &old, &new, &sanne, 1700000100);
    tk_cmds_exec(&f->cmds);

    assert_one_entry(f, "ticket 7 rev 5 event article src web by sanne "
                     "group legal changed state article 11 kind out "
                     "state 3 state.from 1");
}


static void
two_articles_are_two_entries(void **state)
{
    fixture_t     *f = *state;
    tk_article_t   a;
    tk_str_t       group = S("legal");

    article_fixture(&a, TK_ART_IN);
    tk_article_write(&f->cmds, &a, &group);
    a.id = 12;
    a.kind = TK_ART_NOTE;
    tk_article_write(&f->cmds, &a, &group);
    decode_all(f);

    assert_int_equal(count_prefix(f, XADD "ticket 7 event article src "
                                  "system by system group legal article 11 "
                                  "kind in\n"), 1);
    assert_int_equal(count_prefix(f, XADD "ticket 7 event article src "
                                  "system by system group legal article 12 "
                                  "kind note\n"), 1);
    assert_int_equal(count_prefix(f, "XADD tk:{ix}:feed "), 2);
}


/* mailbridge's batch: each mail its own sender, its own entry */
static void
another_actor_is_another_entry(void **state)
{
    fixture_t     *f = *state;
    tk_ticket_t    t;
    tk_article_t   a;
    tk_str_t       ana = S("ana@example.net"), bob = S("bob@example.net");
    tk_str_t       group = S("legal");

    ticket_fixture(&t);
    article_fixture(&a, TK_ART_IN);
    tk_cmds_actor(&f->cmds, &ana, TK_SRC_MAIL);
    tk_ticket_create(&f->cmds, &t, NULL);
    tk_cmds_actor(&f->cmds, &bob, TK_SRC_MAIL);
    tk_article_write(&f->cmds, &a, &group);
    decode_all(f);

    assert_int_equal(count_prefix(f, "XADD tk:{ix}:feed "), 2);
    assert_int_equal(count_prefix(f, XADD "ticket 7 event article src mail "
                                  "by bob@example.net"), 1);
}


static void
without_actor_by_comes_from_the_write(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  old, new;
    tk_str_t     by = S("ticketctl");

    ticket_fixture(&old);
    new = old;
    tk_str_set(&new.title, "Neu");
    tk_ticket_update(&f->cmds, &old, &new, &by, 1700000100);
    decode_all(f);

    assert_int_equal(count_prefix(f, XADD "ticket 7 event update src system "
                                  "by ticketctl group legal changed title "
                                  "title Neu title.from Gewahrsam nach "
                                  "Demo\n"), 1);
}


static void
nofeed_and_fulltext_repair_write_no_entry(void **state)
{
    fixture_t     *f = *state;
    tk_ticket_t    t;
    tk_article_t   a;
    tk_str_t       group = S("legal");

    article_fixture(&a, TK_ART_IN);
    tk_article_write_flags(&f->cmds, &a, &group, TK_ARTICLE_FT_ONLY);
    decode_all(f);
    assert_int_equal(count_prefix(f, XADD), 0);

    ticket_fixture(&t);
    tk_cmds_nofeed(&f->cmds);
    tk_ticket_create(&f->cmds, &t, NULL);
    tk_article_write_flags(&f->cmds, &a, &group, TK_ARTICLE_NO_FULLTEXT);
    decode_all(f);
    assert_int_equal(count_prefix(f, XADD), 0);
    assert_int_equal(count_prefix(f, "HSET tk:{t:7} "), 1);
}


static void
delivery_is_an_entry_of_its_own(void **state)
{
    fixture_t  *f = *state;
    tk_str_t    info = S("250 2.0.0 Ok: queued as 4XyZ"), id = S("1-0");

    /* no tk_cmds_actor: deliveries are mailbridge's */
    tk_cmds_multi(&f->cmds);
    tk_outbox_delivery(&f->cmds, 7, 11, TK_DELIVERY_SENT, &info, 1,
                       1700000000);
    tk_outbox_done(&f->cmds, &id);
    tk_cmds_exec(&f->cmds);

    assert_one_entry(f, "ticket 7 event delivery src mail by mailbridge "
                     "article 11 delivery sent delivery_tries 1 "
                     "delivery_info 250 2.0.0 Ok: queued as 4XyZ");
}


static void
article_flag_bumps_rev_and_tells_the_feed(void **state)
{
    fixture_t  *f = *state;
    tk_str_t    flags = S("signed,bounced");

    tk_cmds_multi(&f->cmds);
    tk_article_flag(&f->cmds, 7, 11, &flags, "bounced");
    tk_cmds_exec(&f->cmds);

    assert_one_entry(f, "ticket 7 event flag src system by mailbridge "
                     "article 11 flag bounced");
    assert_int_equal(count_prefix(f, "HSET tk:{t:7}:a:11 flags "
                                  "signed,bounced\n"), 1);
    assert_int_equal(count_prefix(f, "HINCRBY tk:{t:7} rev 1\n"), 1);
}


static void
rev_is_parsed_for_the_entry(void **state)
{
    tk_ticket_t  t;
    tk_str_t     pairs[] = {
        S("number"), S("7"), S("state"), S("2"), S("priority"), S("2"),
        S("rev"), S("41")
    };

    assert_int_equal(tk_ticket_parse(&t, pairs, 4), 0);
    assert_int_equal(t.rev, 41);
}


static void
source_names(void **unused)
{
    assert_string_equal(tk_src_name(TK_SRC_SYSTEM), "system");
    assert_string_equal(tk_src_name(TK_SRC_WEB), "web");
    assert_string_equal(tk_src_name(TK_SRC_API), "api");
    assert_string_equal(tk_src_name(TK_SRC_MAIL), "mail");
    assert_string_equal(tk_src_name(TK_SRC_CLI), "cli");
    assert_string_equal(tk_src_name(99), "system");
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            create_appends_one_entry_inside_multi, setup, teardown),
        cmocka_unit_test_setup_teardown(
            create_and_first_article_make_one_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(
            update_names_changed_fields_with_old_and_new, setup, teardown),
        cmocka_unit_test_setup_teardown(update_keeps_history_entries,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(article_alone_names_its_kind, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(article_then_update_make_one_entry,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(two_articles_are_two_entries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(another_actor_is_another_entry,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            without_actor_by_comes_from_the_write, setup, teardown),
        cmocka_unit_test_setup_teardown(
            nofeed_and_fulltext_repair_write_no_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(delivery_is_an_entry_of_its_own,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            article_flag_bumps_rev_and_tells_the_feed, setup, teardown),
        cmocka_unit_test(rev_is_parsed_for_the_entry),
        cmocka_unit_test(source_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
