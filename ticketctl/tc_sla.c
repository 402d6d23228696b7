/*
 * tc_sla.c -- "ticketctl sla" and "ticketctl calendar": the service
 * levels (tk:sla) and business calendars (tk:calendar:NAME, a group's
 * field "calendar") that mailbridge's timers role computes escalation
 * times from.  Values are checked with the same parser the timers role
 * uses (tk_sla.c), so what ticketctl accepts is what takes effect; the
 * timers role sees a change at its next wake-up and recomputes.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk_sla.h"
#include "ticketctl.h"


static int tc_sla_show(tc_ctx_t *ctx, int argc, char **argv);
static int tc_sla_set(tc_ctx_t *ctx, int argc, char **argv);
static int tc_cal_show(tc_ctx_t *ctx, int argc, char **argv);
static int tc_cal_set(tc_ctx_t *ctx, int argc, char **argv);
static int tc_cal_group(tc_ctx_t *ctx, int argc, char **argv);
static void tc_duration(char *buf, size_t size, int64_t s);

static const tc_command_t  tc_sla_commands[] = {
    { "show", tc_sla_show },
    { "set", tc_sla_set },
    { NULL, NULL }
};

static const tc_command_t  tc_cal_commands[] = {
    { "show", tc_cal_show },
    { "set", tc_cal_set },
    { "group", tc_cal_group },
    { NULL, NULL }
};


int
tc_cmd_sla(tc_ctx_t *ctx, int argc, char **argv)
{
    return tc_subcommand(ctx, argc, argv, "sla", tc_sla_commands);
}


int
tc_cmd_calendar(tc_ctx_t *ctx, int argc, char **argv)
{
    return tc_subcommand(ctx, argc, argv, "calendar", tc_cal_commands);
}


/* init: the collective's defaults, HSETNX so an admin's values stay */
int
tc_sla_init(tc_ctx_t *ctx, int verbose)
{
    tk_arena_t  arena;
    tk_cmds_t   c;
    tk_sla_t    sla;
    int         p, rc;

    tk_sla_default(&sla);
    tk_arena_init(&arena);
    tk_cmds_init(&c, tk_arena_alloc, &arena);

    for (p = TK_PRIO_MIN; p <= TK_PRIO_MAX; p++) {
        tk_cmds_add(&c, "HSETNX " TK_KEY_SLA " first_response:%d %lld", p,
                    (long long) sla.first_response[p]);
        tk_cmds_add(&c, "HSETNX " TK_KEY_SLA " update:%d %lld", p,
                    (long long) sla.update[p]);
        tk_cmds_add(&c, "HSETNX " TK_KEY_SLA " solution:%d %lld", p,
                    (long long) sla.solution[p]);
    }
    tk_cmds_add(&c, "HSETNX " TK_FMT_CALENDAR " tz %s", TK_CALENDAR_DEFAULT,
                TK_CAL_DEFAULT_TZ);

    rc = tc_run(ctx, &c);
    tk_arena_reset(&arena);

    if (rc == EX_OK && verbose) {
        printf("service levels in %s\n", TK_KEY_SLA);
    }
    return rc;
}


/* tk:sla as parsed: what the timers role will use */
static int
tc_sla_load(tc_ctx_t *ctx, tk_sla_t *sla)
{
    redisReply  *r;
    size_t       i;

    tk_sla_default(sla);

    r = tc_command(ctx, "HGETALL %s", TK_KEY_SLA);
    if (r == NULL) {
        return EX_UNAVAILABLE;
    }

    for (i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        if (tk_sla_set_field(sla, r->element[i]->str, r->element[i + 1]->str)
            != 0)
        {
            fprintf(stderr, "ticketctl: warning: %s %s = \"%s\" is not "
                    "valid and ignored\n", TK_KEY_SLA, r->element[i]->str,
                    r->element[i + 1]->str);
        }
    }

    freeReplyObject(r);
    return EX_OK;
}


static void
tc_duration(char *buf, size_t size, int64_t s)
{
    if (s == 0) {
        snprintf(buf, size, "never");
    } else if (s % 86400 == 0) {
        snprintf(buf, size, "%lldd", (long long) (s / 86400));
    } else if (s % 3600 == 0) {
        snprintf(buf, size, "%lldh", (long long) (s / 3600));
    } else if (s % 60 == 0) {
        snprintf(buf, size, "%lldm", (long long) (s / 60));
    } else {
        snprintf(buf, size, "%llds", (long long) s);
    }
}


static int
tc_sla_show(tc_ctx_t *ctx, int argc, char **argv)
{
    tk_sla_t  sla;
    char      a[32], b[32], c[32];
    int       p, rc;

    if (argc != 1) {
        return tc_usage("sla");
    }

    rc = tc_connect(ctx, 1);
    if (rc == EX_OK) {
        rc = tc_sla_load(ctx, &sla);
    }
    if (rc != EX_OK) {
        return rc;
    }

    printf("%-9s %-15s %-15s %s\n", "PRIORITY", "FIRST_RESPONSE", "UPDATE",
           "SOLUTION");
    for (p = TK_PRIO_MIN; p <= TK_PRIO_MAX; p++) {
        tc_duration(a, sizeof(a), sla.first_response[p]);
        tc_duration(b, sizeof(b), sla.update[p]);
        tc_duration(c, sizeof(c), sla.solution[p]);
        printf("%-9s %-15s %-15s %s\n", tk_prio_name(p), a, b, c);
    }

    return EX_OK;
}


/* sla set KIND:PRIORITY DURATION   (first_response:urgent 24h; 0 never) */
static int
tc_sla_set(tc_ctx_t *ctx, int argc, char **argv)
{
    tk_sla_t     sla;
    redisReply  *r;
    char         field[64];
    const char  *colon;
    int64_t      secs;
    int          prio, rc;

    if (argc != 3) {
        return tc_usage("sla");
    }

    tk_sla_default(&sla);
    colon = strchr(argv[1], ':');
    if (tk_sla_set_field(&sla, argv[1], argv[2]) != 0 || colon == NULL) {
        return tc_fail(EX_DATAERR, "sla set: \"%s %s\" is not valid: KIND "
                       "is first_response, update or solution, PRIORITY "
                       "low..urgent or 1..4, DURATION seconds or 90m, 24h, "
                       "5d (0: never)", argv[1], argv[2]);
    }

    prio = tk_prio_parse(colon + 1, strlen(colon + 1));
    secs = tk_sla_parse_duration(argv[2]);
    snprintf(field, sizeof(field), "%.*s:%d", (int) (colon - argv[1]),
             argv[1], prio);

    rc = tc_connect(ctx, 1);
    if (rc != EX_OK) {
        return rc;
    }

    r = tc_command(ctx, "HSET %s %s %lld", TK_KEY_SLA, field,
                   (long long) secs);
    if (r == NULL) {
        return EX_UNAVAILABLE;
    }
    freeReplyObject(r);

    printf("%s %s = %lld s\n", TK_KEY_SLA, field, (long long) secs);
    return EX_OK;
}


/* ---- calendars ---------------------------------------------------------- */

static int
tc_cal_show(tc_ctx_t *ctx, int argc, char **argv)
{
    tk_calendar_t  cal;
    redisReply    *r;
    const char    *name = argc > 1 ? argv[1] : TK_CALENDAR_DEFAULT;
    size_t         i;
    int            d, k, rc;

    if (argc > 2) {
        return tc_usage("calendar");
    }

    rc = tc_connect(ctx, 1);
    if (rc != EX_OK) {
        return rc;
    }

    r = tc_command(ctx, "HGETALL " TK_FMT_CALENDAR, name);
    if (r == NULL) {
        return EX_UNAVAILABLE;
    }

    tk_calendar_default(&cal);
    for (i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        if (tk_calendar_set_field(&cal, r->element[i]->str,
                                  r->element[i + 1]->str) != 0)
        {
            fprintf(stderr, "ticketctl: warning: %s = \"%s\" is not valid "
                    "and ignored\n", r->element[i]->str,
                    r->element[i + 1]->str);
        }
    }
    freeReplyObject(r);

    printf("calendar %s\ntz %s\n", name, cal.tz);
    for (k = 0; k < 7; k++) {
        d = (k + 1) % 7;                /* Monday first */
        printf("%s ", tk_calendar_days[d]);
        if (cal.nspans[d] == 0) {
            printf("-");
        }
        for (i = 0; i < (size_t) cal.nspans[d]; i++) {
            printf("%s%02d:%02d-%02d:%02d", i ? "," : "",
                   cal.spans[d][i].start / 60, cal.spans[d][i].start % 60,
                   cal.spans[d][i].end / 60, cal.spans[d][i].end % 60);
        }
        printf("\n");
    }
    printf("holidays");
    for (i = 0; i < cal.nholidays; i++) {
        printf(" %04d-%02d-%02d", cal.holidays[i] / 10000,
               cal.holidays[i] / 100 % 100, cal.holidays[i] % 100);
    }
    printf("\n");
    return EX_OK;
}


/* calendar set NAME FIELD VALUE  (tz Europe/Berlin, mon 09:00-17:00, ...) */
static int
tc_cal_set(tc_ctx_t *ctx, int argc, char **argv)
{
    tk_calendar_t  cal;
    redisReply    *r;
    tk_str_t       name;
    int            rc;

    if (argc != 4) {
        return tc_usage("calendar");
    }

    tc_str(&name, argv[1]);
    tk_calendar_default(&cal);
    if (!tk_valid_group(&name)) {
        return tc_fail(EX_DATAERR, "calendar set: \"%s\" is not a valid "
                       "name", argv[1]);
    }
    if (tk_calendar_set_field(&cal, argv[2], argv[3]) != 0) {
        return tc_fail(EX_DATAERR, "calendar set: %s \"%s\" is not valid "
                       "(tz: a zone like Europe/Berlin; sun..sat: "
                       "HH:MM-HH:MM[,...] or - ; holidays: YYYY-MM-DD ...)",
                       argv[2], argv[3]);
    }

    rc = tc_connect(ctx, 1);
    if (rc != EX_OK) {
        return rc;
    }

    r = tc_command(ctx, "HSET " TK_FMT_CALENDAR " %s %s", argv[1], argv[2],
                   argv[3]);
    if (r == NULL) {
        return EX_UNAVAILABLE;
    }
    freeReplyObject(r);
    return EX_OK;
}


/* calendar group GROUP NAME: the group's tickets follow that calendar */
static int
tc_cal_group(tc_ctx_t *ctx, int argc, char **argv)
{
    redisReply  *r;
    char         key[TK_KEY_MAX];
    int          rc;

    if (argc != 3) {
        return tc_usage("calendar");
    }

    rc = tc_connect(ctx, 1);
    if (rc != EX_OK) {
        return rc;
    }

    rc = tc_group_check(ctx, argv[1]);
    if (rc != EX_OK) {
        return rc;
    }

    snprintf(key, sizeof(key), TK_FMT_GROUP, argv[1]);
    r = tc_command(ctx, "HSET %s " TK_F_CALENDAR " %s", key, argv[2]);
    if (r == NULL) {
        return EX_UNAVAILABLE;
    }
    freeReplyObject(r);
    return EX_OK;
}
