/*
 * tk_schema.h -- the one place that names every Redis key, field and enum
 * of the ticket system.  The nginx module, ticketctl and mailbridge all
 * include this file; SCHEMA.md documents each key with a redis-cli example.
 *
 * Layout rules:
 *  - every key starts with "tk:";
 *  - all keys of one ticket share the hash tag {t:NUMBER}, of one user
 *    {u:LOGIN}, of one session {s:ID}: Redis Cluster keeps them together;
 *  - overview indexes share the tag {ix} so one node holds them all;
 *  - values are readable in redis-cli: numbers in decimal, times in Unix
 *    seconds, enums as their number (names in tk_state_name() etc.).
 *
 * This header depends on libc only: it must build inside nginx (-Werror)
 * as well as in the daemons.
 */

#ifndef TK_SCHEMA_H
#define TK_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "tk_str.h"

/* Bumped on every incompatible change; checked by every program at start. */
#define TK_SCHEMA_VERSION 4

/* ---- global keys -------------------------------------------------------- */

#define TK_KEY_SCHEMA        "tk:schema"        /* string: schema version   */
#define TK_KEY_SEQ_TICKET    "tk:seq:ticket"    /* string: INCR -> number   */
#define TK_KEY_SEQ_ARTICLE   "tk:seq:article"   /* string: INCR -> article  */
#define TK_KEY_SEQ_CUSTOMER  "tk:seq:customer"  /* string: INCR -> customer */
#define TK_KEY_USERS         "tk:users"         /* set of logins            */
#define TK_KEY_GROUPS        "tk:groups"        /* set of group names       */
#define TK_KEY_GROUPS_ALL    "tk:groups:all-agents" /* set: groups every
                                                       agent may read/write */
#define TK_KEY_CUSTOMER_BY_EMAIL "tk:customer-by-email" /* hash email -> id */
#define TK_KEY_FT_ARTICLES   "tk:ft:articles"   /* RediSearch index name    */
#define TK_KEY_QUARANTINE    "tk:quarantine"    /* zset id -> received time */
#define TK_KEY_MAILBOXES     "tk:mailboxes"     /* set: mailbox names with a
                                                   tk:mailbox:NAME status */

/*
 * Outbound mail queue (see tk_outbox.h, SCHEMA.md "Outbox"): a stream
 * whose entries name an outbound article (fields ticket, article, kind);
 * the article hash holds the mail.  Written in the same MULTI as the
 * article; consumed by mailbridge with the consumer group below, XACK'd
 * and XDEL'd only when the article's delivery is final (sent or failed).
 * Never trimmed by MAXLEN: an entry is a promise to send.  {ix} like the
 * index keys, since the same MULTI writes those.
 */
#define TK_KEY_OUTBOX        "tk:{ix}:outbox"
#define TK_OUTBOX_GROUP      "mailbridge"
/* sorted set: score = due time (Unix ms), member = outbox entry id of a
   temporarily failed entry waiting for its retry (SCHEMA.md "Outbox") */
#define TK_KEY_OUTBOX_RETRY  "tk:{ix}:outbox:retry"
/* zset "N:A" -> Unix s: outbound articles whose delivery failed for good
 * in the last TK_OUTBOX_FAILED_KEEP seconds (tk_outbox_delivery()) */
#define TK_KEY_OUTBOX_FAILED "tk:{ix}:outbox:failed"
#define TK_OUTBOX_FAILED_KEEP (14 * 86400)

/*
 * PGP keys (SCHEMA.md "PGP keys"), written only by mailbridge (keys.c)
 * from its keyring, each time in one MULTI; read by the module.
 *   tk:pgp:addr      hash lower-case email -> "FPR EXPIRES" of the best
 *                    usable encryption key (EXPIRES Unix s, 0 never);
 *                    expired/revoked keys are never listed
 *   tk:pgp:keys      set of fingerprints in the keyring
 *   tk:pgp:key:FPR   hash, fields TK_F_PGP_* below
 *   tk:pgp:requests  stream: import/delete requests from the web
 *   tk:pgp:result:ID hash: the outcome of request ID (EXPIRE 1 day)
 */
#define TK_KEY_PGP_ADDR      "tk:pgp:addr"
#define TK_KEY_PGP_KEYS      "tk:pgp:keys"
#define TK_FMT_PGP_KEY       "tk:pgp:key:%s"
#define TK_KEY_PGP_KEY_PREFIX "tk:pgp:key:"     /* + FPR (%S in tk_cmds) */
#define TK_KEY_PGP_REQUESTS  "tk:pgp:requests"
#define TK_FMT_PGP_RESULT    "tk:pgp:result:%s"
#define TK_KEY_PGP_RESULT_PREFIX "tk:pgp:result:" /* + stream entry ID */
#define TK_PGP_RESULT_TTL    86400
#define TK_PGP_GROUP         "mailbridge"      /* consumer group        */
/* key hash tk:pgp:key:FPR */
#define TK_F_PGP_FPR         "fpr"
#define TK_F_PGP_UIDS        "uids"            /* user ids, "\n"-joined  */
#define TK_F_PGP_EMAILS      "emails"          /* usable for: space list  */
#define TK_F_PGP_EXPIRES     "expires"         /* Unix s, 0 never        */
#define TK_F_PGP_REVOKED     "revoked"         /* 0 | 1                  */
#define TK_F_PGP_CAN_ENCRYPT "can_encrypt"     /* 0 | 1                  */
#define TK_F_PGP_CAN_SIGN    "can_sign"        /* 0 | 1                  */
#define TK_F_PGP_SECRET      "secret"          /* 0 | 1: secret key here */
#define TK_F_PGP_CREATED     "created"         /* Unix s                 */
/* request stream entry: op, login, role, and text | ticket article k |
 * fpr; result hash: status (ok | error), message, fprs (space list) */
#define TK_F_PGP_OP          "op"              /* import | import-att |
                                                  delete                 */
#define TK_F_PGP_TEXT        "text"            /* armoured key(s)        */
#define TK_F_PGP_ARTICLE     "article"
#define TK_F_PGP_ATT         "att"
#define TK_F_PGP_STATUS      "status"          /* ok | error             */
#define TK_F_PGP_MESSAGE     "message"
#define TK_F_PGP_FPRS        "fprs"
/* group hash field: fingerprint of the group's signing key, or "" */
#define TK_F_PGP_SIGN        "pgp_sign"

/*
 * Change feed (see tk_feed.h, SCHEMA.md "Change feed"): a stream with one
 * entry per committed change of a ticket (created, fields changed, an
 * article added, a delivery outcome, an article flag), XADDed by the
 * shared write path in the same MULTI as the change.  Consumers (outbox
 * trigger, reminders, SLA timers, notifications) read it with their own
 * consumer groups.  Trimmed with MAXLEN ~ TK_FEED_MAXLEN (about 150
 * bytes per entry, SCHEMA.md): nothing that must not be lost depends on
 * it.  {ix}: the same MULTI writes the index.
 */
#define TK_KEY_FEED          "tk:{ix}:feed"
#define TK_FEED_MAXLEN       "100000"
/* mailbridge's feed role's consumer group (other consumers: their own) */
#define TK_FEED_GROUP        "mailbridge"

/*
 * Service levels and timers (tk_sla.h, tk_timer.h, SCHEMA.md "Service
 * levels and timers").  Configuration: tk:sla (hash: first_response:P,
 * update:P, solution:P -> seconds of business time, P = 1..4, 0 never)
 * and tk:calendar:NAME (hash: tz, sun..sat, holidays), a group's field
 * "calendar" names its calendar (default: TK_CALENDAR_DEFAULT, and when
 * that is absent too: Europe/Berlin, every day all day).
 * Due times: sorted sets (sharded, below), member = ticket number, score = due Unix time,
 * written by mailbridge's timers role (mailbridge/timers.c), which reads
 * the change feed with the consumer group TK_TIMERS_GROUP.
 * Overviews: escalated tickets per group and per owner partition, due
 * reminders per owner partition (score = escalation / reminder time),
 * written in the fire transaction.  Notifications: a stream of requests
 * ("escalated" / "reminder") for the notification work; never trimmed.
 */
#define TK_KEY_SLA           "tk:sla"
#define TK_FMT_CALENDAR      "tk:calendar:%s"
#define TK_KEY_CALENDAR_PREFIX "tk:calendar:"   /* + NAME (%S in tk_cmds) */
#define TK_CALENDAR_DEFAULT  "default"
#define TK_KEY_DUE_ESCALATION "tk:{ix}:due:escalation"
#define TK_KEY_DUE_REMINDER  "tk:{ix}:due:reminder"
/* timers (issue 11, memory): the due times are sharded by ticket number,
 * TK_DUE_SHARD tickets a shard, so each shard stays a listpack (~11 B an
 * entry instead of ~100 in a skiplist).  TK_KEY_DUE_ESCALATION /
 * TK_KEY_DUE_REMINDER are the shard indexes: member = shard (number /
 * TK_DUE_SHARD), score = a lower bound of its earliest due time (ZADD LT
 * with every entry, set exactly by the fire transaction). */
#define TK_DUE_SHARD         128
#define TK_FMT_DUE_ESCALATION_SHARD TK_KEY_DUE_ESCALATION ":%llu"
#define TK_FMT_DUE_REMINDER_SHARD   TK_KEY_DUE_REMINDER ":%llu"
#define TK_FMT_ESC_GROUP     "tk:{ix}:esc:g:%s"        /* zset            */
#define TK_FMT_ESC_OWNER     "tk:{ix}:esc:o:%s"        /* zset, login|-|! */
#define TK_FMT_REMDUE_OWNER  "tk:{ix}:remdue:o:%s"     /* zset, login|-|! */
#define TK_FMTS_ESC_GROUP    "tk:{ix}:esc:g:%S"
#define TK_FMTS_ESC_OWNER    "tk:{ix}:esc:o:%S"
#define TK_FMTS_REMDUE_OWNER "tk:{ix}:remdue:o:%S"
#define TK_KEY_NOTIFY        "tk:{ix}:notify"
/* string: digest of the SLA/calendar configuration the due times were
 * computed with; the timers role recomputes every ticket when it differs */
#define TK_KEY_DUE_CONFIG    "tk:{ix}:due:config"
#define TK_TIMERS_GROUP      "timers"           /* feed consumer group     */
/* notify entry: event (escalated | reminder), ticket, group, owner, due */
#define TK_NOTIFY_ESCALATED  "escalated"
#define TK_NOTIFY_REMINDER   "reminder"

/*
 * Notification requests ("tell these people": trigger actions, mentions,
 * reminders, escalations): a stream with fields ticket N event EVENT to
 * LOGIN,@GROUP,... by ACTOR reason TEXT, consumed by the notifications
 * work, which turns them into mail through the outbox.
 */

/*
 * Triggers (SCHEMA.md "Triggers", tk_trigger.h): admin-defined rules
 * evaluated by mailbridge's feed role on new tickets and follow-ups.
 *   tk:triggers          zset rule id -> evaluation order (score)
 *   tk:trigger:ID        hash, fields TK_F_TRG_* below
 *   tk:triggers:gen      counter, INCR'd with every change of a rule:
 *                        mailbridge recompiles when it moves
 *   tk:seq:trigger       INCR -> the next rule id
 *   tk:triggers:seeded   "1" once init created the default rule (an
 *                        admin who deletes it does not get it back)
 *   tk:{t:N}:triggers    hash feed entry id -> ids of the rules that
 *                        fired on it (written in the same MULTI as the
 *                        actions: a replayed entry never fires twice)
 */
#define TK_KEY_TRIGGERS      "tk:triggers"
#define TK_KEY_TRIGGERS_GEN  "tk:triggers:gen"
#define TK_KEY_SEQ_TRIGGER   "tk:seq:trigger"
#define TK_KEY_TRIGGERS_SEEDED "tk:triggers:seeded"
#define TK_FMT_TRIGGER       "tk:trigger:%s"
#define TK_FMTS_TRIGGER      "tk:trigger:%S"           /* tk_cmds_add     */
#define TK_SFX_TRIGGERS      ":triggers"
#define TK_FMT_TICKET_TRIGGERS TK_PFX_TICKET "%llu}" TK_SFX_TRIGGERS
/* rule hash tk:trigger:ID */
#define TK_F_TRG_NAME        "name"
#define TK_F_TRG_ACTIVE      "active"          /* 1 | 0                   */
#define TK_F_TRG_ON          "on"              /* create | update | both  */
#define TK_F_TRG_SUBJECT     "subject"         /* PCRE2 pattern           */
#define TK_F_TRG_BODY        "body"            /* PCRE2 pattern           */
#define TK_F_TRG_FROM        "from"            /* PCRE2 pattern           */
#define TK_F_TRG_GROUP       "group"           /* comma list of groups    */
#define TK_F_TRG_PRIORITY    "priority"        /* comma list low,...      */
#define TK_F_TRG_STATE       "state"           /* comma list new,...      */
#define TK_F_TRG_AUTO        "auto"            /* 1 | 0: flagged auto     */
#define TK_F_TRG_ICASE       "icase"           /* 1: caseless patterns    */
#define TK_F_TRG_SET_PRIORITY "set_priority"
#define TK_F_TRG_SET_GROUP   "set_group"
#define TK_F_TRG_SET_OWNER   "set_owner"       /* login, "-" unassigns    */
#define TK_F_TRG_SET_STATE   "set_state"
#define TK_F_TRG_NOTIFY      "notify"          /* logins and @groups      */
#define TK_F_TRG_NOTE        "note"            /* internal note text      */
/* the actor (feed "by", history "by", note author) of a rule's changes:
 * "trigger:NAME"; entries by it never trigger again */
#define TK_TRIGGER_ACTOR_PFX "trigger:"
/* the shipped default (ticketctl init; docs/user-guide.md "Triggers") */
#define TK_TRIGGER_DEFAULT_NAME "dringend"
#define TK_TRIGGER_DEFAULT_SUBJECT                                           \
    "(?<!\\p{L})(?:dringend(?:e[mnrs]?)?|eilt|frist\\p{L}*|\\p{L}+frist(?:en)?)" \
    "(?!\\p{L})"

/*
 * Notifications (helper notify; SCHEMA.md "Notifications", tk_notify.h):
 * mailbridge's notify role reads tk:{ix}:feed and tk:{ix}:notify with the
 * consumer group TK_NOTIFY_GROUP and writes, per recipient, in one MULTI:
 *   tk:{u:LOGIN}:notify        hash: the user's settings, fields
 *                              EVENT:SCOPE -> 0|1 (tk_notify.h), assigned,
 *                              email, digest (off|hourly|daily), groups
 *   tk:{u:LOGIN}:notices       stream, ids "0-SEQ", MAXLEN ~ TK_NOTICES_MAX:
 *                              the in-app list (ticket event title by
 *                              group text time)
 *   tk:{u:LOGIN}:notices:seq   counter: the next SEQ
 *   tk:{u:LOGIN}:unread        zset SEQ -> time: unread in-app notices
 *   tk:{u:LOGIN}:digest        list: lines for the next digest mail
 *   tk:{t:N}:subscribers       set of logins subscribed to ticket N
 *   tk:{ix}:due:digest         zset login -> Unix s its digest is due
 *   tk:{ix}:nmail:ID           hash: one notification mail for the
 *                              outbox (kind TK_OUTBOX_KIND_NOTIFY)
 *   tk:seq:nmail               counter: the next ID
 *   tk:{ix}:nd:STREAM:ID       string, EXPIRE: that entry was handled
 *                              (exactly once with two mailbridges)
 */
#define TK_NOTIFY_GROUP      "notify"           /* feed + notify group     */
#define TK_NOTIFY_MENTION    "mention"          /* notify entry event      */
#define TK_NOTIFY_TRIGGER    "trigger"
#define TK_NOTICES_MAX       200
#define TK_NOTIFY_DONE_TTL   (7 * 86400)
#define TK_KEY_DUE_DIGEST    "tk:{ix}:due:digest"
#define TK_KEY_SEQ_NMAIL     "tk:seq:nmail"
#define TK_SFX_NOTIFY        ":notify"
#define TK_SFX_NOTICES       ":notices"
#define TK_SFX_UNREAD        ":unread"
#define TK_SFX_DIGEST        ":digest"
#define TK_SFX_SUBSCRIBERS   ":subscribers"
#define TK_FMT_USER_NOTIFY   "tk:{u:%s}" TK_SFX_NOTIFY
#define TK_FMT_USER_NOTICES  "tk:{u:%s}" TK_SFX_NOTICES
#define TK_FMT_USER_NOTICES_SEQ "tk:{u:%s}" TK_SFX_NOTICES ":seq"
#define TK_FMT_USER_UNREAD   "tk:{u:%s}" TK_SFX_UNREAD
#define TK_FMT_USER_DIGEST   "tk:{u:%s}" TK_SFX_DIGEST
#define TK_FMT_SUBSCRIBERS   "tk:{t:%llu}" TK_SFX_SUBSCRIBERS
#define TK_FMT_NMAIL         "tk:{ix}:nmail:%s"
#define TK_FMT_NOTIFY_DONE   "tk:{ix}:nd:%s:%s"
#define TK_FMTS_USER_NOTIFY  "tk:{u:%S}" TK_SFX_NOTIFY
#define TK_FMTS_USER_NOTICES "tk:{u:%S}" TK_SFX_NOTICES
#define TK_FMTS_USER_NOTICES_SEQ "tk:{u:%S}" TK_SFX_NOTICES ":seq"
#define TK_FMTS_USER_UNREAD  "tk:{u:%S}" TK_SFX_UNREAD
#define TK_FMTS_USER_DIGEST  "tk:{u:%S}" TK_SFX_DIGEST
/* settings hash tk:{u:LOGIN}:notify (besides EVENT:SCOPE) */
#define TK_F_NTF_ASSIGNED    "assigned"        /* 1: "someone assigned me" */
#define TK_F_NTF_EMAIL       "email"           /* 1: mail too (in-app: always) */
#define TK_F_NTF_DIGEST      "digest"          /* off | hourly | daily   */
#define TK_F_NTF_GROUPS      "groups"          /* comma list for the scope
                                                  "unassigned"; "" = all mine */
/* notice stream entry and nmail hash */
#define TK_F_NTF_EVENT       "event"           /* create update reminder
                                                  escalation assigned
                                                  mention trigger        */
#define TK_F_NTF_BY          "by"
#define TK_F_NTF_TEXT        "text"
#define TK_F_NTF_X_GROUP     "x_group"         /* nmail: X-Ticket-Group  */
#define TK_F_NTF_X_EVENT     "x_event"         /* nmail: X-Ticket-Event  */

/* Where a change came from (field "src" of a feed entry, tk_src_name()). */
typedef enum {
    TK_SRC_SYSTEM = 0,         /* nobody said: default of a command list  */
    TK_SRC_WEB = 1,            /* a form of the web UI                    */
    TK_SRC_API = 2,            /* the JSON API (bearer token)             */
    TK_SRC_MAIL = 3,           /* mailbridge: inbound mail, deliveries    */
    TK_SRC_CLI = 4             /* ticketctl                               */
} tk_src_e;

/*
 * Stop words of tk:ft:articles (FT.CREATE ... STOPWORDS N words, see
 * SCHEMA.md "Full text"): German and English articles, pronouns, the
 * forms of sein/haben/werden/be/have/do, conjunctions and the common
 * prepositions -- about 40 % of the words of a mail, never what anyone
 * searches for; leaving them out makes the index smaller and FT.ADD
 * faster.  Deliberately NOT stop words, because they change what a
 * sentence says in a legal question: negations (nicht kein keine nichts
 * nie ohne no not never), modals (muss kann soll darf must can may
 * will -- English "will" is also a testament), and words that are also
 * names or nouns here ("also" is a group, "war", "man", "may").
 * Lower case: the index holds lower-cased text (tk_utf8_lower).
 * TK_FT_STOPWORDS_N must be the number of words (t/unit/test_schema.c).
 */
#define TK_FT_STOPWORDS_N    "169"

#define TK_FT_STOPWORDS                                                      \
    "der die das den dem des ein eine einer eines einem einen und oder "    \
    "aber denn sondern ich du er sie es wir ihr mich mir dich dir uns "     \
    "euch ihm ihn ihnen sich mein meine meinen meinem meiner dein deine "   \
    "sein seine seinen seinem seiner ihre ihren ihrem ihrer unser unsere "  \
    "euer eure ist bin bist sind seid wird werden wurde wurden hat habe "   \
    "haben hast hatte hatten zu zum zur im in ins am an auf aus bei beim "  \
    "mit von vom nach vor f\xc3\xbc" "r \xc3\xbc" "ber um durch als auch "  \
    "so wie dass da noch nur schon dann doch ja hier was wenn dieser "      \
    "diese dieses diesem diesen the a and or but of to on at by for from "  \
    "with as into about is are were be been being i you he she it we "     \
    "they me him her us them my your his its our their this that these "   \
    "those there here do does did have has had would could should if "     \
    "then than just"

/* ---- per-object keys ---------------------------------------------------
 * Only this header spells a key (t/unit/test_schema.c pins the result;
 * build/TKSchema.pm gives the tests the same names).  A key of one object
 * is its tag opener TK_PFX_*, the id, "}" and a suffix TK_SFX_*; the
 * builders (tk_keys.c), the printf formats TK_FMT_* and the SCAN
 * patterns TK_PATTERN_* are all made of these pieces.
 */

#define TK_PFX_TICKET        "tk:{t:"                  /* + number "}"    */
#define TK_PFX_USER          "tk:{u:"                  /* + login "}"     */
#define TK_PFX_GROUP         "tk:{g:"                  /* + name "}"      */
#define TK_PFX_CUSTOMER      "tk:{c:"                  /* + id "}"        */
#define TK_PFX_SESSION       "tk:{s:"                  /* + id "}"        */
#define TK_PFX_TOKEN         "tk:{k:"                  /* + token "}"     */
#define TK_PFX_MSGID         "tk:mid:"                 /* + Message-ID    */
#define TK_PFX_RAWHASH       "tk:raw:"                 /* + SHA-256       */
#define TK_PFX_QUARANTINE    TK_KEY_QUARANTINE ":"     /* + SHA-256       */
#define TK_PFX_INDEX         "tk:{ix}:g:"              /* + see below     */
#define TK_SFX_ARTICLES      ":articles"
#define TK_SFX_ARTICLE       ":a:"                     /* + article id    */
#define TK_SFX_ATTACHMENT    ":att:"                   /* + K, after that */
#define TK_SFX_RAW           ":raw"
#define TK_SFX_HISTORY       ":history"
#define TK_SFX_PARTICIPANTS  ":participants"
#define TK_SFX_TOKENS        ":tokens"

/* printf style (snprintf, tk_cmds_add with C strings) */
#define TK_FMT_TICKET        TK_PFX_TICKET "%llu}"     /* hash            */
#define TK_FMT_TICKET_ARTS   TK_FMT_TICKET TK_SFX_ARTICLES /* list of ids */
#define TK_FMT_ARTICLE       TK_FMT_TICKET TK_SFX_ARTICLE "%llu" /* hash  */
#define TK_FMT_ATTACHMENT    TK_FMT_ARTICLE TK_SFX_ATTACHMENT "%u" /* hash */
#define TK_FMT_ARTICLE_GET   TK_FMT_TICKET TK_SFX_ARTICLE "*->" /* SORT ..
                                              GET: + a field of each
                                              article of the list */
#define TK_FMT_RAW           TK_FMT_ARTICLE TK_SFX_RAW /* string: raw mail */
#define TK_FMT_RAWHASH       TK_PFX_RAWHASH "%s"  /* string "N:A": SHA-256
                                              of a mail without Message-ID */
#define TK_FMT_QUARANTINE    TK_PFX_QUARANTINE "%s" /* hash: raw, reason,
                                              time, source, size; id =
                                              SHA-256 */
#define TK_FMT_HISTORY       TK_FMT_TICKET TK_SFX_HISTORY /* stream       */
#define TK_FMT_PARTICIPANTS  TK_FMT_TICKET TK_SFX_PARTICIPANTS /* emails  */
#define TK_FMT_USER          TK_PFX_USER "%s}"         /* hash            */
#define TK_FMT_USER_TOKENS   TK_FMT_USER TK_SFX_TOKENS /* set of token ids */
#define TK_FMT_GROUP         TK_PFX_GROUP "%s}"        /* hash            */
#define TK_FMT_CUSTOMER      TK_PFX_CUSTOMER "%llu}"   /* hash            */
#define TK_FMT_SESSION       TK_PFX_SESSION "%s}"      /* hash, EXPIREs   */
#define TK_FMT_TOKEN         TK_PFX_TOKEN "%s}"        /* hash: API token */
#define TK_FMT_MSGID         TK_PFX_MSGID "%s"         /* string "N:A"    */
#define TK_FMT_MAILBOX       "tk:mailbox:%s"           /* hash: last poll */
#define TK_FMT_RL_LOGIN_USER "tk:rl:login:u:%s"        /* counter, EXPIRE */
#define TK_FMT_RL_LOGIN_IP   "tk:rl:login:ip:%s"       /* counter, EXPIRE */

/* the same for tk_cmds_add() with a counted name (%S, a tk_str_t *) */
#define TK_FMTS_USER         TK_PFX_USER "%S}"
#define TK_FMTS_QUARANTINE   TK_PFX_QUARANTINE "%S"
#define TK_FMTS_GROUP        TK_PFX_GROUP "%S}"
#define TK_FMTS_SESSION      TK_PFX_SESSION "%S}"
#define TK_FMTS_MAILBOX      "tk:mailbox:%S"
/* API tokens (helper api): redis-schema/tk_token.c writes both */
#define TK_FMTS_TOKEN        TK_PFX_TOKEN "%S}"
#define TK_FMTS_USER_TOKENS  TK_PFX_USER "%S}" TK_SFX_TOKENS

/* SCAN MATCH patterns (ticketctl reindex) */
#define TK_PATTERN_TICKET_KEYS TK_PFX_TICKET "*"  /* every key of every
                                              ticket: tk_key_parse() says
                                              which are ticket hashes */
#define TK_PATTERN_ARTICLES  TK_PFX_TICKET "*}" TK_SFX_ARTICLE "*" /* and
                                              their attachments, raw */
#define TK_PATTERN_INDEX     TK_PFX_INDEX "*"     /* the overview sets    */
#define TK_PATTERN_HISTORY   TK_PFX_TICKET "*}" TK_SFX_HISTORY /* migration */

/*
 * Overview index: one sorted set per (group, state, owner, sort key).
 * owner is a login, TK_OWNER_NONE for unassigned tickets, TK_OWNER_AUTO
 * for unassigned tickets flagged "auto" (newsletters, auto-replies,
 * bounces: kept out of the work overviews) or TK_OWNER_ANY (every ticket
 * is also in the "any owner" set; see tk_ticket_owner_partition()).  Numeric sort keys use
 * the score; text sort keys use score 0 and the member "text\x1fNUMBER"
 * (ZRANGEBYLEX).  See tk_index_key().
 */
#define TK_SFX_INDEX_STATE   ":s:"
#define TK_SFX_INDEX_OWNER   ":o:"
#define TK_SFX_INDEX_SORT    ":by:"
#define TK_FMT_INDEX         TK_PFX_INDEX "%s" TK_SFX_INDEX_STATE "%d"      \
                             TK_SFX_INDEX_OWNER "%s" TK_SFX_INDEX_SORT "%s"
/* hash "GROUP:STATE:OWNER" -> number of tickets in that partition; kept
 * by tk_ticket_index_add/del (HINCRBY) so the sidebar counts of every
 * overview are one HMGET.  "ticketctl reindex" rebuilds it. */
#define TK_KEY_INDEX_COUNTS  "tk:{ix}:counts"
/* strings: the same partition sizes as tk:{ix}:counts, packed for the
 * sidebar (one MGET of two keys per group instead of an HMGET of 21
 * fields per group).  Signed 32-bit big-endian counters, BITFIELD i32
 * #SLOT: tk:{ix}:cv:GROUP holds the owners "*", "-" and "!" at
 * SLOT = kind * TK_COUNTV_SLOTS + state (kind TK_COUNTV_ANY, _NONE,
 * _AUTO), tk:{ix}:cv:GROUP:LOGIN a person's at SLOT = state.  Kept with
 * the hash in the same MULTI (BITFIELD ... INCRBY), rebuilt with it by
 * "ticketctl reindex"; see tk_key_countv(). */
#define TK_PFX_INDEX_COUNTV  "tk:{ix}:cv:"             /* + GROUP[:LOGIN] */
#define TK_PATTERN_INDEX_COUNTV TK_PFX_INDEX_COUNTV "*"
#define TK_COUNTV_SLOTS      8      /* per owner kind: states 1..6 + spare */
#define TK_COUNTV_ANY        0
#define TK_COUNTV_NONE       1
#define TK_COUNTV_AUTO       2
#define tk_countv_slot(kind, state)  ((kind) * TK_COUNTV_SLOTS + (state))
/* counter: INCR'd in the same MULTI as every change of the overview
 * index and of anything an overview shows (tk_index_touch()), so a
 * rendered overview cached under generation G is current while the
 * counter still reads G.  See nginx's ticket_cache. */
#define TK_KEY_INDEX_GEN     "tk:{ix}:gen"
/* schema 1's first mailbridge kept auto tickets in this list; the owner
 * partition "!" replaced it and "ticketctl reindex" drops it */
#define TK_KEY_INDEX_AUTO_OLD "tk:{ix}:auto"
#define TK_OWNER_ANY         "*"
#define TK_OWNER_NONE        "-"
#define TK_OWNER_AUTO        "!"

/* The ticket flag of auto-generated mail (set by mailbridge). */
#define TK_FLAG_AUTO         "auto"
/* The article flag of mail that came in PGP-encrypted (mailbridge). */
#define TK_FLAG_ENCRYPTED    "encrypted"

/* ---- tags, merge/split, customers (helper "tags", issue 13) -------------
 * Tags (tk_tags.h, SCHEMA.md "Tags"): the ticket field TK_F_TAGS holds
 * them lower-case, sorted, comma-joined; written only by tk_tags.c
 * inside the ticket's MULTI.
 *   tk:{ix}:tag:TAG  zset ticket number -> the ticket's "updated"
 *   tk:{ix}:tags     zset TAG -> tickets carrying it (autocomplete)
 * Merge/split (tk_merge.h): the merged ticket's TK_F_MERGED_INTO names
 * the target; mail threading follows it (mailbridge/thread.c).
 * Customers: tk:{c:ID} also holds TK_F_ORGANISATION and TK_F_NOTES;
 *   tk:{ix}:cust:tickets:ID  zset ticket number -> created, per customer
 *   tk:{ix}:orgs             zset organisation -> customers in it
 */
#define TK_F_TAGS            "tags"            /* "asyl,miete" or ""     */
#define TK_KEY_TAGS          "tk:{ix}:tags"
#define TK_PFX_TAG           "tk:{ix}:tag:"
#define TK_FMT_TAG           TK_PFX_TAG "%s"           /* zset            */
#define TK_FMTS_TAG          TK_PFX_TAG "%S"           /* tk_cmds_add     */
#define TK_TAG_MAX           40                /* bytes of one tag        */
#define TK_TAGS_MAX          20                /* tags on one ticket      */
#define TK_TAGS_LEN_MAX      (TK_TAGS_MAX * (TK_TAG_MAX + 1))
#define TK_F_MERGED_INTO     "merged_into"     /* ticket number, or ""    */
#define TK_F_ORGANISATION    "organisation"    /* customer's, or ""       */
#define TK_F_NOTES           "notes"           /* customer notes          */
#define TK_FMT_CUST_TICKETS  "tk:{ix}:cust:tickets:%llu"
/* SCAN patterns of what ticketctl reindex rebuilds from the tickets */
#define TK_PATTERN_TAG_SETS  TK_PFX_TAG "*"
#define TK_PATTERN_CUST_TICKETS "tk:{ix}:cust:tickets:*"
#define TK_KEY_ORGS          "tk:{ix}:orgs"
#define TK_FMT_ORG           "tk:{ix}:org:%s"          /* set of ids      */
#define TK_FMTS_ORG          "tk:{ix}:org:%S"
#define TK_ORG_MAX           100               /* bytes of a name         */
#define TK_NOTES_MAX         8000              /* bytes of customer notes */
/* trigger action: tags to add (comma list, stored normalised) */
#define TK_F_TRG_SET_TAGS    "set_tags"
/* ---- end of tags block ---------------------------------------------------- */

/* ---- enums -------------------------------------------------------------- */

typedef enum {
    TK_STATE_NEW = 1,          /* neu / unbearbeitet                     */
    TK_STATE_OPEN = 2,         /* in Bearbeitung                         */
    TK_STATE_WAITING = 3,      /* warte auf Rückmeldung                  */
    TK_STATE_REMINDER = 4,     /* warte auf Rückmeldung mit Erinnerung   */
    TK_STATE_DEFERRED = 5,     /* zurückgestellt                         */
    TK_STATE_CLOSED = 6        /* erledigt                               */
} tk_state_e;

#define TK_STATE_MIN 1
#define TK_STATE_MAX 6

typedef enum {
    TK_PRIO_LOW = 1,
    TK_PRIO_NORMAL = 2,        /* the default */
    TK_PRIO_HIGH = 3,
    TK_PRIO_URGENT = 4
} tk_prio_e;

#define TK_PRIO_MIN 1
#define TK_PRIO_MAX 4

typedef enum {
    TK_ART_IN = 1,             /* mail received             "in"   */
    TK_ART_OUT = 2,            /* mail sent by an agent     "out"  */
    TK_ART_NOTE = 3            /* internal note             "note" */
} tk_article_kind_e;

typedef enum {
    TK_RIGHT_NONE = 0,
    TK_RIGHT_READ = 1,         /* "read": see tickets, no changes      */
    TK_RIGHT_FULL = 2          /* "full": see, answer, change          */
} tk_right_e;

/* The sort keys of the overview index, in column order. */
typedef enum {
    TK_SORT_UPDATED = 0,       /* "upd": score = updated        */
    TK_SORT_CREATED,           /* "crt": score = number (= creation order) */
    TK_SORT_PRIORITY,          /* "pri": score = prio*1e10 + updated */
    TK_SORT_TITLE,             /* "ttl": lex                     */
    TK_SORT_CUSTOMER,          /* "cst": lex                     */
    TK_SORT_OWNER,             /* "own": lex (only in owner=* sets) */
    TK_SORT_N
} tk_sort_e;

/* Names as stored/typed: "new", "open", ... and "low", "normal", ... */
const char *tk_state_name(int state);          /* NULL if out of range */
const char *tk_state_label_de(int state);      /* "in Bearbeitung"     */
const char *tk_state_label_en(int state);      /* "in progress"        */
int tk_state_parse(const char *s, size_t len); /* name or digit; 0 bad */
int tk_state_is_open(int state);               /* 1..5                 */

const char *tk_prio_name(int prio);
const char *tk_prio_label_de(int prio);
const char *tk_prio_label_en(int prio);
int tk_prio_parse(const char *s, size_t len);

const char *tk_article_kind_name(int kind);    /* "in" "out" "note" */
int tk_article_kind_parse(const char *s, size_t len);

const char *tk_right_name(int right);          /* "read" "full" */
int tk_right_parse(const char *s, size_t len);

const char *tk_sort_name(int sort);            /* "upd" ...          */
const char *tk_sort_column(int sort);          /* "updated" ...      */
int tk_sort_parse_column(const char *s, size_t len); /* -1 bad       */
int tk_sort_is_lex(int sort);

/* ---- field names -------------------------------------------------------- */

/* ticket hash tk:{t:N} */
#define TK_F_NUMBER          "number"
#define TK_F_TITLE           "title"
#define TK_F_GROUP           "group"
#define TK_F_OWNER           "owner"           /* login or ""            */
#define TK_F_CUSTOMER        "customer"        /* customer id            */
#define TK_F_CUSTOMER_NAME   "customer_name"   /* copy for overviews     */
#define TK_F_CUSTOMER_EMAIL  "customer_email"
#define TK_F_STATE           "state"           /* 1..6                   */
#define TK_F_PRIORITY        "priority"        /* 1..4                   */
#define TK_F_CREATED         "created"         /* Unix seconds           */
#define TK_F_UPDATED         "updated"
#define TK_F_FIRST_RESPONSE  "first_response"  /* Unix seconds or ""     */
#define TK_F_ESCALATION_AT   "escalation_at"
#define TK_F_PENDING_UNTIL   "pending_until"
#define TK_F_FLAGS           "flags"           /* comma list: auto,...   */
#define TK_F_ARTICLE_COUNT   "articles"
#define TK_F_ESCALATED       "escalated"       /* Unix s it escalated, "" */
#define TK_F_REMINDED        "reminded"        /* pending_until whose
                                                  reminder fired, ""     */
#define TK_F_UPDATE_FROM     "update_from"     /* oldest customer mail
                                                  not answered yet, after
                                                  the first response; ""  */
#define TK_F_TIMER_IX        "timer_ix"        /* "GROUP OWNER": where the
                                                  esc/remdue sets hold it */
#define TK_F_REV             "rev"             /* HINCRBY'd by every write
                                                  to the ticket or its
                                                  articles: page cache */

/* article hash tk:{t:N}:a:ID */
#define TK_F_ID              "id"
#define TK_F_TICKET          "ticket"
#define TK_F_KIND            "kind"            /* in | out | note        */
#define TK_F_FROM            "from"
#define TK_F_TO              "to"
#define TK_F_CC              "cc"
#define TK_F_REPLY_TO        "reply_to"
#define TK_F_SUBJECT         "subject"
#define TK_F_MESSAGE_ID      "message_id"
#define TK_F_IN_REPLY_TO     "in_reply_to"
#define TK_F_BODY            "body"            /* text/plain, UTF-8      */
#define TK_F_BODY_HTML       "body_html"       /* sanitised HTML or ""   */
#define TK_F_AUTHOR          "author"          /* login; "" for mail in  */
#define TK_F_TIME            "time"
#define TK_F_ATTACHMENTS     "attachments"     /* count                  */
#define TK_F_SIZE            "size"            /* raw size in bytes      */
#define TK_F_ATTACHMENT_NAMES "attachment_names" /* space-separated    */
/* TK_F_FLAGS also on articles: bounced,signed,encrypted,auto,oversized */
/* inbound articles with a PGP signature (mailbridge/crypto_in.c):
 * "STATUS ID [UID]", STATUS valid | bad | unknown-key | expired-key |
 * revoked-key, ID the signer's fingerprint (key id when unknown);
 * flags then also hold signed / encrypted / decrypt-failed */
#define TK_F_PGP_SIG         "pgp_sig"
/* outbound articles only (written only when not empty): */
#define TK_F_BCC             "bcc"             /* never in a header      */
#define TK_F_REFERENCES      "references"      /* "<a@x> <b@y>"          */
#define TK_F_CRYPT           "crypt"           /* asked for: comma list of
                                                  encrypt,sign; "" plain */
#define TK_F_DELIVERY        "delivery"        /* queued | sent | failed */
#define TK_F_DELIVERY_INFO   "delivery_info"   /* last SMTP reply/error  */
#define TK_F_DELIVERY_TRIES  "delivery_tries"  /* attempts so far        */
#define TK_F_DELIVERY_TIME   "delivery_time"   /* Unix s of last change  */
/* inbound, when the mail had one: List-Id without <> ("aktive.lists.x.org") */
#define TK_F_LIST_ID         "list_id"

/* attachment hash tk:{t:N}:a:A:att:K (K = 1..attachments): name, size */
#define TK_F_CONTENT_TYPE    "content_type"    /* "image/png"             */
#define TK_F_CONTENT_ID      "content_id"      /* without <>, or ""       */
#define TK_F_DISPOSITION     "disposition"     /* attachment | inline     */
#define TK_F_DATA            "data"            /* the bytes, decoded      */

/* quarantine hash tk:quarantine:ID: raw, reason, time, source, size */
#define TK_F_RAW             "raw"
#define TK_F_REASON          "reason"
#define TK_F_SOURCE          "source"

/* user hash tk:{u:LOGIN} */
#define TK_F_LOGIN           "login"
#define TK_F_NAME            "name"
#define TK_F_EMAIL           "email"
#define TK_F_PASSWORD        "password"        /* yescrypt "$y$..."       */
#define TK_F_ROLE            "role"            /* admin | agent           */
#define TK_F_RIGHTS          "rights"          /* "legal:full,ALSO:read"  */
#define TK_F_LANG            "lang"            /* en | de                 */
#define TK_F_DISABLED        "disabled"        /* "1" when disabled       */
#define TK_F_SESSION_GEN     "session_gen"     /* sessions with another gen
                                                  are ended (docs/security) */
#define TK_F_LAST_LOGIN      "last_login"      /* Unix s of the last sign-in */
/* API token hash tk:{k:TOKEN}: login, created, label (helper api) */
#define TK_F_LABEL           "label"           /* what the owner named it */

/* group hash tk:{g:NAME}: name, email, display_name, signature,
 * all_agents (writer: tk_group_write()) */
#define TK_F_DISPLAY_NAME    "display_name"    /* From: "NAME" <email>   */
#define TK_F_SIGNATURE       "signature"
#define TK_F_ALL_AGENTS      "all_agents"      /* "1": every agent, full  */
#define TK_F_CALENDAR        "calendar"        /* name in tk:calendar:*   */

/* session hash tk:{s:ID}: login, csrf, created, ip, gen */
#define TK_F_CSRF            "csrf"
#define TK_F_IP              "ip"
#define TK_F_GEN             "gen"             /* the user's session_gen
                                                  when it was created     */

/* mailbox status hash tk:mailbox:NAME (mailbridge, after each IMAP poll) */
#define TK_F_LAST_POLL       "last_poll"       /* Unix s of the last poll */
#define TK_F_LAST_OK         "last_ok"         /* ... that succeeded      */
#define TK_F_LAST_ERROR      "last_error"      /* "" after a good poll    */
#define TK_F_FETCHED         "fetched"         /* mails stored, last poll */
#define TK_F_URL             "url"             /* without the password    */

/* ---- limits ------------------------------------------------------------- */

#define TK_LOGIN_MAX         64
#define TK_GROUP_MAX         64
#define TK_KEY_MAX           256               /* longest key we build   */
#define TK_SESSION_ID_BYTES  32                /* 256 bits, hex in cookie */

/* ---- key builders -------------------------------------------------------
 * Each writes a NUL-terminated key into buf (size TK_KEY_MAX is always
 * enough for valid names) and returns its length, or 0 if it did not fit.
 */
size_t tk_key_ticket(char *buf, size_t size, uint64_t number);
size_t tk_key_ticket_articles(char *buf, size_t size, uint64_t number);
size_t tk_key_article(char *buf, size_t size, uint64_t number, uint64_t id);
/* tk:{t:N}:a:ID:att:K and tk:{t:N}:a:ID:raw */
size_t tk_key_attachment(char *buf, size_t size, uint64_t number,
    uint64_t id, unsigned k);
size_t tk_key_raw(char *buf, size_t size, uint64_t number, uint64_t id);
size_t tk_key_history(char *buf, size_t size, uint64_t number);
size_t tk_key_participants(char *buf, size_t size, uint64_t number);
size_t tk_key_user(char *buf, size_t size, const tk_str_t *login);
size_t tk_key_group(char *buf, size_t size, const tk_str_t *name);
size_t tk_key_customer(char *buf, size_t size, uint64_t id);
size_t tk_key_session(char *buf, size_t size, const tk_str_t *sid);
size_t tk_key_token(char *buf, size_t size, const tk_str_t *token);
size_t tk_key_msgid(char *buf, size_t size, const tk_str_t *message_id);
size_t tk_key_index(char *buf, size_t size, const tk_str_t *group,
    int state, const tk_str_t *owner, int sort);
/* the counter vector of partition (group, state, owner) and the
 * counter's slot in it (see TK_PFX_INDEX_COUNTV); owner NULL or "" is
 * "-" */
size_t tk_key_countv(char *buf, size_t size, const tk_str_t *group,
    int state, const tk_str_t *owner, unsigned *slot);

/*
 * What a key found by SCAN is: TK_KEY_IS_TICKET for tk:{t:N} (*number
 * set), TK_KEY_IS_ARTICLE for tk:{t:N}:a:A (*number and *article set),
 * 0 for anything else (attachments, raw mail, history, other objects).
 */
#define TK_KEY_IS_TICKET     1
#define TK_KEY_IS_ARTICLE    2

int tk_key_parse(const char *key, size_t len, uint64_t *number,
    uint64_t *article);

/* A comma list ("auto,bounce") holds word; flags fields are such lists. */
int tk_flags_has(const tk_str_t *flags, const char *word);

/* Names used inside keys must not break the key syntax. */
int tk_valid_login(const tk_str_t *login);  /* [a-z0-9._-]{1,64}        */
int tk_valid_group(const tk_str_t *name);   /* no space, ':', '{', '}', '*' */

/* ---- rights ------------------------------------------------------------- */

/*
 * Right of a user on a group, from the user's "rights" field
 * ("legal:full,ALSO:read") and the group's all-agents flag.  Every view
 * and action asks this one function.
 */
int tk_rights_get(const tk_str_t *rights, const tk_str_t *group,
    int group_all_agents);

/* ---- index scores ------------------------------------------------------- */

/* Score of a ticket in a numeric sort set (see tk_sort_e). */
double tk_index_score(int sort, uint64_t number, int priority,
    int64_t updated);

/*
 * Member of a ticket in a lexical sort set: the folded text (lower-case
 * ASCII, at most 48 bytes, no 0x1f) then "\x1f" then the number padded
 * to 20 digits, so equal texts sort by number.  Returns
 * the length written to buf (size >= 80).
 */
size_t tk_index_lex_member(char *buf, size_t size, const tk_str_t *text,
    uint64_t number);


/* ---- casework: text modules, ticket templates, request form, data
 * protection (helper casework): tk_schema_casework.h ------------------- */
#include "tk_schema_casework.h"
/* ---- overviews (helper overviews): class partitions, rows, definitions --
 * Besides the (group, state, owner) partitions every ticket is in
 * "class" partitions that span states, numeric sorts (upd, crt, pri)
 * only: (group, open, its owner) and (group, open, *) while its state is
 * 1..5, (group, all, *) always.  An overview over all open states of a
 * group reads one set instead of five.  tk_key_index() takes these two
 * pseudo states; TK_FMT_INDEX_CLASS is the layout ("s:open", "s:all").
 */
#define TK_ISTATE_OPEN       100                /* index class: 1..5     */
#define TK_ISTATE_ALL        101                /* index class: 1..6, *  */
#define TK_ISTATE_OPEN_NAME  "open"
#define TK_ISTATE_ALL_NAME   "all"
#define TK_FMT_INDEX_CLASS   TK_PFX_INDEX "%s" TK_SFX_INDEX_STATE "%s"      \
                             TK_SFX_INDEX_OWNER "%s" TK_SFX_INDEX_SORT "%s"
/* hash ticket number -> its list row (the fields an overview shows,
 * joined by TK_ROW_SEP, see tk_index_row()); kept with the index, so a
 * page of 50 rows is one HMGET */
#define TK_KEY_INDEX_ROWS    "tk:{ix}:rows"
#define TK_ROW_SEP           '\x1f'
#define TK_ROW_FIELDS        12     /* ... updated tags customer */
/* hash "GROUP:STATE:OWNER:PRIORITY" -> tickets of that priority in the
 * partition: the sidebar counts of overviews with a priority, kept with
 * tk:{ix}:counts (also when only the priority changes) */
#define TK_KEY_INDEX_COUNTS_PRI "tk:{ix}:counts:pri"
/* saved overviews: hash id -> definition, the overview's conditions as
 * a query string ("name=Dringend&groups=legal,ALSO&states=1,2&owner=me&
 * priority=4&only=escalated&tag=frist&sort=updated&dir=desc", shared ones
 * also "roles=agent&vgroups=legal"); see SCHEMA.md "Saved overviews".
 * tk:overviews holds the shared ones (admins), tk:{u:L}:overviews a
 * user's personal ones; ids from tk:seq:overview, unique over both. */
#define TK_KEY_OVERVIEWS     "tk:overviews"            /* hash, shared    */
#define TK_SFX_OVERVIEWS     ":overviews"
#define TK_FMT_USER_OVERVIEWS TK_FMT_USER TK_SFX_OVERVIEWS /* hash       */
#define TK_FMTS_USER_OVERVIEWS TK_FMTS_USER TK_SFX_OVERVIEWS
#define TK_KEY_SEQ_OVERVIEW  "tk:seq:overview"
#define TK_OVERVIEW_DEF_MAX  2048                      /* bytes          */

#endif /* TK_SCHEMA_H */
