/*
 * tk_time.c -- Unix seconds as text for pages and the API (tk_escape.h):
 * "2026-11-24 14:05" in the reader's UTC offset and ISO 8601, plus the
 * lock-free calendar split they are built on.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tk_escape.h"

/* 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z */
#define TK_TIME_MIN  (-62167219200LL)
#define TK_TIME_MAX  253402300799LL

/*
 * Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
 * civil_from_days): the page formats hundreds of times, and gmtime_r
 * takes a lock and consults the time zone for each.
 */
int
tk_time_split(int64_t t, tk_tm_t *tm)
{
    int64_t   days, secs, z, era, doe, yoe, doy, mp;

    if (t < TK_TIME_MIN || t > TK_TIME_MAX) {
        return -1;
    }

    days = t / 86400;
    secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }

    tm->days = days;
    tm->hour = (int) (secs / 3600);
    tm->min = (int) (secs / 60 % 60);
    tm->sec = (int) (secs % 60);

    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;

    tm->mday = (int) (doy - (153 * mp + 2) / 5 + 1);
    tm->mon = (int) (mp < 10 ? mp + 3 : mp - 9);
    tm->year = (int) (yoe + era * 400 + (tm->mon <= 2));

    return 0;
}


static char *
tk_digits(char *p, int v, int width)
{
    int  i;

    for (i = width - 1; i >= 0; i--) {
        p[i] = (char) ('0' + v % 10);
        v /= 10;
    }

    return p + width;
}


/* "2026-11-24 14:05" into buf (16 bytes), or NULL outside 0..9999. */
static char *
tk_time_fmt(char *p, int64_t t, char sep)
{
    tk_tm_t  tm;

    if (tk_time_split(t, &tm) != 0) {
        return NULL;
    }

    p = tk_digits(p, tm.year, 4);
    *p++ = '-';
    p = tk_digits(p, tm.mon, 2);
    *p++ = '-';
    p = tk_digits(p, tm.mday, 2);
    *p++ = sep;
    p = tk_digits(p, tm.hour, 2);
    *p++ = ':';
    p = tk_digits(p, tm.min, 2);

    if (sep == 'T') {
        *p++ = ':';
        p = tk_digits(p, tm.sec, 2);
        *p++ = 'Z';
    }

    return p;
}


void
tk_out_time(tk_out_t *out, int64_t t, int utc_offset_minutes)
{
    struct tm  tm;
    time_t     tt;
    int64_t    local;
    char       buf[80], *p;
    int        n;

    if (__builtin_add_overflow(t, (int64_t) utc_offset_minutes * 60, &local)
        || (time_t) local != local)
    {
        tk_out_raw(out, "?", 1);
        return;
    }

    p = tk_time_fmt(buf, local, ' ');
    if (p != NULL) {
        tk_out_raw(out, buf, p - buf);
        return;
    }

    tt = (time_t) local;
    if (gmtime_r(&tt, &tm) == NULL) {
        tk_out_raw(out, "?", 1);
        return;
    }

    n = snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min);

    if (n > 0 && (size_t) n < sizeof(buf)) {
        tk_out_raw(out, buf, n);
    }
}

void
tk_out_time_iso(tk_out_t *out, int64_t t)
{
    struct tm  tm;
    time_t     tt;
    char       buf[80], *p;
    int        n;

    tt = (time_t) t;
    if ((int64_t) tt != t) {
        tk_out_raw(out, "?", 1);
        return;
    }

    p = tk_time_fmt(buf, t, 'T');
    if (p != NULL) {
        tk_out_raw(out, buf, p - buf);
        return;
    }

    if (gmtime_r(&tt, &tm) == NULL) {
        tk_out_raw(out, "?", 1);
        return;
    }

    n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);

    if (n > 0 && (size_t) n < sizeof(buf)) {
        tk_out_raw(out, buf, n);
    }
}
