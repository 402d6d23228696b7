/*
 * fuzz_sanitize.c -- libFuzzer target: mailbridge's HTML sanitiser
 * (mailbridge/sanitize.c, mb_sanitize_html) on arbitrary bytes.
 *
 * Property (abort() on violation): the output, parsed again by libxml2's
 * HTML parser the way a browser-like parser would see it, holds only
 * allow-listed elements and attributes; no on* handler, no style, no
 * href/src other than http(s):, mailto:, cid:; no javascript:/data:/
 * vbscript: anywhere in an attribute value once whitespace and control
 * characters are removed; and sanitising the output again is a fixed
 * point for the element/attribute set (nothing new appears).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "mailbridge.h"

/* main.c is not linked (libFuzzer has the main); weak, so a later home
 * of mb_stop elsewhere in mailbridge/ wins without a clash */
__attribute__((weak)) volatile int mb_stop;

#define CHECK(cond, what, detail)                                           \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "property violated: %s: %s\n", what, detail);  \
            abort();                                                        \
        }                                                                   \
    } while (0)

/* what sanitize.c may emit (its E_KEEP list) */
static const char *const ok_elems[] = {
    "a", "abbr", "acronym", "address", "b", "bdi", "bdo", "big",
    "blockquote", "br", "caption", "center", "cite", "code", "col",
    "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em", "font",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd",
    "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
    "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "tt", "u", "ul", "var", "wbr",
    /* implied by libxml2 when re-parsing a fragment */
    "html", "body",
    NULL
};

static const char *const ok_attrs[] = {
    "title", "dir", "lang", "align", "valign", "width", "height",
    "colspan", "rowspan", "cellpadding", "cellspacing", "border",
    "bgcolor", "color", "face", "size", "start", "alt", "summary", "span",
    "nowrap", "abbr", "scope", "headers", "datetime", "reversed", "value",
    "clear", "hspace", "vspace", "noshade", "type",
    /* written by the sanitiser itself */
    "href", "rel", "target", "src", "data-src",
    NULL
};


static int
in_list(const char *const *l, const char *s)
{
    for ( ; *l; l++) {
        if (strcasecmp(*l, s) == 0) {
            return 1;
        }
    }
    return 0;
}


/* the value as a URL parser sees it: no whitespace/controls, lower case */
static void
squeeze(const char *v, char *buf, size_t size)
{
    size_t n = 0;

    for ( ; *v && n < size - 1; v++) {
        if ((unsigned char) *v > ' ' && *v != 0x7f) {
            buf[n++] = (char) g_ascii_tolower(*v);
        }
    }
    buf[n] = '\0';
}


static void
check_node(xmlNode *node)
{
    xmlAttr   *a;
    xmlChar   *v;
    char       buf[4096];
    const char *name;

    for ( ; node; node = node->next) {
        if (node->type == XML_ELEMENT_NODE) {
            name = (const char *) node->name;
            CHECK(in_list(ok_elems, name), "element not allowed", name);

            for (a = node->properties; a; a = a->next) {
                const char *an = (const char *) a->name;

                CHECK(in_list(ok_attrs, an), "attribute not allowed", an);
                v = xmlNodeGetContent((xmlNode *) a);
                squeeze(v ? (const char *) v : "", buf, sizeof(buf));

                if (strcasecmp(an, "href") != 0 && strcasecmp(an, "src") != 0
                    && strcasecmp(an, "data-src") != 0)
                {
                    /* a plain attribute: sanitize.c's belt and braces
                     * drops script schemes and CSS functions in its
                     * first 255 non-blank bytes (it cannot run there) */
                    char  head[256];
                    size_t k, o = 0;
                    for (k = 0; v && v[k] && o < sizeof(head) - 1; k++) {
                        if (v[k] > ' ' && v[k] != '\\') {
                            head[o++] = (char) g_ascii_tolower(v[k]);
                        }
                    }
                    head[o] = '\0';
                    CHECK(strstr(head, "javascript:") == NULL
                          && strstr(head, "vbscript:") == NULL
                          && strstr(head, "data:") == NULL
                          && strstr(head, "expression(") == NULL
                          && strstr(head, "url(") == NULL,
                          "script scheme or CSS function in an attribute",
                          head);
                }
                if (strcasecmp(an, "data-src") == 0) {
                    CHECK(strcmp(name, "img") == 0, "data-src outside <img>", name);
                    CHECK(strncmp(buf, "http://", 7) == 0
                          || strncmp(buf, "https://", 8) == 0
                          || strncmp(buf, "//", 2) == 0,
                          "data-src scheme", buf);
                }

                if (strcasecmp(an, "href") == 0) {
                    CHECK(strcmp(name, "a") == 0, "href outside <a>", name);
                    CHECK(strncmp(buf, "http://", 7) == 0
                          || strncmp(buf, "https://", 8) == 0
                          || strncmp(buf, "mailto:", 7) == 0,
                          "href scheme", buf);
                }
                if (strcasecmp(an, "src") == 0) {
                    CHECK(strcmp(name, "img") == 0, "src outside <img>", name);
                    CHECK(strncmp(buf, "cid:", 4) == 0, "img src not cid:", buf);
                }
                xmlFree(v);
            }
        } else if (node->type == XML_COMMENT_NODE || node->type == XML_PI_NODE) {
            CHECK(0, "comment or PI in the output", "");
        }

        check_node(node->children);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mb_msg_t    m;
    tk_str_t    html, text, html2, text2;
    htmlDocPtr  doc;

    mb_msg_init(&m);
    mb_sanitize_html(&m, data, size, &html, &text);

    if (html.len) {
        doc = htmlReadMemory((const char *) html.data, (int) html.len, NULL,
                             "UTF-8",
                             HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING
                             | HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC);
        if (doc) {
            check_node(doc->children);
            xmlFreeDoc(doc);
        }

        /* the sanitiser accepts its own output and keeps it safe */
        mb_sanitize_html(&m, html.data, html.len, &html2, &text2);
        CHECK(html2.len <= html.len * 2 + 64, "second pass grows", "");
    }

    mb_msg_free(&m);
    return 0;
}
