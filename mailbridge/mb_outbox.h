/*
 * mb_outbox.h -- mailbridge's outbound side: the outbox role and its
 * three stages, one file each:
 *
 *   outbox.c        the role: consumer group, reclaim, retry schedule
 *   outbox_store.c  every Redis read and write of the role (the only
 *                   caller of tk_outbox_*: adapt write-path changes here)
 *   compose.c       one outbound mail (mb_out_t) -> MIME bytes (gmime),
 *                   header-injection checks, the crypto stage
 *   smtp.c          MIME bytes -> SMTP server (libcurl), result classified
 *   notice.c        the German failure notice to an article's author
 *
 * See docs/mailbridge.md "Outbound mail" and SCHEMA.md "Outbox".
 */

#ifndef MB_OUTBOX_H
#define MB_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "mailbridge.h"
#include "tk_redis_sync.h"
#include "tk_ticket.h"

/* Outcome of a stage, and so of one delivery attempt. */
enum {
    MB_SEND_OK = 0,               /* the server accepted the mail       */
    MB_SEND_TEMP,                 /* try again later                    */
    MB_SEND_PERM                  /* never: the article fails           */
};

/* ---- the role (outbox.c) ------------------------------------------------ */

/* Loops until mb_stop; returns a sysexits code. */
int mb_outbox_run(const mb_config_t *cfg);
/* smtp.url is configured. */
int mb_outbox_enabled(const mb_config_t *cfg);

/* ---- one outbound mail, as compose.c wants it -------------------------- */

typedef struct {
    tk_str_t       from;          /* complete From value                */
    tk_str_t       to;            /* RFC 5322 address lists             */
    tk_str_t       cc;
    tk_str_t       bcc;           /* delivered to, never a header       */
    tk_str_t       subject;       /* UTF-8, final (tag included)        */
    tk_str_t       message_id;    /* without <>                         */
    tk_str_t       in_reply_to;   /* without <>                         */
    tk_str_t       references;    /* space-separated, without <>        */
    tk_str_t       body;          /* text/plain UTF-8                   */
    tk_str_t       crypt;         /* "encrypt,sign", "sign", ...        */
    tk_str_t       sign_fpr;      /* the group's pgp_sign, or empty     */
    int64_t        date;          /* Unix seconds                       */
    int            auto_submitted; /* Auto-Submitted: 1 auto-generated,
                                     2 auto-replied (request form)      */
    tk_str_t       x_group;       /* notifications: X-Ticket-Group      */
    tk_str_t       x_event;       /* notifications: X-Ticket-Event      */
    mb_att_t      *atts;
    unsigned       natts;
} mb_out_t;

/* What smtp.c sends: malloc'd, freed by mb_mail_free(). */
typedef struct {
    char          *data;          /* the message, CRLF line ends        */
    size_t         len;
    char          *sender;        /* envelope sender (address only)     */
    char         **rcpts;         /* To + Cc + Bcc, de-duplicated       */
    size_t         nrcpts;
} mb_mail_t;

/* ---- compose.c ---------------------------------------------------------- */

/*
 * Builds the mail.  envelope_from overrides the address of From as the
 * envelope sender (NULL: From's address).  Returns MB_SEND_OK, or
 * MB_SEND_PERM (CR/LF/NUL in a header, an invalid or missing address,
 * a failed crypto stage for good) or MB_SEND_TEMP (PGP not available or
 * failing for now) with err set to a sentence for the agent.
 */
int mb_compose(const mb_out_t *o, const char *envelope_from, mb_mail_t *mail,
    char *err, size_t errlen);
void mb_mail_free(mb_mail_t *mail);

/* ---- smtp.c ------------------------------------------------------------- */

typedef struct mb_smtp_s mb_smtp_t;

mb_smtp_t *mb_smtp_new(const mb_config_t *cfg);
void mb_smtp_free(mb_smtp_t *s);
/*
 * Sends one mail over the kept connection (reconnecting when needed).
 * reply receives the server's final reply ("250 2.0.0 Ok: queued as X")
 * or, on failure, the reply or error that made it fail.
 */
int mb_smtp_send(mb_smtp_t *s, const mb_mail_t *mail, char *reply,
    size_t replylen);

/* ---- outbox_store.c: Redis ---------------------------------------------- */

enum { MB_ENTRY_ARTICLE = 1, MB_ENTRY_NOTICE, MB_ENTRY_NOTIFY };

/* One stream entry with what was read for it. */
typedef struct {
    char           id[64];        /* stream id "1700000000000-0"        */
    int64_t        id_ms;         /* its time: when it was queued       */
    int            kind;          /* MB_ENTRY_*, 0: unknown             */
    uint64_t       ticket;
    uint64_t       article;

    int            found;         /* the article hash exists            */
    tk_article_t   a;             /* points into the replies below      */
    unsigned       tries;         /* delivery_tries so far              */
    tk_str_t       group;         /* the ticket's group                 */
    tk_str_t       sign_fpr;      /* the group's pgp_sign               */
    tk_str_t       author_email;  /* notice: the author's address       */
    tk_str_t       author_name;
    tk_str_t       x_group;       /* notify: X-Ticket-Group, -Event     */
    tk_str_t       x_event;
    mb_att_t      *atts;          /* malloc'd array, data in replies    */
    unsigned       natts;

    tk_str_t      *pairs;         /* the article's fields (malloc'd)    */
    redisReply   **held;          /* replies the strings point into     */
    size_t         nheld;
} mb_entry_t;

void mb_entry_free(mb_entry_t *e);

/* Parse XREADGROUP/XCLAIM/XAUTOCLAIM entries ([id, [k, v, ...]], ...). */
size_t mb_entries_parse(redisReply *list, mb_entry_t *out, size_t max);

/*
 * Reads article, ticket group (one pipelined round trip for all n), then
 * attachments, the group's signing key and a notice's author (a second
 * one, only for entries that need it).  TK_REDIS_OK or TK_REDIS_ERROR.
 */
int mb_entries_load(tk_redis_t *r, mb_entry_t *e, size_t n);

/*
 * The outcome of one attempt in one MULTI/EXEC:
 *   SENT:   delivery sent + reply, the entry done (XACK, XDEL, unscheduled)
 *   FAILED: delivery failed + reply, done, and a notice to the author
 *           queued (not for a notice: a failing notice is only logged)
 *   TEMP:   delivery queued + error + tries, retry scheduled at due_ms
 * A notice records no article state.  TK_REDIS_OK or an error.
 */
int mb_entry_commit(tk_redis_t *r, const mb_entry_t *e, int outcome,
    const char *info, unsigned tries, int64_t due_ms);

/* Due time of the earliest scheduled retry (ms), or -1 when none. */
int64_t mb_retry_next(tk_redis_t *r);
/* Is the entry scheduled for a retry?  1 yes, 0 no, -1 Redis error. */
int mb_retry_scheduled(tk_redis_t *r, const char *id);

/* ---- notice.c ---------------------------------------------------------- */

/*
 * The failure notice for entry e (kind notice, article and author
 * loaded) into o; its strings live in buf.  -1: nobody to tell (logged).
 */
int mb_notice_build(const mb_config_t *cfg, const mb_entry_t *e, mb_out_t *o,
    char *buf, size_t size);

#endif /* MB_OUTBOX_H */
