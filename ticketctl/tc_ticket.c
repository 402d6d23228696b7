/*
 * tc_ticket.c -- "ticketctl ticket list|create|update": tickets written
 * through the shared write path (tk_ticket.c) and listed from the
 * overview index.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ticketctl.h"


#define TC_LIST_DEFAULT   50
#define TC_LIST_MAX       10000

typedef struct {
    uint64_t   number;
    double     score;
} tc_hit_t;

/* "ticket update": the changes, applied to whatever is stored */
typedef struct {
    uint64_t      number;
    const char   *title;
    const char   *group;
    const char   *owner;         /* "" unassigns */
    int           state;
    int           priority;
    int           found;
    int           changed;
} tc_ticket_change_t;


static int tc_ticket_list(tc_ctx_t *ctx, int argc, char **argv);
static int tc_ticket_create(tc_ctx_t *ctx, int argc, char **argv);
static int tc_ticket_update(tc_ctx_t *ctx, int argc, char **argv);
static int tc_ticket_update_decide(void *data, redisReply **reads,
    size_t nreads, tk_cmds_t *writes);
static int tc_hit_cmp(const void *a, const void *b);
static int tc_customer_id(tc_ctx_t *ctx, const char *email, uint64_t *id,
    int *created);
static long long tc_incrby(tc_ctx_t *ctx, const char *key, long long by);
static int tc_owner_check(tc_ctx_t *ctx, const char *owner);


static const tc_command_t  tc_ticket_commands[] = {
    { "list", tc_ticket_list },
    { "create", tc_ticket_create },
    { "update", tc_ticket_update },
    { NULL, NULL }
};


int
tc_cmd_ticket(tc_ctx_t *ctx, int argc, char **argv)
{
    return tc_subcommand(ctx, argc, argv, "ticket", tc_ticket_commands);
}


/* ---- ticket list -------------------------------------------------------- */

static int
tc_hit_cmp(const void *a, const void *b)
{
    const tc_hit_t  *x = a, *y = b;

    if (x->score != y->score) {
        return x->score < y->score ? 1 : -1;
    }

    return x->number < y->number ? 1 : (x->number > y->number ? -1 : 0);
}


/*
 * The most recently updated tickets of the chosen partitions: each
 * "*"-owner "upd" set gives its first LIMIT members, merged here.  The
 * same reads the web overview does, so this also checks the index.
 */
static int
tc_ticket_list(tc_ctx_t *ctx, int argc, char **argv)
{
    static const struct option  opts[] = {
        { "group", required_argument, NULL, 'g' },
        { "state", required_argument, NULL, 's' },
        { "limit", required_argument, NULL, 'l' },
        { NULL, 0, NULL, 0 }
    };

    tk_arena_t    arena;
    tk_cmds_t     cmds;
    redisReply   *set, **replies, *r;
    tk_str_t      g, any = tk_string(TK_OWNER_ANY);
    const char   *group, *state_arg, **groups;
    char          key[TK_KEY_MAX], when[32], *end, **names;
    tc_hit_t     *hits;
    size_t        ngroups, nhits, ncmds, i, j, k;
    long          limit;
    int           c, rc, state, s, s0, s1;
    time_t        t;
    struct tm     tm;

    group = NULL;
    state_arg = NULL;
    limit = TC_LIST_DEFAULT;
    optind = 0;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'g': group = optarg; break;
        case 's': state_arg = optarg; break;
        case 'l':
            limit = strtol(optarg, &end, 10);
            if (*end || limit < 1 || limit > TC_LIST_MAX) {
                return tc_fail(EX_USAGE, "invalid --limit \"%s\": 1 to %d",
                               optarg, TC_LIST_MAX);
            }
            break;
        default: return tc_usage("ticket");
        }
    }

    if (optind != argc) {
        return tc_usage("ticket");
    }

    state = 0;
    if (state_arg) {
        state = tk_state_parse(state_arg, strlen(state_arg));
        if (state == 0) {
            return tc_fail(EX_DATAERR, "invalid state \"%s\": 1-6 or new, "
                           "open, waiting, reminder, deferred, closed",
                           state_arg);
        }
    }

    if ((rc = tc_connect(ctx, 1))) {
        return rc;
    }

    set = NULL;

    if (group) {
        if ((rc = tc_group_check(ctx, group))) {
            return rc;
        }

        groups = &group;
        ngroups = 1;

    } else {
        if ((rc = tc_members_sorted(ctx, TK_KEY_GROUPS, &set, &names,
                                    &ngroups)))
        {
            return rc;
        }

        groups = (const char **) names;
    }

    s0 = state ? state : TK_STATE_MIN;
    s1 = state ? state : TK_STATE_MAX;

    tk_arena_init(&arena);
    tk_cmds_init(&cmds, tk_arena_alloc, &arena);

    for (i = 0; i < ngroups; i++) {
        tc_str(&g, groups[i]);

        for (s = s0; s <= s1; s++) {
            tk_key_index(key, sizeof(key), &g, s, &any, TK_SORT_UPDATED);
            tk_cmds_add(&cmds, "ZREVRANGE %s 0 %ld WITHSCORES", key,
                        limit - 1);
        }
    }

    ncmds = cmds.n;
    replies = NULL;
    hits = NULL;
    nhits = 0;

    rc = ncmds ? tk_redis_pipeline(&ctx->redis, &cmds, &replies)
               : TK_REDIS_OK;
    if (rc != TK_REDIS_OK) {
        rc = tc_redis_fail(ctx, rc);
        goto done;
    }

    for (i = 0; i < ncmds; i++) {
        nhits += replies[i]->elements / 2;
    }

    hits = calloc(nhits + 1, sizeof(tc_hit_t));
    if (hits == NULL) {
        rc = tc_fail(EX_OSERR, "out of memory");
        goto done;
    }

    for (i = 0, k = 0; i < ncmds; i++) {
        for (j = 0; j + 1 < replies[i]->elements; j += 2) {
            hits[k].number = strtoull(replies[i]->element[j]->str, NULL, 10);
            hits[k++].score = strtod(replies[i]->element[j + 1]->str, NULL);
        }
    }

    qsort(hits, nhits, sizeof(tc_hit_t), tc_hit_cmp);

    if (nhits > (size_t) limit) {
        nhits = (size_t) limit;
    }

    tk_redis_replies_free(replies, ncmds);
    replies = NULL;

    tk_cmds_init(&cmds, tk_arena_alloc, &arena);

    for (i = 0; i < nhits; i++) {
        tk_key_ticket(key, sizeof(key), hits[i].number);
        tk_cmds_add(&cmds, "HMGET %s " TK_F_STATE " " TK_F_PRIORITY " "
                    TK_F_GROUP " " TK_F_OWNER " " TK_F_CUSTOMER_EMAIL " "
                    TK_F_UPDATED " " TK_F_TITLE, key);
    }

    ncmds = cmds.n;
    rc = ncmds ? tk_redis_pipeline(&ctx->redis, &cmds, &replies)
               : TK_REDIS_OK;
    if (rc != TK_REDIS_OK) {
        rc = tc_redis_fail(ctx, rc);
        goto done;
    }

    printf("%-8s %-9s %-7s %-16s %-12s %-28s %-16s %s\n", "NUMBER", "STATE",
           "PRIO", "GROUP", "OWNER", "CUSTOMER", "UPDATED", "TITLE");

    for (i = 0; i < nhits; i++) {
        r = replies[i];

#define F(n)  (r->element[n]->type == REDIS_REPLY_STRING ? r->element[n]->str \
                                                         : "")
        s = atoi(F(0));
        t = (time_t) atoll(F(5));
        localtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);

        printf("%-8llu %-9s %-7s ", (unsigned long long) hits[i].number,
               tk_state_name(s) ? tk_state_name(s) : "?",
               tk_prio_name(atoi(F(1))) ? tk_prio_name(atoi(F(1))) : "?");
        tc_print_col(F(2), 16);
        tc_print_col(*F(3) ? F(3) : "-", 12);
        tc_print_col(F(4), 28);
        printf("%-16s %s\n", when, F(6));
#undef F
    }

    rc = EX_OK;

done:

    tk_redis_replies_free(replies, ncmds);
    tk_arena_reset(&arena);
    free(hits);

    if (set) {
        free(groups);
        freeReplyObject(set);
    }

    return rc;
}


/* ---- ticket create ------------------------------------------------------ */

static int
tc_ticket_create(tc_ctx_t *ctx, int argc, char **argv)
{
    static const struct option  opts[] = {
        { "group", required_argument, NULL, 'g' },
        { "title", required_argument, NULL, 't' },
        { "customer", required_argument, NULL, 'c' },
        { "name", required_argument, NULL, 'n' },
        { "body", required_argument, NULL, 'b' },
        { "owner", required_argument, NULL, 'o' },
        { "priority", required_argument, NULL, 'p' },
        { "state", required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 }
    };

    tc_ticket_new_t   tn;
    const char       *prio, *state;
    uint64_t          number;
    int               c, rc;

    memset(&tn, 0, sizeof(tn));
    prio = state = NULL;
    optind = 0;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'g': tn.group = optarg; break;
        case 't': tn.title = optarg; break;
        case 'c': tn.customer_email = optarg; break;
        case 'n': tn.customer_name = optarg; break;
        case 'b': tn.body = optarg; break;
        case 'o': tn.owner = optarg; break;
        case 'p': prio = optarg; break;
        case 's': state = optarg; break;
        default: return tc_usage("ticket");
        }
    }

    if (optind != argc || !tn.group || !tn.title || !tn.customer_email) {
        tc_fail(EX_USAGE, "ticket create needs --group, --title and "
                "--customer");
        return tc_usage("ticket");
    }

    tn.priority = TK_PRIO_NORMAL;
    tn.state = TK_STATE_NEW;

    if (prio && (tn.priority = tk_prio_parse(prio, strlen(prio))) == 0) {
        return tc_fail(EX_DATAERR, "invalid priority \"%s\": 1-4 or low, "
                       "normal, high, urgent", prio);
    }

    if (state && (tn.state = tk_state_parse(state, strlen(state))) == 0) {
        return tc_fail(EX_DATAERR, "invalid state \"%s\": 1-6 or new, open, "
                       "waiting, reminder, deferred, closed", state);
    }

    if ((rc = tc_connect(ctx, 1))) {
        return rc;
    }

    rc = tc_ticket_new(ctx, &tn, &number);
    if (rc == EX_OK) {
        printf("ticket %llu created\n", (unsigned long long) number);
    }

    return rc;
}


static long long
tc_incrby(tc_ctx_t *ctx, const char *key, long long by)
{
    redisReply  *reply;
    long long    v;

    reply = tc_command(ctx, "INCRBY %s %lld", key, by);
    if (reply == NULL) {
        return -1;
    }

    v = reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;
    freeReplyObject(reply);

    return v;
}


/* The customer with this address, or a new id (*created = 1). */
static int
tc_customer_id(tc_ctx_t *ctx, const char *email, uint64_t *id, int *created)
{
    redisReply  *reply;
    char        *lower;
    long long    v;

    lower = strdup(email);
    if (lower == NULL) {
        return tc_fail(EX_OSERR, "out of memory");
    }

    reply = tc_command(ctx, "HGET " TK_KEY_CUSTOMER_BY_EMAIL " %s",
                       tc_lower(lower));
    free(lower);

    if (reply == NULL) {
        return EX_UNAVAILABLE;
    }

    *created = reply->type != REDIS_REPLY_STRING;
    *id = *created ? 0 : strtoull(reply->str, NULL, 10);
    freeReplyObject(reply);

    if (*created) {
        v = tc_incrby(ctx, TK_KEY_SEQ_CUSTOMER, 1);
        if (v <= 0) {
            return EX_UNAVAILABLE;
        }
        *id = (uint64_t) v;
    }

    return EX_OK;
}


/*
 * Numbers come from INCR outside the transaction (a failed EXEC only
 * leaves a gap); everything else is one MULTI/EXEC, so a ticket is
 * never visible without its index entries or its first article.
 */
int
tc_ticket_new(tc_ctx_t *ctx, const tc_ticket_new_t *tn, uint64_t *number)
{
    tk_arena_t     arena;
    tk_cmds_t      cmds;
    tk_ticket_t    t;
    tk_article_t   a;
    redisReply    *reply;
    tk_str_t       gname, owner;
    char           key[TK_KEY_MAX], from[512], group_email[256];
    uint64_t       customer = 0, article;
    long long      n, last;
    int            rc, created_customer = 0, narticles;
    int64_t        now;

    tc_str(&gname, tn->group);
    tc_str(&owner, tn->owner);

    if (!tk_valid_group(&gname)) {
        return tc_fail(EX_DATAERR, "invalid group name \"%s\"", tn->group);
    }

    if (*tn->title == '\0') {
        return tc_fail(EX_DATAERR, "empty ticket title");
    }

    if (strchr(tn->customer_email, '@') == NULL
        || strpbrk(tn->customer_email, " <>,\t\r\n"))
    {
        return tc_fail(EX_DATAERR, "invalid customer address \"%s\"",
                       tn->customer_email);
    }

    snprintf(key, sizeof(key), TK_FMT_GROUP, tn->group);
    reply = tc_command(ctx, "HGET %s " TK_F_EMAIL, key);
    if (reply == NULL) {
        return EX_UNAVAILABLE;
    }

    if (reply->type != REDIS_REPLY_STRING) {
        freeReplyObject(reply);
        return tc_fail(EX_DATAERR, "unknown group \"%s\" (see \"ticketctl "
                       "group list\")", tn->group);
    }

    snprintf(group_email, sizeof(group_email), "%s", reply->str);
    freeReplyObject(reply);

    if (owner.len && (rc = tc_owner_check(ctx, tn->owner))) {
        return rc;
    }

    if ((rc = tc_customer_id(ctx, tn->customer_email, &customer,
                             &created_customer)))
    {
        return rc;
    }

    n = tc_incrby(ctx, TK_KEY_SEQ_TICKET, 1);
    narticles = (tn->body != NULL) + (tn->reply != NULL) + (tn->note != NULL);
    last = narticles ? tc_incrby(ctx, TK_KEY_SEQ_ARTICLE, narticles) : 0;

    if (n <= 0 || last < 0) {
        return EX_UNAVAILABLE;
    }

    now = tn->created ? tn->created : (int64_t) time(NULL);
    article = (uint64_t) (last - narticles);

    memset(&t, 0, sizeof(t));
    t.number = (uint64_t) n;
    tc_str(&t.title, tn->title);
    t.group = gname;
    t.owner = owner;
    t.customer = customer;
    tc_str(&t.customer_name, tn->customer_name);
    tc_str(&t.customer_email, tn->customer_email);
    t.state = tn->state;
    t.priority = tn->priority;
    t.created = now;
    t.updated = now + (tn->reply ? 5400 : 0) + (tn->note ? 600 : 0);
    t.first_response = tn->reply ? now + 5400 : 0;

    tk_arena_init(&arena);
    tk_cmds_init(&cmds, tk_arena_alloc, &arena);
    tc_actor(&cmds);
    tk_cmds_multi(&cmds);

    if (created_customer) {
        tk_str_t  cname, cemail;

        tc_str(&cname, tn->customer_name);
        tc_str(&cemail, tn->customer_email);
        tk_customer_write(&cmds, customer, &cname, &cemail);
    }

    tk_ticket_create(&cmds, &t, NULL);

    if (tn->customer_name && *tn->customer_name) {
        snprintf(from, sizeof(from), "\"%s\" <%s>", tn->customer_name,
                 tn->customer_email);
    } else {
        snprintf(from, sizeof(from), "%s", tn->customer_email);
    }

    memset(&a, 0, sizeof(a));
    a.ticket = t.number;
    a.subject = t.title;

    if (tn->body) {
        a.id = ++article;
        a.kind = TK_ART_IN;
        tc_str(&a.from, from);
        tc_str(&a.to, group_email);
        tc_str(&a.body, tn->body);
        a.time = now;
        a.size = a.body.len + 600;     /* roughly, with headers */
        tk_article_write(&cmds, &a, &gname);
    }

    if (tn->reply) {
        a.id = ++article;
        a.kind = TK_ART_OUT;
        tc_str(&a.from, group_email);
        tc_str(&a.to, tn->customer_email);
        tc_str(&a.body, tn->reply);
        a.author = owner;
        a.time = now + 5400;
        a.size = a.body.len + 600;
        tk_article_write(&cmds, &a, &gname);
    }

    if (tn->note) {
        a.id = ++article;
        a.kind = TK_ART_NOTE;
        tc_str(&a.from, tn->owner);
        tc_str(&a.to, NULL);
        tc_str(&a.body, tn->note);
        a.author = owner;
        a.time = t.updated;
        a.size = 0;
        tk_article_write(&cmds, &a, &gname);
    }

    tk_cmds_exec(&cmds);

    rc = tc_run(ctx, &cmds);
    tk_arena_reset(&arena);

    *number = t.number;

    return rc;
}


/* ---- ticket update ------------------------------------------------------ */

/*
 * The same optimistic transaction the web view runs: WATCH the ticket,
 * read it, tk_ticket_update() (index moves, counts, history), EXEC.
 */
static int
tc_ticket_update(tc_ctx_t *ctx, int argc, char **argv)
{
    static const struct option  opts[] = {
        { "title", required_argument, NULL, 't' },
        { "group", required_argument, NULL, 'g' },
        { "owner", required_argument, NULL, 'o' },
        { "state", required_argument, NULL, 's' },
        { "priority", required_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 }
    };

    tc_ticket_change_t   ch;
    tk_arena_t           arena;
    tk_cmds_t            reads;
    const char          *keys[1];
    char                 key[TK_KEY_MAX], *end;
    int                  c, rc;

    memset(&ch, 0, sizeof(ch));
    optind = 0;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 't': ch.title = optarg; break;
        case 'g': ch.group = optarg; break;
        case 'o': ch.owner = optarg; break;
        case 's':
            ch.state = tk_state_parse(optarg, strlen(optarg));
            if (ch.state == 0) {
                return tc_fail(EX_DATAERR, "invalid state \"%s\"", optarg);
            }
            break;
        case 'p':
            ch.priority = tk_prio_parse(optarg, strlen(optarg));
            if (ch.priority == 0) {
                return tc_fail(EX_DATAERR, "invalid priority \"%s\"",
                               optarg);
            }
            break;
        default: return tc_usage("ticket");
        }
    }

    if (optind != argc - 1 || !(ch.title || ch.group || ch.owner || ch.state
                                || ch.priority))
    {
        tc_fail(EX_USAGE, "ticket update needs NUMBER and at least one "
                "change");
        return tc_usage("ticket");
    }

    ch.number = strtoull(argv[optind], &end, 10);
    if (*end || ch.number == 0) {
        return tc_fail(EX_DATAERR, "invalid ticket number \"%s\"",
                       argv[optind]);
    }

    if (ch.title && *ch.title == '\0') {
        return tc_fail(EX_DATAERR, "empty ticket title");
    }

    if ((rc = tc_connect(ctx, 1))) {
        return rc;
    }

    if ((ch.group && (rc = tc_group_check(ctx, ch.group)))
        || (ch.owner && *ch.owner && (rc = tc_owner_check(ctx, ch.owner))))
    {
        return rc;
    }

    tk_key_ticket(key, sizeof(key), ch.number);
    keys[0] = key;

    tk_arena_init(&arena);
    tk_cmds_init(&reads, tk_arena_alloc, &arena);
    tc_actor(&reads);               /* the writes inherit it */
    tk_cmds_add(&reads, "HGETALL %s", key);

    rc = tk_redis_tx(&ctx->redis, keys, 1, &reads, tc_ticket_update_decide,
                     &ch, 5, NULL);
    tk_arena_reset(&arena);

    if (rc == TK_REDIS_ABORT) {
        return ch.found ? tc_fail(EX_DATAERR, "ticket %llu is damaged (no "
                                  "valid number, state or priority); see "
                                  "\"redis-cli HGETALL %s\"",
                                  (unsigned long long) ch.number, key)
                        : tc_fail(EX_DATAERR, "no ticket %llu",
                                  (unsigned long long) ch.number);
    }

    if (rc != TK_REDIS_OK) {
        return tc_redis_fail(ctx, rc);
    }

    printf("ticket %llu %s\n", (unsigned long long) ch.number,
           ch.changed ? "updated" : "unchanged");

    return EX_OK;
}


static int
tc_ticket_update_decide(void *data, redisReply **reads, size_t nreads,
    tk_cmds_t *writes)
{
    static const tk_str_t  by = tk_string("ticketctl");

    tc_ticket_change_t  *ch = data;
    tk_ticket_t          old, new;
    tk_str_t            *pairs;
    redisReply          *r = reads[0];

    ch->found = r->type == REDIS_REPLY_ARRAY && r->elements > 0;
    if (!ch->found) {
        return TK_REDIS_ABORT;
    }

    pairs = tc_reply_pairs(r, writes->alloc, writes->alloc_data);
    if (pairs == NULL) {
        return TK_REDIS_ERROR;
    }

    if (tk_ticket_parse(&old, pairs, r->elements / 2) != 0) {
        return TK_REDIS_ABORT;
    }

    new = old;

    if (ch->title) {
        tc_str(&new.title, ch->title);
    }

    if (ch->group) {
        tc_str(&new.group, ch->group);
    }

    if (ch->owner) {
        tc_str(&new.owner, ch->owner);
    }

    if (ch->state) {
        new.state = ch->state;
    }

    if (ch->priority) {
        new.priority = ch->priority;
    }

    ch->changed = !tk_str_eq(&old.title, &new.title)
                  || !tk_str_eq(&old.group, &new.group)
                  || !tk_str_eq(&old.owner, &new.owner)
                  || old.state != new.state || old.priority != new.priority;

    if (ch->changed) {
        tk_ticket_update(writes, &old, &new, &by, (int64_t) time(NULL));
    }

    return 0;
}


/* An owner named for a ticket: the login of an existing user. */
static int
tc_owner_check(tc_ctx_t *ctx, const char *owner)
{
    tk_str_t  s;
    int       exists;

    tc_str(&s, owner);

    if (!tk_valid_login(&s)) {
        return tc_fail(EX_DATAERR, "invalid owner login \"%s\"", owner);
    }

    exists = tc_user_exists(ctx, owner);
    if (exists < 0) {
        return EX_UNAVAILABLE;
    }

    if (!exists) {
        return tc_fail(EX_DATAERR, "unknown owner \"%s\"", owner);
    }

    return EX_OK;
}
