/*
 * tk_keys.c -- the key builders of tk_schema.h: every Redis key any
 * program uses is assembled here, from the formats named in the header.
 * libc only; compiled into the nginx module and libtk.a.
 */

#include <stdio.h>
#include <string.h>

#include "tk_schema.h"


typedef struct {
    unsigned char *pos;
    unsigned char *end;
    int            overflow;
} tk_keybuf_t;


static void tk_kb_init(tk_keybuf_t *kb, char *buf, size_t size);
static void tk_kb_cstr(tk_keybuf_t *kb, const char *s);
static void tk_kb_bytes(tk_keybuf_t *kb, const void *p, size_t n);
static void tk_kb_uint(tk_keybuf_t *kb, uint64_t v);
static size_t tk_kb_done(tk_keybuf_t *kb, char *buf, size_t size);
static size_t tk_key_ticket_sub(char *buf, size_t size, uint64_t number,
    const char *suffix);
static size_t tk_key_tagged_str(char *buf, size_t size, const char *tag,
    const tk_str_t *name);


/* ---- key builders ------------------------------------------------------- */

/*
 * Keys are assembled with memcpy, not snprintf("%s"): names come as
 * counted strings that are not NUL-terminated (nginx's ngx_str_t).
 */
static void
tk_kb_init(tk_keybuf_t *kb, char *buf, size_t size)
{
    kb->pos = (unsigned char *) buf;
    kb->end = (unsigned char *) buf + (size ? size - 1 : 0);
    kb->overflow = (size == 0);
}


static void
tk_kb_bytes(tk_keybuf_t *kb, const void *p, size_t n)
{
    if (kb->overflow || (size_t) (kb->end - kb->pos) < n) {
        kb->overflow = 1;
        return;
    }

    if (n) {
        memcpy(kb->pos, p, n);
    }

    kb->pos += n;
}


static void
tk_kb_cstr(tk_keybuf_t *kb, const char *s)
{
    tk_kb_bytes(kb, s, strlen(s));
}


static void
tk_kb_uint(tk_keybuf_t *kb, uint64_t v)
{
    char   tmp[TK_UINT_LEN];
    char  *p;

    p = tk_str_utoa(tmp + sizeof(tmp), v);

    tk_kb_bytes(kb, p, (size_t) (tmp + sizeof(tmp) - p));
}


static size_t
tk_kb_done(tk_keybuf_t *kb, char *buf, size_t size)
{
    if (kb->overflow) {
        if (size) {
            buf[0] = '\0';
        }
        return 0;
    }

    *kb->pos = '\0';
    return (size_t) (kb->pos - (unsigned char *) buf);
}


/* "tk:{t:N}" followed by suffix: every key of a ticket shares the tag */
static size_t
tk_key_ticket_sub(char *buf, size_t size, uint64_t number, const char *suffix)
{
    tk_keybuf_t  kb;

    tk_kb_init(&kb, buf, size);
    tk_kb_cstr(&kb, "tk:{t:");
    tk_kb_uint(&kb, number);
    tk_kb_cstr(&kb, "}");
    tk_kb_cstr(&kb, suffix);

    return tk_kb_done(&kb, buf, size);
}


size_t
tk_key_ticket(char *buf, size_t size, uint64_t number)
{
    return tk_key_ticket_sub(buf, size, number, "");
}


size_t
tk_key_ticket_articles(char *buf, size_t size, uint64_t number)
{
    return tk_key_ticket_sub(buf, size, number, ":articles");
}


size_t
tk_key_history(char *buf, size_t size, uint64_t number)
{
    return tk_key_ticket_sub(buf, size, number, ":history");
}


size_t
tk_key_participants(char *buf, size_t size, uint64_t number)
{
    return tk_key_ticket_sub(buf, size, number, ":participants");
}


size_t
tk_key_article(char *buf, size_t size, uint64_t number, uint64_t id)
{
    tk_keybuf_t  kb;

    tk_kb_init(&kb, buf, size);
    tk_kb_cstr(&kb, "tk:{t:");
    tk_kb_uint(&kb, number);
    tk_kb_cstr(&kb, "}:a:");
    tk_kb_uint(&kb, id);

    return tk_kb_done(&kb, buf, size);
}


size_t
tk_key_attachment(char *buf, size_t size, uint64_t number, uint64_t id,
    unsigned k)
{
    tk_keybuf_t  kb;

    tk_kb_init(&kb, buf, size);
    tk_kb_cstr(&kb, "tk:{t:");
    tk_kb_uint(&kb, number);
    tk_kb_cstr(&kb, "}:a:");
    tk_kb_uint(&kb, id);
    tk_kb_cstr(&kb, ":att:");
    tk_kb_uint(&kb, k);

    return tk_kb_done(&kb, buf, size);
}


size_t
tk_key_raw(char *buf, size_t size, uint64_t number, uint64_t id)
{
    tk_keybuf_t  kb;

    tk_kb_init(&kb, buf, size);
    tk_kb_cstr(&kb, "tk:{t:");
    tk_kb_uint(&kb, number);
    tk_kb_cstr(&kb, "}:a:");
    tk_kb_uint(&kb, id);
    tk_kb_cstr(&kb, ":raw");

    return tk_kb_done(&kb, buf, size);
}


size_t
tk_key_customer(char *buf, size_t size, uint64_t id)
{
    tk_keybuf_t  kb;

    tk_kb_init(&kb, buf, size);
    tk_kb_cstr(&kb, "tk:{c:");
    tk_kb_uint(&kb, id);
    tk_kb_cstr(&kb, "}");

    return tk_kb_done(&kb, buf, size);
}


/* "tk:{TAG:NAME}" for users, groups, sessions and tokens */
static size_t
tk_key_tagged_str(char *buf, size_t size, const char *tag,
    const tk_str_t *name)
{
    tk_keybuf_t  kb;

    tk_kb_init(&kb, buf, size);
    tk_kb_cstr(&kb, "tk:{");
    tk_kb_cstr(&kb, tag);
    tk_kb_cstr(&kb, ":");
    tk_kb_bytes(&kb, name->data, name->len);
    tk_kb_cstr(&kb, "}");

    return tk_kb_done(&kb, buf, size);
}


size_t
tk_key_user(char *buf, size_t size, const tk_str_t *login)
{
    return tk_key_tagged_str(buf, size, "u", login);
}


size_t
tk_key_group(char *buf, size_t size, const tk_str_t *name)
{
    return tk_key_tagged_str(buf, size, "g", name);
}


size_t
tk_key_session(char *buf, size_t size, const tk_str_t *sid)
{
    return tk_key_tagged_str(buf, size, "s", sid);
}


size_t
tk_key_token(char *buf, size_t size, const tk_str_t *token)
{
    return tk_key_tagged_str(buf, size, "k", token);
}


size_t
tk_key_msgid(char *buf, size_t size, const tk_str_t *message_id)
{
    tk_keybuf_t  kb;

    tk_kb_init(&kb, buf, size);
    tk_kb_cstr(&kb, "tk:mid:");
    tk_kb_bytes(&kb, message_id->data, message_id->len);

    return tk_kb_done(&kb, buf, size);
}


size_t
tk_key_index(char *buf, size_t size, const tk_str_t *group, int state,
    const tk_str_t *owner, int sort)
{
    tk_keybuf_t  kb;

    if (sort < 0 || sort >= TK_SORT_N || state < TK_STATE_MIN
        || state > TK_STATE_MAX)
    {
        if (size) {
            buf[0] = '\0';
        }
        return 0;
    }

    tk_kb_init(&kb, buf, size);
    tk_kb_cstr(&kb, "tk:{ix}:g:");
    tk_kb_bytes(&kb, group->data, group->len);
    tk_kb_cstr(&kb, ":s:");
    tk_kb_uint(&kb, (uint64_t) state);
    tk_kb_cstr(&kb, ":o:");

    if (owner == NULL || owner->len == 0) {
        tk_kb_cstr(&kb, TK_OWNER_NONE);

    } else {
        tk_kb_bytes(&kb, owner->data, owner->len);
    }

    tk_kb_cstr(&kb, ":by:");
    tk_kb_cstr(&kb, tk_sort_name(sort));

    return tk_kb_done(&kb, buf, size);
}
