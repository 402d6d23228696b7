/*
 * ngx_http_ticket_mailhtml.c -- HTML mail as the ticket page shows it.
 * mailbridge stored it sanitised; two things are left for render time,
 * as they depend on where and how the page is seen: inline images
 * (src="cid:...") point to their part's URL, and remote images
 * (data-src="http...") load only when the agent asked for them.  A small
 * tag scanner streams the HTML into the output sink: text and every
 * other tag pass byte for byte, only <img> attributes change.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ticket_views.h"


/* One attribute of a tag: where it starts (blanks before it included),
 * its name and its value. */
typedef struct {
    u_char                    *start;          /* blanks before it */
    u_char                    *name;
    u_char                    *name_end;
    u_char                    *value;          /* NULL: no value */
    u_char                    *value_end;
} ngx_http_ticket_mailhtml_attr_t;


static u_char *ngx_http_ticket_mailhtml_img(tk_out_t *out, u_char *p,
    u_char *last, ngx_http_ticket_mailhtml_t *mh);
static u_char *ngx_http_ticket_mailhtml_attr(u_char *p, u_char *last,
    ngx_http_ticket_mailhtml_attr_t *a);
static u_char *ngx_http_ticket_mailhtml_skip(u_char *p, u_char *last);
static void ngx_http_ticket_mailhtml_cid(tk_out_t *out, u_char *p,
    u_char *last, ngx_http_ticket_mailhtml_t *mh);
static ngx_flag_t ngx_http_ticket_mailhtml_remote(u_char *p, u_char *last);
static ngx_flag_t ngx_http_ticket_mailhtml_prefix(u_char *p, u_char *last,
    const char *prefix);


#define ngx_http_ticket_mailhtml_space(c)                                    \
    ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r' || (c) == '\f')

/* the attribute's name is s, ASCII case ignored */
#define ngx_http_ticket_mailhtml_is(a, s)                                    \
    ((size_t) ((a)->name_end - (a)->name) == sizeof(s) - 1                   \
     && ngx_strncasecmp((a)->name, (u_char *) s, sizeof(s) - 1) == 0)

/* data-src="http..." (mailbridge's remote image) */
#define ngx_http_ticket_mailhtml_is_remote(a)                                \
    ((a)->value && ngx_http_ticket_mailhtml_is(a, "data-src")                \
     && ngx_http_ticket_mailhtml_remote((a)->value, (a)->value_end))


void
ngx_http_ticket_mailhtml(tk_out_t *out, tk_str_t *html,
    ngx_http_ticket_mailhtml_t *mh)
{
    u_char  *p, *last, *lt, *end;

    p = html->data;
    last = html->data + html->len;

    while (p < last) {
        lt = ngx_strlchr(p, last, '<');

        if (lt == NULL) {
            tk_out_raw(out, p, last - p);
            return;
        }

        tk_out_raw(out, p, lt - p);
        p = lt;

        if (last - p > 4 && ngx_strncasecmp(p + 1, (u_char *) "img", 3) == 0
            && (ngx_http_ticket_mailhtml_space(p[4]) || p[4] == '>'
                || p[4] == '/'))
        {
            p = ngx_http_ticket_mailhtml_img(out, p + 4, last, mh);
            continue;
        }

        /* any other tag, end tag or comment: as it is */
        end = ngx_http_ticket_mailhtml_skip(p, last);
        tk_out_raw(out, p, end - p);
        p = end;
    }
}


/*
 * The end of the markup that starts at p ("<!-- ... -->", "<b>", "</b>",
 * "<a title='>'>"): just past its '>', or last.
 */
static u_char *
ngx_http_ticket_mailhtml_skip(u_char *p, u_char *last)
{
    u_char  quote;

    if (last - p >= 4 && ngx_strncmp(p, "<!--", 4) == 0) {
        for (p += 4; last - p >= 3; p++) {
            if (ngx_strncmp(p, "-->", 3) == 0) {
                return p + 3;
            }
        }

        return last;
    }

    quote = 0;

    for (p++; p < last; p++) {
        if (quote) {
            if (*p == quote) {
                quote = 0;
            }

        } else if (*p == '"' || *p == '\'') {
            quote = *p;

        } else if (*p == '>') {
            return p + 1;
        }
    }

    return last;
}


/*
 * The next attribute from p; returns where it ends, or NULL at the end
 * of the tag: then [a->start, a->name) are the blanks (or "/") before
 * the '>' or the end of the input.
 */
static u_char *
ngx_http_ticket_mailhtml_attr(u_char *p, u_char *last,
    ngx_http_ticket_mailhtml_attr_t *a)
{
    u_char  quote;

    a->start = p;

    while (p < last && (ngx_http_ticket_mailhtml_space(*p) || *p == '/')) {
        p++;
    }

    if (p == last || *p == '>') {
        a->name = p;
        return NULL;
    }

    a->name = p;

    while (p < last && !ngx_http_ticket_mailhtml_space(*p) && *p != '/'
           && *p != '>' && *p != '=')
    {
        p++;
    }

    a->name_end = p;
    a->value = NULL;
    a->value_end = NULL;

    if (p < last && *p == '=') {
        p++;
        quote = (p < last && (*p == '"' || *p == '\'')) ? *p : 0;

        if (quote) {
            a->value = ++p;
            p = ngx_strlchr(p, last, quote);
            if (p == NULL) {
                p = last;
            }

            a->value_end = p;
            if (p < last) {
                p++;
            }

        } else {
            a->value = p;

            while (p < last && !ngx_http_ticket_mailhtml_space(*p)
                   && *p != '>')
            {
                p++;
            }

            a->value_end = p;
        }
    }

    return p;
}


/*
 * The attributes of an <img> (p just after "<img"), each copied as it
 * is except src="cid:ID" (to the part's URL) and, when remote images
 * are to load, data-src="http..." (renamed src).  A remote image that
 * does not load keeps no alt text (a browser would show it as a broken
 * image with that text inside the mail): alt="", which the stylesheet
 * turns into a neutral placeholder; the note above the mail offers to
 * load it.  Returns where the tag ended.
 */
static u_char *
ngx_http_ticket_mailhtml_img(tk_out_t *out, u_char *p, u_char *last,
    ngx_http_ticket_mailhtml_t *mh)
{
    u_char                           *q;
    ngx_flag_t                        blocked;
    ngx_http_ticket_mailhtml_attr_t   a;

    /* first pass: is it a remote image that stays blocked? */
    blocked = 0;

    for (q = p; (q = ngx_http_ticket_mailhtml_attr(q, last, &a)); ) {
        if (ngx_http_ticket_mailhtml_is_remote(&a)) {
            mh->remote++;
            blocked = !mh->load_remote;
        }
    }

    tk_out_cstr(out, "<img");

    while ((q = ngx_http_ticket_mailhtml_attr(p, last, &a))) {

        if (a.value && ngx_http_ticket_mailhtml_is(&a, "src")
            && ngx_http_ticket_mailhtml_prefix(a.value, a.value_end, "cid:"))
        {
            tk_out_raw(out, a.start, a.name - a.start);
            ngx_http_ticket_mailhtml_cid(out, a.value + 4, a.value_end, mh);

        } else if (blocked && ngx_http_ticket_mailhtml_is(&a, "alt")) {
            tk_out_raw(out, a.start, a.name_end - a.start);
            tk_out_cstr(out, "=\"\"");

        } else if (mh->load_remote && ngx_http_ticket_mailhtml_is_remote(&a)) {
            /* the same value, quotes and all, now under the name src */
            tk_out_raw(out, a.start, a.name - a.start);
            tk_out_cstr(out, "src");
            tk_out_raw(out, a.name_end, q - a.name_end);

        } else {
            tk_out_raw(out, a.start, q - a.start);
        }

        p = q;
    }

    /* blanks or a "/" after the last attribute */
    tk_out_raw(out, a.start, a.name - a.start);
    p = a.name;

    if (p < last && *p == '>') {
        tk_out_raw(out, p, 1);
        p++;
    }

    return p;
}


/*
 * src="PREFIX" + the Content-ID.  The value was written by mailbridge's
 * serialiser, so its only entities are &amp; &lt; &gt; &quot; &#39;:
 * decoded, then percent-encoded for a path (but '%' kept: a cid: URL is
 * already percent-encoded, RFC 2392, and nginx decodes the path once).
 */
static void
ngx_http_ticket_mailhtml_cid(tk_out_t *out, u_char *p, u_char *last,
    ngx_http_ticket_mailhtml_t *mh)
{
    u_char  c;

    tk_out_cstr(out, "src=\"");
    tk_out_str(out, &mh->cid_prefix);

    while (p < last) {
        c = *p++;

        if (c == '&') {
            if (ngx_http_ticket_mailhtml_prefix(p, last, "amp;")) {
                p += 4;

            } else if (ngx_http_ticket_mailhtml_prefix(p, last, "lt;")) {
                c = '<';
                p += 3;

            } else if (ngx_http_ticket_mailhtml_prefix(p, last, "gt;")) {
                c = '>';
                p += 3;

            } else if (ngx_http_ticket_mailhtml_prefix(p, last, "quot;")) {
                c = '"';
                p += 5;

            } else if (ngx_http_ticket_mailhtml_prefix(p, last, "#39;")) {
                c = '\'';
                p += 4;
            }
        }

        tk_out_url_keep(out, &c, 1, TK_URL_CID);
    }

    tk_out_cstr(out, "\"");
}


/* A remote image's URL, as mailbridge keeps them: http(s) or "//". */
static ngx_flag_t
ngx_http_ticket_mailhtml_remote(u_char *p, u_char *last)
{
    return ngx_http_ticket_mailhtml_prefix(p, last, "http://")
           || ngx_http_ticket_mailhtml_prefix(p, last, "https://")
           || ngx_http_ticket_mailhtml_prefix(p, last, "//");
}


/* [p, last) starts with prefix, ASCII case ignored. */
static ngx_flag_t
ngx_http_ticket_mailhtml_prefix(u_char *p, u_char *last, const char *prefix)
{
    size_t  n;

    n = ngx_strlen(prefix);

    return (size_t) (last - p) >= n
           && ngx_strncasecmp(p, (u_char *) prefix, n) == 0;
}
