/*
 * ngx_http_ticket_redis.h -- the Redis layer's insides, shared by its
 * files and by nothing else (views use ngx_http_ticket.h).  Its layers,
 * each using only those below it (ngx_http_ticket_worker.c wires the
 * hooks through which a lower one reaches up):
 *   ngx_http_ticket_worker.c    worker start/stop
 *   ngx_http_ticket_tx.c        the pool of WATCH connections
 *   ngx_http_ticket_batch.c     batches in flight
 *   ngx_http_ticket_redis.c     connections, connect state machine,
 *                               the hiredis adapter
 *   ngx_http_ticket_reader.c    replies built in the pool
 *   ngx_http_ticket_endpoint.c  the address (ngx_http_ticket_endpoint.h)
 * The structs are declared here, below all of them.
 */

#ifndef NGX_HTTP_TICKET_REDIS_H
#define NGX_HTTP_TICKET_REDIS_H

#include "ngx_http_ticket.h"
#include "ngx_http_ticket_endpoint.h"

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


#define NGX_HTTP_TICKET_SLOTS_GROW       64
#define NGX_HTTP_TICKET_SCRATCH_SIZE     1024
#define NGX_HTTP_TICKET_READER_MAXBUF    (64 * 1024)


/*
 * The connect state machine of the shared connection (ngx_http_ticket_
 * redis.c): each state waits for the reply to its one command, the reply
 * decides the next state.  A failure anywhere drops the link: the next
 * address of the endpoint, then backoff.  Transaction connections
 * pipeline AUTH and ROLE in front of their first batch and are READY at
 * once (the shared connection has checked the schema).
 */
typedef enum {
    NGX_HTTP_TICKET_DOWN = 0,          /* no connection; timer: reconnect */
    NGX_HTTP_TICKET_CONNECTING,        /* socket opened, nothing sent   */
    NGX_HTTP_TICKET_AUTH,              /* waiting for AUTH (a password) */
    NGX_HTTP_TICKET_ROLE,              /* waiting for ROLE: a master?   */
    NGX_HTTP_TICKET_SCHEMA,            /* waiting for GET tk:schema     */
    NGX_HTTP_TICKET_BAD_SCHEMA,        /* connected, wrong schema; timer:
                                          ask again                     */
    NGX_HTTP_TICKET_SENTINEL,          /* asking a Sentinel for the
                                          primary's address             */
    NGX_HTTP_TICKET_SUBSCRIBED,        /* w->sub: SUBSCRIBE sent to a
                                          Sentinel                      */
    NGX_HTTP_TICKET_READY
} ngx_http_ticket_conn_state_e;


typedef enum {
    NGX_HTTP_TICKET_BATCH = 0,
    NGX_HTTP_TICKET_TX_BEGIN,          /* WATCH + reads                 */
    NGX_HTTP_TICKET_TX_COMMIT          /* MULTI + writes + EXEC         */
} ngx_http_ticket_batch_kind_e;


typedef struct ngx_http_ticket_conn_s    ngx_http_ticket_conn_t;
typedef struct ngx_http_ticket_slot_s    ngx_http_ticket_slot_t;
typedef struct ngx_http_ticket_rstate_s  ngx_http_ticket_rstate_t;


/*
 * The reply hiredis is reading on a connection (ngx_http_ticket_batch.c):
 * its reader's privdata, and the root object hiredis holds, hands to the
 * callback and frees.  It lives in the connection, in worker memory, so
 * hiredis never holds a pointer into a request pool, not even while a
 * request dies with its reply half read.
 */
typedef struct {
    ngx_http_ticket_reply_t        reply;          /* first: the root of a
                                                      scratch reply (hiredis
                                                      reads an unexpected
                                                      error through it) */
    ngx_http_ticket_reply_t       *root;           /* NULL: discarded */
    ngx_pool_t                    *pool;           /* where it is built */
    ngx_http_ticket_slot_t        *slot;           /* NULL: not a request's */
    ngx_uint_t                     generation;     /* of slot */
    redisCallbackFn               *batch_fn;       /* a callback whose
                                                      privdata is a slot */
    redisAsyncContext             *ac;
    ngx_pool_t                    *scratch;        /* replies no request
                                                      keeps, one at a time */
    unsigned                       scratch_used:1;
} ngx_http_ticket_parse_t;


/* tx: give a transaction connection back (UNWATCH first when asked). */
typedef void (*ngx_http_ticket_conn_release_pt)(ngx_http_ticket_conn_t *conn,
    ngx_flag_t unwatch);


/* A Redis connection: the shared one (id 0) or a transaction one. */
struct ngx_http_ticket_conn_s {
    redisAsyncContext             *ac;
    ngx_connection_t              *connection;     /* wraps ac->c.fd */
    ngx_event_t                    timer;          /* connect timeout,
                                                      reconnect, recheck */
    ngx_msec_t                     backoff;
    ngx_uint_t                     state;
    ngx_uint_t                     epoch;          /* +1 per lost link */
    ngx_uint_t                     id;
    ngx_uint_t                     tried;          /* addresses failed
                                                      since the last
                                                      ready link */
    ngx_uint_t                     ep_generation;  /* of the endpoint's
                                                      address it uses */
    unsigned                       dying:1;        /* being freed by us */
    unsigned                       held:1;         /* tx: in use */
    unsigned                       logged_down:1;
    unsigned                       logged_schema:1;
    unsigned                       logged_role:1;
    unsigned                       was_ready:1;    /* ready once: a later
                                                      ready is a relink */
    unsigned                       auth_pending:1; /* tx: AUTH reply next */
    unsigned                       subscriber:1;   /* w->sub */
    unsigned                       subscribed:1;   /* SUBSCRIBE confirmed */
    unsigned                       resolved_now:1; /* a Sentinel just named
                                                      the primary: go there */
    unsigned                       writing:1;      /* in hiredis's write */
    ngx_str_t                     *peer;           /* address of the link,
                                                      for the log */
    ngx_http_ticket_rstate_t      *owner;          /* tx: its request */
    ngx_http_ticket_slot_t        *slot;           /* tx: batch in flight */
    ngx_http_ticket_conn_release_pt  release;      /* tx: back to the pool */
    ngx_http_ticket_parse_t        parse;
};


/* One batch in flight; privdata of its hiredis callbacks. */
struct ngx_http_ticket_slot_s {
    ngx_http_ticket_slot_t        *next;           /* free list */
    ngx_uint_t                     generation;
    ngx_http_ticket_conn_t        *conn;
    ngx_http_request_t            *request;        /* NULL once orphaned */
    ngx_http_ticket_ctx_t         *ctx;
    ngx_http_ticket_step_pt        step;
    ngx_http_ticket_reply_t       *replies;        /* in the request pool */
    ngx_uint_t                     nreplies;       /* kept for the step */
    ngx_uint_t                     wait;           /* 1: WAIT's reply last
                                                      (ticket_redis_wait) */
    ngx_uint_t                     skip;           /* leading ones not */
    ngx_uint_t                     sent;
    ngx_uint_t                     received;
    ngx_uint_t                     kind;
    ngx_uint_t                     status;         /* 0 or error status */
    unsigned                       orphaned:1;
    ngx_event_t                    timer;          /* ticket_redis_timeout */
    ngx_event_t                    post;           /* finish without I/O */
};


/* What a request has to do with Redis (ctx->pending), in its pool. */
struct ngx_http_ticket_rstate_s {
    ngx_http_request_t            *request;
    ngx_http_ticket_ctx_t         *ctx;
    ngx_http_ticket_slot_t        *slot;
    ngx_uint_t                     generation;     /* of slot */
    ngx_http_ticket_conn_t        *tx;
    ngx_uint_t                     tx_epoch;

    /* waiting for a free transaction connection */
    ngx_queue_t                    queue;
    unsigned                       waiting:1;
    ngx_event_t                    wait_timer;
    tk_cmds_t                     *wait_cmds[2];
    ngx_http_ticket_step_pt        wait_step;
};


typedef struct {
    ngx_log_t                     *log;
    ngx_pool_t                    *pool;           /* the cycle's */
    ngx_http_ticket_main_conf_t   *mcf;
    ngx_http_ticket_conn_t         main;
    ngx_http_ticket_conn_t         sub;            /* ticket_redis_sentinel:
                                                      +switch-master */
    ngx_http_ticket_conn_t        *tx;
    ngx_uint_t                     ntx;
    ngx_http_ticket_slot_t        *free;
    ngx_queue_t                    waiters;
    ngx_event_t                    dispatch;       /* serve waiters */
    unsigned                       exiting:1;
} ngx_http_ticket_worker_t;


/* The worker's Redis state; NULL outside workers and while exiting. */
extern ngx_http_ticket_worker_t  *ngx_http_ticket_worker;


/* ngx_http_ticket_reader.c: replies built where they are used */
void ngx_http_ticket_reader_init(ngx_http_ticket_conn_t *conn,
    redisAsyncContext *ac);
void ngx_http_ticket_reader_done(ngx_http_ticket_conn_t *conn);
ngx_http_ticket_reply_t *ngx_http_ticket_reader_reply(void *reply);

/* ngx_http_ticket_redis.c: connections */
void ngx_http_ticket_conn_init(ngx_http_ticket_worker_t *w,
    ngx_http_ticket_conn_t *conn, ngx_uint_t id);
void ngx_http_ticket_conn_connect(ngx_http_ticket_conn_t *conn);
ngx_flag_t ngx_http_ticket_conn_usable(ngx_http_ticket_conn_t *conn);
void ngx_http_ticket_conn_kill(ngx_http_ticket_conn_t *conn);

/* ngx_http_ticket_batch.c: slots and batches */
ngx_int_t ngx_http_ticket_slots_grow(ngx_http_ticket_worker_t *w,
    ngx_uint_t n);
ngx_http_ticket_rstate_t *ngx_http_ticket_rstate(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
ngx_int_t ngx_http_ticket_batch(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_conn_t *conn,
    tk_cmds_t **lists, ngx_uint_t nlists, ngx_uint_t kind,
    ngx_http_ticket_step_pt step, ngx_flag_t take_ref);
/* the callback of every batch command (conn->parse.batch_fn) */
void ngx_http_ticket_reply_handler(redisAsyncContext *ac, void *reply,
    void *privdata);

/* ngx_http_ticket_tx.c: transaction connections */
void ngx_http_ticket_tx_release(ngx_http_ticket_conn_t *conn,
    ngx_flag_t unwatch);
void ngx_http_ticket_tx_dispatch(ngx_event_t *ev);


/* ---- between ngx_http_ticket_redis.c and ngx_http_ticket_sentinel.c ---- */

#define NGX_HTTP_TICKET_BACKOFF_MIN      100      /* ms, doubling to: */
#define NGX_HTTP_TICKET_BACKOFF_MAX      5000

/* No wait while fewer than n places failed in a row, then the backoff
 * (doubling); n 0: the backoff. */
ngx_msec_t ngx_http_ticket_backoff(ngx_http_ticket_conn_t *conn,
    ngx_uint_t n);
/* (Re)arm the connection's timer (in DOWN it reconnects). */
void ngx_http_ticket_conn_later(ngx_http_ticket_conn_t *conn,
    ngx_msec_t delay);
/* This server will not do: logged once per outage, the link dropped. */
void ngx_http_ticket_conn_refuse(ngx_http_ticket_conn_t *conn,
    const char *why, ngx_str_t *detail);
/* Sentinel: where the shared connection goes after a failure, a
 * Sentinel's answer, the subscriber's messages. */
void ngx_http_ticket_sentinel_retry(ngx_http_ticket_conn_t *conn,
    ngx_http_ticket_endpoint_t *ep);
ngx_int_t ngx_http_ticket_sentinel_reply(ngx_http_ticket_conn_t *conn,
    ngx_http_ticket_reply_t *rr);
void ngx_http_ticket_sub_handler(redisAsyncContext *ac, void *reply,
    void *privdata);

/* ngx_http_ticket_adapter.c: hiredis' hooks over nginx events */
void ngx_http_ticket_ev_read(ngx_event_t *ev);
void ngx_http_ticket_ev_write(ngx_event_t *ev);
void ngx_http_ticket_ev_add_read(void *data);
void ngx_http_ticket_ev_del_read(void *data);
void ngx_http_ticket_ev_add_write(void *data);
void ngx_http_ticket_ev_del_write(void *data);
void ngx_http_ticket_ev_cleanup(void *data);

#endif /* NGX_HTTP_TICKET_REDIS_H */
