/*
 * tk_ticket_index.h -- internal to tk_ticket.c and tk_ticket_index.c:
 * the index passes tk_ticket_update() chooses between (move partition,
 * or update in place), and the number formatting both files use.  The
 * public part (tk_ticket_index_add/del, tk_ticket_row, ...) is in
 * tk_ticket.h.
 */

#ifndef TK_TICKET_INDEX_H
#define TK_TICKET_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "tk_cmd.h"
#include "tk_ticket.h"

#define TK_NUM_MAX             24   /* "-9223372036854775808" + NUL */

/* which counts a pass of tk_ticket_index() moves */
#define TK_TICKET_COUNTS       1    /* tk:{ix}:counts */
#define TK_TICKET_COUNTS_PRI   2    /* tk:{ix}:counts:pri */

/* Add the ticket to (add = 1) or remove it from (0) every index set of
 * its partitions, moving the counts named by counts (TK_TICKET_*). */
void tk_ticket_index(tk_cmds_t *c, const tk_ticket_t *t, int add,
    int counts);

/* The counts a change from old to new moves: 0 when it stays in its
 * partition and keeps its priority (then tk_ticket_index_update()). */
int tk_ticket_index_counts(const tk_ticket_t *old, const tk_ticket_t *new);

/* A ticket that stays in its partition: new scores, changed lexical
 * members, the customer's list, class partitions and row. */
void tk_ticket_index_update(tk_cmds_t *c, const tk_ticket_t *old,
    const tk_ticket_t *new);

/* v in decimal, NUL-terminated, into buf[TK_NUM_MAX]; its length */
size_t tk_ticket_num(char *buf, int64_t v);

#endif /* TK_TICKET_INDEX_H */
