/*
 * tk_feed.h -- the change feed tk:{ix}:feed: who changed what, appended
 * by the shared write path (tk_ticket.c, tk_article.c, tk_outbox.c) in
 * the same MULTI as the change, so a consumer sees exactly the changes
 * that were committed.  See SCHEMA.md "Change feed".
 *
 * Writers only say who they are, once per command list:
 *
 *     tk_cmds_actor(c, &login, TK_SRC_WEB);
 *     tk_ticket_update(c, &old, &new, &login, now);   (as before)
 *
 * Every tk_ticket_create/update, tk_article_write(_flags),
 * tk_article_flag and tk_outbox_delivery then adds one XADD.  Calls for
 * the same ticket that follow each other directly in a list (a new
 * ticket and its first article, a follow-up mail and its article) make
 * one entry together: one entry per committed change of a ticket.
 */

#ifndef TK_FEED_H
#define TK_FEED_H

#include <stdint.h>

#include "tk_cmd.h"
#include "tk_schema.h"
#include "tk_str.h"

/*
 * The actor (a login; the sender's address for inbound mail;
 * "mailbridge" for its own writes) and the source (tk_src_e) of every
 * change appended to c from now on; copied.  A list without an actor
 * writes "by" from the write path's own by argument, else "system", and
 * "src system".  May be called again between changes (mailbridge: once
 * per mail of a batch).
 */
void tk_cmds_actor(tk_cmds_t *c, const tk_str_t *actor, int src);

/* No feed entries at all from this list: bulk bench data (ticketctl gen),
 * which no trigger or notification must ever act on. */
void tk_cmds_nofeed(tk_cmds_t *c);

const char *tk_src_name(int src);          /* "web" ... ; "system"   */

/* ---- for the write path only ------------------------------------------ */

/* What a part of an entry is; an entry takes each part at most once. */
#define TK_FEED_CREATED   0x01     /* tk_ticket_create                 */
#define TK_FEED_FIELDS    0x02     /* tk_ticket_update                 */
#define TK_FEED_ARTICLE   0x04     /* tk_article_write                 */
#define TK_FEED_DELIVERY  0x08     /* tk_outbox_delivery (alone)       */
#define TK_FEED_FLAG      0x10     /* tk_article_flag (alone)          */

typedef struct tk_feed_s  tk_feed_t;

/*
 * The entry for a part of a change of ticket N: the one whose XADD is
 * the last command of c when it is for the same ticket and actor and
 * lacks this part (its XADD is taken back, to be written again by
 * tk_feed_close), else a new one.  NULL: no feed (tk_cmds_nofeed, or the
 * list failed).  by: the write path's by argument, used without actor.
 */
tk_feed_t *tk_feed_open(tk_cmds_t *c, uint64_t ticket, unsigned part,
    const tk_str_t *by);

/* The ticket's rev before this change, when the writer read it. */
void tk_feed_rev_base(tk_feed_t *f, uint64_t rev);
/* One HINCRBY rev of the change. */
void tk_feed_bump(tk_feed_t *f);
void tk_feed_group(tk_cmds_t *c, tk_feed_t *f, const tk_str_t *group);
/* A changed ticket field: "changed" lists it, NAME and NAME.from hold
 * the new and the old value. */
void tk_feed_changed(tk_cmds_t *c, tk_feed_t *f, const char *field,
    const tk_str_t *from, const tk_str_t *to);
void tk_feed_str(tk_cmds_t *c, tk_feed_t *f, const char *field,
    const tk_str_t *value);
void tk_feed_word(tk_cmds_t *c, tk_feed_t *f, const char *field,
    const char *value);
void tk_feed_num(tk_cmds_t *c, tk_feed_t *f, const char *field,
    uint64_t value);

/* Appends the entry's XADD (MAXLEN ~ TK_FEED_MAXLEN). */
void tk_feed_close(tk_cmds_t *c, tk_feed_t *f);

#endif /* TK_FEED_H */
