/*
 * tplc_types.c -- type inference of the template compiler: records how
 * each name is used and refuses structs whose generated C would clash.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tplc_types.h"

/*
 * "name" is a field of the template's struct, also inside loops;
 * "var.name" is a field of the element the innermost loop over var is
 * at.  Records the use, which decides the field's C type.
 */
int
tplc_resolve(tplc_parser_t *p, const char *s, size_t n, unsigned use,
    tplc_field_t **field, int *depth)
{
    const char     *dot, *name;
    size_t          len;
    tplc_struct_t  *st;
    tplc_field_t   *f;
    tplc_block_t   *b;
    char           *cname;
    int             i;

    dot = memchr(s, '.', n);
    st = p->tpl->top;
    *depth = 0;
    name = s;
    len = n;

    if (dot) {
        name = dot + 1;
        len = s + n - name;

        if (!tplc_valid_name(s, dot - s) || !tplc_valid_name(name, len)) {
            return tplc_error(p, "bad name \"%.*s\": names are "
                              "[a-z_][a-z0-9_]* or LOOPVAR.NAME",
                              (int) n, s);
        }

        for (i = p->nblocks - 1; i >= 0; i--) {
            b = &p->block[i];
            if (b->var && strlen(b->var) == (size_t) (dot - s)
                && memcmp(b->var, s, dot - s) == 0)
            {
                break;
            }
        }

        if (i < 0) {
            return tplc_error(p, "\"%.*s\" in \"%.*s\" is not a loop "
                              "variable here", (int) (dot - s), s, (int) n,
                              s);
        }

        st = b->elem;
        *depth = b->node->loop;
        b->node->var_used = 1;

    } else {
        if (!tplc_valid_name(s, n)) {
            return tplc_error(p, "bad name \"%.*s\": names are "
                              "[a-z_][a-z0-9_]*", (int) n, s);
        }

        for (i = p->nblocks - 1; i >= 0; i--) {
            b = &p->block[i];
            if (b->var && strlen(b->var) == n && memcmp(b->var, s, n) == 0) {
                return tplc_error(p, "loop variable \"%.*s\" needs a field: "
                                  "%.*s.NAME", (int) n, s, (int) n, s);
            }
        }
    }

    cname = tplc_strndup(name, len);
    if (tplc_is_keyword(cname)) {
        return tplc_error(p, "name \"%s\" is a C keyword", cname);
    }

    for (f = st->fields; f; f = f->next) {
        if (strcmp(f->name, cname) == 0) {
            break;
        }
    }

    if (f == NULL) {
        f = tplc_alloc(sizeof(tplc_field_t));
        f->name = cname;
        f->line = p->line;
        f->next = st->fields;
        st->fields = f;
        st->nfields++;

    } else {
        free(cname);
    }

    if (((use & TPLC_ITERATED) && (f->use & TPLC_PRINTED))
        || ((use & TPLC_PRINTED) && (f->use & TPLC_ITERATED)))
    {
        return tplc_error(p, "\"%.*s\" is used both as a list and as a "
                          "value (first use: line %d)", (int) n, s, f->line);
    }

    f->use |= use;

    if ((use & TPLC_ITERATED) && f->elem == NULL) {
        f->elem = tplc_struct_new(p->tpl, st->type, f->name, p->line);
    }

    *field = f;
    return 0;
}

tplc_struct_t *
tplc_struct_new(tplc_tpl_t *tpl, const char *prefix, const char *name,
    int line)
{
    tplc_struct_t  *st;
    size_t          n;

    st = tplc_alloc(sizeof(tplc_struct_t));
    n = strlen(prefix) + strlen(name) + 2;
    st->type = tplc_alloc(n);
    snprintf(st->type, n, "%s_%s", prefix, name);
    st->line = line;
    st->next = tpl->structs;
    tpl->structs = st;

    return st;
}

/* A list "rows" brings a member "rows_n": no other field may be called so. */
int
tplc_check_structs(tplc_tpl_t *tpl)
{
    tplc_struct_t  *st;
    tplc_field_t   *f, *g;
    size_t          n;

    for (st = tpl->structs; st; st = st->next) {
        for (f = st->fields; f; f = f->next) {
            if (!(f->use & TPLC_ITERATED)) {
                continue;
            }

            n = strlen(f->name);
            for (g = st->fields; g; g = g->next) {
                if (strlen(g->name) == n + 2
                    && strncmp(g->name, f->name, n) == 0
                    && strcmp(g->name + n, "_n") == 0)
                {
                    fprintf(stderr, "%s:%d: \"%s\" clashes with the count "
                            "of list \"%s\"\n", tpl->path, g->line, g->name,
                            f->name);
                    return -1;
                }
            }
        }
    }

    return 0;
}

/*
 * Type names are built by joining names with "_", so "a_b" + "c" and
 * "a" + "b_c" meet; refuse instead of emitting C that does not compile.
 */
int
tplc_check_types(tplc_tpl_t *tpls, int ntpls)
{
    tplc_struct_t  *s1, *s2;
    int             i, j;

    for (i = 0; i < ntpls; i++) {
        for (s1 = tpls[i].structs; s1; s1 = s1->next) {
            for (j = i; j < ntpls; j++) {
                for (s2 = (j == i ? s1->next : tpls[j].structs); s2;
                     s2 = s2->next)
                {
                    if (strcmp(s1->type, s2->type) == 0) {
                        fprintf(stderr, "%s:%d: type %s_t is generated "
                                "twice (also by %s:%d); rename a list or "
                                "template\n", tpls[j].path, s2->line,
                                s2->type, tpls[i].path, s1->line);
                        return -1;
                    }
                }
            }
        }
    }

    return 0;
}
