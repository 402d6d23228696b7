/*
 * tc_customer_export.c -- "ticketctl customer export ADDRESS -o FILE":
 * everything held about the person as a zip (tc_customer.c says what):
 *
 *   customer.json                 the customer hash, addresses, tickets,
 *                                 PGP keys of the addresses
 *   ticket-N/ticket.json          the ticket hash and its history
 *   ticket-N/article-A.json       every field of the article
 *   ticket-N/article-A.eml        the mail as received (raw, inflated),
 *                                 else made of the fields
 *   ticket-N/article-A-att-K-NAME the attachments' bytes
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "tc_customer.h"
#include "tc_zip.h"
#include "tk_escape.h"


static int tc_exp_ticket(tc_ctx_t *ctx, tc_zip_t *z, uint64_t n,
    unsigned long *articles);


/* a hash reply as a JSON object into out */
static void
tc_exp_hash(tk_out_t *out, redisReply *h, int skip_data)
{
    size_t  i, k = 0;

    tk_out_cstr(out, "{");
    for (i = 0; h && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements;
         i += 2)
    {
        if (skip_data && strcmp(h->element[i]->str, TK_F_DATA) == 0) {
            continue;
        }
        tk_out_cstr(out, k++ ? ",\n " : "\n ");
        tk_out_json(out, h->element[i]->str, h->element[i]->len);
        tk_out_cstr(out, ": ");
        tk_out_json(out, h->element[i + 1]->str, h->element[i + 1]->len);
    }
    tk_out_cstr(out, "\n}");
}


static int
tc_exp_put(tc_zip_t *z, const char *name, tk_out_t *out)
{
    tk_str_t  s = tk_out_mem_str(out);
    int       rc = tc_zip_add(z, name, s.data, s.len);

    tk_out_free_mem(out);
    return rc ? tc_fail(EX_IOERR, "cannot write %s", name) : EX_OK;
}


static const char *
tc_exp_field(redisReply *h, const char *f)
{
    size_t  i;

    for (i = 0; h && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements;
         i += 2)
    {
        if (strcmp(h->element[i]->str, f) == 0) {
            return h->element[i + 1]->str;
        }
    }
    return "";
}


int
tc_cust_export(tc_ctx_t *ctx, int argc, char **argv)
{
    static const struct option  opts[] = {
        { "output", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 }
    };
    const char     *file = NULL;
    FILE           *f;
    unsigned long   articles = 0;
    size_t          tickets = 0;
    int             opt, rc;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        if (opt != 'o') {
            return tc_usage("customer");
        }
        file = optarg;
    }
    if (optind + 1 != argc || file == NULL) {
        return tc_usage("customer");
    }
    if ((rc = tc_connect(ctx, 1)) != EX_OK) {
        return rc;
    }

    f = strcmp(file, "-") == 0 ? stdout : fopen(file, "wb");
    if (f == NULL) {
        return tc_fail(EX_CANTCREAT, "%s: cannot create", file);
    }

    rc = tc_cust_export_run(ctx, argv[optind], f, &tickets, &articles);

    if (f != stdout && fclose(f) != 0 && rc == EX_OK) {
        rc = tc_fail(EX_IOERR, "%s: write error", file);
    }
    if (rc == EX_OK && f != stdout) {
        printf("exported %s: %zu tickets and mentions, %lu articles to %s\n",
               argv[optind], tickets, articles, file);
    }

    return rc;
}


/* The zip into f (not closed); counts for the caller. */
int
tc_cust_export_run(tc_ctx_t *ctx, const char *address, FILE *f,
    size_t *tickets, unsigned long *articles)
{
    tc_cust_t       cu;
    tc_zip_t        z;
    tk_out_t        out;
    redisReply     *r;
    size_t          i;
    int             rc;

    if ((rc = tc_cust_find(ctx, address, &cu)) != EX_OK) {
        return rc;
    }

    tc_zip_open(&z, f);

    tk_out_init_mem(&out);
    tk_out_cstr(&out, "{\"address\": ");
    tk_out_json(&out, cu.addrs[0], strlen(cu.addrs[0]));
    tk_out_cstr(&out, ",\n\"customer\": ");
    if (cu.customer_hash) {
        tc_exp_hash(&out, cu.customer_hash, 0);
    } else {
        tk_out_cstr(&out, "null");
    }
    tk_out_cstr(&out, ",\n\"addresses\": [");
    for (i = 0; i < cu.naddrs; i++) {
        tk_out_cstr(&out, i ? ", " : "");
        tk_out_json(&out, cu.addrs[i], strlen(cu.addrs[i]));
    }
    tk_out_cstr(&out, "],\n\"tickets\": [");
    for (i = 0; i < cu.nown; i++) {
        tk_out_cstr(&out, i ? ", " : "");
        tk_out_uint(&out, cu.own[i]);
    }
    tk_out_cstr(&out, "],\n\"mentioned_in\": [");
    for (i = 0; i < cu.npart; i++) {
        tk_out_cstr(&out, i ? ", " : "");
        tk_out_uint(&out, cu.part[i]);
    }
    tk_out_cstr(&out, "],\n\"pgp_keys\": {");
    for (i = 0; i < cu.naddrs; i++) {
        r = tc_command(ctx, "HGET " TK_KEY_PGP_ADDR " %s", cu.addrs[i]);
        if (r && r->type == REDIS_REPLY_STRING) {
            tk_out_json(&out, cu.addrs[i], strlen(cu.addrs[i]));
            tk_out_cstr(&out, ": ");
            tk_out_json(&out, r->str, r->len);
        }
        if (r) {
            freeReplyObject(r);
        }
    }
    tk_out_cstr(&out, "}}\n");
    rc = tc_exp_put(&z, "customer.json", &out);

    for (i = 0; rc == EX_OK && i < cu.nown + cu.npart; i++) {
        rc = tc_exp_ticket(ctx, &z, i < cu.nown ? cu.own[i]
                                                : cu.part[i - cu.nown],
                           articles);
    }

    if (tc_zip_close(&z) != 0) {
        rc = rc ? rc : tc_fail(EX_IOERR, "write error");
    }
    if (rc == EX_OK) {
        rc = tc_cust_audit(ctx, "export", "", &cu, *articles);
    }
    *tickets = cu.nown + cu.npart;

    tc_cust_free(&cu);
    return rc;
}


/* the mail: as received (inflated when gzip'd), else made of the fields */
static void
tc_exp_eml(tk_out_t *out, redisReply *raw, redisReply *a)
{
    static const char *const  hdr[][2] = {
        { "From", TK_F_FROM }, { "To", TK_F_TO }, { "Cc", TK_F_CC },
        { "Reply-To", TK_F_REPLY_TO }, { "Subject", TK_F_SUBJECT },
        { NULL, NULL }
    };
    const char  *v;
    size_t       i;

    if (raw && raw->type == REDIS_REPLY_STRING && raw->len) {
        if (raw->len > 2 && (unsigned char) raw->str[0] == 0x1f
            && (unsigned char) raw->str[1] == 0x8b)
        {
            z_stream       zs;
            unsigned char  buf[16384];
            int            zr;

            memset(&zs, 0, sizeof(zs));
            if (inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK) {
                zs.next_in = (unsigned char *) raw->str;
                zs.avail_in = (uInt) raw->len;
                do {
                    zs.next_out = buf;
                    zs.avail_out = sizeof(buf);
                    zr = inflate(&zs, Z_NO_FLUSH);
                    tk_out_raw(out, buf, sizeof(buf) - zs.avail_out);
                } while (zr == Z_OK);
                inflateEnd(&zs);
                return;
            }
        }
        tk_out_raw(out, raw->str, raw->len);
        return;
    }

    for (i = 0; hdr[i][0]; i++) {
        v = tc_exp_field(a, hdr[i][1]);
        if (*v) {
            tk_out_cstr(out, hdr[i][0]);
            tk_out_cstr(out, ": ");
            tk_out_cstr(out, v);
            tk_out_cstr(out, "\r\n");
        }
    }
    v = tc_exp_field(a, TK_F_MESSAGE_ID);
    if (*v) {
        tk_out_cstr(out, "Message-ID: <");
        tk_out_cstr(out, v);
        tk_out_cstr(out, ">\r\n");
    }
    tk_out_cstr(out, "Date: ");
    tk_out_time_iso(out, strtoll(tc_exp_field(a, TK_F_TIME), NULL, 10));
    tk_out_cstr(out, "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; "
                "charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
    tk_out_cstr(out, tc_exp_field(a, TK_F_BODY));
}


static int
tc_exp_ticket(tc_ctx_t *ctx, tc_zip_t *z, uint64_t n, unsigned long *articles)
{
    redisReply  *t, *h, *ids, *a, *raw, *att;
    tk_out_t     out;
    char         key[TK_KEY_MAX], name[512], clean[256];
    size_t       i, j, k, natt;
    uint64_t     id;
    int          rc = EX_OK;

    tk_key_ticket(key, sizeof(key), n);
    t = tc_command(ctx, "HGETALL %s", key);
    tk_key_history(key, sizeof(key), n);
    h = tc_command(ctx, "XRANGE %s - +", key);
    tk_key_ticket_articles(key, sizeof(key), n);
    ids = tc_command(ctx, "LRANGE %s 0 -1", key);
    if (t == NULL || h == NULL || ids == NULL) {
        return EX_UNAVAILABLE;
    }

    tk_out_init_mem(&out);
    tk_out_cstr(&out, "{\"ticket\": ");
    tc_exp_hash(&out, t, 0);
    tk_out_cstr(&out, ",\n\"history\": [");
    for (i = 0; h->type == REDIS_REPLY_ARRAY && i < h->elements; i++) {
        tk_out_cstr(&out, i ? ",\n" : "\n");
        tc_exp_hash(&out, h->element[i]->element[1], 0);
    }
    tk_out_cstr(&out, "]}\n");
    snprintf(name, sizeof(name), "ticket-%llu/ticket.json",
             (unsigned long long) n);
    rc = tc_exp_put(z, name, &out);

    for (i = 0; rc == EX_OK && ids->type == REDIS_REPLY_ARRAY
                && i < ids->elements; i++)
    {
        id = strtoull(ids->element[i]->str, NULL, 10);
        tk_key_article(key, sizeof(key), n, id);
        a = tc_command(ctx, "HGETALL %s", key);
        tk_key_raw(key, sizeof(key), n, id);
        raw = tc_command(ctx, "GET %s", key);
        if (a == NULL || raw == NULL) {
            return EX_UNAVAILABLE;
        }
        (*articles)++;

        tk_out_init_mem(&out);
        tc_exp_hash(&out, a, 0);
        tk_out_cstr(&out, "\n");
        snprintf(name, sizeof(name), "ticket-%llu/article-%llu.json",
                 (unsigned long long) n, (unsigned long long) id);
        rc = tc_exp_put(z, name, &out);

        tk_out_init_mem(&out);
        tc_exp_eml(&out, raw, a);
        snprintf(name, sizeof(name), "ticket-%llu/article-%llu.eml",
                 (unsigned long long) n, (unsigned long long) id);
        if (rc == EX_OK) {
            rc = tc_exp_put(z, name, &out);
        } else {
            tk_out_free_mem(&out);
        }

        natt = strtoul(tc_exp_field(a, TK_F_ATTACHMENTS), NULL, 10);
        for (k = 1; rc == EX_OK && k <= natt && k < 1000; k++) {
            tk_key_attachment(key, sizeof(key), n, id, (unsigned) k);
            att = tc_command(ctx, "HMGET %s " TK_F_NAME " " TK_F_DATA, key);
            if (att == NULL) {
                return EX_UNAVAILABLE;
            }
            if (att->type == REDIS_REPLY_ARRAY && att->elements == 2
                && att->element[1]->type == REDIS_REPLY_STRING)
            {
                const char  *an = att->element[0]->type == REDIS_REPLY_STRING
                                  ? att->element[0]->str : "file";

                for (j = 0; an[j] && j + 1 < sizeof(clean); j++) {
                    clean[j] = (an[j] == '/' || an[j] == '\\'
                                || (unsigned char) an[j] < 0x20) ? '_' : an[j];
                }
                clean[j] = '\0';
                snprintf(name, sizeof(name), "ticket-%llu/article-%llu-att-"
                         "%zu-%s", (unsigned long long) n,
                         (unsigned long long) id, k, clean);
                if (tc_zip_add(z, name, att->element[1]->str,
                               att->element[1]->len) != 0)
                {
                    rc = tc_fail(EX_IOERR, "cannot write %s", name);
                }
            }
            freeReplyObject(att);
        }

        freeReplyObject(a);
        freeReplyObject(raw);
    }

    freeReplyObject(t);
    freeReplyObject(h);
    freeReplyObject(ids);
    return rc;
}
