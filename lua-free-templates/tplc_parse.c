/*
 * tplc_parse.c -- the template compiler's front end: reads a template
 * and turns {{ }}, {% %} and {# #} tags into a tree of nodes (tplc_tree.h).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tplc_msg.h"
#include "tplc_parse.h"
#include "tplc_types.h"

static int tplc_tag(tplc_parser_t *p, char kind, const char *s, size_t n);
static int tplc_tag_print(tplc_parser_t *p, const char *s, size_t n);
static int tplc_tag_block(tplc_parser_t *p, const char *s, size_t n);
static int tplc_tag_end(tplc_parser_t *p);
static int tplc_tag_msg(tplc_parser_t *p, const char *key, size_t n);
static tplc_node_t *tplc_append(tplc_parser_t *p, tplc_node_type_e type);
static int tplc_only_space(const char *s, const char *e);
static const char *tplc_find_close(const char *p, const char *end);
static const char *tplc_block_line(const char *p, const char *end);

int
tplc_read_file(tplc_tpl_t *tpl)
{
    FILE        *f;
    tplc_buf_t   b;
    char         chunk[8192];
    const char  *base, *dot;
    size_t       n;

    base = strrchr(tpl->path, '/');
    base = base ? base + 1 : tpl->path;
    dot = strrchr(base, '.');

    if (dot == NULL || strcmp(dot, ".html") != 0
        || !tplc_valid_name(base, dot - base))
    {
        fprintf(stderr, "%s:1: bad template name: the file must be "
                "NAME.html with NAME matching [a-z_][a-z0-9_]*\n", tpl->path);
        return -1;
    }

    tpl->name = tplc_strndup(base, dot - base);

    f = fopen(tpl->path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", tpl->path, strerror(errno));
        return -1;
    }

    memset(&b, 0, sizeof(b));
    tplc_buf_add(&b, "", 0);

    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        tplc_buf_add(&b, chunk, n);
    }

    if (ferror(f)) {
        fprintf(stderr, "%s: read error\n", tpl->path);
        fclose(f);
        return -1;
    }

    fclose(f);
    tpl->src = b.data;
    tpl->len = b.len;

    return 0;
}

static int
tplc_only_space(const char *s, const char *e)
{
    for (; s < e; s++) {
        if (*s != ' ' && *s != '\t' && *s != '\r') {
            return 0;
        }
    }

    return 1;
}

/* ---- parser ------------------------------------------------------------- */

/*
 * One pass over the source: text between tags becomes TEXT nodes, tags
 * become nodes of the current block.  Names are resolved and typed as
 * they are met, so "used as list and as value" is reported at the line
 * of the second, conflicting use.
 */
int
tplc_parse(tplc_tpl_t *tpl)
{
    tplc_parser_t   p;
    tplc_node_t    *n;
    const char     *src, *end, *s, *tag, *close, *ls, *eol, *text;
    int             line;

    memset(&p, 0, sizeof(p));
    p.tpl = tpl;
    p.tail = &tpl->root;
    tpl->top = tplc_struct_new(tpl, "tk_tpl", tpl->name, 1);

    src = tpl->src;
    end = src + tpl->len;
    text = src;
    line = 1;
    s = src;

    for (;;) {
        /* the next "{{", "{%" or "{#" */
        for (tag = s; tag + 1 < end; tag++) {
            if (tag[0] == '{'
                && (tag[1] == '{' || tag[1] == '%' || tag[1] == '#'))
            {
                break;
            }

            if (tag[0] == '\n') {
                line++;
            }
        }

        if (tag + 1 >= end) {
            break;
        }

        p.line = line;

        if (tplc_find_close(tag, end) == NULL) {
            return tplc_error(&p, "unclosed tag \"%.2s\": no \"%c}\"", tag,
                              tag[1] == '{' ? '}' : tag[1]);
        }

        /*
         * A line holding nothing but block tags, comments and blanks is
         * dropped whole, so the generated HTML has no blank lines where
         * the template had control flow.
         */
        eol = NULL;
        if (tag[1] != '{') {
            for (ls = tag; ls > src && ls[-1] != '\n'; ls--) {
                /* find the start of the line */
            }

            if (ls >= text && tplc_only_space(ls, tag)) {
                eol = tplc_block_line(tag, end);
            }
        }

        if (eol == NULL) {
            ls = tag;
            eol = tag;
        }

        if (ls > text) {
            n = tplc_append(&p, TPLC_TEXT);
            n->text = text;
            n->len = ls - text;
        }

        /* the tag, or every tag of the dropped line */
        s = tag;
        do {
            close = tplc_find_close(s, end);
            if (close == NULL) {
                return tplc_error(&p, "unclosed tag \"%.2s\"", s);
            }

            p.line = line;
            if (tplc_tag(&p, s[1], s + 2, close - s - 2) != 0) {
                return -1;
            }

            for (; s < close + 2; s++) {
                line += *s == '\n';
            }

            while (s < eol && (*s == ' ' || *s == '\t' || *s == '\r')) {
                s++;
            }

        } while (s + 1 < eol && s[0] == '{');

        if (s < eol) {
            /* the dropped line's end */
            line += *s == '\n';
            s = eol;
        }

        text = s;
    }

    if (end > text) {
        n = tplc_append(&p, TPLC_TEXT);
        n->text = text;
        n->len = end - text;
    }

    if (p.nblocks > 0) {
        n = p.block[p.nblocks - 1].node;
        p.line = n->line;
        return tplc_error(&p, "unterminated {%% %s %%} block at end of "
                          "file: no {%% end %%}",
                          n->type == TPLC_IF ? "if" : "for");
    }

    return tplc_check_structs(tpl);
}

/* The "}}", "%}" or "#}" closing the tag at p, or NULL. */
static const char *
tplc_find_close(const char *p, const char *end)
{
    char  c;

    c = p[1] == '{' ? '}' : p[1];

    for (p += 2; p + 1 < end; p++) {
        if (p[0] == c && p[1] == '}') {
            return p;
        }
    }

    return NULL;
}

/*
 * End of the line (past its newline) if from p on it holds only
 * {% %} and {# #} tags and blanks, else NULL.
 */
static const char *
tplc_block_line(const char *p, const char *end)
{
    const char  *close;

    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) {
            p++;
        }

        if (p == end) {
            return p;
        }

        if (*p == '\n') {
            return p + 1;
        }

        if (end - p < 2 || p[0] != '{' || (p[1] != '%' && p[1] != '#')) {
            return NULL;
        }

        close = tplc_find_close(p, end);
        if (close == NULL) {
            return NULL;
        }

        p = close + 2;
    }
}

static tplc_node_t *
tplc_append(tplc_parser_t *p, tplc_node_type_e type)
{
    tplc_node_t  *n, ***tail;

    n = tplc_alloc(sizeof(tplc_node_t));
    n->type = type;
    n->line = p->line;

    tail = p->nblocks ? &p->block[p->nblocks - 1].tail : &p->tail;
    **tail = n;
    *tail = &n->next;

    return n;
}

static int
tplc_tag(tplc_parser_t *p, char kind, const char *s, size_t n)
{
    switch (kind) {
    case '#':
        return 0;
    case '{':
        return tplc_tag_print(p, s, n);
    default:
        return tplc_tag_block(p, s, n);
    }
}

/* {{ name }}, {{ loop.name | url }} */
static int
tplc_tag_print(tplc_parser_t *p, const char *s, size_t n)
{
    const char     *e, *bar, *f, *fe;
    tplc_node_t    *node;
    tplc_field_t   *field;
    tplc_filter_e   filter;
    int             depth;

    e = s + n;
    bar = memchr(s, '|', n);
    filter = TPLC_FILTER_HTML;

    if (bar) {
        for (f = bar + 1; f < e && (*f == ' ' || *f == '\t'); f++) {
            /* skip blanks */
        }

        for (fe = e; fe > f && (fe[-1] == ' ' || fe[-1] == '\t'); fe--) {
            /* trim blanks */
        }

        if (fe - f == 3 && memcmp(f, "url", 3) == 0) {
            filter = TPLC_FILTER_URL;

        } else if (fe - f == 3 && memcmp(f, "raw", 3) == 0) {
            filter = TPLC_FILTER_RAW;

        } else {
            return tplc_error(p, "unknown filter \"%.*s\" (known: url, raw)",
                              (int) (fe - f), f);
        }

        e = bar;
    }

    while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
    }

    while (e > s
           && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'
               || e[-1] == '\r'))
    {
        e--;
    }

    if (s == e) {
        return tplc_error(p, "empty {{ }} tag");
    }

    if (tplc_resolve(p, s, e - s, TPLC_PRINTED, &field, &depth) != 0) {
        return -1;
    }

    node = tplc_append(p, TPLC_PRINT);
    node->field = field;
    node->depth = depth;
    node->filter = filter;

    return 0;
}

/* {% if [not] x %}, {% else %}, {% end %}, {% for v in x %} */
static int
tplc_tag_block(tplc_parser_t *p, const char *s, size_t n)
{
    const char     *w[TPLC_MAX_WORDS], *e;
    size_t          wl[TPLC_MAX_WORDS];
    int             nw, depth, neg;
    tplc_node_t    *node;
    tplc_field_t   *field;
    tplc_block_t   *b;

    e = s + n;
    nw = 0;

    while (s < e) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
            s++;
            continue;
        }

        if (nw == TPLC_MAX_WORDS) {
            return tplc_error(p, "too many words in {%% %%} tag");
        }

        w[nw] = s;
        while (s < e && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') {
            s++;
        }

        wl[nw] = s - w[nw];
        nw++;
    }

#define TPLC_WORD(i, lit)                                                  \
    (wl[i] == sizeof(lit) - 1 && memcmp(w[i], lit, sizeof(lit) - 1) == 0)

    if (nw == 0) {
        return tplc_error(p, "empty {%% %%} tag");
    }

    if (TPLC_WORD(0, "end")) {
        if (nw != 1) {
            return tplc_error(p, "expected {%% end %%}");
        }

        return tplc_tag_end(p);
    }

    if (TPLC_WORD(0, "else")) {
        if (nw != 1) {
            return tplc_error(p, "expected {%% else %%}");
        }

        if (p->nblocks == 0) {
            return tplc_error(p, "{%% else %%} without {%% if %%}");
        }

        b = &p->block[p->nblocks - 1];
        if (b->node->type != TPLC_IF) {
            return tplc_error(p, "{%% else %%} inside {%% for %%} (line %d)"
                              ": only {%% if %%} has an else",
                              b->node->line);
        }

        if (b->in_else) {
            return tplc_error(p, "second {%% else %%} for {%% if %%} of "
                              "line %d", b->node->line);
        }

        b->in_else = 1;
        b->tail = &b->node->alt;
        return 0;
    }

    if (p->nblocks == TPLC_MAX_DEPTH) {
        return tplc_error(p, "blocks nested too deeply (more than %d)",
                          TPLC_MAX_DEPTH);
    }

    if (TPLC_WORD(0, "if")) {
        neg = nw >= 2 && TPLC_WORD(1, "not");
        if (nw != 2 + neg) {
            return tplc_error(p, "expected {%% if NAME %%} or "
                              "{%% if not NAME %%}");
        }

        if (tplc_resolve(p, w[1 + neg], wl[1 + neg], TPLC_TESTED, &field,
                         &depth)
            != 0)
        {
            return -1;
        }

        node = tplc_append(p, TPLC_IF);
        node->field = field;
        node->depth = depth;
        node->negate = neg;

        b = &p->block[p->nblocks++];
        memset(b, 0, sizeof(*b));
        b->node = node;
        b->tail = &node->body;
        return 0;
    }

    if (TPLC_WORD(0, "for")) {
        if (nw != 4 || !TPLC_WORD(2, "in")) {
            return tplc_error(p, "expected {%% for NAME in LIST %%}");
        }

        if (!tplc_valid_name(w[1], wl[1])) {
            return tplc_error(p, "bad loop variable \"%.*s\": names are "
                              "[a-z_][a-z0-9_]*", (int) wl[1], w[1]);
        }

        if (tplc_resolve(p, w[3], wl[3], TPLC_ITERATED, &field, &depth)
            != 0)
        {
            return -1;
        }

        node = tplc_append(p, TPLC_FOR);
        node->field = field;
        node->depth = depth;
        node->loop = ++p->nloops;

        b = &p->block[p->nblocks++];
        memset(b, 0, sizeof(*b));
        b->node = node;
        b->tail = &node->body;
        b->var = tplc_strndup(w[1], wl[1]);
        b->elem = field->elem;
        return 0;
    }

    if (TPLC_WORD(0, "t")) {
        if (nw != 2) {
            return tplc_error(p, "expected {%% t KEY %%}");
        }

        return tplc_tag_msg(p, w[1], wl[1]);
    }

#undef TPLC_WORD

    return tplc_error(p, "unknown tag {%% %.*s %%} (known: if, else, end, "
                      "for, t)", (int) wl[0], w[0]);
}


/*
 * {% t key %}: the message's text in the page's language.  Its {params}
 * are template names resolved here like {{ name }}, so a message knows
 * nothing of the view and the view nothing of the message.  The
 * template keeps an int "de" for views that still set it.
 */
static int
tplc_tag_msg(tplc_parser_t *p, const char *key, size_t n)
{
    const tplc_cat_t  *cat;
    tplc_msg_t        *m;
    tplc_node_t       *node;
    tplc_field_t      *field;
    int                id, k, depth;

    cat = p->tpl->cat;

    if (cat == NULL) {
        return tplc_error(p, "{%% t %.*s %%} but no catalogue (tplc -m "
                          "messages.txt)", (int) n, key);
    }

    id = tplc_cat_find(cat, key, n);
    if (id < 0) {
        return tplc_error(p, "unknown message \"%.*s\": add [%.*s] to %s",
                          (int) n, key, (int) n, key, cat->path);
    }

    m = &cat->msgs[id];
    m->used = 1;

    if (m->fmt) {
        return tplc_error(p, "\"%s\" is a format for C (_fmt): its "
                          "languages have different {params}", m->key);
    }

    node = tplc_append(p, TPLC_MSG);
    node->msg = id;
    node->args = tplc_alloc((m->nparams + 1) * sizeof(tplc_field_t *));
    node->arg_depth = tplc_alloc((m->nparams + 1) * sizeof(int));

    for (k = 0; k < m->nparams; k++) {
        if (tplc_resolve(p, m->params[k], strlen(m->params[k]), TPLC_PRINTED,
                         &node->args[k], &node->arg_depth[k])
            != 0)
        {
            return -1;
        }
    }

    if (tplc_resolve(p, "de", 2, TPLC_TESTED, &field, &depth) != 0) {
        return -1;
    }

    return 0;
}

static int
tplc_tag_end(tplc_parser_t *p)
{
    if (p->nblocks == 0) {
        return tplc_error(p, "{%% end %%} without {%% if %%} or "
                          "{%% for %%}");
    }

    p->nblocks--;
    if (p->block[p->nblocks].node->type == TPLC_FOR) {
        p->nloops--;
    }

    return 0;
}
