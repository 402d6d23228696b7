/*
 * ngx_http_ticket_tx.c -- optimistic transactions (WATCH, read, MULTI,
 * EXEC) for the views.  WATCH belongs to a connection, so each runs on a
 * connection of its own from a small per-worker pool; a request waits
 * (at most ticket_redis_timeout) when all of them are busy.
 */

#include "ngx_http_ticket_redis.h"


static ngx_int_t ngx_http_ticket_tx_start(ngx_http_request_t *r,
    ngx_http_ticket_rstate_t *rs, ngx_http_ticket_conn_t *conn,
    tk_cmds_t **lists, ngx_http_ticket_step_pt step, ngx_flag_t take_ref);
static ngx_http_ticket_conn_t *ngx_http_ticket_tx_acquire(void);
static void ngx_http_ticket_tx_wait_timeout(ngx_event_t *ev);


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

    rs->wait_timer.handler = ngx_http_ticket_tx_wait_timeout;
    rs->wait_timer.data = rs;
    rs->wait_timer.log = r->connection->log;

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

        if (conn->ac && conn->ep_generation != w->mcf->endpoint->generation)
        {
            /* the shared connection moved to another address: follow */
            ngx_http_ticket_conn_kill(conn);
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


void
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


void
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
