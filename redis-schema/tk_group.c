/*
 * tk_group.c -- the one writer of a group (see tk_group.h).
 */

#include "tk_group.h"
#include "tk_ticket.h"


void
tk_group_write(tk_cmds_t *c, const tk_group_t *g)
{
    char    key[TK_KEY_MAX];
    size_t  len;

    len = tk_key_group(key, sizeof(key), &g->name);
    if (len == 0) {
        c->failed = 1;
        return;
    }

    tk_cmds_add(c, "HSET %b " TK_F_NAME " %S " TK_F_EMAIL " %S "
                TK_F_DISPLAY_NAME " %S " TK_F_SIGNATURE " %S "
                TK_F_ALL_AGENTS " %s", key, len, &g->name, &g->email,
                &g->display_name, &g->signature, g->all_agents ? "1" : "0");
    tk_cmds_add(c, "SADD " TK_KEY_GROUPS " %S", &g->name);
    tk_cmds_add(c, "%s " TK_KEY_GROUPS_ALL " %S",
                g->all_agents ? "SADD" : "SREM", &g->name);

    /* who sees which group is part of rendered pages: nginx's page
     * cache must not keep what was made before (SCHEMA.md, tk:{ix}:gen) */
    tk_index_touch(c);
}


int
tk_group_valid_display(const tk_str_t *s)
{
    size_t  i;

    if (s->len > TK_GROUP_DISPLAY_MAX) {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        if (s->data[i] < 0x20 || s->data[i] == 0x7f || s->data[i] == '"') {
            return 0;
        }
    }

    return 1;
}


int
tk_group_valid_signature(const tk_str_t *s)
{
    size_t  i;

    if (s->len > TK_GROUP_SIGNATURE_MAX) {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        if ((s->data[i] < 0x20 && s->data[i] != '\n' && s->data[i] != '\t')
            || s->data[i] == 0x7f)
        {
            return 0;
        }
    }

    return 1;
}
