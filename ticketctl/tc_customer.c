/*
 * tc_customer.c -- "ticketctl customer export|erase ADDRESS": what the
 * system holds about one person (SCHEMA.md "Data protection").
 *
 * The person is the customer whose address ADDRESS is (tk:customer-by-
 * email) with all their addresses and their name, or only the address
 * when there is no customer.  Their tickets are those whose customer
 * they are; tickets that only name them (From/To/Cc of a mail,
 * tk:{t:N}:participants) are "mentions".
 *
 *   export ADDRESS -o FILE.zip   customer.json, per ticket ticket.json
 *                                (hash and history), per article the
 *                                fields as JSON, the mail as .eml (the
 *                                raw mail, else one made of the fields)
 *                                and the attachments
 *   erase ADDRESS --mode delete|anonymise --yes [--no-reindex]
 *       delete: their tickets go with every key (articles, attachments,
 *       raw mail, history, participants, Message-ID and raw-hash index,
 *       overview index and counts, timers, outbox, full-text document);
 *       anonymise: their tickets stay (group, state, times, counts) with
 *       name, addresses, title, subjects, bodies, attachments, raw mail,
 *       Message-IDs and full-text document gone.  Both: mentions lose
 *       the address, the customer hash and index go (anonymise: the hash
 *       keeps id and placeholder name), PGP key metadata goes (and a
 *       delete request for the keyring), change-feed and notification
 *       entries naming them are deleted, one entry without personal data
 *       goes to tk:audit, and the full-text index is rebuilt (NOGC: only
 *       a rebuild drops the terms of deleted documents).
 * Every ticket is changed in one MULTI with its rev bumped and a feed
 * entry; stop nothing, but run it when the ticket is not being edited.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ticketctl.h"
#include "tc_customer.h"


static int tc_cust_scan_tickets(tc_ctx_t *ctx, tc_cust_t *cu);
static int tc_cust_addrs(tc_ctx_t *ctx, tc_cust_t *cu);


/* ---- who: addresses, name, tickets -------------------------------------- */

static void
tc_cust_push(uint64_t **v, size_t *n, uint64_t x)
{
    uint64_t  *nv = realloc(*v, (*n + 1) * sizeof(uint64_t));

    if (nv == NULL) {
        abort();
    }
    nv[(*n)++] = x;
    *v = nv;
}


static void
tc_cust_addr_push(tc_cust_t *cu, const char *a)
{
    size_t  i;
    char  **na;

    for (i = 0; i < cu->naddrs; i++) {
        if (strcasecmp(cu->addrs[i], a) == 0) {
            return;
        }
    }
    na = realloc(cu->addrs, (cu->naddrs + 1) * sizeof(char *));
    if (na == NULL) {
        abort();
    }
    cu->addrs = na;
    cu->addrs[cu->naddrs++] = tc_lower(strdup(a));
}


int
tc_cust_find(tc_ctx_t *ctx, const char *address, tc_cust_t *cu)
{
    redisReply  *r;
    char         key[TK_KEY_MAX];
    size_t       i;
    int          rc;

    memset(cu, 0, sizeof(*cu));
    if (strlen(address) == 0 || strlen(address) > 254 || !strchr(address, '@'))
    {
        return tc_fail(EX_USAGE, "not an address: %s", address);
    }
    tc_cust_addr_push(cu, address);

    r = tc_command(ctx, "HGET " TK_KEY_CUSTOMER_BY_EMAIL " %s", cu->addrs[0]);
    if (r == NULL) {
        return EX_UNAVAILABLE;
    }
    if (r->type == REDIS_REPLY_STRING) {
        cu->id = strtoull(r->str, NULL, 10);
    }
    freeReplyObject(r);

    cu->name = strdup("");
    if (cu->id) {
        tk_key_customer(key, sizeof(key), cu->id);
        r = tc_command(ctx, "HGETALL %s", key);
        if (r == NULL) {
            return EX_UNAVAILABLE;
        }
        for (i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements;
             i += 2)
        {
            if (strcmp(r->element[i]->str, TK_F_NAME) == 0) {
                free(cu->name);
                cu->name = strdup(r->element[i + 1]->str);
            } else if (strcmp(r->element[i]->str, TK_F_EMAIL) == 0
                       && r->element[i + 1]->len)
            {
                tc_cust_addr_push(cu, r->element[i + 1]->str);
            }
        }
        cu->customer_hash = r;
        if ((rc = tc_cust_addrs(ctx, cu)) != EX_OK) {
            return rc;
        }
    }

    return tc_cust_scan_tickets(ctx, cu);
}


/* every other address that leads to the same customer */
static int
tc_cust_addrs(tc_ctx_t *ctx, tc_cust_t *cu)
{
    redisReply  *r;
    char        *cursor = strdup("0");
    size_t       i;

    do {
        r = tc_command(ctx, "HSCAN " TK_KEY_CUSTOMER_BY_EMAIL " %s COUNT 1000",
                       cursor);
        free(cursor);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            return EX_UNAVAILABLE;
        }
        cursor = strdup(r->element[0]->str);
        for (i = 0; i + 1 < r->element[1]->elements; i += 2) {
            if (strtoull(r->element[1]->element[i + 1]->str, NULL, 10)
                == cu->id)
            {
                tc_cust_addr_push(cu, r->element[1]->element[i]->str);
            }
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);

    free(cursor);
    return EX_OK;
}


/* does s name the person (an address, or the name, case folded)? */
int
tc_cust_hit(const tc_cust_t *cu, const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < cu->naddrs; i++) {
        if (tc_memcasemem(s, len, cu->addrs[i], strlen(cu->addrs[i]))) {
            return 1;
        }
    }

    /* the name only when it is a full one ("Kim Kundin"): a bare "Anna"
     * would also hit the agent anna's login in every feed entry */
    return strlen(cu->name) >= 5 && strchr(cu->name, ' ')
           && tc_memcasemem(s, len, cu->name, strlen(cu->name));
}


const char *
tc_memcasemem(const char *h, size_t hl, const char *n, size_t nl)
{
    size_t  i;

    if (nl == 0 || nl > hl) {
        return NULL;
    }
    for (i = 0; i + nl <= hl; i++) {
        if (strncasecmp(h + i, n, nl) == 0) {
            return h + i;
        }
    }

    return NULL;
}


/* One batch of SCAN's ticket hashes: whose are they, who is named. */
static int
tc_cust_batch(tc_ctx_t *ctx, tc_cust_t *cu, uint64_t *nums, size_t n)
{
    tk_arena_t    arena;
    tk_cmds_t     c;
    redisReply  **rep;
    char          key[TK_KEY_MAX];
    size_t        i, j, k;
    int           rc, own, named;

    tk_arena_init(&arena);
    tk_cmds_init(&c, tk_arena_alloc, &arena);
    for (i = 0; i < n; i++) {
        tk_key_ticket(key, sizeof(key), nums[i]);
        tk_cmds_add(&c, "HMGET %s " TK_F_CUSTOMER " " TK_F_CUSTOMER_EMAIL, key);
        tk_key_participants(key, sizeof(key), nums[i]);
        tk_cmds_add(&c, "SMEMBERS %s", key);
    }

    rc = tk_redis_pipeline(&ctx->redis, &c, &rep);
    if (rc != TK_REDIS_OK) {
        tk_arena_reset(&arena);
        return tc_redis_fail(ctx, rc);
    }

    for (i = 0; i < n; i++) {
        redisReply  *h = rep[2 * i], *p = rep[2 * i + 1];

        own = named = 0;
        if (h->type == REDIS_REPLY_ARRAY && h->elements == 2) {
            own = cu->id && h->element[0]->type == REDIS_REPLY_STRING
                  && strtoull(h->element[0]->str, NULL, 10) == cu->id;
            for (k = 0; !own && k < cu->naddrs
                        && h->element[1]->type == REDIS_REPLY_STRING; k++)
            {
                own = strcasecmp(h->element[1]->str, cu->addrs[k]) == 0;
            }
        }
        for (j = 0; !own && p->type == REDIS_REPLY_ARRAY && j < p->elements;
             j++)
        {
            for (k = 0; k < cu->naddrs; k++) {
                named |= strcasecmp(p->element[j]->str, cu->addrs[k]) == 0;
            }
        }
        if (own) {
            tc_cust_push(&cu->own, &cu->nown, nums[i]);
        } else if (named) {
            tc_cust_push(&cu->part, &cu->npart, nums[i]);
        }
    }

    tk_redis_replies_free(rep, c.n);
    tk_arena_reset(&arena);
    return EX_OK;
}


static int
tc_cust_scan_tickets(tc_ctx_t *ctx, tc_cust_t *cu)
{
    redisReply  *r;
    char        *cursor = strdup("0");
    uint64_t    *nums = NULL, num;
    size_t       i, n;
    int          rc;

    do {
        r = tc_command(ctx, "SCAN %s MATCH %s COUNT 1000", cursor,
                       TK_PATTERN_TICKET_KEYS);
        free(cursor);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            return EX_UNAVAILABLE;
        }
        cursor = strdup(r->element[0]->str);
        n = 0;
        nums = realloc(nums, (r->element[1]->elements + 1) * sizeof(uint64_t));
        for (i = 0; i < r->element[1]->elements; i++) {
            const char  *k = r->element[1]->element[i]->str;

            if (tk_key_parse(k, strlen(k), &num, NULL) == TK_KEY_IS_TICKET) {
                nums[n++] = num;
            }
        }
        freeReplyObject(r);
        if (n && (rc = tc_cust_batch(ctx, cu, nums, n)) != EX_OK) {
            free(nums);
            free(cursor);
            return rc;
        }
    } while (strcmp(cursor, "0") != 0);

    free(nums);
    free(cursor);
    return EX_OK;
}


void
tc_cust_free(tc_cust_t *cu)
{
    size_t  i;

    for (i = 0; i < cu->naddrs; i++) {
        free(cu->addrs[i]);
    }
    free(cu->addrs);
    free(cu->name);
    free(cu->own);
    free(cu->part);
    if (cu->customer_hash) {
        freeReplyObject(cu->customer_hash);
    }
}


/* ---- the command -------------------------------------------------------- */

int
tc_cmd_customer(tc_ctx_t *ctx, int argc, char **argv)
{
    static const tc_command_t  subs[] = {
        { "export", tc_cust_export },
        { "erase", tc_cust_erase },
        { "work", tc_cust_work },
        { NULL, NULL }
    };

    return tc_subcommand(ctx, argc, argv, "customer", subs);
}


/* One tk:audit entry, without personal data. */
int
tc_cust_audit(tc_ctx_t *ctx, const char *action, const char *mode,
    const tc_cust_t *cu, unsigned long articles)
{
    redisReply  *r;
    const char  *by = getenv("SUDO_USER");

    if (by == NULL || *by == '\0') {
        by = getenv("USER");
    }
    r = tc_command(ctx, "XADD " TK_KEY_AUDIT " MAXLEN ~ %d * " TK_F_AUD_TIME
                   " %lld " TK_F_AUD_BY " %s " TK_F_AUD_ACTION " %s "
                   TK_F_AUD_MODE " %s " TK_F_AUD_CUSTOMER " %llu "
                   TK_F_AUD_TICKETS " %llu " TK_F_AUD_ARTICLES " %lu",
                   TK_AUDIT_MAXLEN, (long long) time(NULL),
                   by ? by : "ticketctl", action, mode,
                   (unsigned long long) cu->id,
                   (unsigned long long) (cu->nown + cu->npart),
                   articles);
    if (r == NULL) {
        return EX_UNAVAILABLE;
    }
    freeReplyObject(r);
    return EX_OK;
}
