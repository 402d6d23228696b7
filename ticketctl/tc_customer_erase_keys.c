/*
 * tc_customer_erase_keys.c -- what "ticketctl customer erase" does
 * outside the tickets' own keys (tc_customer_erase.c): the customer
 * hash and address index, PGP key metadata, raw-mail hashes and the
 * quarantine (SCAN), the entries of every stream that name them, the
 * rewrite of Redis's files, and --verify's read of the whole database.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tc_customer.h"
#include "tc_customer_erase.h"


/* ---- outside the tickets ------------------------------------------------ */

static int
tc_erase_own(tc_erase_t *e, uint64_t n)
{
    size_t  i;

    for (i = 0; e->del && i < e->cu->nown; i++) {
        if (e->cu->own[i] == n) {
            return 1;
        }
    }
    return 0;
}


/* SCAN MATCH pattern, each key through fn */
static int
tc_erase_scan(tc_erase_t *e, const char *pattern, const char *type,
    int (*fn)(tc_erase_t *e, const char *key))
{
    redisReply  *r;
    char        *cursor = strdup("0");
    size_t       i;
    int          rc = EX_OK;

    do {
        r = type ? tc_command(e->ctx, "SCAN %s MATCH %s COUNT 1000 TYPE %s",
                              cursor, pattern, type)
                 : tc_command(e->ctx, "SCAN %s MATCH %s COUNT 1000", cursor,
                              pattern);
        free(cursor);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            return EX_UNAVAILABLE;
        }
        cursor = strdup(r->element[0]->str);
        for (i = 0; rc == EX_OK && i < r->element[1]->elements; i++) {
            rc = fn(e, r->element[1]->element[i]->str);
        }
        freeReplyObject(r);
    } while (rc == EX_OK && strcmp(cursor, "0") != 0);

    free(cursor);
    return rc;
}


static int
tc_erase_cmd(tc_erase_t *e, redisReply *r)
{
    if (r == NULL) {
        return EX_UNAVAILABLE;
    }
    freeReplyObject(r);
    (void) e;
    return EX_OK;
}


/* tk:raw:SHA -> "N:A" of a deleted ticket: the duplicate check of a
 * mail that is gone */
static int
tc_erase_rawhash(tc_erase_t *e, const char *key)
{
    redisReply  *r = tc_command(e->ctx, "GET %s", key);
    int          hit;

    if (r == NULL) {
        return EX_UNAVAILABLE;
    }
    hit = r->type == REDIS_REPLY_STRING
          && (tc_erase_own(e, strtoull(r->str, NULL, 10)) || !e->del);
    if (hit && !e->del) {
        size_t  i;

        hit = 0;
        for (i = 0; i < e->cu->nown; i++) {
            hit |= strtoull(r->str, NULL, 10) == e->cu->own[i];
        }
    }
    freeReplyObject(r);
    return hit ? tc_erase_cmd(e, tc_command(e->ctx, "DEL %s", key)) : EX_OK;
}


/* a quarantined mail of theirs */
static int
tc_erase_quarantine(tc_erase_t *e, const char *key)
{
    redisReply  *r = tc_command(e->ctx, "HGET %s raw", key);
    int          hit;

    if (r == NULL) {
        return EX_UNAVAILABLE;
    }
    hit = r->type == REDIS_REPLY_STRING && tc_cust_hit(e->cu, r->str, r->len);
    freeReplyObject(r);
    if (!hit) {
        return EX_OK;
    }
    return tc_erase_cmd(e, tc_command(e->ctx, "ZREM " TK_KEY_QUARANTINE " %s",
                                      key + sizeof(TK_PFX_QUARANTINE) - 1))
           || tc_erase_cmd(e, tc_command(e->ctx, "DEL %s", key));
}


/* key metadata naming them; the keyring follows through a request */
static int
tc_erase_pgp(tc_erase_t *e)
{
    redisReply  *keys, *k;
    size_t       i, j;
    char         key[TK_KEY_MAX];
    int          hit, rc = EX_OK;

    for (i = 0; i < e->cu->naddrs; i++) {
        rc |= tc_erase_cmd(e, tc_command(e->ctx, "HDEL " TK_KEY_PGP_ADDR " %s",
                                         e->cu->addrs[i]));
    }

    keys = tc_command(e->ctx, "SMEMBERS " TK_KEY_PGP_KEYS);
    if (keys == NULL) {
        return EX_UNAVAILABLE;
    }
    for (i = 0; keys->type == REDIS_REPLY_ARRAY && i < keys->elements; i++) {
        snprintf(key, sizeof(key), TK_FMT_PGP_KEY, keys->element[i]->str);
        k = tc_command(e->ctx, "HGETALL %s", key);
        if (k == NULL) {
            rc = EX_UNAVAILABLE;
            break;
        }
        hit = 0;
        for (j = 0; k->type == REDIS_REPLY_ARRAY && j < k->elements; j++) {
            hit |= tc_cust_hit(e->cu, k->element[j]->str, k->element[j]->len);
        }
        freeReplyObject(k);
        if (hit) {
            rc |= tc_erase_cmd(e, tc_command(e->ctx, "DEL %s", key));
            rc |= tc_erase_cmd(e, tc_command(e->ctx, "SREM " TK_KEY_PGP_KEYS
                                             " %s", keys->element[i]->str));
            rc |= tc_erase_cmd(e, tc_command(e->ctx, "XADD "
                               TK_KEY_PGP_REQUESTS " * " TK_F_PGP_OP " delete"
                               " login ticketctl role admin " TK_F_PGP_FPR
                               " %s", keys->element[i]->str));
        }
    }
    freeReplyObject(keys);
    return rc ? EX_UNAVAILABLE : EX_OK;
}


int
tc_erase_rest(tc_erase_t *e)
{
    char    key[TK_KEY_MAX];
    size_t  i;
    int     rc = EX_OK;

    if (e->cu->id) {
#ifdef TK_FMTS_ORG
        /* their organisation's member set and count (tk_customer.c) */
        for (i = 0; e->cu->customer_hash
                    && e->cu->customer_hash->type == REDIS_REPLY_ARRAY
                    && i + 1 < e->cu->customer_hash->elements; i += 2)
        {
            redisReply  *fv = e->cu->customer_hash->element[i + 1];
            tk_str_t     org;

            if (strcmp(e->cu->customer_hash->element[i]->str,
                       TK_F_ORGANISATION) != 0 || fv->len == 0)
            {
                continue;
            }
            org.data = (unsigned char *) fv->str;
            org.len = fv->len;
            rc |= tc_erase_cmd(e, tc_command(e->ctx, "SREM " TK_FMT_ORG
                               " %llu", fv->str,
                               (unsigned long long) e->cu->id));
            rc |= tc_erase_cmd(e, tc_command(e->ctx, "ZINCRBY " TK_KEY_ORGS
                               " -1 %s", fv->str));
            rc |= tc_erase_cmd(e, tc_command(e->ctx, "ZREMRANGEBYSCORE "
                               TK_KEY_ORGS " -inf 0"));
            (void) org;
        }
#endif
        tk_key_customer(key, sizeof(key), e->cu->id);
        rc |= tc_erase_cmd(e, tc_command(e->ctx, "DEL %s", key));
        if (!e->del) {
            rc |= tc_erase_cmd(e, tc_command(e->ctx, "HSET %s " TK_F_ID " %llu "
                               TK_F_NAME " %s " TK_F_EMAIL " %s", key,
                               (unsigned long long) e->cu->id, TK_ANON_NAME,
                               e->anon));
        }
    }
    for (i = 0; i < e->cu->naddrs; i++) {
        rc |= tc_erase_cmd(e, tc_command(e->ctx, "HDEL "
                           TK_KEY_CUSTOMER_BY_EMAIL " %s", e->cu->addrs[i]));
    }
    if (rc) {
        return EX_UNAVAILABLE;
    }

    if ((rc = tc_erase_pgp(e)) != EX_OK
        || (rc = tc_erase_scan(e, TK_PATTERN_RAWHASH, NULL,
                               tc_erase_rawhash)) != EX_OK
        || (rc = tc_erase_scan(e, TK_PFX_QUARANTINE "*", "hash",
                               tc_erase_quarantine)) != EX_OK)
    {
        return rc;
    }

    /* whatever a cached page or overview showed of them is stale */
    return tc_erase_cmd(e, tc_command(e->ctx, "INCR " TK_KEY_INDEX_GEN));
}


/* ---- streams: feed, notifications, requests ----------------------------- */

static int
tc_erase_stream(tc_erase_t *e, const char *key)
{
    redisReply  *r, *groups, *f;
    char        *start = strdup("-");
    size_t       i, j, g;
    int          hit, rc = EX_OK, ticketed;

    if (strcmp(key, TK_KEY_AUDIT) == 0) {
        free(start);
        return EX_OK;
    }
    ticketed = strcmp(key, TK_KEY_FEED) == 0 || strcmp(key, TK_KEY_NOTIFY) == 0;
    groups = tc_command(e->ctx, "XINFO GROUPS %s", key);

    for ( ;; ) {
        r = tc_command(e->ctx, "XRANGE %s %s + COUNT 500", key, start);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
            rc = EX_UNAVAILABLE;
            break;
        }
        for (i = 0; i < r->elements; i++) {
            f = r->element[i]->element[1];
            hit = 0;
            for (j = 0; f->type == REDIS_REPLY_ARRAY && j + 1 < f->elements;
                 j += 2)
            {
                hit |= tc_cust_hit(e->cu, f->element[j + 1]->str,
                                   f->element[j + 1]->len);
                hit |= ticketed && strcmp(f->element[j]->str, "ticket") == 0
                       && tc_erase_own(e, strtoull(f->element[j + 1]->str,
                                                   NULL, 10));
            }
            if (!hit) {
                continue;
            }
            for (g = 0; groups && groups->type == REDIS_REPLY_ARRAY
                        && g < groups->elements; g++)
            {
                redisReply  *gr = groups->element[g];

                if (gr->type == REDIS_REPLY_ARRAY && gr->elements >= 2) {
                    rc |= tc_erase_cmd(e, tc_command(e->ctx, "XACK %s %s %s",
                                       key, gr->element[1]->str,
                                       r->element[i]->element[0]->str));
                }
            }
            rc |= tc_erase_cmd(e, tc_command(e->ctx, "XDEL %s %s", key,
                                             r->element[i]->element[0]->str));
        }
        if (r->elements < 500) {
            freeReplyObject(r);
            break;
        }
        free(start);
        start = malloc(strlen(r->element[r->elements - 1]->element[0]->str)
                       + 2);
        sprintf(start, "(%s", r->element[r->elements - 1]->element[0]->str);
        freeReplyObject(r);
    }

    free(start);
    if (groups) {
        freeReplyObject(groups);
    }
    return rc ? EX_UNAVAILABLE : EX_OK;
}


int
tc_erase_streams(tc_erase_t *e)
{
    return tc_erase_scan(e, "tk:*", "stream", tc_erase_stream);
}


/* Redis's files on disk still hold the old values: the AOF is rewritten
 * and a snapshot taken now (when configured) rather than some day. */
void
tc_erase_persist(tc_ctx_t *ctx)
{
    redisReply  *r;
    int          aof = 0, rdb = 0;

    r = tc_command(ctx, "CONFIG GET appendonly");
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
        aof = strcmp(r->element[1]->str, "yes") == 0;
    }
    if (r) {
        freeReplyObject(r);
    }
    r = tc_command(ctx, "CONFIG GET save");
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
        rdb = r->element[1]->len > 0;
    }
    if (r) {
        freeReplyObject(r);
    }

    /* "already in progress" is fine: it started after our writes */
    if (aof && (r = tc_command(ctx, "BGREWRITEAOF"))) {
        freeReplyObject(r);
    }
    if (rdb && (r = tc_command(ctx, "BGSAVE SCHEDULE"))) {
        freeReplyObject(r);
    }
    printf("Redis files: %s%s\n", aof ? "AOF rewrite started" : "no AOF",
           rdb ? ", snapshot scheduled" : ", no snapshots");
}


/* ---- --verify: read every key, as t/dataprotection.t does --------------- */

static int
tc_verify_reply(const tc_cust_t *cu, redisReply *r)
{
    size_t  i;
    int     hit = 0;

    if (r == NULL) {
        return 0;
    }
    if (r->type == REDIS_REPLY_STRING) {
        return tc_cust_hit(cu, r->str, r->len);
    }
    for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        hit |= tc_verify_reply(cu, r->element[i]);
    }
    return hit;
}


/*
 * Every key name and value (strings, hashes, lists, sets, sorted sets,
 * streams; a gzip'd raw mail is checked as stored) that still names
 * them is printed -- keys of other features this command does not know
 * of.  Reads the whole database once: for after an erasure, not daily.
 */
int
tc_erase_verify(tc_ctx_t *ctx, tc_cust_t *cu)
{
    static const struct { const char *type, *fmt; }  rd[] = {
        { "string", "GET %s" }, { "hash", "HGETALL %s" },
        { "list", "LRANGE %s 0 -1" }, { "set", "SMEMBERS %s" },
        { "zset", "ZRANGE %s 0 -1" }, { "stream", "XRANGE %s - +" },
        { NULL, NULL }
    };
    redisReply     *r, *t, *v;
    char           *cursor = strdup("0");
    const char     *k;
    unsigned long   left = 0, keys = 0;
    size_t          i, j;

    do {
        r = tc_command(ctx, "SCAN %s COUNT 1000", cursor);
        free(cursor);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            return EX_UNAVAILABLE;
        }
        cursor = strdup(r->element[0]->str);
        for (i = 0; i < r->element[1]->elements; i++) {
            k = r->element[1]->element[i]->str;
            keys++;
            if (tc_cust_hit(cu, k, strlen(k))) {
                printf("left: key name %s\n", k);
                left++;
                continue;
            }
            t = tc_command(ctx, "TYPE %s", k);
            for (j = 0; t && rd[j].type; j++) {
                if (strcmp(t->str, rd[j].type) == 0) {
                    v = tc_command(ctx, rd[j].fmt, k);
                    if (tc_verify_reply(cu, v)) {
                        printf("left: %s %s\n", rd[j].type, k);
                        left++;
                    }
                    if (v) {
                        freeReplyObject(v);
                    }
                }
            }
            if (t) {
                freeReplyObject(t);
            }
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    free(cursor);

    printf("verified %lu keys: %lu still name them\n", keys, left);
    return left ? EX_DATAERR : EX_OK;
}
