/*
 * fuzz_cmd.c -- libFuzzer target: the RESP command builder
 * (redis-schema/support/tk_cmd.c).  The input is cut into up to eight
 * arbitrary byte strings (separator 0xff 0x00); they become %S and %b
 * arguments of one command, some glued to literal text ("k:%S:x").
 * Property: hiredis's own reply reader, fed the RESP bytes, yields one
 * array whose elements are exactly the intended argv -- so a value with
 * spaces, CR/LF, NUL or "*3\r\n" can never split into or inject a
 * second command or argument.  Also tk_cmds_argv() and MULTI/EXEC.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "tk_cmd.h"

#define MAXARG 8

#define CHECK(cond, what)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "property violated: %s\n", what);              \
            abort();                                                        \
        }                                                                   \
    } while (0)

typedef struct {
    const unsigned char *p;
    size_t               n;
} arg_t;


/* every command of the list read back by hiredis; returns the count */
static size_t
read_back(tk_cmds_t *c, redisReply **replies, size_t max)
{
    redisReader  *rd;
    void         *rep;
    size_t        n = 0;

    rd = redisReaderCreate();
    CHECK(redisReaderFeed(rd, (const char *) c->buf, c->len) == REDIS_OK,
          "reader feed");

    for ( ;; ) {
        rep = NULL;
        CHECK(redisReaderGetReply(rd, &rep) == REDIS_OK, "RESP not parseable");
        if (rep == NULL) {
            break;
        }
        CHECK(n < max, "more commands than were added");
        replies[n++] = rep;
    }

    CHECK(rd->pos == rd->len, "bytes left over after the last command");
    redisReaderFree(rd);
    return n;
}


static void
expect_arg(redisReply *r, size_t i, const void *p, size_t n, const char *what)
{
    CHECK(r->type == REDIS_REPLY_ARRAY, "command is not an array");
    CHECK(i < r->elements, what);
    CHECK(r->element[i]->type == REDIS_REPLY_STRING, "argument not a bulk");
    CHECK(r->element[i]->len == n && memcmp(r->element[i]->str, p, n) == 0,
          what);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tk_arena_t      arena;
    tk_cmds_t       c;
    arg_t           a[MAXARG];
    tk_str_t        s[MAXARG], argv[MAXARG + 1];
    redisReply     *rep[5];
    unsigned char  *glued;
    size_t          na = 0, i, start = 0, nrep;

    for (i = 0; i + 1 < size && na < MAXARG - 1; i++) {
        if (data[i] == 0xff && data[i + 1] == 0x00) {
            a[na].p = data + start;
            a[na++].n = i - start;
            start = i + 2;
            i++;
        }
    }
    a[na].p = data + start;
    a[na++].n = size - start;

    while (na < 3) {
        a[na].p = (const unsigned char *) "";
        a[na++].n = 0;
    }

    for (i = 0; i < na; i++) {
        s[i].data = (unsigned char *) a[i].p;
        s[i].len = a[i].n;
    }

    tk_arena_init(&arena);
    tk_cmds_init(&c, tk_arena_alloc, &arena);

    tk_cmds_multi(&c);
    /* 1: plain %S arguments and a %b one */
    tk_cmds_add(&c, "HSET %S %S %b", &s[0], &s[1], a[2].p, a[2].n);
    /* 2: arguments glued to literal text, numbers mixed in */
    tk_cmds_add(&c, "ZADD k:{%S}:x %lld m%S%%", &s[1], (long long) size, &s[0]);
    tk_cmds_exec(&c);
    /* 3: an argument vector */
    argv[0].data = (unsigned char *) "RPUSH";
    argv[0].len = 5;
    for (i = 0; i < na; i++) {
        argv[i + 1] = s[i];
    }
    tk_cmds_argv(&c, (int) na + 1, argv);

    CHECK(!c.failed, "list failed");
    CHECK(c.n == 5, "command count");

    nrep = read_back(&c, rep, 5);
    CHECK(nrep == 5, "RESP commands read back");

    expect_arg(rep[0], 0, "MULTI", 5, "MULTI");
    CHECK(rep[0]->elements == 1, "MULTI has arguments");

    expect_arg(rep[1], 0, "HSET", 4, "HSET");
    expect_arg(rep[1], 1, a[0].p, a[0].n, "%S argument 1");
    expect_arg(rep[1], 2, a[1].p, a[1].n, "%S argument 2");
    expect_arg(rep[1], 3, a[2].p, a[2].n, "%b argument");
    CHECK(rep[1]->elements == 4, "HSET argument count");

    glued = malloc(a[0].n + a[1].n + 32);
    memcpy(glued, "k:{", 3);
    memcpy(glued + 3, a[1].p, a[1].n);
    memcpy(glued + 3 + a[1].n, "}:x", 3);
    expect_arg(rep[2], 1, glued, a[1].n + 6, "glued argument");
    {
        char num[32];
        int  k = snprintf(num, sizeof(num), "%lld", (long long) size);
        expect_arg(rep[2], 2, num, (size_t) k, "%lld argument");
    }
    glued[0] = 'm';
    memcpy(glued + 1, a[0].p, a[0].n);
    glued[1 + a[0].n] = '%';
    expect_arg(rep[2], 3, glued, a[0].n + 2, "m%S%% argument");
    CHECK(rep[2]->elements == 4, "ZADD argument count");
    free(glued);

    expect_arg(rep[3], 0, "EXEC", 4, "EXEC");

    /* the fifth, also alone (tk_cmds_get gives its exact bytes) */
    expect_arg(rep[4], 0, "RPUSH", 5, "RPUSH");
    for (i = 0; i < na; i++) {
        expect_arg(rep[4], i + 1, a[i].p, a[i].n, "argv argument");
    }
    CHECK(rep[4]->elements == na + 1, "argv count");
    {
        tk_str_t     last = tk_cmds_get(&c, 4);
        redisReader *rd = redisReaderCreate();
        void        *r = NULL;

        redisReaderFeed(rd, (const char *) last.data, last.len);
        CHECK(redisReaderGetReply(rd, &r) == REDIS_OK && r, "tk_cmds_get");
        CHECK(rd->pos == rd->len, "tk_cmds_get: bytes left over");
        freeReplyObject(r);
        redisReaderFree(rd);
    }

    for (i = 0; i < 5; i++) {
        freeReplyObject(rep[i]);
    }

    tk_arena_reset(&arena);
    return 0;
}
