/*
 * tplc_tree.c -- what every stage of the template compiler asks of
 * names and positions: error messages, valid names, C keywords.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tplc_tree.h"

/* "file:line: message", the format editors and make understand. */
int
tplc_error(tplc_parser_t *p, const char *fmt, ...)
{
    va_list  ap;

    fprintf(stderr, "%s:%d: ", p->tpl->path, p->line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);

    return -1;
}

int
tplc_valid_name(const char *s, size_t n)
{
    size_t  i;

    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')
              || s[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}

/* Names become struct members: a C keyword would not compile. */
int
tplc_is_keyword(const char *s)
{
    static const char  *kw[] = {
        "auto", "break", "case", "char", "const", "continue", "default",
        "do", "double", "else", "enum", "extern", "float", "for", "goto",
        "if", "inline", "int", "long", "register", "restrict", "return",
        "short", "signed", "sizeof", "static", "struct", "switch",
        "typedef", "union", "unsigned", "void", "volatile", "while",
        "asm", "typeof", NULL
    };
    int                 i;

    for (i = 0; kw[i]; i++) {
        if (strcmp(s, kw[i]) == 0) {
            return 1;
        }
    }

    return 0;
}
