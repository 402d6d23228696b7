/*
 * tc_text.c -- table columns for the list commands.  printf's "%-24s"
 * pads by bytes, so every umlaut in a name ("Jörg Müller") pulled the
 * rest of its line one column to the left; these pad by what a terminal
 * shows.
 */

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "ticketctl.h"


/*
 * Columns s takes on a terminal: the C library's wcwidth() of each
 * character (0 for combining marks, 2 for wide ones) in a UTF-8 locale
 * of its own, whatever the caller's locale is.  A byte that is no UTF-8
 * counts one column, as terminals show a replacement for it.
 */
size_t
tc_text_width(const char *s)
{
    size_t          n, len, width;
    wchar_t         wc;
    mbstate_t       st;
    locale_t        utf8, old;
    int             w;
    static locale_t  cached;

    if (cached == (locale_t) 0) {
        cached = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
    }

    utf8 = cached;
    len = strlen(s);

    if (utf8 == (locale_t) 0) {
        /* no UTF-8 locale: one column per code point */
        for (width = 0; *s; s++) {
            width += ((unsigned char) *s & 0xc0) != 0x80;
        }

        return width;
    }

    old = uselocale(utf8);
    memset(&st, 0, sizeof(st));
    width = 0;

    while (len) {
        n = mbrtowc(&wc, s, len, &st);

        if (n == (size_t) -1 || n == (size_t) -2 || n == 0) {
            memset(&st, 0, sizeof(st));
            width++;
            s++;
            len--;
            continue;
        }

        w = wcwidth(wc);
        width += w > 0 ? (size_t) w : 0;
        s += n;
        len -= n;
    }

    uselocale(old);

    return width;
}


/* s, then blanks up to width columns, then the column gap (one blank);
 * a longer s is printed whole, as printf would. */
void
tc_print_col(const char *s, size_t width)
{
    size_t  w;

    w = tc_text_width(s);
    fputs(s, stdout);

    do {
        putchar(' ');
    } while (++w < width + 1);
}
