/*
 * mb_timers.h -- the timers role of mailbridge: SLA escalations and
 * reminders (mailbridge/timers.c), and the SLA/calendar configuration
 * it reads from Redis (mailbridge/timers_conf.c).  See docs/mailbridge.md
 * "Timers" and SCHEMA.md "Service levels and timers".
 */

#ifndef MB_TIMERS_H
#define MB_TIMERS_H

#include <stdint.h>

#include "mailbridge.h"
#include "tk_redis_sync.h"
#include "tk_sla.h"

/* the role (mailbridge roles, BRIEF): runs until mb_stop */
int mb_timers_run(const mb_config_t *cfg);
int mb_timers_enabled(const mb_config_t *cfg);

typedef struct {
    char      *group;
    size_t     cal;                /* index into cals                     */
} mb_timers_group_t;

/* tk:sla, every group's calendar, as read at the last wake-up */
typedef struct {
    tk_sla_t            sla;
    tk_calendar_t      *cals;      /* [0]: the default calendar           */
    char              **cal_names;
    size_t              ncals;
    mb_timers_group_t  *groups;
    size_t              ngroups;
    char                digest[24]; /* MB_TIMERS_DUE_FORMAT + of
                                       everything read, hex              */
} mb_timers_conf_t;

/* 0, or -1 on a Redis error (r->err); bad values are logged and left
 * at their defaults. */
int mb_timers_conf_load(tk_redis_t *r, mb_timers_conf_t *conf);
void mb_timers_conf_free(mb_timers_conf_t *conf);
const tk_calendar_t *mb_timers_calendar(const mb_timers_conf_t *conf,
    const tk_str_t *group);

/* ---- inside the role (timers.c, timers_feed.c) ------------------------- */

/* prefix of TK_KEY_DUE_CONFIG's digest: due sets sharded (TK_DUE_SHARD);
 * a digest without it was written by a mailbridge with unsharded sets */
#define MB_TIMERS_DUE_FORMAT "s128:"
#define MB_TIMERS_CONSUMER   "timers"
#define MB_TIMERS_BATCH      100

typedef struct {
    tk_redis_t          r;
    const mb_config_t  *cfg;
    mb_timers_conf_t    conf;
    tk_str_t            actor;
    long long           fired;
} mb_timers_t;

/* what the feed said about one ticket of a batch */
typedef struct {
    uint64_t            number;
    int64_t             first_out;      /* first outbound reply, or 0   */
    int64_t             last_out;       /* last one                     */
    int64_t             in;             /* first customer mail after it */
    char                article[24];    /* its id (auto-replies: none)  */
} mb_timers_ev_t;

/* tk:sla and calendars again; every ticket recomputed when they changed */
int mb_timers_config(mb_timers_t *tm);
/* WATCH the tickets, read them, write their due times: 0 or -1 */
int mb_timers_recompute(mb_timers_t *tm, const mb_timers_ev_t *ev,
    size_t n);
/* XREADGROUP once ("0": ours unacknowledged; ">": new, BLOCK block_ms),
 * recompute what the entries name, XACK them: 0 or -1 */
int mb_timers_read(mb_timers_t *tm, const char *id, int block_ms);

#endif /* MB_TIMERS_H */
