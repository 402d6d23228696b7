/*
 * ngx_http_ticket_reader.c -- hiredis's reader builds every reply
 * straight into the memory of the request that waits for it (no malloc,
 * no copy; the slots of ngx_http_ticket_batch.c say whose it is: a
 * callback parse->batch_fn has a slot as privdata), and the helpers
 * views use to read replies.  The bottom of the Redis I/O: calls none of
 * its other files.
 */

#include "ngx_http_ticket_redis.h"


static void *ngx_http_ticket_reader_string(const redisReadTask *task,
    char *str, size_t len);
static void *ngx_http_ticket_reader_array(const redisReadTask *task,
    int elements);
static void *ngx_http_ticket_reader_integer(const redisReadTask *task,
    long long value);
static void *ngx_http_ticket_reader_nil(const redisReadTask *task);
static void *ngx_http_ticket_reader_scalar(const redisReadTask *task, int type,
    long long value);
static void ngx_http_ticket_reader_free(void *obj);
static void ngx_http_ticket_reader_release(ngx_http_ticket_parse_t *parse);
static ngx_int_t ngx_http_ticket_reader_node(const redisReadTask *task,
    ngx_http_ticket_reply_t **node, void **obj);
static ngx_int_t ngx_http_ticket_reader_begin(ngx_http_ticket_parse_t *parse);
static void *ngx_http_ticket_reader_failed(ngx_http_ticket_parse_t *parse);
static void ngx_http_ticket_reader_init_node(ngx_http_ticket_reply_t *node,
    int type);


/*
 * hiredis reads ->type and ->str of an error that came with no command
 * pending (e.g. "max number of clients reached") as a redisReply: the
 * root of such a reply is parse->reply, so those fields must line up.
 */
#define ngx_http_ticket_same_offset(a, b)                                    \
    (offsetof(redisReply, a) == offsetof(ngx_http_ticket_reply_t, b))

typedef char ngx_http_ticket_reply_layout_check[
    (offsetof(ngx_http_ticket_parse_t, reply) == 0
     && ngx_http_ticket_same_offset(type, type)
     && ngx_http_ticket_same_offset(len, str.len)
     && ngx_http_ticket_same_offset(str, str.data)) ? 1 : -1];


static redisReplyObjectFunctions  ngx_http_ticket_reader_functions = {
    ngx_http_ticket_reader_string,
    ngx_http_ticket_reader_array,
    ngx_http_ticket_reader_integer,
    ngx_http_ticket_reader_nil,
    ngx_http_ticket_reader_free
};


/* ---- hiredis's reader: replies built where they are used ---------------- */

/*
 * hiredis parses every reply through these functions (called only while
 * it reads, on nginx's event loop).  A reply goes straight into the
 * request that waits for it: hiredis matches replies to callbacks in
 * order, so the one being read belongs to the head of ac->replies, whose
 * privdata is our slot.
 */
void
ngx_http_ticket_reader_init(ngx_http_ticket_conn_t *conn,
    redisAsyncContext *ac)
{
    conn->parse.ac = ac;
    conn->parse.root = NULL;
    conn->parse.pool = NULL;
    conn->parse.slot = NULL;

    ac->c.reader->fn = &ngx_http_ticket_reader_functions;
    ac->c.reader->privdata = &conn->parse;

    /*
     * hiredis frees its input buffer whenever it is empty with more than
     * maxbuf to spare (default 16 KB, one read), and grows it again from
     * nothing for the next batch; keep up to a few reads' worth
     */
    ac->c.reader->maxbuf = NGX_HTTP_TICKET_READER_MAXBUF;
}


/* The worker exits: hiredis has already let go of every reply. */
void
ngx_http_ticket_reader_done(ngx_http_ticket_conn_t *conn)
{
    if (conn->parse.scratch) {
        ngx_destroy_pool(conn->parse.scratch);
        conn->parse.scratch = NULL;
    }

    conn->parse.scratch_used = 0;
}


/* What a callback got from hiredis: the reply, or NULL if discarded. */
ngx_http_ticket_reply_t *
ngx_http_ticket_reader_reply(void *reply)
{
    ngx_http_ticket_parse_t  *parse = reply;

    return parse ? parse->root : NULL;
}


static void *
ngx_http_ticket_reader_string(const redisReadTask *task, char *str,
    size_t len)
{
    void                     *obj;
    u_char                   *data;
    ngx_int_t                 rc;
    ngx_http_ticket_parse_t  *parse;
    ngx_http_ticket_reply_t  *node;

    rc = ngx_http_ticket_reader_node(task, &node, &obj);

    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? obj : NULL;
    }

    parse = task->privdata;

    /* NUL-terminated: tk_* parsers and a few views rely on it */
    data = ngx_pnalloc(parse->pool, len + 1);
    if (data == NULL) {
        return ngx_http_ticket_reader_failed(parse);
    }

    ngx_memcpy(data, str, len);
    data[len] = '\0';

    ngx_http_ticket_reader_init_node(node, task->type);
    node->str.len = len;
    node->str.data = data;

    return obj;
}


static void *
ngx_http_ticket_reader_array(const redisReadTask *task, int elements)
{
    void                     *obj;
    ngx_int_t                 rc;
    ngx_http_ticket_parse_t  *parse;
    ngx_http_ticket_reply_t  *node, *element;

    rc = ngx_http_ticket_reader_node(task, &node, &obj);

    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? obj : NULL;
    }

    parse = task->privdata;
    element = NULL;

    if (elements > 0) {
        /* filled in by the children, each at its index */
        element = ngx_palloc(parse->pool,
                             elements * sizeof(ngx_http_ticket_reply_t));
        if (element == NULL) {
            return ngx_http_ticket_reader_failed(parse);
        }
    }

    ngx_http_ticket_reader_init_node(node, REDIS_REPLY_ARRAY);
    node->nelem = elements > 0 ? (size_t) elements : 0;
    node->element = element;

    return obj;
}


static void *
ngx_http_ticket_reader_integer(const redisReadTask *task, long long value)
{
    return ngx_http_ticket_reader_scalar(task, REDIS_REPLY_INTEGER, value);
}


static void *
ngx_http_ticket_reader_nil(const redisReadTask *task)
{
    return ngx_http_ticket_reader_scalar(task, REDIS_REPLY_NIL, 0);
}


/* An integer or a nil: a node without a string or elements. */
static void *
ngx_http_ticket_reader_scalar(const redisReadTask *task, int type,
    long long value)
{
    void                     *obj;
    ngx_int_t                 rc;
    ngx_http_ticket_reply_t  *node;

    rc = ngx_http_ticket_reader_node(task, &node, &obj);

    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? obj : NULL;
    }

    ngx_http_ticket_reader_init_node(node, type);
    node->integer = value;

    return obj;
}


/*
 * hiredis is done with a reply: after its callback, or when it drops a
 * half-read one (protocol error, connection freed).  obj is always the
 * connection's parse state; a request's nodes go with its pool, a
 * scratch reply is given back here, so scratch never holds more than
 * the one reply being read.
 */
static void
ngx_http_ticket_reader_free(void *obj)
{
    ngx_http_ticket_parse_t  *parse = obj;

    parse->root = NULL;
    parse->pool = NULL;
    parse->slot = NULL;

    ngx_http_ticket_reader_release(parse);
}


static void
ngx_http_ticket_reader_release(ngx_http_ticket_parse_t *parse)
{
    if (!parse->scratch_used) {
        return;
    }

    parse->scratch_used = 0;

    if (parse->scratch->d.next == NULL) {
        ngx_reset_pool(parse->scratch);
        return;
    }

    /* it grew past its first block: do not keep that for good */
    ngx_destroy_pool(parse->scratch);
    parse->scratch = NULL;
}


/*
 * The node the value of task goes into: the root of a reply (see
 * ngx_http_ticket_reader_begin) or an element of its parent array.
 * *obj is what hiredis keeps for the value: the parse state for a root
 * (all hiredis ever hands back to us), the node itself below.
 * NGX_DECLINED: discard the value; NGX_ERROR: out of memory.
 */
static ngx_int_t
ngx_http_ticket_reader_node(const redisReadTask *task,
    ngx_http_ticket_reply_t **node, void **obj)
{
    ngx_http_ticket_parse_t *parse = task->privdata;

    ngx_int_t                 rc;
    ngx_http_ticket_slot_t   *slot;
    ngx_http_ticket_reply_t  *parent;

    *obj = parse;

    if (task->parent == NULL) {
        rc = ngx_http_ticket_reader_begin(parse);

        if (rc != NGX_OK) {
            return rc;
        }

        *node = parse->root;
        return NGX_OK;
    }

    if (parse->root == NULL) {
        return NGX_DECLINED;
    }

    slot = parse->slot;

    if (slot && (slot->generation != parse->generation || slot->orphaned
                 || slot->status))
    {
        /*
         * the request went away (or failed) in the middle of this reply:
         * its pool, and the part already built, are gone; read the rest
         * into nothing
         */
        parse->root = NULL;
        parse->pool = NULL;
        return NGX_DECLINED;
    }

    parent = (task->parent->parent == NULL) ? parse->root
                                            : task->parent->obj;

    *node = &parent->element[task->idx];
    *obj = *node;

    return NGX_OK;
}


/*
 * A new reply starts: into the slot's reply array in its request's pool
 * when the step will read it; into nothing when no one will (a dead
 * request's, a failed batch's, UNWATCH's with no callback); otherwise
 * (the schema check, WATCH/MULTI/QUEUED, an error with nothing pending)
 * into the connection's scratch pool until hiredis frees it.
 */
static ngx_int_t
ngx_http_ticket_reader_begin(ngx_http_ticket_parse_t *parse)
{
    ngx_uint_t               i;
    redisCallback           *cb;
    ngx_http_ticket_slot_t  *slot;

    parse->root = NULL;
    parse->pool = NULL;
    parse->slot = NULL;

    /* hiredis frees no reply it failed to create the root of */
    ngx_http_ticket_reader_release(parse);

    cb = parse->ac->replies.head;

    if (cb && cb->fn == NULL) {
        return NGX_DECLINED;
    }

    if (cb && cb->fn == parse->batch_fn) {
        slot = cb->privdata;
        i = slot->received;

        if (slot->orphaned || slot->status) {
            return NGX_DECLINED;
        }

        if (i >= slot->skip) {
            parse->slot = slot;
            parse->generation = slot->generation;
            parse->pool = slot->request->pool;
            parse->root = &slot->replies[i - slot->skip];
            return NGX_OK;
        }
    }

    if (parse->scratch == NULL) {
        parse->scratch = ngx_create_pool(NGX_HTTP_TICKET_SCRATCH_SIZE,
                                         ngx_http_ticket_worker
                                         ? ngx_http_ticket_worker->log
                                         : ngx_cycle->log);
        if (parse->scratch == NULL) {
            return NGX_ERROR;
        }
    }

    parse->scratch_used = 1;
    parse->pool = parse->scratch;
    parse->root = &parse->reply;

    return NGX_OK;
}


/*
 * No memory for a node.  A request's batch fails alone (500) and the
 * rest of the reply is discarded; for scratch, hiredis reports out of
 * memory and drops the connection.
 */
static void *
ngx_http_ticket_reader_failed(ngx_http_ticket_parse_t *parse)
{
    if (parse->slot == NULL) {
        return NULL;
    }

    if (parse->slot->status == 0) {
        parse->slot->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    parse->root = NULL;
    parse->pool = NULL;

    return parse;
}


/* Every field set: element arrays come from ngx_palloc, not zeroed. */
static void
ngx_http_ticket_reader_init_node(ngx_http_ticket_reply_t *node, int type)
{
    node->type = type;
    node->integer = 0;
    ngx_str_set(&node->str, "");
    node->nelem = 0;
    node->element = NULL;
}


/* ---- replies ------------------------------------------------------------ */

ngx_int_t
ngx_http_ticket_reply_is_error(ngx_http_ticket_reply_t *rep)
{
    return rep == NULL || rep->type == REDIS_REPLY_ERROR;
}


/*
 * Redis refusing a write: OOM (maxmemory with noeviction), MISCONF (the
 * AOF or RDB cannot be written), READONLY (a replica).  An outage, not
 * a bug: callers answer 503 and say that nothing was saved.  (The
 * EXECABORT after such a refusal is not listed: it follows any refused
 * command, also one of ours that is wrong.)
 */
ngx_int_t
ngx_http_ticket_reply_refused(ngx_str_t *err)
{
    ngx_uint_t          k;
    size_t              n;
    static const char  *refusals[] = { "OOM ", "MISCONF ", "READONLY ",
                                       NULL };

    for (k = 0; refusals[k]; k++) {
        n = ngx_strlen(refusals[k]);

        if (err->len >= n && ngx_strncmp(err->data, refusals[k], n) == 0) {
            return 1;
        }
    }

    return 0;
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


void
ngx_http_ticket_reply_value(ngx_http_ticket_reply_t *rep, const char *field,
    ngx_str_t *value)
{
    ngx_str_t  *v;

    v = ngx_http_ticket_reply_field(rep, field);

    if (v == NULL) {
        ngx_str_set(value, "");
        return;
    }

    *value = *v;
}
