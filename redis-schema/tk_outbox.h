/*
 * tk_outbox.h -- the shared write path of outbound mail.  The web (reply,
 * new outbound ticket, API) queues an outbound article in the same
 * MULTI/EXEC as the article itself; mailbridge's sender records how its
 * delivery went.  Both sides call only these functions, so the delivery
 * state an agent sees and the queue mailbridge drains cannot disagree.
 * See SCHEMA.md "Outbox".
 */

#ifndef TK_OUTBOX_H
#define TK_OUTBOX_H

#include <stdint.h>

#include "tk_cmd.h"
#include "tk_schema.h"
#include "tk_str.h"

typedef enum {
    TK_DELIVERY_QUEUED = 1,    /* in tk:{ix}:outbox, not yet accepted     */
    TK_DELIVERY_SENT = 2,      /* the SMTP server accepted it             */
    TK_DELIVERY_FAILED = 3     /* permanent failure, or retries exhausted */
} tk_delivery_e;

/* What an outbox entry asks for (field "kind" of the stream entry). */
#define TK_OUTBOX_KIND_ARTICLE  "article"   /* send outbound article A   */
#define TK_OUTBOX_KIND_NOTICE   "notice"    /* tell A's author it failed */
/* notifications (helper notify): send the mail tk:{ix}:nmail:A, then
 * delete it (tk_nmail_queue in tk_notify.h) */
#define TK_OUTBOX_KIND_NOTIFY   "notify"

const char *tk_delivery_name(int state);          /* "queued" ... or NULL */
int tk_delivery_parse(const char *s, size_t len); /* 0: unknown           */

/*
 * Queue article A of ticket N for sending: marks the article "queued"
 * and XADDs {ticket, article, kind} to tk:{ix}:outbox.  Call inside the
 * MULTI that writes the article (tk_article_write), so an article exists
 * with its queue entry or not at all.
 */
void tk_outbox_enqueue(tk_cmds_t *c, uint64_t number, uint64_t article,
    int64_t now);

/*
 * Record a delivery attempt's outcome on the article (state, the server's
 * reply or our error, the number of tries so far) and bump the ticket's
 * rev, so a cached ticket page never shows a stale delivery state.  The
 * caller XACKs/XDELs the stream entry in the same MULTI once the state is
 * final (tk_outbox_done).  Appends the change feed entry "delivery"
 * (tk_feed.h), by "mailbridge", src "mail" unless the list says otherwise.
 */
void tk_outbox_delivery(tk_cmds_t *c, uint64_t number, uint64_t article,
    int state, const tk_str_t *info, unsigned tries, int64_t now);

/* XACK + XDEL of a finished entry (id "1700000000000-0"), and no
   longer scheduled for a retry. */
void tk_outbox_done(tk_cmds_t *c, const tk_str_t *entry_id);

/*
 * A temporarily failed entry stays pending (never XACK'd) and waits in
 * tk:{ix}:outbox:retry until due_ms (Unix ms), so a restarted consumer
 * keeps the schedule.  Call with tk_outbox_delivery(QUEUED, ...).
 */
void tk_outbox_retry(tk_cmds_t *c, const tk_str_t *entry_id, int64_t due_ms);

/*
 * Queue a notice to the author of article A that its delivery failed
 * (mailbridge, in the MULTI that records FAILED).  A failing notice is
 * only logged, never noticed again.
 */
void tk_outbox_notice(tk_cmds_t *c, uint64_t number, uint64_t article);

#endif /* TK_OUTBOX_H */
