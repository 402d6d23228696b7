/*
 * tk_customer.c -- a customer's data and its indexes (tk_customer.h).
 */

#include <string.h>

#include "tk_customer.h"
#include "tk_schema.h"
#include "tk_tags.h"
#include "tk_ticket.h"


static int tk_customer_lower(tk_cmds_t *c, const tk_str_t *in, tk_str_t *out);


int
tk_customer_parse(tk_customer_t *cu, const tk_str_t *pairs, size_t n)
{
    size_t           i;
    long long        v;
    const tk_str_t  *f, *val;

    memset(cu, 0, sizeof(tk_customer_t));

    for (i = 0; i < n; i++) {
        f = &pairs[2 * i];
        val = &pairs[2 * i + 1];

        if (tk_str_eq_cstr(f, TK_F_ID)) {
            v = tk_str_atoll(val);
            cu->id = v > 0 ? (uint64_t) v : 0;

        } else if (tk_str_eq_cstr(f, TK_F_NAME)) {
            cu->name = *val;

        } else if (tk_str_eq_cstr(f, TK_F_EMAIL)) {
            cu->email = *val;

        } else if (tk_str_eq_cstr(f, TK_F_ORGANISATION)) {
            cu->organisation = *val;

        } else if (tk_str_eq_cstr(f, TK_F_NOTES)) {
            cu->notes = *val;
        }
    }

    return cu->id ? 0 : -1;
}


int
tk_valid_organisation(const tk_str_t *name)
{
    size_t  i;

    if (name->len > TK_ORG_MAX || !tk_text_valid(name->data, name->len)) {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        if (name->data[i] == '{' || name->data[i] == '}'
            || name->data[i] == '*')
        {
            return 0;
        }
    }

    return 1;
}


static int
tk_customer_lower(tk_cmds_t *c, const tk_str_t *in, tk_str_t *out)
{
    size_t  i;

    out->len = in->len;
    out->data = c->alloc(c->alloc_data, in->len ? in->len : 1);

    if (out->data == NULL) {
        c->failed = 1;
        return -1;
    }

    for (i = 0; i < in->len; i++) {
        out->data[i] = (in->data[i] >= 'A' && in->data[i] <= 'Z')
                       ? in->data[i] + 32 : in->data[i];
    }

    return 0;
}


void
tk_customer_update(tk_cmds_t *c, const tk_customer_t *old,
    const tk_customer_t *new)
{
    char      key[TK_KEY_MAX];
    tk_str_t  lo, ln;

    if (tk_key_customer(key, sizeof(key), new->id) == 0
        || tk_customer_lower(c, &old->email, &lo) != 0
        || tk_customer_lower(c, &new->email, &ln) != 0)
    {
        c->failed = 1;
        return;
    }

    tk_cmds_add(c, "HSET %s " TK_F_ID " %llu " TK_F_NAME " %S " TK_F_EMAIL
                " %S " TK_F_ORGANISATION " %S " TK_F_NOTES " %S", key,
                (unsigned long long) new->id, &new->name, &new->email,
                &new->organisation, &new->notes);

    if (!tk_str_eq(&lo, &ln)) {
        if (lo.len) {
            tk_cmds_add(c, "HDEL " TK_KEY_CUSTOMER_BY_EMAIL " %S", &lo);
        }

        if (ln.len) {
            tk_cmds_add(c, "HSET " TK_KEY_CUSTOMER_BY_EMAIL " %S %llu", &ln,
                        (unsigned long long) new->id);
        }
    }

    if (!tk_str_eq(&old->organisation, &new->organisation)) {
        if (old->organisation.len) {
            tk_cmds_add(c, "SREM " TK_FMTS_ORG " %llu", &old->organisation,
                        (unsigned long long) new->id);
            tk_cmds_add(c, "ZINCRBY " TK_KEY_ORGS " -1 %S",
                        &old->organisation);
            tk_cmds_add(c, "ZREMRANGEBYSCORE " TK_KEY_ORGS " -inf 0");
        }

        if (new->organisation.len) {
            tk_cmds_add(c, "SADD " TK_FMTS_ORG " %llu", &new->organisation,
                        (unsigned long long) new->id);
            tk_cmds_add(c, "ZINCRBY " TK_KEY_ORGS " 1 %S",
                        &new->organisation);
        }
    }

    tk_index_touch(c);
}
