/*
 * fuzz_form.c -- libFuzzer target: the module's urlencoded form and
 * query parsing (ngx_ticket_module/ngx_http_ticket_form.c:
 * ngx_http_ticket_urlencoded_arg, ngx_http_ticket_decode, via
 * ngx_http_ticket_form_arg / _query_arg / _check_csrf / _is_hex).
 *
 * The file is #included so its static functions are reached as nginx
 * calls them.  Debian's nginx-dev ships nginx's headers but none of its
 * .c files, so the few core functions form.c calls are replaced below by
 * small stand-ins: ngx_pnalloc is malloc (every block freed after the
 * input, so ASan sees each overflow by one byte that a pool would hide).
 * Cookie parsing is nginx's own ngx_http_parse_multi_header_lines (not
 * in the package): not fuzzed here, see docs/reliability.md.
 *
 * Input: NAME '\n' BODY (without '\n': the name "csrf").  Property: the
 * result equals a reference parser written from the comment in form.c
 * (first occurrence wins, keys compared after decoding, malformed escape
 * in a key looked at or in the value, a NUL in a value: NGX_ERROR), the
 * value is NUL-terminated and holds no NUL.
 */

#include "../../ngx_ticket_module/ngx_http_ticket_form.c"

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, what)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "property violated: %s\n", what);              \
            abort();                                                        \
        }                                                                   \
    } while (0)

/* ---- stand-ins for the nginx core (not linked) ------------------------ */

#define FZ_MAX_BLOCKS 4096
static void    *fz_blocks[FZ_MAX_BLOCKS];
static size_t   fz_nblocks;

void *
ngx_pnalloc(ngx_pool_t *pool, size_t size)
{
    void *p;

    if (fz_nblocks == FZ_MAX_BLOCKS) {
        return NULL;
    }
    p = malloc(size ? size : 1);
    fz_blocks[fz_nblocks++] = p;
    return p;
}

void *
ngx_list_push(ngx_list_t *l)
{
    return NULL;
}

u_char *
ngx_hex_dump(u_char *dst, u_char *src, size_t len)
{
    static const u_char hex[] = "0123456789abcdef";

    while (len--) {
        *dst++ = hex[*src >> 4];
        *dst++ = hex[*src++ & 0xf];
    }
    return dst;
}

u_char *
ngx_sprintf(u_char *buf, const char *fmt, ...)
{
    abort();                /* set_cookie: not a parser, not reached */
}

void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
}

ngx_int_t
ngx_http_parse_multi_header_lines(ngx_array_t *headers, ngx_str_t *name,
    ngx_str_t *value)
{
    abort();                /* nginx's cookie parser: not in nginx-dev */
}

ngx_int_t
ngx_http_ticket_error(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_uint_t status, const char *text)
{
    return NGX_OK;
}

ngx_flag_t
ngx_http_ticket_lang_de(ngx_http_ticket_ctx_t *ctx)
{
    return 1;
}

ngx_uint_t
ngx_http_ticket_lang(ngx_http_ticket_ctx_t *ctx)
{
    return TK_LANG_DE;
}

/* the catalogue's tables (tk_tpl_all.c) are not linked: empty texts */
static const tk_msg_t  fuzz_no_msgs[TK_MSG_N];
const tk_msg_t        *const tk_msgs[TK_LANG_N] = {
    [0 ... TK_LANG_N - 1] = fuzz_no_msgs
};

ngx_module_t  ngx_http_ticket_module;

/* ---- the reference ---------------------------------------------------- */

static int
ref_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* -1 malformed; else the decoded length; a value may hold no raw NUL */
static long
ref_decode(const unsigned char *p, size_t n, unsigned char *out, int value)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (p[i] == '\0' && value) {
            return -1;
        } else if (p[i] == '+') {
            out[o++] = ' ';
        } else if (p[i] == '%') {
            if (n - i < 3 || ref_hex(p[i + 1]) < 0 || ref_hex(p[i + 2]) < 0) {
                return -1;
            }
            out[o] = (unsigned char) (ref_hex(p[i + 1]) * 16 + ref_hex(p[i + 2]));
            if (out[o] == 0) {
                return -1;
            }
            o++;
            i += 2;
        } else {
            out[o++] = p[i];
        }
    }
    return (long) o;
}

/* NGX_OK (value in out/len), NGX_DECLINED, NGX_ERROR */
static ngx_int_t
ref_arg(const unsigned char *in, size_t n, const char *name,
    unsigned char *out, size_t *len)
{
    const unsigned char *p = in, *end = in + n, *amp, *eq;
    unsigned char       *key = malloc(n + 1);
    size_t               nl = strlen(name);
    long                 kl, vl;

    while (p < end) {
        amp = memchr(p, '&', end - p);
        if (amp == NULL) amp = end;
        eq = memchr(p, '=', amp - p);
        if (eq == NULL) eq = amp;

        kl = ref_decode(p, eq - p, key, 0);
        if (kl < 0) {
            free(key);
            return NGX_ERROR;
        }
        if ((size_t) kl == nl && memcmp(key, name, nl) == 0) {
            free(key);
            if (eq == amp) {
                *len = 0;
                return NGX_OK;
            }
            vl = ref_decode(eq + 1, amp - eq - 1, out, 1);
            if (vl < 0) {
                return NGX_ERROR;
            }
            *len = (size_t) vl;
            return NGX_OK;
        }
        p = amp + 1;
    }
    free(key);
    return NGX_DECLINED;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_http_request_t     r;
    ngx_http_ticket_ctx_t  ctx;
    ngx_str_t              v;
    char                   name[64] = "csrf";
    const uint8_t         *nl, *body;
    size_t                 blen, rlen, i;
    unsigned char         *buf, *ref;
    ngx_int_t              rc, rrc;

    nl = memchr(data, '\n', size < 64 ? size : 64);
    body = data;
    blen = size;
    if (nl) {
        memcpy(name, data, nl - data);
        name[nl - data] = '\0';
        body = nl + 1;
        blen = size - (nl - data) - 1;
        if (strlen(name) != (size_t) (nl - data)) {
            return 0;       /* a NUL in the name: not a C string name */
        }
    }

    /* an exact-size copy: reading past the body is an ASan error */
    buf = malloc(blen ? blen : 1);
    memcpy(buf, body, blen);
    ref = malloc(blen + 1);

    memset(&r, 0, sizeof(r));
    memset(&ctx, 0, sizeof(ctx));
    ctx.form.data = buf;
    ctx.form.len = blen;
    r.args = ctx.form;

    rc = ngx_http_ticket_form_arg(&r, &ctx, name, &v);
    rrc = ref_arg(buf, blen, name, ref, &rlen);
    CHECK(rc == rrc, "form_arg result differs from the reference");
    if (rc == NGX_OK) {
        CHECK(v.len == rlen && memcmp(v.data, ref, rlen) == 0,
              "form_arg value differs from the reference");
        CHECK(v.data[v.len] == '\0', "value not NUL-terminated");
        CHECK(memchr(v.data, '\0', v.len) == NULL, "NUL inside a value");
    }

    CHECK(ngx_http_ticket_query_arg(&r, name, &v) == rc, "query_arg differs");

    /* the CSRF check: a token equal to the form's field passes, another
     * one of the same length does not */
    ctx.csrf.data = (u_char *) "0123456789abcdef0123456789abcdef";
    ctx.csrf.len = 32;
    rc = ngx_http_ticket_check_csrf(&r, &ctx);
    rrc = ref_arg(buf, blen, "csrf", ref, &rlen);
    if (rrc == NGX_OK && rlen == 32 && memcmp(ref, ctx.csrf.data, 32) == 0) {
        CHECK(rc == NGX_OK, "csrf: the right token refused");
    } else {
        CHECK(rc != NGX_OK, "csrf: a wrong token accepted");
    }

    v.data = buf;
    v.len = blen;
    if (ngx_http_ticket_is_hex(&v, blen)) {
        for (i = 0; i < blen; i++) {
            CHECK(strchr("0123456789abcdef", buf[i]) && buf[i],
                  "is_hex accepted a non-hex byte");
        }
    }

    for (i = 0; i < fz_nblocks; i++) {
        free(fz_blocks[i]);
    }
    fz_nblocks = 0;
    free(buf);
    free(ref);
    return 0;
}
