/*
 * tc_trigger.c -- "ticketctl trigger": the admin's trigger rules
 * (SCHEMA.md "Triggers", docs/user-guide.md "Triggers").  Every rule is
 * checked and compiled with tk_trigger_load() -- the code mailbridge
 * runs -- before it is saved, so an invalid pattern is refused here
 * with PCRE2's message and offset and never reaches the feed role.
 * Every change INCRs tk:triggers:gen in its MULTI: mailbridge
 * recompiles on the next entry.  Plus the shipped default rule that
 * init creates once.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ticketctl.h"
#include "tk_trigger.h"


#define TC_TRG_FIELDS  24

/* the rule's fields as given on the command line ("" clears) */
typedef struct {
    const char  *field[TC_TRG_FIELDS];
    const char  *value[TC_TRG_FIELDS];
    int          n;
    long         order;         /* -1: keep / default */
} tc_trg_args_t;


static int tc_trigger_add(tc_ctx_t *ctx, int argc, char **argv);
static int tc_trigger_set(tc_ctx_t *ctx, int argc, char **argv);
static int tc_trigger_list(tc_ctx_t *ctx, int argc, char **argv);
static int tc_trigger_del(tc_ctx_t *ctx, int argc, char **argv);
static int tc_trigger_test(tc_ctx_t *ctx, int argc, char **argv);
static int tc_trigger_args(int argc, char **argv, tc_trg_args_t *a);
static int tc_trigger_resolve(tc_ctx_t *ctx, const char *ref, char *id,
    size_t size);
static int tc_trigger_save(tc_ctx_t *ctx, const char *id, redisReply *old,
    const tc_trg_args_t *a, int creating);
static int tc_trigger_error(const char *name, const char *re,
    const tk_trigger_error_t *err);


static const tc_command_t  tc_trigger_commands[] = {
    { "add", tc_trigger_add },
    { "set", tc_trigger_set },
    { "list", tc_trigger_list },
    { "del", tc_trigger_del },
    { "test", tc_trigger_test },
    { NULL, NULL }
};

/* option -> field; has_arg always */
static const struct option  tc_trigger_options[] = {
    { "name", required_argument, NULL, 0 },
    { "active", required_argument, NULL, 0 },
    { "on", required_argument, NULL, 0 },
    { "subject", required_argument, NULL, 0 },
    { "body", required_argument, NULL, 0 },
    { "from", required_argument, NULL, 0 },
    { "group", required_argument, NULL, 0 },
    { "priority", required_argument, NULL, 0 },
    { "state", required_argument, NULL, 0 },
    { "auto", required_argument, NULL, 0 },
    { "icase", required_argument, NULL, 0 },
    { "set-priority", required_argument, NULL, 0 },
    { "set-group", required_argument, NULL, 0 },
    { "set-owner", required_argument, NULL, 0 },
    { "set-state", required_argument, NULL, 0 },
    { "notify", required_argument, NULL, 0 },
    { "note", required_argument, NULL, 0 },
    { "set-tags", required_argument, NULL, 0 },
    { "order", required_argument, NULL, 0 },
    { NULL, 0, NULL, 0 }
};

static const char *const  tc_trigger_fields[] = {
    TK_F_TRG_NAME, TK_F_TRG_ACTIVE, TK_F_TRG_ON, TK_F_TRG_SUBJECT,
    TK_F_TRG_BODY, TK_F_TRG_FROM, TK_F_TRG_GROUP, TK_F_TRG_PRIORITY,
    TK_F_TRG_STATE, TK_F_TRG_AUTO, TK_F_TRG_ICASE, TK_F_TRG_SET_PRIORITY,
    TK_F_TRG_SET_GROUP, TK_F_TRG_SET_OWNER, TK_F_TRG_SET_STATE,
    TK_F_TRG_NOTIFY, TK_F_TRG_NOTE, TK_F_TRG_SET_TAGS, NULL
};


int
tc_cmd_trigger(tc_ctx_t *ctx, int argc, char **argv)
{
    return tc_subcommand(ctx, argc, argv, "trigger", tc_trigger_commands);
}


/*
 * The shipped default (FAQ: "Gibt es ein neues Ticket mit bestimmten
 * Wörtern im Betreff (z. B. dringend oder eilt), wird die Priorität ...
 * auf 4 - DRINGEND! gesetzt"): once per Redis, tk:triggers:seeded
 * remembers it, so an admin's changes -- or its deletion -- stay.
 */
int
tc_trigger_seed(tc_ctx_t *ctx, int verbose)
{
    tc_trg_args_t  a;
    redisReply    *r;
    char           id[32];
    int            rc;

    r = tc_command(ctx, "SET " TK_KEY_TRIGGERS_SEEDED " 1 NX");
    if (r == NULL) {
        return EX_UNAVAILABLE;
    }
    rc = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    if (!rc) {
        return EX_OK;
    }

    r = tc_command(ctx, "INCR " TK_KEY_SEQ_TRIGGER);
    if (r == NULL) {
        return EX_UNAVAILABLE;
    }
    snprintf(id, sizeof(id), "%lld", r->integer);
    freeReplyObject(r);

    memset(&a, 0, sizeof(a));
    a.order = -1;
    a.field[a.n] = TK_F_TRG_NAME;     a.value[a.n++] = TK_TRIGGER_DEFAULT_NAME;
    a.field[a.n] = TK_F_TRG_ON;       a.value[a.n++] = "create";
    a.field[a.n] = TK_F_TRG_SUBJECT;  a.value[a.n++] =
                                          TK_TRIGGER_DEFAULT_SUBJECT;
    a.field[a.n] = TK_F_TRG_ICASE;    a.value[a.n++] = "1";
    a.field[a.n] = TK_F_TRG_SET_PRIORITY; a.value[a.n++] = "urgent";
    /* nobody is told until an admin says who (docs/user-guide.md) */
    a.field[a.n] = TK_F_TRG_NOTIFY;   a.value[a.n++] = "";

    rc = tc_trigger_save(ctx, id, NULL, &a, 1);
    if (rc == EX_OK && verbose) {
        printf("default trigger #%s \"%s\" created (%s)\n", id,
               TK_TRIGGER_DEFAULT_NAME, TK_KEY_TRIGGERS);
    }
    return rc;
}


static int
tc_trigger_add(tc_ctx_t *ctx, int argc, char **argv)
{
    tc_trg_args_t  a;
    redisReply    *r;
    char           id[32];
    int            rc;

    if (argc < 2 || argv[1][0] == '-') {
        tc_fail(EX_USAGE, "trigger add needs a NAME");
        return tc_usage("trigger");
    }

    rc = tc_trigger_args(argc - 1, argv + 1, &a);
    if (rc != EX_OK) {
        return rc;
    }
    a.field[a.n] = TK_F_TRG_NAME;
    a.value[a.n++] = argv[1];

    rc = tc_connect(ctx, 1);
    if (rc != EX_OK) {
        return rc;
    }

    if (tc_trigger_resolve(ctx, argv[1], id, sizeof(id)) == EX_OK) {
        return tc_fail(EX_DATAERR, "a trigger named \"%s\" exists already "
                       "(#%s)", argv[1], id);
    }

    /* checked before an id is taken: a refused rule leaves no trace */
    rc = tc_trigger_save(ctx, NULL, NULL, &a, 1);
    if (rc != EX_OK) {
        return rc;
    }

    r = tc_command(ctx, "INCR " TK_KEY_SEQ_TRIGGER);
    if (r == NULL) {
        return EX_UNAVAILABLE;
    }
    snprintf(id, sizeof(id), "%lld", r->integer);
    freeReplyObject(r);

    rc = tc_trigger_save(ctx, id, NULL, &a, 1);
    if (rc == EX_OK) {
        printf("trigger #%s \"%s\" added\n", id, argv[1]);
    }
    return rc;
}


static int
tc_trigger_set(tc_ctx_t *ctx, int argc, char **argv)
{
    tc_trg_args_t  a;
    redisReply    *old;
    char           id[32];
    int            rc;

    if (argc < 2 || argv[1][0] == '-') {
        tc_fail(EX_USAGE, "trigger set needs an ID or NAME");
        return tc_usage("trigger");
    }

    rc = tc_trigger_args(argc - 1, argv + 1, &a);
    if (rc != EX_OK) {
        return rc;
    }

    rc = tc_connect(ctx, 1);
    if (rc == EX_OK) {
        rc = tc_trigger_resolve(ctx, argv[1], id, sizeof(id));
    }
    if (rc != EX_OK) {
        return rc;
    }

    old = tc_command(ctx, "HGETALL " TK_FMT_TRIGGER, id);
    if (old == NULL) {
        return EX_UNAVAILABLE;
    }

    rc = tc_trigger_save(ctx, id, old, &a, 0);
    freeReplyObject(old);
    if (rc == EX_OK) {
        printf("trigger #%s changed\n", id);
    }
    return rc;
}


/*
 * Merge old (HGETALL, may be NULL) and the new fields, check the rule
 * with the code mailbridge compiles it with, then (id != NULL) write
 * it: HSET/HDEL, ZADD order, INCR gen, in one MULTI.
 */
static int
tc_trigger_save(tc_ctx_t *ctx, const char *id, redisReply *old,
    const tc_trg_args_t *a, int creating)
{
    tk_str_t            pairs[2 * TC_TRG_FIELDS];
    const char         *val[TC_TRG_FIELDS];
    tk_trigger_t        t;
    tk_trigger_error_t  err;
    tk_cmds_t           c;
    tk_arena_t          arena;
    size_t              i, n;
    int                 k, j, rc;
    const char         *name = NULL, *set_group = NULL;

    for (k = 0; tc_trigger_fields[k]; k++) {
        val[k] = NULL;
        for (i = 0; old && i + 1 < old->elements; i += 2) {
            if (strcmp(old->element[i]->str, tc_trigger_fields[k]) == 0) {
                val[k] = old->element[i + 1]->str;
            }
        }
        for (j = 0; j < a->n; j++) {
            if (strcmp(a->field[j], tc_trigger_fields[k]) == 0) {
                val[k] = a->value[j];
            }
        }
    }

    for (k = 0, n = 0; tc_trigger_fields[k]; k++) {
        if (val[k] && val[k][0]) {
            pairs[2 * n].data = (unsigned char *) tc_trigger_fields[k];
            pairs[2 * n].len = strlen(tc_trigger_fields[k]);
            pairs[2 * n + 1].data = (unsigned char *) val[k];
            pairs[2 * n + 1].len = strlen(val[k]);
            n++;
            if (strcmp(tc_trigger_fields[k], TK_F_TRG_NAME) == 0) {
                name = val[k];
            } else if (strcmp(tc_trigger_fields[k], TK_F_TRG_SET_GROUP)
                       == 0)
            {
                set_group = val[k];
            }
        }
    }

    if (tk_trigger_load(&t, id ? id : "new", pairs, n, &err) != 0) {
        rc = tc_trigger_error(name, err.offset >= 0 ? (err.field[0] == 's'
                              ? t.re[TK_TRIGGER_RE_SUBJECT]
                              : err.field[0] == 'b' ? t.re[TK_TRIGGER_RE_BODY]
                              : t.re[TK_TRIGGER_RE_FROM]) : NULL, &err);
        tk_trigger_free(&t);
        return rc;
    }
    tk_trigger_free(&t);

    if (set_group && tc_group_exists(ctx, set_group) != 1) {
        return tc_fail(EX_DATAERR, "trigger \"%s\": set_group: no group "
                       "\"%s\" (ticketctl group list)", name, set_group);
    }

    if (id == NULL) {
        return EX_OK;                   /* checked only */
    }

    tk_arena_init(&arena);
    tk_cmds_init(&c, tk_arena_alloc, &arena);
    tk_cmds_multi(&c);
    for (k = 0; tc_trigger_fields[k]; k++) {
        if (val[k] && val[k][0]) {
            tk_cmds_add(&c, "HSET " TK_FMT_TRIGGER " %s %s", id,
                        tc_trigger_fields[k], val[k]);
        } else if (!creating) {
            tk_cmds_add(&c, "HDEL " TK_FMT_TRIGGER " %s", id,
                        tc_trigger_fields[k]);
        }
    }
    if (a->order >= 0) {
        tk_cmds_add(&c, "ZADD " TK_KEY_TRIGGERS " %ld %s", a->order, id);
    } else {
        /* a new rule goes last (ids grow); an old one keeps its place */
        tk_cmds_add(&c, "ZADD " TK_KEY_TRIGGERS " NX %s %s", id, id);
    }
    tk_cmds_add(&c, "INCR " TK_KEY_TRIGGERS_GEN);
    tk_cmds_exec(&c);

    rc = tc_run(ctx, &c);
    tk_arena_reset(&arena);
    return rc;
}


/* "trigger "x": subject: missing closing parenthesis at offset 8",
 * and the pattern with a caret under the offset */
static int
tc_trigger_error(const char *name, const char *re,
    const tk_trigger_error_t *err)
{
    if (err->offset < 0) {
        return tc_fail(EX_DATAERR, "trigger \"%s\": %s: %s",
                       name ? name : "", err->field ? err->field : "rule",
                       err->message);
    }

    tc_fail(EX_DATAERR, "trigger \"%s\": %s: invalid pattern: %s at offset "
            "%ld", name ? name : "", err->field, err->message, err->offset);
    if (re) {
        fprintf(stderr, "  %s\n  %*s^\n", re, (int) err->offset, "");
    }
    return EX_DATAERR;
}


static int
tc_trigger_args(int argc, char **argv, tc_trg_args_t *a)
{
    int   opt, idx;
    char *end;

    memset(a, 0, sizeof(*a));
    a->order = -1;
    optind = 1;

    while ((opt = getopt_long(argc, argv, "", tc_trigger_options, &idx))
           != -1)
    {
        if (opt != 0) {
            return tc_usage("trigger");
        }
        if (strcmp(tc_trigger_options[idx].name, "order") == 0) {
            a->order = strtol(optarg, &end, 10);
            if (*end || a->order < 0) {
                return tc_fail(EX_USAGE, "--order: a number >= 0");
            }
            continue;
        }
        if (a->n + 1 >= TC_TRG_FIELDS) {
            return tc_fail(EX_USAGE, "too many options");
        }
        /* the option's name is the field's with '_' for '-' */
        a->field[a->n] = tc_trigger_fields[idx];
        a->value[a->n++] = optarg;
    }

    if (optind < argc) {
        tc_fail(EX_USAGE, "unexpected argument \"%s\"", argv[optind]);
        return tc_usage("trigger");
    }
    return EX_OK;
}


/* An id ("3") or a name ("dringend") to the id; EX_DATAERR: none. */
static int
tc_trigger_resolve(tc_ctx_t *ctx, const char *ref, char *id, size_t size)
{
    redisReply  *ids, *name;
    size_t       i;
    int          rc = EX_DATAERR;

    ids = tc_command(ctx, "ZRANGE " TK_KEY_TRIGGERS " 0 -1");
    if (ids == NULL) {
        return EX_UNAVAILABLE;
    }

    for (i = 0; i < ids->elements && rc != EX_OK; i++) {
        if (strcmp(ids->element[i]->str, ref) == 0) {
            rc = EX_OK;
        } else {
            name = tc_command(ctx, "HGET " TK_FMT_TRIGGER " " TK_F_TRG_NAME,
                              ids->element[i]->str);
            if (name && name->type == REDIS_REPLY_STRING
                && strcmp(name->str, ref) == 0)
            {
                rc = EX_OK;
            }
            if (name) {
                freeReplyObject(name);
            }
        }
        if (rc == EX_OK) {
            snprintf(id, size, "%s", ids->element[i]->str);
        }
    }

    freeReplyObject(ids);
    return rc;
}


static int
tc_trigger_del(tc_ctx_t *ctx, int argc, char **argv)
{
    char         id[32];
    tk_cmds_t    c;
    tk_arena_t   arena;
    int          rc;

    if (argc != 2) {
        tc_fail(EX_USAGE, "trigger del needs an ID or NAME");
        return tc_usage("trigger");
    }

    rc = tc_connect(ctx, 1);
    if (rc == EX_OK) {
        rc = tc_trigger_resolve(ctx, argv[1], id, sizeof(id));
        if (rc == EX_DATAERR) {
            tc_fail(rc, "no trigger \"%s\" (ticketctl trigger list)",
                    argv[1]);
        }
    }
    if (rc != EX_OK) {
        return rc;
    }

    tk_arena_init(&arena);
    tk_cmds_init(&c, tk_arena_alloc, &arena);
    tk_cmds_multi(&c);
    tk_cmds_add(&c, "DEL " TK_FMT_TRIGGER, id);
    tk_cmds_add(&c, "ZREM " TK_KEY_TRIGGERS " %s", id);
    tk_cmds_add(&c, "INCR " TK_KEY_TRIGGERS_GEN);
    tk_cmds_exec(&c);
    rc = tc_run(ctx, &c);
    tk_arena_reset(&arena);

    if (rc == EX_OK) {
        printf("trigger #%s deleted\n", id);
    }
    return rc;
}


/* Each rule in evaluation order, one field a line. */
static int
tc_trigger_list(tc_ctx_t *ctx, int argc, char **argv)
{
    redisReply  *ids, *h;
    size_t       i, j;
    int          rc, k;

    rc = tc_connect(ctx, 1);
    if (rc != EX_OK) {
        return rc;
    }

    ids = tc_command(ctx, "ZRANGE " TK_KEY_TRIGGERS " 0 -1 WITHSCORES");
    if (ids == NULL) {
        return EX_UNAVAILABLE;
    }

    for (i = 0; i + 1 < ids->elements; i += 2) {
        h = tc_command(ctx, "HGETALL " TK_FMT_TRIGGER, ids->element[i]->str);
        if (h == NULL) {
            freeReplyObject(ids);
            return EX_UNAVAILABLE;
        }
        printf("#%s (order %s)\n", ids->element[i]->str,
               ids->element[i + 1]->str);
        for (k = 0; tc_trigger_fields[k]; k++) {
            for (j = 0; j + 1 < h->elements; j += 2) {
                if (strcmp(h->element[j]->str, tc_trigger_fields[k]) == 0) {
                    printf("    %-13s %s\n", tc_trigger_fields[k],
                           h->element[j + 1]->str);
                }
            }
        }
        freeReplyObject(h);
    }

    if (ids->elements == 0) {
        printf("no triggers\n");
    }
    freeReplyObject(ids);
    return EX_OK;
}


/*
 * "trigger test --subject S [--body B] [--from F] [--group G]
 * [--priority P] [--state S] [--auto 0|1] [--on create|update]": which
 * rules would fire, matched by the same code as mailbridge.  Exit 0
 * when one does, 1 when none (like grep).
 */
static int
tc_trigger_test(tc_ctx_t *ctx, int argc, char **argv)
{
    tc_trg_args_t       a;
    tk_trigger_input_t  in;
    tk_trigger_t        t;
    tk_trigger_error_t  err;
    tk_str_t           *pairs;
    redisReply         *ids, *h;
    unsigned            on = TK_TRIGGER_ON_CREATE;
    void               *md;
    size_t              i, j;
    int                 rc, k, hits = 0;

    rc = tc_trigger_args(argc, argv, &a);
    if (rc != EX_OK) {
        return rc;
    }

    memset(&in, 0, sizeof(in));
    in.priority = TK_PRIO_NORMAL;
    in.state = TK_STATE_NEW;
    for (k = 0; k < a.n; k++) {
        const char  *f = a.field[k], *v = a.value[k];
        tk_str_t    *s = NULL;

        if (strcmp(f, TK_F_TRG_SUBJECT) == 0) {
            s = &in.subject;
        } else if (strcmp(f, TK_F_TRG_BODY) == 0) {
            s = &in.body;
        } else if (strcmp(f, TK_F_TRG_FROM) == 0) {
            s = &in.from;
        } else if (strcmp(f, TK_F_TRG_GROUP) == 0) {
            s = &in.group;
        } else if (strcmp(f, TK_F_TRG_PRIORITY) == 0) {
            in.priority = tk_prio_parse(v, strlen(v));
        } else if (strcmp(f, TK_F_TRG_STATE) == 0) {
            in.state = tk_state_parse(v, strlen(v));
        } else if (strcmp(f, TK_F_TRG_AUTO) == 0) {
            in.autogen = v[0] == '1';
        } else if (strcmp(f, TK_F_TRG_ON) == 0) {
            on = tk_trigger_on_parse(v);
        }
        if (s) {
            tc_str(s, v);
        }
    }
    if (in.priority == 0 || in.state == 0 || on == 0 || on == 3) {
        return tc_fail(EX_USAGE, "trigger test: bad --priority, --state "
                       "or --on (create | update)");
    }

    rc = tc_connect(ctx, 1);
    if (rc != EX_OK) {
        return rc;
    }

    ids = tc_command(ctx, "ZRANGE " TK_KEY_TRIGGERS " 0 -1");
    md = tk_trigger_match_data();
    if (ids == NULL || md == NULL) {
        return EX_UNAVAILABLE;
    }

    for (i = 0; i < ids->elements; i++) {
        h = tc_command(ctx, "HGETALL " TK_FMT_TRIGGER, ids->element[i]->str);
        if (h == NULL) {
            break;
        }
        memset(&t, 0, sizeof(t));
        memset(&err, 0, sizeof(err));
        pairs = calloc(h->elements + 1, sizeof(tk_str_t));
        for (j = 0; pairs && j < h->elements; j++) {
            pairs[j].data = (unsigned char *) h->element[j]->str;
            pairs[j].len = h->element[j]->len;
        }
        if (pairs && tk_trigger_load(&t, ids->element[i]->str, pairs,
                                     h->elements / 2, &err) == 0)
        {
            if (tk_trigger_match(&t, on, &in, md)) {
                printf("match: #%s %s\n", t.id, t.name);
                hits++;
            }
        } else {
            printf("invalid: #%s: %s: %s\n", ids->element[i]->str,
                   err.field ? err.field : "rule", err.message);
        }
        tk_trigger_free(&t);
        free(pairs);
        freeReplyObject(h);
    }

    tk_trigger_match_data_free(md);
    freeReplyObject(ids);

    if (hits == 0) {
        printf("no rule matches\n");
    }
    return hits ? EX_OK : 1;
}
