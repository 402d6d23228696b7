/*
 * tk_textmod.c -- text modules and ticket templates: placeholders,
 * "::keyword" expansion and the writes of their keys (tk_textmod.h).
 */

#include <stdio.h>
#include <string.h>

#include "tk_textmod.h"
#include "tk_ticket.h"            /* tk_index_touch */


/* one placeholder and where its value is in tk_textmod_vars_t */
typedef struct {
    const char  *name;
    size_t       len;
    size_t       offset;
} tk_textmod_ph_t;

#define TK_PH(n, m)  { n, sizeof(n) - 1, offsetof(tk_textmod_vars_t, m) }

static const tk_textmod_ph_t  tk_textmod_phs[] = {
    TK_PH("customer.name", customer_name),
    TK_PH("customer.email", customer_email),
    TK_PH("ticket.number", number),
    TK_PH("ticket.title", title),
    TK_PH("agent.name", agent_name),
    TK_PH("group.name", group),
    { NULL, 0, 0 }
};


static void
tk_textmod_put(unsigned char *dst, size_t size, size_t *n, const void *p,
    size_t len)
{
    if (dst && *n < size) {
        memcpy(dst + *n, p, len < size - *n ? len : size - *n);
    }
    *n += len;
}


/* "{{ name }}" at p (blanks inside allowed): its value, else NULL */
static const tk_str_t *
tk_textmod_ph(const unsigned char *p, size_t len, size_t *used,
    const tk_textmod_vars_t *v)
{
    const tk_textmod_ph_t  *ph;
    size_t                  i = 2, start, end;

    if (len < 4 || p[0] != '{' || p[1] != '{') {
        return NULL;
    }
    while (i < len && p[i] == ' ') {
        i++;
    }
    start = i;
    while (i < len && p[i] != '}' && p[i] != ' ' && i - start < 32) {
        i++;
    }
    end = i;
    while (i < len && p[i] == ' ') {
        i++;
    }
    if (i + 1 >= len || p[i] != '}' || p[i + 1] != '}') {
        return NULL;
    }

    for (ph = tk_textmod_phs; ph->name; ph++) {
        if (ph->len == end - start
            && memcmp(ph->name, p + start, ph->len) == 0)
        {
            *used = i + 2;
            return (const tk_str_t *) ((const char *) v + ph->offset);
        }
    }

    return NULL;
}


size_t
tk_textmod_fill(unsigned char *dst, size_t size, const tk_str_t *text,
    const tk_textmod_vars_t *v)
{
    const tk_str_t  *val;
    size_t           i, n = 0, used;

    for (i = 0; i < text->len; i++) {
        if (text->data[i] == '{'
            && (val = tk_textmod_ph(text->data + i, text->len - i, &used, v)))
        {
            tk_textmod_put(dst, size, &n, val->data, val->len);
            i += used - 1;
            continue;
        }
        tk_textmod_put(dst, size, &n, text->data + i, 1);
    }

    return n;
}


int
tk_textmod_valid_keyword(const tk_str_t *keyword)
{
    size_t         i;
    unsigned char  ch;

    if (keyword->len == 0 || keyword->len > TK_TEXTMOD_KEYWORD_MAX) {
        return 0;
    }

    for (i = 0; i < keyword->len; i++) {
        ch = keyword->data[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
              || ch == '_' || ch == '-'))
        {
            return 0;
        }
    }

    return 1;
}


static int
tk_textmod_kwchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
           || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
}


static int
tk_textmod_space(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}


/* the module named by the token at text[i] ("::kw"), else NULL */
static const tk_textmod_t *
tk_textmod_token(const tk_str_t *text, size_t i, const tk_textmod_t *mods,
    size_t nmods, size_t *used)
{
    size_t  k, j;

    if (i + 2 >= text->len || text->data[i] != ':' || text->data[i + 1] != ':'
        || (i > 0 && !tk_textmod_space(text->data[i - 1])))
    {
        return NULL;
    }

    for (j = i + 2; j < text->len && tk_textmod_kwchar(text->data[j]); j++) {
        /* the keyword */
    }

    for (k = 0; k < nmods; k++) {
        if (mods[k].keyword.len == j - i - 2
            && memcmp(mods[k].keyword.data, text->data + i + 2, j - i - 2)
               == 0)
        {
            *used = j - i;
            return &mods[k];
        }
    }

    return NULL;
}


size_t
tk_textmod_expand(unsigned char *dst, size_t size, const tk_str_t *body,
    const tk_textmod_t *mods, size_t nmods, const tk_textmod_vars_t *v)
{
    const tk_textmod_t  *m;
    size_t               i, n = 0, used, len;

    for (i = 0; i < body->len; i++) {
        if (body->data[i] == ':'
            && (m = tk_textmod_token(body, i, mods, nmods, &used)))
        {
            len = tk_textmod_fill(dst ? dst + (n < size ? n : size) : NULL,
                                  n < size ? size - n : 0, &m->body, v);
            n += len;
            i += used - 1;
            continue;
        }
        tk_textmod_put(dst, size, &n, body->data + i, 1);
    }

    return n;
}


int
tk_textmod_has_token(const tk_str_t *text)
{
    size_t  i;

    for (i = 0; i + 2 < text->len; i++) {
        if (text->data[i] == ':' && text->data[i + 1] == ':'
            && (i == 0 || tk_textmod_space(text->data[i - 1]))
            && tk_textmod_kwchar(text->data[i + 2]))
        {
            return 1;
        }
    }

    return 0;
}


/* ---- the writes --------------------------------------------------------- */

void
tk_textmod_write(tk_cmds_t *c, const tk_str_t *id, const tk_str_t *owner,
    const tk_str_t *keyword, const tk_str_t *name, const tk_str_t *body,
    int64_t now)
{
    tk_cmds_add(c, "HSET " TK_FMTS_TEXTMOD " " TK_F_TM_KEYWORD " %S "
                TK_F_TM_NAME " %S " TK_F_TM_BODY " %S " TK_F_TM_OWNER " %S "
                TK_F_TM_UPDATED " %lld", id, keyword, name, body, owner,
                (long long) now);

    if (owner->len) {
        tk_cmds_add(c, "SADD " TK_FMTS_USER_TEXTMODS " %S", owner, id);
    } else {
        tk_cmds_add(c, "SADD " TK_KEY_TEXTMODS " %S", id);
    }
}


void
tk_textmod_delete(tk_cmds_t *c, const tk_str_t *id, const tk_str_t *owner)
{
    tk_cmds_add(c, "DEL " TK_FMTS_TEXTMOD, id);

    if (owner->len) {
        tk_cmds_add(c, "SREM " TK_FMTS_USER_TEXTMODS " %S", owner, id);
    } else {
        tk_cmds_add(c, "SREM " TK_KEY_TEXTMODS " %S", id);
    }
}


void
tk_template_write(tk_cmds_t *c, const tk_str_t *id, const tk_template_t *t,
    int64_t now)
{
    tk_cmds_add(c, "HSET " TK_FMTS_TEMPLATE " " TK_F_TPL_NAME " %S "
                TK_F_TPL_GROUP " %S " TK_F_TPL_STATE " %S "
                TK_F_TPL_PRIORITY " %S " TK_F_TPL_SUBJECT " %S "
                TK_F_TPL_BODY " %S " TK_F_TPL_CUSTOMER " %S "
                TK_F_TPL_UPDATED " %lld", id, &t->name, &t->group, &t->state,
                &t->priority, &t->subject, &t->body, &t->customer,
                (long long) now);
    tk_cmds_add(c, "SADD " TK_KEY_TEMPLATES " %S", id);
    /* the ticket page keeps the names under the generation */
    tk_index_touch(c);
}


void
tk_template_delete(tk_cmds_t *c, const tk_str_t *id)
{
    tk_cmds_add(c, "DEL " TK_FMTS_TEMPLATE, id);
    tk_cmds_add(c, "SREM " TK_KEY_TEMPLATES " %S", id);
    tk_index_touch(c);
}


void
tk_textmod_sort(tk_cmds_t *c, const tk_str_t *owner)
{
    static const char  by[] = "BY " TK_SORT_TEXTMOD TK_F_TM_KEYWORD
        " ALPHA LIMIT 0 %d GET # GET " TK_SORT_TEXTMOD TK_F_TM_KEYWORD
        " GET " TK_SORT_TEXTMOD TK_F_TM_NAME " GET " TK_SORT_TEXTMOD
        TK_F_TM_BODY;
    char               fmt[sizeof(by) + 64];

    if (owner) {
        snprintf(fmt, sizeof(fmt), "SORT %s %s", TK_FMTS_USER_TEXTMODS, by);
        tk_cmds_add(c, fmt, owner, TK_TEXTMOD_MAX);
    } else {
        snprintf(fmt, sizeof(fmt), "SORT %s %s", TK_KEY_TEXTMODS, by);
        tk_cmds_add(c, fmt, TK_TEXTMOD_MAX);
    }
}


void
tk_template_sort(tk_cmds_t *c)
{
    tk_cmds_add(c, "SORT " TK_KEY_TEMPLATES " BY " TK_SORT_TEMPLATE
                TK_F_TPL_NAME " ALPHA LIMIT 0 %d GET #"
                " GET " TK_SORT_TEMPLATE TK_F_TPL_NAME
                " GET " TK_SORT_TEMPLATE TK_F_TPL_GROUP
                " GET " TK_SORT_TEMPLATE TK_F_TPL_STATE
                " GET " TK_SORT_TEMPLATE TK_F_TPL_PRIORITY
                " GET " TK_SORT_TEMPLATE TK_F_TPL_SUBJECT
                " GET " TK_SORT_TEMPLATE TK_F_TPL_BODY
                " GET " TK_SORT_TEMPLATE TK_F_TPL_CUSTOMER, TK_TEXTMOD_MAX);
}


void
tk_template_sort_names(tk_cmds_t *c)
{
    /* BY nosort: half the lookups on every ticket page; the caller
     * orders the few names itself */
    tk_cmds_add(c, "SORT " TK_KEY_TEMPLATES " BY nosort LIMIT 0 %d GET # GET "
                TK_SORT_TEMPLATE TK_F_TPL_NAME, TK_TEXTMOD_MAX);
}


void
tk_template_read(tk_cmds_t *c, const tk_str_t *id)
{
    tk_cmds_add(c, "HMGET " TK_FMTS_TEMPLATE " " TK_F_TPL_STATE " "
                TK_F_TPL_SUBJECT " " TK_F_TPL_BODY, id);
}
