/*
 * tc_customer_erase.c -- "ticketctl customer erase ADDRESS --mode
 * delete|anonymise --yes [--no-reindex]" (what goes: tc_customer.c).
 * One MULTI per ticket through the shared write path's index functions
 * (tk_ticket_index_del/_add, tk_ticket_write: counts, tk:{ix}:gen and
 * rev, so no overview or cached page shows them again), then the keys
 * outside the tickets, the streams, the audit entry and the full-text
 * rebuild.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tc_customer.h"
#include "tk_feed.h"
#ifdef TK_F_TAGS
#include "tk_tags.h"            /* once merged with the tags helper's work */
#endif


typedef struct {
    tc_ctx_t      *ctx;
    tc_cust_t     *cu;
    int            del;              /* mode delete, else anonymise   */
    char           anon[96];         /* anonymised-ID@invalid         */
    redisReply    *outbox;           /* XRANGE tk:{ix}:outbox         */
    unsigned long  articles;
} tc_erase_t;


static int tc_erase_ticket(tc_erase_t *e, uint64_t n, int own);
static int tc_erase_rest(tc_erase_t *e);
static int tc_erase_streams(tc_erase_t *e);
static void tc_erase_persist(tc_ctx_t *ctx);
static int tc_erase_verify(tc_ctx_t *ctx, tc_cust_t *cu);


int
tc_cust_erase(tc_ctx_t *ctx, int argc, char **argv)
{
    static const struct option  opts[] = {
        { "mode", required_argument, NULL, 'm' },
        { "yes", no_argument, NULL, 'y' },
        { "no-reindex", no_argument, NULL, 'R' },
        { "verify", no_argument, NULL, 'v' },
        { NULL, 0, NULL, 0 }
    };
    tc_cust_t   cu;
    const char *mode = NULL;
    int         opt, yes = 0, reindex = 1, verify = 0, rc;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "m:yRv", opts, NULL)) != -1) {
        switch (opt) {
        case 'm': mode = optarg; break;
        case 'y': yes = 1; break;
        case 'R': reindex = 0; break;
        case 'v': verify = 1; break;
        default: return tc_usage("customer");
        }
    }
    if (optind + 1 != argc || mode == NULL
        || (strcmp(mode, "delete") != 0 && strcmp(mode, "anonymise") != 0))
    {
        return tc_usage("customer");
    }

    if ((rc = tc_connect(ctx, 1)) != EX_OK) {
        return rc;
    }

    if (!yes) {
        if ((rc = tc_cust_find(ctx, argv[optind], &cu)) != EX_OK) {
            return rc;
        }
        printf("would %s %s (customer %llu, %zu addresses): %zu tickets, "
               "their address in %zu more; add --yes\n",
               strcmp(mode, "delete") == 0 ? "delete" : "anonymise",
               cu.addrs[0], (unsigned long long) cu.id, cu.naddrs, cu.nown,
               cu.npart);
        tc_cust_free(&cu);
        return EX_USAGE;
    }

    if (verify && (rc = tc_cust_find(ctx, argv[optind], &cu)) != EX_OK) {
        return rc;
    }
    rc = tc_cust_erase_run(ctx, argv[optind], strcmp(mode, "delete") == 0,
                           reindex, NULL, NULL, NULL);
    if (verify) {
        if (rc == EX_OK) {
            rc = tc_erase_verify(ctx, &cu);
        }
        tc_cust_free(&cu);
    }
    return rc;
}


/* The erasure itself (also for "customer work"); counts for the caller. */
int
tc_cust_erase_run(tc_ctx_t *ctx, const char *address, int del, int reindex,
    uint64_t *customer, size_t *tickets, unsigned long *articles)
{
    tc_cust_t   cu;
    tc_erase_t  e;
    const char *mode = del ? "delete" : "anonymise";
    size_t      i;
    int         rc;

    if ((rc = tc_cust_find(ctx, address, &cu)) != EX_OK) {
        return rc;
    }

    memset(&e, 0, sizeof(e));
    e.ctx = ctx;
    e.cu = &cu;
    e.del = del;
    snprintf(e.anon, sizeof(e.anon), TK_ANON_EMAIL_FMT,
             (unsigned long long) cu.id);
    e.outbox = tc_command(ctx, "XRANGE " TK_KEY_OUTBOX " - +");
    if (e.outbox == NULL) {
        tc_cust_free(&cu);
        return EX_UNAVAILABLE;
    }

    for (i = 0; rc == EX_OK && i < cu.nown; i++) {
        rc = tc_erase_ticket(&e, cu.own[i], 1);
    }
    for (i = 0; rc == EX_OK && i < cu.npart; i++) {
        rc = tc_erase_ticket(&e, cu.part[i], 0);
    }
    if (rc == EX_OK) {
        rc = tc_erase_rest(&e);
    }
    if (rc == EX_OK) {
        rc = tc_erase_streams(&e);
    }
    if (rc == EX_OK) {
        rc = tc_cust_audit(ctx, "erase", mode, &cu, e.articles);
    }
    if (rc == EX_OK) {
        printf("%s %s: %zu tickets, %zu mentions, %lu articles\n",
               e.del ? "deleted" : "anonymised", cu.addrs[0], cu.nown,
               cu.npart, e.articles);
    }
    if (rc == EX_OK && reindex) {
        rc = tc_reindex_fulltext(ctx);
    } else if (rc == EX_OK) {
        printf("the full-text index still holds their words: run "
               "\"ticketctl reindex --fulltext\" soon\n");
    }

    if (rc == EX_OK) {
        tc_erase_persist(ctx);
    }

    if (customer) {
        *customer = cu.id;
        *tickets = cu.nown + cu.npart;
        *articles = e.articles;
    }

    freeReplyObject(e.outbox);
    tc_cust_free(&cu);
    return rc;
}


static void
tc_erase_article(tc_erase_t *e, tk_cmds_t *c, uint64_t n, redisReply *a,
    int own)
{
    static const char *const  addr[] = {
        TK_F_FROM, TK_F_TO, TK_F_CC, TK_F_REPLY_TO, TK_F_BCC, NULL
    };
    static const char *const  gone[] = {
        TK_F_BODY, TK_F_BODY_HTML, TK_F_SUBJECT, TK_F_ATTACHMENT_NAMES,
        TK_F_MESSAGE_ID, TK_F_IN_REPLY_TO, TK_F_REFERENCES,
        TK_F_DELIVERY_INFO, NULL
    };
    char         key[TK_KEY_MAX], akey[TK_KEY_MAX];
    const char  *mid = "";
    uint64_t     id = 0;
    unsigned     k, natt = 0;
    size_t       i, j;
    int          named = 0;
    tk_str_t     m;

    for (i = 0; i + 1 < a->elements; i += 2) {
        const char  *f = a->element[i]->str;

        if (strcmp(f, TK_F_ID) == 0) {
            id = strtoull(a->element[i + 1]->str, NULL, 10);
        } else if (strcmp(f, TK_F_MESSAGE_ID) == 0) {
            mid = a->element[i + 1]->str;
        } else if (strcmp(f, TK_F_ATTACHMENTS) == 0) {
            natt = (unsigned) strtoul(a->element[i + 1]->str, NULL, 10);
        }
    }
    if (id == 0) {
        return;
    }
    e->articles++;
    tk_key_article(akey, sizeof(akey), n, id);

    if (own) {
        if (*mid) {
            tc_str(&m, mid);
            tk_key_msgid(key, sizeof(key), &m);
            tk_cmds_add(c, "DEL %s", key);
        }
        for (k = 1; k <= natt && k < 1000; k++) {
            tk_key_attachment(key, sizeof(key), n, id, k);
            tk_cmds_add(c, "DEL %s", key);
        }
        tk_key_raw(key, sizeof(key), n, id);
        tk_cmds_add(c, "DEL %s", key);
        tk_cmds_add(c, "FT.DEL " TK_KEY_FT_ARTICLES " %s", akey);
        tk_cmds_add(c, "ZREM " TK_KEY_OUTBOX_FAILED " %llu:%llu",
                    (unsigned long long) n, (unsigned long long) id);
    }

    if (own && e->del) {
        tk_cmds_add(c, "DEL %s", akey);
        return;
    }

    for (i = 0; i + 1 < a->elements; i += 2) {
        for (j = 0; addr[j]; j++) {
            if (strcmp(a->element[i]->str, addr[j]) == 0
                && tc_cust_hit(e->cu, a->element[i + 1]->str,
                               a->element[i + 1]->len))
            {
                tk_cmds_add(c, "HSET %s %s %s", akey, addr[j], e->anon);
                named = 1;
            }
        }
        /* a mention keeps its text; the person's own tickets do not */
        for (j = 0; own && gone[j]; j++) {
            if (strcmp(a->element[i]->str, gone[j]) == 0) {
                tk_cmds_add(c, "HSET %s %s %s", akey, gone[j], "");
            }
        }
    }
    /* a mention's mail as received names them in its header: it goes,
     * the fields (and the text) stay */
    if (!own && named) {
        tk_key_raw(key, sizeof(key), n, id);
        tk_cmds_add(c, "DEL %s", key);
    }
    if (own) {
        /* taken out of the outbox (tc_erase_outbox): never sent */
        for (i = 0; i + 1 < a->elements; i += 2) {
            if (strcmp(a->element[i]->str, TK_F_DELIVERY) == 0
                && strcmp(a->element[i + 1]->str, "queued") == 0)
            {
                tk_cmds_add(c, "HSET %s " TK_F_DELIVERY " failed", akey);
            }
        }
        tk_cmds_add(c, "HSET %s " TK_F_ATTACHMENTS " 0 " TK_F_SIZE " 0", akey);
        tk_cmds_add(c, "HDEL %s " TK_F_PGP_SIG " " TK_F_LIST_ID, akey);
    }
}


/* outbox entries of ticket n: out of the queue (not sent to them) */
static void
tc_erase_outbox(tc_erase_t *e, tk_cmds_t *c, uint64_t n)
{
    size_t       i, j;
    redisReply  *en, *f;

    for (i = 0; e->outbox->type == REDIS_REPLY_ARRAY
                && i < e->outbox->elements; i++)
    {
        en = e->outbox->element[i];
        f = en->element[1];
        for (j = 0; j + 1 < f->elements; j += 2) {
            if (strcmp(f->element[j]->str, TK_F_TICKET) == 0
                && strtoull(f->element[j + 1]->str, NULL, 10) == n)
            {
                tk_cmds_add(c, "XACK " TK_KEY_OUTBOX " " TK_OUTBOX_GROUP
                            " %s", en->element[0]->str);
                tk_cmds_add(c, "XDEL " TK_KEY_OUTBOX " %s",
                            en->element[0]->str);
                tk_cmds_add(c, "ZREM " TK_KEY_OUTBOX_RETRY " %s",
                            en->element[0]->str);
            }
        }
    }
}


/* the history with nothing of them: title values and hits replaced */
static void
tc_erase_history(tc_erase_t *e, tk_cmds_t *c, uint64_t n, redisReply *h)
{
    char         key[TK_KEY_MAX];
    size_t       i, j;
    redisReply  *f;
    tk_str_t     argv[64];
    int          argc, title;

    tk_key_history(key, sizeof(key), n);
    tk_cmds_add(c, "DEL %s", key);

    for (i = 0; h->type == REDIS_REPLY_ARRAY && i < h->elements; i++) {
        f = h->element[i]->element[1];
        title = 0;
        for (j = 0; j + 1 < f->elements; j += 2) {
            title |= strcmp(f->element[j]->str, "field") == 0
                     && strcmp(f->element[j + 1]->str, TK_F_TITLE) == 0;
        }
        argc = 0;
        tc_str(&argv[argc++], "XADD");
        tc_str(&argv[argc++], key);
        tc_str(&argv[argc++], h->element[i]->element[0]->str);
        for (j = 0; j + 1 < f->elements && argc + 2 < 64; j += 2) {
            const char  *name = f->element[j]->str, *v = f->element[j + 1]->str;

            if (title && (strcmp(name, "from") == 0 || strcmp(name, "to") == 0))
            {
                v = TK_ANON_NAME;
            } else if (tc_cust_hit(e->cu, v, f->element[j + 1]->len)) {
                v = e->anon;
            }
            tc_str(&argv[argc++], name);
            tc_str(&argv[argc++], v);
        }
        tk_cmds_argv(c, argc, argv);
    }
}


static int
tc_erase_ticket(tc_erase_t *e, uint64_t n, int own)
{
    tk_arena_t    arena;
    tk_cmds_t     c;
    tk_ticket_t   t, t2;
    tk_feed_t    *f;
    tk_str_t     *pairs, by;
    redisReply   *th, *ids, *hist, *part, *a;
    char          key[TK_KEY_MAX];
    size_t        i, np;
    int           rc;

    tk_key_ticket(key, sizeof(key), n);
    th = tc_command(e->ctx, "HGETALL %s", key);
    tk_key_ticket_articles(key, sizeof(key), n);
    ids = tc_command(e->ctx, "LRANGE %s 0 -1", key);
    tk_key_history(key, sizeof(key), n);
    hist = tc_command(e->ctx, "XRANGE %s - +", key);
    tk_key_participants(key, sizeof(key), n);
    part = tc_command(e->ctx, "SMEMBERS %s", key);
    if (th == NULL || ids == NULL || hist == NULL || part == NULL) {
        return EX_UNAVAILABLE;
    }

    tk_arena_init(&arena);
    tk_cmds_init(&c, tk_arena_alloc, &arena);
    pairs = tc_reply_pairs(th, tk_arena_alloc, &arena);
    np = th->type == REDIS_REPLY_ARRAY ? th->elements / 2 : 0;
    if (pairs == NULL || tk_ticket_parse(&t, pairs, np) != 0) {
        rc = EX_OK;                             /* gone meanwhile */
        goto done;
    }

    tk_cmds_multi(&c);
    tc_actor(&c);

    for (i = 0; ids->type == REDIS_REPLY_ARRAY && i < ids->elements; i++) {
        tk_key_article(key, sizeof(key), n,
                       strtoull(ids->element[i]->str, NULL, 10));
        a = tc_command(e->ctx, "HGETALL %s", key);
        if (a == NULL) {
            rc = EX_UNAVAILABLE;
            goto done;
        }
        if (a->type == REDIS_REPLY_ARRAY) {
            tc_erase_article(e, &c, n, a, own);
        }
        freeReplyObject(a);
    }

    /* the participants without them */
    tk_key_participants(key, sizeof(key), n);
    for (i = 0; part->type == REDIS_REPLY_ARRAY && i < part->elements; i++) {
        if (tc_cust_hit(e->cu, part->element[i]->str, part->element[i]->len)) {
            tk_cmds_add(&c, "SREM %s %s", key, part->element[i]->str);
        }
    }

    tc_str(&by, "ticketctl");
    f = tk_feed_open(&c, n, TK_FEED_FIELDS, &by);

    if (own && e->del) {
#ifdef TK_F_TAGS
        /* the tag sets and counts let go of the ticket (tk_tags.h) */
        {
            static const tk_str_t  none = { 0, (unsigned char *) "" };

            tk_tags_sync(&c, f, n, &t.tags, &none, t.updated, &by,
                         (int64_t) time(NULL));
        }
#endif
        tk_ticket_index_del(&c, &t);
        tk_cmds_add(&c, "DEL %s", key);                 /* participants */
        tk_key_ticket(key, sizeof(key), n);
        tk_cmds_add(&c, "DEL %s", key);
        tk_key_ticket_articles(key, sizeof(key), n);
        tk_cmds_add(&c, "DEL %s", key);
        tk_key_history(key, sizeof(key), n);
        tk_cmds_add(&c, "DEL %s", key);
        tk_cmds_add(&c, "DEL " TK_FMT_TICKET_TRIGGERS,
                    (unsigned long long) n);
        tk_cmds_add(&c, "ZREM " TK_KEY_DUE_ESCALATION " %llu",
                    (unsigned long long) n);
        tk_cmds_add(&c, "ZREM " TK_KEY_DUE_REMINDER " %llu",
                    (unsigned long long) n);
        tk_cmds_add(&c, "ZREM " TK_FMTS_ESC_GROUP " %llu", &t.group,
                    (unsigned long long) n);
        tk_cmds_add(&c, "ZREM " TK_FMTS_ESC_OWNER " %llu",
                    tk_ticket_owner_partition(&t), (unsigned long long) n);
        tk_cmds_add(&c, "ZREM " TK_FMTS_REMDUE_OWNER " %llu",
                    tk_ticket_owner_partition(&t), (unsigned long long) n);
        tc_erase_outbox(e, &c, n);
        tk_feed_word(&c, f, "erased", "delete");

    } else if (own) {
        t2 = t;
        tc_str(&t2.title, TK_ANON_NAME);
        tc_str(&t2.customer_name, TK_ANON_NAME);
        tc_str(&t2.customer_email, e->anon);
        tk_ticket_index_del(&c, &t);
        tk_ticket_write(&c, &t2);
        tk_ticket_index_add(&c, &t2);
        tk_cmds_add(&c, "SADD %s %s", key, e->anon);
        tc_erase_history(e, &c, n, hist);
        tc_erase_outbox(e, &c, n);
        tk_feed_word(&c, f, "erased", "anonymise");

    } else {
        tk_key_ticket(key, sizeof(key), n);
        tk_cmds_add(&c, "HINCRBY %s " TK_F_REV " 1", key);
        tk_index_touch(&c);
        tk_feed_word(&c, f, "erased", "mention");
    }

    tk_feed_group(&c, f, &t.group);
    tk_feed_close(&c, f);
    tk_cmds_exec(&c);

    rc = c.failed ? tc_fail(EX_SOFTWARE, "out of memory") : tc_run(e->ctx, &c);

done:
    tk_arena_reset(&arena);
    freeReplyObject(th);
    freeReplyObject(ids);
    freeReplyObject(hist);
    freeReplyObject(part);
    return rc;
}


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


static int
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


static int
tc_erase_streams(tc_erase_t *e)
{
    return tc_erase_scan(e, "tk:*", "stream", tc_erase_stream);
}


/* Redis's files on disk still hold the old values: the AOF is rewritten
 * and a snapshot taken now (when configured) rather than some day. */
static void
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
static int
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
