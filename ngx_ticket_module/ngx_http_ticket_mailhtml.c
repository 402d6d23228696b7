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


static u_char *ngx_http_ticket_mailhtml_img(tk_out_t *out, u_char *p,
    u_char *last, ngx_http_ticket_mailhtml_t *mh);
static u_char *ngx_http_ticket_mailhtml_skip(u_char *p, u_char *last);
static void ngx_http_ticket_mailhtml_cid(tk_out_t *out, u_char *p,
    u_char *last, ngx_http_ticket_mailhtml_t *mh);
static ngx_flag_t ngx_http_ticket_mailhtml_remote(u_char *p, u_char *last);
static ngx_flag_t ngx_http_ticket_mailhtml_prefix(u_char *p, u_char *last,
    const char *prefix);


#define ngx_http_ticket_mailhtml_space(c)                                    \
    ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r' || (c) == '\f')


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
 * The attributes of an <img> (p just after "<img"), each copied as it
 * is except src="cid:ID" (to the part's URL) and, when remote images
 * are to load, data-src="http..." (renamed src).  Returns where the tag
 * ended.
 */
static u_char *
ngx_http_ticket_mailhtml_img(tk_out_t *out, u_char *p, u_char *last,
    ngx_http_ticket_mailhtml_t *mh)
{
    u_char     *start, *name, *name_end, *value, *value_end, quote;
    ngx_flag_t  remote;

    tk_out_cstr(out, "<img");

    while (p < last) {
        start = p;

        while (p < last && (ngx_http_ticket_mailhtml_space(*p) || *p == '/'))
        {
            p++;
        }

        if (p == last || *p == '>') {
            tk_out_raw(out, start, p - start);
            break;
        }

        name = p;

        while (p < last && !ngx_http_ticket_mailhtml_space(*p) && *p != '/'
               && *p != '>' && *p != '=')
        {
            p++;
        }

        name_end = p;
        value = NULL;
        value_end = NULL;

        if (p < last && *p == '=') {
            p++;
            quote = (p < last && (*p == '"' || *p == '\'')) ? *p : 0;

            if (quote) {
                value = ++p;
                p = ngx_strlchr(p, last, quote);
                if (p == NULL) {
                    p = last;
                }

                value_end = p;
                if (p < last) {
                    p++;
                }

            } else {
                value = p;

                while (p < last && !ngx_http_ticket_mailhtml_space(*p)
                       && *p != '>')
                {
                    p++;
                }

                value_end = p;
            }
        }

        if (value && name_end - name == 3
            && ngx_strncasecmp(name, (u_char *) "src", 3) == 0
            && ngx_http_ticket_mailhtml_prefix(value, value_end, "cid:"))
        {
            tk_out_raw(out, start, name - start);
            ngx_http_ticket_mailhtml_cid(out, value + 4, value_end, mh);
            continue;
        }

        remote = value && name_end - name == 8
                 && ngx_strncasecmp(name, (u_char *) "data-src", 8) == 0
                 && ngx_http_ticket_mailhtml_remote(value, value_end);

        if (remote) {
            mh->remote++;
        }

        if (remote && mh->load_remote) {
            /* the same value, quotes and all, now under the name src */
            tk_out_raw(out, start, name - start);
            tk_out_cstr(out, "src");
            tk_out_raw(out, name_end, p - name_end);
            continue;
        }

        tk_out_raw(out, start, p - start);
    }

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
