/*
 * tc_gen.h -- what "ticketctl gen" shares between its two files: the
 * random numbers that make a data set repeatable (tc_gen.c), and the
 * words the tickets are made of (tc_gen_text.c).
 */

#ifndef TC_GEN_H
#define TC_GEN_H

#include "ticketctl.h"


#define TC_GEN_BODY          5000       /* bytes of a mail body, about */

typedef struct {
    uint64_t  s;
} tc_rng_t;

uint64_t tc_rng_next(tc_rng_t *r);
/* 0 .. n-1 */
unsigned tc_rng_below(tc_rng_t *r, unsigned n);
/* an index into weights, as likely as its weight */
int tc_rng_pick(tc_rng_t *r, const unsigned *weights, int n);

/* A customer's name and address, the same for the same id. */
void tc_gen_customer(uint64_t id, char *name, size_t nsize, char *email,
    size_t esize);
/* A subject as activists write them, "DRINGEND: " in front when urgent. */
void tc_gen_title(tc_rng_t *rng, int german, int urgent, char *title,
    size_t size);
/* A body of about TC_GEN_BODY bytes, from arena (data NULL without);
 * with the file reference of ticket file_ref unless it is 0. */
tk_str_t tc_gen_body(tc_rng_t *rng, tk_arena_t *arena, int german,
    int reply, const char *signer, uint64_t file_ref);

#endif /* TC_GEN_H */
