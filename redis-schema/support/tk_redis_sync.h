/*
 * tk_redis_sync.h -- a blocking Redis connection (hiredis) for ticketctl
 * and mailbridge: connect from an address string, run a tk_cmds_t
 * pipelined, optimistic WATCH/MULTI/EXEC transactions with retry.  Not
 * for the nginx module, which talks to Redis asynchronously on its event
 * loop.  Knows no key: the schema version check every program does at
 * start is tk_schema_sync.h.
 */

#ifndef TK_REDIS_SYNC_H
#define TK_REDIS_SYNC_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "tk_cmd.h"

/* results; r->err says what went wrong */
#define TK_REDIS_OK         0
#define TK_REDIS_ERROR     -1   /* connection / protocol / memory: retry later */
#define TK_REDIS_EREPLY    -2   /* Redis answered with an error reply          */
#define TK_REDIS_CONFLICT  -3   /* WATCHed key changed on every attempt        */
#define TK_REDIS_NOSCHEMA  -4   /* schema version absent (tk_schema_sync.h)    */
#define TK_REDIS_BADSCHEMA -5   /* schema version differs (tk_schema_sync.h)   */
#define TK_REDIS_ABORT      1   /* the transaction callback chose not to write */

typedef struct {
    redisContext  *ctx;
    char           addr[256];     /* as given: "unix:/p" or "host:port" */
    char           err[512];      /* last error, for the user           */
    int            wait_replicas; /* WAIT after every EXEC (0: none)    */
    int            wait_ms;
} tk_redis_t;

/*
 * addr is "unix:/path/redis.sock", "/path/redis.sock", "host:port",
 * "[v6addr]:port", or "sentinel://host:port,host:port,.../NAME": then
 * the Sentinels are asked in turn for the primary of NAME, and a server
 * that is not a primary (ROLE) is refused -- nothing is ever written to
 * a replica.  timeout_ms bounds the connect and every command (0: none).
 * Returns TK_REDIS_OK or TK_REDIS_ERROR with r->err like "Redis at
 * unix:/x.sock: No such file or directory".
 *
 * A READONLY reply (the primary became a replica under us) closes the
 * connection and fails the call with TK_REDIS_ERROR, as a lost link does:
 * the caller reconnects, which asks Sentinel again.
 */
#define TK_SENTINEL_PREFIX  "sentinel://"

int tk_redis_connect(tk_redis_t *r, const char *addr, int timeout_ms);

/*
 * For every later connect of this process: after each pipeline that ends
 * in EXEC, "WAIT replicas ms" in the same round trip, and TK_REDIS_ERROR
 * ("committed on the primary, but only N replicas confirmed it") when
 * fewer confirm -- the caller does not acknowledge the mail then, and its
 * retry is idempotent.  replicas 0: off (the default).
 */
void tk_redis_wait_default(int replicas, int ms);

/* The two ways tk_redis_connect goes (tk_redis_sync.c, tk_redis_sentinel.c);
 * r is set up by tk_redis_connect. */
int tk_redis_connect_addr(tk_redis_t *r, const char *addr, int timeout_ms);
int tk_redis_connect_sentinel(tk_redis_t *r, const char *addr,
    int timeout_ms);
void tk_redis_close(tk_redis_t *r);

/*
 * One command, hiredis format ("GET %s", "HSET %b ..."); NULL on a
 * connection error (r->err set).  An error reply is returned as such.
 * Free with freeReplyObject().
 */
redisReply *tk_redis_command(tk_redis_t *r, const char *fmt, ...);

/*
 * Every command of cmds, pipelined: all are written, then every reply
 * read.  *replies (if not NULL) receives a malloc'd array of cmds->n
 * replies, freed by tk_redis_replies_free().  With replies == NULL any
 * error reply -- also one inside an EXEC result -- fails the call with
 * TK_REDIS_EREPLY and r->err = "command 3 (FT.ADD): ERR ...".
 */
int tk_redis_pipeline(tk_redis_t *r, const tk_cmds_t *cmds,
    redisReply ***replies);
void tk_redis_replies_free(redisReply **replies, size_t n);

/*
 * The same, handing each reply to cb(data, index, reply) as it comes;
 * the reply is freed after cb returns.  cb returns 0, or -1 to make the
 * call return TK_REDIS_EREPLY (the remaining replies are still read so
 * the connection stays usable).
 */
typedef int (*tk_redis_reply_pt)(void *data, size_t i, redisReply *reply);

int tk_redis_pipeline_cb(tk_redis_t *r, const tk_cmds_t *cmds,
    tk_redis_reply_pt cb, void *data);

/*
 * Optimistic transaction:  WATCH keys; run reads; decide(data, reads,
 * nreads, writes) adds the write commands (without MULTI/EXEC) and
 * returns 0 to commit, TK_REDIS_ABORT to stop without writing, or
 * TK_REDIS_ERROR/TK_REDIS_EREPLY (with r->err set by the callback
 * through tk_redis_set_error).  The writes are sent as MULTI ... EXEC;
 * when EXEC answers nil (a watched key changed) everything runs again,
 * at most 'attempts' times.  writes has the actor and source of reads
 * (tk_cmds_actor, tk_feed.h).  On success *exec (if not NULL) holds the
 * EXEC reply (free with freeReplyObject).  writes memory comes from an
 * arena that lives for one attempt.
 */
typedef int (*tk_redis_tx_pt)(void *data, redisReply **reads, size_t nreads,
    tk_cmds_t *writes);

int tk_redis_tx(tk_redis_t *r, const char *const *keys, size_t nkeys,
    const tk_cmds_t *reads, tk_redis_tx_pt decide, void *data, int attempts,
    redisReply **exec);

/* printf into r->err (for callbacks and callers). */
void tk_redis_set_error(tk_redis_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* TK_REDIS_SYNC_H */
