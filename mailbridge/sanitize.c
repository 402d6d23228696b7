/*
 * sanitize.c -- HTML mail made safe to show inside the agent's session.
 * libxml2 parses the tag soup into a tree; we write a *new* document that
 * holds only allow-listed elements and attributes, escaped by us.  What
 * is not on the list never reaches the page, however it was spelled in
 * the input.  Remote images become data-src (nothing loads until the
 * agent asks), links get rel=noopener and target=_blank.  The same walk
 * renders a plain-text version for search and quoting.
 */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <glib.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "mailbridge.h"

#define MB_HTML_MAX_DEPTH  200

enum {
    E_KEEP  = 1,        /* emitted with its allowed attributes        */
    E_DROP  = 2,        /* removed with everything inside             */
    E_VOID  = 4,        /* no end tag                                 */
    E_BLOCK = 8,        /* a line break in the text rendering         */
    E_PRE   = 16        /* whitespace is significant                  */
};

typedef struct {
    const char  *name;
    unsigned     flags;
} mb_elem_t;

typedef struct {
    GString     *html;
    GString     *text;
    int          pre;        /* inside <pre>                       */
    int          space;      /* text ends in collapsible space     */
} mb_san_t;

static const mb_elem_t mb_elems[] = {
    { "a", E_KEEP }, { "abbr", E_KEEP }, { "acronym", E_KEEP },
    { "address", E_KEEP | E_BLOCK }, { "b", E_KEEP }, { "bdi", E_KEEP },
    { "bdo", E_KEEP }, { "big", E_KEEP },
    { "blockquote", E_KEEP | E_BLOCK }, { "br", E_KEEP | E_VOID },
    { "caption", E_KEEP | E_BLOCK }, { "center", E_KEEP | E_BLOCK },
    { "cite", E_KEEP }, { "code", E_KEEP }, { "col", E_KEEP | E_VOID },
    { "colgroup", E_KEEP }, { "dd", E_KEEP | E_BLOCK }, { "del", E_KEEP },
    { "dfn", E_KEEP }, { "div", E_KEEP | E_BLOCK },
    { "dl", E_KEEP | E_BLOCK }, { "dt", E_KEEP | E_BLOCK },
    { "em", E_KEEP }, { "font", E_KEEP },
    { "h1", E_KEEP | E_BLOCK }, { "h2", E_KEEP | E_BLOCK },
    { "h3", E_KEEP | E_BLOCK }, { "h4", E_KEEP | E_BLOCK },
    { "h5", E_KEEP | E_BLOCK }, { "h6", E_KEEP | E_BLOCK },
    { "hr", E_KEEP | E_VOID | E_BLOCK }, { "i", E_KEEP },
    { "img", E_KEEP | E_VOID }, { "ins", E_KEEP }, { "kbd", E_KEEP },
    { "li", E_KEEP | E_BLOCK }, { "mark", E_KEEP },
    { "ol", E_KEEP | E_BLOCK }, { "p", E_KEEP | E_BLOCK },
    { "pre", E_KEEP | E_BLOCK | E_PRE }, { "q", E_KEEP }, { "s", E_KEEP },
    { "samp", E_KEEP }, { "small", E_KEEP }, { "span", E_KEEP },
    { "strike", E_KEEP }, { "strong", E_KEEP }, { "sub", E_KEEP },
    { "sup", E_KEEP }, { "table", E_KEEP | E_BLOCK },
    { "tbody", E_KEEP }, { "td", E_KEEP }, { "tfoot", E_KEEP },
    { "th", E_KEEP }, { "thead", E_KEEP }, { "tr", E_KEEP | E_BLOCK },
    { "tt", E_KEEP }, { "u", E_KEEP }, { "ul", E_KEEP | E_BLOCK },
    { "var", E_KEEP }, { "wbr", E_KEEP | E_VOID },

    /*
     * Gone with their content: code, CSS, page furniture and form values
     * (raw text nobody should read as the message).  Every other element
     * not listed above -- iframe, object, embed, svg, form, input, ... --
     * is unwrapped: the tag and all its attributes vanish, its children
     * go through this same allow-list.  Unwrapping is safe by
     * construction and keeps the text after an unclosed <embed> or <svg>.
     */
    { "script", E_DROP }, { "style", E_DROP }, { "head", E_DROP },
    { "title", E_DROP }, { "template", E_DROP }, { "textarea", E_DROP },
    { "select", E_DROP }, { "option", E_DROP }, { "datalist", E_DROP },
    { "noembed", E_DROP }, { "noframes", E_DROP }, { "xml", E_DROP },
    { "plaintext", E_DROP },

    { NULL, 0 }
};

/* attributes that can neither run code nor load anything */
static const char *const mb_attrs[] = {
    "title", "dir", "lang", "align", "valign", "width", "height",
    "colspan", "rowspan", "cellpadding", "cellspacing", "border",
    "bgcolor", "color", "face", "size", "start", "alt", "summary", "span",
    "nowrap", "abbr", "scope", "headers", "datetime", "reversed", "value",
    "clear", "hspace", "vspace", "noshade", "type",
    NULL
};

/*
 * Attributes the walk writes itself, each only with a value that starts
 * with one of the prefixes (mb_san_attrs checks them here): links (http,
 * https, mailto), inline images (cid:) and remote images, kept as
 * data-src until the agent asks.
 */
static const char *const mb_own_attrs[] = {
    "a", "href", "http:// https:// mailto:",
    "a", "rel", "",
    "a", "target", "",
    "img", "src", "cid:",
    "img", "data-src", "http:// https:// //",
    NULL
};

static void mb_san_walk(mb_san_t *s, xmlNode *node, int depth);
static void mb_san_element(mb_san_t *s, xmlNode *node, int depth);
static void mb_san_attrs(mb_san_t *s, xmlNode *node, const char *href);
static void mb_san_text(mb_san_t *s, const char *p);
static const mb_elem_t *mb_elem_find(const char *name);
static int mb_attr_allowed(const char *name);
static int mb_own_value_ok(const char *elem, const char *attr,
    const char *value);
static int mb_value_dangerous(const char *v);
static char *mb_url_clean(const char *v);
static void mb_esc(GString *out, const char *p, int attr);
static void mb_text_break(mb_san_t *s, int lines);
static tk_str_t mb_text_finish(mb_msg_t *m, GString *t);


void
mb_sanitize_html(mb_msg_t *m, const unsigned char *html, size_t len,
    tk_str_t *out_html, tk_str_t *out_text)
{
    htmlDocPtr   doc;
    xmlNode     *root;
    mb_san_t     s;

    out_html->len = out_text->len = 0;
    out_html->data = out_text->data = (unsigned char *) "";

    if (len == 0 || len > 0x7fffffff) {
        return;
    }

    /* IGNORE_ENC: the bytes are UTF-8 already, a <meta charset> lies */
    doc = htmlReadMemory((const char *) html, (int) len, NULL, "UTF-8",
                         HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING
                         | HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC
                         | HTML_PARSE_NOIMPLIED);
    if (doc == NULL) {
        return;
    }

    s.html = g_string_sized_new(len + 64);
    s.text = g_string_sized_new(len / 2 + 64);
    s.pre = 0;
    s.space = 1;

    for (root = doc->children; root; root = root->next) {
        mb_san_walk(&s, root, 0);
    }

    xmlFreeDoc(doc);

    *out_html = mb_memdup(m, s.html->str, s.html->len);
    *out_text = mb_text_finish(m, s.text);

    g_string_free(s.html, TRUE);
    g_string_free(s.text, TRUE);
}


static void
mb_san_walk(mb_san_t *s, xmlNode *node, int depth)
{
    switch (node->type) {

    case XML_ELEMENT_NODE:
        mb_san_element(s, node, depth);
        break;

    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE:
        if (node->content) {
            mb_esc(s->html, (const char *) node->content, 0);
            mb_san_text(s, (const char *) node->content);
        }
        break;

    default:
        /* comments (also IE conditional ones), PIs, DTDs: dropped */
        break;
    }
}


static void
mb_san_element(mb_san_t *s, xmlNode *node, int depth)
{
    const mb_elem_t  *e;
    const char       *name = (const char *) node->name;
    xmlNode          *child;
    char             *href = NULL;
    size_t            text_before;

    if (depth > MB_HTML_MAX_DEPTH) {
        return;
    }

    e = mb_elem_find(name);

    if (e && (e->flags & E_DROP)) {
        return;
    }

    if (e && (e->flags & E_BLOCK)) {
        mb_text_break(s, strcmp(name, "p") == 0 ? 2 : 1);
    }

    if (strcmp(name, "br") == 0) {
        g_string_append_c(s->text, '\n');
        s->space = 1;
    } else if (strcmp(name, "li") == 0) {
        g_string_append(s->text, "* ");
        s->space = 1;
    } else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
        if (!s->space) {
            g_string_append_c(s->text, ' ');
            s->space = 1;
        }
    }

    if (strcmp(name, "a") == 0) {
        xmlChar *v = xmlGetProp(node, (const xmlChar *) "href");

        if (v) {
            href = mb_url_clean((const char *) v);
            xmlFree(v);
        }
    }

    if (e && (e->flags & E_KEEP)) {
        g_string_append_c(s->html, '<');
        g_string_append(s->html, name);
        mb_san_attrs(s, node, href);
        g_string_append_c(s->html, '>');
    }

    if (e && (e->flags & E_VOID)) {
        g_free(href);
        return;
    }

    if (e && (e->flags & E_PRE)) {
        s->pre++;
    }

    text_before = s->text->len;

    for (child = node->children; child; child = child->next) {
        mb_san_walk(s, child, depth + 1);
    }

    if (e && (e->flags & E_PRE)) {
        s->pre--;
    }

    /* a link's target in the text, unless the text already shows it */
    if (href && (strncmp(href, "http", 4) == 0)
        && strstr(s->text->str + text_before, href) == NULL)
    {
        g_string_append(s->text, " <");
        g_string_append(s->text, href);
        g_string_append_c(s->text, '>');
        s->space = 0;
    }

    g_free(href);

    if (e && (e->flags & E_KEEP)) {
        g_string_append(s->html, "</");
        g_string_append(s->html, name);
        g_string_append_c(s->html, '>');
    }

    if (e && (e->flags & E_BLOCK)) {
        mb_text_break(s, strcmp(name, "p") == 0 ? 2 : 1);
    }
}


/*
 * Only allow-listed attributes survive; href and src are rewritten:
 * links keep http(s)/mailto targets, images keep cid: (inline parts)
 * and turn remote URLs into data-src.
 */
static void
mb_san_attrs(mb_san_t *s, xmlNode *node, const char *href)
{
    xmlAttr     *a;
    xmlChar     *v;
    char        *url;
    const char  *name;
    int          is_a, is_img;

    is_a = strcmp((const char *) node->name, "a") == 0;
    is_img = strcmp((const char *) node->name, "img") == 0;

    for (a = node->properties; a; a = a->next) {
        name = (const char *) a->name;

        if (a->ns || !mb_attr_allowed(name)) {
            continue;
        }

        v = xmlNodeGetContent((xmlNode *) a);
        if (v == NULL) {
            continue;
        }

        if (!mb_value_dangerous((const char *) v)) {
            g_string_append_c(s->html, ' ');
            g_string_append(s->html, name);
            g_string_append(s->html, "=\"");
            mb_esc(s->html, (const char *) v, 1);
            g_string_append_c(s->html, '"');
        }

        xmlFree(v);
    }

    if (is_a && href && mb_own_value_ok("a", "href", href)) {
        g_string_append(s->html, " href=\"");
        mb_esc(s->html, href, 1);
        g_string_append(s->html, "\" rel=\"noopener noreferrer nofollow\""
                                 " target=\"_blank\"");
    }

    if (is_img) {
        v = xmlGetProp(node, (const xmlChar *) "src");
        url = v ? mb_url_clean((const char *) v) : NULL;
        xmlFree(v);

        if (url && mb_own_value_ok("img", "src", url)) {
            /* inert in a browser; the ticket page maps it to the part */
            g_string_append(s->html, " src=\"");
            mb_esc(s->html, url, 1);
            g_string_append_c(s->html, '"');

        } else if (url && mb_own_value_ok("img", "data-src", url)) {
            g_string_append(s->html, " data-src=\"");
            mb_esc(s->html, url, 1);
            g_string_append_c(s->html, '"');
        }

        g_free(url);
    }
}


/* Text rendering: whitespace collapsed as a browser would, except <pre>. */
static void
mb_san_text(mb_san_t *s, const char *p)
{
    for ( ; *p; p++) {
        if (!s->pre && (*p == ' ' || *p == '\t' || *p == '\n'
                        || *p == '\r' || *p == '\f'))
        {
            if (!s->space) {
                g_string_append_c(s->text, ' ');
                s->space = 1;
            }
            continue;
        }

        if (*p == '\r') {
            continue;
        }

        g_string_append_c(s->text, *p);
        s->space = s->pre ? (*p == '\n') : 0;
    }
}


static void
mb_text_break(mb_san_t *s, int lines)
{
    size_t  n = 0, i;

    /* drop the collapsed space before the break */
    while (s->text->len && s->text->str[s->text->len - 1] == ' ') {
        g_string_truncate(s->text, s->text->len - 1);
    }

    for (i = s->text->len; i > 0 && s->text->str[i - 1] == '\n'; i--) {
        n++;
    }

    if (s->text->len == 0) {
        n = (size_t) lines;
    }

    while (n < (size_t) lines) {
        g_string_append_c(s->text, '\n');
        n++;
    }

    s->space = 1;
}


/* Trailing spaces off every line, at most one empty line in a row. */
static tk_str_t
mb_text_finish(mb_msg_t *m, GString *t)
{
    GString   *o;
    tk_str_t   r;
    size_t     i, nl = 0;
    char       c;

    o = g_string_sized_new(t->len + 1);

    for (i = 0; i < t->len; i++) {
        c = t->str[i];

        if (c == '\n') {
            while (o->len && (o->str[o->len - 1] == ' '
                              || o->str[o->len - 1] == '\t'))
            {
                g_string_truncate(o, o->len - 1);
            }
            if (o->len == 0 || ++nl > 2) {
                continue;
            }
        } else {
            nl = 0;
        }

        g_string_append_c(o, c);
    }

    while (o->len && (o->str[o->len - 1] == '\n'
                      || o->str[o->len - 1] == ' '))
    {
        g_string_truncate(o, o->len - 1);
    }

    r = mb_memdup(m, o->str, o->len);
    g_string_free(o, TRUE);
    return r;
}


static const mb_elem_t *
mb_elem_find(const char *name)
{
    const mb_elem_t  *e;

    for (e = mb_elems; e->name; e++) {
        if (strcmp(e->name, name) == 0) {
            return e;
        }
    }

    return NULL;            /* unknown: unwrapped, children kept */
}


static int
mb_attr_allowed(const char *name)
{
    const char *const  *a;

    for (a = mb_attrs; *a; a++) {
        if (strcmp(*a, name) == 0) {
            return 1;
        }
    }

    return 0;
}


/* value starts with one of the prefixes mb_own_attrs has for elem attr */
static int
mb_own_value_ok(const char *elem, const char *attr, const char *value)
{
    const char *const  *a;
    const char         *p, *end;
    size_t              n;

    for (a = mb_own_attrs; *a; a += 3) {
        if (strcmp(a[0], elem) != 0 || strcmp(a[1], attr) != 0) {
            continue;
        }

        for (p = a[2]; *p; p = *end ? end + 1 : end) {
            end = strchr(p, ' ');
            if (end == NULL) {
                end = p + strlen(p);
            }

            n = (size_t) (end - p);

            if (n && strncmp(value, p, n) == 0) {
                return 1;
            }
        }
    }

    return 0;
}


/*
 * Belt and braces for harmless-looking attributes: a value that names a
 * script scheme or CSS function is dropped even where it couldn't run.
 */
static int
mb_value_dangerous(const char *v)
{
    static const char *const bad[] = {
        "javascript:", "vbscript:", "livescript:", "data:", "expression(",
        "url(", "mocha:", NULL
    };
    const char *const  *b;
    char                buf[256];
    size_t              n = 0;

    for ( ; *v && n < sizeof(buf) - 1; v++) {
        if ((unsigned char) *v > ' ' && *v != '\\') {
            buf[n++] = (char) g_ascii_tolower(*v);
        }
    }
    buf[n] = '\0';

    for (b = bad; *b; b++) {
        if (strstr(buf, *b)) {
            return 1;
        }
    }

    return 0;
}


/*
 * A URL as a browser would read it: control characters and whitespace
 * removed (they may hide "java\tscript:"), scheme lower-cased.
 */
static char *
mb_url_clean(const char *v)
{
    GString  *u;
    size_t    i;

    u = g_string_new(NULL);

    for ( ; *v; v++) {
        if ((unsigned char) *v > ' ' && (unsigned char) *v != 0x7f) {
            g_string_append_c(u, *v);
        }
    }

    for (i = 0; i < u->len && u->str[i] != ':' && u->str[i] != '/'; i++) {
        u->str[i] = g_ascii_tolower(u->str[i]);
    }

    return g_string_free(u, FALSE);
}


static void
mb_esc(GString *out, const char *p, int attr)
{
    for ( ; *p; p++) {
        switch (*p) {
        case '&': g_string_append(out, "&amp;"); break;
        case '<': g_string_append(out, "&lt;"); break;
        case '>': g_string_append(out, "&gt;"); break;
        case '"':
            if (attr) {
                g_string_append(out, "&quot;");
            } else {
                g_string_append_c(out, '"');
            }
            break;
        case '\'':
            if (attr) {
                g_string_append(out, "&#39;");
            } else {
                g_string_append_c(out, '\'');
            }
            break;
        default:
            g_string_append_c(out, *p);
        }
    }
}


/*
 * The allow-list as data, for tests and admins ("mailbridge
 * html-allowlist"): "element NAME", "drop NAME" (removed with its
 * content), "attribute NAME" (on every kept element), "own ELEMENT
 * ATTRIBUTE [PREFIX...]" (written by the walk, values starting with one
 * of the prefixes).  Anything else is never in stored HTML.
 */
void
mb_sanitize_allowlist(void)
{
    const mb_elem_t    *e;
    const char *const  *a;

    for (e = mb_elems; e->name; e++) {
        printf("%s %s\n", (e->flags & E_KEEP) ? "element" : "drop",
                e->name);
    }

    for (a = mb_attrs; *a; a++) {
        printf("attribute %s\n", *a);
    }

    for (a = mb_own_attrs; *a; a += 3) {
        printf("own %s %s%s%s\n", a[0], a[1], *a[2] ? " " : "", a[2]);
    }
}
