/*
 * tk_timer.h -- the shared write path of a ticket's timers: the
 * escalation and reminder due times (sorted sets), the ticket's fields
 * escalation_at, first_response, escalated, reminded, and the overview
 * sets of escalated tickets and due reminders.  Written by mailbridge's
 * timers role (mailbridge/timers.c) inside WATCH tk:{t:N} + MULTI/EXEC,
 * so a change of the ticket in between makes the transaction run again
 * and two timers roles never fire one timer twice.  Each function bumps
 * rev and appends a change feed entry when it changes a ticket field.
 * See SCHEMA.md "Service levels and timers".
 */

#ifndef TK_TIMER_H
#define TK_TIMER_H

#include <stdint.h>

#include "tk_cmd.h"
#include "tk_ticket.h"

/* The timer fields of a ticket besides tk_ticket_t (HMGET, this order). */
#define TK_TIMER_FIELDS  TK_F_ESCALATED " " TK_F_REMINDED " " TK_F_TIMER_IX \
                         " " TK_F_UPDATE_FROM
#define TK_TIMER_NFIELDS 4

typedef struct {
    int64_t   escalated;       /* when it escalated; 0 not escalated    */
    int64_t   reminded;        /* pending_until whose reminder fired    */
    tk_str_t  ix;              /* "GROUP OWNER" of the overview sets it
                                  is in, or empty                       */
    int64_t   update_from;     /* oldest unanswered customer mail after
                                  the first response; 0 none            */
} tk_timer_state_t;

/* Parse the HMGET TK_TIMER_FIELDS values (TK_TIMER_NFIELDS strings, NULL
 * data = nil). */
void tk_timer_state_parse(tk_timer_state_t *ts, const tk_str_t *values);

/* Does the ticket's reminder wait ("waiting with reminder" + a date)? */
int tk_timer_reminder_due(const tk_ticket_t *t);

/*
 * After a change of the ticket: escalation_at (0: never) as computed
 * from the SLA (tk_sla_escalation), first_response (0: unchanged),
 * update_from (the new value; 0 none) and the reminder from
 * state/pending_until.  Keeps the due sets right
 * (idempotent ZADD/ZREM), takes back an escalation that no longer holds
 * (answered, closed, a later deadline), drops a fired reminder whose
 * ticket left the reminder state or got a new date, and moves the
 * overview entries when group or owner changed.  Writes the ticket
 * fields only when they differ (then rev + feed entry).
 */
void tk_ticket_set_escalation(tk_cmds_t *c, const tk_ticket_t *t,
    const tk_timer_state_t *ts, int64_t escalation_at,
    int64_t first_response, int64_t update_from, int64_t now);

/*
 * Fire the escalation: ZREM the due entry, escalated = now, the
 * overview sets (group and owner), history "escalated", feed entry, and
 * a notification request on tk:{ix}:notify.
 */
void tk_ticket_escalate(tk_cmds_t *c, const tk_ticket_t *t,
    const tk_timer_state_t *ts, int64_t now);

/* Fire the reminder: ZREM the due entry, reminded = pending_until, the
 * "reminders due" set of the owner partition, history "reminder", feed
 * entry, notification request. */
void tk_ticket_remind(tk_cmds_t *c, const tk_ticket_t *t,
    const tk_timer_state_t *ts, int64_t now);

/* Only the due entry goes (a timer that no longer applies); the
 * shard's bound in due_key stays (a lower bound still). */
void tk_timer_drop(tk_cmds_t *c, const char *due_key, uint64_t number);

/*
 * The due sets are sharded (SCHEMA.md "tk:{ix}:due:escalation"): due_key
 * (TK_KEY_DUE_ESCALATION or TK_KEY_DUE_REMINDER) indexes shards of
 * TK_DUE_SHARD tickets, score = a lower bound of the shard's earliest
 * due time.  tk_timer_due_key: the shard key of ticket number (0: too
 * small a buffer).  tk_timer_due_add: ZADD into the shard and ZADD LT of
 * the bound, so the bound never is later than an entry.
 * tk_timer_due_bound: the bound set exactly (min 0: the shard is empty,
 * its index entry goes) -- only under WATCH of the shard key.
 */
size_t tk_timer_due_key(char *buf, size_t size, const char *due_key,
    uint64_t number);
void tk_timer_due_add(tk_cmds_t *c, const char *due_key, uint64_t number,
    int64_t due);
void tk_timer_due_bound(tk_cmds_t *c, const char *due_key, uint64_t shard,
    int64_t min);

#endif /* TK_TIMER_H */
