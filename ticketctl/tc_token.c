/*
 * tc_token.c -- "ticketctl token": API tokens (bearer) of a user, shown
 * once when made, revoked by value.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ticketctl.h"


static int tc_token_add(tc_ctx_t *ctx, int argc, char **argv);
static int tc_token_revoke(tc_ctx_t *ctx, int argc, char **argv);


/* ---- token -------------------------------------------------------------- */

int
tc_cmd_token(tc_ctx_t *ctx, int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "add") == 0) {
        return tc_token_add(ctx, argc - 1, argv + 1);
    }

    if (argc == 3 && strcmp(argv[1], "revoke") == 0) {
        return tc_token_revoke(ctx, argc - 1, argv + 1);
    }

    return tc_usage("token");
}


static int
tc_token_add(tc_ctx_t *ctx, int argc, char **argv)
{
    tk_arena_t    arena;
    tk_cmds_t     cmds;
    const char   *login;
    char          token[2 * TC_TOKEN_BYTES + 1];
    char          key[TK_KEY_MAX], tokens[TK_KEY_MAX];
    int           rc, exists;

    login = argv[1];

    if ((rc = tc_check_login(login)) || (rc = tc_connect(ctx, 1))) {
        return rc;
    }

    exists = tc_user_exists(ctx, login);
    if (exists < 0) {
        return EX_UNAVAILABLE;
    }

    if (!exists) {
        return tc_fail(EX_DATAERR, "no user \"%s\"", login);
    }

    if (tc_random_hex(token, TC_TOKEN_BYTES) != 0) {
        return tc_fail(EX_OSERR, "getrandom failed");
    }

    snprintf(key, sizeof(key), TK_FMT_TOKEN, token);
    snprintf(tokens, sizeof(tokens), TK_FMT_USER_TOKENS, login);

    tk_arena_init(&arena);
    tk_cmds_init(&cmds, tk_arena_alloc, &arena);
    tk_cmds_multi(&cmds);
    tk_cmds_add(&cmds, "HSET %s " TK_F_LOGIN " %s " TK_F_CREATED " %lld",
                key, login, (long long) time(NULL));
    tk_cmds_add(&cmds, "SADD %s %s", tokens, token);
    tk_cmds_exec(&cmds);

    rc = tc_run(ctx, &cmds);
    tk_arena_reset(&arena);

    if (rc == EX_OK) {
        printf("%s\n", token);
    }

    return rc;
}


static int
tc_token_revoke(tc_ctx_t *ctx, int argc, char **argv)
{
    tk_arena_t    arena;
    tk_cmds_t     cmds;
    redisReply   *reply;
    const char   *token;
    char          key[TK_KEY_MAX], tokens[TK_KEY_MAX];
    char          login[TK_LOGIN_MAX + 1];
    size_t        i;
    int           rc;

    token = argv[1];

    for (i = 0; token[i]; i++) {
        if (!strchr("0123456789abcdef", token[i])) {
            break;
        }
    }

    if (i != 2 * TC_TOKEN_BYTES || token[i] != '\0') {
        return tc_fail(EX_DATAERR, "invalid token \"%s\": want %d hex "
                       "digits", token, 2 * TC_TOKEN_BYTES);
    }

    if ((rc = tc_connect(ctx, 1))) {
        return rc;
    }

    snprintf(key, sizeof(key), TK_FMT_TOKEN, token);

    reply = tc_command(ctx, "HGET %s " TK_F_LOGIN, key);
    if (reply == NULL) {
        return EX_UNAVAILABLE;
    }

    if (reply->type != REDIS_REPLY_STRING) {
        freeReplyObject(reply);
        return tc_fail(EX_DATAERR, "unknown token \"%s\"", token);
    }

    snprintf(tokens, sizeof(tokens), TK_FMT_USER_TOKENS, reply->str);
    snprintf(login, sizeof(login), "%s", reply->str);
    freeReplyObject(reply);

    tk_arena_init(&arena);
    tk_cmds_init(&cmds, tk_arena_alloc, &arena);
    tk_cmds_multi(&cmds);
    tk_cmds_add(&cmds, "DEL %s", key);
    tk_cmds_add(&cmds, "SREM %s %s", tokens, token);
    tk_cmds_exec(&cmds);

    rc = tc_run(ctx, &cmds);
    tk_arena_reset(&arena);

    if (rc == EX_OK) {
        printf("token of %s revoked\n", login);
    }

    return rc;
}
