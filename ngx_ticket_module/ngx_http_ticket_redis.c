/*
 * ngx_http_ticket_redis.c -- Redis for the module: one pipelined hiredis
 * connection per worker on nginx's event loop (and the connections of
 * the WATCH pool, ngx_http_ticket_tx.c), connected, checked against the
 * schema version, reconnected with backoff, and driven by a hiredis
 * adapter over nginx events.  Batches on these connections:
 * ngx_http_ticket_batch.c.
 */

#include "ngx_http_ticket_redis.h"


#define NGX_HTTP_TICKET_BACKOFF_MIN      100
#define NGX_HTTP_TICKET_BACKOFF_MAX      5000
#define NGX_HTTP_TICKET_SCHEMA_RECHECK   5000


static void ngx_http_ticket_conn_init(ngx_http_ticket_worker_t *w,
    ngx_http_ticket_conn_t *conn, ngx_uint_t id);
static void ngx_http_ticket_conn_retry(ngx_http_ticket_conn_t *conn);
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
static void ngx_http_ticket_ev_add(ngx_event_t *ev, ngx_int_t event);
static void ngx_http_ticket_ev_del(ngx_event_t *ev, ngx_int_t event);
static void ngx_http_ticket_ev_add_read(void *data);
static void ngx_http_ticket_ev_del_read(void *data);
static void ngx_http_ticket_ev_add_write(void *data);
static void ngx_http_ticket_ev_del_write(void *data);
static void ngx_http_ticket_ev_cleanup(void *data);


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
        ngx_http_ticket_reader_done(&w->tx[i]);
    }

    ngx_http_ticket_reader_done(&w->main);

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

/* ---- connections -------------------------------------------------------- */

void
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
    ngx_http_ticket_reader_init(conn, ac);

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


ngx_flag_t
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
void
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
    ngx_http_ticket_reply_t   *rr;
    ngx_http_ticket_worker_t  *w;

    rr = ngx_http_ticket_reader_reply(reply);
    w = ngx_http_ticket_worker;

    if (rr == NULL || conn->ac != ac || w == NULL || w->exiting) {
        return;
    }

    if (conn->timer.timer_set) {
        ngx_del_timer(&conn->timer);
    }

    len = ngx_sprintf(want, "%d", TK_SCHEMA_VERSION) - want;

    if (rr->type == REDIS_REPLY_STRING && rr->str.len == len
        && ngx_strncmp(rr->str.data, want, len) == 0)
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
                      rr->type == REDIS_REPLY_STRING ? rr->str.len
                      : (size_t) 3,
                      rr->type == REDIS_REPLY_STRING ? rr->str.data
                      : (u_char *) "nil",
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
ngx_http_ticket_ev_add(ngx_event_t *ev, ngx_int_t event)
{
    ngx_connection_t  *c;

    c = ev->data;

    if (!ev->active && ngx_add_event(ev, event, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "ticket: could not watch the redis socket");
    }
}


static void
ngx_http_ticket_ev_del(ngx_event_t *ev, ngx_int_t event)
{
    if (ev->active) {
        (void) ngx_del_event(ev, event, 0);
    }
}


static void
ngx_http_ticket_ev_add_read(void *data)
{
    ngx_connection_t  *c = data;

    ngx_http_ticket_ev_add(c->read, NGX_READ_EVENT);
}


static void
ngx_http_ticket_ev_del_read(void *data)
{
    ngx_connection_t  *c = data;

    ngx_http_ticket_ev_del(c->read, NGX_READ_EVENT);
}


static void
ngx_http_ticket_ev_add_write(void *data)
{
    ngx_connection_t  *c = data;

    ngx_http_ticket_ev_add(c->write, NGX_WRITE_EVENT);
}


static void
ngx_http_ticket_ev_del_write(void *data)
{
    ngx_connection_t  *c = data;

    ngx_http_ticket_ev_del(c->write, NGX_WRITE_EVENT);
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
