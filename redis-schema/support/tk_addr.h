/*
 * tk_addr.h -- address lists as an agent types them into the composer
 * ("Ana <ana@x.org>, \"Doe, J\" <j@y.org>, b@z.org"): parsed, checked
 * and written back in one normal form, so that what is stored for the
 * sender can never carry a header line of its own (CR/LF) or an address
 * SMTP would refuse.  No allocation: results point into the input.
 */

#ifndef TK_ADDR_H
#define TK_ADDR_H

#include <stddef.h>

#include "tk_escape.h"
#include "tk_str.h"

#define TK_ADDR_MAX      100     /* recipients per field       */
#define TK_ADDR_LEN_MAX  254     /* RFC 5321 path limit         */

/* What was wrong with a list (tk_addr_parse's negative results). */
#define TK_ADDR_E_SYNTAX  -1     /* not an address               */
#define TK_ADDR_E_CTRL    -2     /* CR, LF or another control byte */
#define TK_ADDR_E_MANY    -3     /* more than max entries        */

typedef struct {
    tk_str_t   name;             /* display name, unquoted; may be empty */
    tk_str_t   addr;             /* local@domain                  */
    int        name_quoted;      /* name had quotes (may hold \" \\) */
} tk_addr_t;

/*
 * Split and check a list.  Returns the number of addresses (empty
 * entries, e.g. a trailing comma, are skipped) or a TK_ADDR_E_* code;
 * *bad is then the offending entry (or the whole list).
 */
int tk_addr_parse(const tk_str_t *list, tk_addr_t *out, int max,
    tk_str_t *bad);

/* local@domain: dot-atoms, a domain of at least two labels. */
int tk_addr_valid(const unsigned char *p, size_t len);

/* Any byte below 0x20 or 0x7f (CR/LF above all): header injection. */
int tk_has_ctrl(const tk_str_t *s);

/*
 * Write addresses as one list: "Name <a@x>", the name in quotes when it
 * holds anything besides letters, digits, spaces and UTF-8.
 */
void tk_addr_write(tk_out_t *out, const tk_addr_t *a, int n);

/* Lower-case copy of an address for lookups (tk:pgp:addr, customers);
 * dst has len bytes. */
void tk_addr_lower(unsigned char *dst, const tk_str_t *addr);

#endif /* TK_ADDR_H */
