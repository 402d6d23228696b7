/*
 * tk_feed.c -- entries of the change feed tk:{ix}:feed (see tk_feed.h):
 * built while the write path adds a change's commands, XADDed at its
 * end, and merged with the entry just before when that one is for the
 * same ticket and actor.
 */

#include <string.h>

#include "tk_feed.h"


#define TK_FEED_HEAD      20            /* XADD ... group G changed C   */

struct tk_feed_s {
    uint64_t    ticket;
    unsigned    parts;                  /* TK_FEED_* in this entry      */
    int         rev_known;
    uint64_t    rev_base;
    unsigned    bumps;
    tk_str_t    by;
    int         src;
    tk_str_t    group;
    tk_str_t    changed;                /* "state,owner"                */
    size_t      changed_cap;
    tk_str_t   *pairs;                  /* field, value, field, ...     */
    size_t      npairs;                 /* strings, not pairs           */
    size_t      cap;
};


static int tk_feed_copy(tk_cmds_t *c, const tk_str_t *in, tk_str_t *out);
static void tk_feed_pair(tk_cmds_t *c, tk_feed_t *f, const char *field,
    size_t flen, const tk_str_t *value);
static const char *tk_feed_event(const tk_feed_t *f);
static void tk_feed_cstr(tk_str_t *s, const char *text);
static void tk_feed_utoa(tk_str_t *s, char *buf, size_t size, uint64_t v);


static const char  *tk_src_names[] = {
    "system", "web", "api", "mail", "cli"
};


const char *
tk_src_name(int src)
{
    if (src < TK_SRC_SYSTEM || src > TK_SRC_CLI) {
        return tk_src_names[TK_SRC_SYSTEM];
    }

    return tk_src_names[src];
}


void
tk_cmds_actor(tk_cmds_t *c, const tk_str_t *actor, int src)
{
    c->src = src;
    c->actor.len = 0;
    c->actor.data = NULL;

    if (actor && actor->len) {
        tk_feed_copy(c, actor, &c->actor);
    }
}


void
tk_cmds_nofeed(tk_cmds_t *c)
{
    c->nofeed = 1;
}


/* Values outlive the caller's structs (an entry may be written again
 * by the next call), so they are copied into the list's memory. */
static int
tk_feed_copy(tk_cmds_t *c, const tk_str_t *in, tk_str_t *out)
{
    out->len = in->len;
    out->data = c->alloc(c->alloc_data, in->len ? in->len : 1);

    if (out->data == NULL) {
        c->failed = 1;
        out->len = 0;
        return -1;
    }

    if (in->len) {
        memcpy(out->data, in->data, in->len);
    }

    return 0;
}


/*
 * Merging keeps "one entry per change": a new ticket with its first
 * mail, a follow-up mail with the state it reopens, a reply with the
 * state the agent set are one entry each -- a consumer never has to
 * wait for the second half.  Only a direct neighbour can merge: taking
 * back the last command is free, anything else would move bytes.
 */
tk_feed_t *
tk_feed_open(tk_cmds_t *c, uint64_t ticket, unsigned part,
    const tk_str_t *by)
{
    static const tk_str_t  system = tk_string("system");

    tk_feed_t       *f;
    const tk_str_t  *who;

    if (c->nofeed || c->failed) {
        return NULL;
    }

    who = c->actor.len ? &c->actor : (by && by->len ? by : &system);

    f = c->feed;

    if (f && c->feed_end == c->n && c->n > 0 && f->ticket == ticket
        && !(f->parts & part)
        && !(part & (TK_FEED_DELIVERY | TK_FEED_FLAG))
        && !(f->parts & (TK_FEED_DELIVERY | TK_FEED_FLAG))
        && f->src == c->src && tk_str_eq(&f->by, who))
    {
        c->n--;
        c->len = c->cmd[c->n].off;
        c->feed_end = 0;
        f->parts |= part;
        return f;
    }

    f = c->alloc(c->alloc_data, sizeof(tk_feed_t));
    if (f == NULL) {
        c->failed = 1;
        return NULL;
    }

    memset(f, 0, sizeof(tk_feed_t));
    f->ticket = ticket;
    f->parts = part;
    f->src = c->src;

    if (tk_feed_copy(c, who, &f->by) != 0) {
        return NULL;
    }

    c->feed = f;
    c->feed_end = 0;

    return f;
}


void
tk_feed_rev_base(tk_feed_t *f, uint64_t rev)
{
    if (f == NULL || f->rev_known) {
        return;
    }

    /* bumps already counted happened after this read */
    f->rev_known = 1;
    f->rev_base = rev;
}


void
tk_feed_bump(tk_feed_t *f)
{
    if (f) {
        f->bumps++;
    }
}


void
tk_feed_group(tk_cmds_t *c, tk_feed_t *f, const tk_str_t *group)
{
    if (f == NULL || group == NULL || group->len == 0) {
        return;
    }

    tk_feed_copy(c, group, &f->group);
}


void
tk_feed_changed(tk_cmds_t *c, tk_feed_t *f, const char *field,
    const tk_str_t *from, const tk_str_t *to)
{
    static const tk_str_t  empty = tk_null_string;

    char            name[64];
    size_t          flen, need;
    unsigned char  *buf;

    if (f == NULL) {
        return;
    }

    flen = strlen(field);
    if (flen + sizeof(".from") > sizeof(name)) {
        c->failed = 1;
        return;
    }

    need = f->changed.len + 1 + flen;

    if (need > f->changed_cap) {
        buf = c->alloc(c->alloc_data, need * 2);
        if (buf == NULL) {
            c->failed = 1;
            return;
        }

        if (f->changed.len) {
            memcpy(buf, f->changed.data, f->changed.len);
        }

        f->changed.data = buf;
        f->changed_cap = need * 2;
    }

    if (f->changed.len) {
        f->changed.data[f->changed.len++] = ',';
    }

    memcpy(f->changed.data + f->changed.len, field, flen);
    f->changed.len += flen;

    memcpy(name, field, flen);
    memcpy(name + flen, ".from", sizeof(".from"));

    tk_feed_pair(c, f, field, flen, to ? to : &empty);
    tk_feed_pair(c, f, name, flen + sizeof(".from") - 1,
                 from ? from : &empty);
}


void
tk_feed_str(tk_cmds_t *c, tk_feed_t *f, const char *field,
    const tk_str_t *value)
{
    static const tk_str_t  empty = tk_null_string;

    if (f) {
        tk_feed_pair(c, f, field, strlen(field), value ? value : &empty);
    }
}


void
tk_feed_word(tk_cmds_t *c, tk_feed_t *f, const char *field,
    const char *value)
{
    tk_str_t  s;

    tk_feed_cstr(&s, value);
    tk_feed_str(c, f, field, &s);
}


void
tk_feed_num(tk_cmds_t *c, tk_feed_t *f, const char *field, uint64_t value)
{
    char      buf[TK_UINT_LEN + 1];
    tk_str_t  s;

    if (f == NULL) {
        return;
    }

    s.data = (unsigned char *) tk_str_utoa(buf + sizeof(buf), value);
    s.len = (size_t) (buf + sizeof(buf) - (char *) s.data);

    tk_feed_pair(c, f, field, strlen(field), &s);
}


/* Field names are the write path's constants; values are copied. */
static void
tk_feed_pair(tk_cmds_t *c, tk_feed_t *f, const char *field, size_t flen,
    const tk_str_t *value)
{
    tk_str_t  *pairs, name;
    size_t     cap;

    if (c->failed) {
        return;
    }

    if (f->npairs + 2 > f->cap) {
        cap = f->cap ? f->cap * 2 : 16;

        pairs = c->alloc(c->alloc_data, cap * sizeof(tk_str_t));
        if (pairs == NULL) {
            c->failed = 1;
            return;
        }

        if (f->npairs) {
            memcpy(pairs, f->pairs, f->npairs * sizeof(tk_str_t));
        }

        f->pairs = pairs;
        f->cap = cap;
    }

    name.data = (unsigned char *) field;
    name.len = flen;

    if (tk_feed_copy(c, &name, &f->pairs[f->npairs]) != 0
        || tk_feed_copy(c, value, &f->pairs[f->npairs + 1]) != 0)
    {
        return;
    }

    f->npairs += 2;
}


/* One word for "what happened"; the parts say the rest. */
static const char *
tk_feed_event(const tk_feed_t *f)
{
    if (f->parts & TK_FEED_CREATED) {
        return "created";
    }

    if (f->parts & TK_FEED_ARTICLE) {
        return "article";
    }

    if (f->parts & TK_FEED_DELIVERY) {
        return "delivery";
    }

    if (f->parts & TK_FEED_FLAG) {
        return "flag";
    }

    /* a change of the tags alone (tk_tags.c): consumers of "update"
     * (triggers, timers) have nothing to do with it */
    if (f->changed.len == sizeof(TK_F_TAGS) - 1
        && memcmp(f->changed.data, TK_F_TAGS, f->changed.len) == 0)
    {
        return "tags";
    }

    return "update";
}


/*
 * XADD tk:{ix}:feed MAXLEN ~ N * ticket N [rev R] event E src S by B
 * [group G] [changed LIST] pairs...: approximate trimming costs nothing
 * (whole stream nodes go), exact trimming would cost per entry.
 */
void
tk_feed_close(tk_cmds_t *c, tk_feed_t *f)
{
    char         ticket[TK_UINT_LEN + 1], rev[TK_UINT_LEN + 1];
    const char  *event, *src;
    tk_str_t    *argv;
    size_t       i;
    int          argc;

    if (f == NULL || c->failed) {
        return;
    }

    argv = c->alloc(c->alloc_data,
                    (TK_FEED_HEAD + f->npairs) * sizeof(tk_str_t));
    if (argv == NULL) {
        c->failed = 1;
        return;
    }

    event = tk_feed_event(f);
    src = tk_src_name(f->src);

    argc = 0;
    tk_feed_cstr(&argv[argc++], "XADD");
    tk_feed_cstr(&argv[argc++], TK_KEY_FEED);
    tk_feed_cstr(&argv[argc++], "MAXLEN");
    tk_feed_cstr(&argv[argc++], "~");
    tk_feed_cstr(&argv[argc++], TK_FEED_MAXLEN);
    tk_feed_cstr(&argv[argc++], "*");

    tk_feed_cstr(&argv[argc++], "ticket");
    tk_feed_utoa(&argv[argc++], ticket, sizeof(ticket), f->ticket);

    if (f->rev_known) {
        tk_feed_cstr(&argv[argc++], "rev");
        tk_feed_utoa(&argv[argc++], rev, sizeof(rev),
                     f->rev_base + f->bumps);
    }

    tk_feed_cstr(&argv[argc++], "event");
    tk_feed_cstr(&argv[argc++], event);
    tk_feed_cstr(&argv[argc++], "src");
    tk_feed_cstr(&argv[argc++], src);
    tk_feed_cstr(&argv[argc++], "by");
    argv[argc++] = f->by;

    if (f->group.len) {
        tk_feed_cstr(&argv[argc++], "group");
        argv[argc++] = f->group;
    }

    if (f->changed.len) {
        tk_feed_cstr(&argv[argc++], "changed");
        argv[argc++] = f->changed;
    }

    for (i = 0; i < f->npairs; i++) {
        argv[argc++] = f->pairs[i];
    }

    tk_cmds_argv(c, argc, argv);

    c->feed = f;
    c->feed_end = c->n;
}


static void
tk_feed_cstr(tk_str_t *s, const char *text)
{
    s->data = (unsigned char *) text;
    s->len = strlen(text);
}


static void
tk_feed_utoa(tk_str_t *s, char *buf, size_t size, uint64_t v)
{
    s->data = (unsigned char *) tk_str_utoa(buf + size, v);
    s->len = (size_t) (buf + size - (char *) s->data);
}
