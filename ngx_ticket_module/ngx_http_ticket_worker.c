/*
 * ngx_http_ticket_worker.c -- a worker's Redis state, built at worker
 * start and torn down at exit: the shared connection, the WATCH pool,
 * the batch slots, and the wiring between the layers of the Redis I/O
 * (which sit below this file and never call up):
 *
 *   ngx_http_ticket_worker.c    start/stop, wires the hooks below
 *   ngx_http_ticket_tx.c        WATCH pool      (uses batch, redis)
 *   ngx_http_ticket_batch.c     batches, slots  (uses redis, reader)
 *   ngx_http_ticket_redis.c     connections, connect state machine,
 *                               hiredis adapter (uses reader, endpoint)
 *   ngx_http_ticket_reader.c    replies built in place (uses nothing
 *                               of these)
 *   ngx_http_ticket_endpoint.c  where Redis is (configuration time)
 *
 * Where a lower layer must reach an upper one it goes through a hook
 * set here: conn->release (a transaction connection goes back to the
 * pool), conn->parse.batch_fn (which replies belong to batches),
 * w->dispatch (serve requests waiting for a transaction connection).
 */

#include "ngx_http_ticket_redis.h"


ngx_http_ticket_worker_t  *ngx_http_ticket_worker;


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
        w->tx[i].release = ngx_http_ticket_tx_release;
    }

    /* the reader knows a batch's replies by their callback */
    w->main.parse.batch_fn = ngx_http_ticket_reply_handler;

    for (i = 0; i < w->ntx; i++) {
        w->tx[i].parse.batch_fn = ngx_http_ticket_reply_handler;
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

    /* with Sentinels: a subscriber hears of failovers (redis.c) */
    if (mcf->endpoint->nsentinels) {
        ngx_http_ticket_conn_init(w, &w->sub, w->ntx + 1);
        w->sub.subscriber = 1;
        ngx_http_ticket_conn_connect(&w->sub);
    }

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

    ngx_http_ticket_conn_kill(&w->sub);

    if (w->sub.timer.timer_set) {
        ngx_del_timer(&w->sub.timer);
    }

    for (i = 0; i < w->ntx; i++) {
        ngx_http_ticket_conn_kill(&w->tx[i]);
        ngx_http_ticket_reader_done(&w->tx[i]);
    }

    ngx_http_ticket_reader_done(&w->main);

    ngx_http_ticket_worker = NULL;
}
