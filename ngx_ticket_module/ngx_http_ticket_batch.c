/*
 * ngx_http_ticket_batch.c -- batches of commands on the Redis
 * connections: sent pipelined, their replies built by hiredis's reader
 * straight into the request pool (ngx_http_ticket_reader.c), then the
 * request's next step runs.
 *
 * A request may die (client gone, HTTP/2 reset) while its replies are
 * still on the way.  So hiredis never holds a pointer into a request
 * pool: its privdata is a slot owned by the worker, its reply objects
 * are the connection's parse state; a pool cleanup orphans the slot, and
 * the rest of its replies, even of one half read, is discarded.
 *
 * Below the WATCH pool (ngx_http_ticket_tx.c): a transaction connection
 * goes back through its conn->release hook, never by calling up.
 */

#include "ngx_http_ticket_redis.h"


static ngx_http_ticket_slot_t *ngx_http_ticket_slot_get(void);
static void ngx_http_ticket_slot_put(ngx_http_ticket_slot_t *slot);
static void ngx_http_ticket_rstate_cleanup(void *data);
static void *ngx_http_ticket_pool_alloc(void *data, size_t size);
static void ngx_http_ticket_slot_done(ngx_http_ticket_slot_t *slot);
static void ngx_http_ticket_slot_posted(ngx_event_t *ev);
static ngx_flag_t ngx_http_ticket_readonly(redisAsyncContext *ac,
    void *reply);
static ngx_flag_t ngx_http_ticket_wait_failed(ngx_http_request_t *r,
    ngx_http_ticket_reply_t *rep);
static void ngx_http_ticket_slot_timeout(ngx_event_t *ev);
static ngx_int_t ngx_http_ticket_redis_failed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status);


/* ---- slots -------------------------------------------------------------- */

ngx_int_t
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


ngx_http_ticket_rstate_t *
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
            conn->release(conn, 1);
        }
    }
}


/* ---- batches ------------------------------------------------------------ */

/*
 * Every list of an authenticated request names its user and whether the
 * change came from a form or the API: the shared write path puts both
 * into the change feed (tk_feed.h), so no view has to.
 */
tk_cmds_t *
ngx_http_ticket_cmds(ngx_http_request_t *r)
{
    tk_cmds_t              *cmds;
    ngx_http_ticket_ctx_t  *ctx;

    cmds = ngx_palloc(r->pool, sizeof(tk_cmds_t));
    if (cmds == NULL) {
        return NULL;
    }

    tk_cmds_init(cmds, ngx_http_ticket_pool_alloc, r->pool);

    ctx = ngx_http_get_module_ctx(r, ngx_http_ticket_module);

    if (ctx && ctx->authenticated) {
        cmds->actor = *ngx_ticket_str(&ctx->user.login);
        cmds->src = ctx->api ? TK_SRC_API : TK_SRC_WEB;
    }

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
ngx_int_t
ngx_http_ticket_batch(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_conn_t *conn, tk_cmds_t **lists, ngx_uint_t nlists,
    ngx_uint_t kind, ngx_http_ticket_step_pt step, ngx_flag_t take_ref)
{
    u_char                    *last;
    size_t                     i;
    tk_str_t                   cmd;
    ngx_uint_t                 l, total, skip, status, wait;
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

    /* ticket_redis_wait: WAIT's reply after EXEC's, for slot_done */
    wait = kind == NGX_HTTP_TICKET_TX_COMMIT && total
           && w->mcf->wait_replicas;

    slot->conn = conn;
    slot->request = r;
    slot->ctx = ctx;
    slot->step = step;
    slot->kind = kind;
    slot->skip = skip;
    slot->nreplies = total - skip + wait;
    slot->wait = wait;

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

    if (status == 0 && wait) {
        if (redisAsyncCommand(conn->ac, ngx_http_ticket_reply_handler, slot,
                              "WAIT %d %d", (int) w->mcf->wait_replicas,
                              (int) w->mcf->wait_timeout)
            != REDIS_OK)
        {
            status = NGX_HTTP_SERVICE_UNAVAILABLE;

        } else {
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


/*
 * One reply of a batch is in.  The ones the step reads were built in
 * place (slot->replies, ngx_http_ticket_reader_begin); only the leading
 * replies of a transaction (WATCH, MULTI, QUEUED) are looked at here.
 */
void
ngx_http_ticket_reply_handler(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_ticket_slot_t  *slot = privdata;

    ngx_uint_t                i;
    ngx_http_ticket_reply_t  *rep;

    i = slot->received++;

    if (reply == NULL) {
        if (slot->status == 0) {
            slot->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        }

    } else if (ngx_http_ticket_readonly(ac, reply)) {
        if (slot->status == 0) {
            slot->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        }

    } else if (!slot->orphaned && slot->status == 0 && i < slot->skip) {
        rep = ngx_http_ticket_reader_reply(reply);

        if (rep && rep->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, slot->request->connection->log, 0,
                          "ticket: redis refused a command of a "
                          "transaction: %V", &rep->str);

            if (slot->ctx && ngx_http_ticket_reply_refused(&rep->str)) {
                slot->ctx->write_refused = 1;
            }

            if (slot->kind == NGX_HTTP_TICKET_TX_BEGIN) {
                slot->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }

    if (slot->received < slot->sent) {
        return;
    }

    ngx_http_ticket_slot_done(slot);
}


/*
 * WAIT answered fewer replicas than ticket_redis_wait asks for: the
 * write is on the primary only, which a failover may lose.  Said, and a
 * 503 for the client (a retry finds its article there or sends it).
 */
static ngx_flag_t
ngx_http_ticket_wait_failed(ngx_http_request_t *r,
    ngx_http_ticket_reply_t *rep)
{
    ngx_http_ticket_main_conf_t  *mcf;

    mcf = ngx_http_ticket_worker->mcf;

    if (rep->type == REDIS_REPLY_INTEGER
        && rep->integer >= (long long) mcf->wait_replicas)
    {
        return 0;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "ticket: a write is committed on the primary, but WAIT "
                  "saw %L of %ui replicas confirm it within %M ms",
                  rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1LL,
                  mcf->wait_replicas, mcf->wait_timeout);
    return 1;
}


/*
 * READONLY: the server we write to became a replica (a failover).  The
 * request gets its 503; the link is closed once its pending replies are
 * in, and the reconnect finds the new primary (ROLE, or a Sentinel).
 */
static ngx_flag_t
ngx_http_ticket_readonly(redisAsyncContext *ac, void *reply)
{
    ngx_http_ticket_reply_t  *rep;

    rep = ngx_http_ticket_reader_reply(reply);

    if (rep == NULL || rep->type != REDIS_REPLY_ERROR || rep->str.len < 8
        || ngx_strncmp(rep->str.data, "READONLY", 8) != 0)
    {
        return 0;
    }

    if (!(ac->c.flags & (REDIS_DISCONNECTING|REDIS_FREEING))) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "ticket: redis answered READONLY (now a replica): "
                      "reconnecting to the primary");
        redisAsyncDisconnect(ac);
    }

    return 1;
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
    ngx_uint_t                 status, kind, n, wait;
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
            conn->release(conn, kind != NGX_HTTP_TICKET_TX_COMMIT);
        }

        ngx_http_ticket_slot_put(slot);
        return;
    }

    r = slot->request;
    ctx = slot->ctx;
    step = slot->step;
    replies = slot->replies;
    n = slot->nreplies;
    wait = slot->wait;

    ngx_http_ticket_slot_put(slot);

    rs = ctx->pending;
    rs->slot = NULL;

    if (r == r->main) {
        r->read_event_handler = ngx_http_block_reading;
    }

    if (kind == NGX_HTTP_TICKET_TX_BEGIN && status) {
        if (conn && conn->owner == rs) {
            conn->release(conn, 1);
        }

    } else if (kind == NGX_HTTP_TICKET_TX_COMMIT) {
        if (conn && conn->owner == rs) {
            /* EXEC (or its failure) ended the WATCH */
            conn->release(conn, status != 0);
        }

        if (status == 0 && wait
            && ngx_http_ticket_wait_failed(r, &replies[n - 1]))
        {
            status = NGX_HTTP_SERVICE_UNAVAILABLE;
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

                if (ngx_http_ticket_reply_refused(&replies[0].str)) {
                    ctx->write_refused = 1;
                }
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
                   ngx_http_ticket_page_msg(r, ctx, TK_MSG_BATCH_BAD_SCHEMA));
    }

    return ngx_http_ticket_error(r, ctx, status, NULL);
}
