/*
 * tk_cmd.c -- builds lists of RESP-encoded Redis commands (tk_cmd.h) with
 * memory from the caller's allocator, and the bump allocator tk_arena_t
 * that ticketctl and mailbridge use as that allocator.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk_cmd.h"


#define TK_CMD_MAX_ARGS     1024      /* per command; more is a bug */
#define TK_CMD_MIN_BUF      4096
#define TK_CMD_MIN_CMDS     32
#define TK_ARENA_BLOCK      (64 * 1024)
#define TK_ARENA_ALIGN      16

struct tk_arena_block_s {
    tk_arena_block_t  *next;
    size_t             size;       /* usable bytes after the header */
    size_t             used;
};

/* The state of one format expansion: measure (out == NULL) or write. */
typedef struct {
    unsigned char     *out;
    size_t            *lens;       /* length of each argument      */
    size_t             argc;
    size_t             cur;        /* bytes of the current argument */
    int                touched;    /* current argument has begun   */
    int                error;
} tk_fmt_state_t;


static int tk_cmds_reserve(tk_cmds_t *c, size_t bytes);
static void tk_cmds_commit(tk_cmds_t *c, size_t start);
static unsigned char *tk_resp_header(unsigned char *p, char type, size_t n);
static void tk_fmt_begin(tk_fmt_state_t *st);
static void tk_fmt_end(tk_fmt_state_t *st);
static void tk_fmt_emit(tk_fmt_state_t *st, const void *p, size_t n);
static void tk_fmt_uint(tk_fmt_state_t *st, unsigned long long v, int neg);
static void tk_fmt_int(tk_fmt_state_t *st, long long v);
static void tk_fmt_run(tk_fmt_state_t *st, const char *fmt, va_list *ap);
static const char *tk_fmt_conv(tk_fmt_state_t *st, const char *p,
    va_list *ap);
static size_t tk_digits(size_t n);


void
tk_cmds_init(tk_cmds_t *c, tk_alloc_pt alloc, void *alloc_data)
{
    memset(c, 0, sizeof(tk_cmds_t));
    c->alloc = alloc;
    c->alloc_data = alloc_data;
}


/*
 * Grows buf and the command table so that one more command of 'bytes'
 * fits.  Memory comes from a pool that never frees single blocks, so
 * growth doubles: the copies left behind add up to less than the final
 * buffer.
 */
static int
tk_cmds_reserve(tk_cmds_t *c, size_t bytes)
{
    unsigned char  *buf;
    tk_cmd_t       *cmd;
    size_t          cap;

    if (c->failed) {
        return -1;
    }

    if (c->len + bytes > c->cap) {
        cap = c->cap ? c->cap * 2 : TK_CMD_MIN_BUF;
        while (cap < c->len + bytes) {
            cap *= 2;
        }

        buf = c->alloc(c->alloc_data, cap);
        if (buf == NULL) {
            c->failed = 1;
            return -1;
        }

        if (c->len) {
            memcpy(buf, c->buf, c->len);
        }

        c->buf = buf;
        c->cap = cap;
    }

    if (c->n == c->ncap) {
        cap = c->ncap ? c->ncap * 2 : TK_CMD_MIN_CMDS;

        cmd = c->alloc(c->alloc_data, cap * sizeof(tk_cmd_t));
        if (cmd == NULL) {
            c->failed = 1;
            return -1;
        }

        if (c->n) {
            memcpy(cmd, c->cmd, c->n * sizeof(tk_cmd_t));
        }

        c->cmd = cmd;
        c->ncap = cap;
    }

    return 0;
}


/* Records the bytes from start to c->len as the next command. */
static void
tk_cmds_commit(tk_cmds_t *c, size_t start)
{
    c->cmd[c->n].off = start;
    c->cmd[c->n].len = c->len - start;
    c->n++;
}


static size_t
tk_digits(size_t n)
{
    size_t  d;

    for (d = 1; n >= 10; n /= 10) {
        d++;
    }

    return d;
}


/* "*3\r\n" or "$5\r\n" */
static unsigned char *
tk_resp_header(unsigned char *p, char type, size_t n)
{
    unsigned char  tmp[24], *t;

    *p++ = (unsigned char) type;

    t = tmp + sizeof(tmp);
    do {
        *--t = (unsigned char) ('0' + n % 10);
        n /= 10;
    } while (n);

    memcpy(p, t, (size_t) (tmp + sizeof(tmp) - t));
    p += tmp + sizeof(tmp) - t;
    *p++ = '\r';
    *p++ = '\n';

    return p;
}


void
tk_cmds_add(tk_cmds_t *c, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    tk_cmds_vadd(c, fmt, ap);
    va_end(ap);
}


/*
 * Two passes over the format, like hiredis' redisvFormatCommand but
 * without a temporary copy of each argument: the first pass measures
 * every argument, the second writes RESP straight into buf.
 */
void
tk_cmds_vadd(tk_cmds_t *c, const char *fmt, va_list ap)
{
    size_t          lens[TK_CMD_MAX_ARGS];
    size_t          total, i, start;
    tk_fmt_state_t  st;
    va_list         aq;

    if (c->failed) {
        return;
    }

    memset(&st, 0, sizeof(st));
    st.lens = lens;

    va_copy(aq, ap);
    tk_fmt_run(&st, fmt, &aq);
    va_end(aq);

    if (st.error || st.argc == 0) {
        c->failed = 1;
        return;
    }

    total = 1 + tk_digits(st.argc) + 2;
    for (i = 0; i < st.argc; i++) {
        total += 1 + tk_digits(lens[i]) + 2 + lens[i] + 2;
    }

    if (tk_cmds_reserve(c, total) != 0) {
        return;
    }

    start = c->len;

    st.out = tk_resp_header(c->buf + c->len, '*', st.argc);
    st.argc = 0;

    va_copy(aq, ap);
    tk_fmt_run(&st, fmt, &aq);
    va_end(aq);

    c->len = (size_t) (st.out - c->buf);
    tk_cmds_commit(c, start);
}


static void
tk_fmt_run(tk_fmt_state_t *st, const char *fmt, va_list *ap)
{
    const char  *p, *q;

    for (p = fmt; *p && !st->error; p++) {

        if (*p == ' ') {
            tk_fmt_end(st);
            continue;
        }

        if (*p != '%' || p[1] == '\0') {
            /* a run of literal bytes at once ("ZREVRANGE" is one copy,
             * not nine): up to the next space or conversion */
            for (q = p + 1; *q && *q != ' ' && *q != '%'; q++) {
                /* void */
            }

            tk_fmt_emit(st, p, (size_t) (q - p));
            p = q - 1;
            continue;
        }

        p = tk_fmt_conv(st, p + 1, ap);
    }

    tk_fmt_end(st);
}


/*
 * One conversion; p points after '%'.  Returns the conversion's last
 * character.  An empty string still makes an argument ("HSET k f %s"
 * with "" sets f to ""), as in hiredis.
 */
static const char *
tk_fmt_conv(tk_fmt_state_t *st, const char *p, va_list *ap)
{
    const char      *s;
    const tk_str_t  *str;
    const void      *b;
    size_t           n;
    char             num[64];
    int              len;

    tk_fmt_begin(st);

    switch (*p) {

    case 's':
        s = va_arg(*ap, const char *);
        if (s) {
            tk_fmt_emit(st, s, strlen(s));
        }
        return p;

    case 'b':
        b = va_arg(*ap, const void *);
        n = va_arg(*ap, size_t);
        tk_fmt_emit(st, b, n);
        return p;

    case 'S':
        str = va_arg(*ap, const tk_str_t *);
        if (str) {
            tk_fmt_emit(st, str->data, str->len);
        }
        return p;

    case '%':
        tk_fmt_emit(st, "%", 1);
        return p;

    case 'd':
    case 'i':
        tk_fmt_int(st, va_arg(*ap, int));
        return p;

    case 'u':
        tk_fmt_uint(st, va_arg(*ap, unsigned int), 0);
        return p;

    case 'f':
    case 'g':
        /* 17 digits: a score survives the round trip exactly */
        len = snprintf(num, sizeof(num), "%.17g", va_arg(*ap, double));
        tk_fmt_emit(st, num, (size_t) len);
        return p;

    case 'z':
        if (p[1] == 'u') {
            tk_fmt_uint(st, va_arg(*ap, size_t), 0);
            return p + 1;
        }
        break;

    case 'l':
        if (p[1] == 'd' || p[1] == 'i') {
            tk_fmt_int(st, va_arg(*ap, long));
            return p + 1;
        }

        if (p[1] == 'u') {
            tk_fmt_uint(st, va_arg(*ap, unsigned long), 0);
            return p + 1;
        }

        if (p[1] == 'l' && (p[2] == 'd' || p[2] == 'i')) {
            tk_fmt_int(st, va_arg(*ap, long long));
            return p + 2;
        }

        if (p[1] == 'l' && p[2] == 'u') {
            tk_fmt_uint(st, va_arg(*ap, unsigned long long), 0);
            return p + 2;
        }
        break;

    default:
        break;
    }

    /* an unknown conversion would desynchronise the va_list */
    st->error = 1;
    return p;
}


static void
tk_fmt_int(tk_fmt_state_t *st, long long v)
{
    if (v < 0) {
        tk_fmt_uint(st, (unsigned long long) -(v + 1) + 1, 1);

    } else {
        tk_fmt_uint(st, (unsigned long long) v, 0);
    }
}


static void
tk_fmt_uint(tk_fmt_state_t *st, unsigned long long v, int neg)
{
    char   tmp[24];
    char  *p;

    p = tk_str_utoa(tmp + sizeof(tmp), v);

    if (neg) {
        *--p = '-';
    }

    tk_fmt_emit(st, p, (size_t) (tmp + sizeof(tmp) - p));
}


/* Starts an argument: in the write pass, its "$len\r\n" header. */
static void
tk_fmt_begin(tk_fmt_state_t *st)
{
    if (st->touched) {
        return;
    }

    if (st->argc == TK_CMD_MAX_ARGS) {
        st->error = 1;
        return;
    }

    st->touched = 1;
    st->cur = 0;

    if (st->out) {
        st->out = tk_resp_header(st->out, '$', st->lens[st->argc]);
    }
}


static void
tk_fmt_emit(tk_fmt_state_t *st, const void *p, size_t n)
{
    tk_fmt_begin(st);

    if (st->error) {
        return;
    }

    if (st->out && n) {
        memcpy(st->out, p, n);
        st->out += n;
    }

    st->cur += n;
}


static void
tk_fmt_end(tk_fmt_state_t *st)
{
    if (!st->touched) {
        return;
    }

    if (st->out) {
        *st->out++ = '\r';
        *st->out++ = '\n';

    } else {
        st->lens[st->argc] = st->cur;
    }

    st->argc++;
    st->touched = 0;
}


void
tk_cmds_argv(tk_cmds_t *c, int argc, const tk_str_t *argv)
{
    unsigned char  *p;
    size_t          total, start;
    int             i;

    if (c->failed) {
        return;
    }

    if (argc <= 0) {
        c->failed = 1;
        return;
    }

    total = 1 + tk_digits((size_t) argc) + 2;
    for (i = 0; i < argc; i++) {
        total += 1 + tk_digits(argv[i].len) + 2 + argv[i].len + 2;
    }

    if (tk_cmds_reserve(c, total) != 0) {
        return;
    }

    start = c->len;
    p = tk_resp_header(c->buf + c->len, '*', (size_t) argc);

    for (i = 0; i < argc; i++) {
        p = tk_resp_header(p, '$', argv[i].len);

        if (argv[i].len) {
            memcpy(p, argv[i].data, argv[i].len);
            p += argv[i].len;
        }

        *p++ = '\r';
        *p++ = '\n';
    }

    c->len = (size_t) (p - c->buf);
    tk_cmds_commit(c, start);
}


void
tk_cmds_raw(tk_cmds_t *c, const void *resp, size_t len)
{
    size_t  start;

    if (tk_cmds_reserve(c, len) != 0) {
        return;
    }

    start = c->len;
    memcpy(c->buf + c->len, resp, len);
    c->len += len;
    tk_cmds_commit(c, start);
}


void
tk_cmds_multi(tk_cmds_t *c)
{
    tk_cmds_add(c, "MULTI");
}


void
tk_cmds_exec(tk_cmds_t *c)
{
    tk_cmds_add(c, "EXEC");
}


/* ---- arena -------------------------------------------------------------- */

void
tk_arena_init(tk_arena_t *a)
{
    a->head = NULL;
}


/*
 * Small requests are cut from the head block; a request larger than a
 * quarter block gets a block of its own, linked behind the head so the
 * head keeps serving small ones.
 */
void *
tk_arena_alloc(void *arena, size_t size)
{
    tk_arena_t        *a = arena;
    tk_arena_block_t  *b;
    size_t             hdr, bsize;

    hdr = (sizeof(tk_arena_block_t) + TK_ARENA_ALIGN - 1)
          & ~(size_t) (TK_ARENA_ALIGN - 1);
    size = (size + TK_ARENA_ALIGN - 1) & ~(size_t) (TK_ARENA_ALIGN - 1);

    if (size == 0) {
        size = TK_ARENA_ALIGN;
    }

    b = a->head;

    if (b && b->size - b->used >= size) {
        b->used += size;
        return (unsigned char *) b + hdr + b->used - size;
    }

    bsize = size > TK_ARENA_BLOCK / 4 ? size : TK_ARENA_BLOCK;

    b = malloc(hdr + bsize);
    if (b == NULL) {
        return NULL;
    }

    b->size = bsize;
    b->used = size;

    if (bsize == size && a->head) {
        b->next = a->head->next;
        a->head->next = b;

    } else {
        b->next = a->head;
        a->head = b;
    }

    return (unsigned char *) b + hdr;
}


void
tk_arena_reset(tk_arena_t *a)
{
    tk_arena_block_t  *b, *next;

    for (b = a->head; b; b = next) {
        next = b->next;
        free(b);
    }

    a->head = NULL;
}
