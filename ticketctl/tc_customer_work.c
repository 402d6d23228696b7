/*
 * tc_customer_work.c -- "ticketctl customer work [--once]": works off
 * the web's export and erase requests (tk:dp:requests, consumer group
 * "ticketctl"; SCHEMA.md "Data protection").  Each outcome goes to
 * tk:dp:result:ID (EXPIRE 1 h; an export's zip in "file") in the MULTI
 * that acknowledges and deletes the request -- the request names the
 * person, so it does not stay.  A crash before that MULTI repeats the
 * request (both are idempotent).  An erasure also drops the results of
 * earlier exports of the same customer.  make run starts it.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tc_customer.h"


static int tc_work_one(tc_ctx_t *ctx, redisReply *entry);


int
tc_cust_work(tc_ctx_t *ctx, int argc, char **argv)
{
    redisReply  *r;
    int          once, rc, pending = 1;
    size_t       i;

    once = argc == 2 && strcmp(argv[1], "--once") == 0;
    if (argc != 1 && !once) {
        return tc_usage("customer");
    }
    if ((rc = tc_connect(ctx, 1)) != EX_OK) {
        return rc;
    }

    r = tc_command(ctx, "XGROUP CREATE " TK_KEY_DP_REQUESTS " " TK_DP_GROUP
                   " 0 MKSTREAM");
    if (r) {
        freeReplyObject(r);                 /* BUSYGROUP: there already */
    }

    for ( ;; ) {
        /* first what a crash left pending, then new requests */
        r = tc_command(ctx, "XREADGROUP GROUP " TK_DP_GROUP " worker COUNT 1 "
                       "BLOCK %d STREAMS " TK_KEY_DP_REQUESTS " %s",
                       once ? 1 : 5000, pending ? "0" : ">");
        if (r == NULL) {
            return EX_UNAVAILABLE;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 1
            && r->element[0]->element[1]->elements)
        {
            for (i = 0; i < r->element[0]->element[1]->elements; i++) {
                if ((rc = tc_work_one(ctx, r->element[0]->element[1]
                                               ->element[i])) != EX_OK)
                {
                    freeReplyObject(r);
                    return rc;
                }
            }
        } else if (pending) {
            pending = 0;
        } else if (once) {
            freeReplyObject(r);
            return EX_OK;
        }
        freeReplyObject(r);
    }
}


static const char *
tc_work_field(redisReply *f, const char *name)
{
    size_t  i;

    for (i = 0; f && f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements;
         i += 2)
    {
        if (strcmp(f->element[i]->str, name) == 0) {
            return f->element[i + 1]->str;
        }
    }
    return "";
}


/* export results of this customer: gone with the data they hold */
static void
tc_work_drop_exports(tc_ctx_t *ctx, uint64_t customer)
{
    redisReply  *r, *c;
    char        *cursor = strdup("0");
    size_t       i;

    do {
        r = tc_command(ctx, "SCAN %s MATCH " TK_PATTERN_DP_RESULT " COUNT 500",
                       cursor);
        free(cursor);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            return;
        }
        cursor = strdup(r->element[0]->str);
        for (i = 0; i < r->element[1]->elements; i++) {
            c = tc_command(ctx, "HGET %s " TK_F_DP_CUSTOMER,
                           r->element[1]->element[i]->str);
            if (c && c->type == REDIS_REPLY_STRING
                && strtoull(c->str, NULL, 10) == customer && customer)
            {
                freeReplyObject(tc_command(ctx, "DEL %s",
                                           r->element[1]->element[i]->str));
            }
            if (c) {
                freeReplyObject(c);
            }
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    free(cursor);
}


static int
tc_work_one(tc_ctx_t *ctx, redisReply *entry)
{
    redisReply     *f = entry->element[1], *r;
    const char     *id = entry->element[0]->str;
    const char     *op = tc_work_field(f, TK_F_DP_OP);
    const char     *addr = tc_work_field(f, TK_F_DP_ADDRESS);
    char           *buf = NULL;
    size_t          len = 0, tickets = 0;
    unsigned long   articles = 0;
    uint64_t        customer = 0;
    FILE           *mem;
    tk_arena_t      arena;
    tk_cmds_t       c;
    char            key[256];
    int             rc;

    /* the admin who asked is the one the audit entry and the change
     * feed name (tc_cust_audit and tc_actor read SUDO_USER first) */
    if (*tc_work_field(f, TK_F_DP_LOGIN)) {
        setenv("SUDO_USER", tc_work_field(f, TK_F_DP_LOGIN), 1);
    }

    if (strcmp(op, "export") == 0) {
        mem = open_memstream(&buf, &len);
        if (mem == NULL) {
            return tc_fail(EX_OSERR, "open_memstream failed");
        }
        rc = tc_cust_export_run(ctx, addr, mem, &tickets, &articles);
        fclose(mem);
        r = tc_command(ctx, "HGET " TK_KEY_CUSTOMER_BY_EMAIL " %s",
                       tc_lower((char *) addr));
        if (r && r->type == REDIS_REPLY_STRING) {
            customer = strtoull(r->str, NULL, 10);
        }
        if (r) {
            freeReplyObject(r);
        }
    } else if (strcmp(op, "erase") == 0) {
        rc = tc_cust_erase_run(ctx, addr,
                               strcmp(tc_work_field(f, TK_F_DP_MODE),
                                      "delete") == 0, 1,
                               &customer, &tickets, &articles);
        if (rc == EX_OK) {
            tc_work_drop_exports(ctx, customer);
        }
    } else {
        rc = EX_DATAERR;
    }

    snprintf(key, sizeof(key), TK_FMT_DP_RESULT, id);
    tk_arena_init(&arena);
    tk_cmds_init(&c, tk_arena_alloc, &arena);
    tk_cmds_multi(&c);
    tk_cmds_add(&c, "HSET %s " TK_F_DP_OP " %s " TK_F_DP_MODE " %s "
                TK_F_DP_LOGIN " %s " TK_F_DP_STATUS " %s " TK_F_DP_MESSAGE
                " %s " TK_F_DP_TICKETS " %llu " TK_F_DP_ARTICLES " %lu "
                TK_F_DP_CUSTOMER " %llu " TK_F_DP_TIME " %lld", key, op,
                tc_work_field(f, TK_F_DP_MODE), tc_work_field(f, TK_F_DP_LOGIN),
                rc == EX_OK ? "done" : "error",
                rc == EX_OK ? "" : ctx->redis.err[0] ? ctx->redis.err
                                                     : "the request failed",
                (unsigned long long) tickets, articles,
                (unsigned long long) customer, (long long) time(NULL));
    if (rc == EX_OK && buf) {
        tk_cmds_add(&c, "HSET %s " TK_F_DP_FILE " %b", key, buf, len);
    }
    tk_cmds_add(&c, "EXPIRE %s %d", key, TK_DP_RESULT_TTL);
    tk_cmds_add(&c, "XACK " TK_KEY_DP_REQUESTS " " TK_DP_GROUP " %s", id);
    tk_cmds_add(&c, "XDEL " TK_KEY_DP_REQUESTS " %s", id);
    tk_cmds_exec(&c);

    rc = tc_run(ctx, &c);
    tk_arena_reset(&arena);
    free(buf);
    printf("request %s: %s %s\n", id, op, rc == EX_OK ? "done" : "failed");
    fflush(stdout);
    return rc;
}
