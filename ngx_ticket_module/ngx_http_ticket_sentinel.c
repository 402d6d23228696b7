/*
 * ngx_http_ticket_sentinel.c -- ticket_redis_sentinel: what the shared
 * connection does while it asks a Sentinel for the primary (the reply of
 * SENTINEL get-master-addr-by-name, the retry over the Sentinels), and
 * the subscriber link that hears of failovers (+switch-master).  The
 * connections themselves and their state machine are
 * ngx_http_ticket_redis.c's; this file only decides where they go next.
 */

#include "ngx_http_ticket_redis.h"


/*
 * With Sentinels: a Sentinel just named the primary -- connect to it at
 * once; anything else (that Sentinel, or the primary, failed) forgets
 * the primary and asks the next Sentinel, at once until each was tried,
 * then after the backoff.  So a failover costs the time Sentinel takes
 * to promote a replica, plus at most one backoff step.
 */
void
ngx_http_ticket_sentinel_retry(ngx_http_ticket_conn_t *conn,
    ngx_http_ticket_endpoint_t *ep)
{
    if (conn->resolved_now) {
        conn->resolved_now = 0;
        ngx_http_ticket_conn_later(conn, 0);
        return;
    }

    ep->resolved = 0;
    ep->sentinel = (ep->sentinel + 1) % ep->nsentinels;
    ngx_http_ticket_conn_later(conn,
                               ngx_http_ticket_backoff(conn, ep->nsentinels));
}


/*
 * SENTINEL get-master-addr-by-name: ["ip", "port"], or nil when this
 * Sentinel does not know the name.  Either way this link is done: with
 * an address the primary is connected next (resolved_now), else the next
 * Sentinel is asked.
 */
ngx_int_t
ngx_http_ticket_sentinel_reply(ngx_http_ticket_conn_t *conn,
    ngx_http_ticket_reply_t *rr)
{
    ngx_str_t                    none;
    ngx_http_ticket_endpoint_t  *ep;

    ep = ngx_http_ticket_worker->mcf->endpoint;

    if (rr->type == REDIS_REPLY_ARRAY && rr->nelem == 2
        && rr->element[0].type == REDIS_REPLY_STRING
        && rr->element[1].type == REDIS_REPLY_STRING
        && ngx_http_ticket_endpoint_primary(ep, &rr->element[0].str,
                                            &rr->element[1].str) == NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, ngx_http_ticket_worker->log, 0,
                      "ticket: sentinel %V names %V as the primary of "
                      "\"%V\"", conn->peer,
                      &ngx_http_ticket_endpoint_addr(ep)->text,
                      &ep->master_name);

        conn->resolved_now = 1;
        ngx_http_ticket_conn_kill(conn);
        return NGX_OK;
    }

    ngx_str_set(&none, "no such master");
    ngx_http_ticket_conn_refuse(conn, "the Sentinel does not name a "
                                "primary: SENTINEL get-master-addr-by-name",
                                rr->type == REDIS_REPLY_ERROR ? &rr->str
                                                              : &none);
    return NGX_DECLINED;
}


/*
 * w->sub's messages: the confirmation of SUBSCRIBE, then one
 * "+switch-master" per failover: "NAME old-ip old-port new-ip new-port".
 * For our NAME the new primary goes into the endpoint and the shared
 * connection is dropped, so it reconnects there at once (and the
 * transaction connections follow the endpoint's generation).
 */
void
ngx_http_ticket_sub_handler(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_ticket_conn_t *conn = privdata;

    u_char                      *p, *last, *f[5];
    size_t                       fl[5];
    ngx_str_t                    ip, port;
    ngx_uint_t                   n;
    redisReply                  *rr = reply;
    ngx_http_ticket_worker_t    *w;
    ngx_http_ticket_endpoint_t  *ep;

    w = ngx_http_ticket_worker;

    if (rr == NULL || w == NULL || w->exiting || conn->ac != ac
        || rr->type != REDIS_REPLY_ARRAY || rr->elements != 3
        || rr->element[0]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    ep = w->mcf->endpoint;

    if (ngx_strcmp(rr->element[0]->str, "subscribe") == 0) {
        if (conn->timer.timer_set) {
            ngx_del_timer(&conn->timer);
        }
        conn->subscribed = 1;
        conn->backoff = NGX_HTTP_TICKET_BACKOFF_MIN;
        conn->logged_down = 0;
        ngx_log_error(NGX_LOG_INFO, w->log, 0,
                      "ticket: listening to sentinel %V for +switch-master",
                      conn->peer);
        return;
    }

    if (ngx_strcmp(rr->element[0]->str, "message") != 0
        || rr->element[2]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    p = (u_char *) rr->element[2]->str;
    last = p + rr->element[2]->len;

    for (n = 0; n < 5 && p < last; n++) {
        f[n] = p;
        while (p < last && *p != ' ') {
            p++;
        }
        fl[n] = p - f[n];
        while (p < last && *p == ' ') {
            p++;
        }
    }

    if (n != 5 || fl[0] != ep->master_name.len
        || ngx_strncmp(f[0], ep->master_name.data, fl[0]) != 0)
    {
        return;
    }

    ip.data = f[3];
    ip.len = fl[3];
    port.data = f[4];
    port.len = fl[4];

    if (ngx_http_ticket_endpoint_primary(ep, &ip, &port) != NGX_OK) {
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                  "ticket: sentinel %V: +switch-master, the primary of "
                  "\"%V\" is now %V", conn->peer, &ep->master_name,
                  &ngx_http_ticket_endpoint_addr(ep)->text);

    /* straight to the new primary, without asking again */
    w->main.resolved_now = 1;

    if (w->main.ac) {
        ngx_http_ticket_conn_kill(&w->main);

    } else if (w->main.state == NGX_HTTP_TICKET_DOWN) {
        if (w->main.timer.timer_set) {
            ngx_del_timer(&w->main.timer);
        }
        w->main.resolved_now = 0;
        ngx_add_timer(&w->main.timer, 0);
    }
}
