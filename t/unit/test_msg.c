/*
 * test_msg.c -- specification of the message catalogue (docs/i18n.md):
 * what {% t key %} writes in each language (t/unit/tpl/messages.txt and
 * unit_msg.html: escaping, {params}, _html keys, plurals), and that tplc
 * refuses a catalogue or template that breaks a rule -- the build then
 * fails.  The tplc binary is $TPLC, BUILD/unit/../tplc or build/tplc.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tk_escape.h"
#include "tk_tpl.h"

#define S(lit)  { sizeof(lit) - 1, (unsigned char *) lit }

static const char  *tplc_path = "build/tplc";
static char         tmpdir[] = "/tmp/test_msg.XXXXXX";


static const char *
render(int lang, tk_out_t *out)
{
    tk_tpl_unit_msg_t        d;
    tk_tpl_unit_msg_items_t  items[1];

    memset(&d, 0, sizeof(d));
    d.shown = (tk_str_t) S("3");
    d.total = (tk_str_t) S("<9>");
    items[0].name = (tk_str_t) S("a&b");
    d.items = items;
    d.items_n = 1;

    tk_out_init_mem(out);
    out->lang = lang;
    tk_tpl_unit_msg(out, &d);
    assert_false(tk_out_failed(out));

    return (const char *) tk_out_mem_str(out).data;
}


static void
german_is_language_zero_and_text_is_escaped(void **state)
{
    tk_out_t     out;
    const char  *page;

    page = render(TK_LANG_DE, &out);
    assert_non_null(strstr(page, "<p title=\"Hallo &amp; Tschüss\">"));
    assert_non_null(strstr(page, "Die neuesten 3 von &lt;9&gt;</p>"));
    tk_out_free_mem(&out);
}


static void
english_and_params_in_another_order(void **state)
{
    tk_out_t     out;
    const char  *page;

    page = render(TK_LANG_EN, &out);
    assert_non_null(strstr(page, "<p title=\"Hello &amp; bye\">"));
    assert_non_null(strstr(page, "The newest 3 of &lt;9&gt;</p>"));
    tk_out_free_mem(&out);
}


static void
html_key_is_markup_but_its_params_are_escaped(void **state)
{
    tk_out_t     out;
    const char  *page;

    page = render(TK_LANG_DE, &out);
    assert_non_null(strstr(page, "<li><b>a&amp;b</b> \"gelöscht\"</li>"));
    tk_out_free_mem(&out);

    /* "..." keeps the blanks at the end */
    page = render(TK_LANG_EN, &out);
    assert_non_null(strstr(page, "<li><b>a&amp;b</b> deleted  </li>"));
    tk_out_free_mem(&out);
}


static void
unknown_language_falls_back_to_the_first(void **state)
{
    tk_out_t     out;
    const char  *page;

    page = render(TK_LANG_N + 3, &out);
    assert_non_null(strstr(page, "Hallo &amp; Tschüss"));
    tk_out_free_mem(&out);
    assert_string_equal(tk_msg(-1, TK_MSG_UNIT_HELLO), "Hallo & Tschüss");
}


static void
c_side_texts_and_plurals(void **state)
{
    assert_string_equal(tk_msg_langs[TK_LANG_DE], "de");
    assert_string_equal(tk_msg_langs[TK_LANG_EN], "en");
    assert_string_equal(tk_msg(TK_LANG_EN, TK_MSG_UNIT_HELLO), "Hello & bye");
    assert_string_equal(tk_msg_n(TK_LANG_DE, TK_MSG_UNIT_FILES_ONE, 1),
                        "%ui Datei");
    assert_string_equal(tk_msg_n(TK_LANG_DE, TK_MSG_UNIT_FILES_ONE, 0),
                        "%ui Dateien");
    assert_string_equal(tk_msg_n(TK_LANG_EN, TK_MSG_UNIT_FILES_ONE, 7),
                        "%ui files");
}


/* ---- the checker: a bad catalogue fails the build ----------------------- */

static void
put(const char *name, const char *content)
{
    char   path[256];
    FILE  *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}


/* tplc -m cat.txt on t.html; exit status, stderr in err (temp dir cut). */
static int
compile(const char *catalogue, const char *tpl, const char **err)
{
    static char  msg[4096];
    char         cmd[1024], path[256], *p;
    FILE        *f;
    size_t       n;
    int          status;

    put("cat.txt", catalogue);
    put("t.html", tpl);

    snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' -m cat.txt -o out t.html "
             "2>stderr", tmpdir, tplc_path);
    status = system(cmd);
    assert_true(WIFEXITED(status));

    snprintf(path, sizeof(path), "%s/stderr", tmpdir);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(msg, 1, sizeof(msg) - 1, f);
    msg[n] = '\0';
    fclose(f);

    p = strchr(msg, '\n');
    if (p) {
        *p = '\0';
    }

    *err = msg;

    return WEXITSTATUS(status);
}


static void
expect_error(const char *catalogue, const char *tpl, const char *message)
{
    const char  *err;
    int          rc;

    rc = compile(catalogue, tpl, &err);
    if (rc != 1 || strncmp(err, message, strlen(message)) != 0) {
        fail_msg("catalogue:\n%s\nexpected exit 1 and \"%s...\", got %d: %s",
                 catalogue, message, rc, err);
    }
}


#define HEAD  "@languages de en\n"
#define OK    HEAD "[a.b]\nde = Hallo {x}\nen = Hello {x}\n"

static void
good_catalogue_compiles(void **state)
{
    const char  *err;

    if (*state == NULL) {
        skip();
    }

    assert_int_equal(compile(OK, "{% t a.b %}", &err), 0);
    assert_string_equal(err, "");
}


static void
errors(void **state)
{
    if (*state == NULL) {
        skip();
    }

    /* every key in every language */
    expect_error(HEAD "[a.b]\nde = Hallo\n", "{% t a.b %}",
                 "cat.txt:2: [a.b] has no \"en\" text");
    expect_error(HEAD "[a.b]\nde = Hallo\nen = Hi\nfr = Salut\n", "",
                 "cat.txt:5: expected \"LANG = text\"");
    expect_error(HEAD "[a.b]\nde = Hallo\nde = Hi\n", "",
                 "cat.txt:4: [a.b] has a second \"de\" text");

    /* every key used exists */
    expect_error(OK, "<p>\n{% t a.c %}</p>",
                 "t.html:2: unknown message \"a.c\": add [a.c] to cat.txt");

    /* keys are unique, also as C names */
    expect_error(OK "[a.b]\nde = x\nen = y\n", "",
                 "cat.txt:5: [a.b] is defined already (line 2)");
    expect_error(OK "[a_b]\nde = x\nen = y\n", "",
                 "cat.txt:5: [a_b] is the C name of another key already "
                 "(line 2)");
    expect_error(HEAD "[A]\nde = x\nen = y\n", "",
                 "cat.txt:2: bad key \"A\"");

    /* the languages agree on params and conversions */
    expect_error(HEAD "[a.b]\nde = Hallo {x}\nen = Hello {y}\n", "",
                 "cat.txt:2: [a.b]: the \"en\" text names {y}");
    expect_error(HEAD "[a.b]\nde = Hallo {x}\nen = Hello\n", "",
                 "cat.txt:2: [a.b]: the \"en\" text lacks a {param}");
    expect_error(HEAD "[a.b]\nde = %V hat %ui\nen = %ui has %V\n", "",
                 "cat.txt:2: [a.b]: the \"de\" text has the conversions");

    /* a param is a template value like {{ x }}: a loop field needs its loop */
    expect_error(HEAD "[a.b]\nde = {it.n}\nen = {it.n}\n", "{% t a.b %}",
                 "t.html:1: \"it\" in \"it.n\" is not a loop variable");

    /* plurals come in pairs */
    expect_error(HEAD "[a.n_one]\nde = x\nen = y\n", "",
                 "cat.txt:2: [a.n_one] needs [a.n_other] as the next entry");

    expect_error("[a.b]\nde = x\n", "",
                 "cat.txt:1: the catalogue must start with \"@languages");
    expect_error(OK, "{% t %}", "t.html:1: expected {% t KEY %}");

    /* a _fmt entry (a date format C fills by name) is not for templates */
    expect_error(HEAD "[d.x_fmt]\nde = {dd}.{mm}.\nen = {day} {mon}\n",
                 "{% t d.x_fmt %}", "t.html:1: \"d.x_fmt\" is a format for C");
}


static void
fmt_entries_may_differ_in_params(void **state)
{
    const char  *err;

    if (*state == NULL) {
        skip();
    }

    assert_int_equal(compile(HEAD "[d.x_fmt]\nde = {dd}.{mm}.\n"
                             "en = {day} {mon}\n", "", &err), 0);
    assert_string_equal(err, "");
}


static void
third_language_is_one_more_column(void **state)
{
    const char  *err;

    if (*state == NULL) {
        skip();
    }

    assert_int_equal(compile("@languages de en fr\n[a.b]\nde = Hallo\n"
                             "en = Hello\nfr = Salut\n", "{% t a.b %}", &err),
                     0);
    expect_error("@languages de en fr\n[a.b]\nde = Hallo\nen = Hello\n", "",
                 "cat.txt:2: [a.b] has no \"fr\" text");
}


static int
setup_tmpdir(void **state)
{
    if (access(tplc_path, X_OK) != 0 || mkdtemp(tmpdir) == NULL) {
        fprintf(stderr, "# %s not found: checker tests skipped\n", tplc_path);
        *state = NULL;
        return 0;
    }

    *state = tmpdir;
    return 0;
}


static int
teardown_tmpdir(void **state)
{
    char  cmd[256];

    if (*state) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
    }

    return 0;
}


int
main(int argc, char **argv)
{
    const struct CMUnitTest  rendering[] = {
        cmocka_unit_test(german_is_language_zero_and_text_is_escaped),
        cmocka_unit_test(english_and_params_in_another_order),
        cmocka_unit_test(html_key_is_markup_but_its_params_are_escaped),
        cmocka_unit_test(unknown_language_falls_back_to_the_first),
        cmocka_unit_test(c_side_texts_and_plurals),
    };
    const struct CMUnitTest  checker[] = {
        cmocka_unit_test(good_catalogue_compiles),
        cmocka_unit_test(errors),
        cmocka_unit_test(third_language_is_one_more_column),
        cmocka_unit_test(fmt_entries_may_differ_in_params),
    };
    static char              sibling[4096];
    const char              *env, *slash;
    int                      failed;

    env = getenv("TPLC");
    if (env && *env) {
        tplc_path = env;

    } else {
        slash = strrchr(argv[0], '/');
        if (slash && (size_t) (slash - argv[0]) + 8 < sizeof(sibling)) {
            snprintf(sibling, sizeof(sibling), "%.*s/../tplc",
                     (int) (slash - argv[0]), argv[0]);
            if (access(sibling, X_OK) == 0) {
                tplc_path = sibling;
            }
        }
    }

    if (tplc_path[0] != '/') {
        static char  abs[4096];

        if (getcwd(abs, sizeof(abs) - strlen(tplc_path) - 2)) {
            strcat(abs, "/");
            strcat(abs, tplc_path);
            tplc_path = abs;
        }
    }

    failed = cmocka_run_group_tests_name("rendering", rendering, NULL, NULL);
    failed += cmocka_run_group_tests_name("checker", checker, setup_tmpdir,
                                          teardown_tmpdir);

    return failed ? 1 : 0;
}
