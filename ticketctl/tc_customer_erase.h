/*
 * tc_customer_erase.h -- internal to "ticketctl customer erase": the
 * erasure in progress, shared by its per-ticket part
 * (tc_customer_erase.c) and the part outside the tickets
 * (tc_customer_erase_keys.c).
 */

#ifndef TC_CUSTOMER_ERASE_H
#define TC_CUSTOMER_ERASE_H

#include "tc_customer.h"

typedef struct {
    tc_ctx_t      *ctx;
    tc_cust_t     *cu;
    int            del;              /* mode delete, else anonymise   */
    char           anon[96];         /* anonymised-ID@invalid         */
    redisReply    *outbox;           /* XRANGE tk:{ix}:outbox         */
    unsigned long  articles;
} tc_erase_t;

/* the keys outside the tickets: customer, addresses, PGP, raw hashes,
 * quarantine; then INCR tk:{ix}:gen */
int tc_erase_rest(tc_erase_t *e);
/* every stream's entries that name them or their deleted tickets */
int tc_erase_streams(tc_erase_t *e);
/* AOF rewrite and snapshot now, where configured */
void tc_erase_persist(tc_ctx_t *ctx);
/* --verify: every key that still names them is printed; EX_DATAERR */
int tc_erase_verify(tc_ctx_t *ctx, tc_cust_t *cu);

#endif /* TC_CUSTOMER_ERASE_H */
