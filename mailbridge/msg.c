/*
 * msg.c -- life cycle of an mb_msg_t: one arena per mail, so a stage
 * allocates freely and the whole mail goes away in one call.
 */

#include <string.h>

#include "mailbridge.h"

static const struct {
    unsigned     bit;
    const char  *name;
} mb_flag_names[] = {
    { MB_F_AUTO, "auto" },
    { MB_F_BOUNCE, "bounce" },
    { MB_F_OVERSIZED, "oversized" },
    { MB_F_CHARSET, "charset-guessed" },
    { MB_F_SIGNED, "signed" },
    { MB_F_ENCRYPTED, "encrypted" },
    { MB_F_HTML, "html" },
    { MB_F_BROKEN, "broken-mime" },
    { MB_F_NOSENDER, "no-sender" },
    { MB_F_DECRYPT_FAILED, "decrypt-failed" },
    { 0, NULL }
};


void
mb_msg_init(mb_msg_t *m)
{
    memset(m, 0, sizeof(*m));
    tk_arena_init(&m->arena);
}


void
mb_msg_free(mb_msg_t *m)
{
    tk_arena_reset(&m->arena);
    memset(m, 0, sizeof(*m));
}


void *
mb_alloc(mb_msg_t *m, size_t n)
{
    return tk_arena_alloc(&m->arena, n);
}


tk_str_t
mb_memdup(mb_msg_t *m, const void *p, size_t n)
{
    tk_str_t  s;

    s.data = tk_arena_alloc(&m->arena, n + 1);
    if (s.data == NULL) {
        s.len = 0;
        s.data = (unsigned char *) "";
        return s;
    }

    if (n) {
        memcpy(s.data, p, n);
    }
    s.data[n] = '\0';
    s.len = n;
    return s;
}


tk_str_t
mb_strdup(mb_msg_t *m, const char *s)
{
    return mb_memdup(m, s ? s : "", s ? strlen(s) : 0);
}


size_t
mb_flags_format(unsigned flags, char *buf, size_t size)
{
    size_t  i, len = 0, n;

    if (size) {
        buf[0] = '\0';
    }

    for (i = 0; mb_flag_names[i].name; i++) {
        if (!(flags & mb_flag_names[i].bit)) {
            continue;
        }
        n = strlen(mb_flag_names[i].name);
        if (len + n + 2 > size) {
            break;
        }
        if (len) {
            buf[len++] = ',';
        }
        memcpy(buf + len, mb_flag_names[i].name, n + 1);
        len += n;
    }

    return len;
}


/*
 * The group of a new ticket: the mailbox's or --group, else the first
 * mapped envelope recipient, else a mapped To/Cc/Delivered-To address,
 * else default_group.
 */
const char *
mb_group_for(const mb_config_t *cfg, const mb_msg_t *m)
{
    const char  *g;
    size_t       i;

    if (m->group) {
        return m->group;
    }

    if (m->recipient) {
        g = mb_config_group_for(cfg, m->recipient);
        if (g) {
            return g;
        }
    }

    for (i = 0; i < m->nrcpts; i++) {
        g = mb_config_group_for(cfg, (const char *) m->rcpts[i].data);
        if (g) {
            return g;
        }
    }

    return cfg->default_group;
}
