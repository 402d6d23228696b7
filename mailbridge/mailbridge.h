/*
 * mailbridge.h -- the plain structs that pass between the stages of
 * mailbridge (fetch -> parse -> sanitise -> thread -> store -> ack) and
 * the narrow interface of each stage.  One stage per file; no stage
 * reaches into another one's data except through these structs.
 */

#ifndef MAILBRIDGE_H
#define MAILBRIDGE_H

#include <stddef.h>
#include <stdint.h>
#include <sysexits.h>

#include "tk_cmd.h"
#include "tk_schema.h"
#include "tk_str.h"

#define MB_VERSION          "0.1"

/* ---- log.c ------------------------------------------------------------- */

enum { MB_LOG_ERROR = 0, MB_LOG_WARN, MB_LOG_INFO, MB_LOG_DEBUG };

extern int mb_log_level;
extern const char *mb_log_role; /* set in a role process (supervise.c) */

void mb_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int mb_log_level_parse(const char *s);      /* -1 when unknown */

#define mb_err(...)   mb_log(MB_LOG_ERROR, __VA_ARGS__)
#define mb_warn(...)  mb_log(MB_LOG_WARN, __VA_ARGS__)
#define mb_info(...)  mb_log(MB_LOG_INFO, __VA_ARGS__)
#define mb_debug(...) mb_log(MB_LOG_DEBUG, __VA_ARGS__)

/* ---- config.c ---------------------------------------------------------- */

enum { MB_TLS_AUTO = 0, MB_TLS_STARTTLS, MB_TLS_NONE };

typedef struct {
    char          *name;          /* from "mailbox.NAME.key"            */
    char          *url;           /* imap[s]://host[:port]/MAILBOX      */
    char          *user;
    char          *password;
    char          *group;
    char          *processed;     /* folder, or NULL: expunge           */
    int            poll;          /* seconds between polls             */
    int            search_unseen; /* UID SEARCH UNSEEN instead of ALL   */
    int            tls;           /* MB_TLS_*                           */
    int            tls_verify;
    char          *ca_file;
} mb_mailbox_t;

typedef struct {
    char          *address;       /* lower-case                         */
    char          *group;
} mb_address_t;

/* outbound (mb_outbox.h): smtp.* and outbox.* keys */
typedef struct {
    char          *url;           /* smtp[s]://host[:port][/EHLO-NAME]  */
    int            starttls;      /* CURLUSESSL_* (auto: see config.c)  */
    char          *user;
    char          *password;
    int            tls_verify;
    char          *ca_file;
    int            timeout;       /* seconds, connect and per reply     */
    char          *helo;          /* EHLO name, default host name       */
    char          *envelope_from; /* MAIL FROM, default From's address  */
} mb_smtp_conf_t;

typedef struct {
    char          *from;          /* sender of failure notices          */
    int            retry_min;     /* seconds: first retry after this    */
    int            retry_max;     /* seconds: backoff stops doubling    */
    int            retry_for;     /* seconds: then it fails for good    */
    int            claim_idle;    /* seconds: a dead consumer's entries */
    char          *consumer;      /* consumer name, default host:pid    */
} mb_outbox_conf_t;

/* notifications (mb_notify.h): notify, notify.* keys */
typedef struct {
    int            enabled;       /* the notify role runs               */
    char          *from;          /* sender; default outbox.from        */
    char          *base_url;      /* permalinks: BASE "t/N"             */
    int            test_period;   /* tests: every digest period, s      */
} mb_notify_conf_t;

typedef struct {
    char          *path;
    char          *redis;         /* host:port or a unix socket path    */
    int            redis_timeout; /* milliseconds                       */
    int            redis_wait_replicas; /* WAIT after each commit (0) */
    int            redis_wait_timeout;  /* ms                         */
    int            log_level;
    size_t         max_size;      /* bytes; larger mails: headers only  */
    char          *default_group;
    char          *subject_tag;   /* "Ticket#": "[Ticket#123]"          */
    unsigned       batch;         /* messages per import transaction    */
    mb_mailbox_t  *mailboxes;
    size_t         nmailboxes;
    mb_address_t  *addresses;
    size_t         naddresses;
    char          *gnupg_home;    /* PGP keyring (crypto.c)             */
    int            gnupg_home_set; /* configured, not the default       */
    /* "run": the supervisor and the feed role (supervise.c, feed.c) */
    int            stop_timeout;  /* s the supervisor waits on stop     */
    int            feed;          /* the feed role is enabled           */
    int            timers;        /* the timers role is enabled         */
    char          *feed_consumer; /* consumer name; NULL: the host name */
    int            feed_claim_idle; /* ms: take over others' entries    */
    mb_smtp_conf_t smtp;
    mb_outbox_conf_t outbox;
    long long      test_clock_offset; /* tests: timers' clock shift, s  */
    mb_notify_conf_t notify;
} mb_config_t;

/* Returns 0, or a sysexits code (EX_CONFIG, EX_NOINPUT) after logging. */
int mb_config_load(mb_config_t *cfg, const char *path);
void mb_config_free(mb_config_t *cfg);
/* Group of a recipient address, or NULL. */
const char *mb_config_group_for(const mb_config_t *cfg, const char *addr);

/* ---- the message ------------------------------------------------------- */

/* article/ticket flags, joined with "," into tk_article_t.flags */
enum {
    MB_F_AUTO       = 1 << 0,     /* auto-generated: never reopens       */
    MB_F_BOUNCE     = 1 << 1,     /* a delivery status report           */
    MB_F_OVERSIZED  = 1 << 2,     /* larger than max_size: headers only  */
    MB_F_CHARSET    = 1 << 3,     /* a charset was guessed               */
    MB_F_SIGNED     = 1 << 4,
    MB_F_ENCRYPTED  = 1 << 5,
    MB_F_HTML       = 1 << 6,     /* body derived from HTML              */
    MB_F_BROKEN     = 1 << 7,     /* MIME structure was repaired         */
    MB_F_NOSENDER   = 1 << 8,     /* no usable From address             */
    MB_F_DECRYPT_FAILED = 1 << 9  /* encrypted, and we have no key       */
};

typedef struct {
    tk_str_t       name;          /* file name, UTF-8, no path          */
    tk_str_t       content_type;  /* "image/png"                        */
    tk_str_t       content_id;    /* without <>, or empty               */
    tk_str_t       disposition;   /* "attachment" | "inline"            */
    tk_str_t       data;          /* decoded bytes, binary-safe         */
} mb_att_t;

/*
 * One mail on its way through the stages.  All memory hangs off the
 * arena and goes away with mb_msg_free(): a stage never frees a field.
 */
typedef struct {
    tk_arena_t     arena;

    /* fetch: the bytes as received */
    const unsigned char *raw;
    size_t         raw_len;       /* what we keep (headers only if big) */
    size_t         size;          /* the full size                      */
    const char    *source;        /* "deliver", "imap:NAME", file path  */
    const char    *envelope_from; /* NULL unknown, "" null sender       */
    const char    *recipient;     /* envelope recipient, or NULL        */
    const char    *group;         /* forced group (--group, mailbox)    */
    int64_t        received;      /* Unix seconds                       */
    int            use_date;      /* import: take times from Date:      */

    /* parse: headers decoded to UTF-8 */
    tk_str_t       from;          /* "Name <addr>"                      */
    tk_str_t       from_addr;     /* lower-case address, or empty       */
    tk_str_t       from_name;
    tk_str_t       to;
    tk_str_t       cc;
    tk_str_t       reply_to;
    tk_str_t       list_id;       /* List-Id without <>, or empty       */
    tk_str_t       subject;
    tk_str_t       message_id;    /* normalised, without <>, or empty   */
    tk_str_t       in_reply_to;
    tk_str_t      *refs;          /* In-Reply-To, then References newest
                                     first: threading candidates        */
    size_t         nrefs;
    tk_str_t      *dsn_refs;      /* Message-IDs a bounce reports on    */
    size_t         ndsn_refs;
    tk_str_t      *rcpts;         /* To, Cc, Delivered-To, X-Original-To */
    size_t         nrcpts;
    int64_t        date;          /* Date: header, 0 if none/invalid    */
    tk_str_t       body;          /* text, UTF-8, LF line ends          */
    tk_str_t       body_html;     /* sanitised HTML, or empty           */
    mb_att_t      *atts;
    unsigned       natts;
    unsigned       flags;         /* MB_F_*                             */
    tk_str_t       pgp_sig;       /* "valid FPR UID" (crypto_in.c)      */
    char           raw_hash[65];  /* SHA-256 of raw, hex                */

    /* parse failure: the reason for the quarantine */
    const char    *reason;
} mb_msg_t;

void mb_msg_init(mb_msg_t *m);
void mb_msg_free(mb_msg_t *m);
/* Arena helpers: copies are NUL-terminated; NULL input gives "". */
void *mb_alloc(mb_msg_t *m, size_t n);
tk_str_t mb_strdup(mb_msg_t *m, const char *s);
tk_str_t mb_memdup(mb_msg_t *m, const void *p, size_t n);
/* The MB_F_* bits as "auto,bounced,..." (static words). */
size_t mb_flags_format(unsigned flags, char *buf, size_t size);

/* ---- parse.c: raw bytes -> mb_msg_t ------------------------------------ */

void mb_parse_init(void);
void mb_parse_done(void);
/*
 * Fills the parsed fields.  Returns 0, or -1 when the mail cannot be
 * parsed at all (m->reason says why): the caller quarantines it.
 */
int mb_parse(mb_msg_t *m, size_t max_size);
/* Message-ID without <>, spaces; hashed when too long for a key. */
tk_str_t mb_msgid_norm(mb_msg_t *m, const char *id);
/* SHA-256 of the raw bytes into m->raw_hash. */
void mb_msg_hash(mb_msg_t *m);

/* ---- charset.c --------------------------------------------------------- */

/*
 * Bytes in a declared charset to valid UTF-8, never failing: declared
 * charset, else UTF-8, else windows-1252.  *guessed is set when the
 * declared charset was missing, unknown or wrong.
 */
tk_str_t mb_to_utf8(mb_msg_t *m, const char *charset,
    const unsigned char *p, size_t n, int *guessed);
/* A string that must be UTF-8 (decoded headers): repaired if not. */
tk_str_t mb_utf8_clean(mb_msg_t *m, const char *s);

/* ---- classify.c: auto-generated mail and bounces ----------------------- */

/* Forward declaration so only parse.c and classify.c need gmime. */
struct _GMimeMessage;
unsigned mb_classify(struct _GMimeMessage *msg, const char *envelope_from,
    const char *from_addr);

/* ---- sanitize.c: HTML allow-list --------------------------------------- */

/*
 * UTF-8 HTML -> HTML holding only allow-listed elements and attributes
 * (remote images as data-src) and a plain-text rendering for search and
 * quoting.  Never fails: on a parser failure both are empty.
 */
void mb_sanitize_html(mb_msg_t *m, const unsigned char *html, size_t len,
    tk_str_t *out_html, tk_str_t *out_text);

/* The allow-list on stdout, one rule a line ("mailbridge html-allowlist"). */
void mb_sanitize_allowlist(void);

/* ---- quarantine.c ------------------------------------------------------ */

/* The commands that keep an unparseable mail (m->reason says why). */
void mb_quarantine_write(tk_cmds_t *c, mb_msg_t *m, int64_t now);

/* ---- thread.c + store.c: one transaction for a batch ------------------- */

typedef enum {
    MB_RES_STORED = 0,
    MB_RES_DUPLICATE,
    MB_RES_QUARANTINED,
    MB_RES_TEMPFAIL               /* Redis unreachable or internal error */
} mb_result_e;

typedef struct {
    mb_result_e    result;
    uint64_t       ticket;
    uint64_t       article;
    int            created;       /* a new ticket                       */
    int            reopened;
} mb_outcome_t;

typedef struct mb_store_s mb_store_t;

/* Connects lazily; every call reconnects when the connection broke. */
mb_store_t *mb_store_new(const mb_config_t *cfg);
void mb_store_free(mb_store_t *st);
/* Checks that Redis answers (and the schema version); 0 or -1. */
int mb_store_ping(mb_store_t *st);
/* Sends c (pipelined, ending in EXEC) on the store's connection; 0 or -1. */
int mb_store_run(mb_store_t *st, tk_cmds_t *c);
/*
 * Stores n parsed messages in one MULTI/EXEC (retried on WATCH
 * conflicts).  Messages with m->reason set are quarantined.  Fills
 * out[i]; returns 0, or -1 when nothing was stored (all MB_RES_TEMPFAIL).
 */
int mb_store_batch(mb_store_t *st, mb_msg_t **msgs, size_t n,
    mb_outcome_t *out);

/* ---- deliver.c, import.c, fetch_imap.c: the modes ---------------------- */

int mb_deliver(const mb_config_t *cfg, const char *group,
    const char *recipient, const char *sender);
int mb_import(const mb_config_t *cfg, const char *path, int progress);
int mb_run(const mb_config_t *cfg, int once);

/* set by SIGTERM/SIGINT in main.c; modes finish the current message */
extern volatile int mb_stop;

/* Group for a message: forced, else mapped recipients, else default. */
const char *mb_group_for(const mb_config_t *cfg, const mb_msg_t *m);

#endif /* MAILBRIDGE_H */
