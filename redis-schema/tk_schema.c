/*
 * tk_schema.c -- enum names and labels, key builders, name validators,
 * rights lookup and overview index scores: everything tk_schema.h
 * declares.  libc only; compiled into the nginx module and libtk.a.
 */

#include <stdio.h>
#include <string.h>

#include "tk_schema.h"


typedef struct {
    const char  *name;         /* stored / typed: "open"      */
    const char  *de;           /* shown to German users       */
    const char  *en;           /* shown to English users      */
} tk_enum_names_t;

typedef struct {
    unsigned char *pos;
    unsigned char *end;
    int            overflow;
} tk_keybuf_t;


static int tk_enum_parse(const tk_enum_names_t *names, int min, int max,
    const char *s, size_t len);
static int tk_cstr_eq_ci(const char *name, const char *s, size_t len);
static void tk_kb_init(tk_keybuf_t *kb, char *buf, size_t size);
static void tk_kb_cstr(tk_keybuf_t *kb, const char *s);
static void tk_kb_bytes(tk_keybuf_t *kb, const void *p, size_t n);
static void tk_kb_uint(tk_keybuf_t *kb, uint64_t v);
static size_t tk_kb_done(tk_keybuf_t *kb, char *buf, size_t size);
static size_t tk_key_ticket_sub(char *buf, size_t size, uint64_t number,
    const char *suffix);
static size_t tk_key_tagged_str(char *buf, size_t size, const char *tag,
    const tk_str_t *name);
static int tk_rights_entry(const unsigned char *p, size_t len,
    const tk_str_t *group);


/* index 0 is unused: enums start at 1 so that 0 can mean "invalid" */
static const tk_enum_names_t  tk_states[] = {
    { NULL, NULL, NULL },
    { "new", "neu", "new" },
    { "open", "in Bearbeitung", "in progress" },
    { "waiting", "warte auf R\xc3\xbc" "ckmeldung", "waiting for reply" },
    { "reminder", "warte auf R\xc3\xbc" "ckmeldung mit Erinnerung",
      "waiting with reminder" },
    { "deferred", "zur\xc3\xbc" "ckgestellt", "deferred" },
    { "closed", "erledigt", "closed" }
};

static const tk_enum_names_t  tk_prios[] = {
    { NULL, NULL, NULL },
    { "low", "niedrig", "low" },
    { "normal", "normal", "normal" },
    { "high", "hoch", "high" },
    { "urgent", "DRINGEND!", "URGENT" }
};

static const tk_enum_names_t  tk_kinds[] = {
    { NULL, NULL, NULL },
    { "in", NULL, NULL },
    { "out", NULL, NULL },
    { "note", NULL, NULL }
};

static const tk_enum_names_t  tk_rights[] = {
    { "none", NULL, NULL },
    { "read", NULL, NULL },
    { "full", NULL, NULL }
};

/* short names used inside index keys, and the column each sorts */
static const char  *tk_sort_names[TK_SORT_N] = {
    "upd", "crt", "pri", "ttl", "cst", "own"
};

static const char  *tk_sort_columns[TK_SORT_N] = {
    "updated", "created", "priority", "title", "customer", "owner"
};


/* ---- enums -------------------------------------------------------------- */

const char *
tk_state_name(int state)
{
    if (state < TK_STATE_MIN || state > TK_STATE_MAX) {
        return NULL;
    }

    return tk_states[state].name;
}


const char *
tk_state_label_de(int state)
{
    if (state < TK_STATE_MIN || state > TK_STATE_MAX) {
        return NULL;
    }

    return tk_states[state].de;
}


const char *
tk_state_label_en(int state)
{
    if (state < TK_STATE_MIN || state > TK_STATE_MAX) {
        return NULL;
    }

    return tk_states[state].en;
}


int
tk_state_parse(const char *s, size_t len)
{
    return tk_enum_parse(tk_states, TK_STATE_MIN, TK_STATE_MAX, s, len);
}


int
tk_state_is_open(int state)
{
    return state >= TK_STATE_NEW && state < TK_STATE_CLOSED;
}


const char *
tk_prio_name(int prio)
{
    if (prio < TK_PRIO_MIN || prio > TK_PRIO_MAX) {
        return NULL;
    }

    return tk_prios[prio].name;
}


const char *
tk_prio_label_de(int prio)
{
    if (prio < TK_PRIO_MIN || prio > TK_PRIO_MAX) {
        return NULL;
    }

    return tk_prios[prio].de;
}


const char *
tk_prio_label_en(int prio)
{
    if (prio < TK_PRIO_MIN || prio > TK_PRIO_MAX) {
        return NULL;
    }

    return tk_prios[prio].en;
}


int
tk_prio_parse(const char *s, size_t len)
{
    return tk_enum_parse(tk_prios, TK_PRIO_MIN, TK_PRIO_MAX, s, len);
}


const char *
tk_article_kind_name(int kind)
{
    if (kind < TK_ART_IN || kind > TK_ART_NOTE) {
        return NULL;
    }

    return tk_kinds[kind].name;
}


int
tk_article_kind_parse(const char *s, size_t len)
{
    return tk_enum_parse(tk_kinds, TK_ART_IN, TK_ART_NOTE, s, len);
}


const char *
tk_right_name(int right)
{
    if (right < TK_RIGHT_NONE || right > TK_RIGHT_FULL) {
        return NULL;
    }

    return tk_rights[right].name;
}


/* "read" or "full" (or "none"); -1 for anything else */
int
tk_right_parse(const char *s, size_t len)
{
    int  i;

    for (i = TK_RIGHT_NONE; i <= TK_RIGHT_FULL; i++) {
        if (tk_cstr_eq_ci(tk_rights[i].name, s, len)) {
            return i;
        }
    }

    return -1;
}


const char *
tk_sort_name(int sort)
{
    if (sort < 0 || sort >= TK_SORT_N) {
        return NULL;
    }

    return tk_sort_names[sort];
}


const char *
tk_sort_column(int sort)
{
    if (sort < 0 || sort >= TK_SORT_N) {
        return NULL;
    }

    return tk_sort_columns[sort];
}


/*
 * The URL's sort column to a sort key.  "number" sorts like "created"
 * (numbers are handed out in creation order).  "group" and "state" have
 * no sort set: the overview concatenates partitions in that order, so
 * they return -1 here like any unknown column.
 */
int
tk_sort_parse_column(const char *s, size_t len)
{
    int  i;

    if (tk_cstr_eq_ci("number", s, len)) {
        return TK_SORT_CREATED;
    }

    for (i = 0; i < TK_SORT_N; i++) {
        if (tk_cstr_eq_ci(tk_sort_columns[i], s, len)) {
            return i;
        }
    }

    return -1;
}


int
tk_sort_is_lex(int sort)
{
    return sort == TK_SORT_TITLE || sort == TK_SORT_CUSTOMER
           || sort == TK_SORT_OWNER;
}


/*
 * Accepts the stored name ("open"), the number ("2"), or a label in
 * either language, case-insensitively: ticketctl users and API clients
 * type what they see.
 */
static int
tk_enum_parse(const tk_enum_names_t *names, int min, int max, const char *s,
    size_t len)
{
    int  i;

    if (s == NULL || len == 0) {
        return 0;
    }

    if (len == 1 && s[0] >= '0' + min && s[0] <= '0' + max) {
        return s[0] - '0';
    }

    for (i = min; i <= max; i++) {
        if (tk_cstr_eq_ci(names[i].name, s, len)
            || (names[i].de && tk_cstr_eq_ci(names[i].de, s, len))
            || (names[i].en && tk_cstr_eq_ci(names[i].en, s, len)))
        {
            return i;
        }
    }

    return 0;
}


static int
tk_cstr_eq_ci(const char *name, const char *s, size_t len)
{
    size_t         i;
    unsigned char  a, b;

    for (i = 0; i < len; i++) {
        a = (unsigned char) name[i];
        b = (unsigned char) s[i];

        if (a == '\0') {
            return 0;
        }

        if (a >= 'A' && a <= 'Z') {
            a |= 0x20;
        }

        if (b >= 'A' && b <= 'Z') {
            b |= 0x20;
        }

        if (a != b) {
            return 0;
        }
    }

    return name[len] == '\0';
}


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
    tk_kb_cstr(&kb, tk_sort_names[sort]);

    return tk_kb_done(&kb, buf, size);
}


/* ---- validators --------------------------------------------------------- */

/*
 * Flags are a comma list without blanks ("auto,bounce"); a word must
 * match a whole entry, so "autoreply" is not "auto".
 */
int
tk_flags_has(const tk_str_t *flags, const char *word)
{
    size_t                n, len;
    const unsigned char  *p, *end, *comma;

    if (flags == NULL || flags->len == 0) {
        return 0;
    }

    n = strlen(word);
    p = flags->data;
    end = p + flags->len;

    while (p < end) {
        comma = memchr(p, ',', (size_t) (end - p));
        len = (size_t) ((comma ? comma : end) - p);

        if (len == n && memcmp(p, word, n) == 0) {
            return 1;
        }

        if (comma == NULL) {
            break;
        }

        p = comma + 1;
    }

    return 0;
}


int
tk_valid_login(const tk_str_t *login)
{
    size_t         i;
    unsigned char  ch;

    if (login == NULL || login->len == 0 || login->len > TK_LOGIN_MAX) {
        return 0;
    }

    for (i = 0; i < login->len; i++) {
        ch = login->data[i];

        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
            || ch == '.' || ch == '_' || ch == '-')
        {
            continue;
        }

        return 0;
    }

    /* "-" and "*" name the unassigned / any-owner index partitions */
    if (login->len == 1 && login->data[0] == '-') {
        return 0;
    }

    return 1;
}


/*
 * Group names appear inside keys (':' separates, '{' '}' are hash-tag
 * braces, '*' is the any-owner marker) and in the rights list
 * ("legal:full,ALSO:read", hence no ','), so those are refused along
 * with white space and control bytes.  UTF-8 letters are fine.
 */
int
tk_valid_group(const tk_str_t *name)
{
    size_t         i;
    unsigned char  ch;

    if (name == NULL || name->len == 0 || name->len > TK_GROUP_MAX) {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        ch = name->data[i];

        if (ch <= ' ' || ch == 0x7f || ch == ':' || ch == '{' || ch == '}'
            || ch == '*' || ch == ',')
        {
            return 0;
        }
    }

    return 1;
}


/* ---- rights ------------------------------------------------------------- */

/* The right named by one "group:right" entry if it is about group. */
static int
tk_rights_entry(const unsigned char *p, size_t len, const tk_str_t *group)
{
    size_t  colon;
    int     right;

    while (len && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }

    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
        len--;
    }

    for (colon = len; colon > 0; colon--) {
        if (p[colon - 1] == ':') {
            break;
        }
    }

    if (colon == 0) {
        return TK_RIGHT_NONE;
    }

    if (colon - 1 != group->len || memcmp(p, group->data, group->len) != 0) {
        return TK_RIGHT_NONE;
    }

    right = tk_right_parse((const char *) p + colon, len - colon);

    return right < 0 ? TK_RIGHT_NONE : right;
}


/*
 * The highest right any entry grants; a group flagged "all agents"
 * gives every agent full access (the collective's "legal" group).
 */
int
tk_rights_get(const tk_str_t *rights, const tk_str_t *group,
    int group_all_agents)
{
    const unsigned char  *p, *end, *comma;
    int                   best, right;

    if (group == NULL || group->len == 0) {
        return TK_RIGHT_NONE;
    }

    if (group_all_agents) {
        return TK_RIGHT_FULL;
    }

    best = TK_RIGHT_NONE;

    if (rights == NULL || rights->len == 0) {
        return best;
    }

    p = rights->data;
    end = p + rights->len;

    while (p < end) {
        comma = memchr(p, ',', (size_t) (end - p));
        if (comma == NULL) {
            comma = end;
        }

        right = tk_rights_entry(p, (size_t) (comma - p), group);
        if (right > best) {
            best = right;
        }

        p = comma + 1;
    }

    return best;
}


/* ---- index scores ------------------------------------------------------- */

double
tk_index_score(int sort, uint64_t number, int priority, int64_t updated)
{
    switch (sort) {

    case TK_SORT_UPDATED:
        return (double) updated;

    case TK_SORT_CREATED:
        return (double) number;

    case TK_SORT_PRIORITY:
        /* priority first, then the most recently updated within it;
         * Unix seconds stay below 1e10 until the year 2286 */
        return (double) priority * 1e10 + (double) updated;

    default:
        return 0;
    }
}


/*
 * Folding: ASCII upper case and the German umlauts (UTF-8 C3 84/96/9C)
 * go to lower case, control bytes become spaces (so nothing in the text
 * sorts below the 0x1f separator: "ab" < "abc"), and a cut at 48 bytes
 * never splits a UTF-8 sequence.
 */
size_t
tk_index_lex_member(char *buf, size_t size, const tk_str_t *text,
    uint64_t number)
{
    size_t         i, n, len, tlen;
    unsigned char  ch, *d;
    char           digits[21];
    int            k;

    if (size < 80) {
        if (size) {
            buf[0] = '\0';
        }
        return 0;
    }

    d = (unsigned char *) buf;
    tlen = text ? text->len : 0;
    len = tlen > 48 ? 48 : tlen;

    if (len < tlen) {
        /* back up over continuation bytes to a character start */
        while (len > 0 && (text->data[len] & 0xc0) == 0x80) {
            len--;
        }
    }

    n = 0;

    for (i = 0; i < len; i++) {
        ch = text->data[i];

        if (ch >= 'A' && ch <= 'Z') {
            ch |= 0x20;

        } else if (ch < 0x20 || ch == 0x7f) {
            ch = ' ';

        } else if (ch == 0xc3 && i + 1 < len) {
            d[n++] = ch;
            ch = text->data[++i];

            if (ch == 0x84 || ch == 0x96 || ch == 0x9c) {
                ch |= 0x20;
            }
        }

        d[n++] = ch;
    }

    d[n++] = 0x1f;

    for (k = 19; k >= 0; k--) {
        digits[k] = (char) ('0' + number % 10);
        number /= 10;
    }

    memcpy(d + n, digits, 20);
    n += 20;
    d[n] = '\0';

    return n;
}
