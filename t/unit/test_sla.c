/*
 * test_sla.c -- business-time arithmetic (redis-schema/tk_sla.c): the
 * due time of a service level in a calendar with weekends, holidays,
 * summer time changes in Europe/Berlin (last Sunday of March 2026 is the
 * 29th, of October the 25th), spans at midnight and "all day".  Every
 * expected time is written down in UTC, worked out by hand.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tk_sla.h"

/* "2026-03-28 11:00" UTC -> Unix seconds */
static int64_t
utc(const char *s)
{
    struct tm  tm;

    memset(&tm, 0, sizeof(tm));
    assert_int_equal(sscanf(s, "%d-%d-%d %d:%d", &tm.tm_year, &tm.tm_mon,
                            &tm.tm_mday, &tm.tm_hour, &tm.tm_min), 5);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t) timegm(&tm);
}


/* Monday to Friday 09:00-17:00, Berlin */
static void
office(tk_calendar_t *cal)
{
    int  d;

    tk_calendar_default(cal);
    for (d = 0; d < 7; d++) {
        assert_int_equal(tk_calendar_set_field(cal, tk_calendar_days[d],
                             d == 0 || d == 6 ? "" : "09:00-17:00"), 0);
    }
}

#define H 3600


static void
test_all_day_default(void **state)
{
    tk_calendar_t  cal;

    tk_calendar_default(&cal);
    assert_string_equal(cal.tz, "Europe/Berlin");
    /* every day all day: business time is real time, also across DST */
    assert_int_equal(tk_sla_add(&cal, utc("2026-03-28 11:00"), 24 * H),
                     utc("2026-03-29 11:00"));
    assert_int_equal(tk_sla_add(&cal, utc("2026-10-24 10:00"), 24 * H),
                     utc("2026-10-25 10:00"));
    assert_int_equal(tk_sla_add(&cal, utc("2026-11-02 08:00"), 5 * 86400),
                     utc("2026-11-07 08:00"));
    assert_int_equal(tk_sla_add(&cal, utc("2026-11-02 08:00"), 1),
                     utc("2026-11-02 08:00") + 1);
}


static void
test_never(void **state)
{
    tk_calendar_t  cal;
    int            d;

    tk_calendar_default(&cal);
    assert_int_equal(tk_sla_add(&cal, utc("2026-11-02 08:00"), 0), 0);

    for (d = 0; d < 7; d++) {
        assert_int_equal(tk_calendar_set_field(&cal, tk_calendar_days[d],
                                               "-"), 0);
    }
    /* no working time at all: never, and quickly */
    assert_int_equal(tk_sla_add(&cal, utc("2026-11-02 08:00"), H), 0);
}


static void
test_weekend(void **state)
{
    tk_calendar_t  cal;

    office(&cal);
    /* Fri 16:00 CET + 2 h -> Mon 10:00 CET */
    assert_int_equal(tk_sla_add(&cal, utc("2026-11-27 15:00"), 2 * H),
                     utc("2026-11-30 09:00"));
    /* created on Saturday: the clock starts Monday 09:00 */
    assert_int_equal(tk_sla_add(&cal, utc("2026-11-28 12:00"), 30 * 60),
                     utc("2026-11-30 08:30"));
    /* created in the evening: next morning */
    assert_int_equal(tk_sla_add(&cal, utc("2026-11-24 20:00"), H),
                     utc("2026-11-25 09:00"));
    /* exactly the rest of a day ends at 17:00, not the next morning */
    assert_int_equal(tk_sla_add(&cal, utc("2026-11-24 15:00"), H),
                     utc("2026-11-24 16:00"));
}


static void
test_dst_march(void **state)
{
    tk_calendar_t  cal;

    office(&cal);
    /* Fri 27 Mar 16:00 CET (15:00 UTC) + 2 h -> Mon 30 Mar 10:00 CEST */
    assert_int_equal(tk_sla_add(&cal, utc("2026-03-27 15:00"), 2 * H),
                     utc("2026-03-30 08:00"));

    /* only Sundays, all day: 29 March has 23 hours */
    tk_calendar_default(&cal);
    assert_int_equal(tk_calendar_set_field(&cal, "mon", ""), 0);
    assert_int_equal(tk_calendar_set_field(&cal, "tue", ""), 0);
    assert_int_equal(tk_calendar_set_field(&cal, "wed", ""), 0);
    assert_int_equal(tk_calendar_set_field(&cal, "thu", ""), 0);
    assert_int_equal(tk_calendar_set_field(&cal, "fri", ""), 0);
    assert_int_equal(tk_calendar_set_field(&cal, "sat", ""), 0);
    /* Sunday 00:00 CET = Sat 23:00 UTC; 23 h later the day ends, the
     * last hour is next Sunday 00:00-01:00 CEST = Sat 4 Apr 22:00 UTC */
    assert_int_equal(tk_sla_add(&cal, utc("2026-03-28 11:00"), 24 * H),
                     utc("2026-04-04 23:00"));
    assert_int_equal(tk_sla_add(&cal, utc("2026-03-28 11:00"), 23 * H),
                     utc("2026-03-29 22:00"));
}


static void
test_dst_october(void **state)
{
    tk_calendar_t  cal;

    office(&cal);
    /* Fri 23 Oct 16:00 CEST (14:00 UTC) + 2 h -> Mon 26 Oct 10:00 CET */
    assert_int_equal(tk_sla_add(&cal, utc("2026-10-23 14:00"), 2 * H),
                     utc("2026-10-26 09:00"));

    /* a span over the changed hour: Sunday 01:00-04:00 local is 4 real
     * hours on 25 October (02:00-03:00 happens twice) */
    tk_calendar_default(&cal);
    assert_int_equal(tk_calendar_set_field(&cal, "sun", "01:00-04:00"), 0);
    /* Sun 01:00 CEST = Sat 23:00 UTC; 4 h -> 03:00 UTC = 04:00 CET */
    assert_int_equal(tk_sla_add(&cal, utc("2026-10-24 23:00"), 4 * H),
                     utc("2026-10-25 03:00"));
}


static void
test_holidays(void **state)
{
    tk_calendar_t  cal;

    office(&cal);
    assert_int_equal(tk_calendar_set_field(&cal, "holidays",
                                           "2026-12-25, 2026-12-24 2027-01-01"),
                     0);
    assert_int_equal(cal.nholidays, 3);
    /* Wed 23 Dec 16:00 CET + 2 h: 24th, 25th holidays, weekend -> Mon 28th
     * 10:00 CET */
    assert_int_equal(tk_sla_add(&cal, utc("2026-12-23 15:00"), 2 * H),
                     utc("2026-12-28 09:00"));
    /* Thu 31 Dec 16:30 CET + 1 h: New Year holiday, weekend -> Mon 4 Jan
     * 09:30 CET */
    assert_int_equal(tk_sla_add(&cal, utc("2026-12-31 15:30"), H),
                     utc("2027-01-04 08:30"));
}


static void
test_several_days(void **state)
{
    tk_calendar_t  cal;

    office(&cal);
    /* 5 days = 120 h of business time = 15 working days of 8 h, from Mon
     * 2 Nov 09:00 CET: ends Fri 20 Nov 17:00 CET */
    assert_int_equal(tk_sla_add(&cal, utc("2026-11-02 08:00"), 5 * 86400),
                     utc("2026-11-20 16:00"));
}


static void
test_midnight(void **state)
{
    tk_calendar_t  cal;
    int            d;

    tk_calendar_default(&cal);
    for (d = 0; d < 7; d++) {
        assert_int_equal(tk_calendar_set_field(&cal, tk_calendar_days[d],
                                               "00:00-02:00,22:00-24:00"), 0);
    }
    /* 23:00 CET + 2 h: an hour to midnight, then 00:00-01:00 */
    assert_int_equal(tk_sla_add(&cal, utc("2026-11-24 22:00"), 2 * H),
                     utc("2026-11-25 00:00"));
    /* 03:00 CET + 3 h: 22:00-24:00, then 00:00-01:00 */
    assert_int_equal(tk_sla_add(&cal, utc("2026-11-24 02:00"), 3 * H),
                     utc("2026-11-25 00:00"));
}


static void
test_time_zone(void **state)
{
    tk_calendar_t  cal;
    const char    *tz;

    office(&cal);
    assert_int_equal(tk_calendar_set_field(&cal, "tz", "UTC"), 0);
    assert_int_equal(tk_sla_add(&cal, utc("2026-11-27 16:00"), 2 * H),
                     utc("2026-11-30 10:00"));
    assert_int_equal(tk_calendar_set_field(&cal, "tz", "America/New_York"),
                     0);
    assert_int_equal(tk_sla_add(&cal, utc("2026-11-27 21:00"), 2 * H),
                     utc("2026-11-30 15:00"));

    /* a typo is refused, not taken for UTC */
    assert_int_equal(tk_calendar_set_field(&cal, "tz", "Europe/Berln"), -1);
    assert_int_equal(tk_calendar_set_field(&cal, "tz", "../etc/passwd"), -1);
    assert_string_equal(cal.tz, "America/New_York");

    /* the caller's TZ is as it was */
    setenv("TZ", "Asia/Tokyo", 1);
    (void) tk_sla_add(&cal, utc("2026-11-27 21:00"), 2 * H);
    tz = getenv("TZ");
    assert_non_null(tz);
    assert_string_equal(tz, "Asia/Tokyo");
    unsetenv("TZ");
    (void) tk_sla_add(&cal, utc("2026-11-27 21:00"), 2 * H);
    assert_null(getenv("TZ"));
}


static void
test_parse(void **state)
{
    tk_calendar_t  cal;
    tk_sla_t       sla;

    tk_calendar_default(&cal);
    assert_int_equal(tk_calendar_set_field(&cal, "mon", "9:00-17:00"), -1);
    assert_int_equal(tk_calendar_set_field(&cal, "mon", "17:00-09:00"), -1);
    assert_int_equal(tk_calendar_set_field(&cal, "mon", "09:00-12:00,11:00-13:00"), -1);
    assert_int_equal(tk_calendar_set_field(&cal, "mon", "09:00-24:01"), -1);
    assert_int_equal(tk_calendar_set_field(&cal, "mon", "09:00-12:00;"), -1);
    assert_int_equal(tk_calendar_set_field(&cal, "monday", "09:00-12:00"), -1);
    assert_int_equal(tk_calendar_set_field(&cal, "holidays", "2026-13-01"), -1);
    assert_int_equal(tk_calendar_set_field(&cal, "holidays", "24.12.2026"), -1);
    /* refused values change nothing */
    assert_int_equal(cal.nspans[1], 1);
    assert_int_equal(cal.spans[1][0].end, 1440);
    assert_int_equal(tk_calendar_set_field(&cal, "mon", "08:30-12:00,13:00-17:15"), 0);
    assert_int_equal(cal.nspans[1], 2);
    assert_int_equal(cal.spans[1][1].end, 17 * 60 + 15);

    assert_int_equal(tk_sla_parse_duration("5d"), 5 * 86400);
    assert_int_equal(tk_sla_parse_duration("24h"), 86400);
    assert_int_equal(tk_sla_parse_duration("90m"), 5400);
    assert_int_equal(tk_sla_parse_duration("0"), 0);
    assert_int_equal(tk_sla_parse_duration("12"), 12);
    assert_int_equal(tk_sla_parse_duration("-1"), -1);
    assert_int_equal(tk_sla_parse_duration("5 d"), -1);
    assert_int_equal(tk_sla_parse_duration("5dd"), -1);
    assert_int_equal(tk_sla_parse_duration(""), -1);

    tk_sla_default(&sla);
    assert_int_equal(tk_sla_set_field(&sla, "first_response:urgent", "2h"), 0);
    assert_int_equal(sla.first_response[TK_PRIO_URGENT], 7200);
    assert_int_equal(tk_sla_set_field(&sla, "solution:3", "10d"), 0);
    assert_int_equal(sla.solution[TK_PRIO_HIGH], 10 * 86400);
    assert_int_equal(tk_sla_set_field(&sla, "solution:9", "10d"), -1);
    assert_int_equal(tk_sla_set_field(&sla, "reply:2", "10d"), -1);
    assert_int_equal(tk_sla_set_field(&sla, "first_response", "10d"), -1);
}


static void
test_escalation(void **state)
{
    tk_calendar_t  cal;
    tk_sla_t       sla;
    int64_t        c = utc("2026-11-24 10:00");

    tk_calendar_default(&cal);
    tk_sla_default(&sla);

    /* the collective's defaults */
    assert_int_equal(tk_sla_escalation(&sla, &cal, TK_PRIO_LOW,
                                       TK_STATE_NEW, c, 0, 0), 0);
    assert_int_equal(tk_sla_escalation(&sla, &cal, TK_PRIO_NORMAL,
                                       TK_STATE_NEW, c, 0, 0), c + 5 * 86400);
    assert_int_equal(tk_sla_escalation(&sla, &cal, TK_PRIO_HIGH,
                                       TK_STATE_OPEN, c, 0, 0), c + 5 * 86400);
    assert_int_equal(tk_sla_escalation(&sla, &cal, TK_PRIO_URGENT,
                                       TK_STATE_WAITING, c, 0, 0), c + 86400);
    /* answered, closed: nothing to escalate */
    assert_int_equal(tk_sla_escalation(&sla, &cal, TK_PRIO_URGENT,
                                       TK_STATE_OPEN, c, c + 60, 0), 0);
    assert_int_equal(tk_sla_escalation(&sla, &cal, TK_PRIO_URGENT,
                                       TK_STATE_CLOSED, c, 0, 0), 0);
    assert_int_equal(tk_sla_escalation(&sla, &cal, 0, TK_STATE_NEW, c, 0, 0),
                     0);

    /* a solution time escalates also after the first response, and the
     * earlier of the two counts */
    sla.solution[TK_PRIO_URGENT] = 3 * 86400;
    sla.solution[TK_PRIO_NORMAL] = 2 * 86400;
    assert_int_equal(tk_sla_escalation(&sla, &cal, TK_PRIO_URGENT,
                                       TK_STATE_OPEN, c, c + 60, 0),
                     c + 3 * 86400);
    assert_int_equal(tk_sla_escalation(&sla, &cal, TK_PRIO_URGENT,
                                       TK_STATE_OPEN, c, 0, 0), c + 86400);
    assert_int_equal(tk_sla_escalation(&sla, &cal, TK_PRIO_NORMAL,
                                       TK_STATE_OPEN, c, 0, 0), c + 2 * 86400);

    /* update time: from the oldest unanswered customer mail, only once
     * the first response was given */
    tk_sla_default(&sla);
    sla.update[TK_PRIO_HIGH] = 2 * 3600;
    assert_int_equal(tk_sla_escalation(&sla, &cal, TK_PRIO_HIGH,
                                       TK_STATE_OPEN, c, c + 60, c + 3600),
                     c + 3 * 3600);
    assert_int_equal(tk_sla_escalation(&sla, &cal, TK_PRIO_HIGH,
                                       TK_STATE_OPEN, c, c + 60, 0), 0);
    /* before the first response the first-response time counts */
    assert_int_equal(tk_sla_escalation(&sla, &cal, TK_PRIO_HIGH,
                                       TK_STATE_OPEN, c, 0, c + 3600),
                     c + 5 * 86400);
    /* no update time for normal: never */
    assert_int_equal(tk_sla_escalation(&sla, &cal, TK_PRIO_NORMAL,
                                       TK_STATE_OPEN, c, c + 60, c + 3600), 0);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_day_default),
        cmocka_unit_test(test_never),
        cmocka_unit_test(test_weekend),
        cmocka_unit_test(test_dst_march),
        cmocka_unit_test(test_dst_october),
        cmocka_unit_test(test_holidays),
        cmocka_unit_test(test_several_days),
        cmocka_unit_test(test_midnight),
        cmocka_unit_test(test_time_zone),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_escalation),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
