/*
 * tk_schema_sync.h -- the schema's part of a blocking connection: the
 * version check every program (ticketctl, mailbridge) does at start.
 * Here, not in support/tk_redis_sync.h, because only the schema knows
 * the key tk:schema and the version.
 */

#ifndef TK_SCHEMA_SYNC_H
#define TK_SCHEMA_SYNC_H

#include "tk_redis_sync.h"
#include "tk_schema.h"

/*
 * tk:schema must equal TK_SCHEMA_VERSION.  TK_REDIS_NOSCHEMA when it is
 * absent (tell the admin to run "ticketctl init"), TK_REDIS_BADSCHEMA
 * when it differs, TK_REDIS_ERROR when Redis is unreachable.
 */
int tk_redis_schema_check(tk_redis_t *r);

#endif /* TK_SCHEMA_SYNC_H */
