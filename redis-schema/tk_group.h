/*
 * tk_group.h -- the one writer of a group (tk:{g:NAME} and the group
 * sets), shared by "ticketctl group" and the module's /admin/groups, so
 * both keep tk:groups, tk:groups:all-agents and the page cache's
 * generation in step with the hash.  See SCHEMA.md "Users, groups ...".
 */

#ifndef TK_GROUP_H
#define TK_GROUP_H

#include "tk_cmd.h"
#include "tk_schema.h"
#include "tk_str.h"

typedef struct {
    tk_str_t     name;              /* tk_valid_group()                  */
    tk_str_t     email;             /* the group's address, may be ""    */
    tk_str_t     display_name;      /* From display name, may be ""      */
    tk_str_t     signature;         /* appended to replies, may be ""    */
    int          all_agents;        /* every agent has full rights       */
} tk_group_t;

/*
 * HSET the group's fields (not pgp_sign: mailbridge's key tooling owns
 * it), SADD tk:groups, SADD/SREM tk:groups:all-agents, tk_index_touch()
 * -- who sees which group is part of rendered pages.  Call inside MULTI.
 */
void tk_group_write(tk_cmds_t *c, const tk_group_t *g);

/* Limits the web form and ticketctl both check (bytes). */
#define TK_GROUP_DISPLAY_MAX    100
#define TK_GROUP_SIGNATURE_MAX  2000

/*
 * The checks both make beyond tk_valid_group(): the sender name goes into
 * a From header -- one line, no '"', at most TK_GROUP_DISPLAY_MAX bytes;
 * the signature is text (lines, tabs) of at most TK_GROUP_SIGNATURE_MAX
 * bytes.  1 when valid.  (UTF-8 validity is the caller's: the module
 * checks it for every form field.)
 */
int tk_group_valid_display(const tk_str_t *display_name);
int tk_group_valid_signature(const tk_str_t *signature);

#endif /* TK_GROUP_H */
