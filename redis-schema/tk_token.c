/*
 * tk_token.c -- API tokens: add and revoke (tk_token.h).  Tokens are no
 * part of any page the page cache keeps, so no generation bump; nor a
 * ticket change, so no change-feed entry.
 */

#include "tk_token.h"
#include "tk_schema.h"


void
tk_token_add(tk_cmds_t *c, const tk_str_t *token, const tk_str_t *login,
    const tk_str_t *label, int64_t now)
{
    tk_cmds_add(c, "HSET " TK_FMTS_TOKEN " " TK_F_LOGIN " %S " TK_F_CREATED
                " %lld " TK_F_LABEL " %S", token, login, (long long) now,
                label);
    tk_cmds_add(c, "SADD " TK_FMTS_USER_TOKENS " %S", login, token);
}


void
tk_token_revoke(tk_cmds_t *c, const tk_str_t *token, const tk_str_t *login)
{
    tk_cmds_add(c, "DEL " TK_FMTS_TOKEN, token);
    tk_cmds_add(c, "SREM " TK_FMTS_USER_TOKENS " %S", login, token);
}


int
tk_token_valid(const tk_str_t *token)
{
    size_t  i;

    if (token->len != 2 * TK_TOKEN_BYTES) {
        return 0;
    }

    for (i = 0; i < token->len; i++) {
        if (!((token->data[i] >= '0' && token->data[i] <= '9')
              || (token->data[i] >= 'a' && token->data[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}


int
tk_token_valid_label(const tk_str_t *label)
{
    size_t  i;

    if (label->len > TK_TOKEN_LABEL_MAX) {
        return 0;
    }

    for (i = 0; i < label->len; i++) {
        if (label->data[i] < 0x20 || label->data[i] == 0x7f) {
            return 0;
        }
    }

    return 1;
}
