/*
 * tc_token.c -- "ticketctl token": API tokens (bearer) of a user, shown
 * once when made, listed by their first digits, revoked by value; the
 * writes are tk_token.c's, as the profile page's.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ticketctl.h"
#include "tk_token.h"


static int tc_token_add(tc_ctx_t *ctx, int argc, char **argv);
static int tc_token_revoke(tc_ctx_t *ctx, int argc, char **argv);
static int tc_token_list(tc_ctx_t *ctx, int argc, char **argv);


/* ---- token -------------------------------------------------------------- */

int
tc_cmd_token(tc_ctx_t *ctx, int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "add") == 0) {
        return tc_token_add(ctx, argc - 1, argv + 1);
    }

    if (argc == 3 && strcmp(argv[1], "list") == 0) {
        return tc_token_list(ctx, argc - 1, argv + 1);
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
    int           rc, exists;
    tk_str_t      tk_tok, tk_login, label;

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

    tk_tok.data = (unsigned char *) token;
    tk_tok.len = strlen(token);
    tk_login.data = (unsigned char *) login;
    tk_login.len = strlen(login);
    label.data = (unsigned char *) "ticketctl";
    label.len = sizeof("ticketctl") - 1;

    tk_arena_init(&arena);
    tk_cmds_init(&cmds, tk_arena_alloc, &arena);
    tk_cmds_multi(&cmds);
    tk_token_add(&cmds, &tk_tok, &tk_login, &label, (int64_t) time(NULL));
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
    char          key[TK_KEY_MAX];
    char          login[TK_LOGIN_MAX + 1];
    tk_str_t      tk_tok, tk_login;
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

    snprintf(login, sizeof(login), "%s", reply->str);
    freeReplyObject(reply);

    tk_arena_init(&arena);
    tk_cmds_init(&cmds, tk_arena_alloc, &arena);
    tk_tok.data = (unsigned char *) token;
    tk_tok.len = strlen(token);
    tk_login.data = (unsigned char *) login;
    tk_login.len = strlen(login);

    tk_cmds_multi(&cmds);
    tk_token_revoke(&cmds, &tk_tok, &tk_login);
    tk_cmds_exec(&cmds);

    rc = tc_run(ctx, &cmds);
    tk_arena_reset(&arena);

    if (rc == EX_OK) {
        printf("token of %s revoked\n", login);
    }

    return rc;
}


/* "token list LOGIN": the first digits, when made, the label -- never a
 * whole token (it was shown once, when made). */
static int
tc_token_list(tc_ctx_t *ctx, int argc, char **argv)
{
    size_t       i;
    redisReply  *set, *h;
    char         tokens[TK_KEY_MAX], key[TK_KEY_MAX];
    int          rc;

    if ((rc = tc_check_login(argv[1])) || (rc = tc_connect(ctx, 0))) {
        return rc;
    }

    snprintf(tokens, sizeof(tokens), TK_FMT_USER_TOKENS, argv[1]);

    set = tc_command(ctx, "SMEMBERS %s", tokens);
    if (set == NULL) {
        return EX_UNAVAILABLE;
    }

    for (i = 0; set->type == REDIS_REPLY_ARRAY && i < set->elements; i++) {
        if (set->element[i]->type != REDIS_REPLY_STRING) {
            continue;
        }

        snprintf(key, sizeof(key), TK_FMT_TOKEN, set->element[i]->str);

        h = tc_command(ctx, "HMGET %s " TK_F_CREATED " " TK_F_LABEL, key);
        if (h == NULL) {
            freeReplyObject(set);
            return EX_UNAVAILABLE;
        }

        printf("%.*s...\t%s\t%s\n", TK_TOKEN_SHOWN, set->element[i]->str,
               h->type == REDIS_REPLY_ARRAY && h->elements == 2
               && h->element[0]->type == REDIS_REPLY_STRING
               ? h->element[0]->str : "-",
               h->type == REDIS_REPLY_ARRAY && h->elements == 2
               && h->element[1]->type == REDIS_REPLY_STRING
               ? h->element[1]->str : "");
        freeReplyObject(h);
    }

    freeReplyObject(set);

    return EX_OK;
}
