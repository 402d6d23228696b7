/*
 * mb_feed.h -- what a handler of the change feed sees (feed.c).  The
 * feed role hands every entry of tk:{ix}:feed to each handler of its
 * table in order and acknowledges the entry only when all returned 0.
 * Delivery is at-least-once (a crash before XACK repeats the entry):
 * handlers must be idempotent.
 */

#ifndef MB_FEED_H
#define MB_FEED_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "mailbridge.h"
#include "tk_redis_sync.h"

typedef struct {
    const char    *id;            /* "1764745200000-0"                 */
    redisReply    *fields;        /* array name, value, ...; NULL: the
                                     entry was trimmed away (no handler
                                     sees it, it is acknowledged)      */
} mb_feed_entry_t;

/*
 * redis: the feed role's connection, free to use while the handler runs.
 * Returns 0 (done) or -1 (not now: the entry stays pending and comes
 * again at the next sweep, after feed_claim_idle).
 */
typedef int (*mb_feed_handler_pt)(const mb_config_t *cfg, tk_redis_t *redis,
    const mb_feed_entry_t *e);

typedef struct {
    const char          *name;
    mb_feed_handler_pt   handler;
} mb_feed_handler_t;

/* The value of field name in the entry (binary-safe: *len), or NULL. */
const char *mb_feed_field(const mb_feed_entry_t *e, const char *name,
    size_t *len);

#endif /* MB_FEED_H */
