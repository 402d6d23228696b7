/*
 * tk_addr.c -- address lists typed by agents (see tk_addr.h).
 */

#include <string.h>

#include "tk_addr.h"


static int tk_addr_entry(const unsigned char *p, size_t len, tk_addr_t *a);
static void tk_trim(const unsigned char **p, const unsigned char **e);
static int tk_atext(unsigned char c);
static int tk_name_plain(const tk_str_t *name);


int
tk_has_ctrl(const tk_str_t *s)
{
    size_t  i;

    for (i = 0; i < s->len; i++) {
        if (s->data[i] < 0x20 || s->data[i] == 0x7f) {
            return 1;
        }
    }

    return 0;
}


/*
 * Commas inside quotes or angle brackets do not split.  Control bytes
 * are refused for the whole list first: whatever else is wrong, a line
 * break must never get as far as the stored article.
 */
int
tk_addr_parse(const tk_str_t *list, tk_addr_t *out, int max, tk_str_t *bad)
{
    const unsigned char  *p, *end, *start;
    int                   n, quoted, angle;

    if (tk_has_ctrl(list)) {
        *bad = *list;
        return TK_ADDR_E_CTRL;
    }

    p = list->data;
    end = p + list->len;
    start = p;
    quoted = 0;
    angle = 0;
    n = 0;

    for (;; p++) {

        if (p < end) {
            if (*p == '"' && !angle) {
                quoted = !quoted;

            } else if (*p == '\\' && quoted && p + 1 < end) {
                p++;

            } else if (*p == '<' && !quoted) {
                angle = 1;

            } else if (*p == '>' && !quoted) {
                angle = 0;
            }

            if (*p != ',' || quoted || angle) {
                continue;
            }
        }

        {
            const unsigned char  *s = start, *e = p;

            tk_trim(&s, &e);

            if (e > s) {
                bad->data = (unsigned char *) s;
                bad->len = (size_t) (e - s);

                if (n == max) {
                    return TK_ADDR_E_MANY;
                }

                if (tk_addr_entry(s, (size_t) (e - s), &out[n]) != 0) {
                    return TK_ADDR_E_SYNTAX;
                }

                n++;
            }
        }

        if (p >= end) {
            break;
        }

        start = p + 1;
    }

    return n;
}


/* "a@x", "<a@x>", "Name <a@x>", "\"Name, Q\" <a@x>" */
static int
tk_addr_entry(const unsigned char *p, size_t len, tk_addr_t *a)
{
    const unsigned char  *e, *lt, *gt, *ns, *ne, *q;

    memset(a, 0, sizeof(tk_addr_t));
    e = p + len;

    lt = NULL;

    /* the last '<' outside quotes starts the address */
    {
        int  quoted = 0;

        for (q = p; q < e; q++) {
            if (*q == '"') {
                quoted = !quoted;
            } else if (*q == '\\' && quoted && q + 1 < e) {
                q++;
            } else if (*q == '<' && !quoted) {
                lt = q;
            }
        }

        if (quoted) {
            return -1;
        }
    }

    if (lt == NULL) {
        if (!tk_addr_valid(p, len)) {
            return -1;
        }

        a->addr.data = (unsigned char *) p;
        a->addr.len = len;
        return 0;
    }

    gt = memchr(lt, '>', (size_t) (e - lt));
    if (gt == NULL || gt + 1 != e) {
        return -1;
    }

    if (!tk_addr_valid(lt + 1, (size_t) (gt - lt - 1))) {
        return -1;
    }

    a->addr.data = (unsigned char *) lt + 1;
    a->addr.len = (size_t) (gt - lt - 1);

    ns = p;
    ne = lt;
    tk_trim(&ns, &ne);

    if (ne > ns && *ns == '"') {
        if (ne - ns < 2 || ne[-1] != '"') {
            return -1;
        }

        ns++;
        ne--;
        a->name_quoted = 1;

    } else {
        for (q = ns; q < ne; q++) {
            if (*q == '"' || *q == '<' || *q == '>' || *q == '@') {
                return -1;
            }
        }
    }

    a->name.data = (unsigned char *) ns;
    a->name.len = (size_t) (ne - ns);

    return 0;
}


static void
tk_trim(const unsigned char **p, const unsigned char **e)
{
    while (*p < *e && (**p == ' ' || **p == '\t')) {
        (*p)++;
    }

    while (*e > *p && ((*e)[-1] == ' ' || (*e)[-1] == '\t')) {
        (*e)--;
    }
}


/* RFC 5322 atext */
static int
tk_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || strchr("!#$%&'*+-/=?^_`{|}~", c);
}


/*
 * A dot-atom local part (no quoted local parts: nobody we write to has
 * one, and they are where parsers disagree) and a domain of LDH labels,
 * at least two, none longer than 63.
 */
int
tk_addr_valid(const unsigned char *p, size_t len)
{
    const unsigned char  *at, *e, *q, *label;

    if (len == 0 || len > TK_ADDR_LEN_MAX) {
        return 0;
    }

    e = p + len;
    at = memchr(p, '@', len);

    if (at == NULL || at == p || at - p > 64 || at + 1 == e
        || memchr(at + 1, '@', (size_t) (e - at - 1)))
    {
        return 0;
    }

    for (q = p; q < at; q++) {
        if (*q == '.') {
            if (q == p || q + 1 == at || q[1] == '.') {
                return 0;
            }

        } else if (*q == 0 || !tk_atext(*q)) {
            return 0;
        }
    }

    label = at + 1;

    for (q = at + 1; q <= e; q++) {
        if (q == e || *q == '.') {
            if (q == label || q - label > 63 || *label == '-'
                || q[-1] == '-')
            {
                return 0;
            }

            label = q + 1;
            continue;
        }

        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')
              || (*q >= '0' && *q <= '9') || *q == '-'))
        {
            return 0;
        }
    }

    return memchr(at + 1, '.', (size_t) (e - at - 1)) != NULL;
}


static int
tk_name_plain(const tk_str_t *name)
{
    size_t         i;
    unsigned char  c;

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if (!(c >= 0x80 || c == ' ' || (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '-'))
        {
            return 0;
        }
    }

    return 1;
}


void
tk_addr_write(tk_out_t *out, const tk_addr_t *a, int n)
{
    int     i;
    size_t  k;

    for (i = 0; i < n; i++) {
        if (i) {
            tk_out_raw(out, ", ", 2);
        }

        if (a[i].name.len == 0) {
            tk_out_str(out, &a[i].addr);
            continue;
        }

        if (tk_name_plain(&a[i].name)) {
            tk_out_str(out, &a[i].name);

        } else {
            tk_out_raw(out, "\"", 1);

            for (k = 0; k < a[i].name.len; k++) {
                unsigned char  c = a[i].name.data[k];

                /* a quoted name is kept as it was escaped */
                if (c == '\\' && a[i].name_quoted && k + 1 < a[i].name.len) {
                    tk_out_raw(out, &a[i].name.data[k], 2);
                    k++;
                    continue;
                }

                if (c == '"' || c == '\\') {
                    tk_out_raw(out, "\\", 1);
                }

                tk_out_raw(out, &c, 1);
            }

            tk_out_raw(out, "\"", 1);
        }

        tk_out_raw(out, " <", 2);
        tk_out_str(out, &a[i].addr);
        tk_out_raw(out, ">", 1);
    }
}


void
tk_addr_lower(unsigned char *dst, const tk_str_t *addr)
{
    size_t  i;

    for (i = 0; i < addr->len; i++) {
        dst[i] = (addr->data[i] >= 'A' && addr->data[i] <= 'Z')
                 ? addr->data[i] | 0x20 : addr->data[i];
    }
}
