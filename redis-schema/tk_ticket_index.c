/*
 * tk_ticket_index.c -- a ticket's part of the overview index: the
 * (group, state, owner) partitions and their sort sets, the class
 * partitions, the list rows (tk:{ix}:rows), the counts per partition
 * and per priority, and the in-place update of a ticket that stays in
 * its partition.  The write path that calls it: tk_ticket.c.
 */

#include <string.h>

#include "tk_ticket.h"
#include "tk_ticket_index.h"


static void tk_ticket_index_rest(tk_cmds_t *c, const tk_ticket_t *t,
    int add);
static void tk_ticket_index_class(tk_cmds_t *c, const tk_ticket_t *t,
    int cls, const tk_str_t *owner, int add);
static void tk_ticket_index_num(tk_cmds_t *c, const char *key,
    const tk_ticket_t *t, int sort, int add);
static void tk_ticket_index_partition(tk_cmds_t *c, const tk_ticket_t *t,
    const tk_str_t *owner, int add, int counts);
static void tk_ticket_index_in_place(tk_cmds_t *c, const tk_ticket_t *old,
    const tk_ticket_t *new, const tk_str_t *owner);
static const tk_str_t *tk_ticket_lex_text(const tk_ticket_t *t, int sort,
    tk_str_t *tmp);
static int tk_ticket_same_partition(const tk_ticket_t *a,
    const tk_ticket_t *b);


/* ---- overview index ----------------------------------------------------- */

void
tk_ticket_index_add(tk_cmds_t *c, const tk_ticket_t *t)
{
    tk_ticket_index(c, t, 1, TK_TICKET_COUNTS | TK_TICKET_COUNTS_PRI);
    tk_index_touch(c);
}


void
tk_ticket_index_del(tk_cmds_t *c, const tk_ticket_t *t)
{
    tk_ticket_index(c, t, 0, TK_TICKET_COUNTS | TK_TICKET_COUNTS_PRI);
    tk_index_touch(c);
}


const tk_str_t *
tk_ticket_owner_partition(const tk_ticket_t *t)
{
    static const tk_str_t  none = tk_string(TK_OWNER_NONE);
    static const tk_str_t  autogen = tk_string(TK_OWNER_AUTO);

    if (t->owner.len) {
        return &t->owner;
    }

    return tk_flags_has(&t->flags, TK_FLAG_AUTO) ? &autogen : &none;
}


/*
 * A ticket lives in two partitions: (group, state, its owner, "-" or
 * "!") and (group, state, "*"), so "my tickets" and "all tickets" are
 * each one set per group and state.
 */
void
tk_ticket_index(tk_cmds_t *c, const tk_ticket_t *t, int add, int counts)
{
    static const tk_str_t  any = tk_string(TK_OWNER_ANY);

    tk_ticket_index_partition(c, t, tk_ticket_owner_partition(t), add,
        counts);
    tk_ticket_index_partition(c, t, &any, add, counts);

    tk_ticket_index_rest(c, t, add);
}


/*
 * What an index change writes besides the (group, state, owner) sets:
 * the customer's list, the class partitions and the list row.  Also
 * after an in-place change (tk_ticket_update): every one of them is a
 * score or a value that ZADD/HSET simply replace.
 */
static void
tk_ticket_index_rest(tk_cmds_t *c, const tk_ticket_t *t, int add)
{
    static const tk_str_t  any = tk_string(TK_OWNER_ANY);
    char                   row[4096];
    size_t                 len;

    /* the customer page's list (issue 13): removed and added with the
     * rest, so a changed customer moves the ticket */
    if (t->customer) {
        if (add) {
            tk_cmds_add(c, "ZADD " TK_FMT_CUST_TICKETS " %lld %llu",
                        (unsigned long long) t->customer,
                        (long long) t->created,
                        (unsigned long long) t->number);
        } else {
            tk_cmds_add(c, "ZREM " TK_FMT_CUST_TICKETS " %llu",
                        (unsigned long long) t->customer,
                        (unsigned long long) t->number);
        }
    }
    /* the class partitions: an overview over all open states (or all
     * states) of a group reads one set, not one per state */
    if (t->state != TK_STATE_CLOSED) {
        tk_ticket_index_class(c, t, TK_ISTATE_OPEN,
                              tk_ticket_owner_partition(t), add);
        tk_ticket_index_class(c, t, TK_ISTATE_OPEN, &any, add);
    }

    tk_ticket_index_class(c, t, TK_ISTATE_ALL, &any, add);

    /* the row the lists show; a ticket whose row does not fit has none
     * and is read from its hash (ngx_http_ticket_query.c) */
    len = add ? tk_ticket_row(row, sizeof(row), t) : 0;

    if (len) {
        tk_cmds_add(c, "HSET " TK_KEY_INDEX_ROWS " %llu %b",
                    (unsigned long long) t->number, row, len);

    } else {
        tk_cmds_add(c, "HDEL " TK_KEY_INDEX_ROWS " %llu",
                    (unsigned long long) t->number);
    }
}


/* A class partition (TK_ISTATE_*): the numeric sorts, no counts. */
static void
tk_ticket_index_class(tk_cmds_t *c, const tk_ticket_t *t, int cls,
    const tk_str_t *owner, int add)
{
    char  key[TK_KEY_MAX];
    int   sort;

    for (sort = 0; sort < TK_SORT_N; sort++) {

        if (tk_sort_is_lex(sort)) {
            continue;
        }

        if (tk_key_index(key, sizeof(key), &t->group, cls, owner, sort)
            == 0)
        {
            c->failed = 1;
            return;
        }

        tk_ticket_index_num(c, key, t, sort, add);
    }
}


/* A numeric sort set: the ticket with its score in, or out. */
static void
tk_ticket_index_num(tk_cmds_t *c, const char *key, const tk_ticket_t *t,
    int sort, int add)
{
    if (add) {
        tk_cmds_add(c, "ZADD %s %f %llu", key,
            tk_index_score(sort, t->number, t->priority, t->updated),
            (unsigned long long) t->number);

    } else {
        tk_cmds_add(c, "ZREM %s %llu", key,
            (unsigned long long) t->number);
    }
}


/* one field of a row: control bytes (and so TK_ROW_SEP) as blanks */
static char *
tk_ticket_row_field(char *p, char *end, const tk_str_t *s)
{
    size_t  i;

    if (p == NULL || (size_t) (end - p) < s->len + 1) {
        return NULL;
    }

    for (i = 0; i < s->len; i++) {
        *p++ = (s->data[i] < 0x20 || s->data[i] == 0x7f) ? ' '
                                                         : (char) s->data[i];
    }

    *p++ = TK_ROW_SEP;

    return p;
}


size_t
tk_ticket_row(char *buf, size_t size, const tk_ticket_t *t)
{
    char      num[32], *p, *end;
    tk_str_t  s;

    p = buf;
    end = buf + size;

    s.data = (unsigned char *) num;
    s.len = tk_ticket_num(num, (int64_t) t->number);
    p = tk_ticket_row_field(p, end, &s);
    p = tk_ticket_row_field(p, end, &t->title);
    p = tk_ticket_row_field(p, end, &t->customer_name);
    p = tk_ticket_row_field(p, end, &t->customer_email);
    p = tk_ticket_row_field(p, end, &t->group);
    p = tk_ticket_row_field(p, end, &t->owner);
    s.len = tk_ticket_num(num, t->state);
    p = tk_ticket_row_field(p, end, &s);
    s.len = tk_ticket_num(num, t->priority);
    p = tk_ticket_row_field(p, end, &s);
    s.len = tk_ticket_num(num, t->created);
    p = tk_ticket_row_field(p, end, &s);
    s.len = tk_ticket_num(num, t->updated);
    p = tk_ticket_row_field(p, end, &s);
    p = tk_ticket_row_field(p, end, &t->tags);   /* issue 13 */
    s.len = tk_ticket_num(num, (int64_t) t->customer);
    p = tk_ticket_row_field(p, end, &s);

    if (p == NULL) {
        return 0;
    }

    return (size_t) (p - 1 - buf);              /* without the last sep */
}


void
tk_index_touch(tk_cmds_t *c)
{
    tk_cmds_add(c, "INCR " TK_KEY_INDEX_GEN);
}


static void
tk_ticket_index_partition(tk_cmds_t *c, const tk_ticket_t *t,
    const tk_str_t *owner, int add, int counts)
{
    char             key[TK_KEY_MAX], member[128];
    size_t           mlen;
    int              sort, is_any;
    unsigned         slot;
    tk_str_t         tmp;
    const tk_str_t  *text;

    is_any = owner->len == 1 && owner->data[0] == '*';

    for (sort = 0; sort < TK_SORT_N; sort++) {

        /* within one owner's partition every member has the same owner */
        if (sort == TK_SORT_OWNER && !is_any) {
            continue;
        }

        if (tk_key_index(key, sizeof(key), &t->group, t->state, owner, sort)
            == 0)
        {
            c->failed = 1;
            return;
        }

        if (tk_sort_is_lex(sort)) {
            text = tk_ticket_lex_text(t, sort, &tmp);
            mlen = tk_index_lex_member(member, sizeof(member), text,
                                       t->number);
            tk_cmds_add(c, add ? "ZADD %s 0 %b" : "ZREM %s %b", key, member,
                        mlen);

        } else {
            tk_ticket_index_num(c, key, t, sort, add);
        }
    }

    if (counts & TK_TICKET_COUNTS) {
        tk_cmds_add(c, "HINCRBY " TK_KEY_INDEX_COUNTS " %S:%d:%S %d",
            &t->group, t->state, owner, add ? 1 : -1);

        /* the same count in the sidebar's packed vector */
        if (tk_key_countv(key, sizeof(key), &t->group, t->state, owner,
                          &slot)
            == 0)
        {
            c->failed = 1;
            return;
        }

        tk_cmds_add(c, "BITFIELD %s INCRBY i32 #%u %d", key, slot,
                    add ? 1 : -1);
    }

    /* per priority too: the sidebar counts of overviews with a priority */
    if (counts & TK_TICKET_COUNTS_PRI) {
        tk_cmds_add(c, "HINCRBY " TK_KEY_INDEX_COUNTS_PRI " %S:%d:%S:%d %d",
            &t->group, t->state, owner, t->priority, add ? 1 : -1);
    }
}


/*
 * The same partition before and after (a reply, a follow-up, a new
 * priority): a score set takes the new score with one ZADD (ZADD
 * replaces it), a lexical set is touched only when its text changed
 * (ZREM of the old member, ZADD of the new).  Three to five commands a
 * partition instead of removing and adding every member (5 + 6 ZREM and
 * as many ZADD a change, most of a reply's write).
 */
static void
tk_ticket_index_in_place(tk_cmds_t *c, const tk_ticket_t *old,
    const tk_ticket_t *new, const tk_str_t *owner)
{
    char             key[TK_KEY_MAX], member[128];
    size_t           mlen;
    int              sort, is_any;
    tk_str_t         otmp, ntmp;
    const tk_str_t  *otext, *ntext;

    is_any = owner->len == 1 && owner->data[0] == '*';

    for (sort = 0; sort < TK_SORT_N; sort++) {

        if (sort == TK_SORT_OWNER && !is_any) {
            continue;
        }

        otext = ntext = NULL;

        if (tk_sort_is_lex(sort)) {
            otext = tk_ticket_lex_text(old, sort, &otmp);
            ntext = tk_ticket_lex_text(new, sort, &ntmp);

            if (tk_str_eq(otext, ntext)) {
                continue;
            }
        }

        if (tk_key_index(key, sizeof(key), &new->group, new->state, owner,
                         sort)
            == 0)
        {
            c->failed = 1;
            return;
        }

        if (!tk_sort_is_lex(sort)) {
            tk_ticket_index_num(c, key, new, sort, 1);   /* ZADD replaces */
            continue;
        }

        mlen = tk_index_lex_member(member, sizeof(member), otext,
                                   old->number);
        tk_cmds_add(c, "ZREM %s %b", key, member, mlen);
        mlen = tk_index_lex_member(member, sizeof(member), ntext,
                                   new->number);
        tk_cmds_add(c, "ZADD %s 0 %b", key, member, mlen);
    }
}


/* the customer column shows the name, or the address when unnamed */
static const tk_str_t *
tk_ticket_lex_text(const tk_ticket_t *t, int sort, tk_str_t *tmp)
{
    switch (sort) {

    case TK_SORT_TITLE:
        return &t->title;

    case TK_SORT_CUSTOMER:
        return t->customer_name.len ? &t->customer_name : &t->customer_email;

    case TK_SORT_OWNER:
        return &t->owner;

    default:
        tmp->len = 0;
        tmp->data = NULL;
        return tmp;
    }
}


/* the owner partition, not the owner: "auto" coming or going moves it */
static int
tk_ticket_same_partition(const tk_ticket_t *a, const tk_ticket_t *b)
{
    return a->state == b->state && tk_str_eq(&a->group, &b->group)
           && tk_str_eq(tk_ticket_owner_partition(a),
                        tk_ticket_owner_partition(b));
}


int
tk_ticket_index_counts(const tk_ticket_t *old, const tk_ticket_t *new)
{
    int  counts;

    counts = tk_ticket_same_partition(old, new)
             ? 0 : TK_TICKET_COUNTS | TK_TICKET_COUNTS_PRI;

    if (old->priority != new->priority) {
        counts |= TK_TICKET_COUNTS_PRI;
    }

    return counts;
}


void
tk_ticket_index_update(tk_cmds_t *c, const tk_ticket_t *old,
    const tk_ticket_t *new)
{
    static const tk_str_t  any = tk_string(TK_OWNER_ANY);

    tk_ticket_index_in_place(c, old, new, tk_ticket_owner_partition(new));
    tk_ticket_index_in_place(c, old, new, &any);

    /* a new customer leaves the old one's list */
    if (old->customer && old->customer != new->customer) {
        tk_cmds_add(c, "ZREM " TK_FMT_CUST_TICKETS " %llu",
                    (unsigned long long) old->customer,
                    (unsigned long long) new->number);
    }

    /* class partitions (new "updated"), the row (new title...) */
    tk_ticket_index_rest(c, new, 1);
}
