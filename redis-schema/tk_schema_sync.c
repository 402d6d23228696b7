/*
 * tk_schema_sync.c -- the schema version check over a blocking
 * connection (ticketctl, mailbridge; the module has its own, async).
 */

#include <stdlib.h>

#include "tk_schema_sync.h"


int
tk_redis_schema_check(tk_redis_t *r)
{
    redisReply  *reply;
    long long    v;
    int          rc;

    reply = tk_redis_command(r, "GET %s", TK_KEY_SCHEMA);
    if (reply == NULL) {
        return TK_REDIS_ERROR;
    }

    rc = TK_REDIS_OK;

    if (reply->type == REDIS_REPLY_NIL) {
        tk_redis_set_error(r, "Redis at %s has no ticket data yet (%s is "
                           "not set): run \"ticketctl init\"", r->addr,
                           TK_KEY_SCHEMA);
        rc = TK_REDIS_NOSCHEMA;

    } else if (reply->type == REDIS_REPLY_ERROR) {
        tk_redis_set_error(r, "Redis at %s: GET %s: %s", r->addr,
                           TK_KEY_SCHEMA, reply->str);
        rc = TK_REDIS_EREPLY;

    } else if (reply->type != REDIS_REPLY_STRING
               || (v = strtoll(reply->str, NULL, 10)) != TK_SCHEMA_VERSION)
    {
        tk_redis_set_error(r, "Redis at %s: %s is \"%s\" but this program "
                           "needs schema %d%s", r->addr, TK_KEY_SCHEMA,
                           reply->type == REDIS_REPLY_STRING ? reply->str
                                                             : "(not a string)",
                           TK_SCHEMA_VERSION,
                           reply->type == REDIS_REPLY_STRING
                           && strtoll(reply->str, NULL, 10) < TK_SCHEMA_VERSION
                           ? " (an older one: stop nginx and mailbridge, "
                             "then \"ticketctl init\" brings it up to date)"
                           : "");
        rc = TK_REDIS_BADSCHEMA;
    }

    freeReplyObject(reply);

    return rc;
}
