/*
 * tk_keys.c -- the key builders of tk_schema.h: every Redis key any
 * program uses is assembled here, from the pieces (TK_PFX_*, TK_SFX_*)
 * named in the header, and parsed back here (tk_key_parse, for SCAN).
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
static size_t tk_key_tagged_str(char *buf, size_t size, const char *prefix,
    const tk_str_t *name);
static const char *tk_key_digits(const char *p, const char *end, uint64_t *v);


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
    tk_kb_cstr(&kb, TK_PFX_TICKET);
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
    return tk_key_ticket_sub(buf, size, number, TK_SFX_ARTICLES);
}


size_t
tk_key_history(char *buf, size_t size, uint64_t number)
{
    return tk_key_ticket_sub(buf, size, number, TK_SFX_HISTORY);
}


size_t
tk_key_participants(char *buf, size_t size, uint64_t number)
{
    return tk_key_ticket_sub(buf, size, number, TK_SFX_PARTICIPANTS);
}


size_t
tk_key_article(char *buf, size_t size, uint64_t number, uint64_t id)
{
    tk_keybuf_t  kb;

    tk_kb_init(&kb, buf, size);
    tk_kb_cstr(&kb, TK_PFX_TICKET);
    tk_kb_uint(&kb, number);
    tk_kb_cstr(&kb, "}" TK_SFX_ARTICLE);
    tk_kb_uint(&kb, id);

    return tk_kb_done(&kb, buf, size);
}


size_t
tk_key_attachment(char *buf, size_t size, uint64_t number, uint64_t id,
    unsigned k)
{
    tk_keybuf_t  kb;

    tk_kb_init(&kb, buf, size);
    tk_kb_cstr(&kb, TK_PFX_TICKET);
    tk_kb_uint(&kb, number);
    tk_kb_cstr(&kb, "}" TK_SFX_ARTICLE);
    tk_kb_uint(&kb, id);
    tk_kb_cstr(&kb, TK_SFX_ATTACHMENT);
    tk_kb_uint(&kb, k);

    return tk_kb_done(&kb, buf, size);
}


size_t
tk_key_raw(char *buf, size_t size, uint64_t number, uint64_t id)
{
    tk_keybuf_t  kb;

    tk_kb_init(&kb, buf, size);
    tk_kb_cstr(&kb, TK_PFX_TICKET);
    tk_kb_uint(&kb, number);
    tk_kb_cstr(&kb, "}" TK_SFX_ARTICLE);
    tk_kb_uint(&kb, id);
    tk_kb_cstr(&kb, TK_SFX_RAW);

    return tk_kb_done(&kb, buf, size);
}


size_t
tk_key_customer(char *buf, size_t size, uint64_t id)
{
    tk_keybuf_t  kb;

    tk_kb_init(&kb, buf, size);
    tk_kb_cstr(&kb, TK_PFX_CUSTOMER);
    tk_kb_uint(&kb, id);
    tk_kb_cstr(&kb, "}");

    return tk_kb_done(&kb, buf, size);
}


/* "tk:{TAG:NAME}" for users, groups, sessions and tokens */
static size_t
tk_key_tagged_str(char *buf, size_t size, const char *prefix,
    const tk_str_t *name)
{
    tk_keybuf_t  kb;

    tk_kb_init(&kb, buf, size);
    tk_kb_cstr(&kb, prefix);
    tk_kb_bytes(&kb, name->data, name->len);
    tk_kb_cstr(&kb, "}");

    return tk_kb_done(&kb, buf, size);
}


size_t
tk_key_user(char *buf, size_t size, const tk_str_t *login)
{
    return tk_key_tagged_str(buf, size, TK_PFX_USER, login);
}


size_t
tk_key_group(char *buf, size_t size, const tk_str_t *name)
{
    return tk_key_tagged_str(buf, size, TK_PFX_GROUP, name);
}


size_t
tk_key_session(char *buf, size_t size, const tk_str_t *sid)
{
    return tk_key_tagged_str(buf, size, TK_PFX_SESSION, sid);
}


size_t
tk_key_token(char *buf, size_t size, const tk_str_t *token)
{
    return tk_key_tagged_str(buf, size, TK_PFX_TOKEN, token);
}


size_t
tk_key_msgid(char *buf, size_t size, const tk_str_t *message_id)
{
    tk_keybuf_t  kb;

    tk_kb_init(&kb, buf, size);
    tk_kb_cstr(&kb, TK_PFX_MSGID);
    tk_kb_bytes(&kb, message_id->data, message_id->len);

    return tk_kb_done(&kb, buf, size);
}


size_t
tk_key_index(char *buf, size_t size, const tk_str_t *group, int state,
    const tk_str_t *owner, int sort)
{
    tk_keybuf_t  kb;

    int          cls;

    /* the class partitions (open, all) have the numeric sorts only */
    cls = (state == TK_ISTATE_OPEN || state == TK_ISTATE_ALL);

    if (sort < 0 || sort >= TK_SORT_N
        || (!cls && (state < TK_STATE_MIN || state > TK_STATE_MAX))
        || (cls && tk_sort_is_lex(sort)))
    {
        if (size) {
            buf[0] = '\0';
        }
        return 0;
    }

    tk_kb_init(&kb, buf, size);
    tk_kb_cstr(&kb, TK_PFX_INDEX);
    tk_kb_bytes(&kb, group->data, group->len);
    tk_kb_cstr(&kb, TK_SFX_INDEX_STATE);

    if (cls) {
        tk_kb_cstr(&kb, state == TK_ISTATE_OPEN ? TK_ISTATE_OPEN_NAME
                                                : TK_ISTATE_ALL_NAME);
    } else {
        tk_kb_uint(&kb, (uint64_t) state);
    }

    tk_kb_cstr(&kb, TK_SFX_INDEX_OWNER);

    if (owner == NULL || owner->len == 0) {
        tk_kb_cstr(&kb, TK_OWNER_NONE);

    } else {
        tk_kb_bytes(&kb, owner->data, owner->len);
    }

    tk_kb_cstr(&kb, TK_SFX_INDEX_SORT);
    tk_kb_cstr(&kb, tk_sort_name(sort));

    return tk_kb_done(&kb, buf, size);
}


size_t
tk_key_countv(char *buf, size_t size, const tk_str_t *group, int state,
    const tk_str_t *owner, unsigned *slot)
{
    int          kind;
    tk_keybuf_t  kb;

    if (state < TK_STATE_MIN || state > TK_STATE_MAX) {
        if (size) {
            buf[0] = '\0';
        }
        return 0;
    }

    kind = -1;

    if (owner == NULL || owner->len == 0) {
        kind = TK_COUNTV_NONE;

    } else if (owner->len == 1) {
        kind = owner->data[0] == '*' ? TK_COUNTV_ANY
             : owner->data[0] == '-' ? TK_COUNTV_NONE
             : owner->data[0] == '!' ? TK_COUNTV_AUTO : -1;
    }

    tk_kb_init(&kb, buf, size);
    tk_kb_cstr(&kb, TK_PFX_INDEX_COUNTV);
    tk_kb_bytes(&kb, group->data, group->len);

    if (kind < 0) {
        /* a person's vector: logins have no ':' (tk_valid_login) */
        tk_kb_cstr(&kb, ":");
        tk_kb_bytes(&kb, owner->data, owner->len);
        *slot = (unsigned) state;

    } else {
        *slot = (unsigned) tk_countv_slot(kind, state);
    }

    return tk_kb_done(&kb, buf, size);
}


/* digits of a number in a key: the end of them, or NULL if none */
static const char *
tk_key_digits(const char *p, const char *end, uint64_t *v)
{
    const char  *start;

    *v = 0;

    for (start = p; p < end && *p >= '0' && *p <= '9'; p++) {
        *v = *v * 10 + (uint64_t) (*p - '0');
    }

    return (p == start || p - start > 19) ? NULL : p;
}


int
tk_key_parse(const char *key, size_t len, uint64_t *number, uint64_t *article)
{
    const char  *p, *end;
    size_t       n;
    uint64_t     a;

    end = key + len;
    n = sizeof(TK_PFX_TICKET) - 1;

    if (len <= n || memcmp(key, TK_PFX_TICKET, n) != 0) {
        return 0;
    }

    p = tk_key_digits(key + n, end, number);
    if (p == NULL || p == end || *p++ != '}') {
        return 0;
    }

    if (p == end) {
        return TK_KEY_IS_TICKET;
    }

    n = sizeof(TK_SFX_ARTICLE) - 1;

    if ((size_t) (end - p) <= n || memcmp(p, TK_SFX_ARTICLE, n) != 0) {
        return 0;
    }

    p = tk_key_digits(p + n, end, &a);
    if (p != end) {
        return 0;
    }

    if (article) {
        *article = a;
    }

    return TK_KEY_IS_ARTICLE;
}
