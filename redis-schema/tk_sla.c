/*
 * tk_sla.c -- business-time arithmetic of service levels (tk_sla.h).
 *
 * The walk goes day by day in local time: for each local day that is not
 * a holiday, each working span is turned into two Unix times with mktime
 * (tm_isdst = -1, so the tz database decides about summer time), and
 * business seconds are taken from the spans until none are left.  Real
 * seconds, not wall-clock minutes: on the last Sunday of March an
 * "all day" day has 23 hours.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tk_sla.h"


const char *const tk_calendar_days[7] = {
    "sun", "mon", "tue", "wed", "thu", "fri", "sat"
};

static const char *tk_sla_kinds[] = { "first_response", "update", "solution" };

static int tk_cal_parse_spans(const char *v, tk_cal_span_t *spans, int *n);
static int tk_cal_parse_hm(const char **p, int *minutes);
static int tk_cal_parse_holidays(const char *v, int32_t *days, size_t *n);
static int tk_cal_is_holiday(const tk_calendar_t *cal, int32_t day);
static int tk_cmp_i32(const void *a, const void *b);
static void tk_tz_push(const char *tz);
static void tk_tz_pop(void);
static time_t tk_local(const struct tm *day, int minutes);


/* ---- configuration ------------------------------------------------------ */

void
tk_sla_default(tk_sla_t *sla)
{
    memset(sla, 0, sizeof(tk_sla_t));
    sla->first_response[TK_PRIO_LOW] = 0;
    sla->first_response[TK_PRIO_NORMAL] = 5 * 86400;
    sla->first_response[TK_PRIO_HIGH] = 5 * 86400;
    sla->first_response[TK_PRIO_URGENT] = 86400;
}


int64_t
tk_sla_parse_duration(const char *s)
{
    char       *end;
    long long   v;

    if (s == NULL || !isdigit((unsigned char) *s)) {
        return -1;
    }

    v = strtoll(s, &end, 10);
    if (v < 0 || v > 100LL * 365 * 86400) {
        return -1;
    }

    switch (*end) {
    case '\0':
    case 's':
        break;
    case 'm':
        v *= 60;
        break;
    case 'h':
        v *= 3600;
        break;
    case 'd':
        v *= 86400;
        break;
    default:
        return -1;
    }

    if (*end && end[1]) {
        return -1;
    }

    return v;
}


int
tk_sla_set_field(tk_sla_t *sla, const char *field, const char *value)
{
    const char  *colon;
    size_t       k, len;
    int64_t      secs;
    int          prio;

    colon = strchr(field, ':');
    if (colon == NULL) {
        return -1;
    }

    len = (size_t) (colon - field);
    prio = tk_prio_parse(colon + 1, strlen(colon + 1));
    secs = tk_sla_parse_duration(value);
    if (prio == 0 || secs < 0) {
        return -1;
    }

    for (k = 0; k < 3; k++) {
        if (strlen(tk_sla_kinds[k]) == len
            && strncmp(field, tk_sla_kinds[k], len) == 0)
        {
            int64_t *a = k == 0 ? sla->first_response
                         : k == 1 ? sla->update : sla->solution;

            a[prio] = secs;
            return 0;
        }
    }

    return -1;
}


void
tk_calendar_default(tk_calendar_t *cal)
{
    int  d;

    memset(cal, 0, sizeof(tk_calendar_t));
    strcpy(cal->tz, TK_CAL_DEFAULT_TZ);

    for (d = 0; d < 7; d++) {
        cal->nspans[d] = 1;
        cal->spans[d][0].start = 0;
        cal->spans[d][0].end = 1440;
    }
}


int
tk_calendar_set_field(tk_calendar_t *cal, const char *field,
    const char *value)
{
    char  path[sizeof("/usr/share/zoneinfo/") + TK_CAL_TZ_MAX];
    int   d;
    FILE *fp;

    if (strcmp(field, "tz") == 0) {
        /* a zone the tz database knows; a typo must not become UTC */
        if (*value == '\0' || strlen(value) >= TK_CAL_TZ_MAX
            || strstr(value, "..") || value[0] == '/')
        {
            return -1;
        }
        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", value);
        fp = fopen(path, "r");
        if (fp == NULL) {
            return -1;
        }
        fclose(fp);
        strcpy(cal->tz, value);
        return 0;
    }

    if (strcmp(field, "holidays") == 0) {
        return tk_cal_parse_holidays(value, cal->holidays, &cal->nholidays);
    }

    for (d = 0; d < 7; d++) {
        if (strcmp(field, tk_calendar_days[d]) == 0) {
            return tk_cal_parse_spans(value, cal->spans[d], &cal->nspans[d]);
        }
    }

    return -1;
}


/* "HH:MM" with HH 0..24 (24:00 only as an end) */
static int
tk_cal_parse_hm(const char **p, int *minutes)
{
    const char  *s = *p;
    int          h, m;

    if (!isdigit((unsigned char) s[0]) || !isdigit((unsigned char) s[1])
        || s[2] != ':' || !isdigit((unsigned char) s[3])
        || !isdigit((unsigned char) s[4]))
    {
        return -1;
    }

    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0)) {
        return -1;
    }

    *minutes = h * 60 + m;
    *p = s + 5;
    return 0;
}


/* spans in order, not overlapping, each start < end */
static int
tk_cal_parse_spans(const char *v, tk_cal_span_t *spans, int *n)
{
    tk_cal_span_t  tmp[TK_CAL_SPANS];
    const char    *p = v;
    int            k = 0, prev = 0;

    if (*v == '\0' || strcmp(v, "-") == 0) {
        *n = 0;
        return 0;
    }

    for (;;) {
        if (k == TK_CAL_SPANS
            || tk_cal_parse_hm(&p, &tmp[k].start) != 0 || *p++ != '-'
            || tk_cal_parse_hm(&p, &tmp[k].end) != 0
            || tmp[k].start >= tmp[k].end || tmp[k].start < prev
            || tmp[k].start == 1440)
        {
            return -1;
        }

        prev = tmp[k].end;
        k++;

        if (*p == '\0') {
            break;
        }
        if (*p++ != ',') {
            return -1;
        }
    }

    memcpy(spans, tmp, sizeof(tmp));
    *n = k;
    return 0;
}


static int
tk_cal_parse_holidays(const char *v, int32_t *days, size_t *n)
{
    int32_t  tmp[TK_CAL_HOLIDAYS];
    size_t   k = 0;
    int      y, m, d, used;

    while (*v) {
        if (*v == ' ' || *v == ',') {
            v++;
            continue;
        }

        if (k == TK_CAL_HOLIDAYS
            || sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3
            || used != 10 || m < 1 || m > 12 || d < 1 || d > 31)
        {
            return -1;
        }

        tmp[k++] = y * 10000 + m * 100 + d;
        v += used;
        if (*v && *v != ' ' && *v != ',') {
            return -1;
        }
    }

    qsort(tmp, k, sizeof(int32_t), tk_cmp_i32);
    memcpy(days, tmp, k * sizeof(int32_t));
    *n = k;
    return 0;
}


static int
tk_cmp_i32(const void *a, const void *b)
{
    int32_t  x = *(const int32_t *) a, y = *(const int32_t *) b;

    return x < y ? -1 : x > y;
}


static int
tk_cal_is_holiday(const tk_calendar_t *cal, int32_t day)
{
    return bsearch(&day, cal->holidays, cal->nholidays, sizeof(int32_t),
                   tk_cmp_i32) != NULL;
}


/* ---- the time zone ------------------------------------------------------ */

static char  tk_tz_saved[256];
static int   tk_tz_had;

static void
tk_tz_push(const char *tz)
{
    const char  *old = getenv("TZ");

    tk_tz_had = old != NULL;
    if (old) {
        snprintf(tk_tz_saved, sizeof(tk_tz_saved), "%s", old);
    }

    setenv("TZ", tz, 1);
    tzset();
}


static void
tk_tz_pop(void)
{
    if (tk_tz_had) {
        setenv("TZ", tk_tz_saved, 1);
    } else {
        unsetenv("TZ");
    }
    tzset();
}


/* local time `minutes` after the midnight of day (a local struct tm) */
static time_t
tk_local(const struct tm *day, int minutes)
{
    struct tm  tm;

    tm = *day;
    tm.tm_hour = 0;
    tm.tm_min = minutes;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;

    return mktime(&tm);
}


/* ---- arithmetic --------------------------------------------------------- */

int64_t
tk_sla_add(const tk_calendar_t *cal, int64_t from, int64_t seconds)
{
    struct tm  day;
    time_t     t, start, end, next;
    int64_t    left, due = 0;
    int        i, n, w;

    if (seconds <= 0) {
        return 0;
    }

    tk_tz_push(cal->tz);

    t = (time_t) from;
    left = seconds;

    for (n = 0; n < TK_CAL_MAX_DAYS && due == 0; n++) {
        localtime_r(&t, &day);
        w = day.tm_wday;

        /* the next local midnight (mktime normalises day 32 etc.) */
        day.tm_mday++;
        next = tk_local(&day, 0);
        day.tm_mday--;

        if (!tk_cal_is_holiday(cal, (day.tm_year + 1900) * 10000
                                    + (day.tm_mon + 1) * 100 + day.tm_mday))
        {
            for (i = 0; i < cal->nspans[w]; i++) {
                start = tk_local(&day, cal->spans[w][i].start);
                end = cal->spans[w][i].end == 1440
                      ? next : tk_local(&day, cal->spans[w][i].end);

                if (start < t) {
                    start = t;
                }
                if (end <= start) {
                    continue;
                }

                if (left <= end - start) {
                    due = start + left;
                    break;
                }
                left -= end - start;
            }
        }

        t = next;
    }

    tk_tz_pop();
    return due;
}


int64_t
tk_sla_escalation(const tk_sla_t *sla, const tk_calendar_t *cal,
    int priority, int state, int64_t created, int64_t first_response,
    int64_t update_from)
{
    int64_t  due = 0, d;

    if (priority < TK_PRIO_MIN || priority > TK_PRIO_MAX
        || !tk_state_is_open(state))
    {
        return 0;
    }

    if (first_response == 0) {
        due = tk_sla_add(cal, created, sla->first_response[priority]);
    }

    if (first_response && update_from) {
        d = tk_sla_add(cal, update_from, sla->update[priority]);
        if (d && (due == 0 || d < due)) {
            due = d;
        }
    }

    d = tk_sla_add(cal, created, sla->solution[priority]);
    if (d && (due == 0 || d < due)) {
        due = d;
    }

    return due;
}
