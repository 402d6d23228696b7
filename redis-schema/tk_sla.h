/*
 * tk_sla.h -- service levels and business calendars: when a ticket
 * escalates.  Pure arithmetic, no Redis: the timers role of mailbridge
 * (mailbridge/timers.c), ticketctl (sla / calendar commands) and the unit
 * tests (t/unit/test_sla.c) call it.  The configuration it is parsed from
 * lives in tk:sla and tk:calendar:NAME (SCHEMA.md "Service levels").
 *
 * A calendar is a time zone (the system tz database), working hours per
 * weekday as spans of local time, and holidays as local dates.  Business
 * time is counted in real seconds inside the spans, so a span across a
 * DST change is an hour shorter or longer, as a clock on the wall says.
 *
 * The time zone is applied by switching TZ (setenv + tzset) around
 * localtime_r/mktime and switching back: not thread safe, which neither
 * the daemons nor ticketctl need.
 */

#ifndef TK_SLA_H
#define TK_SLA_H

#include <stddef.h>
#include <stdint.h>

#include "tk_schema.h"

#define TK_CAL_TZ_MAX        64
#define TK_CAL_SPANS         4       /* spans of working time per weekday */
#define TK_CAL_HOLIDAYS      128
#define TK_CAL_DEFAULT_TZ    "Europe/Berlin"
#define TK_CAL_MAX_DAYS      3700    /* a due time is found within ~10 y  */

typedef struct {
    int         start;               /* minutes after local midnight    */
    int         end;                 /* exclusive, <= 1440              */
} tk_cal_span_t;

typedef struct {
    char           tz[TK_CAL_TZ_MAX];
    int            nspans[7];        /* index: tm_wday, 0 = Sunday       */
    tk_cal_span_t  spans[7][TK_CAL_SPANS];
    int32_t        holidays[TK_CAL_HOLIDAYS]; /* YYYYMMDD, sorted       */
    size_t         nholidays;
} tk_calendar_t;

/* per priority (index tk_prio_e 1..4) seconds of business time, 0 never */
typedef struct {
    int64_t        first_response[TK_PRIO_MAX + 1];
    int64_t        update[TK_PRIO_MAX + 1];
    int64_t        solution[TK_PRIO_MAX + 1];
} tk_sla_t;

/* The collective's defaults: low never, normal and high 5 days, urgent
 * 24 hours of first response; no update or solution times. */
void tk_sla_default(tk_sla_t *sla);

/*
 * One field of tk:sla ("first_response:4" = "86400"); -1 when the name
 * or the value (seconds >= 0, or a duration like "24h", "5d", "90m") is
 * bad.
 */
int tk_sla_set_field(tk_sla_t *sla, const char *field, const char *value);
/* "5d" "24h" "90m" "30s" or seconds; -1 when bad */
int64_t tk_sla_parse_duration(const char *s);

/* Europe/Berlin, every day all day, no holidays. */
void tk_calendar_default(tk_calendar_t *cal);

/*
 * One field of tk:calendar:NAME: "tz" (a zone of the tz database),
 * "mon".."sun" ("09:00-17:00,18:00-20:00"; "" or "-" not working;
 * "00:00-24:00" all day), "holidays" ("2026-12-24 2026-12-25", commas
 * or spaces).  -1 when bad (the calendar is then unchanged).
 */
int tk_calendar_set_field(tk_calendar_t *cal, const char *field,
    const char *value);

/* The weekday field names, index tm_wday: "sun" "mon" ... "sat". */
extern const char *const tk_calendar_days[7];

/*
 * The moment `seconds` of business time after `from` have passed in the
 * calendar (Unix seconds).  seconds <= 0: 0 ("never").  A calendar
 * without any working time in TK_CAL_MAX_DAYS days: 0 too.
 */
int64_t tk_sla_add(const tk_calendar_t *cal, int64_t from, int64_t seconds);

/*
 * The escalation time of a ticket: the earliest of the first-response
 * due time (while first_response is 0, counted from created), the update
 * due time (counted from update_from, the oldest customer mail not
 * answered since the first response; 0: none) and the solution due time
 * (from created); 0 when none applies (the SLA says never, or the
 * ticket is closed).
 */
int64_t tk_sla_escalation(const tk_sla_t *sla, const tk_calendar_t *cal,
    int priority, int state, int64_t created, int64_t first_response,
    int64_t update_from);

#endif /* TK_SLA_H */
