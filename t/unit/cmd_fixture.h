/*
 * cmd_fixture.h -- the fixture of the unit tests on the exact bytes
 * sent to Redis (test_cmd.c, test_write_path.c, test_feed.c): a command
 * list on an arena, and the commands decoded back to "ARG ARG ..."
 * lines.
 */

#ifndef CMD_FIXTURE_H
#define CMD_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tk_cmd.h"

#define S(lit)  { sizeof(lit) - 1, (unsigned char *) lit }

typedef struct {
    tk_arena_t  arena;
    tk_cmds_t   cmds;
    char       *text;              /* every command decoded, one per line */
} fixture_t;


static inline int
setup(void **state)
{
    fixture_t  *f;

    f = calloc(1, sizeof(fixture_t));
    f->text = malloc(8 * 1024 * 1024);
    tk_arena_init(&f->arena);
    tk_cmds_init(&f->cmds, tk_arena_alloc, &f->arena);
    *state = f;

    return 0;
}


static inline int
teardown(void **state)
{
    fixture_t  *f = *state;

    tk_arena_reset(&f->arena);
    free(f->text);
    free(f);

    return 0;
}


static inline tk_str_t
resp(fixture_t *f, size_t i)
{
    assert_false(f->cmds.failed);
    assert_true(i < f->cmds.n);
    return tk_cmds_get(&f->cmds, i);
}



/*
 * Decodes every command back to "ARG ARG ..." lines (0x1f shown as '|')
 * so tests on the write path read like the redis-cli MONITOR output.
 * Also checks that each command is well-formed RESP.
 */
static inline const char *
decode_all(fixture_t *f)
{
    char    *o = f->text;
    size_t   i;

    for (i = 0; i < f->cmds.n; i++) {
        tk_str_t    s = resp(f, i);
        const char *p = (const char *) s.data, *end = p + s.len;
        long        argc, len, k, j;
        char       *e;

        assert_int_equal(*p, '*');
        argc = strtol(p + 1, &e, 10);
        assert_memory_equal(e, "\r\n", 2);
        p = e + 2;

        for (k = 0; k < argc; k++) {
            assert_int_equal(*p, '$');
            len = strtol(p + 1, &e, 10);
            assert_memory_equal(e, "\r\n", 2);
            p = e + 2;
            assert_true(p + len + 2 <= end);

            for (j = 0; j < len; j++) {
                *o++ = p[j] == 0x1f ? '|' : p[j];
            }

            assert_memory_equal(p + len, "\r\n", 2);
            p += len + 2;
            *o++ = k + 1 < argc ? ' ' : '\n';
        }

        assert_true(p == end);
    }

    *o = '\0';
    return f->text;
}


static inline void
assert_has_line(fixture_t *f, const char *line)
{
    char  want[4096];

    snprintf(want, sizeof(want), "%s\n", line);

    if (strstr(f->text, want) == NULL) {
        print_error("missing line \"%s\" in:\n%s", line, f->text);
        fail();
    }
}


static inline void
assert_no_line_prefix(fixture_t *f, const char *prefix)
{
    if (strstr(f->text, prefix) != NULL) {
        print_error("unexpected \"%s\" in:\n%s", prefix, f->text);
        fail();
    }
}


static inline size_t
count_prefix(fixture_t *f, const char *prefix)
{
    const char  *p = f->text;
    size_t       n = 0, len = strlen(prefix);

    while (*p) {
        if (strncmp(p, prefix, len) == 0) {
            n++;
        }
        p = strchr(p, '\n') + 1;
    }

    return n;
}


#endif /* CMD_FIXTURE_H */
