/*
 * test_schema.c -- enum names and labels, key builders, validators,
 * rights and index members (redis-schema/tk_schema.c).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tk_schema.h"

#define S(lit)  { sizeof(lit) - 1, (unsigned char *) lit }


static void
state_names_round_trip(void **unused)
{
    int          s;
    const char  *name;

    for (s = TK_STATE_MIN; s <= TK_STATE_MAX; s++) {
        name = tk_state_name(s);
        assert_non_null(name);
        assert_int_equal(tk_state_parse(name, strlen(name)), s);
    }

    assert_null(tk_state_name(0));
    assert_null(tk_state_name(7));
}


static void
state_labels_follow_the_faq(void **unused)
{
    assert_string_equal(tk_state_label_de(TK_STATE_NEW), "neu");
    assert_string_equal(tk_state_label_de(TK_STATE_OPEN), "in Bearbeitung");
    assert_string_equal(tk_state_label_de(TK_STATE_WAITING),
                        "warte auf R\xc3\xbc" "ckmeldung");
    assert_string_equal(tk_state_label_de(TK_STATE_REMINDER),
                        "warte auf R\xc3\xbc" "ckmeldung mit Erinnerung");
    assert_string_equal(tk_state_label_de(TK_STATE_DEFERRED),
                        "zur\xc3\xbc" "ckgestellt");
    assert_string_equal(tk_state_label_de(TK_STATE_CLOSED), "erledigt");
    assert_string_equal(tk_state_label_en(TK_STATE_OPEN), "in progress");
    assert_string_equal(tk_state_label_en(TK_STATE_REMINDER),
                        "waiting with reminder");
    assert_string_equal(tk_state_label_en(TK_STATE_CLOSED), "closed");
}


static void
state_parse_accepts_digits_and_labels_only(void **unused)
{
    assert_int_equal(tk_state_parse("2", 1), TK_STATE_OPEN);
    assert_int_equal(tk_state_parse("6", 1), TK_STATE_CLOSED);
    assert_int_equal(tk_state_parse("OPEN", 4), TK_STATE_OPEN);
    assert_int_equal(tk_state_parse("erledigt", 8), TK_STATE_CLOSED);
    assert_int_equal(tk_state_parse("0", 1), 0);
    assert_int_equal(tk_state_parse("7", 1), 0);
    assert_int_equal(tk_state_parse("", 0), 0);
    assert_int_equal(tk_state_parse("opened", 6), 0);
    assert_int_equal(tk_state_parse("open", 3), 0);     /* "ope" */
}


static void
state_open_means_one_to_five(void **unused)
{
    assert_true(tk_state_is_open(TK_STATE_NEW));
    assert_true(tk_state_is_open(TK_STATE_DEFERRED));
    assert_false(tk_state_is_open(TK_STATE_CLOSED));
    assert_false(tk_state_is_open(0));
}


static void
prio_names_and_labels(void **unused)
{
    int          p;
    const char  *name;

    for (p = TK_PRIO_MIN; p <= TK_PRIO_MAX; p++) {
        name = tk_prio_name(p);
        assert_int_equal(tk_prio_parse(name, strlen(name)), p);
    }

    assert_string_equal(tk_prio_label_de(TK_PRIO_URGENT), "DRINGEND!");
    assert_string_equal(tk_prio_label_de(TK_PRIO_LOW), "niedrig");
    assert_string_equal(tk_prio_label_en(TK_PRIO_URGENT), "URGENT");
    assert_int_equal(tk_prio_parse("4", 1), TK_PRIO_URGENT);
    assert_int_equal(tk_prio_parse("5", 1), 0);
    assert_null(tk_prio_name(5));
}


static void
kinds_rights_and_sorts_round_trip(void **unused)
{
    int          i;
    const char  *name;

    for (i = TK_ART_IN; i <= TK_ART_NOTE; i++) {
        name = tk_article_kind_name(i);
        assert_int_equal(tk_article_kind_parse(name, strlen(name)), i);
    }

    assert_string_equal(tk_article_kind_name(TK_ART_NOTE), "note");
    assert_int_equal(tk_right_parse("read", 4), TK_RIGHT_READ);
    assert_int_equal(tk_right_parse("full", 4), TK_RIGHT_FULL);
    assert_int_equal(tk_right_parse("write", 5), -1);
    assert_string_equal(tk_right_name(TK_RIGHT_FULL), "full");

    for (i = 0; i < TK_SORT_N; i++) {
        name = tk_sort_column(i);
        assert_int_equal(tk_sort_parse_column(name, strlen(name)), i);
    }

    assert_int_equal(tk_sort_parse_column("number", 6), TK_SORT_CREATED);
    assert_int_equal(tk_sort_parse_column("bogus", 5), -1);
    assert_true(tk_sort_is_lex(TK_SORT_TITLE));
    assert_false(tk_sort_is_lex(TK_SORT_PRIORITY));
}


static void
key_builders_use_hash_tags(void **unused)
{
    char      buf[TK_KEY_MAX];
    tk_str_t  login = S("franka"), group = S("ALSO"), sid = S("abc");
    tk_str_t  mid = S("<m1@x.test>");

    assert_int_equal(tk_key_ticket(buf, sizeof(buf), 42), 9);
    assert_string_equal(buf, "tk:{t:42}");
    tk_key_ticket_articles(buf, sizeof(buf), 42);
    assert_string_equal(buf, "tk:{t:42}:articles");
    tk_key_article(buf, sizeof(buf), 42, 7);
    assert_string_equal(buf, "tk:{t:42}:a:7");
    tk_key_history(buf, sizeof(buf), 42);
    assert_string_equal(buf, "tk:{t:42}:history");
    tk_key_participants(buf, sizeof(buf), 42);
    assert_string_equal(buf, "tk:{t:42}:participants");
    tk_key_attachment(buf, sizeof(buf), 42, 7, 3);
    assert_string_equal(buf, "tk:{t:42}:a:7:att:3");
    tk_key_raw(buf, sizeof(buf), 42, 7);
    assert_string_equal(buf, "tk:{t:42}:a:7:raw");
    tk_key_user(buf, sizeof(buf), &login);
    assert_string_equal(buf, "tk:{u:franka}");
    tk_key_group(buf, sizeof(buf), &group);
    assert_string_equal(buf, "tk:{g:ALSO}");
    tk_key_customer(buf, sizeof(buf), 9);
    assert_string_equal(buf, "tk:{c:9}");
    tk_key_session(buf, sizeof(buf), &sid);
    assert_string_equal(buf, "tk:{s:abc}");
    tk_key_token(buf, sizeof(buf), &sid);
    assert_string_equal(buf, "tk:{k:abc}");
    tk_key_msgid(buf, sizeof(buf), &mid);
    assert_string_equal(buf, "tk:mid:<m1@x.test>");
}


/* The printf formats and the builders are made of the same pieces: they
 * must spell every key alike (and the SCAN patterns must match them). */
static void
key_formats_agree_with_builders(void **unused)
{
    char      buf[TK_KEY_MAX], fmt[TK_KEY_MAX];
    tk_str_t  login = S("franka"), group = S("ALSO"), sid = S("abc");
    tk_str_t  mid = S("m1@x.test"), owner = S("-");

#define SAME(build, ...)                                                     \
    build;                                                                   \
    snprintf(fmt, sizeof(fmt), __VA_ARGS__);                                 \
    assert_string_equal(buf, fmt)

    SAME(tk_key_ticket(buf, sizeof(buf), 42), TK_FMT_TICKET, 42ULL);
    SAME(tk_key_ticket_articles(buf, sizeof(buf), 42), TK_FMT_TICKET_ARTS,
         42ULL);
    SAME(tk_key_article(buf, sizeof(buf), 42, 7), TK_FMT_ARTICLE, 42ULL, 7ULL);
    SAME(tk_key_attachment(buf, sizeof(buf), 42, 7, 3), TK_FMT_ATTACHMENT,
         42ULL, 7ULL, 3U);
    SAME(tk_key_raw(buf, sizeof(buf), 42, 7), TK_FMT_RAW, 42ULL, 7ULL);
    SAME(tk_key_history(buf, sizeof(buf), 42), TK_FMT_HISTORY, 42ULL);
    SAME(tk_key_participants(buf, sizeof(buf), 42), TK_FMT_PARTICIPANTS,
         42ULL);
    SAME(tk_key_user(buf, sizeof(buf), &login), TK_FMT_USER, "franka");
    SAME(tk_key_group(buf, sizeof(buf), &group), TK_FMT_GROUP, "ALSO");
    SAME(tk_key_customer(buf, sizeof(buf), 9), TK_FMT_CUSTOMER, 9ULL);
    SAME(tk_key_session(buf, sizeof(buf), &sid), TK_FMT_SESSION, "abc");
    SAME(tk_key_token(buf, sizeof(buf), &sid), TK_FMT_TOKEN, "abc");
    SAME(tk_key_msgid(buf, sizeof(buf), &mid), TK_FMT_MSGID, "m1@x.test");
    SAME(tk_key_index(buf, sizeof(buf), &group, 2, &owner, TK_SORT_TITLE),
         TK_FMT_INDEX, "ALSO", 2, "-", "ttl");
#undef SAME

    assert_string_equal(TK_FMTS_USER, "tk:{u:%S}");
    assert_string_equal(TK_FMTS_QUARANTINE, "tk:quarantine:%S");
    assert_string_equal(TK_PATTERN_TICKET_KEYS, "tk:{t:*");
    assert_string_equal(TK_PATTERN_ARTICLES, "tk:{t:*}:a:*");
    assert_string_equal(TK_PATTERN_INDEX, "tk:{ix}:g:*");
}


/* reindex finds ticket and article hashes among SCAN results by this */
static void
key_parse_tells_tickets_and_articles(void **unused)
{
    uint64_t  n, a;

#define PARSE(k) tk_key_parse(k, sizeof(k) - 1, &n, &a)

    n = a = 0;
    assert_int_equal(PARSE("tk:{t:42}"), TK_KEY_IS_TICKET);
    assert_int_equal(n, 42);
    assert_int_equal(PARSE("tk:{t:42}:a:7"), TK_KEY_IS_ARTICLE);
    assert_int_equal(n, 42);
    assert_int_equal(a, 7);
    assert_int_equal(PARSE("tk:{t:42}:a:7:att:1"), 0);
    assert_int_equal(PARSE("tk:{t:42}:a:7:raw"), 0);
    assert_int_equal(PARSE("tk:{t:42}:a:"), 0);
    assert_int_equal(PARSE("tk:{t:42}:history"), 0);
    assert_int_equal(PARSE("tk:{t:42}:articles"), 0);
    assert_int_equal(PARSE("tk:{t:}"), 0);
    assert_int_equal(PARSE("tk:{t:4x}"), 0);
    assert_int_equal(PARSE("tk:{t:42"), 0);
    assert_int_equal(PARSE("tk:{t:99999999999999999999}"), 0);
    assert_int_equal(PARSE("tk:{u:42}"), 0);
    assert_int_equal(PARSE("tk:{t:"), 0);
    assert_int_equal(tk_key_parse("tk:{t:42}:a:7", 9, &n, NULL),
                     TK_KEY_IS_TICKET);
#undef PARSE
}


/* FT.CREATE takes the count, then the words: they must agree, and every
 * word must be lower case (the index holds lower-cased text). */
static void
ft_stopwords_count_matches_the_list(void **state)
{
    const char  *p = TK_FT_STOPWORDS;
    int          n = 0, in = 0;

    for (; *p; p++) {
        assert_false(*p >= 'A' && *p <= 'Z');
        if (*p == ' ') {
            in = 0;
        } else if (!in) {
            in = 1;
            n++;
        }
    }

    assert_int_equal(n, atoi(TK_FT_STOPWORDS_N));
    assert_non_null(strstr(" " TK_FT_STOPWORDS " ", " und "));
    assert_null(strstr(" " TK_FT_STOPWORDS " ", " nicht "));
    assert_null(strstr(" " TK_FT_STOPWORDS " ", " kein "));
    assert_null(strstr(" " TK_FT_STOPWORDS " ", " not "));
}


static void
key_index_names_partition_and_sort(void **unused)
{
    char      buf[TK_KEY_MAX];
    tk_str_t  group = S("legal"), owner = S("ju"), none = S("");
    tk_str_t  any = S("*");

    tk_key_index(buf, sizeof(buf), &group, 2, &owner, TK_SORT_UPDATED);
    assert_string_equal(buf, "tk:{ix}:g:legal:s:2:o:ju:by:upd");
    tk_key_index(buf, sizeof(buf), &group, 1, &none, TK_SORT_TITLE);
    assert_string_equal(buf, "tk:{ix}:g:legal:s:1:o:-:by:ttl");
    tk_key_index(buf, sizeof(buf), &group, 6, &any, TK_SORT_OWNER);
    assert_string_equal(buf, "tk:{ix}:g:legal:s:6:o:*:by:own");
    assert_int_equal(tk_key_index(buf, sizeof(buf), &group, 7, &any, 0), 0);
    assert_int_equal(tk_key_index(buf, sizeof(buf), &group, 1, &any,
                                  TK_SORT_N), 0);
}


/* the sidebar's counts vectors: "*", "-", "!" share the group's string,
 * a person has one per group; the slot is what BITFIELD #N names */
static void
key_countv_names_vector_and_slot(void **unused)
{
    char      buf[TK_KEY_MAX];
    unsigned  slot;
    tk_str_t  group = S("legal"), owner = S("ju"), none = S(""), dash = S("-");
    tk_str_t  any = S("*"), autogen = S("!");

    tk_key_countv(buf, sizeof(buf), &group, 2, &any, &slot);
    assert_string_equal(buf, "tk:{ix}:cv:legal");
    assert_int_equal(slot, 2);
    tk_key_countv(buf, sizeof(buf), &group, 5, &none, &slot);
    assert_string_equal(buf, "tk:{ix}:cv:legal");
    assert_int_equal(slot, TK_COUNTV_SLOTS + 5);
    tk_key_countv(buf, sizeof(buf), &group, 5, &dash, &slot);
    assert_int_equal(slot, TK_COUNTV_SLOTS + 5);
    tk_key_countv(buf, sizeof(buf), &group, 1, &autogen, &slot);
    assert_string_equal(buf, "tk:{ix}:cv:legal");
    assert_int_equal(slot, 2 * TK_COUNTV_SLOTS + 1);
    tk_key_countv(buf, sizeof(buf), &group, 6, &owner, &slot);
    assert_string_equal(buf, "tk:{ix}:cv:legal:ju");
    assert_int_equal(slot, 6);
    assert_int_equal(tk_key_countv(buf, sizeof(buf), &group, 0, &any, &slot),
                     0);
    assert_int_equal(tk_key_countv(buf, sizeof(buf), &group, 7, &any, &slot),
                     0);
    assert_int_equal(tk_key_countv(buf, 12, &group, 1, &any, &slot), 0);
}


static void
flags_match_whole_entries(void **unused)
{
    tk_str_t  one = S("auto"), list = S("bounce,auto,html");
    tk_str_t  longer = S("autoreply,noauto"), empty = S(""), edge = S(",auto,");

    assert_true(tk_flags_has(&one, TK_FLAG_AUTO));
    assert_true(tk_flags_has(&list, TK_FLAG_AUTO));
    assert_true(tk_flags_has(&list, "bounce"));
    assert_true(tk_flags_has(&list, "html"));
    assert_false(tk_flags_has(&longer, TK_FLAG_AUTO));
    assert_false(tk_flags_has(&empty, TK_FLAG_AUTO));
    assert_false(tk_flags_has(NULL, TK_FLAG_AUTO));
    assert_true(tk_flags_has(&edge, TK_FLAG_AUTO));
}


static void
key_builders_report_overflow(void **unused)
{
    char      buf[10];
    tk_str_t  login = S("a-rather-long-login");

    assert_int_equal(tk_key_user(buf, sizeof(buf), &login), 0);
    assert_string_equal(buf, "");
    assert_int_equal(tk_key_ticket(buf, sizeof(buf), 1), 8);
    assert_int_equal(tk_key_ticket(buf, sizeof(buf), 12), 9);
    assert_int_equal(tk_key_ticket(buf, sizeof(buf), 123), 0);
}


static void
login_validator(void **unused)
{
    tk_str_t  ok1 = S("franka"), ok2 = S("j.doe_2-x");
    tk_str_t  bad[] = { S(""), S("Franka"), S("a b"), S("a:b"), S("a{b"),
                        S("a}b"), S("a*b"), S("-"), S("\xc3\xa4"),
                        S("a,b") };
    char      big[TK_LOGIN_MAX + 2];
    tk_str_t  toolong;
    size_t    i;

    assert_true(tk_valid_login(&ok1));
    assert_true(tk_valid_login(&ok2));

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(tk_valid_login(&bad[i]));
    }

    memset(big, 'a', sizeof(big));
    toolong.data = (unsigned char *) big;
    toolong.len = TK_LOGIN_MAX;
    assert_true(tk_valid_login(&toolong));
    toolong.len = TK_LOGIN_MAX + 1;
    assert_false(tk_valid_login(&toolong));
}


static void
group_validator(void **unused)
{
    tk_str_t  ok[] = { S("legal"), S("ALSO"), S("Verfassungsrecht"),
                       S("Bildung-AG"), S("B\xc3\xbc" "ro") };
    tk_str_t  bad[] = { S(""), S("a b"), S("a:b"), S("a{b"), S("a}b"),
                        S("*"), S("a,b"), S("a\tb"), S("a\nb") };
    size_t    i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_true(tk_valid_group(&ok[i]));
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(tk_valid_group(&bad[i]));
    }
}


static void
rights_from_list(void **unused)
{
    tk_str_t  rights = S("legal:read, ALSO:full,Zivilrecht:read");
    tk_str_t  legal = S("legal"), also = S("ALSO"), ziv = S("Zivilrecht");
    tk_str_t  none = S("Bildung"), prefix = S("AL"), empty = S("");

    assert_int_equal(tk_rights_get(&rights, &legal, 0), TK_RIGHT_READ);
    assert_int_equal(tk_rights_get(&rights, &also, 0), TK_RIGHT_FULL);
    assert_int_equal(tk_rights_get(&rights, &ziv, 0), TK_RIGHT_READ);
    assert_int_equal(tk_rights_get(&rights, &none, 0), TK_RIGHT_NONE);
    assert_int_equal(tk_rights_get(&rights, &prefix, 0), TK_RIGHT_NONE);
    assert_int_equal(tk_rights_get(&empty, &also, 0), TK_RIGHT_NONE);
    assert_int_equal(tk_rights_get(NULL, &also, 0), TK_RIGHT_NONE);
}


static void
rights_all_agents_group_gives_full(void **unused)
{
    tk_str_t  rights = S("legal:read"), legal = S("legal");
    tk_str_t  empty = S("");

    assert_int_equal(tk_rights_get(&rights, &legal, 1), TK_RIGHT_FULL);
    assert_int_equal(tk_rights_get(&empty, &legal, 1), TK_RIGHT_FULL);
}


static void
rights_highest_entry_wins(void **unused)
{
    tk_str_t  rights = S("ALSO:read,ALSO:full,ALSO:bogus"), also = S("ALSO");

    assert_int_equal(tk_rights_get(&rights, &also, 0), TK_RIGHT_FULL);
}


static void
index_scores(void **unused)
{
    assert_true(tk_index_score(TK_SORT_UPDATED, 5, 2, 1700000000)
                == 1700000000.0);
    assert_true(tk_index_score(TK_SORT_CREATED, 5, 2, 1700000000) == 5.0);
    assert_true(tk_index_score(TK_SORT_PRIORITY, 5, 4, 1700000000)
                > tk_index_score(TK_SORT_PRIORITY, 5, 3, 1900000000));
    assert_true(tk_index_score(TK_SORT_TITLE, 5, 4, 1) == 0.0);
}


static int
lex_cmp(const char *a, uint64_t na, const char *b, uint64_t nb)
{
    char      ma[80], mb[80];
    tk_str_t  sa, sb;
    size_t    la, lb;
    int       rc;

    sa.data = (unsigned char *) a;
    sa.len = strlen(a);
    sb.data = (unsigned char *) b;
    sb.len = strlen(b);
    la = tk_index_lex_member(ma, sizeof(ma), &sa, na);
    lb = tk_index_lex_member(mb, sizeof(mb), &sb, nb);

    rc = memcmp(ma, mb, la < lb ? la : lb);
    return rc ? rc : (int) la - (int) lb;
}


static void
lex_member_format(void **unused)
{
    char      m[80];
    tk_str_t  t = S("Bu\xc3\x9f" "geld \xc3\x84RGER\tx");
    size_t    n;

    n = tk_index_lex_member(m, sizeof(m), &t, 42);
    assert_int_equal(n, t.len + 1 + 20);
    assert_memory_equal(m, "bu\xc3\x9f" "geld \xc3\xa4rger x\x1f"
                        "00000000000000000042", n);
}


static void
lex_member_ordering(void **unused)
{
    assert_true(lex_cmp("abc", 1, "abd", 1) < 0);
    assert_true(lex_cmp("ab", 9, "abc", 1) < 0);       /* prefix first */
    assert_true(lex_cmp("Abc", 2, "abc", 1) > 0);      /* case folded */
    assert_true(lex_cmp("same", 2, "same", 10) < 0);   /* then number */
    assert_true(lex_cmp("", 5, "a", 1) < 0);
    assert_true(lex_cmp("a b", 1, "ab", 1) < 0);
}


static void
lex_member_cuts_at_48_bytes_on_a_character(void **unused)
{
    char      m[80];
    char      text[64];
    tk_str_t  t;
    size_t    n;

    /* 47 ASCII bytes and then "ü": the cut must not split the umlaut */
    memset(text, 'x', 47);
    memcpy(text + 47, "\xc3\xbc" "abc", 5);
    t.data = (unsigned char *) text;
    t.len = 52;

    n = tk_index_lex_member(m, sizeof(m), &t, 1);
    assert_int_equal(n, 47 + 1 + 20);
    assert_int_equal(m[47], 0x1f);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(ft_stopwords_count_matches_the_list),
        cmocka_unit_test(state_names_round_trip),
        cmocka_unit_test(state_labels_follow_the_faq),
        cmocka_unit_test(state_parse_accepts_digits_and_labels_only),
        cmocka_unit_test(state_open_means_one_to_five),
        cmocka_unit_test(prio_names_and_labels),
        cmocka_unit_test(kinds_rights_and_sorts_round_trip),
        cmocka_unit_test(key_builders_use_hash_tags),
        cmocka_unit_test(key_index_names_partition_and_sort),
        cmocka_unit_test(key_countv_names_vector_and_slot),
        cmocka_unit_test(key_formats_agree_with_builders),
        cmocka_unit_test(key_parse_tells_tickets_and_articles),
        cmocka_unit_test(key_builders_report_overflow),
        cmocka_unit_test(flags_match_whole_entries),
        cmocka_unit_test(login_validator),
        cmocka_unit_test(group_validator),
        cmocka_unit_test(rights_from_list),
        cmocka_unit_test(rights_all_agents_group_gives_full),
        cmocka_unit_test(rights_highest_entry_wins),
        cmocka_unit_test(index_scores),
        cmocka_unit_test(lex_member_format),
        cmocka_unit_test(lex_member_ordering),
        cmocka_unit_test(lex_member_cuts_at_48_bytes_on_a_character),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
