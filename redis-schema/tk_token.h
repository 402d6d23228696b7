/*
 * tk_token.h -- API tokens (Authorization: Bearer), the one write path
 * for ticketctl ("token add/list/revoke") and the module's profile page
 * (its "API tokens" section).  A token is 32 random bytes in hex; its
 * hash tk:{k:TOKEN} names the user, and the user's set
 * tk:{u:LOGIN}:tokens lists them, so they can be listed and revoked.
 * A revoked token's hash is gone: the next request with it is a 401.
 * The caller wraps the commands in MULTI/EXEC.
 */

#ifndef TK_TOKEN_H
#define TK_TOKEN_H

#include <stdint.h>

#include "tk_cmd.h"
#include "tk_str.h"

#define TK_TOKEN_BYTES      32             /* 64 hex digits */
#define TK_TOKEN_LABEL_MAX  64             /* bytes */
#define TK_TOKEN_SHOWN      8              /* hex digits a list shows */

void tk_token_add(tk_cmds_t *c, const tk_str_t *token, const tk_str_t *login,
    const tk_str_t *label, int64_t now);
void tk_token_revoke(tk_cmds_t *c, const tk_str_t *token,
    const tk_str_t *login);

/* 1: 64 lower-case hex digits. */
int tk_token_valid(const tk_str_t *token);
/* 1: at most TK_TOKEN_LABEL_MAX bytes, no control characters. */
int tk_token_valid_label(const tk_str_t *label);

#endif /* TK_TOKEN_H */
