/*
 * mb_triggers.h -- triggers as a handler of the feed role (triggers.c):
 * admin rules (tk_trigger.h, SCHEMA.md "Triggers") evaluated on new
 * tickets, customers' follow-ups and field changes; their actions
 * applied in one MULTI through the shared write path.
 */

#ifndef MB_TRIGGERS_H
#define MB_TRIGGERS_H

#include "mb_feed.h"

int mb_triggers_feed(const mb_config_t *cfg, tk_redis_t *redis,
    const mb_feed_entry_t *e);

#endif /* MB_TRIGGERS_H */
