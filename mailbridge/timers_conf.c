/*
 * timers_conf.c -- the SLA and calendar configuration of the timers
 * role, read from Redis at every wake-up (a few small hashes): tk:sla,
 * the groups' "calendar" fields and the calendars they name.  A value
 * tk_sla.c refuses is logged and left at its default, so one typo in
 * redis-cli does not stop every escalation.  The digest covers what was
 * parsed, not the raw replies (SMEMBERS has no order), so it changes
 * exactly when a due time may change.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mb_timers.h"


static int mb_conf_cmp(const void *a, const void *b);
static int mb_conf_calendar(mb_timers_conf_t *conf, const char *name,
    redisReply *hash);
static size_t mb_conf_cal_index(mb_timers_conf_t *conf, const char *name);
static void mb_conf_digest(mb_timers_conf_t *conf);


void
mb_timers_conf_free(mb_timers_conf_t *conf)
{
    size_t  i;

    for (i = 0; i < conf->ngroups; i++) {
        free(conf->groups[i].group);
    }
    for (i = 0; i < conf->ncals; i++) {
        free(conf->cal_names[i]);
    }
    free(conf->groups);
    free(conf->cals);
    free(conf->cal_names);
    memset(conf, 0, sizeof(mb_timers_conf_t));
}


int
mb_timers_conf_load(tk_redis_t *r, mb_timers_conf_t *conf)
{
    redisReply  *sla, *groups, **cals;
    tk_arena_t   arena;
    tk_cmds_t    c;
    size_t       i, n;
    int          rc = -1;

    mb_timers_conf_free(conf);
    tk_sla_default(&conf->sla);

    sla = tk_redis_command(r, "HGETALL %s", TK_KEY_SLA);
    groups = sla ? tk_redis_command(r, "SMEMBERS %s", TK_KEY_GROUPS) : NULL;
    if (groups == NULL || groups->type != REDIS_REPLY_ARRAY
        || sla->type != REDIS_REPLY_ARRAY)
    {
        goto done;
    }

    for (i = 0; i + 1 < sla->elements; i += 2) {
        if (tk_sla_set_field(&conf->sla, sla->element[i]->str,
                             sla->element[i + 1]->str) != 0)
        {
            mb_warn("timers: %s field \"%s\" = \"%s\" is not valid; "
                    "ignored", TK_KEY_SLA, sla->element[i]->str,
                    sla->element[i + 1]->str);
        }
    }

    n = groups->elements;
    conf->groups = calloc(n ? n : 1, sizeof(mb_timers_group_t));
    if (conf->groups == NULL) {
        goto done;
    }

    /* one round trip: every group's calendar name */
    tk_arena_init(&arena);
    tk_cmds_init(&c, tk_arena_alloc, &arena);
    for (i = 0; i < n; i++) {
        tk_cmds_add(&c, "HGET " TK_PFX_GROUP "%s} " TK_F_CALENDAR,
                    groups->element[i]->str);
    }

    cals = NULL;
    if (n && tk_redis_pipeline(r, &c, &cals) != TK_REDIS_OK) {
        tk_arena_reset(&arena);
        goto done;
    }

    rc = mb_conf_calendar(conf, TK_CALENDAR_DEFAULT, NULL);

    for (i = 0; rc == 0 && i < n; i++) {
        const char *name = cals[i]->type == REDIS_REPLY_STRING
                           && cals[i]->len ? cals[i]->str
                                           : TK_CALENDAR_DEFAULT;

        conf->groups[i].group = strdup(groups->element[i]->str);
        conf->ngroups++;
        if (conf->groups[i].group == NULL) {
            rc = -1;
            break;
        }

        conf->groups[i].cal = mb_conf_cal_index(conf, name);
        if (conf->groups[i].cal == (size_t) -1) {
            rc = mb_conf_calendar(conf, name, NULL);
            conf->groups[i].cal = conf->ncals - 1;
        }
    }

    if (cals) {
        tk_redis_replies_free(cals, n);
    }
    tk_arena_reset(&arena);

    if (rc == 0) {
        for (i = 0; i < conf->ncals; i++) {
            redisReply *h = tk_redis_command(r, "HGETALL " TK_FMT_CALENDAR,
                                             conf->cal_names[i]);
            if (h == NULL) {
                rc = -1;
                break;
            }
            mb_conf_calendar(conf, NULL, h);
            /* mb_conf_calendar(NULL, h) parses into the last slot only:
             * move the parsed one to slot i */
            conf->cals[i] = conf->cals[conf->ncals];
            freeReplyObject(h);
        }
    }

    if (rc == 0) {
        qsort(conf->groups, conf->ngroups, sizeof(mb_timers_group_t),
              mb_conf_cmp);
        mb_conf_digest(conf);
    }

done:
    if (sla) {
        freeReplyObject(sla);
    }
    if (groups) {
        freeReplyObject(groups);
    }
    return rc;
}


/*
 * name != NULL: append a calendar slot with the defaults (and one spare
 * slot behind it); name == NULL: parse hash into the spare slot.
 */
static int
mb_conf_calendar(mb_timers_conf_t *conf, const char *name, redisReply *hash)
{
    tk_calendar_t  *cals, *cal;
    char          **names;
    size_t          i;

    if (name) {
        cals = realloc(conf->cals, (conf->ncals + 2) * sizeof(tk_calendar_t));
        if (cals == NULL) {
            return -1;
        }
        conf->cals = cals;
        names = realloc(conf->cal_names, (conf->ncals + 1) * sizeof(char *));
        if (names == NULL) {
            return -1;
        }
        conf->cal_names = names;
        names[conf->ncals] = strdup(name);
        if (names[conf->ncals] == NULL) {
            return -1;
        }
        tk_calendar_default(&cals[conf->ncals]);
        conf->ncals++;
        return 0;
    }

    cal = &conf->cals[conf->ncals];
    tk_calendar_default(cal);

    for (i = 0; hash->type == REDIS_REPLY_ARRAY && i + 1 < hash->elements;
         i += 2)
    {
        if (tk_calendar_set_field(cal, hash->element[i]->str,
                                  hash->element[i + 1]->str) != 0)
        {
            mb_warn("timers: calendar field \"%s\" = \"%s\" is not valid; "
                    "ignored", hash->element[i]->str,
                    hash->element[i + 1]->str);
        }
    }

    return 0;
}


static size_t
mb_conf_cal_index(mb_timers_conf_t *conf, const char *name)
{
    size_t  i;

    for (i = 0; i < conf->ncals; i++) {
        if (strcmp(conf->cal_names[i], name) == 0) {
            return i;
        }
    }

    return (size_t) -1;
}


static int
mb_conf_cmp(const void *a, const void *b)
{
    return strcmp(((const mb_timers_group_t *) a)->group,
                  ((const mb_timers_group_t *) b)->group);
}


/* FNV-1a over the parsed structs (zero-filled, so bytes are stable) */
static void
mb_conf_hash(uint64_t *h, const void *p, size_t n)
{
    const unsigned char  *b = p;
    size_t                i;

    for (i = 0; i < n; i++) {
        *h = (*h ^ b[i]) * 1099511628211ULL;
    }
}


/* field by field: a struct copy need not copy the padding */
static void
mb_conf_hash_cal(uint64_t *h, const tk_calendar_t *cal)
{
    int  d;

    mb_conf_hash(h, cal->tz, strlen(cal->tz) + 1);
    for (d = 0; d < 7; d++) {
        mb_conf_hash(h, &cal->nspans[d], sizeof(int));
        mb_conf_hash(h, cal->spans[d],
                     (size_t) cal->nspans[d] * sizeof(tk_cal_span_t));
    }
    mb_conf_hash(h, &cal->nholidays, sizeof(size_t));
    mb_conf_hash(h, cal->holidays, cal->nholidays * sizeof(int32_t));
}


static void
mb_conf_digest(mb_timers_conf_t *conf)
{
    uint64_t  h = 1469598103934665603ULL;
    size_t    i;

    mb_conf_hash(&h, &conf->sla, sizeof(tk_sla_t));
    mb_conf_hash_cal(&h, &conf->cals[0]);

    for (i = 0; i < conf->ngroups; i++) {
        mb_conf_hash(&h, conf->groups[i].group,
                     strlen(conf->groups[i].group) + 1);
        mb_conf_hash_cal(&h, &conf->cals[conf->groups[i].cal]);
    }

    snprintf(conf->digest, sizeof(conf->digest), MB_TIMERS_DUE_FORMAT
             "%016llx", (unsigned long long) h);
}


const tk_calendar_t *
mb_timers_calendar(const mb_timers_conf_t *conf, const tk_str_t *group)
{
    size_t  lo = 0, hi = conf->ngroups, mid;
    int     c;

    while (lo < hi) {
        mid = (lo + hi) / 2;
        c = strncmp(conf->groups[mid].group, (const char *) group->data,
                    group->len);
        if (c == 0 && conf->groups[mid].group[group->len] != '\0') {
            c = 1;
        }
        if (c == 0) {
            return &conf->cals[conf->groups[mid].cal];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    return &conf->cals[0];
}
