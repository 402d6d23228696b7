/*
 * tk_customer.h -- a customer's editable data (the customer page, issue
 * 13): name, email, organisation, notes in tk:{c:ID}, the address index
 * tk:customer-by-email and the organisation sets tk:{ix}:org:NAME /
 * tk:{ix}:orgs kept with them (SCHEMA.md "Customers").  The tickets'
 * copies (customer_name, customer_email) are not rewritten: they show
 * who wrote at the time; new tickets take the new data.
 */

#ifndef TK_CUSTOMER_H
#define TK_CUSTOMER_H

#include <stdint.h>

#include "tk_cmd.h"
#include "tk_str.h"

typedef struct {
    uint64_t   id;
    tk_str_t   name;
    tk_str_t   email;            /* as typed; the index holds it lower-case */
    tk_str_t   organisation;
    tk_str_t   notes;
} tk_customer_t;

/* HGETALL pairs of tk:{c:ID}; -1 when there is no id. */
int tk_customer_parse(tk_customer_t *cu, const tk_str_t *pairs, size_t n);

/* An organisation name as typed: UTF-8, no control bytes, not longer
 * than TK_ORG_MAX, none of { } * (key syntax).  1 or 0; "" is valid. */
int tk_valid_organisation(const tk_str_t *name);

/*
 * old -> new (same id) in the caller's MULTI (WATCH tk:{c:ID} and
 * tk:customer-by-email): the hash, the address index moved when the
 * address changed (lower-cased), the organisation sets, tk:{ix}:gen.
 */
void tk_customer_update(tk_cmds_t *c, const tk_customer_t *old,
    const tk_customer_t *new);

#endif /* TK_CUSTOMER_H */
