/*
 * tk_ticket.h -- the shared write path: what a ticket, an article, a
 * history entry, a customer look like in Redis and which commands keep
 * the overview index consistent.  Module, ticketctl and mailbridge call
 * these functions and wrap them in MULTI/EXEC (with WATCH on the ticket
 * key when they change an existing ticket).
 */

#ifndef TK_TICKET_H
#define TK_TICKET_H

#include <stdint.h>

#include "tk_cmd.h"
#include "tk_feed.h"
#include "tk_schema.h"
#include "tk_str.h"

typedef struct {
    uint64_t   number;
    tk_str_t   title;
    tk_str_t   group;
    tk_str_t   owner;            /* login, or empty: unassigned */
    uint64_t   customer;         /* 0: none */
    tk_str_t   customer_name;
    tk_str_t   customer_email;
    int        state;            /* tk_state_e */
    int        priority;         /* tk_prio_e  */
    int64_t    created;
    int64_t    updated;
    int64_t    first_response;   /* 0: none yet */
    int64_t    escalation_at;    /* 0: none */
    int64_t    pending_until;    /* 0: none */
    int64_t    escalated;        /* 0: not; read only: written only by
                                    the timers (tk_timer.h), never by
                                    tk_ticket_write */
    tk_str_t   flags;            /* "auto,..." */
    uint64_t   articles;         /* count */
    uint64_t   rev;              /* read only (HINCRBY'd by the writes);
                                    as read, for the feed entry's rev  */
    tk_str_t   tags;             /* "asyl,miete": stored form, tk_tags.h */
    uint64_t   merged_into;      /* 0, or the ticket it was merged into
                                    (HSET only when set, tk_merge.h)  */
} tk_ticket_t;

typedef struct {
    uint64_t   id;
    uint64_t   ticket;
    int        kind;             /* tk_article_kind_e */
    tk_str_t   from;
    tk_str_t   to;
    tk_str_t   cc;
    tk_str_t   reply_to;
    tk_str_t   subject;
    tk_str_t   message_id;
    tk_str_t   in_reply_to;
    tk_str_t   body;             /* text, UTF-8 */
    tk_str_t   body_html;        /* sanitised, or empty */
    tk_str_t   author;           /* login, empty for mail in */
    int64_t    time;
    unsigned   attachments;
    uint64_t   size;
    tk_str_t   flags;
    tk_str_t   attachment_names; /* space-separated, for full text */
    /* outbound only; HSET only when not empty (see tk_outbox.h) */
    tk_str_t   bcc;
    tk_str_t   references;
    tk_str_t   crypt;            /* "encrypt,sign", "sign" or "" */
    tk_str_t   delivery;         /* queued | sent | failed, read only */
    tk_str_t   delivery_info;    /* read only */
    /* inbound only, HSET only when not empty: List-Id without <> */
    tk_str_t   list_id;
} tk_article_t;

/*
 * Parse HGETALL field/value pairs (2*n strings) of a ticket hash.
 * Unknown fields are ignored; returns 0, or -1 when number, state or
 * priority is missing or out of range.
 */
int tk_ticket_parse(tk_ticket_t *t, const tk_str_t *pairs, size_t n);
int tk_article_parse(tk_article_t *a, const tk_str_t *pairs, size_t n);

/* HSET every field of the ticket hash. */
void tk_ticket_write(tk_cmds_t *c, const tk_ticket_t *t);

/*
 * The owner partition of a ticket: its owner's login; unassigned, "-" --
 * or "!" when it is flagged auto, so newsletters and auto-replies never
 * show up among the unassigned work.  Each ticket is in this partition
 * and in "*".
 */
const tk_str_t *tk_ticket_owner_partition(const tk_ticket_t *t);

/* The ticket's list row for TK_KEY_INDEX_ROWS: TK_ROW_FIELDS fields
 * (number title customer_name customer_email group owner state priority
 * created updated tags customer) joined by TK_ROW_SEP, control bytes as blanks.
 * Returns its length, 0 when it does not fit into buf. */
size_t tk_ticket_row(char *buf, size_t size, const tk_ticket_t *t);

/* ZADD/ZREM the ticket in all its overview index sets. */
void tk_ticket_index_add(tk_cmds_t *c, const tk_ticket_t *t);
void tk_ticket_index_del(tk_cmds_t *c, const tk_ticket_t *t);
/* INCR tk:{ix}:gen: whatever overviews show has changed (cache) */
void tk_index_touch(tk_cmds_t *c);

/*
 * Change an existing ticket: index_del(old), write(new), index_add(new),
 * and one history entry per changed field (by = login, or "system"),
 * and one change feed entry (tk_feed.h) naming the changed fields.
 * The stored "updated" is max(new->updated, now); the counts hash is
 * only touched when group, state or owner partition change (the owner
 * partition also moves when the flag "auto" comes or goes).
 */
void tk_ticket_update(tk_cmds_t *c, const tk_ticket_t *old,
    const tk_ticket_t *new, const tk_str_t *by, int64_t now);

/* A new ticket: write + index + "created" history entry + feed entry
 * "created" (which its first article joins when written right after). */
void tk_ticket_create(tk_cmds_t *c, const tk_ticket_t *t, const tk_str_t *by);

/*
 * Store an article: its hash, RPUSH to the ticket's list, the article
 * counter, the Message-ID index and the full-text document (FT.ADD),
 * and the change feed entry "article" (kind, id).
 */
void tk_article_write(tk_cmds_t *c, const tk_article_t *a,
    const tk_str_t *group);

/* The same with flags: TK_ARTICLE_NO_FULLTEXT leaves out the FT.ADD
 * (bench data whose full text is not needed; reindexing it is up to the
 * caller). */
#define TK_ARTICLE_NO_FULLTEXT  0x01
/* ... and TK_ARTICLE_FT_ONLY writes only the full-text document, nothing
 * else (ticketctl reindex --fulltext) */
#define TK_ARTICLE_FT_ONLY      0x02

void tk_article_write_flags(tk_cmds_t *c, const tk_article_t *a,
    const tk_str_t *group, unsigned flags);

/*
 * Set an article's flags (the whole new list, e.g. "auto,bounced") and
 * one word that came with it ("bounced"): HSET, the ticket's rev (so no
 * cached page shows the old flags) and a feed entry "flag".
 */
void tk_article_flag(tk_cmds_t *c, uint64_t number, uint64_t article,
    const tk_str_t *flags, const char *flag);

/* One history entry (XADD to the ticket's history stream, see
 * SCHEMA.md); from/to may be NULL: the field is left out. */
void tk_history_add(tk_cmds_t *c, uint64_t number, int64_t time,
    const tk_str_t *by, const char *field, const tk_str_t *from,
    const tk_str_t *to);

/* Customer hash + email index. */
void tk_customer_write(tk_cmds_t *c, uint64_t id, const tk_str_t *name,
    const tk_str_t *email);

#endif /* TK_TICKET_H */
