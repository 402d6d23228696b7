/*
 * tplc.c -- the template compiler: turns the HTML templates of this
 * directory into C at build time (see README.md for the syntax).
 *
 *   tplc -o OUTDIR file.html...
 *
 * writes OUTDIR/tk_tpl.h (one struct per template, its types inferred
 * from use, and the render prototypes) and OUTDIR/tk_tpl_all.c (the
 * render functions).  Nothing is parsed per request: the generated code
 * writes literal chunks and escaped values into a tk_out_t.
 *
 * A syntax error prints "file:line: message" and exits 1 without
 * touching the outputs.  Outputs are replaced atomically and only when
 * their content changed, so make rebuilds only what a template edit
 * really affects.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TPLC_MAX_DEPTH  32          /* nested if/for blocks */
#define TPLC_MAX_WORDS  8           /* words inside one {% %} tag */
#define TPLC_LIT_PIECE  64          /* bytes per line of a C literal */

/* How a name is used; the C type follows from the union of uses. */
#define TPLC_PRINTED    1           /* {{ name }}       -> tk_str_t  */
#define TPLC_TESTED     2           /* {% if name %}    -> int       */
#define TPLC_ITERATED   4           /* {% for x in name %} -> list   */

typedef enum {
    TPLC_TEXT = 0,
    TPLC_PRINT,
    TPLC_IF,
    TPLC_FOR
} tplc_node_type_e;

typedef enum {
    TPLC_FILTER_HTML = 0,
    TPLC_FILTER_URL,
    TPLC_FILTER_RAW
} tplc_filter_e;

typedef struct tplc_buf_s     tplc_buf_t;
typedef struct tplc_field_s   tplc_field_t;
typedef struct tplc_struct_s  tplc_struct_t;
typedef struct tplc_node_s    tplc_node_t;
typedef struct tplc_tpl_s     tplc_tpl_t;

struct tplc_buf_s {
    char           *data;
    size_t          len;
    size_t          cap;
};

struct tplc_field_s {
    char           *name;
    unsigned        use;            /* TPLC_PRINTED | ...           */
    int             line;           /* first use, for messages      */
    tplc_struct_t  *elem;           /* element struct of a list     */
    tplc_field_t   *next;
};

struct tplc_struct_s {
    char           *type;           /* C name without the "_t"      */
    tplc_field_t   *fields;         /* in order of first use        */
    size_t          nfields;
    int             line;           /* where it was first iterated  */
    tplc_struct_t  *next;           /* all structs of a template    */
};

struct tplc_node_s {
    tplc_node_type_e  type;
    int               line;
    const char       *text;         /* TEXT: bytes of the template  */
    size_t            len;
    tplc_field_t     *field;        /* PRINT, IF, FOR: the name     */
    int               depth;        /* 0: d->, k: ek-> (loop k)     */
    tplc_filter_e     filter;       /* PRINT                        */
    int               negate;       /* IF: {% if not x %}           */
    int               loop;         /* FOR: its k (e<k>, i<k>)      */
    int               var_used;     /* FOR: body reads loop.field   */
    tplc_node_t      *body;         /* IF: then; FOR: body          */
    tplc_node_t      *alt;          /* IF: else                     */
    tplc_node_t      *next;
};

struct tplc_tpl_s {
    const char       *path;
    char             *name;         /* file basename without .html  */
    char             *src;
    size_t            len;
    tplc_struct_t    *top;
    tplc_struct_t    *structs;      /* every struct, top included   */
    tplc_node_t      *root;
};

/* An open {% if %} or {% for %} while parsing. */
typedef struct {
    tplc_node_t      *node;
    tplc_node_t     **tail;         /* where the next node goes     */
    int               in_else;
    const char       *var;          /* FOR: loop variable           */
    tplc_struct_t    *elem;         /* FOR: its element struct      */
} tplc_block_t;

typedef struct {
    tplc_tpl_t       *tpl;
    int               line;         /* line of the current tag      */
    tplc_block_t      block[TPLC_MAX_DEPTH];
    int               nblocks;
    int               nloops;       /* FOR blocks among them        */
    tplc_node_t     **tail;         /* top level                    */
} tplc_parser_t;

static void *tplc_alloc(size_t size);
static char *tplc_strndup(const char *s, size_t n);
static void tplc_buf_add(tplc_buf_t *b, const char *p, size_t n);
static void tplc_buf_printf(tplc_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int tplc_error(tplc_parser_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int tplc_read_file(tplc_tpl_t *tpl);
static int tplc_valid_name(const char *s, size_t n);
static int tplc_is_keyword(const char *s);
static int tplc_parse(tplc_tpl_t *tpl);
static int tplc_tag(tplc_parser_t *p, char kind, const char *s, size_t n);
static int tplc_tag_print(tplc_parser_t *p, const char *s, size_t n);
static int tplc_tag_block(tplc_parser_t *p, const char *s, size_t n);
static int tplc_tag_end(tplc_parser_t *p);
static int tplc_resolve(tplc_parser_t *p, const char *s, size_t n,
    unsigned use, tplc_field_t **field, int *depth);
static tplc_struct_t *tplc_struct_new(tplc_tpl_t *tpl, const char *prefix,
    const char *name, int line);
static tplc_node_t *tplc_append(tplc_parser_t *p, tplc_node_type_e type);
static int tplc_only_space(const char *s, const char *e);
static const char *tplc_find_close(const char *p, const char *end);
static const char *tplc_block_line(const char *p, const char *end);
static int tplc_check_structs(tplc_tpl_t *tpl);
static int tplc_check_types(tplc_tpl_t *tpls, int ntpls);
static void tplc_gen_header(tplc_buf_t *b, tplc_tpl_t *tpls, int ntpls);
static void tplc_gen_struct(tplc_buf_t *b, tplc_struct_t *s);
static void tplc_gen_source(tplc_buf_t *b, tplc_tpl_t *tpls, int ntpls);
static void tplc_gen_nodes(tplc_buf_t *b, tplc_node_t *n, int indent);
static void tplc_gen_literal(tplc_buf_t *b, const char *s, size_t n,
    int indent);
static void tplc_gen_ref(tplc_buf_t *b, const tplc_node_t *n);
static int tplc_writes(const tplc_node_t *n);
static void tplc_gen_banner(tplc_buf_t *b, const char *file,
    tplc_tpl_t *tpls, int ntpls);
static int tplc_write_if_changed(const char *dir, const char *file,
    const tplc_buf_t *b);
static int tplc_cmp_tpl(const void *a, const void *b);
static int tplc_cmp_field(const void *a, const void *b);

int
main(int argc, char **argv)
{
    const char  *outdir;
    tplc_tpl_t  *tpls;
    tplc_buf_t   h, c;
    int          i, ntpls, errors;

    if (argc < 4 || strcmp(argv[1], "-o") != 0) {
        fprintf(stderr, "usage: tplc -o OUTDIR file.html...\n");
        return 2;
    }

    outdir = argv[2];
    ntpls = argc - 3;
    tpls = tplc_alloc(ntpls * sizeof(tplc_tpl_t));
    errors = 0;

    for (i = 0; i < ntpls; i++) {
        tpls[i].path = argv[i + 3];
        if (tplc_read_file(&tpls[i]) != 0 || tplc_parse(&tpls[i]) != 0) {
            errors++;
        }
    }

    if (errors) {
        return 1;
    }

    /* output order must not depend on the order of the arguments */
    qsort(tpls, ntpls, sizeof(tplc_tpl_t), tplc_cmp_tpl);

    for (i = 1; i < ntpls; i++) {
        if (strcmp(tpls[i - 1].name, tpls[i].name) == 0) {
            fprintf(stderr, "%s:1: template name \"%s\" also used by %s\n",
                    tpls[i].path, tpls[i].name, tpls[i - 1].path);
            return 1;
        }
    }

    if (tplc_check_types(tpls, ntpls) != 0) {
        return 1;
    }

    memset(&h, 0, sizeof(h));
    memset(&c, 0, sizeof(c));
    tplc_gen_header(&h, tpls, ntpls);
    tplc_gen_source(&c, tpls, ntpls);

    if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "tplc: mkdir %s: %s\n", outdir, strerror(errno));
        return 1;
    }

    if (tplc_write_if_changed(outdir, "tk_tpl.h", &h) != 0
        || tplc_write_if_changed(outdir, "tk_tpl_all.c", &c) != 0)
    {
        return 1;
    }

    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

/* A build tool: running out of memory is fatal, so callers need no checks. */
static void *
tplc_alloc(size_t size)
{
    void  *p;

    p = calloc(1, size ? size : 1);
    if (p == NULL) {
        fprintf(stderr, "tplc: out of memory\n");
        exit(1);
    }

    return p;
}

static char *
tplc_strndup(const char *s, size_t n)
{
    char  *p;

    p = tplc_alloc(n + 1);
    memcpy(p, s, n);
    return p;
}

static void
tplc_buf_add(tplc_buf_t *b, const char *p, size_t n)
{
    char    *data;
    size_t   cap;

    if (b->len + n + 1 > b->cap) {
        cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap) {
            cap *= 2;
        }

        data = realloc(b->data, cap);
        if (data == NULL) {
            fprintf(stderr, "tplc: out of memory\n");
            exit(1);
        }

        b->data = data;
        b->cap = cap;
    }

    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void
tplc_buf_printf(tplc_buf_t *b, const char *fmt, ...)
{
    va_list  ap;
    char     small[512], *big;
    int      n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);

    if (n < 0) {
        return;
    }

    if ((size_t) n < sizeof(small)) {
        tplc_buf_add(b, small, n);
        return;
    }

    big = tplc_alloc(n + 1);
    va_start(ap, fmt);
    vsnprintf(big, n + 1, fmt, ap);
    va_end(ap);
    tplc_buf_add(b, big, n);
    free(big);
}

/* "file:line: message", the format editors and make understand. */
static int
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

static int
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
static int
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
static int
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

#undef TPLC_WORD

    return tplc_error(p, "unknown tag {%% %.*s %%} (known: if, else, end, "
                      "for)", (int) wl[0], w[0]);
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

/*
 * "name" is a field of the template's struct, also inside loops;
 * "var.name" is a field of the element the innermost loop over var is
 * at.  Records the use, which decides the field's C type.
 */
static int
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

static tplc_struct_t *
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
static int
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
static int
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

/* ---- code generation ---------------------------------------------------- */

static int
tplc_cmp_tpl(const void *a, const void *b)
{
    return strcmp(((const tplc_tpl_t *) a)->name,
                  ((const tplc_tpl_t *) b)->name);
}

static int
tplc_cmp_field(const void *a, const void *b)
{
    return strcmp((*(tplc_field_t *const *) a)->name,
                  (*(tplc_field_t *const *) b)->name);
}

static void
tplc_gen_banner(tplc_buf_t *b, const char *file, tplc_tpl_t *tpls,
    int ntpls)
{
    int  i;

    tplc_buf_printf(b, "/*\n * %s -- generated by tplc from", file);
    for (i = 0; i < ntpls; i++) {
        tplc_buf_printf(b, "\n *   %s", tpls[i].path);
    }

    tplc_buf_printf(b, "\n * -- do not edit; edit the templates.  Syntax "
                    "and types:\n * lua-free-templates/README.md.\n */\n\n");
}

static void
tplc_gen_header(tplc_buf_t *b, tplc_tpl_t *tpls, int ntpls)
{
    int  i;

    tplc_gen_banner(b, "tk_tpl.h", tpls, ntpls);
    tplc_buf_printf(b, "#ifndef TK_TPL_H\n#define TK_TPL_H\n\n"
                    "#include <stddef.h>\n\n#include \"tk_escape.h\"\n");

    for (i = 0; i < ntpls; i++) {
        tplc_buf_printf(b, "\n/* ---- %s (%s) ---- */\n\n", tpls[i].name,
                        tpls[i].path);
        tplc_gen_struct(b, tpls[i].top);
        tplc_buf_printf(b, "void tk_tpl_%s(tk_out_t *out, "
                        "const tk_tpl_%s_t *d);\n", tpls[i].name,
                        tpls[i].name);
    }

    tplc_buf_printf(b, "\n#endif /* TK_TPL_H */\n");
}

/* Element structs first: C needs a type before a pointer member uses it. */
static void
tplc_gen_struct(tplc_buf_t *b, tplc_struct_t *st)
{
    tplc_field_t  **sorted, *f;
    size_t          i, width, w, namew;

    sorted = tplc_alloc(st->nfields * sizeof(tplc_field_t *));

    /* nginx style: names in one column, a pointer's "*" just before it */
    width = sizeof("tk_str_t  ") - 1;
    i = 0;

    namew = 0;

    for (f = st->fields; f; f = f->next) {
        sorted[i++] = f;
        if (strlen(f->name) > namew) {
            namew = strlen(f->name);
        }

        if (f->use & TPLC_ITERATED) {
            w = strlen(f->elem->type) + sizeof("_t  *") - 1;
            if (w > width) {
                width = w;
            }
        }
    }

    qsort(sorted, st->nfields, sizeof(tplc_field_t *), tplc_cmp_field);

    for (i = 0; i < st->nfields; i++) {
        if (sorted[i]->use & TPLC_ITERATED) {
            tplc_gen_struct(b, sorted[i]->elem);
        }
    }

    tplc_buf_printf(b, "typedef struct {\n");

    if (st->nfields == 0) {
        /* a struct needs a member; upper case cannot clash with a name */
        tplc_buf_printf(b, "    %-*sEMPTY;\n", (int) width, "char");
    }

    for (i = 0; i < st->nfields; i++) {
        f = sorted[i];

        if (f->use & TPLC_ITERATED) {
            tplc_buf_printf(b, "    %s_t%*s*%s;\n", f->elem->type,
                            (int) (width - strlen(f->elem->type) - 3), "",
                            f->name);
            tplc_buf_printf(b, "    %-*s%s_n;\n", (int) width, "size_t",
                            f->name);

        } else if (f->use & TPLC_PRINTED) {
            tplc_buf_printf(b, "    %-*s%s;\n", (int) width, "tk_str_t",
                            f->name);

        } else {
            tplc_buf_printf(b, "    %-*s%s;%*s/* only tested */\n",
                            (int) width, "int", f->name,
                            (int) (namew - strlen(f->name) + 2), "");
        }
    }

    tplc_buf_printf(b, "} %s_t;\n\n", st->type);
    free(sorted);
}

static void
tplc_gen_source(tplc_buf_t *b, tplc_tpl_t *tpls, int ntpls)
{
    int  i;

    tplc_gen_banner(b, "tk_tpl_all.c", tpls, ntpls);
    tplc_buf_printf(b, "#include \"tk_tpl.h\"\n");

    for (i = 0; i < ntpls; i++) {
        tplc_buf_printf(b, "\n\n/* %s */\n\nvoid\ntk_tpl_%s(tk_out_t *out, "
                        "const tk_tpl_%s_t *d)\n{\n", tpls[i].path,
                        tpls[i].name, tpls[i].name);

        /* -Wunused-parameter: a template may write or read nothing */
        if (!tplc_writes(tpls[i].root)) {
            tplc_buf_printf(b, "    (void) out;\n");
        }

        if (tpls[i].top->nfields == 0) {
            tplc_buf_printf(b, "    (void) d;\n");
        }

        if (!tplc_writes(tpls[i].root) || tpls[i].top->nfields == 0) {
            tplc_buf_printf(b, "\n");
        }

        tplc_gen_nodes(b, tpls[i].root, 1);
        tplc_buf_printf(b, "}\n");
    }
}

static int
tplc_writes(const tplc_node_t *n)
{
    for (; n; n = n->next) {
        if (n->type == TPLC_TEXT || n->type == TPLC_PRINT
            || tplc_writes(n->body) || tplc_writes(n->alt))
        {
            return 1;
        }
    }

    return 0;
}

/* d->name or e<k>->name: the struct the name was resolved in. */
static void
tplc_gen_ref(tplc_buf_t *b, const tplc_node_t *n)
{
    if (n->depth == 0) {
        tplc_buf_printf(b, "d->%s", n->field->name);

    } else {
        tplc_buf_printf(b, "e%d->%s", n->depth, n->field->name);
    }
}

static void
tplc_gen_nodes(tplc_buf_t *b, tplc_node_t *n, int indent)
{
    static const char  *writer[] = { "tk_out_html", "tk_out_url",
                                     "tk_out_raw" };
    int                 in;
    unsigned            use;

    in = indent * 4;

    for (; n; n = n->next) {
        switch (n->type) {

        case TPLC_TEXT:
            tplc_gen_literal(b, n->text, n->len, indent);
            break;

        case TPLC_PRINT:
            tplc_buf_printf(b, "%*s%s(out, ", in, "", writer[n->filter]);
            tplc_gen_ref(b, n);
            tplc_buf_printf(b, ".data, ");
            tplc_gen_ref(b, n);
            tplc_buf_printf(b, ".len);\n");
            break;

        case TPLC_IF:
            use = n->field->use;
            tplc_buf_printf(b, "%*sif (%s", in, "",
                            n->negate && !(use & (TPLC_ITERATED
                                                  | TPLC_PRINTED))
                                ? "!"
                                : "");
            tplc_gen_ref(b, n);

            if (use & TPLC_ITERATED) {
                tplc_buf_printf(b, "_n%s", n->negate ? " == 0" : "");

            } else if (use & TPLC_PRINTED) {
                tplc_buf_printf(b, ".len%s", n->negate ? " == 0" : "");
            }

            tplc_buf_printf(b, ") {\n");
            tplc_gen_nodes(b, n->body, indent + 1);

            if (n->alt) {
                tplc_buf_printf(b, "%*s} else {\n", in, "");
                tplc_gen_nodes(b, n->alt, indent + 1);
            }

            tplc_buf_printf(b, "%*s}\n", in, "");
            break;

        case TPLC_FOR:
            tplc_buf_printf(b, "%*sfor (size_t i%d = 0; i%d < ", in, "",
                            n->loop, n->loop);
            tplc_gen_ref(b, n);
            tplc_buf_printf(b, "_n; i%d++) {\n", n->loop);

            if (n->var_used) {
                tplc_buf_printf(b, "%*sconst %s_t *e%d = &", in + 4, "",
                                n->field->elem->type, n->loop);
                tplc_gen_ref(b, n);
                tplc_buf_printf(b, "[i%d];\n\n", n->loop);
            }

            tplc_gen_nodes(b, n->body, indent + 1);
            tplc_buf_printf(b, "%*s}\n", in, "");
            break;
        }
    }
}

/*
 * A literal chunk as tk_out_raw(out, "...", N): printable ASCII and
 * valid UTF-8 stay readable; quotes, backslashes, control bytes and
 * "??" (trigraphs) are escaped.  Octal escapes always have 3 digits, so
 * a following digit can never extend them.  Lines break after "\n".
 */
static void
tplc_gen_literal(tplc_buf_t *b, const char *s, size_t n, int indent)
{
    const unsigned char  *p, *e;
    size_t                piece;
    int                   in, first;

    in = indent * 4;
    p = (const unsigned char *) s;
    e = p + n;
    first = 1;

    tplc_buf_printf(b, "%*stk_out_raw(out, ", in, "");

    while (p < e) {
        if (!first) {
            tplc_buf_printf(b, "\n%*s", in + 16, "");
        }

        first = 0;
        tplc_buf_add(b, "\"", 1);

        for (piece = 0; p < e && piece < TPLC_LIT_PIECE; p++, piece++) {
            switch (*p) {
            case '"':
                tplc_buf_add(b, "\\\"", 2);
                break;
            case '\\':
                tplc_buf_add(b, "\\\\", 2);
                break;
            case '\n':
                tplc_buf_add(b, "\\n", 2);
                break;
            case '\t':
                tplc_buf_add(b, "\\t", 2);
                break;
            case '?':
                if (piece > 0 && p[-1] == '?') {
                    tplc_buf_add(b, "\\?", 2);
                } else {
                    tplc_buf_add(b, "?", 1);
                }
                break;
            default:
                if (*p < 0x20 || *p == 0x7f) {
                    tplc_buf_printf(b, "\\%03o", *p);
                } else {
                    tplc_buf_add(b, (const char *) p, 1);
                }
            }

            if (*p == '\n') {
                p++;
                break;
            }
        }

        tplc_buf_add(b, "\"", 1);
    }

    tplc_buf_printf(b, ", %zu);\n", n);
}

/* ---- output ------------------------------------------------------------- */

/* Leave an unchanged file alone so its mtime does not trigger rebuilds. */
static int
tplc_write_if_changed(const char *dir, const char *file, const tplc_buf_t *b)
{
    char    path[4096], tmp[4096], old[8192];
    FILE   *f;
    size_t  n, off;
    int     same;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    snprintf(tmp, sizeof(tmp), "%s/.%s.%ld.tmp", dir, file, (long) getpid());

    f = fopen(path, "rb");
    if (f) {
        same = 1;
        off = 0;

        while (same && (n = fread(old, 1, sizeof(old), f)) > 0) {
            if (off + n > b->len || memcmp(b->data + off, old, n) != 0) {
                same = 0;
            }

            off += n;
        }

        fclose(f);

        if (same && off == b->len) {
            return 0;
        }
    }

    f = fopen(tmp, "wb");
    if (f == NULL) {
        fprintf(stderr, "tplc: %s: %s\n", tmp, strerror(errno));
        return -1;
    }

    if (fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "tplc: %s: write failed\n", tmp);
        unlink(tmp);
        return -1;
    }

    if (rename(tmp, path) != 0) {
        fprintf(stderr, "tplc: rename %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }

    return 0;
}
