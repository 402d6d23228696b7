/*
 * mb_notify.h -- the notify role of "mailbridge run" (helper notify):
 * reads the change feed and the notification requests (tk:{ix}:feed,
 * tk:{ix}:notify, consumer group TK_NOTIFY_GROUP), decides per user from
 * their matrix and rights who hears of what, and writes the in-app
 * notices, subscriptions (mentions), mails (through the outbox) and
 * digest lines in one MULTI per entry.  Digests wait in a sorted set
 * (tk:{ix}:due:digest) whose earliest score bounds the role's one
 * blocking read: never a poll.
 *
 *   notify.c       the role: streams, claiming, the digest timer
 *   notify_eval.c  one entry -> recipients -> the write transaction
 *   notify_mail.c  subjects and bodies (German / English)
 *
 * See docs/mailbridge.md "Notifications", SCHEMA.md "Notifications".
 */

#ifndef MB_NOTIFY_H
#define MB_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "mailbridge.h"
#include "tk_notify.h"
#include "tk_redis_sync.h"

int mb_notify_run(const mb_config_t *cfg);
int mb_notify_enabled(const mb_config_t *cfg);
/* config.c: "notify", "notify.*", "test_digest_period"; 0, 1 (not
 * ours) or -1 (bad value) */
int mb_notify_config(mb_config_t *cfg, const char *key, const char *val);

typedef struct {
    tk_redis_t          r;
    const mb_config_t  *cfg;
    char                consumer[256];
    int64_t             next_claim;     /* mb_now_ms()                  */
    unsigned long       handled;
} mb_notify_t;

/* One entry of either stream, as the decision needs it. */
typedef struct {
    const char   *stream;       /* TK_KEY_FEED or TK_KEY_NOTIFY         */
    const char   *tag;          /* "f" | "n": the done marker's name    */
    int           feed;         /* from the feed (else tk:{ix}:notify)  */
    const char   *id;
    uint64_t      ticket;
    int           ev;           /* TK_NEV_*, -1: no matrix row          */
    const char   *what;         /* X-Ticket-Event of the matrix row     */
    tk_str_t      by;
    tk_str_t      changed;
    tk_str_t      owner, owner_from;
    tk_str_t      state, state_from;
    tk_str_t      prio, prio_from;
    tk_str_t      group_from;
    tk_str_t      article, kind;
    tk_str_t      to;           /* notify: "anna,@legal"                */
    tk_str_t      reason;       /* trigger: the rule's name             */
} mb_notify_ev_t;

/* A candidate recipient. */
typedef struct {
    tk_str_t          login, rights, disabled, email, lang, name;
    tk_notify_conf_t  conf;
} mb_nuser_t;

/* notify_eval.c: handle one entry (the fields array of XREADGROUP);
 * 0 done (acknowledged), -1 Redis trouble (stays pending). */
int mb_notify_entry(mb_notify_t *nt, const char *stream, const char *id,
    redisReply *fields);

/* notify.c: the digest period of d (TK_DIGEST_*) in seconds */
int64_t mb_notify_period(const mb_config_t *cfg, int d);

/* ---- notify_mail.c ------------------------------------------------------ */

typedef struct {
    const mb_notify_ev_t  *e;
    const mb_nuser_t      *u;
    const char            *what;     /* the recipient's event name      */
    tk_str_t               title;
    tk_str_t               group;
    tk_str_t               body;     /* the article's text, or empty    */
    tk_str_t               art_kind;
} mb_nmail_ctx_t;

/* "aktualisiert von anna" / "escalated" ...: the short line (subject,
 * in-app notice, digest) into buf */
size_t mb_notify_what(const mb_nmail_ctx_t *x, char *buf, size_t size);
/* the subject "[Ticket#N] title — what" */
size_t mb_notify_subject(const mb_config_t *cfg, const mb_nmail_ctx_t *x,
    const char *what, char *buf, size_t size);
/* the body: greeting, what, the change, the permalink */
size_t mb_notify_body(const mb_config_t *cfg, const mb_nmail_ctx_t *x,
    const char *what, char *buf, size_t size);
/* the From of notifications */
const char *mb_notify_from(const mb_config_t *cfg);
/* the digest mail's subject and body from its lines */
size_t mb_notify_digest_subject(const mb_config_t *cfg, int de, size_t n,
    char *buf, size_t size);
size_t mb_notify_digest_body(const mb_config_t *cfg, int de,
    const tk_str_t *name, redisReply *lines, char *buf, size_t size);

#endif /* MB_NOTIFY_H */
