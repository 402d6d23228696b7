/*
 * ngx_http_ticket_adapter.c -- hiredis' event hooks on nginx's event loop
 * for the connections of ngx_http_ticket_redis.c: reading when the
 * socket is ready (level-triggered), writing at the end of the loop's
 * pass, and giving the nginx connection back when hiredis closes the
 * socket.
 */

#include "ngx_http_ticket_redis.h"


static void ngx_http_ticket_ev_add(ngx_event_t *ev, ngx_int_t event);
static void ngx_http_ticket_ev_del(ngx_event_t *ev, ngx_int_t event);


/* ---- the hiredis adapter: nginx events, level-triggered ----------------- */

void
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


void
ngx_http_ticket_ev_write(ngx_event_t *ev)
{
    ngx_connection_t        *c;
    ngx_http_ticket_conn_t  *conn;

    c = ev->data;
    conn = c->data;

    if (conn->ac && conn->connection == c) {
        /* hiredis asks again from inside when it could not write all */
        conn->writing = 1;
        redisAsyncHandleWrite(conn->ac);
        conn->writing = 0;
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


void
ngx_http_ticket_ev_add_read(void *data)
{
    ngx_connection_t  *c = data;

    ngx_http_ticket_ev_add(c->read, NGX_READ_EVENT);
}


void
ngx_http_ticket_ev_del_read(void *data)
{
    ngx_connection_t  *c = data;

    ngx_http_ticket_ev_del(c->read, NGX_READ_EVENT);
}


/*
 * hiredis wants to write whenever a command was queued.  The socket to
 * Redis is nearly always writable, so a connected link does not watch
 * it for that (an epoll_ctl on and one off, and one more pass of the
 * event loop, per batch): the write is posted and runs at the end of
 * this pass, one write for every command queued in it.  Only a link
 * still connecting, or a write that did not go out whole (hiredis asks
 * again from inside its write: the socket buffer is full), waits until
 * the socket is writable.
 */
void
ngx_http_ticket_ev_add_write(void *data)
{
    ngx_connection_t        *c = data;
    ngx_http_ticket_conn_t  *conn;

    conn = c->data;

    if (conn->writing || conn->ac == NULL
        || !(conn->ac->c.flags & REDIS_CONNECTED))
    {
        ngx_http_ticket_ev_add(c->write, NGX_WRITE_EVENT);
        return;
    }

    if (!c->write->active) {
        ngx_post_event(c->write, &ngx_posted_events);
    }
}


void
ngx_http_ticket_ev_del_write(void *data)
{
    ngx_connection_t  *c = data;

    ngx_http_ticket_ev_del(c->write, NGX_WRITE_EVENT);
}


/* hiredis closes the socket itself: only give back the connection. */
void
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
