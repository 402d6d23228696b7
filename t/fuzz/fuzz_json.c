/*
 * fuzz_json.c -- libFuzzer target: the API's JSON body parser
 * (redis-schema/support/tk_json.c, from branch composer): tk_json_object,
 * tk_json_array, tk_json_string, tk_json_uint on arbitrary bytes.
 *
 * Properties (abort() on violation), against a small RFC 8259 validator
 * written here:
 *   - accepted text is a valid JSON object (depth within TK_JSON_DEPTH+1);
 *   - a valid object with few members, distinct keys and shallow nesting
 *     is accepted;
 *   - member keys and values are spans inside the text, types match the
 *     value's first byte; arrays likewise, recursively;
 *     (syntax only: raw bytes >= 0x80 in strings are not judged there);
 *   - a decoded string is valid UTF-8 without NUL, and tk_out_json of it
 *     decodes back to the same bytes;
 *   - tk_json_uint >= 0 only for a plain digit string it equals.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk_escape.h"
#include "tk_json.h"

#define MAXM 16

#define CHECK(cond, what)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "property violated: %s\n", what);              \
            abort();                                                        \
        }                                                                   \
    } while (0)

/* ---- reference validator ------------------------------------------------ */

typedef struct {
    const unsigned char *p, *e;
    int depth, maxdepth;
} ref_t;

static void ws(ref_t *r) { while (r->p < r->e && strchr(" \t\r\n", *r->p) && *r->p) r->p++; }
static int value(ref_t *r);

static int
utf8_seq(const unsigned char *p, const unsigned char *e)
{
    unsigned cp; int len, k;
    if (*p < 0x80) return 1;
    if ((*p & 0xe0) == 0xc0) { len = 2; cp = *p & 0x1f; }
    else if ((*p & 0xf0) == 0xe0) { len = 3; cp = *p & 0x0f; }
    else if ((*p & 0xf8) == 0xf0) { len = 4; cp = *p & 0x07; }
    else return 0;
    if (e - p < len) return 0;
    for (k = 1; k < len; k++) { if ((p[k] & 0xc0) != 0x80) return 0; cp = (cp << 6) | (p[k] & 0x3f); }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
        || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

static int
string(ref_t *r)
{
    int k;
    if (r->p >= r->e || *r->p != '"') return 0;
    r->p++;
    while (r->p < r->e && *r->p != '"') {
        if (*r->p < 0x20) return 0;
        if (*r->p == '\\') {
            r->p++;
            if (r->p >= r->e) return 0;
            if (*r->p == 'u') {
                for (k = 1; k <= 4; k++) if (r->p + k >= r->e || !strchr("0123456789abcdefABCDEF", r->p[k]) || !r->p[k]) return 0;
                r->p += 5;
                continue;
            }
            if (!strchr("\"\\/bfnrt", *r->p) || !*r->p) return 0;
            r->p++;
            continue;
        }
        /* raw bytes: the syntax only (UTF-8 is checked on decoding) */
        r->p++;
    }
    if (r->p >= r->e) return 0;
    r->p++;
    return 1;
}

static int
number(ref_t *r)
{
    const unsigned char *s;
    if (r->p < r->e && *r->p == '-') r->p++;
    if (r->p >= r->e) return 0;
    if (*r->p == '0') r->p++;
    else if (*r->p >= '1' && *r->p <= '9') while (r->p < r->e && *r->p >= '0' && *r->p <= '9') r->p++;
    else return 0;
    if (r->p < r->e && *r->p == '.') {
        s = ++r->p;
        while (r->p < r->e && *r->p >= '0' && *r->p <= '9') r->p++;
        if (r->p == s) return 0;
    }
    if (r->p < r->e && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->e && (*r->p == '+' || *r->p == '-')) r->p++;
        s = r->p;
        while (r->p < r->e && *r->p >= '0' && *r->p <= '9') r->p++;
        if (r->p == s) return 0;
    }
    return 1;
}

static int
lit(ref_t *r, const char *w)
{
    size_t n = strlen(w);
    if ((size_t) (r->e - r->p) < n || memcmp(r->p, w, n)) return 0;
    r->p += n;
    return 1;
}

static int
container(ref_t *r, int obj)
{
    if (++r->depth > r->maxdepth) r->maxdepth = r->depth;
    r->p++;
    ws(r);
    if (r->p < r->e && *r->p == (obj ? '}' : ']')) { r->p++; r->depth--; return 1; }
    for (;;) {
        ws(r);
        if (obj) {
            if (!string(r)) return 0;
            ws(r);
            if (r->p >= r->e || *r->p != ':') return 0;
            r->p++;
            ws(r);
        }
        if (!value(r)) return 0;
        ws(r);
        if (r->p < r->e && *r->p == ',') { r->p++; continue; }
        if (r->p < r->e && *r->p == (obj ? '}' : ']')) { r->p++; r->depth--; return 1; }
        return 0;
    }
}

static int
value(ref_t *r)
{
    if (r->p >= r->e) return 0;
    if (r->depth > 64) return 0;
    switch (*r->p) {
    case '{': return container(r, 1);
    case '[': return container(r, 0);
    case '"': return string(r);
    case 't': return lit(r, "true");
    case 'f': return lit(r, "false");
    case 'n': return lit(r, "null");
    default: return number(r);
    }
}

/* ---- checks ------------------------------------------------------------- */

static void *
fz_alloc(void *data, size_t size)
{
    void **list = data;
    void *p = malloc(size ? size : 1);
    size_t i;
    for (i = 0; i < 4096; i++) if (list[i] == NULL) { list[i] = p; return p; }
    free(p);
    return NULL;
}

static void *fz_blocks[4096];

static void
check_members(const tk_str_t *text, const tk_json_member_t *m, int n, int depth)
{
    int i, k;
    tk_str_t s, s2;
    tk_out_t out;
    tk_json_member_t el[MAXM];
    size_t err;
    long long v;
    char num[32];

    for (i = 0; i < n; i++) {
        CHECK(m[i].value.len > 0 && m[i].value.data >= text->data
              && m[i].value.data + m[i].value.len <= text->data + text->len,
              "value span outside the text");
        CHECK(m[i].key.len == 0 || (m[i].key.data >= text->data
              && m[i].key.data + m[i].key.len <= text->data + text->len),
              "key span outside the text");
        switch (m[i].value.data[0]) {
        case '"': CHECK(m[i].type == TK_JSON_STRING, "type of a string"); break;
        case '{': CHECK(m[i].type == TK_JSON_OBJECT, "type of an object"); break;
        case '[': CHECK(m[i].type == TK_JSON_ARRAY, "type of an array"); break;
        case 't': CHECK(m[i].type == TK_JSON_TRUE, "type of true"); break;
        case 'f': CHECK(m[i].type == TK_JSON_FALSE, "type of false"); break;
        case 'n': CHECK(m[i].type == TK_JSON_NULL, "type of null"); break;
        default: CHECK(m[i].type == TK_JSON_NUMBER, "type of a number");
        }

        if (m[i].type == TK_JSON_STRING
            && tk_json_string(&m[i].value, &s, fz_alloc, fz_blocks) == 0)
        {
            ref_t r = { s.data, s.data + s.len, 0, 0 };
            int   bad = 0;
            for (k = 0; r.p < r.e; r.p += k) {
                CHECK(*r.p != 0, "decoded string holds NUL");
                k = utf8_seq(r.p, r.e);
#ifdef FZ_JSON_NO_UTF8      /* to look past t/fuzz/known/json/ */
                if (k == 0) { k = 1; bad = 1; continue; }
#endif
                CHECK(k > 0, "decoded string is not UTF-8");
            }
            (void) bad;
            if (!bad) {
            tk_out_init_mem(&out);
            tk_out_json(&out, s.data, s.len);
            s2 = tk_out_mem_str(&out);
            {
                tk_str_t back;
                CHECK(tk_json_string(&s2, &back, fz_alloc, fz_blocks) == 0,
                      "tk_out_json output not accepted");
                CHECK(back.len == s.len && memcmp(back.data, s.data, s.len) == 0,
                      "string does not round-trip through tk_out_json");
            }
            tk_out_free_mem(&out);
            }
        }

        if (m[i].type == TK_JSON_NUMBER) {
            v = tk_json_uint(&m[i].value);
            if (v >= 0) {
                k = snprintf(num, sizeof(num), "%lld", v);
                CHECK((size_t) k == m[i].value.len && memcmp(num, m[i].value.data, k) == 0,
                      "tk_json_uint accepted something that is not that integer");
            }
        }

        if ((m[i].type == TK_JSON_ARRAY || m[i].type == TK_JSON_OBJECT) && depth < 20) {
            k = m[i].type == TK_JSON_ARRAY
                ? tk_json_array(&m[i].value, el, MAXM, &err)
                : tk_json_object(&m[i].value, el, MAXM, &err);
            if (k >= 0) {
                check_members(text, el, k, depth + 1);
            }
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tk_json_member_t  m[MAXM];
    tk_str_t          text;
    unsigned char    *buf;
    size_t            err = 0, i;
    int               n, valid, j, k, dup = 0;
    ref_t             r;

    buf = malloc(size ? size : 1);      /* exact size: ASan sees overreads */
    memcpy(buf, data, size);
    text.data = buf;
    text.len = size;

    n = tk_json_object(&text, m, MAXM, &err);

    r.p = buf; r.e = buf + size; r.depth = 0; r.maxdepth = 0;
    ws(&r);
    valid = r.p < r.e && *r.p == '{' && value(&r);
    ws(&r);
    valid = valid && r.p == r.e;

    if (n >= 0) {
        CHECK(valid, "accepted text that is not a JSON object");
        CHECK(r.maxdepth <= TK_JSON_DEPTH + 1, "accepted nesting deeper than TK_JSON_DEPTH");
        CHECK(n <= MAXM, "more members than max");
        check_members(&text, m, n, 0);
    } else {
        CHECK(err <= size, "errpos beyond the text");
        if (valid && r.maxdepth < TK_JSON_DEPTH) {
            /* refused a valid object: only for duplicate or too many keys */
            tk_json_member_t big[256];
            k = tk_json_object(&text, big, 256, &err);
            if (k >= 0) {
                CHECK(k > MAXM, "valid object refused with few members");
            } else {
                /* look for a repeated raw key in the top level */
                ref_t q = { buf, buf + size, 0, 0 };
                const unsigned char *keys[300]; size_t kl[300]; int nk = 0;
                ws(&q); q.p++;
                for (;;) {
                    ws(&q);
                    if (q.p >= q.e || *q.p != '"') break;
                    keys[nk] = q.p; string(&q); kl[nk] = q.p - keys[nk];
                    nk++;
                    if (nk == 300) break;
                    ws(&q); q.p++; ws(&q); value(&q); ws(&q);
                    if (q.p < q.e && *q.p == ',') q.p++; else break;
                }
                for (j = 0; j < nk && !dup; j++)
                    for (k = j + 1; k < nk; k++)
                        if (kl[j] == kl[k] && memcmp(keys[j], keys[k], kl[j]) == 0) dup = 1;
                /* escaped spellings of one key ("a" and "\u0061") count too */
                for (j = 0; j < nk && !dup; j++)
                    if (memchr(keys[j], '\\', kl[j])) dup = 1;
                CHECK(dup || nk >= 256, "valid object without duplicate keys refused");
            }
        }
    }

    for (i = 0; i < 4096; i++) { free(fz_blocks[i]); fz_blocks[i] = NULL; }
    free(buf);
    return 0;
}
