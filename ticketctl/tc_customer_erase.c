/*
 * tc_customer_erase.c -- "ticketctl customer erase ADDRESS --mode
 * delete|anonymise --yes [--no-reindex]" (what goes: tc_customer.c).
 * One MULTI per ticket through the shared write path's index functions
 * (tk_ticket_index_del/_add, tk_ticket_write: counts, tk:{ix}:gen and
 * rev, so no overview or cached page shows them again), then the keys
 * outside the tickets and the streams (tc_customer_erase_keys.c), the
 * audit entry and the full-text rebuild.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tc_customer.h"
#include "tc_customer_erase.h"
#include "tk_feed.h"
#ifdef TK_F_TAGS
#include "tk_tags.h"            /* once merged with the tags helper's work */
#endif


static int tc_erase_ticket(tc_erase_t *e, uint64_t n, int own);


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
