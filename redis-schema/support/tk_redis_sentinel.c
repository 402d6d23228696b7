/*
 * tk_redis_sentinel.c -- "sentinel://h:p,h:p/NAME" for the blocking
 * client (tk_redis_sync.h): the Sentinels are asked in turn for the
 * primary of NAME, and the server they name must say ROLE master.
 */

#include <stdio.h>
#include <string.h>

#include "tk_redis_sync.h"


static int tk_redis_sentinel_ask(const char *sentinel, const char *name,
    int timeout_ms, char *master, size_t size, char *err, size_t errsize);
static int tk_redis_role_master(tk_redis_t *r);
static void tk_redis_copy(char *dst, size_t size, const char *src);

static int  tk_redis_sentinel_next;      /* the Sentinel asked first */


/*
 * sentinel://h:p,h:p/NAME: each Sentinel in turn (starting after the
 * one that answered last time) names the primary; it must say ROLE
 * master.  A Sentinel that is down or does not know NAME is skipped.
 */
int
tk_redis_connect_sentinel(tk_redis_t *r, const char *addr, int timeout_ms)
{
    char         list[256], master[128], err[256], *name, *p;
    char        *sentinels[16];
    int          n = 0, i, k;

    snprintf(list, sizeof(list), "%s", addr + sizeof(TK_SENTINEL_PREFIX) - 1);
    name = strrchr(list, '/');
    if (name == NULL || name[1] == '\0' || name == list) {
        tk_redis_set_error(r, "invalid Sentinel address \"%s\" (want "
                           "sentinel://host:port,host:port/NAME)", addr);
        return TK_REDIS_ERROR;
    }
    *name++ = '\0';

    for (p = strtok(list, ","); p && n < 16; p = strtok(NULL, ",")) {
        sentinels[n++] = p;
    }

    snprintf(err, sizeof(err), "no Sentinel configured");

    for (k = 0; k < n; k++) {
        i = (tk_redis_sentinel_next + k) % n;

        if (tk_redis_sentinel_ask(sentinels[i], name, timeout_ms, master,
                                  sizeof(master), err, sizeof(err))
            != TK_REDIS_OK)
        {
            continue;
        }

        if (tk_redis_connect_addr(r, master, timeout_ms) != TK_REDIS_OK) {
            tk_redis_copy(err, sizeof(err), r->err);
            continue;
        }

        if (tk_redis_role_master(r) != TK_REDIS_OK) {
            tk_redis_copy(err, sizeof(err), r->err);
            tk_redis_close(r);
            continue;
        }

        tk_redis_sentinel_next = i;
        snprintf(r->addr, sizeof(r->addr), "%s (primary of %s)", master,
                 name);
        return TK_REDIS_OK;
    }

    tk_redis_sentinel_next = (tk_redis_sentinel_next + 1) % (n ? n : 1);
    tk_redis_set_error(r, "Redis via %s: %s", addr, err);
    return TK_REDIS_ERROR;
}


/* SENTINEL get-master-addr-by-name NAME -> "ip:port" ("[v6]:port"). */
static int
tk_redis_sentinel_ask(const char *sentinel, const char *name, int timeout_ms,
    char *master, size_t size, char *err, size_t errsize)
{
    tk_redis_t   s;
    redisReply  *reply;
    int          rc = TK_REDIS_ERROR;

    if (tk_redis_connect_addr(&s, sentinel, timeout_ms) != TK_REDIS_OK) {
        tk_redis_copy(err, errsize, s.err);
        return TK_REDIS_ERROR;
    }

    reply = tk_redis_command(&s, "SENTINEL get-master-addr-by-name %s", name);
    if (reply == NULL) {
        tk_redis_copy(err, errsize, s.err);

    } else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
               && reply->element[0]->type == REDIS_REPLY_STRING
               && reply->element[1]->type == REDIS_REPLY_STRING)
    {
        snprintf(master, size, strchr(reply->element[0]->str, ':')
                                   ? "[%s]:%s" : "%s:%s",
                 reply->element[0]->str, reply->element[1]->str);
        rc = TK_REDIS_OK;

    } else {
        snprintf(err, errsize, "Sentinel %s does not know a primary "
                 "named \"%s\"%s%s", sentinel, name,
                 reply->type == REDIS_REPLY_ERROR ? ": " : "",
                 reply->type == REDIS_REPLY_ERROR ? reply->str : "");
    }

    if (reply) {
        freeReplyObject(reply);
    }
    tk_redis_close(&s);
    return rc;
}


/* ROLE's first element must be "master": a Sentinel's word may be old. */
static int
tk_redis_role_master(tk_redis_t *r)
{
    redisReply  *reply;
    int          ok;

    reply = tk_redis_command(r, "ROLE");
    if (reply == NULL) {
        return TK_REDIS_ERROR;
    }

    ok = reply->type == REDIS_REPLY_ARRAY && reply->elements > 0
         && reply->element[0]->type == REDIS_REPLY_STRING
         && strcmp(reply->element[0]->str, "master") == 0;
    freeReplyObject(reply);

    if (!ok) {
        tk_redis_set_error(r, "Redis at %s is a replica, not the primary "
                           "(nothing is written to a replica)", r->addr);
        return TK_REDIS_ERROR;
    }

    return TK_REDIS_OK;
}


/* strcpy that cuts at size - 1 */
static void
tk_redis_copy(char *dst, size_t size, const char *src)
{
    size_t  n = strnlen(src, size - 1);

    memcpy(dst, src, n);
    dst[n] = '\0';
}
