/*
 * triggers.c -- the admin's trigger rules as a handler of the feed role
 * (feed.c's handler table; rules: tk_trigger.h, SCHEMA.md "Triggers").
 *
 * An entry "created" runs the rules with on = create|both; a customer's
 * follow-up (event article, kind in) and a field change (event update)
 * the rules with on = update|both.  Per entry one optimistic transaction
 * (tk_redis_tx): WATCH the ticket, and in the same round trip read the
 * rules' generation, the ticket, the article and whether this entry
 * already fired (tk:{t:N}:triggers).  The actions of every matching
 * rule then go into ONE MULTI: field changes through tk_ticket_update
 * (history, index, feed), notes through tk_article_write, notification
 * requests to tk:{ix}:notify, and the record of what fired.
 *
 * Loop protection: the actor of those writes is "trigger:NAME[,NAME]",
 * and an entry by such an actor never runs rules.  Replays (a crash
 * between EXEC and XACK): the record in tk:{t:N}:triggers makes the
 * second run a no-op.
 *
 * The compiled rules are cached for the life of the process and loaded
 * again only when tk:triggers:gen moves (it is read with the ticket, no
 * extra round trip).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mb_triggers.h"
#include "tk_tags.h"
#include "tk_ticket.h"
#include "tk_trigger.h"

#define MB_TRG_ATTEMPTS  5
#define MB_TRG_ACTOR_MAX 1024

typedef struct {
    tk_trigger_t  *rules;
    size_t         n;
    long long      gen;           /* -1: never loaded */
    void          *md;            /* PCRE2 match data, reused */
} mb_triggers_t;

/* one entry's transaction */
typedef struct {
    tk_redis_t              *redis;
    const mb_feed_entry_t   *e;
    unsigned                 on;          /* TK_TRIGGER_ON_* of the entry */
    uint64_t                 ticket;
    int                      has_article;
    int                      reload;      /* out: the rules changed */
    unsigned                 fired;       /* out: rules that fired  */
    char                     actor[MB_TRG_ACTOR_MAX];
} mb_trg_tx_t;

static mb_triggers_t  mb_trg = { NULL, 0, -1, NULL };

static int mb_triggers_load(tk_redis_t *redis);
static void mb_triggers_clear(void);
static int mb_triggers_decide(void *data, redisReply **reads, size_t nreads,
    tk_cmds_t *writes);
static int mb_triggers_apply(mb_trg_tx_t *d, tk_cmds_t *w,
    const tk_ticket_t *old, tk_ticket_t *new, const tk_trigger_t **hit,
    size_t nhit);
static tk_str_t *mb_triggers_pairs(redisReply *r, tk_cmds_t *w);
static long long mb_triggers_gen(redisReply *r);
static void mb_triggers_tags(tk_ticket_t *t, const char *add,
    unsigned char *buf);
static void mb_triggers_cstr(tk_str_t *s, const char *p);


int
mb_triggers_feed(const mb_config_t *cfg, tk_redis_t *redis,
    const mb_feed_entry_t *e)
{
    const char   *event, *by, *kind, *num;
    char          key[TK_KEY_MAX], fired[TK_KEY_MAX];
    const char   *keys[1];
    tk_cmds_t     reads;
    tk_arena_t    arena;
    mb_trg_tx_t   d;
    int           rc, round;

    event = mb_feed_field(e, "event", NULL);
    by = mb_feed_field(e, "by", NULL);
    num = mb_feed_field(e, "ticket", NULL);

    if (event == NULL || num == NULL) {
        return 0;
    }

    /* what a trigger caused never triggers again */
    if (by && strncmp(by, TK_TRIGGER_ACTOR_PFX,
                      sizeof(TK_TRIGGER_ACTOR_PFX) - 1) == 0)
    {
        return 0;
    }

    memset(&d, 0, sizeof(d));
    d.redis = redis;
    d.e = e;

    if (strcmp(event, "created") == 0) {
        d.on = TK_TRIGGER_ON_CREATE;

    } else if (strcmp(event, "update") == 0) {
        d.on = TK_TRIGGER_ON_UPDATE;

    } else if (strcmp(event, "article") == 0
               && (kind = mb_feed_field(e, "kind", NULL))
               && strcmp(kind, "in") == 0)
    {
        d.on = TK_TRIGGER_ON_UPDATE;     /* the customer wrote again */

    } else {
        return 0;
    }

    d.ticket = strtoull(num, NULL, 10);
    if (d.ticket == 0) {
        return 0;
    }

    if (mb_trg.md == NULL) {
        mb_trg.md = tk_trigger_match_data();
        if (mb_trg.md == NULL) {
            return -1;
        }
    }

    snprintf(key, sizeof(key), TK_FMT_TICKET, (unsigned long long) d.ticket);
    snprintf(fired, sizeof(fired), TK_FMT_TICKET_TRIGGERS,
             (unsigned long long) d.ticket);
    keys[0] = key;

    for (round = 0; round < 3; round++) {
        const char  *art = mb_feed_field(e, "article", NULL);

        tk_arena_init(&arena);
        tk_cmds_init(&reads, tk_arena_alloc, &arena);
        tk_cmds_add(&reads, "GET " TK_KEY_TRIGGERS_GEN);
        tk_cmds_add(&reads, "HGETALL %s", key);
        tk_cmds_add(&reads, "HEXISTS %s %s", fired, e->id);
        d.has_article = art != NULL;
        if (art) {
            tk_cmds_add(&reads, "HGETALL " TK_FMT_TICKET TK_SFX_ARTICLE "%s",
                        (unsigned long long) d.ticket, art);
        }

        d.reload = 0;
        rc = tk_redis_tx(redis, keys, 1, &reads, mb_triggers_decide, &d,
                         MB_TRG_ATTEMPTS, NULL);
        tk_arena_reset(&arena);

        if (d.reload) {
            if (mb_triggers_load(redis) != 0) {
                return -1;
            }
            continue;
        }

        if (rc == TK_REDIS_OK) {
            mb_info("triggers: ticket %llu (%s %s): %s",
                    (unsigned long long) d.ticket, event, e->id, d.actor);
            return 0;
        }

        if (rc == TK_REDIS_ABORT) {
            return 0;                   /* nothing fired, or done before */
        }

        mb_warn("triggers: ticket %llu: %s", (unsigned long long) d.ticket,
                redis->err);
        return -1;
    }

    return -1;
}


/*
 * reads: GET gen, HGETALL ticket, HEXISTS fired entry, [HGETALL article].
 * Returns TK_REDIS_ABORT when nothing is to be written.
 */
static int
mb_triggers_decide(void *data, redisReply **reads, size_t nreads,
    tk_cmds_t *w)
{
    mb_trg_tx_t          *d = data;
    tk_ticket_t           old, new;
    tk_article_t          a;
    tk_trigger_input_t    in;
    tk_str_t             *pairs;
    const tk_trigger_t  **hit;
    size_t                i, nhit;

    if (mb_triggers_gen(reads[0]) != mb_trg.gen) {
        d->reload = 1;
        return TK_REDIS_ABORT;
    }

    if (mb_trg.n == 0) {
        return TK_REDIS_ABORT;
    }

    if (reads[2]->type == REDIS_REPLY_INTEGER && reads[2]->integer == 1) {
        return TK_REDIS_ABORT;          /* a replay: fired before */
    }

    pairs = mb_triggers_pairs(reads[1], w);
    if (pairs == NULL || tk_ticket_parse(&old, pairs,
                                         reads[1]->elements / 2) != 0)
    {
        return TK_REDIS_ABORT;          /* gone, or not a ticket */
    }

    memset(&a, 0, sizeof(a));
    if (d->has_article && nreads > 3) {
        pairs = mb_triggers_pairs(reads[3], w);
        if (pairs) {
            (void) tk_article_parse(&a, pairs, reads[3]->elements / 2);
        }
    }

    in.subject = a.subject.len ? a.subject : old.title;
    in.body = a.body;
    in.from = a.from.len ? a.from : old.customer_email;
    in.group = old.group;
    in.priority = old.priority;
    in.state = old.state;
    in.autogen = tk_flags_has(&old.flags, TK_FLAG_AUTO)
                 || tk_flags_has(&a.flags, TK_FLAG_AUTO);

    hit = w->alloc(w->alloc_data, mb_trg.n * sizeof(*hit));
    if (hit == NULL) {
        tk_redis_set_error(d->redis, "out of memory");
        return TK_REDIS_ERROR;
    }

    /* every rule sees the ticket as it came: rules do not chain */
    for (i = 0, nhit = 0; i < mb_trg.n; i++) {
        if (tk_trigger_match(&mb_trg.rules[i], d->on, &in, mb_trg.md)) {
            hit[nhit++] = &mb_trg.rules[i];
        }
    }

    if (nhit == 0) {
        return TK_REDIS_ABORT;
    }

    new = old;
    return mb_triggers_apply(d, w, &old, &new, hit, nhit);
}


/* Every action of the matching rules; later rules win on a field. */
/* The rule's tags (stored form) united with the ticket's, into buf. */
static void
mb_triggers_tags(tk_ticket_t *t, const char *add, unsigned char *buf)
{
    tk_str_t  tags[2 * TK_TAGS_MAX], list;
    size_t    n;

    list.data = (unsigned char *) add;
    list.len = strlen(add);

    n = tk_tags_split(&t->tags, tags, TK_TAGS_MAX);
    n += tk_tags_split(&list, tags + n, TK_TAGS_MAX);

    t->tags.len = tk_tags_join(tags, n, buf);
    t->tags.data = buf;
}


static int
mb_triggers_apply(mb_trg_tx_t *d, tk_cmds_t *w, const tk_ticket_t *old,
    tk_ticket_t *new, const tk_trigger_t **hit, size_t nhit)
{
    char          ids[MB_TRG_ACTOR_MAX], *p;
    tk_str_t      actor;
    tk_article_t  note;
    /* the tag lists built by the rules, alternating: each union reads
     * the one before (commands copy what they are given) */
    unsigned char tagbuf[2][TK_TAGS_LEN_MAX];
    redisReply   *r;
    size_t        i, len, ilen;
    int64_t       now;

    now = (int64_t) time(NULL);

    /* "trigger:dringend,follow-up": history, feed and notes say who */
    len = (size_t) snprintf(d->actor, sizeof(d->actor), "%s",
                            TK_TRIGGER_ACTOR_PFX);
    ilen = 0;
    ids[0] = '\0';
    for (i = 0; i < nhit; i++) {
        p = d->actor + len;
        len += (size_t) snprintf(p, len < sizeof(d->actor)
                                 ? sizeof(d->actor) - len : 0, "%s%s",
                                 i ? "," : "", hit[i]->name);
        ilen += (size_t) snprintf(ids + ilen, ilen < sizeof(ids)
                                  ? sizeof(ids) - ilen : 0, "%s%s",
                                  i ? "," : "", hit[i]->id);
        if (len >= sizeof(d->actor) || ilen >= sizeof(ids)) {
            tk_redis_set_error(d->redis, "too many rules fired at once");
            return TK_REDIS_ERROR;
        }

        if (hit[i]->set_priority) {
            new->priority = hit[i]->set_priority;
        }
        if (hit[i]->set_state) {
            new->state = hit[i]->set_state;
        }
        if (hit[i]->set_group) {
            mb_triggers_cstr(&new->group, hit[i]->set_group);
        }
        if (hit[i]->set_owner) {
            mb_triggers_cstr(&new->owner, hit[i]->set_owner);
        }
        if (hit[i]->set_tags) {
            mb_triggers_tags(new, hit[i]->set_tags, tagbuf[i % 2]);
        }
    }

    actor.data = (unsigned char *) d->actor;
    actor.len = len;
    tk_cmds_actor(w, &actor, TK_SRC_SYSTEM);

    if (new->priority != old->priority || new->state != old->state
        || !tk_str_eq(&new->group, &old->group)
        || !tk_str_eq(&new->owner, &old->owner)
        || !tk_str_eq(&new->tags, &old->tags))
    {
        tk_ticket_update(w, old, new, &actor, now);
    }

    for (i = 0; i < nhit; i++) {
        if (hit[i]->note == NULL) {
            continue;
        }

        /* the id is taken outside the MULTI: a conflict wastes one */
        r = tk_redis_command(d->redis, "INCR " TK_KEY_SEQ_ARTICLE);
        if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
            if (r) {
                tk_redis_set_error(d->redis, "INCR %s: %s",
                                   TK_KEY_SEQ_ARTICLE, r->type
                                   == REDIS_REPLY_ERROR ? r->str : "?");
                freeReplyObject(r);
            }
            return TK_REDIS_ERROR;
        }

        memset(&note, 0, sizeof(note));
        note.id = (uint64_t) r->integer;
        freeReplyObject(r);
        note.ticket = old->number;
        note.kind = TK_ART_NOTE;
        note.from = actor;
        note.author = actor;
        note.subject = new->title;
        mb_triggers_cstr(&note.body, hit[i]->note);
        note.time = now;
        tk_article_write(w, &note, &new->group);
    }

    for (i = 0; i < nhit; i++) {
        if (hit[i]->notify) {
            tk_cmds_add(w, "XADD " TK_KEY_NOTIFY " * ticket %llu event "
                        "trigger to %s by %S reason %s rule %s",
                        (unsigned long long) old->number, hit[i]->notify,
                        &actor, hit[i]->name, hit[i]->id);
        }
    }

    tk_cmds_add(w, "HSET " TK_FMT_TICKET_TRIGGERS " %s %s",
                (unsigned long long) old->number, d->e->id, ids);

    d->fired = (unsigned) nhit;
    return w->failed ? TK_REDIS_ERROR : 0;
}


/*
 * The rules in evaluation order, each compiled once.  A rule that does
 * not compile (changed behind ticketctl's back) is logged and skipped:
 * the others still work.
 */
static int
mb_triggers_load(tk_redis_t *redis)
{
    redisReply          *gen, *ids, *h;
    tk_trigger_error_t   err;
    tk_str_t            *pairs;
    size_t               i, j;

    memset(&err, 0, sizeof(err));
    gen = tk_redis_command(redis, "GET " TK_KEY_TRIGGERS_GEN);
    if (gen == NULL) {
        return -1;
    }

    ids = tk_redis_command(redis, "ZRANGE " TK_KEY_TRIGGERS " 0 -1");
    if (ids == NULL || ids->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(gen);
        if (ids) {
            freeReplyObject(ids);
        }
        return -1;
    }

    mb_triggers_clear();
    mb_trg.rules = calloc(ids->elements + 1, sizeof(tk_trigger_t));
    if (mb_trg.rules == NULL) {
        freeReplyObject(gen);
        freeReplyObject(ids);
        return -1;
    }

    for (i = 0; i < ids->elements; i++) {
        h = tk_redis_command(redis, "HGETALL " TK_FMT_TRIGGER,
                             ids->element[i]->str);
        if (h == NULL) {
            freeReplyObject(gen);
            freeReplyObject(ids);
            mb_triggers_clear();
            return -1;
        }

        pairs = h->type == REDIS_REPLY_ARRAY
                ? calloc(h->elements + 1, sizeof(tk_str_t)) : NULL;
        for (j = 0; pairs && j < h->elements; j++) {
            pairs[j].data = (unsigned char *) h->element[j]->str;
            pairs[j].len = h->element[j]->len;
        }

        if (pairs && h->elements
            && tk_trigger_load(&mb_trg.rules[mb_trg.n], ids->element[i]->str,
                               pairs, h->elements / 2, &err) == 0)
        {
            mb_trg.n++;
        } else {
            mb_warn("triggers: rule %s skipped: %s: %s (offset %ld)",
                    ids->element[i]->str, err.field ? err.field : "hash",
                    h->elements ? err.message : "missing", err.offset);
            tk_trigger_free(&mb_trg.rules[mb_trg.n]);
        }

        free(pairs);
        freeReplyObject(h);
    }

    mb_trg.gen = mb_triggers_gen(gen);
    mb_info("triggers: %zu rules loaded (generation %lld)", mb_trg.n,
            mb_trg.gen);
    freeReplyObject(gen);
    freeReplyObject(ids);
    return 0;
}


static void
mb_triggers_clear(void)
{
    size_t  i;

    for (i = 0; i < mb_trg.n; i++) {
        tk_trigger_free(&mb_trg.rules[i]);
    }
    free(mb_trg.rules);
    mb_trg.rules = NULL;
    mb_trg.n = 0;
    mb_trg.gen = -1;
}


/* An HGETALL reply as pairs (arena of the writes); NULL when empty. */
static tk_str_t *
mb_triggers_pairs(redisReply *r, tk_cmds_t *w)
{
    tk_str_t  *pairs;
    size_t     i;

    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
        return NULL;
    }

    pairs = w->alloc(w->alloc_data, r->elements * sizeof(tk_str_t));
    for (i = 0; pairs && i < r->elements; i++) {
        pairs[i].data = (unsigned char *) r->element[i]->str;
        pairs[i].len = r->element[i]->len;
    }
    return pairs;
}


/* The counter as a number; absent (no rule ever saved): 0. */
static long long
mb_triggers_gen(redisReply *r)
{
    return r && r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
}


static void
mb_triggers_cstr(tk_str_t *s, const char *p)
{
    s->data = (unsigned char *) p;
    s->len = strlen(p);
}
