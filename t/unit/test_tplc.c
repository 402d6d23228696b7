/*
 * test_tplc.c -- specification of the template compiler: what the
 * functions generated from the templates in t/unit/tpl/ write (escaping,
 * filters, conditions, loops), and the errors tplc reports for bad
 * templates.  The tplc binary is argv[1], $TPLC, the tplc next to this
 * test's directory (BUILD/unit/../tplc) or build/tplc.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tk_escape.h"
#include "tk_tpl.h"

#define S(lit)  { sizeof(lit) - 1, (unsigned char *) lit }

static const char  *tplc_path = "build/tplc";
static char         tmpdir[] = "/tmp/test_tplc.XXXXXX";

/* The page as a C string; the sink is freed on the next call. */
static const char *
result(tk_out_t *out)
{
    assert_false(tk_out_failed(out));
    return (const char *) tk_out_mem_str(out).data;
}

/* ---- rendering ---------------------------------------------------------- */

static void
values_are_html_escaped_by_default(void **state)
{
    tk_tpl_unit_basic_t  d;
    tk_out_t             out;

    memset(&d, 0, sizeof(d));
    d.title = (tk_str_t) S("\"><img src=x onerror=alert(1)>");

    tk_out_init_mem(&out);
    tk_tpl_unit_basic(&out, &d);
    assert_non_null(strstr(result(&out),
                           "<p title=\"&quot;&gt;&lt;img src=x "
                           "onerror=alert(1)&gt;\">&quot;&gt;&lt;img"));
    tk_out_free_mem(&out);
}

static void
raw_filter_writes_as_is(void **state)
{
    tk_tpl_unit_basic_t  d;
    tk_out_t             out;

    memset(&d, 0, sizeof(d));
    d.body = (tk_str_t) S("<b>safe & sound</b>");

    tk_out_init_mem(&out);
    tk_tpl_unit_basic(&out, &d);
    assert_non_null(strstr(result(&out), "<div><b>safe & sound</b></div>"));
    tk_out_free_mem(&out);
}

static void
url_filter_percent_encodes(void **state)
{
    tk_tpl_unit_basic_t  d;
    tk_out_t             out;

    memset(&d, 0, sizeof(d));
    d.query = (tk_str_t) S("a b&c=\"ü\"");

    tk_out_init_mem(&out);
    tk_tpl_unit_basic(&out, &d);
    assert_non_null(strstr(result(&out),
                           "href=\"/search?q=a%20b%26c%3D%22%C3%BC%22\""));
    tk_out_free_mem(&out);
}

/* The whole page once: also shows that tag-only lines leave no trace. */
static void
basic_page_is_exact(void **state)
{
    tk_tpl_unit_basic_items_t  items[] = { { S("x<") }, { S("y") } };
    tk_tpl_unit_basic_t        d;
    tk_out_t                   out;

    memset(&d, 0, sizeof(d));
    d.title = (tk_str_t) S("T&");
    d.body = (tk_str_t) S("<i>B</i>");
    d.query = (tk_str_t) S("q");
    d.flag = 1;
    d.items = items;
    d.items_n = 2;

    tk_out_init_mem(&out);
    tk_tpl_unit_basic(&out, &d);
    assert_string_equal(result(&out),
                        "<p title=\"T&amp;\">T&amp;</p>\n"
                        "<div><i>B</i></div>\n"
                        "<a href=\"/search?q=q\">go</a>\n"
                        "has-title\n"
                        "<i>flag-on</i>\n"
                        "<i></i>\n"
                        "<ul>\n"
                        "  <li>x&lt;</li>\n"
                        "  <li>y</li>\n"
                        "</ul>\n"
                        "\n"
                        "<q>\"quotes\" and \\backslash ?? trigraph?\?=</q>\n");
    tk_out_free_mem(&out);
}

static void
if_else_not_on_string_int_and_list(void **state)
{
    tk_tpl_unit_basic_t  d;
    tk_out_t             out;
    const char          *page;

    /* everything empty / zero */
    memset(&d, 0, sizeof(d));
    tk_out_init_mem(&out);
    tk_tpl_unit_basic(&out, &d);
    page = result(&out);
    assert_non_null(strstr(page, "\nno-title\nnot-title\n"));
    assert_null(strstr(page, "has-title"));
    assert_non_null(strstr(page, "<i>flag-off</i>\n<i>no-flag</i>"));
    assert_non_null(strstr(page, "<p>no items</p>\nempty-list\n"));
    assert_null(strstr(page, "<ul>"));
    tk_out_free_mem(&out);

    /* an empty string with a non-NULL pointer is still false */
    d.title = (tk_str_t) { 0, (unsigned char *) "x" };
    d.flag = 7;
    tk_out_init_mem(&out);
    tk_tpl_unit_basic(&out, &d);
    page = result(&out);
    assert_non_null(strstr(page, "no-title"));
    assert_non_null(strstr(page, "<i>flag-on</i>\n<i></i>"));
    tk_out_free_mem(&out);
}

static void
nested_loops_and_top_level_names(void **state)
{
    tk_tpl_unit_loop_rows_tags_t  tags[] = { { S("t1") }, { S("t<2") } };
    tk_tpl_unit_loop_rows_t       rows[2];
    tk_tpl_unit_loop_groups_t     groups[] = { { S("a b") }, { S("c") } };
    tk_tpl_unit_loop_t            d;
    tk_out_t                      out;

    memset(rows, 0, sizeof(rows));
    rows[0].number = (tk_str_t) S("1");
    rows[0].title = (tk_str_t) S("A&B");
    rows[0].urgent = 1;
    rows[0].tags = tags;
    rows[0].tags_n = 2;
    rows[1].number = (tk_str_t) S("2");

    memset(&d, 0, sizeof(d));
    d.user = (tk_str_t) S("<u>");
    d.rows = rows;
    d.rows_n = 2;
    d.groups = groups;
    d.groups_n = 2;

    tk_out_init_mem(&out);
    tk_tpl_unit_loop(&out, &d);
    assert_string_equal(result(&out),
                        "<table data-user=\"&lt;u&gt;\">\n"
                        "  <tr data-n=\"1\">\n"
                        "    <td>A&amp;B</td><td>&lt;u&gt;</td>\n"
                        "    <td class=\"urgent\">!</td>\n"
                        "    <span>t1@1/&lt;u&gt;</span>\n"
                        "    <span>t&lt;2@1/&lt;u&gt;</span>\n"
                        "  </tr>\n"
                        "  <tr data-n=\"2\">\n"
                        "    <td></td><td>&lt;u&gt;</td>\n"
                        "    \n"
                        "  </tr>\n"
                        "</table>\n"
                        "<p>a%20b,c,</p>\n");
    tk_out_free_mem(&out);
}

static void
empty_lists_render_nothing(void **state)
{
    tk_tpl_unit_loop_t  d;
    tk_out_t            out;

    memset(&d, 0, sizeof(d));
    tk_out_init_mem(&out);
    tk_tpl_unit_loop(&out, &d);
    assert_string_equal(result(&out),
                        "<table data-user=\"\">\n</table>\n<p></p>\n");
    tk_out_free_mem(&out);
}

static void
static_template_keeps_utf8(void **state)
{
    tk_tpl_unit_static_t  d;
    tk_out_t              out;

    memset(&d, 0, sizeof(d));
    tk_out_init_mem(&out);
    tk_tpl_unit_static(&out, &d);
    assert_string_equal(result(&out), "<!doctype html>\n"
                        "<p>Grüße — nothing to fill in</p>\n");
    tk_out_free_mem(&out);
}

/* ---- the compiler's errors ---------------------------------------------- */

/*
 * Compile one template (file name, content) with build/tplc into the
 * temp dir; returns the exit status and stderr (static buffer).
 */
static int
compile(const char *name, const char *content, const char **err)
{
    static char  msg[4096];
    char         path[256], cmd[1024];
    FILE        *f;
    size_t       n;
    int          status;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);

    snprintf(cmd, sizeof(cmd), "'%s' -o '%s/out' '%s' 2>'%s/stderr'",
             tplc_path, tmpdir, path, tmpdir);
    status = system(cmd);
    assert_true(WIFEXITED(status));

    snprintf(path, sizeof(path), "%s/stderr", tmpdir);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(msg, 1, sizeof(msg) - 1, f);
    msg[n] = '\0';
    fclose(f);

    /* the message names the file as given: strip the temp dir */
    *err = strncmp(msg, tmpdir, strlen(tmpdir)) == 0
               ? msg + strlen(tmpdir) + 1
               : msg;

    return WEXITSTATUS(status);
}

static void
expect_error(const char *content, const char *message)
{
    const char  *err;
    int          rc;

    rc = compile("bad.html", content, &err);
    if (rc != 1 || strncmp(err, message, strlen(message)) != 0) {
        fail_msg("template:\n%s\nexpected exit 1 and \"%s...\", got %d: %s",
                 content, message, rc, err);
    }
}

static int
setup_tmpdir(void **state)
{
    if (access(tplc_path, X_OK) != 0) {
        fprintf(stderr, "# %s not found: compiler error tests skipped\n",
                tplc_path);
        *state = NULL;
        return 0;
    }

    if (mkdtemp(tmpdir) == NULL) {
        return -1;
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

#define NEED_TPLC()                                                          \
    if (*state == NULL) {                                                    \
        skip();                                                              \
    }

static void
good_template_compiles_and_is_not_rewritten(void **state)
{
    struct stat   h1, c1, h2, c2;
    const char   *err;
    char          path[256];

    NEED_TPLC();

    assert_int_equal(compile("good.html", "{% for a in b %}{{ a.c }}"
                             "{% end %}\n", &err), 0);
    assert_string_equal(err, "");

    snprintf(path, sizeof(path), "%s/out/tk_tpl.h", tmpdir);
    assert_int_equal(stat(path, &h1), 0);
    snprintf(path, sizeof(path), "%s/out/tk_tpl_all.c", tmpdir);
    assert_int_equal(stat(path, &c1), 0);

    /* same input: the outputs keep their inode (no rename, no rebuild) */
    assert_int_equal(compile("good.html", "{% for a in b %}{{ a.c }}"
                             "{% end %}\n", &err), 0);
    assert_int_equal(stat(path, &c2), 0);
    snprintf(path, sizeof(path), "%s/out/tk_tpl.h", tmpdir);
    assert_int_equal(stat(path, &h2), 0);
    assert_true(h1.st_ino == h2.st_ino && c1.st_ino == c2.st_ino);

    /* a changed template replaces them */
    assert_int_equal(compile("good.html", "{{ x }}", &err), 0);
    assert_int_equal(stat(path, &h2), 0);
    assert_true(h1.st_ino != h2.st_ino);
}

static void
error_unclosed_tag(void **state)
{
    NEED_TPLC();
    expect_error("a\n<p>{{ x </p>\n", "bad.html:2: unclosed tag \"{{\"");
    expect_error("{% if x\n", "bad.html:1: unclosed tag \"{%\"");
    expect_error("\n\n{# no end", "bad.html:3: unclosed tag \"{#\"");
}

static void
error_unknown_filter(void **state)
{
    NEED_TPLC();
    expect_error("{{ x | js }}", "bad.html:1: unknown filter \"js\"");
    expect_error("{{ x | }}", "bad.html:1: unknown filter \"\"");
}

static void
error_end_or_else_without_block(void **state)
{
    NEED_TPLC();
    expect_error("a\nb\n{% end %}\n",
                 "bad.html:3: {% end %} without {% if %} or {% for %}");
    expect_error("{% else %}", "bad.html:1: {% else %} without {% if %}");
    expect_error("{% for a in b %}\n{% else %}\n{% end %}",
                 "bad.html:2: {% else %} inside {% for %}");
    expect_error("{% if a %}{% else %}\n{% else %}{% end %}",
                 "bad.html:2: second {% else %}");
}

static void
error_unterminated_block_names_its_line(void **state)
{
    NEED_TPLC();
    expect_error("x\n{% if a %}\n{% for b in c %}\n{% end %}\n",
                 "bad.html:2: unterminated {% if %} block");
    expect_error("{# a\nmulti-line comment #}\n\n{% for b in c %}",
                 "bad.html:4: unterminated {% for %} block");
}

static void
error_bad_names(void **state)
{
    NEED_TPLC();
    expect_error("{{ Title }}", "bad.html:1: bad name \"Title\"");
    expect_error("{{ 1x }}", "bad.html:1: bad name \"1x\"");
    expect_error("{{ a.b.c }}", "bad.html:1: bad name \"a.b.c\"");
    expect_error("{{ a-b }}", "bad.html:1: bad name \"a-b\"");
    expect_error("{{ }}", "bad.html:1: empty {{ }} tag");
    expect_error("{{ int }}", "bad.html:1: name \"int\" is a C keyword");
    expect_error("{% for A in b %}{% end %}",
                 "bad.html:1: bad loop variable \"A\"");
    expect_error("{{ row.x }}",
                 "bad.html:1: \"row\" in \"row.x\" is not a loop variable");
    expect_error("{% for row in rows %}{{ row }}{% end %}",
                 "bad.html:1: loop variable \"row\" needs a field");
    expect_error("{% for a in b %}{% end %}{{ b_n }}",
                 "bad.html:1: \"b_n\" clashes with the count of list \"b\"");
}

static void
error_list_and_scalar(void **state)
{
    NEED_TPLC();
    expect_error("{% for r in rows %}{% end %}\n{{ rows }}",
                 "bad.html:2: \"rows\" is used both as a list and as a "
                 "value (first use: line 1)");
    expect_error("{{ rows }}\n\n{% for r in rows %}{% end %}",
                 "bad.html:3: \"rows\" is used both as a list");
    expect_error("{% for r in rows %}{{ r.x }}\n{% for y in r.x %}",
                 "bad.html:2: \"r.x\" is used both as a list");
}

static void
error_unknown_or_malformed_tag(void **state)
{
    NEED_TPLC();
    expect_error("{% include x %}", "bad.html:1: unknown tag {% include %}");
    expect_error("{% if %}", "bad.html:1: expected {% if NAME %}");
    expect_error("{% if not %}", "bad.html:1: expected {% if NAME %}");
    expect_error("{% for a of b %}", "bad.html:1: expected {% for NAME in");
    expect_error("{% end x %}", "bad.html:1: expected {% end %}");
    expect_error("{%  %}", "bad.html:1: empty {% %} tag");
}

static void
error_bad_template_file_name(void **state)
{
    const char  *err;

    NEED_TPLC();
    assert_int_equal(compile("Bad-Name.html", "x", &err), 1);
    assert_non_null(strstr(err, "Bad-Name.html:1: bad template name"));
    assert_int_equal(compile("page.htm", "x", &err), 1);
    assert_non_null(strstr(err, "page.htm:1: bad template name"));
}

static void
error_line_numbers_count_dropped_lines(void **state)
{
    NEED_TPLC();
    expect_error("{% if a %}\n  {% if b %}  {# c #}\n{% end %}{% end %}\n"
                 "line 4\n{{ x | nope }}",
                 "bad.html:5: unknown filter");
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest  render[] = {
        cmocka_unit_test(values_are_html_escaped_by_default),
        cmocka_unit_test(raw_filter_writes_as_is),
        cmocka_unit_test(url_filter_percent_encodes),
        cmocka_unit_test(basic_page_is_exact),
        cmocka_unit_test(if_else_not_on_string_int_and_list),
        cmocka_unit_test(nested_loops_and_top_level_names),
        cmocka_unit_test(empty_lists_render_nothing),
        cmocka_unit_test(static_template_keeps_utf8),
    };
    const struct CMUnitTest  compiler[] = {
        cmocka_unit_test(good_template_compiles_and_is_not_rewritten),
        cmocka_unit_test(error_unclosed_tag),
        cmocka_unit_test(error_unknown_filter),
        cmocka_unit_test(error_end_or_else_without_block),
        cmocka_unit_test(error_unterminated_block_names_its_line),
        cmocka_unit_test(error_bad_names),
        cmocka_unit_test(error_list_and_scalar),
        cmocka_unit_test(error_unknown_or_malformed_tag),
        cmocka_unit_test(error_bad_template_file_name),
        cmocka_unit_test(error_line_numbers_count_dropped_lines),
    };
    static char              sibling[4096];
    const char              *env, *slash;
    int                      failed;

    env = getenv("TPLC");
    if (argc > 1) {
        tplc_path = argv[1];

    } else if (env && *env) {
        tplc_path = env;

    } else {
        /* make builds BUILD/unit/test_tplc next to BUILD/tplc */
        slash = strrchr(argv[0], '/');
        if (slash && (size_t) (slash - argv[0]) + 8 < sizeof(sibling)) {
            snprintf(sibling, sizeof(sibling), "%.*s/../tplc",
                     (int) (slash - argv[0]), argv[0]);
            if (access(sibling, X_OK) == 0) {
                tplc_path = sibling;
            }
        }
    }

    failed = cmocka_run_group_tests_name("render", render, NULL, NULL);
    failed += cmocka_run_group_tests_name("compiler", compiler,
                                          setup_tmpdir, teardown_tmpdir);

    return failed ? 1 : 0;
}
