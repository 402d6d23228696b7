/*
 * tk_trigger.c -- a trigger rule: parse, check, compile (PCRE2), match.
 * See tk_trigger.h and SCHEMA.md "Triggers".
 */

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk_tags.h"
#include "tk_trigger.h"

/* a body pattern that backtracks without end must not stall the feed:
 * PCRE2's match limit, a failed match counts as "no match" */
#define TK_TRIGGER_MATCH_LIMIT  1000000

static const char *const  tk_trigger_re_fields[TK_TRIGGER_NRE] = {
    TK_F_TRG_SUBJECT, TK_F_TRG_BODY, TK_F_TRG_FROM
};

static int tk_trigger_field(tk_trigger_t *t, const tk_str_t *f,
    const tk_str_t *v, tk_trigger_error_t *err);
static int tk_trigger_mask(const char *list, int (*parse)(const char *,
    size_t), unsigned *mask);
static int tk_trigger_names(const char *list, int notify);
static int tk_trigger_fail(tk_trigger_error_t *err, const char *field,
    const char *fmt, const char *value);
static char *tk_trigger_dup(tk_trigger_t *t, const tk_str_t *v);
static char *tk_trigger_strdup(tk_trigger_t *t, const char *s);
static void tk_trigger_release(tk_trigger_t *t, void *p);
static int tk_trigger_tags(tk_trigger_t *t, char *s, tk_trigger_error_t *err);
static void *tk_trigger_pcre2_alloc(size_t size, void *data);
static void tk_trigger_pcre2_free(void *p, void *data);
static int tk_trigger_re(const pcre2_code *code, const tk_str_t *s,
    void *md);


unsigned
tk_trigger_on_parse(const char *s)
{
    if (strcmp(s, "create") == 0) {
        return TK_TRIGGER_ON_CREATE;
    }
    if (strcmp(s, "update") == 0) {
        return TK_TRIGGER_ON_UPDATE;
    }
    if (strcmp(s, "both") == 0) {
        return TK_TRIGGER_ON_CREATE | TK_TRIGGER_ON_UPDATE;
    }
    return 0;
}


const char *
tk_trigger_on_name(unsigned on)
{
    switch (on) {
    case TK_TRIGGER_ON_CREATE:
        return "create";
    case TK_TRIGGER_ON_UPDATE:
        return "update";
    default:
        return "both";
    }
}


int
tk_trigger_load(tk_trigger_t *t, const char *id, const tk_str_t *pairs,
    size_t n, tk_trigger_error_t *err)
{
    return tk_trigger_load_alloc(t, id, pairs, n, err, NULL, NULL);
}


int
tk_trigger_load_alloc(tk_trigger_t *t, const char *id,
    const tk_str_t *pairs, size_t n, tk_trigger_error_t *err,
    tk_alloc_pt alloc, void *alloc_data)
{
    pcre2_compile_context  *cctx = NULL;
    size_t                  i;
    int                     k;

    memset(t, 0, sizeof(*t));
    t->alloc = alloc;
    t->alloc_data = alloc_data;
    t->active = 1;
    t->on = TK_TRIGGER_ON_CREATE;
    t->autogen = -1;
    err->field = NULL;
    err->message[0] = '\0';
    err->offset = -1;

    if (alloc) {
        /* PCRE2's memory from the pool too (the nginx module) */
        t->gctx = pcre2_general_context_create(tk_trigger_pcre2_alloc,
                                               tk_trigger_pcre2_free, t);
        cctx = t->gctx ? pcre2_compile_context_create(t->gctx) : NULL;
        if (cctx == NULL) {
            return tk_trigger_fail(err, "id", "out of memory", "");
        }
    }

    t->id = tk_trigger_strdup(t, id);
    if (t->id == NULL) {
        return tk_trigger_fail(err, "id", "out of memory", "");
    }

    for (i = 0; i < n; i++) {
        if (tk_trigger_field(t, &pairs[2 * i], &pairs[2 * i + 1], err) != 0) {
            return -1;
        }
    }

    if (t->name == NULL || t->name[0] == '\0') {
        return tk_trigger_fail(err, TK_F_TRG_NAME, "a rule needs a name",
                               "");
    }

    /* compiled once here; the rule is matched thousands of times */
    for (k = 0; k < TK_TRIGGER_NRE; k++) {
        int                 ec;
        PCRE2_SIZE          off;
        uint32_t            opt;
        pcre2_code         *code;

        if (t->re[k] == NULL) {
            continue;
        }

        opt = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF
              | (t->icase ? PCRE2_CASELESS : 0);
        code = pcre2_compile((PCRE2_SPTR) t->re[k], PCRE2_ZERO_TERMINATED,
                             opt, &ec, &off, cctx);
        if (code == NULL) {
            err->field = tk_trigger_re_fields[k];
            pcre2_get_error_message(ec, (PCRE2_UCHAR *) err->message,
                                    sizeof(err->message));
            err->offset = (long) off;
            return -1;
        }

        /* no JIT on this CPU or build: the interpreter does the same.
         * TK_TRIGGER_NOJIT=1 leaves it out on purpose: under valgrind,
         * whose memcheck takes JIT code's 16-byte reads near the end of
         * a subject for errors (t/triggers.t with TRG_VALGRIND=1) */
        if (getenv("TK_TRIGGER_NOJIT") == NULL) {
            (void) pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
        }
        t->code[k] = code;
    }

    return 0;
}


int
tk_trigger_check_pattern(const char *re, int icase, tk_trigger_error_t *err)
{
    tk_trigger_t  t;
    tk_str_t      pairs[6];
    int           rc;

    pairs[0] = (tk_str_t) tk_string(TK_F_TRG_NAME);
    pairs[1] = (tk_str_t) tk_string("check");
    pairs[2] = (tk_str_t) tk_string(TK_F_TRG_SUBJECT);
    pairs[3].data = (unsigned char *) re;
    pairs[3].len = strlen(re);
    pairs[4] = (tk_str_t) tk_string(TK_F_TRG_ICASE);
    pairs[5] = icase ? (tk_str_t) tk_string("1") : (tk_str_t) tk_string("0");

    rc = tk_trigger_load(&t, "check", pairs, 3, err);
    tk_trigger_free(&t);
    return rc;
}


/*
 * set_tags "Eilt, Frist": each tag as tk_tags.h wants it, stored as the
 * ticket's list is (sorted, unique), so applying is a union of lists.
 */
static int
tk_trigger_tags(tk_trigger_t *t, char *s, tk_trigger_error_t *err)
{
    unsigned char  buf[TK_TAGS_MAX][TK_TAG_MAX], list[TK_TAGS_LEN_MAX];
    char          *p, *end, *next;
    size_t         n, len;
    tk_str_t       tags[TK_TAGS_MAX], joined;
    int            rc;

    n = 0;

    for (p = s; *p; p = next) {
        end = strchr(p, ',');
        next = end ? end + 1 : p + strlen(p);
        len = (size_t) ((end ? end : next) - p);

        while (len && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }

        if (len == 0) {
            continue;
        }

        if (n == TK_TAGS_MAX
            || (tags[n].len = tk_tag_normalise((unsigned char *) p, len,
                                               buf[n])) == 0)
        {
            rc = tk_trigger_fail(err, TK_F_TRG_SET_TAGS, "not a tag list "
                                 "(at most 20 tags of 40 characters, no "
                                 "{ } * \" \\): \"%s\"", s);
            tk_trigger_release(t, s);
            return rc;
        }

        tags[n].data = buf[n];
        n++;
    }

    tk_trigger_release(t, t->set_tags);
    t->set_tags = NULL;

    if (n) {
        joined.data = list;
        joined.len = tk_tags_join(tags, n, list);
        t->set_tags = tk_trigger_dup(t, &joined);
        if (t->set_tags == NULL) {
            tk_trigger_release(t, s);
            return tk_trigger_fail(err, TK_F_TRG_SET_TAGS, "out of memory%s",
                                   "");
        }
    }

    tk_trigger_release(t, s);
    return 0;
}


void
tk_trigger_free(tk_trigger_t *t)
{
    int  k;

    for (k = 0; k < TK_TRIGGER_NRE; k++) {
        tk_trigger_release(t, t->re[k]);
        if (t->code[k]) {
            pcre2_code_free(t->code[k]);
        }
    }

    tk_trigger_release(t, t->id);
    tk_trigger_release(t, t->name);
    tk_trigger_release(t, t->group);
    tk_trigger_release(t, t->set_group);
    tk_trigger_release(t, t->set_owner);
    tk_trigger_release(t, t->set_tags);
    tk_trigger_release(t, t->notify);
    tk_trigger_release(t, t->note);
    tk_trigger_release(t, t->raw_group);
    tk_trigger_release(t, t->raw_priority);
    tk_trigger_release(t, t->raw_state);
    t->gctx = NULL;                     /* pool memory: nothing to free */
    memset(t, 0, sizeof(*t));
}


void *
tk_trigger_match_data(void)
{
    /* a yes/no answer needs one pair: rc 0 ("too small") is a match */
    return pcre2_match_data_create(1, NULL);
}


void
tk_trigger_match_data_free(void *md)
{
    pcre2_match_data_free(md);
}


int
tk_trigger_match(const tk_trigger_t *t, unsigned event,
    const tk_trigger_input_t *in, void *md)
{
    const tk_str_t  *text[TK_TRIGGER_NRE];
    int              k;

    if (!t->active || !(t->on & event)) {
        return 0;
    }

    /* the cheap exact conditions first */
    if (t->prio_mask && !(t->prio_mask & (1u << in->priority))) {
        return 0;
    }
    if (t->state_mask && !(t->state_mask & (1u << in->state))) {
        return 0;
    }
    if (t->autogen >= 0 && t->autogen != (in->autogen ? 1 : 0)) {
        return 0;
    }
    if (t->group) {
        tk_str_t  list;

        list.data = (unsigned char *) t->group;
        list.len = strlen(t->group);
        if (in->group.len == 0) {
            return 0;
        }
        {
            char  g[TK_GROUP_MAX + 1];

            if (in->group.len > TK_GROUP_MAX) {
                return 0;
            }
            memcpy(g, in->group.data, in->group.len);
            g[in->group.len] = '\0';
            if (!tk_flags_has(&list, g)) {
                return 0;
            }
        }
    }

    text[TK_TRIGGER_RE_SUBJECT] = &in->subject;
    text[TK_TRIGGER_RE_BODY] = &in->body;
    text[TK_TRIGGER_RE_FROM] = &in->from;

    for (k = 0; k < TK_TRIGGER_NRE; k++) {
        if (t->code[k] && !tk_trigger_re(t->code[k], text[k], md)) {
            return 0;
        }
    }

    return 1;
}


static int
tk_trigger_re(const pcre2_code *code, const tk_str_t *s, void *md)
{
    static pcre2_match_context  *mctx;
    int                          rc;

    if (mctx == NULL) {
        mctx = pcre2_match_context_create(NULL);
        if (mctx) {
            pcre2_set_match_limit(mctx, TK_TRIGGER_MATCH_LIMIT);
        }
    }

    rc = pcre2_match(code, s->data ? s->data : (PCRE2_SPTR) "", s->len, 0, 0,
                     md, mctx);
    return rc >= 0;
}


/* ---- fields ------------------------------------------------------------- */

static int
tk_trigger_field(tk_trigger_t *t, const tk_str_t *f, const tk_str_t *v,
    tk_trigger_error_t *err)
{
    char  *s;
    int    k, n;

    s = tk_trigger_dup(t, v);
    if (s == NULL) {
        return tk_trigger_fail(err, "rule", "out of memory", "");
    }

    for (k = 0; k < TK_TRIGGER_NRE; k++) {
        if (tk_str_eq_cstr(f, tk_trigger_re_fields[k])) {
            tk_trigger_release(t, t->re[k]);
            t->re[k] = NULL;
            if (s[0] == '\0') {
                tk_trigger_release(t, s);
            } else {
                t->re[k] = s;
            }
            return 0;
        }
    }

    if (memchr(s, '\r', v->len) || memchr(s, '\n', v->len)) {
        /* only the note may have lines: everything else goes into
         * headers or keys */
        if (!tk_str_eq_cstr(f, TK_F_TRG_NOTE)) {
            n = tk_trigger_fail(err, "rule", "CR/LF not allowed in a "
                                "field other than the note%s", "");
            tk_trigger_release(t, s);
            return n;
        }
    }

    if (tk_str_eq_cstr(f, TK_F_TRG_NAME)) {
        /* names are joined with ',' in the actor "trigger:A,B" */
        if (strchr(s, ',')) {
            n = tk_trigger_fail(err, TK_F_TRG_NAME, "no ',' in a name: "
                                "\"%s\"", s);
            tk_trigger_release(t, s);
            return n;
        }
        tk_trigger_release(t, t->name);
        t->name = s;
        return 0;
    }

    if (tk_str_eq_cstr(f, TK_F_TRG_ACTIVE) || tk_str_eq_cstr(f, TK_F_TRG_ICASE)
        || tk_str_eq_cstr(f, TK_F_TRG_AUTO))
    {
        if (strcmp(s, "0") && strcmp(s, "1")
            && !(s[0] == '\0' && tk_str_eq_cstr(f, TK_F_TRG_AUTO)))
        {
            n = tk_trigger_fail(err, NULL, "must be 0 or 1, not \"%s\"", s);
            err->field = tk_str_eq_cstr(f, TK_F_TRG_AUTO) ? TK_F_TRG_AUTO
                         : tk_str_eq_cstr(f, TK_F_TRG_ICASE) ? TK_F_TRG_ICASE
                         : TK_F_TRG_ACTIVE;
            tk_trigger_release(t, s);
            return n;
        }
        if (tk_str_eq_cstr(f, TK_F_TRG_ACTIVE)) {
            t->active = s[0] == '1';
        } else if (tk_str_eq_cstr(f, TK_F_TRG_ICASE)) {
            t->icase = s[0] == '1';
        } else {
            t->autogen = s[0] ? s[0] - '0' : -1;
        }
        tk_trigger_release(t, s);
        return 0;
    }

    if (tk_str_eq_cstr(f, TK_F_TRG_ON)) {
        t->on = tk_trigger_on_parse(s);
        n = t->on ? 0 : tk_trigger_fail(err, TK_F_TRG_ON,
                "must be create, update or both, not \"%s\"", s);
        tk_trigger_release(t, s);
        return n;
    }

    if (tk_str_eq_cstr(f, TK_F_TRG_PRIORITY)) {
        if (tk_trigger_mask(s, tk_prio_parse, &t->prio_mask) != 0) {
            n = tk_trigger_fail(err, TK_F_TRG_PRIORITY, "unknown priority in "
                                "\"%s\" (low normal high urgent)", s);
            tk_trigger_release(t, s);
            return n;
        }
        tk_trigger_release(t, t->raw_priority);
        t->raw_priority = s[0] ? s : (tk_trigger_release(t, s), NULL);
        return 0;
    }

    if (tk_str_eq_cstr(f, TK_F_TRG_STATE)) {
        if (tk_trigger_mask(s, tk_state_parse, &t->state_mask) != 0) {
            n = tk_trigger_fail(err, TK_F_TRG_STATE, "unknown state in "
                                "\"%s\"", s);
            tk_trigger_release(t, s);
            return n;
        }
        tk_trigger_release(t, t->raw_state);
        t->raw_state = s[0] ? s : (tk_trigger_release(t, s), NULL);
        return 0;
    }

    if (tk_str_eq_cstr(f, TK_F_TRG_SET_TAGS)) {
        return tk_trigger_tags(t, s, err);
    }

    if (tk_str_eq_cstr(f, TK_F_TRG_SET_PRIORITY)
        || tk_str_eq_cstr(f, TK_F_TRG_SET_STATE))
    {
        int  prio = tk_str_eq_cstr(f, TK_F_TRG_SET_PRIORITY);
        int  val = s[0] == '\0' ? 0 : prio ? tk_prio_parse(s, strlen(s))
                                           : tk_state_parse(s, strlen(s));

        if (s[0] && val == 0) {
            n = tk_trigger_fail(err, prio ? TK_F_TRG_SET_PRIORITY
                                : TK_F_TRG_SET_STATE, "unknown value \"%s\"",
                                s);
            tk_trigger_release(t, s);
            return n;
        }
        *(prio ? &t->set_priority : &t->set_state) = val;
        tk_trigger_release(t, s);
        return 0;
    }

    if (tk_str_eq_cstr(f, TK_F_TRG_GROUP) || tk_str_eq_cstr(f, TK_F_TRG_NOTIFY)
        || tk_str_eq_cstr(f, TK_F_TRG_SET_GROUP)
        || tk_str_eq_cstr(f, TK_F_TRG_SET_OWNER))
    {
        int  notify = tk_str_eq_cstr(f, TK_F_TRG_NOTIFY);
        int  one = !notify && !tk_str_eq_cstr(f, TK_F_TRG_GROUP);

        /* set_owner "-": unassign */
        if (s[0] && !(tk_str_eq_cstr(f, TK_F_TRG_SET_OWNER) && s[0] == '-'
                      && s[1] == '\0')
            && (tk_trigger_names(s, notify ? 2 : one
                     && tk_str_eq_cstr(f, TK_F_TRG_SET_OWNER) ? 1 : 0) != 0
                     || (one && strchr(s, ','))))
        {
            n = tk_trigger_fail(err, NULL, "invalid name in \"%s\"", s);
            err->field = notify ? TK_F_TRG_NOTIFY
                         : tk_str_eq_cstr(f, TK_F_TRG_GROUP) ? TK_F_TRG_GROUP
                         : tk_str_eq_cstr(f, TK_F_TRG_SET_GROUP)
                           ? TK_F_TRG_SET_GROUP : TK_F_TRG_SET_OWNER;
            tk_trigger_release(t, s);
            return n;
        }

        if (s[0] == '\0') {
            tk_trigger_release(t, s);
            s = NULL;
        }

        if (tk_str_eq_cstr(f, TK_F_TRG_GROUP)) {
            tk_trigger_release(t, t->group);
            tk_trigger_release(t, t->raw_group);
            t->group = s;
            t->raw_group = s ? tk_trigger_strdup(t, s) : NULL;
        } else if (notify) {
            tk_trigger_release(t, t->notify);
            t->notify = s;
        } else if (tk_str_eq_cstr(f, TK_F_TRG_SET_GROUP)) {
            tk_trigger_release(t, t->set_group);
            t->set_group = s;
        } else {
            tk_trigger_release(t, t->set_owner);
            /* "-" unassigns: stored as "" */
            if (s && strcmp(s, "-") == 0) {
                s[0] = '\0';
            }
            t->set_owner = s;
        }
        return 0;
    }

    if (tk_str_eq_cstr(f, TK_F_TRG_NOTE)) {
        tk_trigger_release(t, t->note);
        t->note = s[0] ? s : (tk_trigger_release(t, s), NULL);
        return 0;
    }

    /* unknown fields (a newer ticketctl's) are left alone */
    tk_trigger_release(t, s);
    return 0;
}


/* "urgent,high" -> bits; "" -> 0 (any) */
static int
tk_trigger_mask(const char *list, int (*parse)(const char *, size_t),
    unsigned *mask)
{
    const char  *p = list, *e;
    int          v;

    *mask = 0;

    while (*p) {
        e = strchr(p, ',');
        if (e == NULL) {
            e = p + strlen(p);
        }
        v = parse(p, (size_t) (e - p));
        if (v <= 0 || v > 30) {
            return -1;
        }
        *mask |= 1u << v;
        p = *e ? e + 1 : e;
    }

    return 0;
}


/* kind 0: groups; 1: one login; 2: logins and @groups */
static int
tk_trigger_names(const char *list, int kind)
{
    const char  *p = list, *e;
    tk_str_t     name;

    while (*p) {
        e = strchr(p, ',');
        if (e == NULL) {
            e = p + strlen(p);
        }
        name.data = (unsigned char *) p;
        name.len = (size_t) (e - p);
        if (kind == 2 && name.len && p[0] == '@') {
            name.data++;
            name.len--;
            if (!tk_valid_group(&name)) {
                return -1;
            }
        } else if (kind == 0 ? !tk_valid_group(&name)
                             : !tk_valid_login(&name))
        {
            return -1;
        }
        p = *e ? e + 1 : e;
    }

    return 0;
}


static int
tk_trigger_fail(tk_trigger_error_t *err, const char *field, const char *fmt,
    const char *value)
{
    err->field = field;
    snprintf(err->message, sizeof(err->message), fmt, value);
    err->offset = -1;
    return -1;
}


static char *
tk_trigger_dup(tk_trigger_t *t, const tk_str_t *v)
{
    char  *s;

    s = t->alloc ? t->alloc(t->alloc_data, v->len + 1) : malloc(v->len + 1);
    if (s) {
        memcpy(s, v->data, v->len);
        s[v->len] = '\0';
    }
    return s;
}


static char *
tk_trigger_strdup(tk_trigger_t *t, const char *s)
{
    tk_str_t  v;

    v.data = (unsigned char *) s;
    v.len = strlen(s);
    return tk_trigger_dup(t, &v);
}


/* memory of the caller's allocator (a pool) goes with the pool */
static void
tk_trigger_release(tk_trigger_t *t, void *p)
{
    if (t->alloc == NULL) {
        free(p);
    }
}


static void *
tk_trigger_pcre2_alloc(size_t size, void *data)
{
    tk_trigger_t  *t = data;

    return t->alloc(t->alloc_data, size);
}


static void
tk_trigger_pcre2_free(void *p, void *data)
{
    (void) p;
    (void) data;
}
