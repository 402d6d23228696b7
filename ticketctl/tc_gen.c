/*
 * tc_gen.c -- "ticketctl gen": bench data that looks like a collective's
 * years of legal mail: most tickets closed, a few percent open over
 * states 1-5, some urgent, owners among twenty agents, customers who
 * write more than once, 5 KB bodies in German and English.  What agents
 * search for has the same few hits at any scale: each incoming mail of
 * ticket N cites the file reference "Aktenzeichen 231 Js N/26", and the
 * customers' surnames come from a pool that grows with the archive
 * (tc_gen_text.c).
 *
 * Speed comes from pipelining without waiting: batch k is written to
 * the socket, batch k+1 is built while Redis works on k, then k's
 * replies are read.  Redis is the limit, gen itself uses ~5 % of a core:
 * RediSearch 1.2 spends ~0.35 ms of CPU on FT.SAFEADD of a 5 KB body
 * (more as the index grows: ~0.5 ms at a million), everything else of a
 * ticket ~0.09 ms; --no-fulltext leaves it out.  One connection: plain
 * FT.ADD on two connections was slower than FT.SAFEADD on one
 * (tk_article.c).  No MULTI/EXEC here: bench data is written into an
 * idle Redis, and "reindex [--fulltext]" repairs the indexes if a run
 * is interrupted.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tc_gen.h"


#define TC_GEN_AGENTS        20
#define TC_GEN_BATCH_BYTES   (4 * 1024 * 1024)
#define TC_GEN_PASSWORD      "bench-password"
#define TC_GEN_SPAN          (3 * 365 * 86400)

typedef struct {
    tc_ctx_t       *ctx;
    tc_rng_t        rng;
    long            tickets;
    long            articles;      /* per ticket */
    int64_t         now;
    uint64_t        first_ticket;
    uint64_t        next_article;
    uint64_t        first_customer;
    uint64_t        ncustomers;
    long            done;
    unsigned        article_flags; /* TK_ARTICLE_NO_FULLTEXT */
    unsigned long   pending;       /* replies not read yet */
    unsigned long   errors;
    char            first_error[256];
    /* agents with full rights, per collective group */
    int             group_agents[8][TC_GEN_AGENTS];
    int             ngroup_agents[8];
} tc_gen_t;


static int tc_gen_agents(tc_gen_t *g, const char *password);
static int tc_gen_customers(tc_gen_t *g);
static void tc_gen_ticket(tc_gen_t *g, tk_cmds_t *c, tk_arena_t *arena,
    long k);
static int tc_gen_send(tc_gen_t *g, tk_cmds_t *c);
static int tc_gen_recv(tc_gen_t *g);
static double tc_gen_clock(void);


/* ---- the collective, in numbers ----------------------------------------- */

/* same order as tc_collective_groups: legal ALSO Bildung Standardmails
 * Verfassungsrecht Verwaltungsrecht Zivilrecht */
static const unsigned  tc_gen_group_weights[] = { 25, 30, 5, 15, 5, 12, 8 };
static const unsigned  tc_gen_open_state_weights[] = { 30, 30, 20, 10, 10 };
static const unsigned  tc_gen_prio_weights[] = { 10, 78, 8, 4 };

static const char  *tc_gen_agent_names[TC_GEN_AGENTS][2] = {
    { "anna", "Anna" }, { "ben", "Ben" }, { "chris", "Chris" },
    { "deniz", "Deniz" }, { "emil", "Emil" }, { "fatma", "Fatma" },
    { "gero", "Gero" }, { "hanna", "Hanna" }, { "ilias", "Ilias" },
    { "jana", "Jana" }, { "kai", "Kai" }, { "lea", "Lea" },
    { "malte", "Malte" }, { "nora", "Nora" }, { "ole", "Ole" },
    { "paula", "Paula" }, { "quinn", "Quinn" }, { "rosa", "Rosa" },
    { "sami", "Sami" }, { "tilda", "Tilda" }
};


/* ---- random numbers ----------------------------------------------------- */

/* xorshift64*: fast, and the same seed gives the same data set */
uint64_t
tc_rng_next(tc_rng_t *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;

    return r->s * 2685821657736338717ULL;
}


unsigned
tc_rng_below(tc_rng_t *r, unsigned n)
{
    return n ? (unsigned) ((tc_rng_next(r) >> 32) % n) : 0;
}


int
tc_rng_pick(tc_rng_t *r, const unsigned *weights, int n)
{
    unsigned  total, x;
    int       i;

    for (total = 0, i = 0; i < n; i++) {
        total += weights[i];
    }

    x = tc_rng_below(r, total);

    for (i = 0; i < n - 1; i++) {
        if (x < weights[i]) {
            return i;
        }
        x -= weights[i];
    }

    return n - 1;
}


static double
tc_gen_clock(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


/* ---- the command -------------------------------------------------------- */

int
tc_cmd_gen(tc_ctx_t *ctx, int argc, char **argv)
{
    static const struct option  opts[] = {
        { "tickets", required_argument, NULL, 't' },
        { "articles", required_argument, NULL, 'a' },
        { "seed", required_argument, NULL, 's' },
        { "password-stdin", no_argument, NULL, 'p' },
        { "no-fulltext", no_argument, NULL, 'F' },
        { NULL, 0, NULL, 0 }
    };

    tc_gen_t      *g;
    tk_arena_t     arena[2];
    tk_cmds_t      cmds;
    redisReply    *reply;
    char          *end, password[TC_PASSWORD_MAX + 2];
    long          k, per_batch, n;
    unsigned long  seed;
    int           c, rc, cur, pw, seeded;
    double        t0, last, now;

    g = calloc(1, sizeof(tc_gen_t));
    if (g == NULL) {
        return tc_fail(EX_OSERR, "out of memory");
    }

    g->ctx = ctx;
    g->tickets = -1;
    g->articles = 1;
    seed = 1;
    seeded = 0;
    pw = 0;
    rc = EX_OK;
    optind = 0;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            g->tickets = strtol(optarg, &end, 10);
            if (*end || g->tickets < 1 || g->tickets > 100000000) {
                rc = tc_fail(EX_USAGE, "invalid --tickets \"%s\": 1 to "
                             "100000000", optarg);
            }
            break;
        case 'a':
            g->articles = strtol(optarg, &end, 10);
            if (*end || g->articles < 1 || g->articles > 1000) {
                rc = tc_fail(EX_USAGE, "invalid --articles \"%s\": 1 to "
                             "1000", optarg);
            }
            break;
        case 's':
            seed = strtoul(optarg, &end, 10);
            seeded = 1;
            if (*end) {
                rc = tc_fail(EX_USAGE, "invalid --seed \"%s\"", optarg);
            }
            break;
        case 'p':
            pw = 1;
            break;
        case 'F':
            g->article_flags = TK_ARTICLE_NO_FULLTEXT;
            break;
        default:
            rc = EX_USAGE;
        }
    }

    if (rc == EX_OK && (optind != argc || g->tickets < 0)) {
        rc = tc_fail(EX_USAGE, "gen needs --tickets N");
    }

    if (rc != EX_OK) {
        free(g);
        return tc_usage("gen");
    }

    strcpy(password, TC_GEN_PASSWORD);

    if (pw && (tc_read_password(password, sizeof(password)) != 0
               || strlen(password) < TC_PASSWORD_MIN))
    {
        free(g);
        return tc_fail(EX_DATAERR, "--password-stdin: need a line of at "
                       "least %d characters", TC_PASSWORD_MIN);
    }

    g->now = (int64_t) time(NULL);

    if ((rc = tc_init_quiet(ctx, 0)) || (rc = tc_groups_ensure(ctx, 0))
        || (rc = tc_gen_agents(g, password)))
    {
        free(g);
        return rc;
    }

    /* ids outside any transaction: a crash leaves gaps, never clashes */
    n = g->tickets;
    reply = tc_command(ctx, "INCRBY " TK_KEY_SEQ_TICKET " %ld", n);
    if (reply == NULL) {
        free(g);
        return EX_UNAVAILABLE;
    }
    g->first_ticket = (uint64_t) (reply->integer - n + 1);
    freeReplyObject(reply);

    reply = tc_command(ctx, "INCRBY " TK_KEY_SEQ_ARTICLE " %ld",
                       n * g->articles);
    if (reply == NULL) {
        free(g);
        return EX_UNAVAILABLE;
    }
    g->next_article = (uint64_t) (reply->integer - n * g->articles + 1);
    freeReplyObject(reply);

    /* without --seed each run continues differently (the seed is the
     * first number), yet a run on the same data set is repeatable */
    if (!seeded) {
        seed = (unsigned long) g->first_ticket;
    }

    g->rng.s = 0x9e3779b97f4a7c15ULL ^ ((uint64_t) seed * 0xbf58476d1ce4e5b9ULL);
    if (g->rng.s == 0) {
        g->rng.s = 1;
    }

    if ((rc = tc_gen_customers(g))) {
        free(g);
        return rc;
    }

    per_batch = TC_GEN_BATCH_BYTES / (1500 + g->articles * 2 * TC_GEN_BODY);
    if (per_batch < 1) {
        per_batch = 1;
    }
    if (per_batch > 1000) {
        per_batch = 1000;
    }

    fprintf(stderr, "gen: %ld tickets #%llu-#%llu, %ld article(s) each, "
            "%llu new customers, seed %lu%s\n", n,
            (unsigned long long) g->first_ticket,
            (unsigned long long) (g->first_ticket + (uint64_t) n - 1),
            g->articles, (unsigned long long) g->ncustomers, seed,
            g->article_flags ? ", without full text" : "");

    tk_arena_init(&arena[0]);
    tk_arena_init(&arena[1]);
    cur = 0;
    t0 = last = tc_gen_clock();

    for (k = 0; k < n && rc == EX_OK; ) {
        tk_cmds_init(&cmds, tk_arena_alloc, &arena[cur]);
        tk_cmds_nofeed(&cmds);      /* bench data: nothing to act on */

        for (c = 0; c < per_batch && k < n; c++, k++) {
            tc_gen_ticket(g, &cmds, &arena[cur], k);
        }

        /* the previous batch has been processing while this one was built */
        if ((rc = tc_gen_recv(g)) || (rc = tc_gen_send(g, &cmds))) {
            break;
        }

        g->done = k;
        cur ^= 1;
        tk_arena_reset(&arena[cur]);

        now = tc_gen_clock();
        if (now - last >= 1.0) {
            fprintf(stderr, "gen: %ld/%ld tickets, %.0f tickets/s\n", k, n,
                    (double) k / (now - t0));
            last = now;
        }
    }

    if (rc == EX_OK) {
        rc = tc_gen_recv(g);
    }

    tk_arena_reset(&arena[0]);
    tk_arena_reset(&arena[1]);

    if (rc == EX_OK && g->errors) {
        rc = tc_fail(EX_SOFTWARE, "%lu commands failed, the first: %s",
                     g->errors, g->first_error);
    }

    if (rc == EX_OK) {
        now = tc_gen_clock();
        printf("generated %ld tickets with %ld article(s) each in %.1f s "
               "(%.0f tickets/s)\n", n, g->articles, now - t0,
               (double) n / (now - t0 > 0 ? now - t0 : 1e-9));
    }

    free(g);

    return rc;
}


/*
 * Twenty agents, created once (an existing account keeps its password).
 * anna has full rights on every AG, so a bench logged in as her sees
 * everything; the others work in one or two AGs, like real members.
 */
static int
tc_gen_agents(tc_gen_t *g, const char *password)
{
    tk_arena_t   arena;
    tk_cmds_t    cmds;
    tc_user_t    u;
    char         hash[256], rights[512], email[128];
    size_t       len, gi;
    int          i, created, rc, a1, a2;

    if (tc_password_hash(password, hash, sizeof(hash)) != 0) {
        return tc_fail(EX_SOFTWARE, "yescrypt hashing failed");
    }

    tk_arena_init(&arena);
    tk_cmds_init(&cmds, tk_arena_alloc, &arena);
    created = 0;

    for (i = 0; i < TC_GEN_AGENTS; i++) {
        rights[0] = '\0';
        len = 0;
        a1 = 1 + i % 6;
        a2 = 1 + (i + 2) % 6;

        for (gi = 1; gi < tc_collective_ngroups; gi++) {
            if (i == 0 || (int) gi == a1 || (int) gi == a2) {
                len += (size_t) snprintf(rights + len, sizeof(rights) - len,
                                         "%s%s:full", len ? "," : "",
                                         tc_collective_groups[gi].name);
                g->group_agents[gi][g->ngroup_agents[gi]++] = i;
            }
        }

        /* legal: every agent */
        g->group_agents[0][g->ngroup_agents[0]++] = i;

        rc = tc_user_listed(g->ctx, tc_gen_agent_names[i][0]);
        if (rc < 0) {
            tk_arena_reset(&arena);
            return EX_UNAVAILABLE;
        }

        if (rc) {
            continue;
        }

        snprintf(email, sizeof(email), "%s@example.org",
                 tc_gen_agent_names[i][0]);

        memset(&u, 0, sizeof(u));
        u.login = tc_gen_agent_names[i][0];
        u.name = tc_gen_agent_names[i][1];
        u.email = email;
        u.password_hash = hash;
        u.rights = rights;
        u.lang = i % 4 == 3 ? "en" : "de";
        tc_user_write(&cmds, &u, g->now);
        created++;
    }

    rc = cmds.n ? tc_run(g->ctx, &cmds) : EX_OK;
    tk_arena_reset(&arena);

    if (rc == EX_OK) {
        if (created) {
            printf("bench agents: %d created (anna ... tilda), the first "
                   "sees every group\n", created);
            printf("login: %s  password: %s\n", tc_gen_agent_names[0][0],
                   password);
        } else {
            printf("bench agents exist (anna ... tilda, passwords "
                   "unchanged)\n");
        }
    }

    return rc;
}


/* A third as many customers as tickets: people write more than once. */
static int
tc_gen_customers(tc_gen_t *g)
{
    tk_arena_t   arena;
    tk_cmds_t    cmds;
    redisReply  *reply;
    tk_str_t     name, email;
    char         nbuf[128], ebuf[128];
    uint64_t     i;
    int          rc;

    g->ncustomers = (uint64_t) g->tickets / 3 + 1;

    reply = tc_command(g->ctx, "INCRBY " TK_KEY_SEQ_CUSTOMER " %llu",
                       (unsigned long long) g->ncustomers);
    if (reply == NULL) {
        return EX_UNAVAILABLE;
    }

    g->first_customer = (uint64_t) reply->integer - g->ncustomers + 1;
    freeReplyObject(reply);

    tk_arena_init(&arena);
    tk_cmds_init(&cmds, tk_arena_alloc, &arena);
    rc = EX_OK;

    for (i = 0; i < g->ncustomers && rc == EX_OK; i++) {
        tc_gen_customer(g->first_customer + i, nbuf, sizeof(nbuf), ebuf,
                        sizeof(ebuf));
        tc_str(&name, nbuf);
        tc_str(&email, ebuf);
        tk_customer_write(&cmds, g->first_customer + i, &name, &email);

        if (cmds.n >= 10000 || i + 1 == g->ncustomers) {
            rc = tc_run(g->ctx, &cmds);
            tk_arena_reset(&arena);
            tk_cmds_init(&cmds, tk_arena_alloc, &arena);
        }
    }

    tk_arena_reset(&arena);

    return rc;
}


/* One ticket with its customer, articles, index entries and history. */
static void
tc_gen_ticket(tc_gen_t *g, tk_cmds_t *c, tk_arena_t *arena, long k)
{
    tk_ticket_t    t;
    tk_article_t   a;
    tk_str_t       group, state_from, state_to, by;
    const char    *owner, *owner_name;
    char          *title, *cname, *cemail, *from, *mid, *gemail, snum[2];
    double         u, frac;
    uint64_t       cust;
    int            gi, german, agent, open, j, kind;
    int64_t        t_art;

    memset(&t, 0, sizeof(t));
    t.number = g->first_ticket + (uint64_t) k;

    gi = tc_rng_pick(&g->rng, tc_gen_group_weights, 7);
    group.data = (unsigned char *) tc_collective_groups[gi].name;
    group.len = strlen(tc_collective_groups[gi].name);
    t.group = group;
    gemail = (char *) tc_collective_groups[gi].email;

    /* the newest tickets are the open ones; a few old ones linger */
    frac = (double) (k + 1) / (double) g->tickets;
    open = frac > 0.97 ? tc_rng_below(&g->rng, 100) < 60
                       : tc_rng_below(&g->rng, 1000) < 33;

    t.state = open ? 1 + tc_rng_pick(&g->rng, tc_gen_open_state_weights, 5)
                   : TK_STATE_CLOSED;
    t.priority = 1 + tc_rng_pick(&g->rng, tc_gen_prio_weights, 4);

    t.created = g->now - TC_GEN_SPAN + (int64_t) (frac * TC_GEN_SPAN)
                - (int64_t) tc_rng_below(&g->rng, 3600);
    t.updated = open ? g->now - (int64_t) tc_rng_below(&g->rng, 14 * 86400)
                     : t.created + 600
                       + (int64_t) tc_rng_below(&g->rng, 20 * 86400);
    if (t.updated > g->now) {
        t.updated = g->now;
    }
    if (t.updated < t.created) {
        t.updated = t.created;
    }

    agent = -1;
    if (!(t.state == TK_STATE_NEW && tc_rng_below(&g->rng, 100) < 85)
        && tc_rng_below(&g->rng, 100) < 97 && g->ngroup_agents[gi])
    {
        agent = g->group_agents[gi][tc_rng_below(&g->rng,
                                    (unsigned) g->ngroup_agents[gi])];
    }

    owner = agent >= 0 ? tc_gen_agent_names[agent][0] : "";
    owner_name = agent >= 0 ? tc_gen_agent_names[agent][1] : "Legal-Team";
    t.owner.data = (unsigned char *) owner;
    t.owner.len = strlen(owner);

    /* customers: some write often (u^2 favours the low ids) */
    u = (double) tc_rng_below(&g->rng, 1000000) / 1e6;
    cust = g->first_customer + (uint64_t) (u * u * (double) g->ncustomers);
    if (cust >= g->first_customer + g->ncustomers) {
        cust = g->first_customer;
    }

    cname = tk_arena_alloc(arena, 128);
    cemail = tk_arena_alloc(arena, 128);
    title = tk_arena_alloc(arena, 256);
    from = tk_arena_alloc(arena, 300);
    mid = tk_arena_alloc(arena, 96);

    if (!cname || !cemail || !title || !from || !mid) {
        c->failed = 1;
        return;
    }

    tc_gen_customer(cust, cname, 128, cemail, 128);
    t.customer = cust;
    t.customer_name.data = (unsigned char *) cname;
    t.customer_name.len = strlen(cname);
    t.customer_email.data = (unsigned char *) cemail;
    t.customer_email.len = strlen(cemail);

    german = tc_rng_below(&g->rng, 100) < 80;
    tc_gen_title(&g->rng, german, t.priority == TK_PRIO_URGENT, title, 256);

    t.title.data = (unsigned char *) title;
    t.title.len = strlen(title);

    if (t.state != TK_STATE_NEW && g->articles > 1) {
        t.first_response = t.created + 3600
                           + (int64_t) tc_rng_below(&g->rng, 3 * 86400);
        if (t.first_response > t.updated) {
            t.first_response = t.updated;
        }
    }

    tk_ticket_create(c, &t, NULL);

    if (t.state != TK_STATE_NEW) {
        snum[0] = '1';
        snum[1] = (char) ('0' + t.state);
        state_from.data = (unsigned char *) &snum[0];
        state_from.len = 1;
        state_to.data = (unsigned char *) &snum[1];
        state_to.len = 1;
        by.data = (unsigned char *) (*owner ? owner : "system");
        by.len = strlen((char *) by.data);
        tk_history_add(c, t.number, t.updated, &by, TK_F_STATE, &state_from,
                       &state_to);
    }

    snprintf(from, 300, "\"%s\" <%s>", cname, cemail);

    for (j = 0; j < g->articles; j++) {
        memset(&a, 0, sizeof(a));
        a.id = g->next_article++;
        a.ticket = t.number;

        /* in, then answers and replies; every fourth a note */
        kind = j == 0 ? TK_ART_IN
               : j % 4 == 3 ? TK_ART_NOTE
               : j % 2 ? TK_ART_OUT : TK_ART_IN;
        a.kind = kind;

        t_art = t.created + (t.updated - t.created) * j / g->articles;
        a.time = t_art;
        a.subject = t.title;

        if (kind == TK_ART_IN) {
            a.from.data = (unsigned char *) from;
            a.from.len = strlen(from);
            a.to.data = (unsigned char *) gemail;
            a.to.len = strlen(gemail);
            a.body = tc_gen_body(&g->rng, arena, german, 0, cname,
                                 t.number);

        } else if (kind == TK_ART_OUT) {
            a.from.data = (unsigned char *) gemail;
            a.from.len = strlen(gemail);
            a.to = t.customer_email;
            a.author = t.owner;
            a.body = tc_gen_body(&g->rng, arena, german, 1, owner_name, 0);

        } else {
            a.from = t.owner;
            a.author = t.owner;
            a.body = tc_gen_body(&g->rng, arena, german, 1, owner_name, 0);
        }

        if (kind != TK_ART_NOTE) {
            snprintf(mid, 96, "<gen.%llu.%llu@%s>",
                     (unsigned long long) t.number,
                     (unsigned long long) a.id,
                     kind == TK_ART_IN ? "example.net" : "example.org");
            a.message_id.data = (unsigned char *) mid;
            a.message_id.len = strlen(mid);
            a.size = a.body.len + 1400;
        }

        tk_article_write_flags(c, &a, &group, g->article_flags);

        if (kind != TK_ART_NOTE) {
            /* the next article's Message-ID needs its own memory */
            mid = tk_arena_alloc(arena, 96);
            if (mid == NULL) {
                c->failed = 1;
                return;
            }
        }
    }
}


/*
 * Queue a batch in hiredis and write it out completely; its replies are
 * read by the next tc_gen_recv(), after the next batch has been built.
 */
static int
tc_gen_send(tc_gen_t *g, tk_cmds_t *c)
{
    tk_str_t  s;
    size_t    i;
    int       done;

    if (c->failed) {
        return tc_fail(EX_OSERR, "out of memory building batch");
    }

    for (i = 0; i < c->n; i++) {
        s = tk_cmds_get(c, i);

        if (redisAppendFormattedCommand(g->ctx->redis.ctx,
                                        (const char *) s.data, s.len)
            != REDIS_OK)
        {
            return tc_fail(EX_UNAVAILABLE, "Redis at %s: %s", g->ctx->addr,
                           g->ctx->redis.ctx->errstr);
        }
    }

    do {
        if (redisBufferWrite(g->ctx->redis.ctx, &done) != REDIS_OK) {
            return tc_fail(EX_UNAVAILABLE, "Redis at %s: %s", g->ctx->addr,
                           g->ctx->redis.ctx->errstr);
        }
    } while (!done);

    g->pending = c->n;

    return EX_OK;
}


static int
tc_gen_recv(tc_gen_t *g)
{
    redisReply  *reply;
    void        *r;

    while (g->pending) {
        if (redisGetReply(g->ctx->redis.ctx, &r) != REDIS_OK || r == NULL) {
            return tc_fail(EX_UNAVAILABLE, "Redis at %s: %s", g->ctx->addr,
                           g->ctx->redis.ctx->errstr);
        }

        reply = r;

        if (reply->type == REDIS_REPLY_ERROR) {
            if (g->errors++ == 0) {
                snprintf(g->first_error, sizeof(g->first_error), "%s",
                         reply->str);
            }
        }

        freeReplyObject(reply);
        g->pending--;
    }

    return EX_OK;
}
