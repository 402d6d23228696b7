/*
 * tk_schema.c -- enum names and labels, name validators, rights lookup
 * and overview index scores (key builders: tk_keys.c): everything tk_schema.h
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



static const tk_enum_names_t *tk_enum_get(const tk_enum_names_t *names,
    int min, int max, int v);
static const char *tk_enum_field(const tk_enum_names_t *e, int which);
static const tk_enum_names_t *tk_state_entry(int state);
static const tk_enum_names_t *tk_prio_entry(int prio);
static int tk_enum_parse(const tk_enum_names_t *names, int min, int max,
    const char *s, size_t len);
static int tk_cstr_eq_ci(const char *name, const char *s, size_t len);
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

enum { TK_ENUM_NAME, TK_ENUM_DE, TK_ENUM_EN };

/* The table entry of v, or NULL when v is out of the enum's range. */
static const tk_enum_names_t *
tk_enum_get(const tk_enum_names_t *names, int min, int max, int v)
{
    return (v < min || v > max) ? NULL : &names[v];
}


/* One name of an entry; NULL for a NULL entry, so callers need no check. */
static const char *
tk_enum_field(const tk_enum_names_t *e, int which)
{
    if (e == NULL) {
        return NULL;
    }

    return which == TK_ENUM_DE ? e->de : which == TK_ENUM_EN ? e->en : e->name;
}


static const tk_enum_names_t *
tk_state_entry(int state)
{
    return tk_enum_get(tk_states, TK_STATE_MIN, TK_STATE_MAX, state);
}


static const tk_enum_names_t *
tk_prio_entry(int prio)
{
    return tk_enum_get(tk_prios, TK_PRIO_MIN, TK_PRIO_MAX, prio);
}



const char *
tk_state_name(int state)
{
    return tk_enum_field(tk_state_entry(state), TK_ENUM_NAME);
}


const char *
tk_state_label_de(int state)
{
    return tk_enum_field(tk_state_entry(state), TK_ENUM_DE);
}


const char *
tk_state_label_en(int state)
{
    return tk_enum_field(tk_state_entry(state), TK_ENUM_EN);
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
    return tk_enum_field(tk_prio_entry(prio), TK_ENUM_NAME);
}


const char *
tk_prio_label_de(int prio)
{
    return tk_enum_field(tk_prio_entry(prio), TK_ENUM_DE);
}


const char *
tk_prio_label_en(int prio)
{
    return tk_enum_field(tk_prio_entry(prio), TK_ENUM_EN);
}


int
tk_prio_parse(const char *s, size_t len)
{
    return tk_enum_parse(tk_prios, TK_PRIO_MIN, TK_PRIO_MAX, s, len);
}


const char *
tk_article_kind_name(int kind)
{
    return tk_enum_field(tk_enum_get(tk_kinds, TK_ART_IN, TK_ART_NOTE, kind),
                         TK_ENUM_NAME);
}


int
tk_article_kind_parse(const char *s, size_t len)
{
    return tk_enum_parse(tk_kinds, TK_ART_IN, TK_ART_NOTE, s, len);
}


const char *
tk_right_name(int right)
{
    return tk_enum_field(tk_enum_get(tk_rights, TK_RIGHT_NONE, TK_RIGHT_FULL,
                                     right), TK_ENUM_NAME);
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
