/*
 * mb_batch.h -- the plan of one store transaction, shared by thread.c
 * (which ticket does each mail belong to) and store.c (the writes).
 * A batch is one mail for deliver/IMAP and a few hundred for import.
 */

#ifndef MB_BATCH_H
#define MB_BATCH_H

#include <hiredis/hiredis.h>

#include "mailbridge.h"
#include "tk_redis_sync.h"
#include "tk_schema_sync.h"
#include "tk_ticket.h"

#define MB_MAX_REFS  20             /* threading candidates looked up */

typedef enum {
    MB_ACT_NEW = 0,                 /* a new ticket                   */
    MB_ACT_FOLLOW,                  /* an article in an existing one  */
    MB_ACT_DUP,                     /* stored before: acknowledge     */
    MB_ACT_QUARANTINE               /* unparseable: keep the bytes    */
} mb_action_e;

/* A ticket the batch touches: as read (or created) and as it is now. */
typedef struct {
    uint64_t       number;
    tk_ticket_t    orig;            /* strings in the batch arena     */
    tk_ticket_t    cur;
    int            exists;          /* HGETALL found it               */
    size_t         r_read;          /* index of its HGETALL reply     */
} mb_bticket_t;

typedef struct {
    mb_msg_t      *m;
    mb_action_e    action;
    char          *dedup_key;       /* tk:mid:ID or tk:raw:SHA256     */
    int            tag_candidate;   /* [Ticket#N] awaiting the check  */
    uint64_t       ticket;          /* existing ticket (FOLLOW)       */
    int            follows;         /* FOLLOW an earlier mail of the
                                       batch: its index, else -1     */
    uint64_t       bounced_ticket;  /* the article a bounce reports   */
    uint64_t       bounced_article;
    char          *bounced_flags;   /* that article's flags, as read  */
    uint64_t       customer;        /* existing customer, or 0        */
    int            new_customer;
    int            reopened;

    /* indexes of this mail's replies in the read pipelines */
    size_t         r_dedup;
    size_t         r_refs, n_refs;
    size_t         r_dsn, n_dsn;
    size_t         r_customer;      /* (size_t) -1: no lookup         */
    size_t         r_member;        /* SISMEMBER participants         */
    size_t         r_bounced;       /* HGET bounced article flags     */

    /* assigned in store.c */
    uint64_t       number;          /* the ticket it ends up in       */
    uint64_t       article;
} mb_plan_t;

typedef struct {
    const mb_config_t *cfg;
    tk_redis_t    *redis;
    tk_arena_t     arena;           /* plan strings, commands         */
    mb_plan_t     *plan;
    size_t         n;
    mb_bticket_t  *tickets;         /* room for 2 * n                 */
    size_t         ntickets;
} mb_batch_t;

/* thread.c */
void mb_thread_reads1(mb_batch_t *b, tk_cmds_t *c);
void mb_thread_resolve1(mb_batch_t *b, redisReply **r);
void mb_thread_reads2(mb_batch_t *b, tk_cmds_t *c);
int mb_thread_resolve2(mb_batch_t *b, redisReply **r, size_t n);
/* Follow-ups to a ticket merged into another go to the other (issue 13,
 * tk_merge.h): returns how many plans moved on (read them again). */
size_t mb_thread_follow_merged(mb_batch_t *b);
mb_bticket_t *mb_batch_ticket(mb_batch_t *b, uint64_t number);
uint64_t mb_subject_tag(const tk_str_t *subject, const char *tag);
char *mb_batch_strdup(mb_batch_t *b, const char *p, size_t n);

/* store_write.c: the writes of a batch, into the MULTI store.c runs */
void mb_store_writes(mb_batch_t *b, tk_cmds_t *c, uint64_t ticket,
    uint64_t article, uint64_t customer);

#endif /* MB_BATCH_H */
