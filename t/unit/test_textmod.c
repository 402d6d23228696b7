/*
 * test_textmod.c -- placeholders and "::keyword" expansion
 * (redis-schema/tk_textmod.c): what the composer sends without
 * JavaScript and what a template prefills.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tk_textmod.h"

#define S(lit)  { sizeof(lit) - 1, (unsigned char *) lit }


static tk_textmod_vars_t  vars = {
    S("Kim Kundin"), S("kim@example.net"), S("42"), S("Frist"),
    S("Anna Aktiv"), S("ALSO")
};

static const tk_textmod_t  mods[] = {
    { S("frist"), S("Hallo {{customer.name}}, Ticket {{ticket.number}}.") },
    { S("gruss"), S("Grüße, {{ agent.name }} ({{group.name}})") },
    { S("frist-lang"), S("lang") },
};


/* both calls: measure, then fill exactly that much */
static char *
expand(const char *body)
{
    tk_str_t  b = { strlen(body), (unsigned char *) body };
    size_t    n = tk_textmod_expand(NULL, 0, &b, mods, 3, &vars);
    char     *out = malloc(n + 1);

    assert_int_equal(tk_textmod_expand((unsigned char *) out, n, &b, mods, 3,
                                       &vars), n);
    out[n] = '\0';
    return out;
}


static char *
fill(const char *text)
{
    tk_str_t  t = { strlen(text), (unsigned char *) text };
    size_t    n = tk_textmod_fill(NULL, 0, &t, &vars);
    char     *out = malloc(n + 1);

    assert_int_equal(tk_textmod_fill((unsigned char *) out, n, &t, &vars), n);
    out[n] = '\0';
    return out;
}


static void
placeholders_filled(void **unused)
{
    char  *s = fill("{{customer.name}} <{{customer.email}}> #{{ticket.number}}"
                    " {{ticket.title}} {{agent.name}} {{group.name}}");

    assert_string_equal(s, "Kim Kundin <kim@example.net> #42 Frist Anna Aktiv "
                        "ALSO");
    free(s);
    s = fill("{{ customer.name }} {{kunde}} {{customer.name} {{");
    assert_string_equal(s, "Kim Kundin {{kunde}} {{customer.name} {{");
    free(s);
}


static void
tokens_expanded(void **unused)
{
    char  *s = expand("::frist\nund ::gruss.");

    assert_string_equal(s, "Hallo Kim Kundin, Ticket 42.\nund Grüße, Anna "
                        "Aktiv (ALSO).");
    free(s);
    s = expand("::frist-lang ::frist");
    assert_string_equal(s, "lang Hallo Kim Kundin, Ticket 42.");
    free(s);
}


static void
other_colons_stay(void **unused)
{
    char  *s = expand("a::frist ::unbekannt 10::30 ::");

    assert_string_equal(s, "a::frist ::unbekannt 10::30 ::");
    free(s);
}


static void
has_token(void **unused)
{
    tk_str_t  yes = S("x ::frist"), no = S("x::frist 12::00 ::");

    assert_true(tk_textmod_has_token(&yes));
    assert_false(tk_textmod_has_token(&no));
}


static void
keywords(void **unused)
{
    tk_str_t  ok = S("frist_2-b"), up = S("Frist"), sp = S("a b"),
              empty = S(""), lng = S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");

    assert_true(tk_textmod_valid_keyword(&ok));
    assert_false(tk_textmod_valid_keyword(&up));
    assert_false(tk_textmod_valid_keyword(&sp));
    assert_false(tk_textmod_valid_keyword(&empty));
    assert_false(tk_textmod_valid_keyword(&lng));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(placeholders_filled),
        cmocka_unit_test(tokens_expanded),
        cmocka_unit_test(other_colons_stay),
        cmocka_unit_test(has_token),
        cmocka_unit_test(keywords),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
