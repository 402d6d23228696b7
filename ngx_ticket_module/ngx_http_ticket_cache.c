/*
 * ngx_http_ticket_cache.c -- the page cache: rendered fragments in a
 * shared memory zone, found by key, valid for one version of a Redis
 * counter.  The zone is nginx's usual kind (limit_req, ssl sessions): a
 * slab pool, a red-black tree keyed by a hash of the key (the key itself
 * is compared too), a least-recently-used queue that gives room when the
 * slab has none, all under the pool's mutex.
 *
 * Why a fragment is never stale: a view reads the counter *before* (or
 * earlier in the same pipeline than) the data it renders, and every
 * writer bumps the counter in the same MULTI as its change.  So the data
 * rendered is at least as new as the version it is stored under, and it
 * is served only to a request that read the very same version -- i.e.
 * nothing was written in between.  Counters only grow; a lower value
 * means the data was reset, and the cache starts over.
 *
 * Why it never leaks across users: the key holds everything the
 * fragment depends on besides the data (the user's groups and rights,
 * login where "mine" matters, language, URL, sort, filters, page), and
 * the checks that decide whether a user may see a page at all run on
 * every request before the cache is asked.
 */

#include "ngx_http_ticket_cache.h"


typedef struct {
    ngx_rbtree_node_t          node;            /* node.key: crc32 of key */
    ngx_queue_t                queue;           /* LRU, newest first */
    uint64_t                   version;
    ngx_uint_t                 flags;
    size_t                     key_len;
    size_t                     meta_len;
    size_t                     body_len;
    u_char                     data[1];         /* key, meta, body */
} ngx_http_ticket_cache_node_t;


typedef struct {
    ngx_rbtree_t               rbtree;
    ngx_rbtree_node_t          sentinel;
    ngx_queue_t                lru;
    ngx_atomic_uint_t          epoch;           /* +1 per flush */
} ngx_http_ticket_cache_sh_t;


/* shm_zone->data: one per configuration, pointing into the zone */
typedef struct {
    ngx_http_ticket_cache_sh_t  *sh;
    ngx_slab_pool_t             *shpool;
    size_t                       max_entry;
} ngx_http_ticket_cache_t;


static ngx_int_t ngx_http_ticket_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_ticket_cache_t *ngx_http_ticket_cache(ngx_http_request_t *r);
static void ngx_http_ticket_cache_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_ticket_cache_node_t *ngx_http_ticket_cache_lookup(
    ngx_http_ticket_cache_t *cache, ngx_str_t *key, uint32_t hash);
static void ngx_http_ticket_cache_delete(ngx_http_ticket_cache_t *cache,
    ngx_http_ticket_cache_node_t *cn);
static void ngx_http_ticket_cache_flush(ngx_http_ticket_cache_t *cache);
static void ngx_http_ticket_cache_store(ngx_http_request_t *r,
    ngx_http_ticket_cache_t *cache, ngx_http_ticket_cache_item_t *item,
    uint32_t hash, ngx_chain_t *body, ngx_uint_t epoch);


/*
 * The last tk:{ix}:gen this worker read.  A worker sends all its reads on
 * one pipelined connection, so it sees the values in the order Redis gave
 * them: lower than before can only be a reset, never a race with another
 * reader (across workers, values do arrive out of order).
 */
static uint64_t    ngx_http_ticket_cache_gen_seen;
static ngx_flag_t  ngx_http_ticket_cache_gen_known;


/* ---- the zone ----------------------------------------------------------- */

ngx_shm_zone_t *
ngx_http_ticket_cache_add_zone(ngx_conf_t *cf, size_t size)
{
    ngx_str_t                 name;
    ngx_shm_zone_t           *shm_zone;
    ngx_http_ticket_cache_t  *cache;

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_ticket_cache_t));
    if (cache == NULL) {
        return NULL;
    }

    ngx_str_set(&name, "ticket_cache");

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_ticket_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared memory zone \"%V\" is already used",
                           &name);
        return NULL;
    }

    shm_zone->init = ngx_http_ticket_cache_init_zone;
    shm_zone->data = cache;

    return shm_zone;
}


static ngx_int_t
ngx_http_ticket_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_ticket_cache_t  *ocache = data;

    size_t                    len;
    ngx_http_ticket_cache_t  *cache;

    cache = shm_zone->data;
    cache->max_entry = shm_zone->shm.size / NGX_HTTP_TICKET_CACHE_ENTRY_SHARE;

    if (ocache) {
        /*
         * A reload keeps the zone but empties it: after restoring Redis
         * from a backup (the counters went back in time) "nginx -s
         * reload" is all it takes.  Workers of the old configuration
         * still running cannot store what they render any more either.
         */
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;

        ngx_shmtx_lock(&cache->shpool->mutex);
        ngx_http_ticket_cache_flush(cache);
        ngx_shmtx_unlock(&cache->shpool->mutex);

        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return NGX_OK;
    }

    cache->sh = ngx_slab_alloc(cache->shpool,
                               sizeof(ngx_http_ticket_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(cache->sh, sizeof(ngx_http_ticket_cache_sh_t));
    cache->shpool->data = cache->sh;

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_http_ticket_cache_insert);
    ngx_queue_init(&cache->sh->lru);

    len = sizeof(" in ticket_cache_zone \"\"") + shm_zone->shm.name.len;

    cache->shpool->log_ctx = ngx_slab_alloc(cache->shpool, len);
    if (cache->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cache->shpool->log_ctx, " in ticket_cache_zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone is normal: the oldest entries make room */
    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


ngx_flag_t
ngx_http_ticket_cache_enabled(ngx_http_request_t *r)
{
    ngx_http_ticket_loc_conf_t   *lcf;
    ngx_http_ticket_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ticket_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    return mcf->cache_zone != NULL && lcf->cache;
}


static ngx_http_ticket_cache_t *
ngx_http_ticket_cache(ngx_http_request_t *r)
{
    ngx_http_ticket_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ticket_module);

    return mcf->cache_zone ? mcf->cache_zone->data : NULL;
}


/* ---- the generation ----------------------------------------------------- */

void
ngx_http_ticket_cache_generation(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t gen)
{
    ngx_http_ticket_cache_t  *cache;

    cache = ngx_http_ticket_cache(r);
    if (cache == NULL) {
        return;
    }

    if (ngx_http_ticket_cache_gen_known
        && gen < ngx_http_ticket_cache_gen_seen)
    {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "ticket: %s went back from %uL to %uL (Redis was "
                      "reset or restored): the page cache starts over",
                      TK_KEY_INDEX_GEN, ngx_http_ticket_cache_gen_seen, gen);

        ngx_shmtx_lock(&cache->shpool->mutex);
        ngx_http_ticket_cache_flush(cache);
        ngx_shmtx_unlock(&cache->shpool->mutex);
    }

    ngx_http_ticket_cache_gen_seen = gen;
    ngx_http_ticket_cache_gen_known = 1;

    /* read after the generation: a flush from now on outdates this
     * request's stores (put checks it again under the lock) */
    ctx->cache_epoch = cache->sh->epoch;
    ctx->cache_gen = gen;
    ctx->cache = 1;
}


/* After a lost link: the versions may count again on other data. */
void
ngx_http_ticket_cache_relinked(ngx_http_ticket_main_conf_t *mcf,
    ngx_log_t *log)
{
    ngx_http_ticket_cache_t  *cache;

    if (mcf->cache_zone == NULL) {
        return;
    }

    cache = mcf->cache_zone->data;

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "ticket: redis is back after a lost link (failover or "
                  "restart): the page cache starts over");

    ngx_shmtx_lock(&cache->shpool->mutex);
    ngx_http_ticket_cache_flush(cache);
    ngx_shmtx_unlock(&cache->shpool->mutex);

    /* the new server's generation is the one to compare with */
    ngx_http_ticket_cache_gen_known = 0;
}


/* ---- get and put -------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_cache_get(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_cache_item_t *item)
{
    u_char                        *p;
    uint32_t                       hash;
    ngx_http_ticket_cache_t       *cache;
    ngx_http_ticket_cache_node_t  *cn;

    cache = ngx_http_ticket_cache(r);

    if (cache == NULL || !ctx->cache) {
        return NGX_DECLINED;
    }

    hash = ngx_crc32_long(item->key.data, item->key.len);

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_ticket_cache_lookup(cache, &item->key, hash);

    if (cn == NULL || ctx->cache_epoch != cache->sh->epoch
        || cn->version != item->version)
    {
        /* versions only grow: an older one is of no use to anyone */
        if (cn && cn->version < item->version
            && ctx->cache_epoch == cache->sh->epoch)
        {
            ngx_http_ticket_cache_delete(cache, cn);
        }

        ngx_shmtx_unlock(&cache->shpool->mutex);

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "ticket cache miss \"%V\" %uL", &item->key,
                       item->version);

        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, cn->meta_len + cn->body_len + 1);
    if (p == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_ERROR;
    }

    item->flags = cn->flags;

    item->meta.data = p;
    item->meta.len = cn->meta_len;
    p = ngx_cpymem(p, cn->data + cn->key_len, cn->meta_len);

    item->body.data = p;
    item->body.len = cn->body_len;
    ngx_memcpy(p, cn->data + cn->key_len + cn->meta_len, cn->body_len);

    ngx_queue_remove(&cn->queue);
    ngx_queue_insert_head(&cache->sh->lru, &cn->queue);

    ngx_shmtx_unlock(&cache->shpool->mutex);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "ticket cache hit \"%V\" %uL, %uz bytes", &item->key,
                   item->version, item->body.len);

    return NGX_OK;
}


void
ngx_http_ticket_cache_put(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_cache_item_t *item, ngx_chain_t *body)
{
    ngx_http_ticket_cache_t  *cache;

    cache = ngx_http_ticket_cache(r);

    if (cache == NULL || !ctx->cache || item->key.len == 0) {
        return;
    }

    ngx_http_ticket_cache_store(r, cache, item,
                                ngx_crc32_long(item->key.data, item->key.len),
                                body, ctx->cache_epoch);
}


/*
 * Store body under item (hash: of item->key).  A flush since the request
 * read its epoch (epoch != the zone's) keeps it out: it may be older
 * than what the flush was for.  Too large or no room: nothing stored.
 */
static void
ngx_http_ticket_cache_store(ngx_http_request_t *r,
    ngx_http_ticket_cache_t *cache, ngx_http_ticket_cache_item_t *item,
    uint32_t hash, ngx_chain_t *body, ngx_uint_t epoch)
{
    u_char                        *p;
    size_t                         len, size;
    ngx_chain_t                   *cl;
    ngx_queue_t                   *q;
    ngx_http_ticket_cache_node_t  *cn, *old;

    len = 0;

    for (cl = body; cl; cl = cl->next) {
        len += cl->buf->last - cl->buf->pos;
    }

    size = offsetof(ngx_http_ticket_cache_node_t, data) + item->key.len
           + item->meta.len + len;

    if (size > cache->max_entry) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "ticket cache: \"%V\" too large (%uz bytes)",
                       &item->key, size);
        return;
    }

    ngx_shmtx_lock(&cache->shpool->mutex);

    if (epoch != cache->sh->epoch) {
        /* flushed since this request read the generation */
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return;
    }

    old = ngx_http_ticket_cache_lookup(cache, &item->key, hash);

    if (old) {
        if (old->version >= item->version) {
            /* the same, or rendered by a request that read later */
            ngx_shmtx_unlock(&cache->shpool->mutex);
            return;
        }

        ngx_http_ticket_cache_delete(cache, old);
    }

    for ( ;; ) {
        cn = ngx_slab_alloc_locked(cache->shpool, size);
        if (cn) {
            break;
        }

        if (ngx_queue_empty(&cache->sh->lru)) {
            ngx_shmtx_unlock(&cache->shpool->mutex);
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "ticket: no room for %uz bytes in "
                          "ticket_cache_zone", size);
            return;
        }

        q = ngx_queue_last(&cache->sh->lru);
        ngx_http_ticket_cache_delete(cache,
            ngx_queue_data(q, ngx_http_ticket_cache_node_t, queue));
    }

    cn->node.key = hash;
    cn->version = item->version;
    cn->flags = item->flags;
    cn->key_len = item->key.len;
    cn->meta_len = item->meta.len;
    cn->body_len = len;

    p = ngx_cpymem(cn->data, item->key.data, item->key.len);
    p = ngx_cpymem(p, item->meta.data, item->meta.len);

    for (cl = body; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    ngx_rbtree_insert(&cache->sh->rbtree, &cn->node);
    ngx_queue_insert_head(&cache->sh->lru, &cn->queue);

    ngx_shmtx_unlock(&cache->shpool->mutex);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "ticket cache store \"%V\" %uL, %uz bytes", &item->key,
                   item->version, len);
}


/* ---- fragments that carry their data in the key --------------------------- */

/*
 * An overview row is rendered from its packed row in tk:{ix}:rows, the
 * language, the columns and the day, and all of that is its key: no
 * counter to compare, no version -- a change to the ticket changes the
 * row and so the key, and the old entry ages out of the LRU.  So the
 * rows of an overview survive the write that outdated its page, and the
 * next view renders only what changed.  murmur2 rather than crc32: the
 * key is a few hundred bytes and there are 50 of them per page.
 */
ngx_int_t
ngx_http_ticket_cache_frag_get(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *body)
{
    uint32_t                       hash;
    ngx_http_ticket_cache_t       *cache;
    ngx_http_ticket_cache_node_t  *cn;

    cache = ngx_http_ticket_cache(r);
    if (cache == NULL) {
        return NGX_DECLINED;
    }

    hash = ngx_murmur_hash2(key->data, key->len);

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_ticket_cache_lookup(cache, key, hash);

    if (cn == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_DECLINED;
    }

    body->len = cn->body_len;
    body->data = ngx_pnalloc(r->pool, cn->body_len);
    if (body->data == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_ERROR;
    }

    ngx_memcpy(body->data, cn->data + cn->key_len + cn->meta_len,
               cn->body_len);

    ngx_queue_remove(&cn->queue);
    ngx_queue_insert_head(&cache->sh->lru, &cn->queue);

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return NGX_OK;
}


void
ngx_http_ticket_cache_frag_put(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *body)
{
    ngx_buf_t                      b;
    ngx_chain_t                    cl;
    ngx_http_ticket_cache_t       *cache;
    ngx_http_ticket_cache_item_t   item;

    cache = ngx_http_ticket_cache(r);
    if (cache == NULL || key->len == 0) {
        return;
    }

    ngx_memzero(&item, sizeof(ngx_http_ticket_cache_item_t));
    item.key = *key;

    ngx_memzero(&b, sizeof(ngx_buf_t));
    b.pos = body->data;
    b.last = body->data + body->len;
    cl.buf = &b;
    cl.next = NULL;

    /* the zone's own epoch: a flush cannot outdate what the key holds */
    ngx_http_ticket_cache_store(r, cache, &item,
                                ngx_murmur_hash2(key->data, key->len), &cl,
                                cache->sh->epoch);
}


/* ---- keys --------------------------------------------------------------- */

size_t
ngx_http_ticket_cache_groups_len(ngx_http_ticket_ctx_t *ctx)
{
    size_t                          len;
    ngx_uint_t                      i;
    ngx_http_ticket_group_right_t  *gr;

    gr = ctx->groups.elts;
    len = 0;

    for (i = 0; i < ctx->groups.nelts; i++) {
        len += gr[i].name.len + 2 + NGX_INT_T_LEN;
    }

    return len;
}


/* Group names hold no ":" or "," (tk_valid_group): unambiguous. */
u_char *
ngx_http_ticket_cache_groups(u_char *p, ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                      i;
    ngx_http_ticket_group_right_t  *gr;

    gr = ctx->groups.elts;

    for (i = 0; i < ctx->groups.nelts; i++) {
        p = ngx_sprintf(p, "%V:%i,", &gr[i].name, gr[i].right);
    }

    return p;
}


/* ---- the tree ----------------------------------------------------------- */

static void
ngx_http_ticket_cache_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t             **p;
    ngx_http_ticket_cache_node_t   *cn, *cnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            cn = (ngx_http_ticket_cache_node_t *) node;
            cnt = (ngx_http_ticket_cache_node_t *) temp;

            p = (ngx_memn2cmp(cn->data, cnt->data, cn->key_len, cnt->key_len)
                 < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_http_ticket_cache_node_t *
ngx_http_ticket_cache_lookup(ngx_http_ticket_cache_t *cache, ngx_str_t *key,
    uint32_t hash)
{
    ngx_int_t                      rc;
    ngx_rbtree_node_t             *node, *sentinel;
    ngx_http_ticket_cache_node_t  *cn;

    node = cache->sh->rbtree.root;
    sentinel = cache->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        cn = (ngx_http_ticket_cache_node_t *) node;

        rc = ngx_memn2cmp(key->data, cn->data, key->len, cn->key_len);

        if (rc == 0) {
            return cn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* The pool's mutex is held. */
static void
ngx_http_ticket_cache_delete(ngx_http_ticket_cache_t *cache,
    ngx_http_ticket_cache_node_t *cn)
{
    ngx_queue_remove(&cn->queue);
    ngx_rbtree_delete(&cache->sh->rbtree, &cn->node);
    ngx_slab_free_locked(cache->shpool, cn);
}


/* Everything goes, and what requests of the old epoch render stays out.
 * The pool's mutex is held. */
static void
ngx_http_ticket_cache_flush(ngx_http_ticket_cache_t *cache)
{
    ngx_queue_t  *q;

    while (!ngx_queue_empty(&cache->sh->lru)) {
        q = ngx_queue_last(&cache->sh->lru);
        ngx_http_ticket_cache_delete(cache,
            ngx_queue_data(q, ngx_http_ticket_cache_node_t, queue));
    }

    cache->sh->epoch++;
}
