/*
 * tk_ticket.c -- the shared write path of a ticket: the commands that
 * parse and store it and record its history.  Its overview index and
 * counts: tk_ticket_index.c.  Articles and customers: tk_article.c.
 * Callers wrap the commands in MULTI/EXEC; see SCHEMA.md.
 */

#include <string.h>

#include "tk_tags.h"
#include "tk_ticket.h"
#include "tk_ticket_index.h"


static void tk_ticket_history(tk_cmds_t *c, tk_feed_t *f,
    const tk_ticket_t *old, const tk_ticket_t *cur, const tk_str_t *by,
    int64_t now);
static void tk_history_str(tk_cmds_t *c, tk_feed_t *f,
    const tk_ticket_t *new, const tk_str_t *by, int64_t now,
    const char *field, const tk_str_t *from, const tk_str_t *to);
static void tk_history_int(tk_cmds_t *c, tk_feed_t *f,
    const tk_ticket_t *new, const tk_str_t *by, int64_t now,
    const char *field, int64_t from, int64_t to, int empty_zero);
static size_t tk_opt_num(char *buf, int64_t v);
static int64_t tk_parse_num(const tk_str_t *s);
static tk_str_t tk_history_cstr(const char *s);


/* ---- parsing ------------------------------------------------------------ */

/* "" (an unset optional time) and garbage both read as 0 */
static int64_t
tk_parse_num(const tk_str_t *s)
{
    long long  v;

    if (s->len && s->data[0] == '-') {
        tk_str_t  rest;

        rest.data = s->data + 1;
        rest.len = s->len - 1;
        v = tk_str_atoll(&rest);
        return v < 0 ? 0 : -v;
    }

    v = tk_str_atoll(s);
    return v < 0 ? 0 : v;
}


int
tk_ticket_parse(tk_ticket_t *t, const tk_str_t *pairs, size_t n)
{
    const tk_str_t  *f, *v;
    size_t           i;

    memset(t, 0, sizeof(tk_ticket_t));

    for (i = 0; i < n; i++) {
        f = &pairs[2 * i];
        v = &pairs[2 * i + 1];

        if (tk_str_eq_cstr(f, TK_F_NUMBER)) {
            t->number = (uint64_t) tk_parse_num(v);

        } else if (tk_str_eq_cstr(f, TK_F_TITLE)) {
            t->title = *v;

        } else if (tk_str_eq_cstr(f, TK_F_GROUP)) {
            t->group = *v;

        } else if (tk_str_eq_cstr(f, TK_F_OWNER)) {
            t->owner = *v;

        } else if (tk_str_eq_cstr(f, TK_F_CUSTOMER)) {
            t->customer = (uint64_t) tk_parse_num(v);

        } else if (tk_str_eq_cstr(f, TK_F_CUSTOMER_NAME)) {
            t->customer_name = *v;

        } else if (tk_str_eq_cstr(f, TK_F_CUSTOMER_EMAIL)) {
            t->customer_email = *v;

        } else if (tk_str_eq_cstr(f, TK_F_STATE)) {
            t->state = tk_state_parse((const char *) v->data, v->len);

        } else if (tk_str_eq_cstr(f, TK_F_PRIORITY)) {
            t->priority = tk_prio_parse((const char *) v->data, v->len);

        } else if (tk_str_eq_cstr(f, TK_F_CREATED)) {
            t->created = tk_parse_num(v);

        } else if (tk_str_eq_cstr(f, TK_F_UPDATED)) {
            t->updated = tk_parse_num(v);

        } else if (tk_str_eq_cstr(f, TK_F_FIRST_RESPONSE)) {
            t->first_response = tk_parse_num(v);

        } else if (tk_str_eq_cstr(f, TK_F_ESCALATION_AT)) {
            t->escalation_at = tk_parse_num(v);

        } else if (tk_str_eq_cstr(f, TK_F_PENDING_UNTIL)) {
            t->pending_until = tk_parse_num(v);

        } else if (tk_str_eq_cstr(f, TK_F_ESCALATED)) {
            t->escalated = tk_parse_num(v);

        } else if (tk_str_eq_cstr(f, TK_F_FLAGS)) {
            t->flags = *v;

        } else if (tk_str_eq_cstr(f, TK_F_ARTICLE_COUNT)) {
            t->articles = (uint64_t) tk_parse_num(v);

        } else if (tk_str_eq_cstr(f, TK_F_REV)) {
            t->rev = (uint64_t) tk_parse_num(v);

        } else if (tk_str_eq_cstr(f, TK_F_TAGS)) {
            t->tags = *v;

        } else if (tk_str_eq_cstr(f, TK_F_MERGED_INTO)) {
            t->merged_into = (uint64_t) tk_parse_num(v);
        }
    }

    if (t->number == 0 || t->state == 0 || t->priority == 0) {
        return -1;
    }

    return 0;
}


int
tk_article_parse(tk_article_t *a, const tk_str_t *pairs, size_t n)
{
    const tk_str_t  *f, *v;
    size_t           i;

    memset(a, 0, sizeof(tk_article_t));

    for (i = 0; i < n; i++) {
        f = &pairs[2 * i];
        v = &pairs[2 * i + 1];

        if (tk_str_eq_cstr(f, TK_F_ID)) {
            a->id = (uint64_t) tk_parse_num(v);

        } else if (tk_str_eq_cstr(f, TK_F_TICKET)) {
            a->ticket = (uint64_t) tk_parse_num(v);

        } else if (tk_str_eq_cstr(f, TK_F_KIND)) {
            a->kind = tk_article_kind_parse((const char *) v->data, v->len);

        } else if (tk_str_eq_cstr(f, TK_F_FROM)) {
            a->from = *v;

        } else if (tk_str_eq_cstr(f, TK_F_TO)) {
            a->to = *v;

        } else if (tk_str_eq_cstr(f, TK_F_CC)) {
            a->cc = *v;

        } else if (tk_str_eq_cstr(f, TK_F_REPLY_TO)) {
            a->reply_to = *v;

        } else if (tk_str_eq_cstr(f, TK_F_SUBJECT)) {
            a->subject = *v;

        } else if (tk_str_eq_cstr(f, TK_F_MESSAGE_ID)) {
            a->message_id = *v;

        } else if (tk_str_eq_cstr(f, TK_F_IN_REPLY_TO)) {
            a->in_reply_to = *v;

        } else if (tk_str_eq_cstr(f, TK_F_BODY)) {
            a->body = *v;

        } else if (tk_str_eq_cstr(f, TK_F_BODY_HTML)) {
            a->body_html = *v;

        } else if (tk_str_eq_cstr(f, TK_F_AUTHOR)) {
            a->author = *v;

        } else if (tk_str_eq_cstr(f, TK_F_TIME)) {
            a->time = tk_parse_num(v);

        } else if (tk_str_eq_cstr(f, TK_F_ATTACHMENTS)) {
            a->attachments = (unsigned) tk_parse_num(v);

        } else if (tk_str_eq_cstr(f, TK_F_SIZE)) {
            a->size = (uint64_t) tk_parse_num(v);

        } else if (tk_str_eq_cstr(f, TK_F_FLAGS)) {
            a->flags = *v;

        } else if (tk_str_eq_cstr(f, TK_F_ATTACHMENT_NAMES)) {
            a->attachment_names = *v;

        } else if (tk_str_eq_cstr(f, TK_F_BCC)) {
            a->bcc = *v;

        } else if (tk_str_eq_cstr(f, TK_F_REFERENCES)) {
            a->references = *v;

        } else if (tk_str_eq_cstr(f, TK_F_CRYPT)) {
            a->crypt = *v;

        } else if (tk_str_eq_cstr(f, TK_F_DELIVERY)) {
            a->delivery = *v;

        } else if (tk_str_eq_cstr(f, TK_F_DELIVERY_INFO)) {
            a->delivery_info = *v;

        } else if (tk_str_eq_cstr(f, TK_F_LIST_ID)) {
            a->list_id = *v;
        }
    }

    if (a->id == 0 || a->ticket == 0 || a->kind == 0) {
        return -1;
    }

    return 0;
}


/* ---- ticket hash -------------------------------------------------------- */

size_t
tk_ticket_num(char *buf, int64_t v)
{
    char      tmp[TK_NUM_MAX], *p;
    uint64_t  u;
    size_t    n;

    u = v < 0 ? (uint64_t) -(v + 1) + 1 : (uint64_t) v;
    p = tmp + sizeof(tmp);

    do {
        *--p = (char) ('0' + u % 10);
        u /= 10;
    } while (u);

    if (v < 0) {
        *--p = '-';
    }

    n = (size_t) (tmp + sizeof(tmp) - p);
    memcpy(buf, p, n);
    buf[n] = '\0';

    return n;
}


/* optional times and ids: 0 is stored as "" so redis-cli shows "unset" */
static size_t
tk_opt_num(char *buf, int64_t v)
{
    if (v == 0) {
        buf[0] = '\0';
        return 0;
    }

    return tk_ticket_num(buf, v);
}


void
tk_ticket_write(tk_cmds_t *c, const tk_ticket_t *t)
{
    char    key[TK_KEY_MAX];
    char    cust[TK_NUM_MAX], first[TK_NUM_MAX], esc[TK_NUM_MAX];
    char    pend[TK_NUM_MAX];
    size_t  ncust, nfirst, nesc, npend;

    if (tk_key_ticket(key, sizeof(key), t->number) == 0) {
        c->failed = 1;
        return;
    }

    ncust = tk_opt_num(cust, (int64_t) t->customer);
    nfirst = tk_opt_num(first, t->first_response);
    nesc = tk_opt_num(esc, t->escalation_at);
    npend = tk_opt_num(pend, t->pending_until);

    tk_cmds_add(c, "HSET %s"
        " " TK_F_NUMBER " %llu"
        " " TK_F_TITLE " %S"
        " " TK_F_GROUP " %S"
        " " TK_F_OWNER " %S"
        " " TK_F_CUSTOMER " %b"
        " " TK_F_CUSTOMER_NAME " %S"
        " " TK_F_CUSTOMER_EMAIL " %S"
        " " TK_F_STATE " %d"
        " " TK_F_PRIORITY " %d"
        " " TK_F_CREATED " %lld"
        " " TK_F_UPDATED " %lld"
        " " TK_F_FIRST_RESPONSE " %b"
        " " TK_F_ESCALATION_AT " %b"
        " " TK_F_PENDING_UNTIL " %b"
        " " TK_F_FLAGS " %S"
        " " TK_F_ARTICLE_COUNT " %llu"
        " " TK_F_TAGS " %S",
        key, (unsigned long long) t->number, &t->title, &t->group,
        &t->owner, cust, ncust, &t->customer_name, &t->customer_email,
        t->state, t->priority, (long long) t->created,
        (long long) t->updated, first, nfirst, esc, nesc, pend, npend,
        &t->flags, (unsigned long long) t->articles, &t->tags);

    if (t->merged_into) {
        tk_cmds_add(c, "HSET %s " TK_F_MERGED_INTO " %llu", key,
                    (unsigned long long) t->merged_into);
    }

    /* not part of the HSET: a rewrite must never set it back */
    tk_cmds_add(c, "HINCRBY %s " TK_F_REV " 1", key);
}


/* ---- changes ------------------------------------------------------------ */

/*
 * A ticket that moves partition (group, state, owner, or the flag "auto"
 * of an unassigned ticket) leaves every set of the old one and enters
 * every set of the new one, and the counts move; one that stays is
 * updated in place (tk_ticket_index_update: a ZADD alone would leave
 * an old lexical member -- the old title -- behind, so those are
 * replaced).  A change is a change: "updated" becomes at least now.
 */
void
tk_ticket_update(tk_cmds_t *c, const tk_ticket_t *old, const tk_ticket_t *new,
    const tk_str_t *by, int64_t now)
{
    tk_ticket_t  cur;
    tk_feed_t   *f;
    int          counts;

    cur = *new;
    if (now > cur.updated) {
        cur.updated = now;
    }

    counts = tk_ticket_index_counts(old, &cur);

    f = tk_feed_open(c, cur.number, TK_FEED_FIELDS, by);

    /* 0: a ticket not read from Redis (or from before rev existed) */
    if (old->rev) {
        tk_feed_rev_base(f, old->rev);
    }

    if (counts) {
        tk_ticket_index(c, old, 0, counts);
    }

    tk_ticket_write(c, &cur);
    tk_feed_bump(f);

    if (counts) {
        tk_ticket_index(c, &cur, 1, counts);

    } else {
        tk_ticket_index_update(c, old, &cur);
    }

    tk_index_touch(c);

    tk_feed_group(c, f, &cur.group);

    /* the tag sets' scores follow "updated" (tk_tags.h) */
    tk_tags_sync(c, f, cur.number, &old->tags, &cur.tags, cur.updated, by,
                 now);

    tk_ticket_history(c, f, old, &cur, by, now);

    tk_feed_close(c, f);
}


/* One history entry and feed part per changed field, in a fixed order. */
static void
tk_ticket_history(tk_cmds_t *c, tk_feed_t *f, const tk_ticket_t *old,
    const tk_ticket_t *cur, const tk_str_t *by, int64_t now)
{
    tk_history_str(c, f, cur, by, now, TK_F_TITLE, &old->title,
                   &cur->title);
    tk_history_str(c, f, cur, by, now, TK_F_GROUP, &old->group,
                   &cur->group);
    tk_history_str(c, f, cur, by, now, TK_F_OWNER, &old->owner,
                   &cur->owner);
    tk_history_int(c, f, cur, by, now, TK_F_STATE, old->state, cur->state,
                   0);
    tk_history_int(c, f, cur, by, now, TK_F_PRIORITY, old->priority,
                   cur->priority, 0);
    tk_history_int(c, f, cur, by, now, TK_F_CUSTOMER,
                   (int64_t) old->customer, (int64_t) cur->customer, 1);
    tk_history_int(c, f, cur, by, now, TK_F_PENDING_UNTIL,
                   old->pending_until, cur->pending_until, 1);

    /* flags have no history entry, but a consumer may care ("auto") */
    if (!tk_str_eq(&old->flags, &cur->flags)) {
        tk_feed_changed(c, f, TK_F_FLAGS, &old->flags, &cur->flags);
    }
}


/* A changed field: its history entry and its part of the feed entry. */
static void
tk_history_str(tk_cmds_t *c, tk_feed_t *f, const tk_ticket_t *new,
    const tk_str_t *by, int64_t now, const char *field, const tk_str_t *from,
    const tk_str_t *to)
{
    if (tk_str_eq(from, to)) {
        return;
    }

    tk_history_add(c, new->number, now, by, field, from, to);
    tk_feed_changed(c, f, field, from, to);
}


static void
tk_history_int(tk_cmds_t *c, tk_feed_t *f, const tk_ticket_t *new,
    const tk_str_t *by, int64_t now, const char *field, int64_t from,
    int64_t to, int empty_zero)
{
    char      fbuf[TK_NUM_MAX], tbuf[TK_NUM_MAX];
    tk_str_t  fs, ts;

    if (from == to) {
        return;
    }

    fs.data = (unsigned char *) fbuf;
    ts.data = (unsigned char *) tbuf;
    fs.len = empty_zero ? tk_opt_num(fbuf, from) : tk_ticket_num(fbuf, from);
    ts.len = empty_zero ? tk_opt_num(tbuf, to) : tk_ticket_num(tbuf, to);

    tk_history_add(c, new->number, now, by, field, &fs, &ts);
    tk_feed_changed(c, f, field, &fs, &ts);
}


void
tk_ticket_create(tk_cmds_t *c, const tk_ticket_t *t, const tk_str_t *by)
{
    tk_feed_t  *f;

    f = tk_feed_open(c, t->number, TK_FEED_CREATED, by);
    tk_feed_rev_base(f, 0);

    tk_ticket_write(c, t);
    tk_feed_bump(f);
    tk_ticket_index_add(c, t);
    tk_history_add(c, t->number, t->created, by, "created", NULL, NULL);

    tk_feed_group(c, f, &t->group);

    if (t->tags.len) {
        tk_tags_sync(c, f, t->number, NULL, &t->tags, t->updated, by,
                     t->created);
    }
    tk_feed_close(c, f);
}


/* ---- history ------------------------------------------------------------ */

static tk_str_t
tk_history_cstr(const char *s)
{
    tk_str_t  str;

    str.data = (unsigned char *) s;
    str.len = strlen(s);

    return str;
}


/*
 * XADD tk:{t:N}:history * time T by LOGIN field F [from X] [to Y]: one
 * stream entry per changed field, its fields as they are (no encoding to
 * undo), a missing from/to left out.  The entry id only orders the
 * entries; "time" is the time of the change (a ticket created from an
 * old mail, bench data).
 */
void
tk_history_add(tk_cmds_t *c, uint64_t number, int64_t time,
    const tk_str_t *by, const char *field, const tk_str_t *from,
    const tk_str_t *to)
{
    static const tk_str_t  system = tk_string("system");

    char      key[TK_KEY_MAX], when[TK_NUM_MAX];
    int       argc;
    size_t    len;
    tk_str_t  argv[13];

    if (c->failed) {
        return;
    }

    if (by == NULL || by->len == 0) {
        by = &system;
    }

    len = tk_key_history(key, sizeof(key), number);
    if (len == 0) {
        c->failed = 1;
        return;
    }

    argc = 0;
    argv[argc++] = tk_history_cstr("XADD");
    argv[argc].data = (unsigned char *) key;
    argv[argc++].len = len;
    argv[argc++] = tk_history_cstr("*");
    argv[argc++] = tk_history_cstr("time");
    argv[argc].data = (unsigned char *) when;
    argv[argc++].len = tk_ticket_num(when, time);
    argv[argc++] = tk_history_cstr("by");
    argv[argc++] = *by;
    argv[argc++] = tk_history_cstr("field");
    argv[argc++] = tk_history_cstr(field);

    if (from) {
        argv[argc++] = tk_history_cstr("from");
        argv[argc++] = *from;
    }

    if (to) {
        argv[argc++] = tk_history_cstr("to");
        argv[argc++] = *to;
    }

    tk_cmds_argv(c, argc, argv);
}
