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
    char                digest[17]; /* of everything read, hex            */
} mb_timers_conf_t;

/* 0, or -1 on a Redis error (r->err); bad values are logged and left
 * at their defaults. */
int mb_timers_conf_load(tk_redis_t *r, mb_timers_conf_t *conf);
void mb_timers_conf_free(mb_timers_conf_t *conf);
const tk_calendar_t *mb_timers_calendar(const mb_timers_conf_t *conf,
    const tk_str_t *group);

#endif /* MB_TIMERS_H */
