/*
 * tk_timer.c -- the write path of a ticket's timers (tk_timer.h): due
 * sets, escalation and reminder fields, their overview sets and the
 * notification requests.  Callers (mailbridge/timers.c) WATCH the
 * ticket and wrap the commands in MULTI/EXEC.
 */

#include <stdio.h>
#include <string.h>

#include "tk_timer.h"


#define TK_TIMER_NUM   24

typedef struct {
    tk_cmds_t          *c;
    const tk_ticket_t  *t;
    tk_feed_t          *f;
    char                key[TK_KEY_MAX];
    int                 fields;        /* ticket fields written so far */
} tk_timer_tx_t;

static int tk_timer_begin(tk_timer_tx_t *x, tk_cmds_t *c,
    const tk_ticket_t *t);
static void tk_timer_open(tk_timer_tx_t *x);
static void tk_timer_field(tk_timer_tx_t *x, const char *field,
    int64_t from, int64_t to);
static void tk_timer_end(tk_timer_tx_t *x);
static size_t tk_timer_ix(char *buf, size_t size, const tk_ticket_t *t);
static void tk_timer_split(const tk_str_t *ix, tk_str_t *group,
    tk_str_t *owner);
static void tk_timer_sets(tk_cmds_t *c, const tk_str_t *ix, int esc,
    int rem, int64_t esc_score, int64_t rem_score, uint64_t number);
static void tk_timer_move(tk_timer_tx_t *x, const tk_timer_state_t *ts,
    int esc, int rem, int64_t esc_score, int64_t rem_score);
static void tk_timer_notify(tk_cmds_t *c, const tk_ticket_t *t,
    const char *event, int64_t due, int64_t now);
static size_t tk_timer_num(char *buf, int64_t v);


/* ---- reading ------------------------------------------------------------ */

static int64_t
tk_timer_parse_num(const tk_str_t *s)
{
    long long  v;

    if (s->data == NULL || s->len == 0) {
        return 0;
    }

    v = tk_str_atoll(s);
    return v < 0 ? 0 : v;
}


void
tk_timer_state_parse(tk_timer_state_t *ts, const tk_str_t *values)
{
    memset(ts, 0, sizeof(tk_timer_state_t));
    ts->escalated = tk_timer_parse_num(&values[0]);
    ts->reminded = tk_timer_parse_num(&values[1]);
    if (values[2].data) {
        ts->ix = values[2];
    }
    ts->update_from = tk_timer_parse_num(&values[3]);
}


int
tk_timer_reminder_due(const tk_ticket_t *t)
{
    return t->state == TK_STATE_REMINDER && t->pending_until > 0;
}


/* ---- helpers ------------------------------------------------------------ */

/* history entries name the list's actor ("mailbridge"), else system */
static const tk_str_t *
tk_timer_by(tk_cmds_t *c)
{
    return c->actor.len ? &c->actor : NULL;
}


static size_t
tk_timer_num(char *buf, int64_t v)
{
    if (v == 0) {
        buf[0] = '\0';
        return 0;
    }

    return (size_t) snprintf(buf, TK_TIMER_NUM, "%lld", (long long) v);
}


/* "GROUP OWNER": neither a group name nor a login holds a space */
static size_t
tk_timer_ix(char *buf, size_t size, const tk_ticket_t *t)
{
    const tk_str_t  *o = tk_ticket_owner_partition(t);
    int              n;

    n = snprintf(buf, size, "%.*s %.*s", (int) t->group.len,
                 (const char *) t->group.data, (int) o->len,
                 (const char *) o->data);

    return n < 0 || (size_t) n >= size ? 0 : (size_t) n;
}


static void
tk_timer_split(const tk_str_t *ix, tk_str_t *group, tk_str_t *owner)
{
    size_t  i;

    for (i = 0; i < ix->len && ix->data[i] != ' '; i++) { /* void */ }

    group->data = ix->data;
    group->len = i;
    owner->data = i < ix->len ? ix->data + i + 1 : ix->data + i;
    owner->len = i < ix->len ? ix->len - i - 1 : 0;
}


/* ZADD (scores given) or ZREM (score 0) in the overview sets of ix */
static void
tk_timer_sets(tk_cmds_t *c, const tk_str_t *ix, int esc, int rem,
    int64_t esc_score, int64_t rem_score, uint64_t number)
{
    tk_str_t  g, o;

    tk_timer_split(ix, &g, &o);
    if (g.len == 0 || o.len == 0) {
        return;
    }

    if (esc && esc_score) {
        tk_cmds_add(c, "ZADD " TK_FMTS_ESC_GROUP " %lld %llu", &g,
                    (long long) esc_score, (unsigned long long) number);
        tk_cmds_add(c, "ZADD " TK_FMTS_ESC_OWNER " %lld %llu", &o,
                    (long long) esc_score, (unsigned long long) number);
    } else if (esc) {
        tk_cmds_add(c, "ZREM " TK_FMTS_ESC_GROUP " %llu", &g,
                    (unsigned long long) number);
        tk_cmds_add(c, "ZREM " TK_FMTS_ESC_OWNER " %llu", &o,
                    (unsigned long long) number);
    }

    if (rem && rem_score) {
        tk_cmds_add(c, "ZADD " TK_FMTS_REMDUE_OWNER " %lld %llu", &o,
                    (long long) rem_score, (unsigned long long) number);
    } else if (rem) {
        tk_cmds_add(c, "ZREM " TK_FMTS_REMDUE_OWNER " %llu", &o,
                    (unsigned long long) number);
    }
}


static int
tk_timer_begin(tk_timer_tx_t *x, tk_cmds_t *c, const tk_ticket_t *t)
{
    memset(x, 0, sizeof(tk_timer_tx_t));
    x->c = c;
    x->t = t;

    if (tk_key_ticket(x->key, sizeof(x->key), t->number) == 0) {
        c->failed = 1;
        return -1;
    }

    return 0;
}


/* the feed entry (and the one rev bump) of the first field written */
static void
tk_timer_open(tk_timer_tx_t *x)
{
    if (x->fields++ == 0) {
        x->f = tk_feed_open(x->c, x->t->number, TK_FEED_FIELDS, NULL);
        if (x->t->rev) {
            tk_feed_rev_base(x->f, x->t->rev);
        }
        /* the page cache keeps a rendered ticket under its rev */
        tk_cmds_add(x->c, "HINCRBY %s " TK_F_REV " 1", x->key);
        tk_feed_bump(x->f);
        tk_feed_group(x->c, x->f, &x->t->group);
    }
}


/* one ticket field: HSET, and its part of the feed entry */
static void
tk_timer_field(tk_timer_tx_t *x, const char *field, int64_t from,
    int64_t to)
{
    char      fb[TK_TIMER_NUM], tb[TK_TIMER_NUM];
    tk_str_t  fs, ts;

    tk_timer_open(x);

    fs.data = (unsigned char *) fb;
    fs.len = tk_timer_num(fb, from);
    ts.data = (unsigned char *) tb;
    ts.len = tk_timer_num(tb, to);

    tk_cmds_add(x->c, "HSET %s %s %S", x->key, field, &ts);
    tk_feed_changed(x->c, x->f, field, &fs, &ts);
}


static void
tk_timer_end(tk_timer_tx_t *x)
{
    if (x->fields) {
        tk_index_touch(x->c);          /* overview counts, cached pages */
        tk_feed_close(x->c, x->f);
    }
}


/*
 * The ticket's overview entries follow its group and owner: when they
 * differ from timer_ix, the entries under the old ix go, new ones come.
 */
static void
tk_timer_move(tk_timer_tx_t *x, const tk_timer_state_t *ts, int esc,
    int rem, int64_t esc_score, int64_t rem_score)
{
    char      buf[TK_KEY_MAX];
    tk_str_t  now;

    now.data = (unsigned char *) buf;
    now.len = tk_timer_ix(buf, sizeof(buf), x->t);

    if (ts->ix.len && !tk_str_eq(&ts->ix, &now)) {
        tk_timer_sets(x->c, &ts->ix, 1, 1, 0, 0, x->t->number);
    }

    if (esc || rem) {
        tk_timer_sets(x->c, &now, esc, rem, esc_score, rem_score,
                      x->t->number);
    }

    if (!tk_str_eq(&ts->ix, &now) && (esc || rem)) {
        tk_timer_open(x);
        tk_cmds_add(x->c, "HSET %s " TK_F_TIMER_IX " %S", x->key, &now);
    }
}


/* ---- recompute ---------------------------------------------------------- */

void
tk_ticket_set_escalation(tk_cmds_t *c, const tk_ticket_t *t,
    const tk_timer_state_t *ts, int64_t escalation_at,
    int64_t first_response, int64_t update_from, int64_t now)
{
    tk_timer_tx_t  x;
    int64_t        escalated, reminded, rem;
    char           hist[TK_TIMER_NUM];
    tk_str_t       from, empty = tk_null_string;

    if (tk_timer_begin(&x, c, t) != 0) {
        return;
    }

    escalated = ts->escalated;
    reminded = ts->reminded;
    rem = tk_timer_reminder_due(t) ? t->pending_until : 0;

    if (first_response && t->first_response == 0) {
        tk_timer_field(&x, TK_F_FIRST_RESPONSE, 0, first_response);
    }

    if (ts->update_from != update_from) {
        tk_timer_field(&x, TK_F_UPDATE_FROM, ts->update_from, update_from);
    }

    if (t->escalation_at != escalation_at) {
        tk_timer_field(&x, TK_F_ESCALATION_AT, t->escalation_at,
                       escalation_at);
    }

    /* an escalation that no longer holds is taken back, with history */
    if (escalated && (escalation_at == 0 || escalation_at > escalated)) {
        tk_timer_field(&x, TK_F_ESCALATED, escalated, 0);
        from.data = (unsigned char *) hist;
        from.len = tk_timer_num(hist, escalated);
        tk_history_add(c, t->number, now, tk_timer_by(c), TK_F_ESCALATED, &from,
                       &empty);
        tk_timer_sets(c, ts->ix.len ? &ts->ix : &empty, 1, 0, 0, 0,
                      t->number);
        escalated = 0;
    }

    if (reminded && reminded != rem) {
        tk_timer_field(&x, TK_F_REMINDED, reminded, 0);
        tk_timer_sets(c, ts->ix.len ? &ts->ix : &empty, 0, 1, 0, 0,
                      t->number);
        reminded = 0;
    }

    if (escalation_at && !escalated) {
        tk_timer_due_add(c, TK_KEY_DUE_ESCALATION, t->number, escalation_at);
    } else {
        tk_timer_drop(c, TK_KEY_DUE_ESCALATION, t->number);
    }

    if (rem && !reminded) {
        tk_timer_due_add(c, TK_KEY_DUE_REMINDER, t->number, rem);
    } else {
        tk_timer_drop(c, TK_KEY_DUE_REMINDER, t->number);
    }

    if (escalated || reminded) {
        tk_timer_move(&x, ts, escalated != 0, reminded != 0, escalation_at,
                      reminded);
    }

    tk_timer_end(&x);
}


/* ---- due shards ---------------------------------------------------------- */

size_t
tk_timer_due_key(char *buf, size_t size, const char *due_key,
    uint64_t number)
{
    const char  *fmt;
    int          n;

    fmt = strcmp(due_key, TK_KEY_DUE_REMINDER) == 0
          ? TK_FMT_DUE_REMINDER_SHARD : TK_FMT_DUE_ESCALATION_SHARD;
    n = snprintf(buf, size, fmt, (unsigned long long) (number / TK_DUE_SHARD));

    return n < 0 || (size_t) n >= size ? 0 : (size_t) n;
}


void
tk_timer_due_add(tk_cmds_t *c, const char *due_key, uint64_t number,
    int64_t due)
{
    char  key[TK_KEY_MAX];

    if (tk_timer_due_key(key, sizeof(key), due_key, number) == 0) {
        c->failed = 1;
        return;
    }

    tk_cmds_add(c, "ZADD %s %lld %llu", key, (long long) due,
                (unsigned long long) number);
    /* LT: the bound only ever moves earlier here; the fire transaction
     * moves it later (tk_timer_due_bound) */
    tk_cmds_add(c, "ZADD %s LT %lld %llu", due_key, (long long) due,
                (unsigned long long) (number / TK_DUE_SHARD));
}


void
tk_timer_due_bound(tk_cmds_t *c, const char *due_key, uint64_t shard,
    int64_t min)
{
    if (min) {
        tk_cmds_add(c, "ZADD %s %lld %llu", due_key, (long long) min,
                    (unsigned long long) shard);
    } else {
        tk_cmds_add(c, "ZREM %s %llu", due_key, (unsigned long long) shard);
    }
}


void
tk_timer_drop(tk_cmds_t *c, const char *due_key, uint64_t number)
{
    char  key[TK_KEY_MAX];

    if (tk_timer_due_key(key, sizeof(key), due_key, number) == 0) {
        c->failed = 1;
        return;
    }

    tk_cmds_add(c, "ZREM %s %llu", key, (unsigned long long) number);
}


/* ---- firing ------------------------------------------------------------- */

static void
tk_timer_notify(tk_cmds_t *c, const tk_ticket_t *t, const char *event,
    int64_t due, int64_t now)
{
    tk_cmds_add(c, "XADD " TK_KEY_NOTIFY " * event %s ticket %llu group %S"
                " owner %S due %lld time %lld", event,
                (unsigned long long) t->number, &t->group, &t->owner,
                (long long) due, (long long) now);
}


void
tk_ticket_escalate(tk_cmds_t *c, const tk_ticket_t *t,
    const tk_timer_state_t *ts, int64_t now)
{
    tk_timer_tx_t  x;
    char           when[TK_TIMER_NUM];
    tk_str_t       to;

    if (tk_timer_begin(&x, c, t) != 0) {
        return;
    }

    tk_timer_drop(c, TK_KEY_DUE_ESCALATION, t->number);
    tk_timer_field(&x, TK_F_ESCALATED, ts->escalated, now);

    to.data = (unsigned char *) when;
    to.len = tk_timer_num(when, now);
    tk_history_add(c, t->number, now, tk_timer_by(c), TK_F_ESCALATED, NULL, &to);

    tk_timer_move(&x, ts, 1, ts->reminded != 0, t->escalation_at,
                  ts->reminded);
    tk_timer_notify(c, t, TK_NOTIFY_ESCALATED, t->escalation_at, now);
    tk_timer_end(&x);
}


void
tk_ticket_remind(tk_cmds_t *c, const tk_ticket_t *t,
    const tk_timer_state_t *ts, int64_t now)
{
    tk_timer_tx_t  x;
    char           when[TK_TIMER_NUM];
    tk_str_t       to;

    if (tk_timer_begin(&x, c, t) != 0) {
        return;
    }

    tk_timer_drop(c, TK_KEY_DUE_REMINDER, t->number);
    tk_timer_field(&x, TK_F_REMINDED, ts->reminded, t->pending_until);

    to.data = (unsigned char *) when;
    to.len = tk_timer_num(when, t->pending_until);
    tk_history_add(c, t->number, now, tk_timer_by(c), TK_F_REMINDED, NULL, &to);

    tk_timer_move(&x, ts, ts->escalated != 0, 1, t->escalation_at,
                  t->pending_until);
    tk_timer_notify(c, t, TK_NOTIFY_REMINDER, t->pending_until, now);
    tk_timer_end(&x);
}
