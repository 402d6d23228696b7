/*
 * notify_eval.c -- one entry of the feed or of tk:{ix}:notify: who hears
 * of it, and the one transaction that tells them (mb_notify.h).
 *
 * Round trips: the ticket, its subscribers, the users and the article
 * (one pipeline); every user's rights and settings (a second); ids for
 * the notices and mails (a third); then WATCH the entry's done marker,
 * MULTI: notices, subscriptions, mails or digest lines, the marker,
 * XACK.  A second mailbridge that handles the same entry (it was
 * reclaimed, or read as pending) finds the marker and only acknowledges.
 * A user who cannot read the ticket's group is never a recipient,
 * whatever the matrix, a mention or a rule says; nobody is told of their
 * own action.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mb_notify.h"

#define MB_NOTIFY_USERS      2000

/* why a user hears of it */
enum {
    MB_NR_MATRIX   = 1 << 0,
    MB_NR_ASSIGNED = 1 << 1,
    MB_NR_MENTION  = 1 << 2,
    MB_NR_TRIGGER  = 1 << 3
};

typedef struct {
    mb_nuser_t    *u;
    unsigned       why;
    const char    *what;         /* X-Ticket-Event for this recipient */
    uint64_t       seq;          /* the in-app notice's number        */
    uint64_t       mail;         /* nmail id, 0: no single mail       */
    int            digest;       /* a line in the digest instead      */
} mb_nrcpt_t;

typedef struct {
    mb_notify_t     *nt;
    mb_notify_ev_t  *e;
    mb_nrcpt_t      *rc;
    size_t           n;
    tk_str_t         title, group;
    tk_str_t         body, art_kind;
    int64_t          now;
    char             marker[TK_KEY_MAX];
} mb_nwrite_t;

static tk_str_t mb_rstr(const redisReply *r);
static int mb_notify_parse(mb_notify_ev_t *e, redisReply *f);
static int mb_notify_ack(mb_notify_t *nt, const mb_notify_ev_t *e);
static int mb_notify_has(const tk_str_t *list, const char *word);
static int mb_notify_mentions(const tk_str_t *body, const tk_str_t *login);
static int mb_notify_to(const tk_str_t *to, const mb_nuser_t *u,
    const redisReply *allag);
static unsigned mb_notify_why(const mb_notify_ev_t *e, const mb_nuser_t *u,
    const tk_str_t *owner, const tk_str_t *group, int subscribed,
    const tk_str_t *body, const redisReply *allag);
static int mb_notify_decide(void *data, redisReply **reads, size_t nreads,
    tk_cmds_t *w);
static void mb_notify_one(mb_nwrite_t *x, mb_nrcpt_t *rc, tk_cmds_t *w);


static tk_str_t
mb_rstr(const redisReply *r)
{
    tk_str_t  s = { 0, NULL };

    if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)) {
        s.data = (unsigned char *) r->str;
        s.len = r->len;
    }
    return s;
}


int
mb_notify_entry(mb_notify_t *nt, const char *stream, const char *id,
    redisReply *fields)
{
    mb_notify_ev_t  e;
    tk_arena_t      arena;
    tk_cmds_t       c;
    redisReply    **r1 = NULL, **r2 = NULL, **r3 = NULL, *users, *subs;
    mb_nuser_t     *u = NULL;
    mb_nrcpt_t     *rc = NULL;
    mb_nwrite_t     x;
    tk_str_t        owner, login, allag, *pairs;
    char            key[TK_KEY_MAX];
    const char     *kp[1];
    size_t          i, k, nu = 0, nr = 0, n2 = 0, n3 = 0;
    int             ret = -1, t, subscribed, all;

    memset(&e, 0, sizeof(e));
    e.stream = stream;
    e.feed = strcmp(stream, TK_KEY_FEED) == 0;
    e.tag = e.feed ? "f" : "n";
    e.id = id;

    if (fields == NULL || fields->type != REDIS_REPLY_ARRAY
        || mb_notify_parse(&e, fields) != 0)
    {
        return mb_notify_ack(nt, &e);       /* trimmed, or nothing to tell */
    }

    tk_arena_init(&arena);

    /* round trip 1: ticket, subscribers, users, all-agents, article */
    tk_cmds_init(&c, tk_arena_alloc, &arena);
    tk_key_ticket(key, sizeof(key), e.ticket);
    tk_cmds_add(&c, "HMGET %s " TK_F_TITLE " " TK_F_GROUP " " TK_F_OWNER, key);
    tk_cmds_add(&c, "SMEMBERS " TK_FMT_SUBSCRIBERS,
                (unsigned long long) e.ticket);
    tk_cmds_add(&c, "SMEMBERS " TK_KEY_USERS);
    tk_cmds_add(&c, "SMEMBERS " TK_KEY_GROUPS_ALL);
    if (e.article.len) {
        tk_cmds_add(&c, "HMGET %s" TK_SFX_ARTICLE "%S " TK_F_BODY " "
                    TK_F_KIND, key, &e.article);
    } else {
        tk_cmds_add(&c, "ECHO -");
    }
    if (c.failed || tk_redis_pipeline(&nt->r, &c, &r1) != TK_REDIS_OK) {
        goto done;
    }

    if (r1[0]->type != REDIS_REPLY_ARRAY || r1[0]->elements != 3
        || r1[0]->element[1]->type != REDIS_REPLY_STRING)
    {
        ret = mb_notify_ack(nt, &e);        /* the ticket is gone */
        goto done;
    }

    memset(&x, 0, sizeof(x));
    x.title = mb_rstr(r1[0]->element[0]);
    x.group = mb_rstr(r1[0]->element[1]);
    owner = mb_rstr(r1[0]->element[2]);
    subs = r1[1];
    users = r1[2];
    if (r1[4]->type == REDIS_REPLY_ARRAY && r1[4]->elements == 2) {
        x.body = mb_rstr(r1[4]->element[0]);
        x.art_kind = mb_rstr(r1[4]->element[1]);
    }

    all = 0;
    for (i = 0; r1[3]->type == REDIS_REPLY_ARRAY && i < r1[3]->elements; i++) {
        allag = mb_rstr(r1[3]->element[i]);
        all |= tk_str_eq(&allag, &x.group);
    }

    /* round trip 2: every user's rights and settings */
    nu = users->type == REDIS_REPLY_ARRAY ? users->elements : 0;
    nu = nu > MB_NOTIFY_USERS ? MB_NOTIFY_USERS : nu;
    u = calloc(nu ? nu : 1, sizeof(mb_nuser_t));
    rc = calloc(nu ? nu : 1, sizeof(mb_nrcpt_t));
    if (u == NULL || rc == NULL) {
        goto done;
    }

    tk_cmds_init(&c, tk_arena_alloc, &arena);
    for (i = 0; i < nu; i++) {
        login = mb_rstr(users->element[i]);
        if (!tk_valid_login(&login)) {
            tk_cmds_add(&c, "ECHO -");
            tk_cmds_add(&c, "ECHO -");
            continue;
        }
        u[i].login = login;
        tk_cmds_add(&c, "HMGET " TK_FMTS_USER " " TK_F_RIGHTS " " TK_F_DISABLED
                    " " TK_F_EMAIL " " TK_F_LANG " " TK_F_NAME, &login);
        tk_cmds_add(&c, "HGETALL " TK_FMTS_USER_NOTIFY, &login);
    }
    n2 = c.n;
    if (c.failed || (n2 && tk_redis_pipeline(&nt->r, &c, &r2)
                           != TK_REDIS_OK))
    {
        goto done;
    }

    for (i = 0; i < nu; i++) {
        redisReply  *h = r2[2 * i], *cf = r2[2 * i + 1];

        tk_notify_conf_default(&u[i].conf);
        if (u[i].login.len == 0 || h->type != REDIS_REPLY_ARRAY
            || h->elements != 5)
        {
            continue;
        }
        u[i].rights = mb_rstr(h->element[0]);
        u[i].disabled = mb_rstr(h->element[1]);
        u[i].email = mb_rstr(h->element[2]);
        u[i].lang = mb_rstr(h->element[3]);
        u[i].name = mb_rstr(h->element[4]);

        if (cf->type == REDIS_REPLY_ARRAY && cf->elements >= 2) {
            pairs = tk_arena_alloc(&arena, cf->elements * sizeof(tk_str_t));
            if (pairs == NULL) {
                goto done;
            }
            for (k = 0; k < cf->elements; k++) {
                pairs[k] = mb_rstr(cf->element[k]);
            }
            tk_notify_conf_parse(&u[i].conf, pairs, cf->elements / 2);
        }

        /* never the actor, never someone who cannot read the group */
        if (tk_str_eq(&u[i].login, &e.by)
            || tk_str_eq_cstr(&u[i].disabled, "1")
            || tk_rights_get(&u[i].rights, &x.group, all) < TK_RIGHT_READ)
        {
            continue;
        }

        subscribed = 0;
        for (k = 0; subs->type == REDIS_REPLY_ARRAY && k < subs->elements;
             k++)
        {
            tk_str_t  s = mb_rstr(subs->element[k]);

            subscribed |= tk_str_eq(&s, &u[i].login);
        }

        rc[nr].why = mb_notify_why(&e, &u[i], &owner, &x.group, subscribed,
                                   &x.body, r1[3]);
        if (rc[nr].why) {
            rc[nr].u = &u[i];
            rc[nr].what = rc[nr].why & MB_NR_MENTION ? TK_NOTIFY_MENTION
                          : rc[nr].why & MB_NR_ASSIGNED ? "assigned"
                          : rc[nr].why & MB_NR_TRIGGER ? TK_NOTIFY_TRIGGER
                          : e.what;
            rc[nr].digest = u[i].conf.digest != TK_DIGEST_OFF;
            nr++;
        }
    }

    if (nr == 0) {
        ret = mb_notify_ack(nt, &e);
        goto done;
    }

    /* round trip 3: the notices' numbers, the mails' ids */
    tk_cmds_init(&c, tk_arena_alloc, &arena);
    for (i = 0; i < nr; i++) {
        tk_cmds_add(&c, "INCR " TK_FMTS_USER_NOTICES_SEQ, &rc[i].u->login);
        tk_cmds_add(&c, "INCR " TK_KEY_SEQ_NMAIL);
    }
    n3 = c.n;
    if (c.failed || tk_redis_pipeline(&nt->r, &c, &r3) != TK_REDIS_OK) {
        goto done;
    }
    for (i = 0; i < nr; i++) {
        rc[i].seq = (uint64_t) r3[2 * i]->integer;
        rc[i].mail = (uint64_t) r3[2 * i + 1]->integer;
    }

    /* the transaction, under WATCH of the done marker */
    x.nt = nt;
    x.e = &e;
    x.rc = rc;
    x.n = nr;
    x.now = (int64_t) time(NULL);
    snprintf(x.marker, sizeof(x.marker), TK_FMT_NOTIFY_DONE, e.tag, e.id);
    kp[0] = x.marker;

    tk_cmds_init(&c, tk_arena_alloc, &arena);
    tk_cmds_add(&c, "EXISTS %s", x.marker);

    t = tk_redis_tx(&nt->r, kp, 1, &c, mb_notify_decide, &x, 10, NULL);
    if (t == TK_REDIS_ABORT) {
        ret = mb_notify_ack(nt, &e);        /* done by another mailbridge */
    } else {
        ret = t == TK_REDIS_OK ? 0 : -1;
    }

done:
    if (r1) {
        tk_redis_replies_free(r1, 5);
    }
    if (r2) {
        tk_redis_replies_free(r2, n2);
    }
    if (r3) {
        tk_redis_replies_free(r3, n3);
    }
    free(u);
    free(rc);
    tk_arena_reset(&arena);
    return ret;
}


/* The fields; -1: nothing anybody is told of. */
static int
mb_notify_parse(mb_notify_ev_t *e, redisReply *f)
{
    tk_str_t  name, v, event = { 0, NULL };
    size_t    i;

    for (i = 0; i + 1 < f->elements; i += 2) {
        name = mb_rstr(f->element[i]);
        v = mb_rstr(f->element[i + 1]);

        if (tk_str_eq_cstr(&name, TK_F_TICKET)) {
            e->ticket = (uint64_t) tk_str_atoll(&v);
        } else if (tk_str_eq_cstr(&name, "event")) {
            event = v;
        } else if (tk_str_eq_cstr(&name, "by")) {
            e->by = v;
        } else if (tk_str_eq_cstr(&name, "changed")) {
            e->changed = v;
        } else if (tk_str_eq_cstr(&name, TK_F_OWNER)) {
            e->owner = v;
        } else if (tk_str_eq_cstr(&name, TK_F_OWNER ".from")) {
            e->owner_from = v;
        } else if (tk_str_eq_cstr(&name, TK_F_STATE)) {
            e->state = v;
        } else if (tk_str_eq_cstr(&name, TK_F_STATE ".from")) {
            e->state_from = v;
        } else if (tk_str_eq_cstr(&name, TK_F_PRIORITY)) {
            e->prio = v;
        } else if (tk_str_eq_cstr(&name, TK_F_PRIORITY ".from")) {
            e->prio_from = v;
        } else if (tk_str_eq_cstr(&name, TK_F_GROUP ".from")) {
            e->group_from = v;
        } else if (tk_str_eq_cstr(&name, "article")) {
            e->article = v;
        } else if (tk_str_eq_cstr(&name, TK_F_KIND)) {
            e->kind = v;
        } else if (tk_str_eq_cstr(&name, "to")) {
            e->to = v;
        } else if (tk_str_eq_cstr(&name, TK_F_REASON)) {
            e->reason = v;
        }
    }

    if (e->ticket == 0 || e->ticket == (uint64_t) -1) {
        return -1;
    }

    e->ev = -1;

    if (!e->feed) {
        if (tk_str_eq_cstr(&event, TK_NOTIFY_ESCALATED)) {
            e->ev = TK_NEV_ESCALATION;
            e->what = "escalation";
        } else if (tk_str_eq_cstr(&event, TK_NOTIFY_REMINDER)) {
            e->ev = TK_NEV_REMINDER;
            e->what = "reminder";
        } else if (tk_str_eq_cstr(&event, TK_NOTIFY_TRIGGER)
                   || tk_str_eq_cstr(&event, TK_NOTIFY_MENTION))
        {
            e->what = tk_str_eq_cstr(&event, TK_NOTIFY_TRIGGER)
                      ? TK_NOTIFY_TRIGGER : TK_NOTIFY_MENTION;
            if (e->to.len == 0) {
                return -1;
            }
        } else {
            return -1;
        }
        if (e->by.len == 0) {
            e->by.data = (unsigned char *) "mailbridge";
            e->by.len = sizeof("mailbridge") - 1;
        }
        return 0;
    }

    /* the feed: a new ticket, an article, a change people see */
    if (tk_str_eq_cstr(&event, "created")) {
        e->ev = TK_NEV_CREATE;
        e->what = "create";
        return 0;
    }
    if (tk_str_eq_cstr(&event, "article")
        || (tk_str_eq_cstr(&event, "update")
            && (mb_notify_has(&e->changed, TK_F_TITLE)
                || mb_notify_has(&e->changed, TK_F_GROUP)
                || mb_notify_has(&e->changed, TK_F_OWNER)
                || mb_notify_has(&e->changed, TK_F_STATE)
                || mb_notify_has(&e->changed, TK_F_PRIORITY)
                || mb_notify_has(&e->changed, TK_F_PENDING_UNTIL))))
    {
        e->ev = TK_NEV_UPDATE;
        e->what = "update";
        return 0;
    }

    /* deliveries, flags, the timers' own marks: nobody's business */
    return -1;
}


static int
mb_notify_ack(mb_notify_t *nt, const mb_notify_ev_t *e)
{
    redisReply  *r;

    r = tk_redis_command(&nt->r, "XACK %s %s %s", e->stream, TK_NOTIFY_GROUP,
                         e->id);
    if (r == NULL) {
        return -1;
    }
    freeReplyObject(r);
    return 0;
}


/* a comma list ("owner,state") holds word */
static int
mb_notify_has(const tk_str_t *list, const char *word)
{
    size_t  i = 0, j, wl = strlen(word);

    while (i < list->len) {
        for (j = i; j < list->len && list->data[j] != ','; j++) {
            /* to the next comma */
        }
        if (j - i == wl && memcmp(list->data + i, word, wl) == 0) {
            return 1;
        }
        i = j + 1;
    }
    return 0;
}


/* "@@login" somewhere in the article */
static int
mb_notify_mentions(const tk_str_t *body, const tk_str_t *login)
{
    size_t    pos = 0;
    tk_str_t  m;

    while (tk_mention_next(body, &pos, &m)) {
        if (tk_str_eq(&m, login)) {
            return 1;
        }
    }
    return 0;
}


/* a rule's "anna,@legal": the login, or a group the user may read
 * (allag: SMEMBERS of the all-agents groups) */
static int
mb_notify_to(const tk_str_t *to, const mb_nuser_t *u, const redisReply *allag)
{
    size_t    i = 0, j, k;
    int       all;
    tk_str_t  w, a;

    while (i < to->len) {
        for (j = i; j < to->len && to->data[j] != ','; j++) {
            /* to the next comma */
        }
        w.data = to->data + i;
        w.len = j - i;
        while (w.len && w.data[0] == ' ') {
            w.data++;
            w.len--;
        }
        if (w.len > 1 && w.data[0] == '@') {
            w.data++;
            w.len--;
            all = 0;
            for (k = 0; allag->type == REDIS_REPLY_ARRAY && k < allag->elements;
                 k++)
            {
                a = mb_rstr(allag->element[k]);
                all |= tk_str_eq(&a, &w);
            }
            if (tk_rights_get(&u->rights, &w, all) >= TK_RIGHT_READ) {
                return 1;
            }
        } else if (tk_str_eq(&w, &u->login)) {
            return 1;
        }
        i = j + 1;
    }
    return 0;
}


/* Why u hears of e (0: not at all); u may read the group already. */
static unsigned
mb_notify_why(const mb_notify_ev_t *e, const mb_nuser_t *u,
    const tk_str_t *owner, const tk_str_t *group, int subscribed,
    const tk_str_t *body, const redisReply *allag)
{
    tk_notify_ctx_t  nx;
    unsigned         why = 0;

    if (!e->feed && e->ev < 0) {
        /* a rule or a mention names its people: always told */
        if (mb_notify_to(&e->to, u, allag)) {
            why |= strcmp(e->what, TK_NOTIFY_MENTION) == 0
                   ? MB_NR_MENTION : MB_NR_TRIGGER;
        }
        return why;
    }

    /* "@@login" in a reply or note by an agent: always told, subscribed */
    if (e->article.len && body->len
        && (tk_str_eq_cstr(&e->kind, "note") || tk_str_eq_cstr(&e->kind, "out"))
        && mb_notify_mentions(body, &u->login))
    {
        why |= MB_NR_MENTION;
    }

    /* someone else gave u the ticket */
    if (mb_notify_has(&e->changed, TK_F_OWNER) && u->conf.assigned
        && tk_str_eq(&e->owner, &u->login))
    {
        why |= MB_NR_ASSIGNED;
    }

    nx.mine = owner->len && tk_str_eq(owner, &u->login);
    nx.unassigned = owner->len == 0;
    nx.subscribed = subscribed;
    nx.group = group;
    if (tk_notify_wants(&u->conf, e->ev, &nx)) {
        why |= MB_NR_MATRIX;
    }
    return why;
}


static int
mb_notify_decide(void *data, redisReply **reads, size_t nreads,
    tk_cmds_t *w)
{
    mb_nwrite_t  *x = data;
    size_t        i;

    if (nreads < 1 || reads[0]->type != REDIS_REPLY_INTEGER
        || reads[0]->integer != 0)
    {
        return TK_REDIS_ABORT;
    }

    for (i = 0; i < x->n; i++) {
        mb_notify_one(x, &x->rc[i], w);
    }

    tk_cmds_add(w, "SET %s 1 EX %d", x->marker, TK_NOTIFY_DONE_TTL);
    tk_cmds_add(w, "XACK %s " TK_NOTIFY_GROUP " %s", x->e->stream, x->e->id);
    return w->failed ? TK_REDIS_ERROR : 0;
}


/* One recipient: the notice, a subscription, the mail or digest line. */
static void
mb_notify_one(mb_nwrite_t *x, mb_nrcpt_t *rc, tk_cmds_t *w)
{
    const mb_config_t  *cfg = x->nt->cfg;
    mb_nmail_ctx_t      mx;
    tk_nmail_t          m;
    tk_str_t            text, line;
    char                what[512], subj[1024], mid[256];
    char               *body;
    const char         *from, *at;
    size_t              bsize = 1 << 15;
    int64_t             due;

    memset(&mx, 0, sizeof(mx));
    mx.e = x->e;
    mx.u = rc->u;
    mx.what = rc->what;
    mx.title = x->title;
    mx.group = x->group;
    mx.body = x->body;
    mx.art_kind = x->art_kind;

    text.data = (unsigned char *) what;
    text.len = mb_notify_what(&mx, what, sizeof(what));

    tk_notice_add(w, &rc->u->login, rc->seq, x->e->ticket, rc->what,
                  &x->title, &x->e->by, &x->group, &text, x->now);

    if (rc->why & MB_NR_MENTION) {
        tk_subscribe(w, x->e->ticket, &rc->u->login, 1);
    }

    if (!rc->u->conf.email || rc->u->email.len == 0) {
        return;                         /* in-app only */
    }

    if (rc->digest) {
        /* "[Ticket#42] Räumung — escalated" + the link, for the digest */
        line.data = (unsigned char *) subj;
        line.len = mb_notify_subject(cfg, &mx, what, subj,
                                     sizeof(subj) - 300);
        line.len += (size_t) snprintf(subj + line.len, 300, "\n  %st/%llu",
                                      cfg->notify.base_url
                                      ? cfg->notify.base_url
                                      : "http://localhost/",
                                      (unsigned long long) x->e->ticket);
        tk_cmds_add(w, "RPUSH " TK_FMTS_USER_DIGEST " %S", &rc->u->login,
                    &line);
        due = x->now + mb_notify_period(cfg, rc->u->conf.digest);
        tk_cmds_add(w, "ZADD " TK_KEY_DUE_DIGEST " NX %lld %S",
                    (long long) due, &rc->u->login);
        return;
    }

    body = w->alloc(w->alloc_data, bsize);
    if (body == NULL) {
        w->failed = 1;
        return;
    }

    memset(&m, 0, sizeof(m));
    m.id = rc->mail;
    m.ticket = x->e->ticket;
    from = mb_notify_from(cfg);
    at = strchr(from, '@');
    m.from.data = (unsigned char *) from;
    m.from.len = strlen(from);
    m.to = rc->u->email;
    m.subject.data = (unsigned char *) subj;
    m.subject.len = mb_notify_subject(cfg, &mx, what, subj, sizeof(subj));
    m.body.data = (unsigned char *) body;
    m.body.len = mb_notify_body(cfg, &mx, what, body, bsize);
    m.message_id.data = (unsigned char *) mid;
    m.message_id.len = (size_t) snprintf(mid, sizeof(mid),
                           "tk.notify.%llu.%llu@%.*s",
                           (unsigned long long) x->e->ticket,
                           (unsigned long long) m.id,
                           at ? (int) strcspn(at + 1, ">") : 9,
                           at ? at + 1 : "localhost");
    m.group = x->group;
    m.event = rc->what;
    tk_nmail_queue(w, &m, x->now);
}
