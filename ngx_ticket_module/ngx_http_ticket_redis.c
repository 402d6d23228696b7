/*
 * ngx_http_ticket_redis.c -- Redis connections of a worker: the one
 * pipelined hiredis connection on nginx's event loop (and those of the
 * WATCH pool, ngx_http_ticket_tx.c), opened to the endpoint's address
 * (ngx_http_ticket_endpoint.c), taken through the connect state machine
 * (AUTH, ROLE, schema), reconnected -- next address, then backoff -- and
 * driven by a hiredis adapter over nginx events (ngx_http_ticket_adapter.c;
 * with Sentinels, where to go next: ngx_http_ticket_sentinel.c).  Batches on these
 * connections: ngx_http_ticket_batch.c, above this file.
 */

#include "ngx_http_ticket_redis.h"
#include "ngx_http_ticket_cache.h"


#define NGX_HTTP_TICKET_SCHEMA_RECHECK   5000


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
static void ngx_http_ticket_conn_advance(ngx_http_ticket_conn_t *conn);
static void ngx_http_ticket_conn_send(ngx_http_ticket_conn_t *conn,
    ngx_uint_t state);
static void ngx_http_ticket_handshake_handler(redisAsyncContext *ac,
    void *reply, void *privdata);
static ngx_int_t ngx_http_ticket_role_check(ngx_http_ticket_conn_t *conn,
    ngx_http_ticket_reply_t *rr);
static ngx_int_t ngx_http_ticket_schema_check(ngx_http_ticket_conn_t *conn,
    ngx_http_ticket_reply_t *rr);



/* ---- connections ------------------------------------------------------ */

void
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

/*
 * Open a link to the endpoint's address in use: a numeric address or a
 * socket path, so hiredis resolves nothing.  The shared connection then
 * walks the connect state machine; a transaction connection pipelines
 * its handshake in front of the batch that needed it.
 */
void
ngx_http_ticket_conn_connect(ngx_http_ticket_conn_t *conn)
{
    ngx_connection_t                 *c;
    redisAsyncContext                *ac;
    ngx_http_ticket_worker_t         *w;
    ngx_http_ticket_endpoint_t       *ep;
    ngx_http_ticket_endpoint_addr_t  *addr;

    w = ngx_http_ticket_worker;
    ep = w->mcf->endpoint;
    addr = ngx_http_ticket_endpoint_addr(ep);

    if (conn->subscriber) {
        addr = &ep->sentinels[ep->sub_sentinel];

    } else if (ep->nsentinels && !ep->resolved) {
        if (conn->id) {
            /* the shared connection asks; this one waits for a primary */
            conn->peer = &addr->text;
            ngx_http_ticket_conn_log_down(conn, "no primary known yet");
            ngx_http_ticket_conn_retry(conn);
            return;
        }

        addr = &ep->sentinels[ep->sentinel];
    }

    conn->peer = &addr->text;
    conn->ep_generation = ep->generation;

    if (addr->port) {
        ac = redisAsyncConnect(addr->host, addr->port);

    } else {
        ac = redisAsyncConnectUnix(addr->host);
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

    /* hiredis' pub/sub code reads its own redisReply objects: the
     * subscriber keeps hiredis' reader (one small reply per failover) */
    if (!conn->subscriber) {
        ngx_http_ticket_reader_init(conn, ac);
    }

    ac->ev.data = c;
    ac->ev.addRead = ngx_http_ticket_ev_add_read;
    ac->ev.delRead = ngx_http_ticket_ev_del_read;
    ac->ev.addWrite = ngx_http_ticket_ev_add_write;
    ac->ev.delWrite = ngx_http_ticket_ev_del_write;
    ac->ev.cleanup = ngx_http_ticket_ev_cleanup;

    (void) redisAsyncSetConnectCallback(ac, ngx_http_ticket_on_connect);
    (void) redisAsyncSetDisconnectCallback(ac, ngx_http_ticket_on_disconnect);

    if (conn->subscriber) {
        conn->state = NGX_HTTP_TICKET_SUBSCRIBED;
        conn->subscribed = 0;
        (void) redisAsyncCommand(ac, ngx_http_ticket_sub_handler, conn,
                                 "SUBSCRIBE +switch-master");
        ngx_add_timer(&conn->timer, w->mcf->redis_timeout);
        return;
    }

    if (conn->id) {
        /* the batch's timer covers the handshake */
        conn->auth_pending = 0;

        if (ep->password.len) {
            ngx_http_ticket_conn_send(conn, NGX_HTTP_TICKET_AUTH);
            conn->auth_pending = 1;
        }

        ngx_http_ticket_conn_send(conn, NGX_HTTP_TICKET_ROLE);
        conn->state = NGX_HTTP_TICKET_READY;
        return;
    }

    if (ep->nsentinels && !ep->resolved) {
        conn->state = NGX_HTTP_TICKET_SENTINEL;
        ngx_http_ticket_conn_send(conn, NGX_HTTP_TICKET_SENTINEL);

    } else {
        conn->state = NGX_HTTP_TICKET_CONNECTING;
        ngx_http_ticket_conn_advance(conn);
    }

    ngx_add_timer(&conn->timer, w->mcf->redis_timeout);
}


/*
 * The next state of the shared connection's handshake, and its command:
 * connect -> AUTH (when there is a password) -> ROLE -> schema -> ready.
 */
static void
ngx_http_ticket_conn_advance(ngx_http_ticket_conn_t *conn)
{
    ngx_uint_t                 level;
    ngx_http_ticket_worker_t  *w;

    w = ngx_http_ticket_worker;

    switch (conn->state) {

    case NGX_HTTP_TICKET_CONNECTING:
        if (w->mcf->endpoint->password.len) {
            conn->state = NGX_HTTP_TICKET_AUTH;
            break;
        }

        /* fall through */

    case NGX_HTTP_TICKET_AUTH:
        conn->state = NGX_HTTP_TICKET_ROLE;
        break;

    case NGX_HTTP_TICKET_ROLE:
    case NGX_HTTP_TICKET_BAD_SCHEMA:
        conn->state = NGX_HTTP_TICKET_SCHEMA;
        break;

    case NGX_HTTP_TICKET_SCHEMA:
        if (conn->timer.timer_set) {
            ngx_del_timer(&conn->timer);
        }

        level = (conn->logged_down || conn->logged_schema
                 || conn->logged_role)
                ? NGX_LOG_NOTICE : NGX_LOG_INFO;

        ngx_log_error(level, w->log, 0,
                      "ticket: redis at \"%V\" (%V) is ready (schema %d)",
                      &w->mcf->endpoint->name,
                      &ngx_http_ticket_endpoint_addr(w->mcf->endpoint)->text,
                      TK_SCHEMA_VERSION);

        /* pages cached before may be of another server's data */
        if (conn->was_ready) {
            ngx_http_ticket_cache_relinked(w->mcf, w->log);
        }

        conn->was_ready = 1;
        conn->state = NGX_HTTP_TICKET_READY;
        conn->backoff = NGX_HTTP_TICKET_BACKOFF_MIN;
        conn->tried = 0;
        conn->logged_down = 0;
        conn->logged_schema = 0;
        conn->logged_role = 0;
        return;

    default:
        return;
    }

    ngx_http_ticket_conn_send(conn, conn->state);
}


/* The one command of a handshake state; its reply comes to
 * ngx_http_ticket_handshake_handler(). */
static void
ngx_http_ticket_conn_send(ngx_http_ticket_conn_t *conn, ngx_uint_t state)
{
    ngx_str_t          *password, *name;
    redisAsyncContext  *ac;

    ac = conn->ac;

    switch (state) {

    case NGX_HTTP_TICKET_AUTH:
        password = &ngx_http_ticket_worker->mcf->endpoint->password;
        (void) redisAsyncCommand(ac, ngx_http_ticket_handshake_handler,
                                 conn, "AUTH %b", password->data,
                                 password->len);
        break;

    case NGX_HTTP_TICKET_ROLE:
        (void) redisAsyncCommand(ac, ngx_http_ticket_handshake_handler,
                                 conn, "ROLE");
        break;

    case NGX_HTTP_TICKET_SCHEMA:
        (void) redisAsyncCommand(ac, ngx_http_ticket_handshake_handler,
                                 conn, "GET %s", TK_KEY_SCHEMA);
        break;

    case NGX_HTTP_TICKET_SENTINEL:
        name = &ngx_http_ticket_worker->mcf->endpoint->master_name;
        (void) redisAsyncCommand(ac, ngx_http_ticket_handshake_handler,
                                 conn, "SENTINEL get-master-addr-by-name %b",
                                 name->data, name->len);
        break;
    }
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


/*
 * The link failed or was refused: the next of the endpoint's addresses
 * at once, and once every one of them failed, the same again after a
 * backoff (100 ms doubling to 5 s).
 */
static void
ngx_http_ticket_conn_retry(ngx_http_ticket_conn_t *conn)
{
    ngx_http_ticket_worker_t    *w;
    ngx_http_ticket_endpoint_t  *ep;

    w = ngx_http_ticket_worker;

    conn->state = NGX_HTTP_TICKET_DOWN;

    if (w == NULL || w->exiting) {
        return;
    }

    ep = w->mcf->endpoint;

    /* the subscriber: the next Sentinel, after the backoff */
    if (conn->subscriber) {
        ep->sub_sentinel = (ep->sub_sentinel + 1) % ep->nsentinels;
        ngx_http_ticket_conn_later(conn, ngx_http_ticket_backoff(conn, 0));
        return;
    }

    if (conn->id) {
        /* transaction connections reconnect when next needed */
        return;
    }

    if (ep->nsentinels) {
        ngx_http_ticket_sentinel_retry(conn, ep);
        return;
    }

    ngx_http_ticket_endpoint_next(ep);
    ngx_http_ticket_conn_later(conn,
                               ngx_http_ticket_backoff(conn, ep->naddrs));
}


/*
 * How long until the next try: none while fewer than n places (addresses,
 * Sentinels) have failed in a row, then the backoff, which doubles up to
 * NGX_HTTP_TICKET_BACKOFF_MAX (n 0: always the backoff).
 */
ngx_msec_t
ngx_http_ticket_backoff(ngx_http_ticket_conn_t *conn, ngx_uint_t n)
{
    ngx_msec_t  delay;

    if (n && ++conn->tried < n) {
        return 0;
    }

    conn->tried = 0;
    delay = conn->backoff;
    conn->backoff = ngx_min(conn->backoff * 2, NGX_HTTP_TICKET_BACKOFF_MAX);

    return delay;
}


/* (Re)arm the connection's timer: in DOWN it reconnects. */
void
ngx_http_ticket_conn_later(ngx_http_ticket_conn_t *conn, ngx_msec_t delay)
{
    if (conn->timer.timer_set) {
        ngx_del_timer(&conn->timer);
    }

    ngx_add_timer(&conn->timer, delay);
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

    if (conn->id && !conn->subscriber && !conn->held && w && !w->exiting
        && !ngx_queue_empty(&w->waiters) && !w->dispatch.posted)
    {
        ngx_post_event(&w->dispatch, &ngx_posted_events);
    }
}


/* Once per outage at "error", then quietly until it is back. */
static void
ngx_http_ticket_conn_log_down(ngx_http_ticket_conn_t *conn, const char *err)
{
    ngx_uint_t                   level;
    ngx_http_ticket_worker_t    *w;
    ngx_http_ticket_endpoint_t  *ep;

    w = ngx_http_ticket_worker;

    if (w == NULL || w->exiting) {
        return;
    }

    ep = w->mcf->endpoint;
    level = conn->logged_down ? NGX_LOG_INFO : NGX_LOG_ERR;

    ngx_log_error(level, w->log, 0,
                  "ticket: redis connection %ui to \"%V\" (%V) failed: %s",
                  conn->id, &ep->name,
                  conn->peer ? conn->peer
                             : &ngx_http_ticket_endpoint_addr(ep)->text,
                  err ? err : "unknown error");

    if (conn->id == 0 || conn->subscriber) {
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
    case NGX_HTTP_TICKET_AUTH:
    case NGX_HTTP_TICKET_ROLE:
    case NGX_HTTP_TICKET_SCHEMA:
    case NGX_HTTP_TICKET_SENTINEL:
    case NGX_HTTP_TICKET_SUBSCRIBED:
        ngx_http_ticket_conn_log_down(conn, "timed out");
        ngx_http_ticket_conn_kill(conn);
        break;

    case NGX_HTTP_TICKET_BAD_SCHEMA:
        /* has the administrator initialised or migrated meanwhile? */
        if (conn->ac) {
            ngx_http_ticket_conn_advance(conn);
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
 * A reply of the handshake.  AUTH must say OK; ROLE must say "master"
 * (a replica refuses every write, so it is treated like a Redis that is
 * down: 503, the next address, backoff); tk:schema must be the version
 * this module was built for, otherwise it refuses service (503) rather
 * than misread the data, and asks again every few seconds.
 */
static void
ngx_http_ticket_handshake_handler(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_ticket_conn_t *conn = privdata;

    ngx_uint_t                 state;
    ngx_http_ticket_reply_t   *rr;
    ngx_http_ticket_worker_t  *w;

    rr = ngx_http_ticket_reader_reply(reply);
    w = ngx_http_ticket_worker;

    if (rr == NULL || conn->ac != ac || w == NULL || w->exiting) {
        return;
    }

    if (conn->id) {
        /* a transaction connection's pipelined handshake: AUTH?, ROLE */
        state = conn->auth_pending ? NGX_HTTP_TICKET_AUTH
                                   : NGX_HTTP_TICKET_ROLE;
        conn->auth_pending = 0;

    } else {
        state = conn->state;
    }

    switch (state) {

    case NGX_HTTP_TICKET_AUTH:
        if (rr->type == REDIS_REPLY_STATUS) {
            break;
        }

        ngx_http_ticket_conn_refuse(conn, "AUTH failed", &rr->str);
        return;

    case NGX_HTTP_TICKET_ROLE:
        if (ngx_http_ticket_role_check(conn, rr) != NGX_OK) {
            return;
        }

        break;

    case NGX_HTTP_TICKET_SCHEMA:
        if (ngx_http_ticket_schema_check(conn, rr) != NGX_OK) {
            return;
        }

        break;

    case NGX_HTTP_TICKET_SENTINEL:
        (void) ngx_http_ticket_sentinel_reply(conn, rr);
        return;

    default:
        return;
    }

    if (conn->id == 0) {
        ngx_http_ticket_conn_advance(conn);
    }
}


/* ROLE's first element is "master", "slave" or "sentinel". */
static ngx_int_t
ngx_http_ticket_role_check(ngx_http_ticket_conn_t *conn,
    ngx_http_ticket_reply_t *rr)
{
    ngx_str_t   role;

    if (rr->type == REDIS_REPLY_ARRAY && rr->nelem > 0
        && rr->element[0].type == REDIS_REPLY_STRING)
    {
        role = rr->element[0].str;

        if (role.len == 6 && ngx_strncmp(role.data, "master", 6) == 0) {
            return NGX_OK;
        }

        ngx_http_ticket_conn_refuse(conn, "it is a replica, not the master "
                                    "(writes to a replica fail), ROLE",
                                    &role);
        return NGX_DECLINED;
    }

    ngx_str_set(&role, "no role");
    ngx_http_ticket_conn_refuse(conn, "ROLE failed",
                                rr->type == REDIS_REPLY_ERROR ? &rr->str
                                                              : &role);
    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_ticket_schema_check(ngx_http_ticket_conn_t *conn,
    ngx_http_ticket_reply_t *rr)
{
    u_char                     want[NGX_INT_T_LEN];
    size_t                     len;
    ngx_http_ticket_worker_t  *w;

    w = ngx_http_ticket_worker;

    len = ngx_sprintf(want, "%d", TK_SCHEMA_VERSION) - want;

    if (rr->type == REDIS_REPLY_STRING && rr->str.len == len
        && ngx_strncmp(rr->str.data, want, len) == 0)
    {
        return NGX_OK;
    }

    if (conn->timer.timer_set) {
        ngx_del_timer(&conn->timer);
    }

    if (!conn->logged_schema) {
        ngx_log_error(NGX_LOG_ERR, w->log, 0,
                      "ticket: redis at \"%V\" has %s %s \"%*s\", this module "
                      "needs %d: refusing service until it matches (run "
                      "\"ticketctl init\" or migrate the data)",
                      &w->mcf->endpoint->name, TK_KEY_SCHEMA,
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

    return NGX_DECLINED;
}


/*
 * This server will not do (wrong password, a replica): said once per
 * outage at "error", and the link dropped like a dead one.
 */
void
ngx_http_ticket_conn_refuse(ngx_http_ticket_conn_t *conn, const char *why,
    ngx_str_t *detail)
{
    ngx_uint_t                   level;
    ngx_http_ticket_worker_t    *w;
    ngx_http_ticket_endpoint_t  *ep;

    w = ngx_http_ticket_worker;
    ep = w->mcf->endpoint;
    level = conn->logged_role ? NGX_LOG_INFO : NGX_LOG_ERR;

    ngx_log_error(level, w->log, 0,
                  "ticket: redis connection %ui to \"%V\" (%V) refused: "
                  "%s \"%V\"", conn->id, &ep->name,
                  conn->peer ? conn->peer
                             : &ngx_http_ticket_endpoint_addr(ep)->text,
                  why, detail);

    if (conn->id == 0) {
        conn->logged_role = 1;
    }

    ngx_http_ticket_conn_kill(conn);
}
