/*
 * ngx_http_ticket_redis.c -- Redis for the module: one pipelined hiredis
 * connection per worker on nginx's event loop, a few more for WATCH
 * transactions, and batches of commands whose replies are copied into the
 * request pool before the request's next step runs.
 *
 * A request may die (client gone, HTTP/2 reset) while its replies are
 * still on the way.  So hiredis never holds a pointer into a request
 * pool: its privdata is a slot owned by the worker; a pool cleanup
 * orphans the slot, and late replies for it are dropped.
 */

#include "ngx_http_ticket.h"

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


#define NGX_HTTP_TICKET_BACKOFF_MIN      100
#define NGX_HTTP_TICKET_BACKOFF_MAX      5000
#define NGX_HTTP_TICKET_SCHEMA_RECHECK   5000
#define NGX_HTTP_TICKET_SLOTS_GROW       64


typedef enum {
    NGX_HTTP_TICKET_DOWN = 0,          /* no connection; timer: reconnect */
    NGX_HTTP_TICKET_CONNECTING,        /* waiting for GET tk:schema     */
    NGX_HTTP_TICKET_BAD_SCHEMA,        /* connected, wrong schema       */
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
    unsigned                       dying:1;        /* being freed by us */
    unsigned                       held:1;         /* tx: in use */
    unsigned                       logged_down:1;
    unsigned                       logged_schema:1;
    ngx_http_ticket_rstate_t      *owner;          /* tx: its request */
    ngx_http_ticket_slot_t        *slot;           /* tx: batch in flight */
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
    ngx_http_ticket_conn_t        *tx;
    ngx_uint_t                     ntx;
    ngx_http_ticket_slot_t        *free;
    ngx_queue_t                    waiters;
    ngx_event_t                    dispatch;       /* serve waiters */
    unsigned                       exiting:1;
} ngx_http_ticket_worker_t;


static ngx_int_t ngx_http_ticket_slots_grow(ngx_http_ticket_worker_t *w,
    ngx_uint_t n);
static ngx_http_ticket_slot_t *ngx_http_ticket_slot_get(void);
static void ngx_http_ticket_slot_put(ngx_http_ticket_slot_t *slot);
static ngx_http_ticket_rstate_t *ngx_http_ticket_rstate(
    ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_rstate_cleanup(void *data);

static ngx_int_t ngx_http_ticket_batch(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_conn_t *conn,
    tk_cmds_t **lists, ngx_uint_t nlists, ngx_uint_t kind,
    ngx_http_ticket_step_pt step, ngx_flag_t take_ref);
static void ngx_http_ticket_reply_handler(redisAsyncContext *ac, void *reply,
    void *privdata);
static void ngx_http_ticket_slot_done(ngx_http_ticket_slot_t *slot);
static void ngx_http_ticket_slot_posted(ngx_event_t *ev);
static void ngx_http_ticket_slot_timeout(ngx_event_t *ev);
static ngx_int_t ngx_http_ticket_redis_failed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status);
static ngx_int_t ngx_http_ticket_reply_copy(ngx_pool_t *pool,
    ngx_http_ticket_reply_t *dst, redisReply *src);

static ngx_int_t ngx_http_ticket_tx_start(ngx_http_request_t *r,
    ngx_http_ticket_rstate_t *rs, ngx_http_ticket_conn_t *conn,
    tk_cmds_t **lists, ngx_http_ticket_step_pt step, ngx_flag_t take_ref);
static ngx_http_ticket_conn_t *ngx_http_ticket_tx_acquire(void);
static void ngx_http_ticket_tx_release(ngx_http_ticket_conn_t *conn,
    ngx_flag_t unwatch);
static void ngx_http_ticket_tx_dispatch(ngx_event_t *ev);
static void ngx_http_ticket_tx_wait_timeout(ngx_event_t *ev);

static void ngx_http_ticket_conn_init(ngx_http_ticket_worker_t *w,
    ngx_http_ticket_conn_t *conn, ngx_uint_t id);
static void ngx_http_ticket_conn_connect(ngx_http_ticket_conn_t *conn);
static ngx_flag_t ngx_http_ticket_conn_usable(ngx_http_ticket_conn_t *conn);
static void ngx_http_ticket_conn_retry(ngx_http_ticket_conn_t *conn);
static void ngx_http_ticket_conn_kill(ngx_http_ticket_conn_t *conn);
static void ngx_http_ticket_conn_lost(ngx_http_ticket_conn_t *conn,
    const redisAsyncContext *ac);
static void ngx_http_ticket_conn_log_down(ngx_http_ticket_conn_t *conn,
    const char *err);
static void ngx_http_ticket_conn_timer(ngx_event_t *ev);
static void ngx_http_ticket_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_ticket_on_disconnect(const redisAsyncContext *ac,
    int status);
static void ngx_http_ticket_schema_handler(redisAsyncContext *ac,
    void *reply, void *privdata);

static void ngx_http_ticket_ev_read(ngx_event_t *ev);
static void ngx_http_ticket_ev_write(ngx_event_t *ev);
static void ngx_http_ticket_ev_add_read(void *data);
static void ngx_http_ticket_ev_del_read(void *data);
static void ngx_http_ticket_ev_add_write(void *data);
static void ngx_http_ticket_ev_del_write(void *data);
static void ngx_http_ticket_ev_cleanup(void *data);

static void *ngx_http_ticket_pool_alloc(void *data, size_t size);


static ngx_http_ticket_worker_t  *ngx_http_ticket_worker;


/* ---- worker start and stop ---------------------------------------------- */

ngx_int_t
ngx_http_ticket_redis_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                    i, n;
    ngx_http_ticket_worker_t     *w;
    ngx_http_ticket_main_conf_t  *mcf;

    ngx_http_ticket_worker = NULL;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_ticket_module);

    if (mcf == NULL || !mcf->used) {
        return NGX_OK;
    }

    w = ngx_pcalloc(cycle->pool, sizeof(ngx_http_ticket_worker_t));
    if (w == NULL) {
        return NGX_ERROR;
    }

    w->log = cycle->log;
    w->pool = cycle->pool;
    w->mcf = mcf;
    w->ntx = mcf->tx_connections;

    w->tx = ngx_pcalloc(cycle->pool, w->ntx * sizeof(ngx_http_ticket_conn_t));
    if (w->tx == NULL) {
        return NGX_ERROR;
    }

    ngx_http_ticket_conn_init(w, &w->main, 0);

    for (i = 0; i < w->ntx; i++) {
        ngx_http_ticket_conn_init(w, &w->tx[i], i + 1);
    }

    ngx_queue_init(&w->waiters);

    w->dispatch.handler = ngx_http_ticket_tx_dispatch;
    w->dispatch.data = w;
    w->dispatch.log = cycle->log;

    /* at most one batch per request in flight: one slot per connection,
     * more only while replies of dead requests are still on the way */
    n = ngx_max(cycle->connection_n, NGX_HTTP_TICKET_SLOTS_GROW);

    if (ngx_http_ticket_slots_grow(w, n) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_ticket_worker = w;

    ngx_http_ticket_conn_connect(&w->main);

    return NGX_OK;
}


/*
 * Frees the hiredis contexts (pending callbacks run with NULL replies and
 * only recycle their slots now); the rest lives in the cycle pool.
 */
void
ngx_http_ticket_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                 i;
    ngx_http_ticket_worker_t  *w;

    w = ngx_http_ticket_worker;

    if (w == NULL) {
        return;
    }

    w->exiting = 1;

    if (w->dispatch.posted) {
        ngx_delete_posted_event(&w->dispatch);
    }

    ngx_http_ticket_conn_kill(&w->main);

    if (w->main.timer.timer_set) {
        ngx_del_timer(&w->main.timer);
    }

    for (i = 0; i < w->ntx; i++) {
        ngx_http_ticket_conn_kill(&w->tx[i]);
    }

    ngx_http_ticket_worker = NULL;
}


static void
ngx_http_ticket_conn_init(ngx_http_ticket_worker_t *w,
    ngx_http_ticket_conn_t *conn, ngx_uint_t id)
{
    conn->id = id;
    conn->backoff = NGX_HTTP_TICKET_BACKOFF_MIN;
    conn->state = NGX_HTTP_TICKET_DOWN;

    conn->timer.handler = ngx_http_ticket_conn_timer;
    conn->timer.data = conn;
    conn->timer.log = w->log;
    conn->timer.cancelable = 1;
}


/* ---- slots -------------------------------------------------------------- */

static ngx_int_t
ngx_http_ticket_slots_grow(ngx_http_ticket_worker_t *w, ngx_uint_t n)
{
    ngx_uint_t               i;
    ngx_http_ticket_slot_t  *slots;

    slots = ngx_pcalloc(w->pool, n * sizeof(ngx_http_ticket_slot_t));
    if (slots == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        slots[i].timer.handler = ngx_http_ticket_slot_timeout;
        slots[i].timer.data = &slots[i];
        slots[i].timer.log = w->log;
        slots[i].post.handler = ngx_http_ticket_slot_posted;
        slots[i].post.data = &slots[i];
        slots[i].post.log = w->log;

        slots[i].next = w->free;
        w->free = &slots[i];
    }

    return NGX_OK;
}


static ngx_http_ticket_slot_t *
ngx_http_ticket_slot_get(void)
{
    ngx_http_ticket_slot_t    *slot;
    ngx_http_ticket_worker_t  *w;

    w = ngx_http_ticket_worker;

    if (w->free == NULL
        && ngx_http_ticket_slots_grow(w, NGX_HTTP_TICKET_SLOTS_GROW) != NGX_OK)
    {
        return NULL;
    }

    slot = w->free;
    w->free = slot->next;
    slot->next = NULL;

    return slot;
}


static void
ngx_http_ticket_slot_put(ngx_http_ticket_slot_t *slot)
{
    ngx_http_ticket_worker_t  *w;

    w = ngx_http_ticket_worker;

    if (slot->timer.timer_set) {
        ngx_del_timer(&slot->timer);
    }

    if (slot->post.posted) {
        ngx_delete_posted_event(&slot->post);
    }

    slot->generation++;
    slot->conn = NULL;
    slot->request = NULL;
    slot->ctx = NULL;
    slot->step = NULL;
    slot->replies = NULL;
    slot->nreplies = 0;
    slot->skip = 0;
    slot->sent = 0;
    slot->received = 0;
    slot->kind = NGX_HTTP_TICKET_BATCH;
    slot->status = 0;
    slot->orphaned = 0;

    if (w) {
        slot->next = w->free;
        w->free = slot;
    }
}


static ngx_http_ticket_rstate_t *
ngx_http_ticket_rstate(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_ticket_rstate_t  *rs;

    if (ctx->pending) {
        return ctx->pending;
    }

    rs = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_rstate_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (rs == NULL || cln == NULL) {
        return NULL;
    }

    rs->request = r;
    rs->ctx = ctx;
    rs->wait_timer.handler = ngx_http_ticket_tx_wait_timeout;
    rs->wait_timer.data = rs;
    rs->wait_timer.log = r->connection->log;

    cln->handler = ngx_http_ticket_rstate_cleanup;
    cln->data = rs;

    ctx->pending = rs;

    return rs;
}


/*
 * The request pool is going away.  Its batch in flight (if any) becomes
 * an orphan: replies still arrive and are dropped, the slot is recycled
 * with the last one.  A transaction connection goes back (after UNWATCH)
 * now or, with a batch in flight, when that batch is in.
 */
static void
ngx_http_ticket_rstate_cleanup(void *data)
{
    ngx_http_ticket_rstate_t  *rs = data;

    ngx_http_ticket_conn_t  *conn;
    ngx_http_ticket_slot_t  *slot;

    if (rs->waiting) {
        ngx_queue_remove(&rs->queue);
        rs->waiting = 0;
    }

    if (rs->wait_timer.timer_set) {
        ngx_del_timer(&rs->wait_timer);
    }

    if (ngx_http_ticket_worker == NULL) {
        return;
    }

    slot = rs->slot;
    rs->slot = NULL;

    if (slot && slot->generation == rs->generation
        && slot->request == rs->request)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, rs->request->connection->log, 0,
                       "ticket: request gone, %ui redis replies orphaned",
                       slot->sent - slot->received);

        slot->orphaned = 1;
        slot->request = NULL;
        slot->ctx = NULL;
        slot->replies = NULL;

        if (slot->received == slot->sent) {
            /* nothing on the wire: only a posted finish was pending */
            ngx_http_ticket_slot_done(slot);
        }
    }

    conn = rs->tx;
    rs->tx = NULL;

    if (conn && conn->owner == rs) {
        conn->owner = NULL;

        if (conn->slot == NULL) {
            ngx_http_ticket_tx_release(conn, 1);
        }
    }
}


/* ---- batches ------------------------------------------------------------ */

tk_cmds_t *
ngx_http_ticket_cmds(ngx_http_request_t *r)
{
    tk_cmds_t  *cmds;

    cmds = ngx_palloc(r->pool, sizeof(tk_cmds_t));
    if (cmds == NULL) {
        return NULL;
    }

    tk_cmds_init(cmds, ngx_http_ticket_pool_alloc, r->pool);

    return cmds;
}


static void *
ngx_http_ticket_pool_alloc(void *data, size_t size)
{
    return ngx_palloc(data, size);
}


ngx_int_t
ngx_http_ticket_redis_send(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    tk_cmds_t *cmds, ngx_http_ticket_step_pt step)
{
    ngx_http_ticket_worker_t  *w;

    w = ngx_http_ticket_worker;

    return ngx_http_ticket_batch(r, ctx, w ? &w->main : NULL, &cmds, 1,
                                 NGX_HTTP_TICKET_BATCH, step, 1);
}


/*
 * Send the commands of lists, pipelined, on conn and return NGX_DONE (the
 * request is referenced until the batch finishes).  A batch that cannot
 * be sent finishes through a posted event, so callers see the same
 * NGX_DONE and the 503 page comes from one place.
 */
static ngx_int_t
ngx_http_ticket_batch(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_conn_t *conn, tk_cmds_t **lists, ngx_uint_t nlists,
    ngx_uint_t kind, ngx_http_ticket_step_pt step, ngx_flag_t take_ref)
{
    u_char                    *last;
    size_t                     i;
    tk_str_t                   cmd;
    ngx_uint_t                 l, total, skip, status;
    ngx_http_ticket_slot_t    *slot;
    ngx_http_ticket_rstate_t  *rs;
    ngx_http_ticket_worker_t  *w;

    w = ngx_http_ticket_worker;

    if (w == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: redis is not set up in this process");
        return ngx_http_ticket_redis_failed(r, ctx,
                                            NGX_HTTP_SERVICE_UNAVAILABLE);
    }

    rs = ngx_http_ticket_rstate(r, ctx);
    if (rs == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    slot = ngx_http_ticket_slot_get();
    if (slot == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    status = 0;
    total = 0;

    for (l = 0; l < nlists; l++) {
        total += lists[l]->n;

        if (lists[l]->failed) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "ticket: could not build redis commands");
            status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* a commit shows the step only EXEC's reply; a begin hides WATCH */
    skip = 0;

    if (kind == NGX_HTTP_TICKET_TX_COMMIT && total) {
        skip = total - 1;

    } else if (kind == NGX_HTTP_TICKET_TX_BEGIN && total) {
        skip = 1;
    }

    slot->conn = conn;
    slot->request = r;
    slot->ctx = ctx;
    slot->step = step;
    slot->kind = kind;
    slot->skip = skip;
    slot->nreplies = total - skip;

    if (slot->nreplies) {
        slot->replies = ngx_pcalloc(r->pool,
                             slot->nreplies * sizeof(ngx_http_ticket_reply_t));
        if (slot->replies == NULL) {
            status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (status == 0
        && (conn == NULL || !ngx_http_ticket_conn_usable(conn)))
    {
        status = NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    for (l = 0; status == 0 && l < nlists; l++) {
        for (i = 0; i < lists[l]->n; i++) {
            cmd = tk_cmds_get(lists[l], i);

            /*
             * hiredis peeks at the byte after a command's first argument
             * (looking for SUBSCRIBE arguments): for a one-word command at
             * the end of the buffer that byte must exist and be defined.
             */
            if (cmd.data + cmd.len == lists[l]->buf + lists[l]->len) {
                if (lists[l]->len < lists[l]->cap) {
                    cmd.data[cmd.len] = '\0';

                } else {
                    last = ngx_pnalloc(r->pool, cmd.len + 1);
                    if (last == NULL) {
                        status = NGX_HTTP_INTERNAL_SERVER_ERROR;
                        break;
                    }

                    ngx_memcpy(last, cmd.data, cmd.len);
                    last[cmd.len] = '\0';
                    cmd.data = last;
                }
            }

            if (redisAsyncFormattedCommand(conn->ac,
                                           ngx_http_ticket_reply_handler,
                                           slot, (char *) cmd.data, cmd.len)
                != REDIS_OK)
            {
                status = NGX_HTTP_SERVICE_UNAVAILABLE;
                break;
            }

            slot->sent++;
        }
    }

    slot->status = status;

    if (take_ref) {
        r->main->count++;
    }

    rs->slot = slot;
    rs->generation = slot->generation;
    ctx->next = step;

    if (slot->sent == 0) {
        ngx_post_event(&slot->post, &ngx_posted_events);

    } else {
        ngx_add_timer(&slot->timer, w->mcf->redis_timeout);

        if (conn->id) {
            conn->slot = slot;
        }
    }

    /* notice a client that goes away while Redis answers */
    if (r == r->main) {
        r->read_event_handler = ngx_http_test_reading;
    }

    return NGX_DONE;
}


static void
ngx_http_ticket_reply_handler(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_ticket_slot_t  *slot = privdata;

    ngx_uint_t   i;
    redisReply  *rr;

    rr = reply;
    i = slot->received++;

    if (rr == NULL) {
        if (slot->status == 0) {
            slot->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        }

    } else if (!slot->orphaned && slot->status == 0) {

        if (rr->type == REDIS_REPLY_ERROR && i < slot->skip) {
            ngx_log_error(NGX_LOG_ERR, slot->request->connection->log, 0,
                          "ticket: redis refused a command of a "
                          "transaction: %*s", (size_t) rr->len, rr->str);

            if (slot->kind == NGX_HTTP_TICKET_TX_BEGIN) {
                slot->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        if (i >= slot->skip && slot->status == 0
            && ngx_http_ticket_reply_copy(slot->request->pool,
                                          &slot->replies[i - slot->skip], rr)
               != NGX_OK)
        {
            slot->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (slot->received < slot->sent) {
        return;
    }

    ngx_http_ticket_slot_done(slot);
}


static void
ngx_http_ticket_slot_posted(ngx_event_t *ev)
{
    ngx_http_ticket_slot_done(ev->data);
}


/*
 * Redis did not answer in time: the connection counts as dead.  Freeing
 * it runs every pending callback with a NULL reply (each waiting request
 * gets its 503); the main connection then reconnects.
 */
static void
ngx_http_ticket_slot_timeout(ngx_event_t *ev)
{
    ngx_http_ticket_slot_t  *slot = ev->data;

    ngx_http_ticket_conn_t  *conn;

    conn = slot->conn;

    ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                  "ticket: redis did not answer within %M ms, reconnecting",
                  ngx_http_ticket_worker->mcf->redis_timeout);

    if (conn) {
        ngx_http_ticket_conn_kill(conn);
    }
}


/* Every reply of a batch is in (or it never went out): run the step. */
static void
ngx_http_ticket_slot_done(ngx_http_ticket_slot_t *slot)
{
    ngx_int_t                  rc;
    ngx_uint_t                 status, kind, n;
    ngx_connection_t          *c;
    ngx_http_request_t        *r;
    ngx_http_ticket_ctx_t     *ctx;
    ngx_http_ticket_conn_t    *conn;
    ngx_http_ticket_reply_t   *replies;
    ngx_http_ticket_step_pt    step;
    ngx_http_ticket_rstate_t  *rs;

    conn = slot->conn;
    kind = slot->kind;
    status = slot->status;

    if (conn && conn->slot == slot) {
        conn->slot = NULL;
    }

    if (slot->orphaned || ngx_http_ticket_worker == NULL
        || ngx_http_ticket_worker->exiting)
    {
        if (conn && conn->id && conn->held && conn->owner == NULL) {
            ngx_http_ticket_tx_release(conn,
                                       kind != NGX_HTTP_TICKET_TX_COMMIT);
        }

        ngx_http_ticket_slot_put(slot);
        return;
    }

    r = slot->request;
    ctx = slot->ctx;
    step = slot->step;
    replies = slot->replies;
    n = slot->nreplies;

    ngx_http_ticket_slot_put(slot);

    rs = ctx->pending;
    rs->slot = NULL;

    if (r == r->main) {
        r->read_event_handler = ngx_http_block_reading;
    }

    if (kind == NGX_HTTP_TICKET_TX_BEGIN && status) {
        if (conn && conn->owner == rs) {
            ngx_http_ticket_tx_release(conn, 1);
        }

    } else if (kind == NGX_HTTP_TICKET_TX_COMMIT) {
        if (conn && conn->owner == rs) {
            /* EXEC (or its failure) ended the WATCH */
            ngx_http_ticket_tx_release(conn, status != 0);
        }

        if (status == 0) {
            if (replies[0].type == REDIS_REPLY_NIL) {
                ctx->tx_conflict = 1;
                replies = NULL;
                n = 0;

            } else if (replies[0].type == REDIS_REPLY_ARRAY) {
                n = replies[0].nelem;
                replies = replies[0].element;

            } else {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "ticket: redis transaction failed: %V",
                              &replies[0].str);
                status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }

    c = r->connection;

    if (status) {
        rc = ngx_http_ticket_redis_failed(r, ctx, status);

    } else {
        ctx->replies = replies;
        ctx->nreplies = n;
        rc = step(r, ctx);
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_ticket_redis_failed(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_uint_t status)
{
    ngx_http_ticket_worker_t  *w;

    w = ngx_http_ticket_worker;

    if (status == NGX_HTTP_SERVICE_UNAVAILABLE && w
        && w->main.state == NGX_HTTP_TICKET_BAD_SCHEMA)
    {
        return ngx_http_ticket_error(r, ctx, status,
                   ngx_http_ticket_page_de(r, ctx)
                   ? "Die Datenbank passt nicht zu dieser Programmversion "
                     "(Schema-Version). Bitte den Administrator informieren."
                   : "The database does not match this version of the "
                     "program (schema version). Please tell the "
                     "administrator.");
    }

    return ngx_http_ticket_error(r, ctx, status, NULL);
}


/* A hiredis reply, deep-copied: hiredis frees its own after the callback. */
static ngx_int_t
ngx_http_ticket_reply_copy(ngx_pool_t *pool, ngx_http_ticket_reply_t *dst,
    redisReply *src)
{
    size_t  i;

    dst->type = src->type;
    dst->integer = src->integer;
    dst->nelem = 0;
    dst->element = NULL;
    ngx_str_set(&dst->str, "");

    switch (src->type) {

    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        dst->str.data = ngx_pnalloc(pool, src->len + 1);
        if (dst->str.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(dst->str.data, src->str, src->len);
        dst->str.data[src->len] = '\0';
        dst->str.len = src->len;
        break;

    case REDIS_REPLY_ARRAY:
        if (src->elements == 0) {
            break;
        }

        dst->element = ngx_palloc(pool,
                                src->elements * sizeof(ngx_http_ticket_reply_t));
        if (dst->element == NULL) {
            return NGX_ERROR;
        }

        dst->nelem = src->elements;

        for (i = 0; i < src->elements; i++) {
            if (ngx_http_ticket_reply_copy(pool, &dst->element[i],
                                           src->element[i])
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        break;

    default:
        break;
    }

    return NGX_OK;
}


/* ---- replies ------------------------------------------------------------ */

ngx_int_t
ngx_http_ticket_reply_is_error(ngx_http_ticket_reply_t *rep)
{
    return rep == NULL || rep->type == REDIS_REPLY_ERROR;
}


tk_str_t *
ngx_http_ticket_reply_pairs(ngx_http_request_t *r,
    ngx_http_ticket_reply_t *rep, size_t *npairs)
{
    size_t     i;
    tk_str_t  *pairs;

    *npairs = 0;

    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->nelem % 2) {
        return NULL;
    }

    pairs = ngx_palloc(r->pool, (rep->nelem + 1) * sizeof(tk_str_t));
    if (pairs == NULL) {
        return NULL;
    }

    for (i = 0; i < rep->nelem; i++) {
        pairs[i] = *ngx_ticket_str(&rep->element[i].str);
    }

    *npairs = rep->nelem / 2;

    return pairs;
}


ngx_str_t *
ngx_http_ticket_reply_field(ngx_http_ticket_reply_t *rep, const char *field)
{
    size_t  i, len;

    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
        return NULL;
    }

    len = ngx_strlen(field);

    for (i = 0; i + 1 < rep->nelem; i += 2) {
        if (rep->element[i].str.len == len
            && ngx_strncmp(rep->element[i].str.data, field, len) == 0)
        {
            return &rep->element[i + 1].str;
        }
    }

    return NULL;
}


/* ---- transactions ------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_tx_begin(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_str_t *watch_keys, ngx_uint_t nkeys, tk_cmds_t *reads,
    ngx_http_ticket_step_pt step)
{
    tk_str_t                  *argv;
    tk_cmds_t                 *watch, *lists[2];
    ngx_uint_t                 i;
    ngx_http_ticket_conn_t    *conn;
    ngx_http_ticket_worker_t  *w;
    ngx_http_ticket_rstate_t  *rs;

    w = ngx_http_ticket_worker;

    rs = ngx_http_ticket_rstate(r, ctx);
    watch = ngx_http_ticket_cmds(r);
    argv = ngx_palloc(r->pool, (nkeys + 1) * sizeof(tk_str_t));
    if (rs == NULL || watch == NULL || argv == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rs->tx) {
        ngx_http_ticket_tx_abort(r, ctx);
    }

    tk_str_set(&argv[0], "WATCH");

    for (i = 0; i < nkeys; i++) {
        argv[i + 1] = *ngx_ticket_str(&watch_keys[i]);
    }

    tk_cmds_argv(watch, (int) nkeys + 1, argv);

    lists[0] = watch;
    lists[1] = reads;

    if (w == NULL || w->main.state != NGX_HTTP_TICKET_READY) {
        return ngx_http_ticket_batch(r, ctx, NULL, lists, 2,
                                     NGX_HTTP_TICKET_BATCH, step, 1);
    }

    conn = ngx_http_ticket_tx_acquire();

    if (conn) {
        return ngx_http_ticket_tx_start(r, rs, conn, lists, step, 1);
    }

    /* every transaction connection is busy: wait for one, not forever */
    rs->wait_cmds[0] = watch;
    rs->wait_cmds[1] = reads;
    rs->wait_step = step;
    rs->waiting = 1;

    ngx_queue_insert_tail(&w->waiters, &rs->queue);
    ngx_add_timer(&rs->wait_timer, w->mcf->redis_timeout);

    r->main->count++;

    return NGX_DONE;
}


static ngx_int_t
ngx_http_ticket_tx_start(ngx_http_request_t *r, ngx_http_ticket_rstate_t *rs,
    ngx_http_ticket_conn_t *conn, tk_cmds_t **lists,
    ngx_http_ticket_step_pt step, ngx_flag_t take_ref)
{
    conn->held = 1;
    conn->owner = rs;

    if (conn->ac == NULL) {
        ngx_http_ticket_conn_connect(conn);
    }

    rs->tx = conn;
    rs->tx_epoch = conn->epoch;

    return ngx_http_ticket_batch(r, rs->ctx, conn, lists, 2,
                                 NGX_HTTP_TICKET_TX_BEGIN, step, take_ref);
}


ngx_int_t
ngx_http_ticket_tx_commit(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    tk_cmds_t *writes, ngx_http_ticket_step_pt step)
{
    tk_cmds_t                 *multi, *exec, *lists[3];
    ngx_http_ticket_conn_t    *conn;
    ngx_http_ticket_rstate_t  *rs;

    rs = ctx->pending;
    conn = rs ? rs->tx : NULL;

    ctx->tx_conflict = 0;

    if (conn == NULL || conn->owner != rs || conn->epoch != rs->tx_epoch
        || !ngx_http_ticket_conn_usable(conn))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: no transaction to commit (the redis "
                      "connection was lost or tx_begin was not called)");

        if (conn && conn->owner == rs) {
            ngx_http_ticket_tx_release(conn, 0);
        }

        return ngx_http_ticket_batch(r, ctx, NULL, &writes, 1,
                                     NGX_HTTP_TICKET_BATCH, step, 1);
    }

    multi = ngx_http_ticket_cmds(r);
    exec = ngx_http_ticket_cmds(r);
    if (multi == NULL || exec == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_multi(multi);
    tk_cmds_exec(exec);

    lists[0] = multi;
    lists[1] = writes;
    lists[2] = exec;

    return ngx_http_ticket_batch(r, ctx, conn, lists, 3,
                                 NGX_HTTP_TICKET_TX_COMMIT, step, 1);
}


void
ngx_http_ticket_tx_abort(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_conn_t    *conn;
    ngx_http_ticket_rstate_t  *rs;

    rs = ctx->pending;

    if (rs == NULL || rs->tx == NULL) {
        return;
    }

    conn = rs->tx;

    if (conn->owner != rs) {
        rs->tx = NULL;
        return;
    }

    if (conn->slot) {
        /* misuse: a batch is in flight; the pool cleanup releases it */
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "ticket: tx_abort() with a batch in flight");
        return;
    }

    ngx_http_ticket_tx_release(conn, conn->epoch == rs->tx_epoch);
}


/* A free transaction connection, preferably one that is up. */
static ngx_http_ticket_conn_t *
ngx_http_ticket_tx_acquire(void)
{
    ngx_uint_t                 i;
    ngx_http_ticket_conn_t    *conn, *idle;
    ngx_http_ticket_worker_t  *w;

    w = ngx_http_ticket_worker;
    idle = NULL;

    for (i = 0; i < w->ntx; i++) {
        conn = &w->tx[i];

        if (conn->held || conn->dying) {
            continue;
        }

        if (ngx_http_ticket_conn_usable(conn)) {
            return conn;
        }

        if (conn->ac == NULL && idle == NULL) {
            idle = conn;
        }
    }

    return idle;
}


static void
ngx_http_ticket_tx_release(ngx_http_ticket_conn_t *conn, ngx_flag_t unwatch)
{
    ngx_http_ticket_worker_t  *w;

    w = ngx_http_ticket_worker;

    if (conn->owner) {
        conn->owner->tx = NULL;
        conn->owner = NULL;
    }

    if (unwatch && ngx_http_ticket_conn_usable(conn)) {
        /* pipelined before the next user's WATCH; reply ignored */
        (void) redisAsyncCommand(conn->ac, NULL, NULL, "UNWATCH");
    }

    conn->held = 0;

    if (w && !w->exiting && !ngx_queue_empty(&w->waiters)
        && !w->dispatch.posted)
    {
        ngx_post_event(&w->dispatch, &ngx_posted_events);
    }
}


static void
ngx_http_ticket_tx_dispatch(ngx_event_t *ev)
{
    ngx_http_ticket_worker_t *w = ev->data;

    ngx_int_t                  rc;
    ngx_queue_t               *q;
    ngx_connection_t          *c;
    ngx_http_request_t        *r;
    ngx_http_ticket_conn_t    *conn;
    ngx_http_ticket_rstate_t  *rs;

    while (!ngx_queue_empty(&w->waiters)) {

        conn = ngx_http_ticket_tx_acquire();
        if (conn == NULL) {
            return;
        }

        q = ngx_queue_head(&w->waiters);
        ngx_queue_remove(q);

        rs = ngx_queue_data(q, ngx_http_ticket_rstate_t, queue);
        rs->waiting = 0;

        if (rs->wait_timer.timer_set) {
            ngx_del_timer(&rs->wait_timer);
        }

        r = rs->request;
        c = r->connection;

        /* the reference taken when it started waiting passes on */
        rc = ngx_http_ticket_tx_start(r, rs, conn, rs->wait_cmds,
                                      rs->wait_step, 0);

        if (rc != NGX_DONE) {
            ngx_http_finalize_request(r, rc);
            ngx_http_run_posted_requests(c);
        }
    }
}


static void
ngx_http_ticket_tx_wait_timeout(ngx_event_t *ev)
{
    ngx_http_ticket_rstate_t *rs = ev->data;

    ngx_int_t            rc;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    if (!rs->waiting) {
        return;
    }

    ngx_queue_remove(&rs->queue);
    rs->waiting = 0;

    r = rs->request;
    c = r->connection;

    ngx_log_error(NGX_LOG_ERR, c->log, 0,
                  "ticket: no redis transaction connection became free "
                  "within %M ms", ngx_http_ticket_worker->mcf->redis_timeout);

    rc = ngx_http_ticket_error(r, rs->ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                               NULL);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/* ---- connections -------------------------------------------------------- */

static void
ngx_http_ticket_conn_connect(ngx_http_ticket_conn_t *conn)
{
    ngx_connection_t             *c;
    redisAsyncContext            *ac;
    ngx_http_ticket_worker_t     *w;
    ngx_http_ticket_main_conf_t  *mcf;

    w = ngx_http_ticket_worker;
    mcf = w->mcf;

    if (mcf->redis_port) {
        ac = redisAsyncConnect((char *) mcf->redis_host.data,
                               (int) mcf->redis_port);

    } else {
        ac = redisAsyncConnectUnix((char *) mcf->redis_host.data);
    }

    if (ac == NULL) {
        ngx_http_ticket_conn_log_down(conn, "out of memory");
        ngx_http_ticket_conn_retry(conn);
        return;
    }

    if (ac->err) {
        ngx_http_ticket_conn_log_down(conn, ac->errstr);
        redisAsyncFree(ac);
        ngx_http_ticket_conn_retry(conn);
        return;
    }

    c = ngx_get_connection(ac->c.fd, w->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_http_ticket_conn_retry(conn);
        return;
    }

    c->data = conn;
    c->log = w->log;
    c->read->log = w->log;
    c->write->log = w->log;
    c->read->handler = ngx_http_ticket_ev_read;
    c->write->handler = ngx_http_ticket_ev_write;

    conn->ac = ac;
    conn->connection = c;
    conn->dying = 0;

    ac->data = conn;
    ac->ev.data = c;
    ac->ev.addRead = ngx_http_ticket_ev_add_read;
    ac->ev.delRead = ngx_http_ticket_ev_del_read;
    ac->ev.addWrite = ngx_http_ticket_ev_add_write;
    ac->ev.delWrite = ngx_http_ticket_ev_del_write;
    ac->ev.cleanup = ngx_http_ticket_ev_cleanup;

    (void) redisAsyncSetConnectCallback(ac, ngx_http_ticket_on_connect);
    (void) redisAsyncSetDisconnectCallback(ac, ngx_http_ticket_on_disconnect);

    if (conn->id) {
        /* transaction connections are checked by their batch's timer */
        conn->state = NGX_HTTP_TICKET_READY;
        return;
    }

    conn->state = NGX_HTTP_TICKET_CONNECTING;

    (void) redisAsyncCommand(ac, ngx_http_ticket_schema_handler, conn,
                             "GET %s", TK_KEY_SCHEMA);

    ngx_add_timer(&conn->timer, mcf->redis_timeout);
}


static ngx_flag_t
ngx_http_ticket_conn_usable(ngx_http_ticket_conn_t *conn)
{
    if (conn->ac == NULL || conn->dying
        || (conn->ac->c.flags & (REDIS_DISCONNECTING|REDIS_FREEING)))
    {
        return 0;
    }

    return conn->state == NGX_HTTP_TICKET_READY;
}


static void
ngx_http_ticket_conn_retry(ngx_http_ticket_conn_t *conn)
{
    ngx_http_ticket_worker_t  *w;

    w = ngx_http_ticket_worker;

    conn->state = NGX_HTTP_TICKET_DOWN;

    if (conn->id || w == NULL || w->exiting) {
        /* transaction connections reconnect when next needed */
        return;
    }

    if (conn->timer.timer_set) {
        ngx_del_timer(&conn->timer);
    }

    ngx_add_timer(&conn->timer, conn->backoff);

    conn->backoff = ngx_min(conn->backoff * 2, NGX_HTTP_TICKET_BACKOFF_MAX);
}


/* Close a connection we gave up on; pending callbacks get NULL replies. */
static void
ngx_http_ticket_conn_kill(ngx_http_ticket_conn_t *conn)
{
    redisAsyncContext  *ac;

    ac = conn->ac;

    if (ac == NULL || conn->dying) {
        return;
    }

    conn->dying = 1;

    redisAsyncFree(ac);

    /* hiredis reports no disconnect for a link that never came up */
    ngx_http_ticket_conn_lost(conn, ac);
}


static void
ngx_http_ticket_conn_lost(ngx_http_ticket_conn_t *conn,
    const redisAsyncContext *ac)
{
    ngx_http_ticket_worker_t  *w;

    if (conn->ac != ac) {
        return;
    }

    w = ngx_http_ticket_worker;

    conn->ac = NULL;
    conn->dying = 0;
    conn->epoch++;

    if (conn->timer.timer_set) {
        ngx_del_timer(&conn->timer);
    }

    ngx_http_ticket_conn_retry(conn);

    if (conn->id && !conn->held && w && !w->exiting
        && !ngx_queue_empty(&w->waiters) && !w->dispatch.posted)
    {
        ngx_post_event(&w->dispatch, &ngx_posted_events);
    }
}


/* Once per outage at "error", then quietly until it is back. */
static void
ngx_http_ticket_conn_log_down(ngx_http_ticket_conn_t *conn, const char *err)
{
    ngx_uint_t                 level;
    ngx_http_ticket_worker_t  *w;

    w = ngx_http_ticket_worker;

    if (w == NULL || w->exiting) {
        return;
    }

    level = conn->logged_down ? NGX_LOG_INFO : NGX_LOG_ERR;

    ngx_log_error(level, w->log, 0,
                  "ticket: redis connection %ui to \"%V\" failed: %s",
                  conn->id, &w->mcf->redis, err ? err : "unknown error");

    if (conn->id == 0) {
        conn->logged_down = 1;
    }
}


static void
ngx_http_ticket_conn_timer(ngx_event_t *ev)
{
    ngx_http_ticket_conn_t *conn = ev->data;

    ngx_http_ticket_worker_t  *w;

    w = ngx_http_ticket_worker;

    if (w == NULL || w->exiting) {
        return;
    }

    switch (conn->state) {

    case NGX_HTTP_TICKET_DOWN:
        ngx_http_ticket_conn_connect(conn);
        break;

    case NGX_HTTP_TICKET_CONNECTING:
        ngx_http_ticket_conn_log_down(conn, "timed out");
        ngx_http_ticket_conn_kill(conn);
        break;

    case NGX_HTTP_TICKET_BAD_SCHEMA:
        /* has the administrator initialised or migrated meanwhile? */
        if (conn->ac) {
            conn->state = NGX_HTTP_TICKET_CONNECTING;
            (void) redisAsyncCommand(conn->ac, ngx_http_ticket_schema_handler,
                                     conn, "GET %s", TK_KEY_SCHEMA);
            ngx_add_timer(&conn->timer, w->mcf->redis_timeout);
        }

        break;

    default:
        break;
    }
}


static void
ngx_http_ticket_on_connect(const redisAsyncContext *ac, int status)
{
    ngx_http_ticket_conn_t  *conn;

    conn = ac->data;

    if (status != REDIS_OK) {
        ngx_http_ticket_conn_log_down(conn, ac->errstr);
        ngx_http_ticket_conn_lost(conn, ac);
    }
}


static void
ngx_http_ticket_on_disconnect(const redisAsyncContext *ac, int status)
{
    ngx_http_ticket_conn_t  *conn;

    conn = ac->data;

    if (status != REDIS_OK && conn->ac == ac) {
        ngx_http_ticket_conn_log_down(conn, ac->errstr);
    }

    ngx_http_ticket_conn_lost(conn, ac);
}


/*
 * The first reply on the shared connection: tk:schema must be the version
 * this module was built for, otherwise it refuses service (503) rather
 * than misread the data, and asks again every few seconds.
 */
static void
ngx_http_ticket_schema_handler(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_ticket_conn_t *conn = privdata;

    u_char                     want[NGX_INT_T_LEN];
    size_t                     len;
    ngx_uint_t                 level;
    redisReply                *rr;
    ngx_http_ticket_worker_t  *w;

    rr = reply;
    w = ngx_http_ticket_worker;

    if (rr == NULL || conn->ac != ac || w == NULL || w->exiting) {
        return;
    }

    if (conn->timer.timer_set) {
        ngx_del_timer(&conn->timer);
    }

    len = ngx_sprintf(want, "%d", TK_SCHEMA_VERSION) - want;

    if (rr->type == REDIS_REPLY_STRING && rr->len == len
        && ngx_strncmp(rr->str, want, len) == 0)
    {
        level = (conn->logged_down || conn->logged_schema)
                ? NGX_LOG_NOTICE : NGX_LOG_INFO;

        ngx_log_error(level, w->log, 0,
                      "ticket: redis at \"%V\" is ready (schema %d)",
                      &w->mcf->redis, TK_SCHEMA_VERSION);

        conn->state = NGX_HTTP_TICKET_READY;
        conn->backoff = NGX_HTTP_TICKET_BACKOFF_MIN;
        conn->logged_down = 0;
        conn->logged_schema = 0;
        return;
    }

    if (!conn->logged_schema) {
        ngx_log_error(NGX_LOG_ERR, w->log, 0,
                      "ticket: redis at \"%V\" has %s %s \"%*s\", this module "
                      "needs %d: refusing service until it matches (run "
                      "\"ticketctl init\" or migrate the data)",
                      &w->mcf->redis, TK_KEY_SCHEMA,
                      rr->type == REDIS_REPLY_STRING ? "=" : "of type",
                      rr->type == REDIS_REPLY_STRING ? (size_t) rr->len
                      : (size_t) 3,
                      rr->type == REDIS_REPLY_STRING ? rr->str : "nil",
                      TK_SCHEMA_VERSION);
        conn->logged_schema = 1;
    }

    conn->state = NGX_HTTP_TICKET_BAD_SCHEMA;
    ngx_add_timer(&conn->timer, NGX_HTTP_TICKET_SCHEMA_RECHECK);
}


/* ---- the hiredis adapter: nginx events, level-triggered ----------------- */

static void
ngx_http_ticket_ev_read(ngx_event_t *ev)
{
    ngx_connection_t        *c;
    ngx_http_ticket_conn_t  *conn;

    c = ev->data;
    conn = c->data;

    if (conn->ac && conn->connection == c) {
        redisAsyncHandleRead(conn->ac);
    }
}


static void
ngx_http_ticket_ev_write(ngx_event_t *ev)
{
    ngx_connection_t        *c;
    ngx_http_ticket_conn_t  *conn;

    c = ev->data;
    conn = c->data;

    if (conn->ac && conn->connection == c) {
        redisAsyncHandleWrite(conn->ac);
    }
}


/*
 * Level-triggered: hiredis reads at most 16 KB per call, so with edge
 * triggering a large reply would stall (TOOLCHAIN.md, section 2).
 */
static void
ngx_http_ticket_ev_add_read(void *data)
{
    ngx_connection_t  *c = data;

    if (!c->read->active
        && ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "ticket: could not watch the redis socket");
    }
}


static void
ngx_http_ticket_ev_del_read(void *data)
{
    ngx_connection_t  *c = data;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_ticket_ev_add_write(void *data)
{
    ngx_connection_t  *c = data;

    if (!c->write->active
        && ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "ticket: could not watch the redis socket");
    }
}


static void
ngx_http_ticket_ev_del_write(void *data)
{
    ngx_connection_t  *c = data;

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis closes the socket itself: only give back the connection. */
static void
ngx_http_ticket_ev_cleanup(void *data)
{
    ngx_connection_t  *c = data;

    ngx_http_ticket_conn_t  *conn;

    if (c->fd == (ngx_socket_t) -1) {
        return;
    }

    conn = c->data;

    ngx_http_ticket_ev_del_read(c);
    ngx_http_ticket_ev_del_write(c);

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    if (conn->connection == c) {
        conn->connection = NULL;
    }

    ngx_free_connection(c);

    c->fd = (ngx_socket_t) -1;
}
