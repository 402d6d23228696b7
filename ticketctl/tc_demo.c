/*
 * tc_demo.c -- "ticketctl demo": what a first "make run" shows.  The
 * collective's groups, an admin account, a few agents and a dozen
 * tickets that look like the legal team's real mail.  Idempotent: an
 * existing admin keeps its password, tickets are only added to an empty
 * system.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ticketctl.h"


typedef struct {
    const char  *login;
    const char  *name;
    const char  *email;
    const char  *rights;
    const char  *lang;
} tc_demo_agent_t;


static int tc_demo_admin(tc_ctx_t *ctx);
static int tc_demo_agents(tc_ctx_t *ctx);
static int tc_demo_tickets(tc_ctx_t *ctx);
static int tc_demo_create_user(tc_ctx_t *ctx, const tc_user_t *u,
    const char *password);
static int tc_all_rights(tc_ctx_t *ctx, char *buf, size_t size);


/* The people the FAQ names as contacts, in their AGs. */
static const tc_demo_agent_t  tc_demo_agents_list[] = {
    { "franka", "Franka", "franka@example.org", "ALSO:full,Bildung:read",
      "de" },
    { "ju", "Ju", "ju@example.org", "Zivilrecht:full,ALSO:read", "de" },
    { "julis", "Julis", "julis@example.org",
      "Verwaltungsrecht:full,Verfassungsrecht:full", "de" },
    { "mika", "Mika", "mika@example.org",
      "Bildung:full,Standardmails:full", "en" },
};

#define TC_DEMO_TICKETS  12
#define TC_DAY   86400
#define TC_HOUR  3600

/* Twelve tickets across groups, states, priorities and languages. */
static const struct {
    const char  *group;
    const char  *title;
    const char  *email;
    const char  *name;
    const char  *owner;
    int          state;
    int          priority;
    int          age;          /* seconds before now */
    const char  *body;
    const char  *reply;
    const char  *note;
} tc_demo_tickets_list[TC_DEMO_TICKETS] = {

    { "legal", "DRINGEND: Freund seit gestern Abend in Gewahrsam",
      "kim.sommer@example.net", "Kim Sommer", NULL, TK_STATE_NEW,
      TK_PRIO_URGENT, 2 * TC_HOUR,
      "Hallo Legal-Team,\n\nmein Freund wurde gestern Abend nach der Demo "
      "am Hauptbahnhof in Gewahrsam genommen und ist immer noch nicht "
      "draußen. Die Polizei sagt am Telefon nichts. Er hatte keine "
      "Gelegenheit, einen Anwalt anzurufen.\n\nWas können wir jetzt tun? "
      "Gibt es eine Notfallnummer?\n\nDanke!\nKim",
      NULL, NULL },

    { "ALSO", "Bu\xc3\x9fgeldbescheid wegen Sitzblockade",
      "lena.k@example.net", "Lena K.", "franka", TK_STATE_OPEN,
      TK_PRIO_HIGH, 3 * TC_DAY,
      "Moin,\n\nich habe heute einen Bu\xc3\x9fgeldbescheid über 250 Euro "
      "bekommen, wegen der Sitzblockade vor dem Kohlekraftwerk im Mai. "
      "Angeblich habe ich gegen das Versammlungsgesetz verstoßen. Die "
      "Frist für den Einspruch ist zwei Wochen.\n\nLohnt sich ein "
      "Einspruch? Ich habe den Bescheid als PDF, kann ich ihn schicken?"
      "\n\nLiebe Gr\xc3\xbc\xc3\x9f" "e\nLena",
      "Hallo Lena,\n\ndanke für deine Mail. Ein Einspruch lohnt sich in "
      "solchen Fällen fast immer, er kostet dich zunächst nichts. Bitte "
      "schick uns den Bescheid (gerne verschlüsselt) und schreib uns, ob "
      "du vor Ort Personalien angegeben hast.\n\nSolidarische Gr\xc3\xbc\xc3"
      "\x9f" "e\nFranka, ALSO AG",
      "Frist läuft am 14. ab - Einspruch vorbereiten, Vorlage aus der "
      "Standardmails-AG nehmen." },

    { "Verwaltungsrecht",
      "Versammlungsanmeldung: Auflagen der Versammlungsbeh\xc3\xb6rde",
      "orga@klimagruppe.example", "Klimagruppe Nord", "julis",
      TK_STATE_WAITING, TK_PRIO_NORMAL, 6 * TC_DAY,
      "Liebe Leute,\n\nwir haben eine Kundgebung für den 3. angemeldet. "
      "Die Versammlungsbehörde hat uns jetzt Auflagen geschickt: keine "
      "Transparente länger als 2 Meter, keine Lautsprecher nach 20 Uhr, "
      "Route nur über Nebenstraßen.\n\nIst das rechtmäßig? Können wir "
      "dagegen vorgehen, und bis wann?\n\nKlimagruppe Nord",
      "Hallo Klimagruppe,\n\ndie Auflage zur Route ist angreifbar, die "
      "anderen eher nicht. Könnt ihr uns den vollständigen Bescheid mit "
      "Datum der Zustellung schicken? Dann sagen wir euch, ob ein "
      "Eilantrag beim Verwaltungsgericht Sinn macht.\n\nJulis, "
      "Verwaltungsrecht AG", NULL },

    { "ALSO", "Hausdurchsuchung heute morgen \xe2\x80\x93 was tun?",
      "anon-4711@example.net", "", NULL, TK_STATE_NEW, TK_PRIO_HIGH,
      5 * TC_HOUR,
      "Hallo,\n\nheute um 6 Uhr war die Polizei bei uns in der WG und hat "
      "eine Hausdurchsuchung gemacht. Sie haben Laptops und Handys "
      "mitgenommen. Es ging angeblich um Graffiti. Wir haben nichts "
      "unterschrieben.\n\nWie bekommen wir die Geräte zurück? Müssen wir "
      "zur Vorladung?\n\n(Bitte nicht an meine Uni-Adresse antworten.)",
      NULL, NULL },

    { "legal", "Question about my rights at the border (climate camp)",
      "sam.taylor@example.com", "Sam Taylor", NULL, TK_STATE_NEW,
      TK_PRIO_NORMAL, 1 * TC_DAY,
      "Hi legal team,\n\nI'm coming from the UK for the climate camp next "
      "month. A friend told me German border police sometimes turn "
      "activists away. What are my rights if they stop me, and do I have "
      "to unlock my phone?\n\nThanks a lot,\nSam",
      NULL, NULL },

    { "Zivilrecht", "K\xc3\xbcndigung der Wohnung nach Transparent am Balkon",
      "m.yilmaz@example.net", "Mehmet Yilmaz", "ju", TK_STATE_OPEN,
      TK_PRIO_NORMAL, 4 * TC_DAY,
      "Guten Tag,\n\nmein Vermieter hat mir eine Abmahnung geschickt und "
      "droht mit Kündigung, weil ein Transparent (\"Mieten runter\") an "
      "meinem Balkon hängt. Darf er das?\n\nMit freundlichen Grüßen\n"
      "Mehmet Yilmaz",
      NULL,
      "Mietvertrag angefragt. Meinungsfreiheit vs. Eigentum, BGH-Urteil "
      "raussuchen." },

    { "Verfassungsrecht",
      "Verfassungsbeschwerde gegen das neue Polizeigesetz",
      "buendnis@nopolg.example", "B\xc3\xbcndnis noPolG", "julis",
      TK_STATE_DEFERRED, TK_PRIO_LOW, 20 * TC_DAY,
      "Hallo,\n\nwir sammeln Kläger*innen für eine Verfassungsbeschwerde "
      "gegen die Ausweitung der Präventivhaft im neuen Polizeigesetz. "
      "Habt ihr Interesse, euch zu beteiligen oder Betroffene zu "
      "vermitteln?\n\nBündnis noPolG",
      NULL, "Zurückgestellt bis zum Plenum im nächsten Monat." },

    { "Bildung",
      "Workshop-Anfrage: Rechtshilfe-Training f\xc3\xbcr unsere Ortsgruppe",
      "ortsgruppe.sued@example.org", "Ortsgruppe S\xc3\xbc" "d", "mika",
      TK_STATE_REMINDER, TK_PRIO_NORMAL, 9 * TC_DAY,
      "Hallo Bildungs-AG,\n\nwir würden gern einen Workshop zu "
      "\"Verhalten bei Polizeikontakt\" für ca. 20 Leute machen, am "
      "liebsten an einem Samstag im nächsten Quartal. Habt ihr "
      "Kapazitäten?\n\nViele Grüße\nOrtsgruppe Süd",
      "Hi,\n\nthanks, we'd love to. Could you send us two or three "
      "possible dates? We'll check who of us is available and get back to "
      "you.\n\nMika, Bildungs-AG", NULL },

    { "Standardmails", "Newsletter: Neue Ausgabe des Rechtshilfe-Infos",
      "newsletter@rechtshilfe-info.example", "Rechtshilfe-Info", "mika",
      TK_STATE_CLOSED, TK_PRIO_LOW, 12 * TC_DAY,
      "Die neue Ausgabe ist da: Aussageverweigerung, Versammlungsrecht "
      "aktuell, Termine.\n\nAbbestellen: https://rechtshilfe-info.example/"
      "abmelden",
      NULL, NULL },

    { "ALSO", "Summons as a witness after the blockade",
      "j.okafor@example.com", "Jo Okafor", "franka", TK_STATE_CLOSED,
      TK_PRIO_NORMAL, 15 * TC_DAY,
      "Hello,\n\nI received a summons from the police to appear as a "
      "witness about the blockade on the 12th. Do I have to go? I don't "
      "want to testify against anyone.\n\nJo",
      "Hi Jo,\n\nyou don't have to go to a police summons as a witness. "
      "Only a summons from the public prosecutor or a court is binding. "
      "Please tell us if you get one of those.\n\nBest,\nFranka, ALSO AG",
      NULL },

    { "legal",
      "Vorladung zur Beschuldigtenvernehmung \xe2\x80\x93 muss ich hin?",
      "toni@example.net", "Toni", "franka", TK_STATE_WAITING, TK_PRIO_HIGH,
      2 * TC_DAY,
      "Hallo,\n\nich habe eine Vorladung als Beschuldigte*r bekommen "
      "(Landfriedensbruch). Muss ich da hin?\n\nToni",
      "Hallo Toni,\n\nnein, einer polizeilichen Vorladung als "
      "Beschuldigte*r musst du nicht folgen, und du solltest auch keine "
      "Aussage machen. Melde dich bitte, wenn Post von der "
      "Staatsanwaltschaft kommt.\n\nFranka", NULL },

    { "Zivilrecht",
      "Eilt: Frist f\xc3\xbcr Unterlassungserkl\xc3\xa4rung l\xc3\xa4uft "
      "Freitag ab",
      "pressegruppe@example.org", "Pressegruppe", NULL, TK_STATE_NEW,
      TK_PRIO_URGENT, 3 * TC_HOUR,
      "Hallo,\n\nein Konzern verlangt von uns eine strafbewehrte "
      "Unterlassungserklärung wegen eines Blogposts. Die Frist läuft am "
      "Freitag ab. Bitte meldet euch schnell!\n\nPressegruppe",
      NULL, NULL },
};


int
tc_cmd_demo(tc_ctx_t *ctx, int argc, char **argv)
{
    int  rc;

    if (argc != 1) {
        return tc_usage("demo");
    }

    if ((rc = tc_init_quiet(ctx, 0)) || (rc = tc_groups_ensure(ctx, 1))
        || (rc = tc_demo_admin(ctx)) || (rc = tc_demo_agents(ctx)))
    {
        return rc;
    }

    return tc_demo_tickets(ctx);
}


/* "legal:full,ALSO:full,..." over every group there is */
static int
tc_all_rights(tc_ctx_t *ctx, char *buf, size_t size)
{
    redisReply  *set;
    size_t       i, len;
    int          n;

    set = tc_command(ctx, "SMEMBERS " TK_KEY_GROUPS);
    if (set == NULL) {
        return EX_UNAVAILABLE;
    }

    len = 0;
    buf[0] = '\0';

    for (i = 0; i < set->elements; i++) {
        n = snprintf(buf + len, size - len, "%s%s:full", i ? "," : "",
                     set->element[i]->str);
        if (n < 0 || (size_t) n >= size - len) {
            freeReplyObject(set);
            return tc_fail(EX_SOFTWARE, "too many groups for the admin's "
                           "rights list");
        }
        len += (size_t) n;
    }

    freeReplyObject(set);

    return EX_OK;
}


/* Only when no account has the admin role: never reset a password. */
static int
tc_demo_admin(tc_ctx_t *ctx)
{
    tk_arena_t    arena;
    tk_cmds_t     cmds;
    redisReply   *set, **roles;
    tc_user_t     u;
    char          key[TK_KEY_MAX], password[17], rights[4096];
    size_t        i, n;
    int           rc, admins;

    set = tc_command(ctx, "SMEMBERS " TK_KEY_USERS);
    if (set == NULL) {
        return EX_UNAVAILABLE;
    }

    n = set->elements;
    tk_arena_init(&arena);
    tk_cmds_init(&cmds, tk_arena_alloc, &arena);

    for (i = 0; i < n; i++) {
        snprintf(key, sizeof(key), TK_FMT_USER, set->element[i]->str);
        tk_cmds_add(&cmds, "HGET %s " TK_F_ROLE, key);
    }

    roles = NULL;
    rc = n ? tk_redis_pipeline(&ctx->redis, &cmds, &roles) : TK_REDIS_OK;
    admins = 0;

    for (i = 0; rc == TK_REDIS_OK && i < n; i++) {
        if (roles[i]->type == REDIS_REPLY_STRING
            && strcmp(roles[i]->str, "admin") == 0)
        {
            if (admins++ == 0) {
                printf("admin account exists: %s (password unchanged)\n",
                       set->element[i]->str);
            }
        }
    }

    tk_redis_replies_free(roles, n);
    tk_arena_reset(&arena);

    if (rc != TK_REDIS_OK) {
        freeReplyObject(set);
        return tc_redis_fail(ctx, rc);
    }

    rc = EX_OK;

    if (admins == 0) {
        for (i = 0; i < n; i++) {
            if (strcmp(set->element[i]->str, "admin") == 0) {
                rc = tc_fail(EX_DATAERR, "a user \"admin\" exists without "
                             "the admin role; make it one with \"ticketctl "
                             "user set admin --admin\"");
            }
        }
    }

    freeReplyObject(set);

    if (admins || rc != EX_OK) {
        return rc;
    }

    if ((rc = tc_all_rights(ctx, rights, sizeof(rights)))) {
        return rc;
    }

    if (tc_random_password(password, 16) != 0) {
        return tc_fail(EX_OSERR, "getrandom failed");
    }

    memset(&u, 0, sizeof(u));
    u.login = "admin";
    u.name = "Admin";
    u.email = "admin@example.org";
    u.rights = rights;
    u.lang = "de";
    u.admin = 1;

    return tc_demo_create_user(ctx, &u, password);
}


static int
tc_demo_create_user(tc_ctx_t *ctx, const tc_user_t *u, const char *password)
{
    tk_arena_t   arena;
    tk_cmds_t    cmds;
    tc_user_t    v;
    char         hash[256];
    int          rc;

    if (tc_password_hash(password, hash, sizeof(hash)) != 0) {
        return tc_fail(EX_SOFTWARE, "yescrypt hashing failed");
    }

    v = *u;
    v.password_hash = hash;

    tk_arena_init(&arena);
    tk_cmds_init(&cmds, tk_arena_alloc, &arena);
    tk_cmds_multi(&cmds);
    tc_user_write(&cmds, &v, (int64_t) time(NULL));
    tk_cmds_exec(&cmds);

    rc = tc_run(ctx, &cmds);
    tk_arena_reset(&arena);

    if (rc == EX_OK) {
        printf("login: %s  password: %s\n", u->login, password);
    }

    return rc;
}


static int
tc_demo_agents(tc_ctx_t *ctx)
{
    const tc_demo_agent_t  *a;
    tc_user_t               u;
    char                    password[17];
    size_t                  i;
    int                     rc, exists;

    for (i = 0; i < sizeof(tc_demo_agents_list)
                    / sizeof(tc_demo_agents_list[0]); i++)
    {
        a = &tc_demo_agents_list[i];

        exists = tc_user_listed(ctx, a->login);
        if (exists < 0) {
            return EX_UNAVAILABLE;
        }

        if (exists) {
            printf("agent %s exists (password unchanged)\n", a->login);
            continue;
        }

        if (tc_random_password(password, 12) != 0) {
            return tc_fail(EX_OSERR, "getrandom failed");
        }

        memset(&u, 0, sizeof(u));
        u.login = a->login;
        u.name = a->name;
        u.email = a->email;
        u.rights = a->rights;
        u.lang = a->lang;

        if ((rc = tc_demo_create_user(ctx, &u, password))) {
            return rc;
        }
    }

    return EX_OK;
}


static int
tc_demo_tickets(tc_ctx_t *ctx)
{
    tc_ticket_new_t  tn;
    redisReply      *reply;
    uint64_t         number;
    size_t           i, j, k, n, order[TC_DEMO_TICKETS];
    int              rc, exists;
    int64_t          now;

    reply = tc_command(ctx, "EXISTS " TK_KEY_SEQ_TICKET);
    if (reply == NULL) {
        return EX_UNAVAILABLE;
    }

    exists = reply->integer == 1;
    freeReplyObject(reply);

    if (exists) {
        printf("tickets exist: no demo tickets added\n");
        return EX_OK;
    }

    n = sizeof(tc_demo_tickets_list) / sizeof(tc_demo_tickets_list[0]);
    now = (int64_t) time(NULL);

    /* oldest first, so that numbers follow the creation times */
    for (i = 0; i < n; i++) {
        order[i] = i;
    }

    for (i = 1; i < n; i++) {
        for (j = i; j > 0 && tc_demo_tickets_list[order[j]].age
                             > tc_demo_tickets_list[order[j - 1]].age; j--)
        {
            k = order[j];
            order[j] = order[j - 1];
            order[j - 1] = k;
        }
    }

    for (j = 0; j < n; j++) {
        i = order[j];
        memset(&tn, 0, sizeof(tn));
        tn.group = tc_demo_tickets_list[i].group;
        tn.title = tc_demo_tickets_list[i].title;
        tn.customer_email = tc_demo_tickets_list[i].email;
        tn.customer_name = tc_demo_tickets_list[i].name;
        tn.owner = tc_demo_tickets_list[i].owner;
        tn.state = tc_demo_tickets_list[i].state;
        tn.priority = tc_demo_tickets_list[i].priority;
        tn.body = tc_demo_tickets_list[i].body;
        tn.reply = tc_demo_tickets_list[i].reply;
        tn.note = tc_demo_tickets_list[i].note;
        tn.created = now - tc_demo_tickets_list[i].age;

        if ((rc = tc_ticket_new(ctx, &tn, &number))) {
            return rc;
        }
    }

    printf("%zu demo tickets created\n", n);

    return EX_OK;
}
