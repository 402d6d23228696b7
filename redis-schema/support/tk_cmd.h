/*
 * tk_cmd.h -- a list of Redis commands built once and run by any program.
 *
 * Writes are described once (tk_ticket.h) as a list of RESP-encoded
 * commands; the nginx module sends the list through its async hiredis
 * connection, ticketctl and mailbridge through a blocking one.  So the
 * index maintenance of a ticket exists in exactly one place.
 *
 * Memory comes from the caller's allocator (nginx pool, or tk_arena_t in
 * the daemons); nothing is freed piecemeal.
 */

#ifndef TK_CMD_H
#define TK_CMD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "tk_str.h"

typedef void *(*tk_alloc_pt)(void *data, size_t size);

typedef struct {
    size_t         off;        /* start of the command in buf */
    size_t         len;        /* its RESP length             */
} tk_cmd_t;

typedef struct {
    unsigned char *buf;        /* RESP bytes of all commands  */
    size_t         len;
    size_t         cap;
    tk_cmd_t      *cmd;
    size_t         n;
    size_t         ncap;
    tk_alloc_pt    alloc;
    void          *alloc_data;
    int            failed;     /* allocation failed: do not send */
    /* who makes the change: set by tk_cmds_actor() (tk_feed.h), read by
     * the write path for the change feed tk:{ix}:feed */
    tk_str_t       actor;      /* login, sender address, "mailbridge" */
    int            src;        /* tk_src_e; 0: system                 */
    int            nofeed;     /* tk_cmds_nofeed(): bulk data, no feed */
    void          *feed;       /* entry being built (tk_feed.c)       */
    size_t         feed_end;   /* n right after that entry's XADD     */
} tk_cmds_t;

void tk_cmds_init(tk_cmds_t *c, tk_alloc_pt alloc, void *alloc_data);

/*
 * Append one command in hiredis style: the format is split on spaces into
 * arguments; inside an argument %s (C string), %b (pointer, size_t),
 * %S (const tk_str_t *), %d, %lld, %llu, %f (score) and %% expand
 * (also %i %u %ld %lu %zu, and %g like %f).  An expansion to "" still
 * makes an argument.  Any other conversion marks the list failed.
 * Example: tk_cmds_add(c, "HSET tk:{t:%llu} title %S", n, &title);
 */
void tk_cmds_add(tk_cmds_t *c, const char *fmt, ...);
void tk_cmds_vadd(tk_cmds_t *c, const char *fmt, va_list ap);

/* One command from an argument vector. */
void tk_cmds_argv(tk_cmds_t *c, int argc, const tk_str_t *argv);

/* One command already in RESP (e.g. taken from another list). */
void tk_cmds_raw(tk_cmds_t *c, const void *resp, size_t len);

/* Wrap everything added since 'from' (a command index) in MULTI/EXEC. */
void tk_cmds_multi(tk_cmds_t *c);          /* appends MULTI */
void tk_cmds_exec(tk_cmds_t *c);           /* appends EXEC  */

/* Command i as RESP bytes. */
static inline tk_str_t
tk_cmds_get(const tk_cmds_t *c, size_t i)
{
    tk_str_t s;

    s.data = c->buf + c->cmd[i].off;
    s.len = c->cmd[i].len;
    return s;
}

/* A simple bump allocator for programs without nginx pools. */
typedef struct tk_arena_block_s tk_arena_block_t;

typedef struct {
    tk_arena_block_t *head;
} tk_arena_t;

void  tk_arena_init(tk_arena_t *a);
void *tk_arena_alloc(void *arena, size_t size);   /* tk_alloc_pt; NULL on OOM */
void  tk_arena_reset(tk_arena_t *a);              /* frees every block */

#endif /* TK_CMD_H */
