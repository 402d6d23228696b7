/*
 * tc_group.c -- "ticketctl group": the groups (AGs) tickets belong to and
 * rights are given on; their writer and checks, which init, demo, gen
 * and "user" reuse.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ticketctl.h"
#include "tk_group.h"


/* "group add" / "group set": what was given (NULL: not given) */
typedef struct {
    const char  *name;
    const char  *email;
    const char  *display_name;
    const char  *signature;
    int          all_agents;         /* -1: not given */
    int          add;
} tc_group_change_t;


static int tc_group_add(tc_ctx_t *ctx, int argc, char **argv);
static int tc_group_set(tc_ctx_t *ctx, int argc, char **argv);
static int tc_group_options(tc_ctx_t *ctx, int argc, char **argv,
    int add);
static int tc_group_decide(void *data, redisReply **reads, size_t nreads,
    tk_cmds_t *writes);
static int tc_group_list(tc_ctx_t *ctx, int argc, char **argv);


static const tc_command_t  tc_group_commands[] = {
    { "add", tc_group_add },
    { "set", tc_group_set },
    { "list", tc_group_list },
    { NULL, NULL }
};


/* ---- shared writer and checks ------------------------------------------- */


/* The shared writer (redis-schema/tk_group.c) for C strings. */
void
tc_group_write(tk_cmds_t *c, const char *name, const char *email,
    const char *signature, int all_agents)
{
    tk_group_t  g;

    tc_str(&g.name, name);
    tc_str(&g.email, email ? email : "");
    tc_str(&g.display_name, "");
    tc_str(&g.signature, signature ? signature : "");
    g.all_agents = all_agents;

    tk_group_write(c, &g);
}


int
tc_group_exists(tc_ctx_t *ctx, const char *name)
{
    return tc_sismember(ctx, TK_KEY_GROUPS, name);
}


int
tc_rights_check(tc_ctx_t *ctx, const char *rights)
{
    char      *copy, *entry, *save, *colon;
    tk_str_t   g;
    int        rc, exists;

    copy = strdup(rights);
    if (copy == NULL) {
        return tc_fail(EX_OSERR, "out of memory");
    }

    rc = EX_OK;

    for (entry = strtok_r(copy, ",", &save); entry && rc == EX_OK;
         entry = strtok_r(NULL, ",", &save))
    {
        colon = strrchr(entry, ':');

        if (colon == NULL || tk_right_parse(colon + 1, strlen(colon + 1)) <= 0)
        {
            rc = tc_fail(EX_DATAERR, "invalid rights entry \"%s\": want "
                         "GROUP:read or GROUP:full", entry);
            break;
        }

        *colon = '\0';
        tc_str(&g, entry);

        if (!tk_valid_group(&g)) {
            rc = tc_fail(EX_DATAERR, "invalid group name \"%s\" in rights",
                         entry);
            break;
        }

        exists = tc_group_exists(ctx, entry);

        if (exists < 0) {
            rc = EX_UNAVAILABLE;

        } else if (exists == 0) {
            rc = tc_fail(EX_DATAERR, "unknown group \"%s\" in rights (see "
                         "\"ticketctl group list\")", entry);
        }
    }

    free(copy);

    return rc;
}


int
tc_group_check(tc_ctx_t *ctx, const char *name)
{
    int  exists;

    exists = tc_group_exists(ctx, name);

    if (exists <= 0) {
        return exists < 0 ? EX_UNAVAILABLE
                          : tc_fail(EX_DATAERR, "unknown group \"%s\"", name);
    }

    return EX_OK;
}


/* ---- group -------------------------------------------------------------- */

int
tc_cmd_group(tc_ctx_t *ctx, int argc, char **argv)
{
    return tc_subcommand(ctx, argc, argv, "group", tc_group_commands);
}


static int
tc_group_add(tc_ctx_t *ctx, int argc, char **argv)
{
    return tc_group_options(ctx, argc, argv, 1);
}


static int
tc_group_set(tc_ctx_t *ctx, int argc, char **argv)
{
    return tc_group_options(ctx, argc, argv, 0);
}


/*
 * Both subcommands: parse, check like the web form (/admin/groups), then
 * one WATCH tk:{g:NAME} transaction through tk_group_write(): "add" must
 * not overwrite a group made meanwhile, "set" keeps what it is not told
 * and must not bring back a group removed meanwhile.
 */
static int
tc_group_options(tc_ctx_t *ctx, int argc, char **argv, int add)
{
    static const struct option  opts[] = {
        { "email", required_argument, NULL, 'e' },
        { "display-name", required_argument, NULL, 'd' },
        { "signature", required_argument, NULL, 's' },
        { "all-agents", no_argument, NULL, 'a' },
        { "no-all-agents", no_argument, NULL, 'A' },
        { NULL, 0, NULL, 0 }
    };

    tc_group_change_t   ch;
    tk_arena_t          arena;
    tk_cmds_t           reads;
    tk_str_t            s, g;
    char                key[TK_KEY_MAX];
    const char         *keys[1];
    int                 c, rc;

    memset(&ch, 0, sizeof(ch));
    ch.all_agents = add ? 0 : -1;
    ch.add = add;
    optind = 0;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'e': ch.email = optarg; break;
        case 'd': ch.display_name = optarg; break;
        case 's': ch.signature = optarg; break;
        case 'a': ch.all_agents = 1; break;
        case 'A': ch.all_agents = 0; break;
        default: return tc_usage("group");
        }
    }

    if (optind != argc - 1) {
        tc_fail(EX_USAGE, "group %s needs exactly one NAME",
                add ? "add" : "set");
        return tc_usage("group");
    }

    ch.name = argv[optind];
    tc_str(&s, ch.name);

    if (!tk_valid_group(&s)) {
        return tc_fail(EX_DATAERR, "invalid group name \"%s\": 1 to %d "
                       "bytes, no blanks and none of : { } * ,", ch.name,
                       TK_GROUP_MAX);
    }

    if (ch.email && *ch.email && (rc = tc_check_email(ch.email))) {
        return rc;
    }

    tc_str(&s, ch.display_name ? ch.display_name : "");

    if (!tk_group_valid_display(&s)) {
        return tc_fail(EX_DATAERR, "invalid display name: one line, at "
                       "most %d bytes, no '\"'", TK_GROUP_DISPLAY_MAX);
    }

    tc_str(&s, ch.signature ? ch.signature : "");

    if (!tk_group_valid_signature(&s)) {
        return tc_fail(EX_DATAERR, "invalid signature: text of at most %d "
                       "bytes", TK_GROUP_SIGNATURE_MAX);
    }

    if ((rc = tc_connect(ctx, 1))) {
        return rc;
    }

    tc_str(&g, ch.name);
    tk_key_group(key, sizeof(key), &g);
    keys[0] = key;

    tk_arena_init(&arena);
    tk_cmds_init(&reads, tk_arena_alloc, &arena);
    tk_cmds_add(&reads, "HGETALL %s", key);

    rc = tk_redis_tx(&ctx->redis, keys, 1, &reads, tc_group_decide,
                     &ch, 5, NULL);
    tk_arena_reset(&arena);

    if (rc == TK_REDIS_ABORT) {
        return add ? tc_fail(EX_DATAERR, "group \"%s\" exists already",
                             ch.name)
                   : tc_fail(EX_DATAERR, "no group \"%s\" (see \"ticketctl "
                             "group list\")", ch.name);
    }

    if (rc != TK_REDIS_OK) {
        return tc_redis_fail(ctx, rc);
    }

    printf("group %s %s%s\n", ch.name, add ? "created" : "changed",
           ch.all_agents == 1 ? " (all agents)" : "");

    return EX_OK;
}


/* The stored group (for "set") with what was given on top. */
static int
tc_group_decide(void *data, redisReply **reads, size_t nreads,
    tk_cmds_t *writes)
{
    tc_group_change_t  *ch = data;
    tk_group_t          g;
    const char         *field, *value;
    size_t              i;
    int                 exists;

    exists = reads[0]->type == REDIS_REPLY_ARRAY && reads[0]->elements > 0;

    if (exists == ch->add) {
        return TK_REDIS_ABORT;
    }

    memset(&g, 0, sizeof(g));
    tc_str(&g.name, ch->name);
    tc_str(&g.email, "");
    tc_str(&g.display_name, "");
    tc_str(&g.signature, "");

    for (i = 0; exists && i + 1 < reads[0]->elements; i += 2) {
        field = reads[0]->element[i]->str;
        value = reads[0]->element[i + 1]->str;

        if (strcmp(field, TK_F_EMAIL) == 0) {
            tc_str(&g.email, value);

        } else if (strcmp(field, TK_F_DISPLAY_NAME) == 0) {
            tc_str(&g.display_name, value);

        } else if (strcmp(field, TK_F_SIGNATURE) == 0) {
            tc_str(&g.signature, value);

        } else if (strcmp(field, TK_F_ALL_AGENTS) == 0) {
            g.all_agents = strcmp(value, "1") == 0;
        }
    }

    if (ch->email) {
        tc_str(&g.email, ch->email);
    }

    if (ch->display_name) {
        tc_str(&g.display_name, ch->display_name);
    }

    if (ch->signature) {
        tc_str(&g.signature, ch->signature);
    }

    if (ch->all_agents >= 0) {
        g.all_agents = ch->all_agents;
    }

    tk_group_write(writes, &g);

    return writes->failed ? TK_REDIS_ABORT : 0;
}


/* open = states 1..5 of the "*" partitions in the counts hash */
static int
tc_group_list(tc_ctx_t *ctx, int argc, char **argv)
{
    tk_arena_t    arena;
    tk_cmds_t     cmds;
    redisReply   *set, **replies;
    char        **names;
    char          key[TK_KEY_MAX], field[TK_KEY_MAX];
    size_t        i, n;
    int           rc, s;
    long long     open, total, v;

    if (argc != 1) {
        return tc_usage("group");
    }

    if ((rc = tc_connect(ctx, 1))
        || (rc = tc_members_sorted(ctx, TK_KEY_GROUPS, &set, &names, &n)))
    {
        return rc;
    }

    tk_arena_init(&arena);
    tk_cmds_init(&cmds, tk_arena_alloc, &arena);

    for (i = 0; i < n; i++) {
        snprintf(key, sizeof(key), TK_FMT_GROUP, names[i]);
        tk_cmds_add(&cmds, "HMGET %s " TK_F_EMAIL " " TK_F_ALL_AGENTS, key);
        tk_cmds_add(&cmds, "HMGET " TK_KEY_INDEX_COUNTS
                    " %s:1:* %s:2:* %s:3:* %s:4:* %s:5:* %s:6:*", names[i],
                    names[i], names[i], names[i], names[i], names[i]);
    }

    replies = NULL;
    rc = n ? tk_redis_pipeline(&ctx->redis, &cmds, &replies) : TK_REDIS_OK;

    if (rc != TK_REDIS_OK) {
        rc = tc_redis_fail(ctx, rc);

    } else {
        printf("%-20s %-32s %-10s %8s %8s\n", "GROUP", "EMAIL", "ACCESS",
               "OPEN", "TOTAL");

        for (i = 0; i < n; i++) {
            open = total = 0;

            for (s = 0; s < 6; s++) {
                v = atoll(tc_reply_str(replies[2 * i + 1], (size_t) s));
                total += v;
                open += s < 5 ? v : 0;
            }

            snprintf(field, sizeof(field), "%s",
                     strcmp(tc_reply_str(replies[2 * i], 1), "1") == 0
                         ? "all agents" : "members");

            /* group names may hold umlauts ("Bündnis"): by width */
            tc_print_col(names[i], 20);
            tc_print_col(tc_reply_str(replies[2 * i], 0), 32);
            printf("%-10s %8lld %8lld\n", field, open, total);
        }

        rc = EX_OK;
    }

    tk_redis_replies_free(replies, 2 * n);
    tk_arena_reset(&arena);
    free(names);
    freeReplyObject(set);

    return rc;
}
