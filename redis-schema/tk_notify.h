/*
 * tk_notify.h -- notifications: a user's settings (the matrix of events x
 * scopes, "assigned to me", mail on/off, digest), the pure decision "does
 * this user want to hear of this" (shared by mailbridge and the profile
 * page's defaults), and the writes of an in-app notice, a subscription, a
 * notification mail and a digest line.  See SCHEMA.md "Notifications".
 */

#ifndef TK_NOTIFY_H
#define TK_NOTIFY_H

#include <stdint.h>

#include "tk_cmd.h"
#include "tk_schema.h"
#include "tk_str.h"

/* rows of the matrix (what happened) */
enum {
    TK_NEV_CREATE = 0,          /* a new ticket                          */
    TK_NEV_UPDATE,              /* an article or a field change          */
    TK_NEV_REMINDER,            /* a reminder was reached                */
    TK_NEV_ESCALATION,          /* the SLA escalated                     */
    TK_NEV_N
};

/* columns (which tickets) */
enum {
    TK_NSC_MINE = 0,            /* assigned to me                        */
    TK_NSC_UNASSIGNED,          /* unassigned, in the groups I picked    */
    TK_NSC_SUBSCRIBED,          /* I subscribed (or was mentioned)       */
    TK_NSC_ALL,                 /* every ticket of my groups             */
    TK_NSC_N
};

enum { TK_DIGEST_OFF = 0, TK_DIGEST_HOURLY, TK_DIGEST_DAILY };

typedef struct {
    unsigned char  m[TK_NEV_N][TK_NSC_N];
    int            assigned;    /* "someone assigned a ticket to me"     */
    int            email;       /* mail as well as in-app                */
    int            digest;      /* TK_DIGEST_*                           */
    tk_str_t       groups;      /* scope "unassigned": "" = all my groups */
} tk_notify_conf_t;

/* What the recipient has to do with the ticket. */
typedef struct {
    int            mine;        /* owner == recipient                    */
    int            unassigned;  /* no owner                              */
    int            subscribed;
    const tk_str_t *group;      /* the ticket's group                    */
} tk_notify_ctx_t;

const char *tk_notify_event_name(int ev);    /* "create" ...            */
const char *tk_notify_scope_name(int sc);    /* "mine" ...              */
const char *tk_digest_name(int d);           /* "off" "hourly" "daily"  */
int tk_digest_parse(const tk_str_t *s);      /* -1: unknown             */

/* Zammad's defaults: new ticket and update for mine, unassigned and
 * subscribed; reminder and escalation for mine; mail on; no digest;
 * "assigned to me" on. */
void tk_notify_conf_default(tk_notify_conf_t *conf);
/* Fields of tk:{u:LOGIN}:notify over the defaults (strings point into
 * pairs: name, value, ...). */
void tk_notify_conf_parse(tk_notify_conf_t *conf, const tk_str_t *pairs,
    size_t n);
/* HSET of every field (DEL first: a cleared box is "0", not absent). */
void tk_notify_conf_write(tk_cmds_t *c, const tk_str_t *login,
    const tk_notify_conf_t *conf);

/* 1 when the matrix row ev has a ticked scope that fits x. */
int tk_notify_wants(const tk_notify_conf_t *conf, int ev,
    const tk_notify_ctx_t *x);

/* The in-app notice number seq (INCR'd before) for login, unread. */
void tk_notice_add(tk_cmds_t *c, const tk_str_t *login, uint64_t seq,
    uint64_t ticket, const char *event, const tk_str_t *title,
    const tk_str_t *by, const tk_str_t *group, const tk_str_t *text,
    int64_t now);
/* Mark one notice read (seq), or all of them (seq 0). */
void tk_notice_read(tk_cmds_t *c, const tk_str_t *login, uint64_t seq);

void tk_subscribe(tk_cmds_t *c, uint64_t ticket, const tk_str_t *login,
    int on);

/* One notification mail, written whole (tk:{ix}:nmail:ID, ID from
 * INCR tk:seq:nmail) and queued in the outbox (kind notify); the sender
 * deletes the hash when the entry is final.  ticket 0: a digest. */
typedef struct {
    uint64_t       id;
    uint64_t       ticket;
    tk_str_t       from;
    tk_str_t       to;
    tk_str_t       subject;
    tk_str_t       body;
    tk_str_t       message_id;
    tk_str_t       group;        /* X-Ticket-Group                       */
    const char    *event;        /* X-Ticket-Event                       */
} tk_nmail_t;

void tk_nmail_queue(tk_cmds_t *c, const tk_nmail_t *m, int64_t now);

/*
 * The next "@@login" in text from *pos on: the login (lower-case ASCII
 * letters, digits, . _ -; a trailing '.' is punctuation) into out, *pos
 * after it.  0 when there is none.  "@@" must start the text or follow a
 * character that is not a letter, digit or '@' (mail addresses are not
 * mentions).
 */
int tk_mention_next(const tk_str_t *text, size_t *pos, tk_str_t *out);

#endif /* TK_NOTIFY_H */
