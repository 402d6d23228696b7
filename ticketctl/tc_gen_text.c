/*
 * tc_gen_text.c -- what bench data says: names, places, subjects and
 * paragraphs of a legal collective's mail in German and English, put
 * together into customers, titles and bodies for "ticketctl gen".
 */

#include <stdio.h>
#include <string.h>

#include "tc_gen.h"


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

/*
 * Surnames are made of three syllables, so there are 32^3 of them and
 * the pool grows with the archive: 16 customers in a row share one
 * (customer id / 16), each with another first name.  A full name is one
 * person and a surname a handful of tickets at any scale, as in a real
 * archive -- not thousands of "Müller"s in a million tickets.
 */
#define TC_GEN_SURNAME_BLOCK  16

static const char  *tc_gen_sur1[] = {
    "Ber", "Hal", "Kron", "Lin", "Mar", "Nol", "Ost", "Ried", "Sel", "Tann",
    "Wal", "Eck", "Fal", "Gro", "Hel", "Kar", "Lau", "Mol", "Neu", "Ror",
    "Sach", "Sto", "Ul", "Van", "Wer", "Zeh", "Bra", "Dor", "Fen", "Gun",
    "Hor", "Jel"
};

static const char  *tc_gen_sur2[] = {
    "ken", "ter", "man", "del", "ho", "li", "gen", "sa", "ber", "to",
    "ra", "ne", "wi", "ko", "da", "bi", "ste", "lo", "ru", "pe",
    "ga", "mi", "tu", "fe", "no", "si", "ka", "re", "vo", "zi",
    "la", "go"
};

static const char  *tc_gen_sur3[] = {
    "dorf", "mann", "berg", "stein", "hagen", "wald", "feld", "kamp",
    "rath", "thal", "beck", "hoff", "horst", "brink", "loh", "meier",
    "ski", "wicz", "oglu", "escu", "ak", "ovic", "ens", "ing", "ert",
    "sen", "bach", "au", "kow", "eit", "rup", "aus"
};

#define TC_GEN_N(a)  (sizeof(a) / sizeof((a)[0]))

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


/* ---- putting them together ---------------------------------------------- */

/*
 * Customer id -> "First Surname" and "first.surname@domain".  The
 * surname is syllables of id / TC_GEN_SURNAME_BLOCK; within a block the
 * first names differ, so a full name is one customer until the surnames
 * wrap (32^3 * 16 customers: ~1.5 M tickets).  The address carries no
 * number, so a ticket number is a term of its file reference only.
 */
void
tc_gen_customer(uint64_t id, char *name, size_t nsize, char *email,
    size_t esize)
{
    char      sur[64], lower[64];
    size_t    f, d, i;
    uint64_t  s;

    s = id / TC_GEN_SURNAME_BLOCK;
    f = id % TC_GEN_N(tc_gen_first);
    d = (id / 3) % TC_GEN_N(tc_gen_domains);

    snprintf(sur, sizeof(sur), "%s%s%s",
             tc_gen_sur1[s % TC_GEN_N(tc_gen_sur1)],
             tc_gen_sur2[(s / TC_GEN_N(tc_gen_sur1)) % TC_GEN_N(tc_gen_sur2)],
             tc_gen_sur3[(s / (TC_GEN_N(tc_gen_sur1) * TC_GEN_N(tc_gen_sur2)))
                         % TC_GEN_N(tc_gen_sur3)]);

    for (i = 0; sur[i]; i++) {
        lower[i] = (char) (sur[i] >= 'A' && sur[i] <= 'Z' ? sur[i] | 0x20
                                                           : sur[i]);
    }
    lower[i] = '\0';

    snprintf(name, nsize, "%s %s", tc_gen_first[f][0], sur);
    snprintf(email, esize, "%s.%s@%s", tc_gen_first[f][1], lower,
             tc_gen_domains[d]);
}


/*
 * The court file reference of ticket N, "Aktenzeichen 231 Js 10010/26":
 * office (100 + N % 900), register "Js", the ticket number itself, year
 * (20 + N % 7).  The phrase "js N" is in the incoming articles of
 * ticket N and nowhere else; so is the term "N" for N >= 1000 (no other
 * number in gen's text has more than three digits).  A search for it
 * has the same few hits at any scale.
 */
static size_t
tc_gen_file_ref(char *buf, size_t size, int german, uint64_t number)
{
    int  n;

    n = snprintf(buf, size, german
                 ? "es geht um das Verfahren mit dem Aktenzeichen "
                   "%u Js %llu/%u.\n\n"
                 : "this is about the case with the file number "
                   "%u Js %llu/%u.\n\n",
                 (unsigned) (100 + number % 900), (unsigned long long) number,
                 (unsigned) (20 + number % 7));

    return n > 0 && (size_t) n < size ? (size_t) n : 0;
}


void
tc_gen_title(tc_rng_t *rng, int german, int urgent, char *title,
    size_t size)
{
    const char  *tmpl, *place;
    size_t       cap;

    tmpl = german
        ? tc_gen_titles_de[tc_rng_below(rng, sizeof(tc_gen_titles_de)
                                        / sizeof(tc_gen_titles_de[0]))]
        : tc_gen_titles_en[tc_rng_below(rng, sizeof(tc_gen_titles_en)
                                        / sizeof(tc_gen_titles_en[0]))];
    place = tc_gen_places[tc_rng_below(rng, sizeof(tc_gen_places)
                                       / sizeof(tc_gen_places[0]))];

    cap = 0;
    if (urgent) {
        cap = (size_t) snprintf(title, size, "%s",
                                german ? "DRINGEND: " : "URGENT: ");
    }

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(title + cap, size - cap, tmpl, place);
#pragma GCC diagnostic pop
}


/*
 * A body of about TC_GEN_BODY bytes: greeting, the file reference of
 * ticket file_ref (0: none), paragraphs (mostly in the mail's language,
 * sometimes a quoted one in the other), signature.
 */
tk_str_t
tc_gen_body(tc_rng_t *rng, tk_arena_t *arena, int german, int reply,
    const char *signer, uint64_t file_ref)
{
    char           ref[160];
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

    if (file_ref && tc_gen_file_ref(ref, sizeof(ref), german, file_ref)) {
        TC_PUT(ref);
    }

    if (reply) {
        TC_PUT(german ? tc_gen_reply_de : tc_gen_reply_en);
        TC_PUT(german ? "Deine Nachricht:\n\n" : "Your message:\n\n");
    }

    while (len < TC_GEN_BODY) {
        de = tc_rng_below(rng, 100) < 85 ? german : !german;

        if (de) {
            p = tc_gen_par_de[tc_rng_below(rng,
                    sizeof(tc_gen_par_de) / sizeof(tc_gen_par_de[0]))];
        } else {
            p = tc_gen_par_en[tc_rng_below(rng,
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
