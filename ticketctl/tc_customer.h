/* tc_customer.h -- what "ticketctl customer" export and erase share. */

#ifndef TC_CUSTOMER_H
#define TC_CUSTOMER_H

#include <stdio.h>

#include "ticketctl.h"

typedef struct {
    uint64_t     id;              /* customer id, 0: only an address    */
    char        *name;            /* "" when unknown                    */
    char       **addrs;           /* lower case; [0] the one asked for  */
    size_t       naddrs;
    uint64_t    *own;             /* tickets whose customer they are    */
    size_t       nown;
    uint64_t    *part;            /* tickets that only name them        */
    size_t       npart;
    redisReply  *customer_hash;   /* HGETALL tk:{c:ID}, or NULL         */
} tc_cust_t;

int tc_cust_find(tc_ctx_t *ctx, const char *address, tc_cust_t *cu);
void tc_cust_free(tc_cust_t *cu);
int tc_cust_hit(const tc_cust_t *cu, const char *s, size_t len);
const char *tc_memcasemem(const char *h, size_t hl, const char *n,
    size_t nl);
int tc_cust_audit(tc_ctx_t *ctx, const char *action, const char *mode,
    const tc_cust_t *cu, unsigned long articles);

int tc_cust_export(tc_ctx_t *ctx, int argc, char **argv);  /* _export.c */
int tc_cust_export_run(tc_ctx_t *ctx, const char *address, FILE *f,
    size_t *tickets, unsigned long *articles);
int tc_cust_erase(tc_ctx_t *ctx, int argc, char **argv);   /* _erase.c  */
int tc_cust_erase_run(tc_ctx_t *ctx, const char *address, int del,
    int reindex, uint64_t *customer, size_t *tickets,
    unsigned long *articles);
int tc_cust_work(tc_ctx_t *ctx, int argc, char **argv);    /* _work.c   */

#endif /* TC_CUSTOMER_H */
