/*
 * test_write_path.c -- the shared write path (tk_ticket.c,
 * tk_ticket_index.c, tk_article.c): the commands a ticket's write,
 * index, update and history send to Redis, decoded like redis-cli
 * MONITOR output.
 */

#include "cmd_fixture.h"
#include "tk_ticket.h"


/* ---- the write path ----------------------------------------------------- */

static void
ticket_fixture(tk_ticket_t *t)
{
    memset(t, 0, sizeof(tk_ticket_t));
    t->number = 7;
    tk_str_set(&t->title, "Gewahrsam nach Demo");
    tk_str_set(&t->group, "legal");
    t->customer = 3;
    tk_str_set(&t->customer_name, "Ana Beispiel");
    tk_str_set(&t->customer_email, "ana@example.net");
    t->state = TK_STATE_NEW;
    t->priority = TK_PRIO_NORMAL;
    t->created = 1700000000;
    t->updated = 1700000000;
}


static void
ticket_write_sets_every_field(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  t;

    ticket_fixture(&t);
    tk_ticket_write(&f->cmds, &t);
    decode_all(f);

    assert_has_line(f, "HSET tk:{t:7} number 7 title Gewahrsam nach Demo "
                    "group legal owner  customer 3 customer_name Ana "
                    "Beispiel customer_email ana@example.net state 1 "
                    "priority 2 created 1700000000 updated 1700000000 "
                    "first_response  escalation_at  pending_until  flags  "
                    "articles 0 tags ");
    /* rev counts writes for the page cache; never part of the HSET */
    assert_has_line(f, "HINCRBY tk:{t:7} rev 1");
    assert_int_equal(f->cmds.n, 2);
}


static void
ticket_index_add_covers_both_partitions(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  t;

    ticket_fixture(&t);
    tk_ticket_index_add(&f->cmds, &t);
    decode_all(f);

    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:1:o:-:by:upd 1700000000 7");
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:1:o:-:by:crt 7 7");
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:1:o:-:by:pri 21700000000 7");
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:1:o:-:by:ttl 0 "
                    "gewahrsam nach demo|00000000000000000007");
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:1:o:-:by:cst 0 "
                    "ana beispiel|00000000000000000007");
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:1:o:*:by:upd 1700000000 7");
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:1:o:*:by:own 0 "
                    "|00000000000000000007");
    assert_no_line_prefix(f, "o:-:by:own");
    assert_has_line(f, "HINCRBY tk:{ix}:counts legal:1:- 1");
    assert_has_line(f, "INCR tk:{ix}:gen");
    assert_has_line(f, "HINCRBY tk:{ix}:counts legal:1:* 1");
    /* and their packed copies: "-" at 8 + state, "*" at state */
    assert_has_line(f, "BITFIELD tk:{ix}:cv:legal INCRBY i32 #9 1");
    assert_has_line(f, "BITFIELD tk:{ix}:cv:legal INCRBY i32 #1 1");
    /* the customer page's list (issue 13): score = created */
    assert_has_line(f, "ZADD tk:{ix}:cust:tickets:3 1700000000 7");
    /* the class partitions: numeric sorts only, no counts */
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:open:o:-:by:upd "
                    "1700000000 7");
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:open:o:*:by:pri "
                    "21700000000 7");
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:all:o:*:by:crt 7 7");
    assert_no_line_prefix(f, "s:open:o:-:by:ttl");
    assert_no_line_prefix(f, "s:all:o:-:");
    /* the list row, fields joined by 0x1f (decoded as '|'), with the
     * tags (none) and the customer id last */
    assert_has_line(f, "HSET tk:{ix}:rows 7 7|Gewahrsam nach Demo|"
                    "Ana Beispiel|ana@example.net|legal||1|2|1700000000|"
                    "1700000000||3");
    assert_has_line(f, "HINCRBY tk:{ix}:counts:pri legal:1:-:2 1");
    assert_has_line(f, "HINCRBY tk:{ix}:counts:pri legal:1:*:2 1");
    /* 5 sorts + 6 sorts + 2 counts + their 2 vectors + 2 priority
     * counts + 3 x 3 class sorts + 1 row + the customer's list */
    assert_int_equal(f->cmds.n, 29);
}


static void
ticket_index_del_mirrors_add(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  t;

    ticket_fixture(&t);
    tk_str_set(&t.owner, "ju");
    tk_ticket_index_del(&f->cmds, &t);
    decode_all(f);

    assert_has_line(f, "ZREM tk:{ix}:g:legal:s:1:o:ju:by:upd 7");
    assert_has_line(f, "ZREM tk:{ix}:g:legal:s:1:o:ju:by:ttl "
                    "gewahrsam nach demo|00000000000000000007");
    assert_has_line(f, "ZREM tk:{ix}:g:legal:s:1:o:*:by:own "
                    "ju|00000000000000000007");
    assert_has_line(f, "HINCRBY tk:{ix}:counts legal:1:ju -1");
    assert_has_line(f, "HINCRBY tk:{ix}:counts legal:1:* -1");
    assert_has_line(f, "BITFIELD tk:{ix}:cv:legal:ju INCRBY i32 #1 -1");
    assert_has_line(f, "BITFIELD tk:{ix}:cv:legal INCRBY i32 #1 -1");
    assert_int_equal(count_prefix(f, "ZADD"), 0);
}


static void
ticket_update_moves_index_and_records_history(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  old, new;
    tk_str_t     by = S("franka");

    ticket_fixture(&old);
    new = old;
    tk_str_set(&new.group, "ALSO");
    tk_str_set(&new.owner, "franka");
    new.state = TK_STATE_OPEN;

    tk_ticket_update(&f->cmds, &old, &new, &by, 1700000100);
    decode_all(f);

    /* out of the old partitions */
    assert_has_line(f, "ZREM tk:{ix}:g:legal:s:1:o:-:by:upd 7");
    assert_has_line(f, "ZREM tk:{ix}:g:legal:s:1:o:*:by:own "
                    "|00000000000000000007");
    assert_has_line(f, "HINCRBY tk:{ix}:counts legal:1:- -1");
    assert_has_line(f, "HINCRBY tk:{ix}:counts legal:1:* -1");
    /* into the new ones, with the new updated time */
    assert_has_line(f, "ZADD tk:{ix}:g:ALSO:s:2:o:franka:by:upd "
                    "1700000100 7");
    assert_has_line(f, "ZADD tk:{ix}:g:ALSO:s:2:o:*:by:own 0 "
                    "franka|00000000000000000007");
    assert_has_line(f, "HINCRBY tk:{ix}:counts ALSO:2:franka 1");
    assert_has_line(f, "HINCRBY tk:{ix}:counts ALSO:2:* 1");
    assert_has_line(f, "BITFIELD tk:{ix}:cv:legal INCRBY i32 #9 -1");
    assert_has_line(f, "BITFIELD tk:{ix}:cv:ALSO:franka INCRBY i32 #2 1");
    assert_has_line(f, "BITFIELD tk:{ix}:cv:ALSO INCRBY i32 #2 1");
    /* one history entry per changed field, nothing for the others */
    assert_has_line(f, "XADD tk:{t:7}:history * time 1700000100 by franka "
                    "field group from legal to ALSO");
    assert_has_line(f, "XADD tk:{t:7}:history * time 1700000100 by franka "
                    "field owner from  to franka");
    assert_has_line(f, "XADD tk:{t:7}:history * time 1700000100 by franka "
                    "field state from 1 to 2");
    assert_int_equal(count_prefix(f, "XADD tk:{t:7}:history"), 3);
    assert_int_equal(count_prefix(f, "HSET tk:{t:7} "), 1);
    /* 11 index sets, 9 class sets and the customer's list each way */
    assert_int_equal(count_prefix(f, "ZREM"), 21);
    assert_int_equal(count_prefix(f, "ZADD"), 21);
    assert_has_line(f, "ZREM tk:{ix}:g:legal:s:open:o:-:by:upd 7");
    assert_has_line(f, "ZADD tk:{ix}:g:ALSO:s:open:o:franka:by:upd "
                    "1700000100 7");
    assert_int_equal(count_prefix(f, "HSET tk:{ix}:rows 7 "), 1);
    /* one generation bump per change, not one per index pass */
    assert_int_equal(count_prefix(f, "INCR tk:{ix}:gen"), 1);
}


static void
ticket_update_in_place_keeps_counts(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  old, new;
    tk_str_t     by = S("ju");

    ticket_fixture(&old);
    new = old;
    tk_str_set(&new.title, "Gewahrsam \"Kessel\"");

    tk_ticket_update(&f->cmds, &old, &new, &by, 1700000200);
    decode_all(f);

    assert_int_equal(count_prefix(f, "HINCRBY tk:{ix}:counts"), 0);
    assert_has_line(f, "ZREM tk:{ix}:g:legal:s:1:o:-:by:ttl "
                    "gewahrsam nach demo|00000000000000000007");
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:1:o:-:by:ttl 0 "
                    "gewahrsam \"kessel\"|00000000000000000007");
    assert_has_line(f, "XADD tk:{t:7}:history * time 1700000200 by ju "
                    "field title from Gewahrsam nach Demo to "
                    "Gewahrsam \"Kessel\"");
    assert_int_equal(count_prefix(f, "XADD tk:{t:7}:history"), 1);
}


/* A reply or a follow-up: the same partition, a new "updated" -- the
 * score sets take the new score, the lexical ones are left alone. */
static void
ticket_update_in_place_only_rescores(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  old, new;
    tk_str_t     by = S("ju");

    ticket_fixture(&old);
    new = old;
    new.first_response = 1700000300;

    tk_ticket_update(&f->cmds, &old, &new, &by, 1700000300);
    decode_all(f);

    assert_int_equal(count_prefix(f, "ZREM"), 0);
    /* upd, crt, pri in the owner partition and in "*"; the 3 x 3 class
     * sorts; the customer's list (a ZADD replaces the score) */
    assert_int_equal(count_prefix(f, "ZADD"), 16);
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:open:o:*:by:upd "
                    "1700000300 7");
    /* the list row follows every change (title, "updated") */
    assert_int_equal(count_prefix(f, "HSET tk:{ix}:rows 7 "), 1);
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:1:o:-:by:upd 1700000300 7");
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:1:o:*:by:upd 1700000300 7");
    assert_no_line_prefix(f, "by:ttl");
    assert_no_line_prefix(f, "by:own");
    assert_int_equal(count_prefix(f, "HINCRBY tk:{ix}:counts"), 0);
    assert_int_equal(count_prefix(f, "INCR tk:{ix}:gen"), 1);
}


/* Newsletters and auto-replies must not clutter "unassigned": owner "!". */
static void
ticket_index_puts_unassigned_auto_under_bang(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  t;

    ticket_fixture(&t);
    tk_str_set(&t.flags, "bounce,auto");
    tk_ticket_index_add(&f->cmds, &t);
    decode_all(f);

    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:1:o:!:by:upd 1700000000 7");
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:1:o:!:by:ttl 0 "
                    "gewahrsam nach demo|00000000000000000007");
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:1:o:*:by:upd 1700000000 7");
    assert_has_line(f, "HINCRBY tk:{ix}:counts legal:1:! 1");
    assert_has_line(f, "HINCRBY tk:{ix}:counts legal:1:* 1");
    assert_has_line(f, "BITFIELD tk:{ix}:cv:legal INCRBY i32 #17 1");
    assert_no_line_prefix(f, "o:-:");
    assert_no_line_prefix(f, "o:!:by:own");
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:open:o:!:by:upd "
                    "1700000000 7");
    assert_int_equal(f->cmds.n, 29);
}


static void
ticket_index_auto_with_owner_stays_the_owners(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  t;

    ticket_fixture(&t);
    tk_str_set(&t.flags, "auto");
    tk_str_set(&t.owner, "ju");
    tk_ticket_index_add(&f->cmds, &t);
    decode_all(f);

    assert_has_line(f, "HINCRBY tk:{ix}:counts legal:1:ju 1");
    assert_no_line_prefix(f, "o:!:");
    assert_no_line_prefix(f, "legal:1:!");
}


static void
ticket_update_flag_auto_moves_partition_and_counts(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  old, new;

    ticket_fixture(&old);
    new = old;
    tk_str_set(&new.flags, "auto");

    tk_ticket_update(&f->cmds, &old, &new, NULL, 1700000000);
    decode_all(f);

    assert_has_line(f, "ZREM tk:{ix}:g:legal:s:1:o:-:by:upd 7");
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:1:o:!:by:upd 1700000000 7");
    assert_has_line(f, "HINCRBY tk:{ix}:counts legal:1:- -1");
    assert_has_line(f, "HINCRBY tk:{ix}:counts legal:1:! 1");
    assert_has_line(f, "HINCRBY tk:{ix}:counts legal:1:* -1");
    assert_has_line(f, "HINCRBY tk:{ix}:counts legal:1:* 1");
    /* flags have no history entry of their own */
    assert_int_equal(count_prefix(f, "XADD tk:{t:7}:history"), 0);
}


static void
ticket_update_assigning_auto_leaves_bang(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  old, new;
    tk_str_t     by = S("franka");

    ticket_fixture(&old);
    tk_str_set(&old.flags, "auto");
    new = old;
    tk_str_set(&new.owner, "franka");

    tk_ticket_update(&f->cmds, &old, &new, &by, 1700000100);
    decode_all(f);

    assert_has_line(f, "ZREM tk:{ix}:g:legal:s:1:o:!:by:upd 7");
    assert_has_line(f, "HINCRBY tk:{ix}:counts legal:1:! -1");
    assert_has_line(f, "HINCRBY tk:{ix}:counts legal:1:franka 1");
    assert_no_line_prefix(f, "legal:1:- ");
}


static void
ticket_update_auto_in_place_keeps_counts(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  old, new;

    ticket_fixture(&old);
    tk_str_set(&old.flags, "auto");
    old.state = TK_STATE_OPEN;
    new = old;
    tk_str_set(&new.title, "Newsletter");

    tk_ticket_update(&f->cmds, &old, &new, NULL, 1700000200);
    decode_all(f);

    assert_int_equal(count_prefix(f, "HINCRBY tk:{ix}:counts"), 0);
    assert_has_line(f, "ZADD tk:{ix}:g:legal:s:2:o:!:by:upd 1700000200 7");
}


/* issue 13: a tag change keeps the tag sets and counts; the tags that
 * stay follow "updated"; history and the feed say what changed */
static void
ticket_update_tags_keeps_tag_sets(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  old, new;
    tk_str_t     by = tk_string("franka");

    ticket_fixture(&old);
    tk_str_set(&old.tags, "asyl,miete");
    new = old;
    tk_str_set(&new.tags, "eilt,miete");

    tk_ticket_update(&f->cmds, &old, &new, &by, 1700000100);
    decode_all(f);

    assert_has_line(f, "ZADD tk:{ix}:tag:eilt 1700000100 7");
    assert_has_line(f, "ZADD tk:{ix}:tag:miete 1700000100 7");
    assert_has_line(f, "ZREM tk:{ix}:tag:asyl 7");
    assert_has_line(f, "ZINCRBY tk:{ix}:tags 1 eilt");
    assert_has_line(f, "ZINCRBY tk:{ix}:tags -1 asyl");
    assert_int_equal(count_prefix(f, "ZINCRBY tk:{ix}:tags"), 2);
    assert_has_line(f, "ZREMRANGEBYSCORE tk:{ix}:tags -inf 0");
    assert_has_line(f, "XADD tk:{t:7}:history * time 1700000100 by franka "
                    "field tags from asyl,miete to eilt,miete");
    assert_int_equal(count_prefix(f, "XADD tk:{ix}:feed"), 1);
}


static void
ticket_update_keeps_tag_scores_in_step(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  old, new;

    ticket_fixture(&old);
    tk_str_set(&old.tags, "miete");
    new = old;
    new.state = TK_STATE_OPEN;

    tk_ticket_update(&f->cmds, &old, &new, NULL, 1700000300);
    decode_all(f);

    assert_has_line(f, "ZADD tk:{ix}:tag:miete 1700000300 7");
    assert_int_equal(count_prefix(f, "ZINCRBY"), 0);
    assert_int_equal(count_prefix(f, "XADD tk:{t:7}:history"), 1);
}


static void
ticket_create_writes_indexes_and_history(void **state)
{
    fixture_t   *f = *state;
    tk_ticket_t  t;

    ticket_fixture(&t);
    tk_ticket_create(&f->cmds, &t, NULL);
    decode_all(f);

    assert_int_equal(count_prefix(f, "HSET tk:{t:7} "), 1);
    assert_int_equal(count_prefix(f, "ZADD"), 21);   /* + customer list */
    /* no from/to at all for the creation (the stream has no null) */
    assert_has_line(f, "XADD tk:{t:7}:history * time 1700000000 by system "
                    "field created");
}


static void
article_write_stores_indexes_and_participants(void **state)
{
    fixture_t     *f = *state;
    tk_article_t   a;
    tk_str_t       group = S("legal");

    memset(&a, 0, sizeof(a));
    a.id = 11;
    a.ticket = 7;
    a.kind = TK_ART_IN;
    tk_str_set(&a.from, "\"Beispiel, Ana\" <Ana@Example.NET>");
    tk_str_set(&a.to, "legal@example.org, Bob <bob@x.org>");
    tk_str_set(&a.cc, "undisclosed-recipients:;");
    tk_str_set(&a.subject, "Gewahrsam");
    tk_str_set(&a.message_id, "<m1@example.net>");
    tk_str_set(&a.body, "Hallo");
    a.time = 1700000000;

    tk_article_write(&f->cmds, &a, &group);
    decode_all(f);

    assert_has_line(f, "RPUSH tk:{t:7}:articles 11");
    assert_has_line(f, "HINCRBY tk:{t:7} articles 1");
    assert_has_line(f, "SET tk:mid:<m1@example.net> 7:11");
    assert_has_line(f, "FT.SAFEADD tk:ft:articles tk:{t:7}:a:11 1.0 NOSAVE "
                    "REPLACE LANGUAGE german FIELDS ticket 7 group legal "
                    "kind in subject gewahrsam body hallo from \"beispiel, "
                    "ana\" <ana@example.net> attachments  time 1700000000");
    assert_has_line(f, "SADD tk:{t:7}:participants ana@example.net "
                    "legal@example.org bob@x.org");
    assert_int_equal(count_prefix(f, "HSET tk:{t:7}:a:11 id 11 ticket 7 "
                                  "kind in "), 1);
}


static void
note_has_no_participants_or_message_id(void **state)
{
    fixture_t     *f = *state;
    tk_article_t   a;
    tk_str_t       group = S("legal");

    memset(&a, 0, sizeof(a));
    a.id = 12;
    a.ticket = 7;
    a.kind = TK_ART_NOTE;
    tk_str_set(&a.from, "franka@example.org");
    tk_str_set(&a.body, "intern");

    tk_article_write(&f->cmds, &a, &group);
    decode_all(f);

    assert_int_equal(count_prefix(f, "SADD"), 0);
    assert_int_equal(count_prefix(f, "SET "), 0);
    assert_int_equal(count_prefix(f, "FT.SAFEADD"), 1);
}


static void
customer_write_indexes_lower_case_email(void **state)
{
    fixture_t  *f = *state;
    tk_str_t    name = S("Ana"), email = S("Ana@Example.NET");

    tk_customer_write(&f->cmds, 3, &name, &email);
    decode_all(f);

    assert_has_line(f, "HSET tk:{c:3} id 3 name Ana email Ana@Example.NET");
    assert_has_line(f, "HSET tk:customer-by-email ana@example.net 3");
}


static void
ticket_parse_reads_what_write_wrote(void **state)
{
    tk_ticket_t  t;
    tk_str_t     pairs[] = {
        S("number"), S("7"), S("title"), S("T"), S("group"), S("legal"),
        S("owner"), S(""), S("state"), S("3"), S("priority"), S("4"),
        S("created"), S("100"), S("updated"), S("200"),
        S("first_response"), S(""), S("customer"), S("3"),
        S("articles"), S("2"), S("unknown"), S("x")
    };

    assert_int_equal(tk_ticket_parse(&t, pairs, 12), 0);
    assert_int_equal(t.number, 7);
    assert_int_equal(t.state, 3);
    assert_int_equal(t.priority, 4);
    assert_int_equal(t.updated, 200);
    assert_int_equal(t.first_response, 0);
    assert_int_equal(t.customer, 3);
    assert_int_equal(t.articles, 2);
    assert_int_equal(t.owner.len, 0);
    assert_memory_equal(t.group.data, "legal", 5);

    pairs[9] = (tk_str_t) S("9");   /* priority out of range */
    assert_int_equal(tk_ticket_parse(&t, pairs, 12), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(ticket_write_sets_every_field, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            ticket_index_add_covers_both_partitions, setup, teardown),
        cmocka_unit_test_setup_teardown(ticket_index_del_mirrors_add, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            ticket_update_moves_index_and_records_history, setup, teardown),
        cmocka_unit_test_setup_teardown(ticket_update_in_place_only_rescores,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(ticket_update_in_place_keeps_counts,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            ticket_index_puts_unassigned_auto_under_bang, setup, teardown),
        cmocka_unit_test_setup_teardown(
            ticket_index_auto_with_owner_stays_the_owners, setup, teardown),
        cmocka_unit_test_setup_teardown(
            ticket_update_flag_auto_moves_partition_and_counts, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            ticket_update_assigning_auto_leaves_bang, setup, teardown),
        cmocka_unit_test_setup_teardown(
            ticket_update_auto_in_place_keeps_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(
            ticket_create_writes_indexes_and_history, setup, teardown),
        cmocka_unit_test_setup_teardown(
            ticket_update_tags_keeps_tag_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(
            ticket_update_keeps_tag_scores_in_step, setup, teardown),
        cmocka_unit_test_setup_teardown(
            article_write_stores_indexes_and_participants, setup, teardown),
        cmocka_unit_test_setup_teardown(
            note_has_no_participants_or_message_id, setup, teardown),
        cmocka_unit_test_setup_teardown(
            customer_write_indexes_lower_case_email, setup, teardown),
        cmocka_unit_test(ticket_parse_reads_what_write_wrote),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
