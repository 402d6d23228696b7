/*
 * tc_gen.c -- "ticketctl gen": bench data that looks like a collective's
 * years of legal mail: most tickets closed, a few percent open over
 * states 1-5, some urgent, owners among twenty agents, customers who
 * write more than once, 5 KB bodies in German and English.
 *
 * Speed comes from pipelining without waiting: batch k is written to
 * the socket, batch k+1 is built while Redis works on k, then k's
 * replies are read.  Redis is the limit: RediSearch 1.2 spends about
 * 0.5 ms of CPU on FT.ADD of a 5 KB body, everything else of a ticket
 * about 0.08 ms; --no-fulltext leaves the FT.ADD out.  No MULTI/EXEC here: bench data is written into an
 * idle Redis, and "reindex" repairs the index if a run is interrupted.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ticketctl.h"


#define TC_GEN_AGENTS        20
#define TC_GEN_BATCH_BYTES   (4 * 1024 * 1024)
#define TC_GEN_BODY          5000
#define TC_GEN_PASSWORD      "bench-password"
#define TC_GEN_SPAN          (3 * 365 * 86400)

typedef struct {
    uint64_t  s;
} tc_rng_t;

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


static uint64_t tc_rng_next(tc_rng_t *r);
static unsigned tc_rng_below(tc_rng_t *r, unsigned n);
static int tc_rng_pick(tc_rng_t *r, const unsigned *weights, int n);
static int tc_gen_agents(tc_gen_t *g, const char *password);
static int tc_gen_customers(tc_gen_t *g);
static void tc_gen_customer(uint64_t id, char *name, size_t nsize,
    char *email, size_t esize);
static void tc_gen_ticket(tc_gen_t *g, tk_cmds_t *c, tk_arena_t *arena,
    long k);
static tk_str_t tc_gen_body(tc_gen_t *g, tk_arena_t *arena, int german,
    int reply, const char *signer);
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

static const char  *tc_gen_first[][2] = {
    { "Kim", "kim" }, { "Lena", "lena" }, { "J\xc3\xb6rg", "joerg" },
    { "Sam", "sam" }, { "Mehmet", "mehmet" }, { "Alex", "alex" },
    { "Charlie", "charlie" }, { "Mira", "mira" }, { "Jonas", "jonas" },
    { "Aylin", "aylin" }, { "Toni", "toni" }, { "Robin", "robin" },
    { "Luca", "luca" }, { "Noah", "noah" }, { "Emma", "emma" },
    { "Fr\xc3\xa4nzi", "fraenzi" }, { "Jo", "jo" }, { "Maxi", "maxi" },
    { "Sasha", "sasha" }, { "Nele", "nele" }, { "Ole", "ole" },
    { "Yusuf", "yusuf" }, { "Hannah", "hannah" }, { "Ren\xc3\xa9", "rene" }
};

static const char  *tc_gen_last[][2] = {
    { "Sommer", "sommer" }, { "M\xc3\xbcller", "mueller" },
    { "Yilmaz", "yilmaz" }, { "Taylor", "taylor" }, { "Schmidt", "schmidt" },
    { "Okafor", "okafor" }, { "Becker", "becker" }, { "Nowak", "nowak" },
    { "Wei\xc3\x9f", "weiss" }, { "Hoffmann", "hoffmann" },
    { "Krause", "krause" }, { "Demir", "demir" }, { "Fischer", "fischer" },
    { "Kowalski", "kowalski" }, { "Lange", "lange" }, { "Brandt", "brandt" },
    { "G\xc3\xbcnther", "guenther" }, { "Wolff", "wolff" }
};

static const char  *tc_gen_domains[] = {
    "example.net", "example.org", "example.com", "posteo.example",
    "riseup.example", "systemli.example"
};

static const char  *tc_gen_places[] = {
    "Leipzig", "Berlin", "Hamburg", "K\xc3\xb6ln", "Dresden",
    "M\xc3\xbcnchen", "L\xc3\xbctzerath", "Frankfurt", "G\xc3\xb6ttingen",
    "Freiburg", "Bremen", "Stuttgart"
};

static const char  *tc_gen_titles_de[] = {
    "Gewahrsam nach der Demo in %s",
    "Bu\xc3\x9fgeldbescheid wegen Sitzblockade in %s",
    "Hausdurchsuchung in %s \xe2\x80\x93 was jetzt?",
    "Vorladung als Beschuldigte*r nach Aktion in %s",
    "Versammlungsanmeldung in %s: Auflagen rechtm\xc3\xa4\xc3\x9fig?",
    "Strafbefehl nach Ankettaktion in %s",
    "Platzverweis und Aufenthaltsverbot in %s",
    "Identit\xc3\xa4tsfeststellung bei Kundgebung in %s",
    "Erkennungsdienstliche Behandlung nach Blockade in %s",
    "Kosten des Polizeieinsatzes in %s \xe2\x80\x93 Geb\xc3\xbchrenbescheid",
    "K\xc3\xbcndigung wegen Transparent am Balkon (%s)",
    "Abmahnung wegen Blogpost \xc3\xbc" "ber Aktion in %s",
    "Zeug*innenvorladung zur Staatsanwaltschaft %s",
    "Beschlagnahmtes Handy zur\xc3\xbc" "ck (%s)",
    "Anfrage Workshop Rechtshilfe in %s",
    "Klage gegen Kessel in %s \xe2\x80\x93 Mitkl\xc3\xa4ger*innen gesucht",
};

static const char  *tc_gen_titles_en[] = {
    "Detained after the protest in %s",
    "Fine for the road blockade in %s",
    "Police raid in %s \xe2\x80\x93 what are my rights?",
    "Summons as a witness after the action in %s",
    "Border control on the way to the camp near %s",
    "Can they keep my phone? (%s)",
};

static const char  *tc_gen_par_de[] = {
    "ich schreibe euch, weil ich nach der Aktion am Samstag nicht mehr "
    "weiter wei\xc3\x9f. Wir waren etwa drei\xc3\x9fig Leute, die Polizei hat "
    "uns nach ungef\xc3\xa4hr einer Stunde eingekesselt und einzeln "
    "herausgeholt. Bei mir haben sie die Personalien aufgenommen, obwohl "
    "ich gesagt habe, dass ich keine Angaben zur Sache mache. Danach "
    "durfte ich gehen, aber eine Freundin wurde mitgenommen und erst am "
    "n\xc3\xa4" "chsten Morgen wieder entlassen. Sie hatte in der Zeit "
    "keinen Kontakt zu einer Anw\xc3\xa4ltin, obwohl sie mehrmals danach "
    "gefragt hat.\n\n",

    "Heute kam nun ein Schreiben von der Bu\xc3\x9fgeldstelle. Darin steht, "
    "ich h\xc3\xa4tte an einer nicht angemeldeten Versammlung teilgenommen "
    "und mich trotz Aufforderung nicht entfernt. Gefordert werden 250 "
    "Euro plus Geb\xc3\xbchren und Auslagen. Gegen den Bescheid kann "
    "innerhalb von zwei Wochen Einspruch eingelegt werden. Ich wei\xc3\x9f "
    "nicht, ob sich das lohnt und was passiert, wenn das Verfahren dann "
    "vor Gericht geht. Muss ich dann selbst hin, und was kostet das im "
    "schlimmsten Fall?\n\n",

    "Zur Vorgeschichte: Die Versammlung war ordnungsgem\xc3\xa4\xc3\x9f "
    "angemeldet, die Beh\xc3\xb6rde hat aber kurzfristig Auflagen erlassen. "
    "Transparente durften nicht l\xc3\xa4nger als zwei Meter sein, "
    "Lautsprecherwagen waren nur bis 20 Uhr erlaubt und die Route sollte "
    "komplett \xc3\xbc" "ber Nebenstra\xc3\x9f" "en f\xc3\xbchren, weit weg "
    "vom eigentlichen Anlass unseres Protests. Wir haben den Bescheid "
    "erst zwei Tage vorher bekommen, sodass kaum Zeit f\xc3\xbcr einen "
    "Eilantrag blieb.\n\n",

    "Morgens um sechs standen pl\xc3\xb6tzlich acht Beamt*innen vor der "
    "T\xc3\xbcr. Sie hatten einen Durchsuchungsbeschluss des Amtsgerichts "
    "dabei, den wir aber nur kurz lesen durften. Mitgenommen wurden zwei "
    "Laptops, drei Handys und ein Stapel Flyer. Ein Protokoll haben wir "
    "bekommen, unterschrieben haben wir nichts. Meine Mitbewohnerin, die "
    "mit der ganzen Sache nichts zu tun hat, braucht ihren Laptop dringend "
    "f\xc3\xbcr die Uni. Wie bekommen wir die Ger\xc3\xa4te zur\xc3\xbc" "ck, "
    "und d\xc3\xbcrfen die einfach alles auslesen?\n\n",

    "Ich habe au\xc3\x9f" "erdem eine Vorladung zur Polizei bekommen, als "
    "Beschuldigte*r wegen Landfriedensbruch. Ein Termin ist schon "
    "festgelegt, n\xc3\xa4mlich n\xc3\xa4" "chsten Dienstag um zehn Uhr. Auf "
    "dem Schreiben steht nicht, was mir konkret vorgeworfen wird. Ich "
    "habe von anderen geh\xc3\xb6rt, dass man da nicht hingehen muss, bin "
    "mir aber unsicher, ob das Nachteile hat. Sollte ich mich "
    "wenigstens abmelden oder einfach gar nicht reagieren?\n\n",

    "Unser Vermieter hat inzwischen eine Abmahnung geschickt, weil am "
    "Balkon ein Transparent h\xc3\xa4ngt. Er schreibt, das st\xc3\xb6re den "
    "Hausfrieden und sch\xc3\xa4" "dige das Ansehen des Hauses. Im "
    "Mietvertrag steht dazu nichts. Wir haben das Transparent vorerst "
    "h\xc3\xa4ngen lassen, wollen aber keine K\xc3\xbcndigung riskieren, da "
    "es in der Stadt praktisch unm\xc3\xb6glich ist, eine bezahlbare "
    "Wohnung zu finden. Wie sch\xc3\xa4tzt ihr die Lage ein?\n\n",

    "Bei der Kontrolle wurden wir au\xc3\x9f" "erdem fotografiert und einige "
    "von uns sollten Fingerabdr\xc3\xbc" "cke abgeben. Eine Person hat sich "
    "geweigert und wurde daraufhin f\xc3\xbcr mehrere Stunden festgehalten. "
    "Ist eine erkennungsdienstliche Behandlung in so einem Fall "
    "\xc3\xbc" "berhaupt zul\xc3\xa4ssig, und k\xc3\xb6nnen wir verlangen, "
    "dass die Daten wieder gel\xc3\xb6scht werden? Wir w\xc3\xbcrden gern "
    "gemeinsam vorgehen, wenn das Sinn macht.\n\n",

    "Falls ihr Unterlagen braucht: Ich habe den Bescheid, das Protokoll "
    "der Durchsuchung und ein Ged\xc3\xa4" "chtnisprotokoll, das wir direkt "
    "danach geschrieben haben. Au\xc3\x9f" "erdem gibt es Videos von "
    "anderen Demonstrierenden, auf denen man die Situation gut sieht. Ich "
    "kann alles gern verschl\xc3\xbcsselt schicken, mein \xc3\xb6" "ffentlicher "
    "Schl\xc3\xbcssel h\xc3\xa4ngt an. Bitte schreibt mir nicht an meine "
    "Arbeitsadresse, sondern nur an diese hier.\n\n",

    "Die Frist l\xc3\xa4uft leider schon am Freitag ab, deshalb w\xc3\xa4re "
    "ich f\xc3\xbcr eine schnelle R\xc3\xbc" "ckmeldung sehr dankbar. Ich wei\xc3\x9f, "
    "dass ihr das alles ehrenamtlich macht und sehr viele Anfragen habt. "
    "Wenn es einfacher ist, k\xc3\xb6nnen wir auch telefonieren, ich bin "
    "abends meistens erreichbar. Notfalls w\xc3\xbcrde ich auch erst "
    "einmal vorsorglich Einspruch einlegen, damit nichts verloren "
    "geht.\n\n",

    "Noch eine allgemeine Frage: Wir planen im Herbst wieder eine gr\xc3\xb6\xc3\x9f" "ere "
    "Aktion und m\xc3\xb6" "chten die Leute vorher gut vorbereiten. Gibt es "
    "bei euch Workshops zu Verhalten bei Polizeikontakt, "
    "Aussageverweigerung und Gewahrsam? Wir k\xc3\xb6nnten R\xc3\xa4ume "
    "stellen und w\xc3\xa4ren etwa zwanzig bis drei\xc3\x9fig Personen. Ein "
    "Samstag w\xc3\xa4re ideal, aber wir sind flexibel.\n\n",
};

static const char  *tc_gen_par_en[] = {
    "I'm writing because I'm not sure what to do after last weekend. "
    "About thirty of us were kettled by the police for more than an hour "
    "and then taken out one by one. They took my details even though I "
    "said I would not make any statement. A friend of mine was taken to "
    "the station and only released the next morning. She asked for a "
    "lawyer several times but was not allowed to call anyone.\n\n",

    "Today I received a letter saying I have to pay a fine of 250 euros "
    "for taking part in an unregistered assembly and not leaving when "
    "told to. I can appeal within two weeks. I don't speak much German "
    "and I'm not sure what the letter says exactly, so I attached a "
    "photo of it. Is it worth appealing, and what happens if the case "
    "goes to court? Would I have to travel back to Germany for it?\n\n",

    "The police also took my phone and my laptop during the search and "
    "gave me a form listing what they took. I did not sign anything. I "
    "need the laptop for work and I'm worried about what they can read "
    "on the phone. It is encrypted, but they asked me for the PIN and I "
    "refused. Can they force me to unlock it, and how long can they "
    "keep my things?\n\n",

    "Some background: the demonstration was registered in advance, but "
    "the authorities issued restrictions two days before. Banners were "
    "limited to two metres, no sound system after 8 pm, and the route "
    "was moved to side streets far from the actual site of our protest. "
    "We did not have time to challenge this in court before the day of "
    "the demonstration.\n\n",

    "If you need any documents I can send the letter, the search record "
    "and a memory protocol we wrote right after it happened. There are "
    "also videos from other protesters that show the situation clearly. "
    "Please do not reply to my work address, only to this one. My public "
    "key is attached if you prefer to write encrypted.\n\n",

    "The deadline is on Friday, so a quick answer would help a lot. I "
    "know you are all volunteers and have lots of requests. If it is "
    "easier we can also talk on the phone, I'm usually available in the "
    "evenings. Thank you so much for the work you do, it really makes a "
    "difference for people like us.\n\n",
};

static const char  *tc_gen_reply_de =
    "danke f\xc3\xbcr deine Nachricht. Wir haben uns deine Unterlagen "
    "angesehen und k\xc3\xb6nnen dir Folgendes sagen: Zu einer polizeilichen "
    "Vorladung musst du nicht erscheinen, und du solltest auch keine "
    "Angaben zur Sache machen. Einspruch gegen den Bescheid lohnt sich in "
    "solchen F\xc3\xa4llen fast immer, er kostet dich zun\xc3\xa4" "chst "
    "nichts. Bitte schick uns den Bescheid und das Datum der Zustellung, "
    "dann melden wir uns mit einem Vorschlag f\xc3\xbcr den Einspruch.\n\n";

static const char  *tc_gen_reply_en =
    "thanks for your message. We looked at your documents: you do not "
    "have to go to a police summons, and you should not make any "
    "statement about the matter. Appealing the fine is almost always "
    "worth it and costs you nothing at first. Please send us the letter "
    "and the date you received it, and we will get back to you with a "
    "draft.\n\n";


/* ---- random numbers ----------------------------------------------------- */

/* xorshift64*: fast, and the same seed gives the same data set */
static uint64_t
tc_rng_next(tc_rng_t *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;

    return r->s * 2685821657736338717ULL;
}


static unsigned
tc_rng_below(tc_rng_t *r, unsigned n)
{
    return n ? (unsigned) ((tc_rng_next(r) >> 32) % n) : 0;
}


static int
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
    redisReply  *reply;
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

        reply = tc_command(g->ctx, "SISMEMBER " TK_KEY_USERS " %s",
                           tc_gen_agent_names[i][0]);
        if (reply == NULL) {
            tk_arena_reset(&arena);
            return EX_UNAVAILABLE;
        }

        rc = reply->integer == 1;
        freeReplyObject(reply);

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


static void
tc_gen_customer(uint64_t id, char *name, size_t nsize, char *email,
    size_t esize)
{
    size_t  f, l, d;

    f = id % (sizeof(tc_gen_first) / sizeof(tc_gen_first[0]));
    l = (id / 7) % (sizeof(tc_gen_last) / sizeof(tc_gen_last[0]));
    d = (id / 3) % (sizeof(tc_gen_domains) / sizeof(tc_gen_domains[0]));

    snprintf(name, nsize, "%s %s", tc_gen_first[f][0], tc_gen_last[l][0]);
    snprintf(email, esize, "%s.%s.%llu@%s", tc_gen_first[f][1],
             tc_gen_last[l][1], (unsigned long long) id, tc_gen_domains[d]);
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
        name.data = (unsigned char *) nbuf;
        name.len = strlen(nbuf);
        email.data = (unsigned char *) ebuf;
        email.len = strlen(ebuf);
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


/*
 * A body of about TC_GEN_BODY bytes: greeting, paragraphs (mostly in
 * the mail's language, sometimes a quoted one in the other), signature.
 */
static tk_str_t
tc_gen_body(tc_gen_t *g, tk_arena_t *arena, int german, int reply,
    const char *signer)
{
    tk_str_t      body;
    const char   *p;
    size_t        len, cap, n;
    unsigned char *buf;
    int           de;

    cap = TC_GEN_BODY + 1200;
    buf = tk_arena_alloc(arena, cap);
    body.data = buf;
    body.len = 0;

    if (buf == NULL) {
        return body;
    }

#define TC_PUT(s)                                                            \
    do {                                                                     \
        n = strlen(s);                                                       \
        if (len + n < cap) {                                                 \
            memcpy(buf + len, s, n);                                         \
            len += n;                                                        \
        }                                                                    \
    } while (0)

    len = 0;
    TC_PUT(german ? (reply ? "Hallo,\n\n" : "Hallo Legal-Team,\n\n")
                  : (reply ? "Hi,\n\n" : "Hi legal team,\n\n"));

    if (reply) {
        TC_PUT(german ? tc_gen_reply_de : tc_gen_reply_en);
        TC_PUT(german ? "Deine Nachricht:\n\n" : "Your message:\n\n");
    }

    while (len < TC_GEN_BODY) {
        de = tc_rng_below(&g->rng, 100) < 85 ? german : !german;

        if (de) {
            p = tc_gen_par_de[tc_rng_below(&g->rng,
                    sizeof(tc_gen_par_de) / sizeof(tc_gen_par_de[0]))];
        } else {
            p = tc_gen_par_en[tc_rng_below(&g->rng,
                    sizeof(tc_gen_par_en) / sizeof(tc_gen_par_en[0]))];
        }

        TC_PUT(p);
    }

    TC_PUT(german ? "Solidarische Gr\xc3\xbc\xc3\x9f" "e\n" : "Best,\n");
    TC_PUT(signer);
    TC_PUT("\n");

#undef TC_PUT

    body.len = len;

    return body;
}


/* One ticket with its customer, articles, index entries and history. */
static void
tc_gen_ticket(tc_gen_t *g, tk_cmds_t *c, tk_arena_t *arena, long k)
{
    tk_ticket_t    t;
    tk_article_t   a;
    tk_str_t       group, state_from, state_to, by;
    const char    *tmpl, *place, *owner, *owner_name;
    char          *title, *cname, *cemail, *from, *mid, *gemail, snum[2];
    double         u, frac;
    uint64_t       cust;
    int            gi, german, agent, open, j, kind;
    int64_t        t_art;
    size_t         cap;

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
    tmpl = german
        ? tc_gen_titles_de[tc_rng_below(&g->rng, sizeof(tc_gen_titles_de)
                                        / sizeof(tc_gen_titles_de[0]))]
        : tc_gen_titles_en[tc_rng_below(&g->rng, sizeof(tc_gen_titles_en)
                                        / sizeof(tc_gen_titles_en[0]))];
    place = tc_gen_places[tc_rng_below(&g->rng, sizeof(tc_gen_places)
                                       / sizeof(tc_gen_places[0]))];

    cap = 0;
    if (t.priority == TK_PRIO_URGENT) {
        cap = (size_t) snprintf(title, 256, "%s",
                                german ? "DRINGEND: " : "URGENT: ");
    }

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(title + cap, 256 - cap, tmpl, place);
#pragma GCC diagnostic pop

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
            a.body = tc_gen_body(g, arena, german, 0, cname);

        } else if (kind == TK_ART_OUT) {
            a.from.data = (unsigned char *) gemail;
            a.from.len = strlen(gemail);
            a.to = t.customer_email;
            a.author = t.owner;
            a.body = tc_gen_body(g, arena, german, 1, owner_name);

        } else {
            a.from = t.owner;
            a.author = t.owner;
            a.body = tc_gen_body(g, arena, german, 1, owner_name);
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
