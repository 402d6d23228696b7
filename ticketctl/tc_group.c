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


static int tc_group_add(tc_ctx_t *ctx, int argc, char **argv);
static int tc_group_list(tc_ctx_t *ctx, int argc, char **argv);


static const tc_command_t  tc_group_commands[] = {
    { "add", tc_group_add },
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
    static const struct option  opts[] = {
        { "email", required_argument, NULL, 'e' },
        { "signature", required_argument, NULL, 's' },
        { "all-agents", no_argument, NULL, 'a' },
        { NULL, 0, NULL, 0 }
    };

    tk_arena_t   arena;
    tk_cmds_t    cmds;
    tk_str_t     g;
    const char  *name, *email, *signature;
    int          c, rc, all, exists;

    email = "";
    signature = "";
    all = 0;
    optind = 0;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'e': email = optarg; break;
        case 's': signature = optarg; break;
        case 'a': all = 1; break;
        default: return tc_usage("group");
        }
    }

    if (optind != argc - 1) {
        tc_fail(EX_USAGE, "group add needs exactly one NAME");
        return tc_usage("group");
    }

    name = argv[optind];
    tc_str(&g, name);

    if (!tk_valid_group(&g)) {
        return tc_fail(EX_DATAERR, "invalid group name \"%s\": 1 to %d "
                       "bytes, no blanks and none of : { } * ,", name,
                       TK_GROUP_MAX);
    }

    if (*email && (rc = tc_check_email(email))) {
        return rc;
    }

    if ((rc = tc_connect(ctx, 1))) {
        return rc;
    }

    exists = tc_group_exists(ctx, name);
    if (exists < 0) {
        return EX_UNAVAILABLE;
    }

    if (exists) {
        return tc_fail(EX_DATAERR, "group \"%s\" exists already", name);
    }

    tk_arena_init(&arena);
    tk_cmds_init(&cmds, tk_arena_alloc, &arena);
    tk_cmds_multi(&cmds);
    tc_group_write(&cmds, name, email, signature, all);
    tk_cmds_exec(&cmds);

    rc = tc_run(ctx, &cmds);
    tk_arena_reset(&arena);

    if (rc == EX_OK) {
        printf("group %s created%s\n", name, all ? " (all agents)" : "");
    }

    return rc;
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
