/*
 * ngx_http_ticket_keys_view.c -- PGP on the ticket page: the line under
 * an article's headers that says whether the mail was encrypted and
 * whose signature it carries (from the article's flags and pgp_sig,
 * written by mailbridge), and the "import key" link of an attached
 * application/pgp-keys part, which leads to the key page's confirmation
 * (no form here: thread.html is cached for every user, a CSRF token must
 * not be in it).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ticket_views.h"


static ngx_flag_t ngx_http_ticket_keys_same_addr(ngx_str_t *sig_rest,
    tk_str_t *from);
static void ngx_http_ticket_keys_addr(u_char *p, size_t len, ngx_str_t *out);


ngx_int_t
ngx_http_ticket_keys_article(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, tk_str_t *flags, ngx_str_t *sig,
    tk_str_t *from, tk_str_t *label, tk_str_t *status)
{
    u_char      *p, *last;
    size_t       n;
    ngx_str_t    st, rest;
    ngx_flag_t   enc, failed;
    const char  *what, *verdict;

    enc = tk_flags_has(flags, "encrypted");
    failed = tk_flags_has(flags, "decrypt-failed");

    if (!enc && !failed && sig->len == 0 && !tk_flags_has(flags, "signed")) {
        return NGX_OK;
    }

    what = failed ? ngx_http_ticket_msg(ctx,
                                        TK_MSG_KEYS_VIEW_ENCRYPTED_COULD_NOT_BE)
           : enc ? ngx_http_ticket_msg(ctx, TK_MSG_KEYS_VIEW_ENCRYPTED)
           : NULL;

    /* "STATUS ID [UID]" */
    st = *sig;
    ngx_str_null(&rest);
    p = ngx_strlchr(sig->data, sig->data + sig->len, ' ');
    if (p) {
        st.len = p - sig->data;
        rest.data = p + 1;
        rest.len = sig->data + sig->len - rest.data;
    }

#define NGX_KEYS_IS(s, lit)                                                  \
    ((s).len == sizeof(lit) - 1 && ngx_strncmp((s).data, lit, (s).len) == 0)

    if (sig->len == 0) {
        verdict = tk_flags_has(flags, "signed")
                  ? ngx_http_ticket_msg(ctx,
                                        TK_MSG_KEYS_VIEW_SIGNED_NOT_CHECKED)
                  : NULL;
        if (failed) {
            tk_str_set(status, "failed");
        } else {
            tk_str_set(status, "none");
        }
    } else if (NGX_KEYS_IS(st, "valid")
               && !ngx_http_ticket_keys_same_addr(&rest, from))
    {
        /* a good signature, by a key of someone else than From says */
        verdict =
            ngx_http_ticket_msg(ctx,
                                TK_MSG_KEYS_VIEW_VALID_SIGNATURE_BUT_NOT_BY);
        tk_str_set(status, "valid-other");
    } else if (NGX_KEYS_IS(st, "valid")) {
        verdict = ngx_http_ticket_msg(ctx, TK_MSG_KEYS_VIEW_VALID_SIGNATURE);
        tk_str_set(status, "valid");
    } else if (NGX_KEYS_IS(st, "unknown-key")) {
        verdict =
            ngx_http_ticket_msg(ctx,
                                TK_MSG_KEYS_VIEW_SIGNED_WITH_AN_UNKNOWN_KEY);
        tk_str_set(status, "unknown-key");
    } else if (NGX_KEYS_IS(st, "expired-key")) {
        verdict =
            ngx_http_ticket_msg(ctx,
                                TK_MSG_KEYS_VIEW_SIGNED_WITH_AN_EXPIRED_KEY);
        tk_str_set(status, "expired-key");
    } else if (NGX_KEYS_IS(st, "revoked-key")) {
        verdict =
            ngx_http_ticket_msg(ctx,
                                TK_MSG_KEYS_VIEW_SIGNED_WITH_A_REVOKED_KEY);
        tk_str_set(status, "revoked-key");
    } else {
        verdict = ngx_http_ticket_msg(ctx, TK_MSG_KEYS_VIEW_BAD_SIGNATURE);
        tk_str_set(status, "bad");
    }

#undef NGX_KEYS_IS

    n = (what ? ngx_strlen(what) : 0) + (verdict ? ngx_strlen(verdict) : 0)
        + rest.len + 16;
    p = ngx_pnalloc(r->pool, n);
    if (p == NULL) {
        return NGX_ERROR;
    }

    last = p;
    if (what) {
        last = ngx_cpymem(last, what, ngx_strlen(what));
    }
    if (verdict) {
        if (what) {
            last = ngx_cpymem(last, " \xc2\xb7 ", 4);
        }
        last = ngx_cpymem(last, verdict, ngx_strlen(verdict));
    }
    if (rest.len) {
        last = ngx_sprintf(last, " (%V)", &rest);
    }

    label->data = p;
    label->len = last - p;
    return NGX_OK;
}


ngx_int_t
ngx_http_ticket_keys_file(ngx_http_request_t *r, tk_str_t *type,
    uint64_t number, uint64_t article, ngx_uint_t k, tk_str_t *url)
{
    u_char  buf[3 * NGX_INT64_LEN + 32], *last;

    if (type->len != sizeof("application/pgp-keys") - 1
        || ngx_strncasecmp(type->data, (u_char *) "application/pgp-keys",
                           type->len) != 0)
    {
        return NGX_OK;
    }

    last = ngx_snprintf(buf, sizeof(buf), "admin/keys?import=%uL/%uL/%ui",
                        number, article, k);

    return ngx_http_ticket_url(r, (char *) buf, last - buf, url);
}


/*
 * The address in "FPR Name <addr>" is From's address (or the user id has
 * none: nothing to compare).  Addresses compare case-insensitively.
 */
static ngx_flag_t
ngx_http_ticket_keys_same_addr(ngx_str_t *sig_rest, tk_str_t *from)
{
    ngx_str_t  a, b;

    ngx_http_ticket_keys_addr(sig_rest->data, sig_rest->len, &a);
    if (a.len == 0 || ngx_strlchr(sig_rest->data,
                                  sig_rest->data + sig_rest->len, '<')
                      == NULL)
    {
        return 1;
    }

    ngx_http_ticket_keys_addr(from->data, from->len, &b);

    return a.len == b.len && ngx_strncasecmp(a.data, b.data, a.len) == 0;
}


/* "Name <addr>" -> addr; without <>: the last word. */
static void
ngx_http_ticket_keys_addr(u_char *p, size_t len, ngx_str_t *out)
{
    u_char  *lt, *gt, *end = p + len;

    ngx_str_null(out);

    for (lt = end; lt > p && lt[-1] != '<'; lt--) {
        /* void */
    }

    if (lt > p) {
        gt = ngx_strlchr(lt, end, '>');
        if (gt) {
            out->data = lt;
            out->len = gt - lt;
        }
        return;
    }

    for (lt = end; lt > p && lt[-1] != ' '; lt--) {
        /* void */
    }

    out->data = lt;
    out->len = end - lt;
}
