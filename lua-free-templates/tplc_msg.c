/*
 * tplc_msg.c -- the message catalogue: every string of the UI, once,
 * with its text in each language.  tplc reads it next to the templates,
 * checks it (every key in every language, the same {name} params and
 * the same printf conversions in each), resolves {% t key %} against it
 * and writes its tables as C, so a page never parses a message.
 *
 *   @languages de en
 *
 *   [overview.clear_filters]
 *   de = Filter zurücksetzen
 *   en = Clear filters
 *
 * A text runs to the end of its line (blanks around it trimmed; wrap it
 * in "..." to keep them); \n, \t and \\ are escapes.  A third language
 * is one more code on the @languages line and one more line per entry.
 */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tplc_msg.h"

#define TPLC_MSG_LINE  8192

static int tplc_cat_error(const tplc_cat_t *cat, int line, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
static int tplc_cat_languages(tplc_cat_t *cat, char *s, int line);
static int tplc_cat_entry(tplc_cat_t *cat, char *s, int line);
static int tplc_cat_text(tplc_cat_t *cat, tplc_msg_t *m, char *s, int line);
static int tplc_cat_check(tplc_cat_t *cat, tplc_msg_t *m);
static int tplc_cat_params(tplc_cat_t *cat, tplc_msg_t *m);
static size_t tplc_param_at(const char *s, size_t len, size_t i);
static void tplc_conversions(const char *s, tplc_buf_t *b);
static void tplc_msg_lit(tplc_buf_t *b, const char *s, size_t n);


static int
tplc_cat_error(const tplc_cat_t *cat, int line, const char *fmt, ...)
{
    va_list  ap;

    fprintf(stderr, "%s:%d: ", cat->path, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);

    return 1;
}


int
tplc_cat_read(const char *path, tplc_cat_t *cat)
{
    FILE  *f;
    char   buf[TPLC_MSG_LINE], *s, *e;
    int    line, errors, i;

    memset(cat, 0, sizeof(*cat));
    cat->path = path;

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 1;
    }

    errors = 0;

    for (line = 1; fgets(buf, sizeof(buf), f); line++) {
        e = buf + strlen(buf);
        while (e > buf && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '
                           || e[-1] == '\t'))
        {
            *--e = '\0';
        }

        for (s = buf; *s == ' ' || *s == '\t'; s++) {
            /* skip indentation */
        }

        if (*s == '\0' || *s == '#') {
            continue;
        }

        if (strncmp(s, "@languages", 10) == 0) {
            errors += tplc_cat_languages(cat, s + 10, line);

        } else if (cat->nlangs == 0) {
            errors += tplc_cat_error(cat, line, "the catalogue must start "
                                     "with \"@languages de en ...\"");
            break;

        } else if (*s == '[') {
            if (cat->nmsgs && tplc_cat_check(cat, &cat->msgs[cat->nmsgs - 1]))
            {
                errors++;
            }

            errors += tplc_cat_entry(cat, s, line);

        } else if (cat->nmsgs == 0) {
            errors += tplc_cat_error(cat, line, "text before the first "
                                     "[key]");

        } else {
            errors += tplc_cat_text(cat, &cat->msgs[cat->nmsgs - 1], s, line);
        }
    }

    fclose(f);

    if (cat->nmsgs && tplc_cat_check(cat, &cat->msgs[cat->nmsgs - 1])) {
        errors++;
    }

    /* plural pairs: FOO_one is directly followed by FOO_other */
    for (i = 0; i < cat->nmsgs; i++) {
        size_t  kl = strlen(cat->msgs[i].key);

        if (kl > 4 && strcmp(cat->msgs[i].key + kl - 4, "_one") == 0
            && (i + 1 == cat->nmsgs
                || strncmp(cat->msgs[i + 1].key, cat->msgs[i].key, kl - 4)
                   != 0
                || strcmp(cat->msgs[i + 1].key + kl - 4, "_other") != 0))
        {
            errors += tplc_cat_error(cat, cat->msgs[i].line, "[%s] needs "
                                     "[%.*s_other] as the next entry (the "
                                     "plural form)", cat->msgs[i].key,
                                     (int) kl - 4, cat->msgs[i].key);
        }
    }

    return errors ? 1 : 0;
}


static int
tplc_cat_languages(tplc_cat_t *cat, char *s, int line)
{
    char  *w;

    if (cat->nlangs) {
        return tplc_cat_error(cat, line, "second @languages line");
    }

    cat->langs = tplc_alloc(16 * sizeof(char *));

    for (w = strtok(s, " \t"); w; w = strtok(NULL, " \t")) {
        if (strlen(w) != 2 || !islower((unsigned char) w[0])
            || !islower((unsigned char) w[1]) || cat->nlangs == 16)
        {
            return tplc_cat_error(cat, line, "bad language \"%s\" (two "
                                  "lower-case letters, at most 16)", w);
        }

        cat->langs[cat->nlangs++] = tplc_strndup(w, 2);
    }

    if (cat->nlangs == 0) {
        return tplc_cat_error(cat, line, "@languages names no language");
    }

    return 0;
}


/* "[key]": a new entry; the key becomes the C name TK_MSG_KEY. */
static int
tplc_cat_entry(tplc_cat_t *cat, char *s, int line)
{
    char        *e, *c;
    tplc_msg_t  *m;
    int          i;

    e = strchr(s, ']');
    if (e == NULL || e[1] != '\0' || e == s + 1) {
        return tplc_cat_error(cat, line, "expected [key]");
    }

    *e = '\0';
    s++;

    for (c = s; *c; c++) {
        if (!(islower((unsigned char) *c) || isdigit((unsigned char) *c)
              || *c == '_' || *c == '.')
            || !islower((unsigned char) s[0]))
        {
            return tplc_cat_error(cat, line, "bad key \"%s\": [a-z][a-z0-9_.]*",
                                  s);
        }
    }

    if ((cat->nmsgs & (cat->nmsgs - 1)) == 0) {
        tplc_msg_t  *n = tplc_alloc((cat->nmsgs ? cat->nmsgs * 2 : 64)
                                    * sizeof(tplc_msg_t));

        if (cat->nmsgs) {
            memcpy(n, cat->msgs, cat->nmsgs * sizeof(tplc_msg_t));
        }

        cat->msgs = n;
    }

    m = &cat->msgs[cat->nmsgs];
    memset(m, 0, sizeof(*m));
    m->key = tplc_strndup(s, strlen(s));
    m->line = line;
    m->text = tplc_alloc(cat->nlangs * sizeof(char *));
    m->len = tplc_alloc(cat->nlangs * sizeof(size_t));
    m->raw = strlen(s) > 5 && strcmp(s + strlen(s) - 5, "_html") == 0;
    m->fmt = strlen(s) > 4 && strcmp(s + strlen(s) - 4, "_fmt") == 0;

    m->cname = tplc_alloc(strlen(s) + sizeof("TK_MSG_"));
    strcpy(m->cname, "TK_MSG_");
    for (c = m->cname + 7; *s; s++) {
        *c++ = *s == '.' ? '_' : toupper((unsigned char) *s);
    }

    /* counted even when bad: its text lines belong to it */
    cat->nmsgs++;

    for (i = 0; i < cat->nmsgs - 1; i++) {
        if (strcmp(cat->msgs[i].cname, m->cname) == 0) {
            return tplc_cat_error(cat, line, "[%s] is %s already (line %d)",
                                  m->key, strcmp(cat->msgs[i].key, m->key)
                                          ? "the C name of another key"
                                          : "defined",
                                  cat->msgs[i].line);
        }
    }

    return 0;
}


/* "de = text" */
static int
tplc_cat_text(tplc_cat_t *cat, tplc_msg_t *m, char *s, int line)
{
    char    *e, *o, *v;
    size_t   n;
    int      i;

    for (i = 0; i < cat->nlangs; i++) {
        if (strncmp(s, cat->langs[i], 2) == 0) {
            break;
        }
    }

    for (v = s + 2; *v == ' ' || *v == '\t'; v++) {
        /* void */
    }

    if (i == cat->nlangs || *v != '=') {
        return tplc_cat_error(cat, line, "expected \"LANG = text\" with LANG "
                              "one of @languages, in [%s]", m->key);
    }

    if (m->text[i]) {
        return tplc_cat_error(cat, line, "[%s] has a second \"%s\" text",
                              m->key, cat->langs[i]);
    }

    for (v++; *v == ' ' || *v == '\t'; v++) {
        /* void */
    }

    n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v[n - 1] = '\0';
        v++;
    }

    e = tplc_alloc(strlen(v) + 1);
    for (o = e; *v; v++) {
        if (*v == '\\' && (v[1] == 'n' || v[1] == 't' || v[1] == '\\')) {
            v++;
            *o++ = *v == 'n' ? '\n' : *v == 't' ? '\t' : '\\';
        } else {
            *o++ = *v;
        }
    }

    *o = '\0';
    m->text[i] = e;
    m->len[i] = o - e;

    return 0;
}


/* An entry is complete: every language, and all of them agree. */
static int
tplc_cat_check(tplc_cat_t *cat, tplc_msg_t *m)
{
    tplc_buf_t  a, b;
    int         i, errors;

    errors = 0;

    for (i = 0; i < cat->nlangs; i++) {
        if (m->text[i] == NULL) {
            errors += tplc_cat_error(cat, m->line, "[%s] has no \"%s\" text",
                                     m->key, cat->langs[i]);
        }
    }

    if (errors) {
        return 1;
    }

    /* C callers pass ngx_sprintf arguments: same conversions, same order */
    memset(&a, 0, sizeof(a));
    tplc_conversions(m->text[0], &a);

    for (i = 1; i < cat->nlangs; i++) {
        memset(&b, 0, sizeof(b));
        tplc_conversions(m->text[i], &b);

        if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0)) {
            errors += tplc_cat_error(cat, m->line, "[%s]: the \"%s\" text "
                                     "has the conversions \"%.*s\", the "
                                     "\"%s\" text \"%.*s\"", m->key,
                                     cat->langs[0], (int) a.len,
                                     a.len ? a.data : "", cat->langs[i],
                                     (int) b.len, b.len ? b.data : "");
        }

        free(b.data);
    }

    free(a.data);

    return errors ? 1 : tplc_cat_params(cat, m);
}


/* "%V", "%ui", "%*s", "%%": each conversion, as one string. */
static void
tplc_conversions(const char *s, tplc_buf_t *b)
{
    const char  *p;

    for (p = s; (p = strchr(p, '%')) != NULL; ) {
        const char  *q = p + 1;

        while (*q && strchr("0123456789*.-", *q)) {
            q++;
        }

        if (*q == 'u' || *q == 'x' || *q == 'X') {
            q++;
        }

        if (*q) {
            q++;
        }

        tplc_buf_add(b, p, q - p);
        tplc_buf_add(b, " ", 1);
        p = q;
    }
}


/* Length of the {name} or {loop.name} starting at s[i], or 0. */
static size_t
tplc_param_at(const char *s, size_t len, size_t i)
{
    size_t  j;

    if (s[i] != '{' || i + 2 >= len
        || !(islower((unsigned char) s[i + 1]) || s[i + 1] == '_'))
    {
        return 0;
    }

    for (j = i + 1; j < len && (islower((unsigned char) s[j])
                                || isdigit((unsigned char) s[j])
                                || s[j] == '_' || s[j] == '.');
         j++)
    {
        /* void */
    }

    return j < len && s[j] == '}' ? j + 1 - i : 0;
}


static int
tplc_cat_params(tplc_cat_t *cat, tplc_msg_t *m)
{
    size_t   i, n;
    int      l, k, found, count;

    m->params = tplc_alloc(16 * sizeof(char *));
    m->nparams = 0;

    for (i = 0; i < m->len[0]; i++) {
        n = tplc_param_at(m->text[0], m->len[0], i);
        if (n == 0) {
            continue;
        }

        for (k = 0; k < m->nparams; k++) {
            if (strlen(m->params[k]) == n - 2
                && memcmp(m->params[k], m->text[0] + i + 1, n - 2) == 0)
            {
                break;
            }
        }

        if (k == m->nparams) {
            if (m->nparams == 16) {
                return tplc_cat_error(cat, m->line, "[%s]: more than 16 "
                                      "{params}", m->key);
            }

            m->params[m->nparams++] = tplc_strndup(m->text[0] + i + 1, n - 2);
        }
    }

    /*
     * A "_fmt" entry is a format C fills by param name (dates: {dd},
     * {mon} ...): each language picks its own params, so their union is
     * collected instead of an equal set being demanded.
     */
    if (m->fmt) {
        for (l = 1; l < cat->nlangs; l++) {
            for (i = 0; i < m->len[l]; i++) {
                n = tplc_param_at(m->text[l], m->len[l], i);
                if (n == 0) {
                    continue;
                }

                for (k = 0; k < m->nparams; k++) {
                    if (strlen(m->params[k]) == n - 2
                        && memcmp(m->params[k], m->text[l] + i + 1, n - 2)
                           == 0)
                    {
                        break;
                    }
                }

                if (k == m->nparams && m->nparams < 16) {
                    m->params[m->nparams++] = tplc_strndup(m->text[l] + i + 1,
                                                           n - 2);
                }
            }
        }

        return 0;
    }

    /* every other language names exactly the same params */
    for (l = 1; l < cat->nlangs; l++) {
        count = 0;

        for (i = 0; i < m->len[l]; i++) {
            n = tplc_param_at(m->text[l], m->len[l], i);
            if (n == 0) {
                continue;
            }

            found = 0;
            for (k = 0; k < m->nparams; k++) {
                if (strlen(m->params[k]) == n - 2
                    && memcmp(m->params[k], m->text[l] + i + 1, n - 2) == 0)
                {
                    found = 1;
                    count |= 1 << k;
                }
            }

            if (!found) {
                return tplc_cat_error(cat, m->line, "[%s]: the \"%s\" text "
                                      "names {%.*s}, the \"%s\" text does "
                                      "not", m->key, cat->langs[l],
                                      (int) n - 2, m->text[l] + i + 1,
                                      cat->langs[0]);
            }
        }

        if (count != (1 << m->nparams) - 1) {
            return tplc_cat_error(cat, m->line, "[%s]: the \"%s\" text lacks "
                                  "a {param} of the \"%s\" text", m->key,
                                  cat->langs[l], cat->langs[0]);
        }
    }

    return 0;
}


int
tplc_cat_find(const tplc_cat_t *cat, const char *key, size_t n)
{
    int  i;

    for (i = 0; i < cat->nmsgs; i++) {
        if (strlen(cat->msgs[i].key) == n
            && memcmp(cat->msgs[i].key, key, n) == 0)
        {
            return i;
        }
    }

    return -1;
}


void
tplc_cat_unused(const tplc_cat_t *cat, const char *const *cfiles, int n)
{
    FILE        *f;
    tplc_buf_t   all;
    char         chunk[8192], *p;
    size_t       got, cl;
    int          i, used;

    memset(&all, 0, sizeof(all));

    for (i = 0; i < n; i++) {
        f = fopen(cfiles[i], "rb");
        if (f == NULL) {
            continue;
        }

        while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
            tplc_buf_add(&all, chunk, got);
        }

        fclose(f);
    }

    tplc_buf_add(&all, "", 1);

    for (i = 0; i < cat->nmsgs; i++) {
        if (cat->msgs[i].used) {
            continue;
        }

        used = 0;
        cl = strlen(cat->msgs[i].cname);

        for (p = all.data; !used && (p = strstr(p, cat->msgs[i].cname)); p++) {
            used = !(isalnum((unsigned char) p[cl]) || p[cl] == '_');
        }

        /* FOO_other is used through FOO_one (tk_msg_n) */
        cl = strlen(cat->msgs[i].key);
        if (!used && i > 0 && cl > 6
            && strcmp(cat->msgs[i].key + cl - 6, "_other") == 0
            && cat->msgs[i - 1].used)
        {
            used = 1;
        }

        cat->msgs[i].used = used;

        if (!used) {
            fprintf(stderr, "%s:%d: warning: [%s] is used by no template and "
                    "no C file\n", cat->path, cat->msgs[i].line,
                    cat->msgs[i].key);
        }
    }

    free(all.data);
}


/* ---- code generation ---------------------------------------------------- */

void
tplc_gen_msg_header(tplc_buf_t *b, const tplc_cat_t *cat)
{
    int  i;

    tplc_buf_printf(b, "\n/* ---- message catalogue (%s) ---- */\n\n",
                    cat->path);

    for (i = 0; i < cat->nlangs; i++) {
        char  up[3] = { (char) toupper((unsigned char) cat->langs[i][0]),
                        (char) toupper((unsigned char) cat->langs[i][1]), 0 };

        tplc_buf_printf(b, "#define TK_LANG_%s  %d\n", up, i);
    }

    tplc_buf_printf(b, "#define TK_LANG_N   %d\n\nenum {\n", cat->nlangs);

    for (i = 0; i < cat->nmsgs; i++) {
        tplc_buf_printf(b, "    %s%s,\n", cat->msgs[i].cname,
                        i == 0 ? " = 0" : "");
    }

    tplc_buf_printf(b,
        "    TK_MSG_N\n};\n\n"
        "/* \"de\", \"en\", ...: index = TK_LANG_* */\n"
        "extern const char *const  tk_msg_langs[TK_LANG_N];\n"
        "extern const tk_msg_t    *const tk_msgs[TK_LANG_N];\n\n"
        "/* Message id in language lang; an unknown lang is the first. */\n"
        "static inline const tk_msg_t *\n"
        "tk_msg_get(int lang, int id)\n{\n"
        "    return &tk_msgs[lang >= 0 && lang < TK_LANG_N ? lang : 0][id];\n"
        "}\n\n"
        "/* The text as a C string (ngx_sprintf conversions included). */\n"
        "static inline const char *\n"
        "tk_msg(int lang, int id)\n{\n"
        "    return tk_msg_get(lang, id)->text;\n}\n\n"
        "/* id is a FOO_ONE message: FOO_OTHER unless n is 1. */\n"
        "static inline const char *\n"
        "tk_msg_n(int lang, int id, unsigned long long n)\n{\n"
        "    return tk_msg_get(lang, n == 1 ? id : id + 1)->text;\n}\n");
}


void
tplc_gen_msg_source(tplc_buf_t *b, const tplc_cat_t *cat)
{
    tplc_msg_t  *m;
    size_t       i, n, start;
    int          l, k, j;

    tplc_buf_printf(b, "\n\n/* ---- message catalogue (%s) ---- */\n\n"
                    "const char *const  tk_msg_langs[TK_LANG_N] = {",
                    cat->path);

    for (l = 0; l < cat->nlangs; l++) {
        tplc_buf_printf(b, "%s\"%s\"", l ? ", " : " ", cat->langs[l]);
    }

    tplc_buf_printf(b, " };\n");

    /* the pieces of texts with {params}: literal, or argument k */
    for (l = 0; l < cat->nlangs; l++) {
        for (j = 0; j < cat->nmsgs; j++) {
            m = &cat->msgs[j];
            if (m->nparams == 0) {
                continue;
            }

            tplc_buf_printf(b, "\nstatic const tk_msg_seg_t  tk_msg_%s_%d[] "
                            "= {\n", cat->langs[l], j);
            start = 0;

            for (i = 0; i <= m->len[l]; i++) {
                n = i < m->len[l] ? tplc_param_at(m->text[l], m->len[l], i)
                                  : 0;

                if (i < m->len[l] && n == 0) {
                    continue;
                }

                if (i > start) {
                    tplc_buf_printf(b, "    { ");
                    tplc_msg_lit(b, m->text[l] + start, i - start);
                    tplc_buf_printf(b, ", %zu, -1 },\n", i - start);
                }

                if (n) {
                    for (k = 0; k < m->nparams; k++) {
                        if (strlen(m->params[k]) == n - 2
                            && memcmp(m->params[k], m->text[l] + i + 1, n - 2)
                               == 0)
                        {
                            break;
                        }
                    }

                    tplc_buf_printf(b, "    { \"%s\", %zu, %d },\n",
                                    m->params[k], strlen(m->params[k]), k);
                    i += n - 1;
                    start = i + 1;
                }
            }

            tplc_buf_printf(b, "};\n");
        }
    }

    for (l = 0; l < cat->nlangs; l++) {
        tplc_buf_printf(b, "\nstatic const tk_msg_t  tk_msgs_%s[TK_MSG_N] = {"
                        "\n", cat->langs[l]);

        for (j = 0; j < cat->nmsgs; j++) {
            m = &cat->msgs[j];
            tplc_buf_printf(b, "    /* %s */\n    { ", m->key);
            tplc_msg_lit(b, m->text[l], m->len[l]);

            if (m->nparams) {
                tplc_buf_printf(b, ", %zu, tk_msg_%s_%d, sizeof(tk_msg_%s_%d)"
                                " / sizeof(tk_msg_seg_t) },\n", m->len[l],
                                cat->langs[l], j, cat->langs[l], j);
            } else {
                tplc_buf_printf(b, ", %zu, NULL, 0 },\n", m->len[l]);
            }
        }

        tplc_buf_printf(b, "};\n");
    }

    tplc_buf_printf(b, "\nconst tk_msg_t  *const tk_msgs[TK_LANG_N] = {");

    for (l = 0; l < cat->nlangs; l++) {
        tplc_buf_printf(b, "%s tk_msgs_%s", l ? "," : "", cat->langs[l]);
    }

    tplc_buf_printf(b, " };\n");
}


/* A C string literal of n bytes (UTF-8 kept, "??" broken up). */
static void
tplc_msg_lit(tplc_buf_t *b, const char *s, size_t n)
{
    size_t  i;

    tplc_buf_add(b, "\"", 1);

    for (i = 0; i < n; i++) {
        unsigned char  c = (unsigned char) s[i];

        if (c == '"' || c == '\\') {
            tplc_buf_printf(b, "\\%c", c);
        } else if (c == '\n') {
            tplc_buf_add(b, "\\n", 2);
        } else if (c == '?' && i && s[i - 1] == '?') {
            tplc_buf_add(b, "\\?", 2);
        } else if (c < 0x20 || c == 0x7f) {
            tplc_buf_printf(b, "\\%03o", c);
        } else {
            tplc_buf_add(b, (const char *) &c, 1);
        }
    }

    tplc_buf_add(b, "\"", 1);
}
