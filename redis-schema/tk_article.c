/*
 * tk_article.c -- the shared write path of articles (with full text,
 * Message-ID and participants) and customers; part of the write path
 * declared in tk_ticket.h.  Callers wrap the commands in MULTI/EXEC;
 * see SCHEMA.md.
 */

#include <string.h>

#include "tk_escape.h"
#include "tk_ticket.h"


#define TK_PARTICIPANTS_MAX 64        /* addresses per article        */


static tk_str_t *tk_lower_copy(tk_cmds_t *c, const unsigned char *p,
    size_t len, tk_str_t *out);
static int tk_ft_lower(tk_cmds_t *c, const tk_str_t *in, tk_str_t *out);
static void tk_participants_add(tk_cmds_t *c, const tk_article_t *a);
static int tk_addr_list(tk_cmds_t *c, const tk_str_t *list, tk_str_t *argv,
    int argc, int max);
static int tk_addr_one(tk_cmds_t *c, const unsigned char *p, size_t len,
    tk_str_t *addr);


/* ---- articles ----------------------------------------------------------- */

/*
 * The article hash, its place in the ticket's list, the ticket's
 * article counter, the Message-ID index (for threading replies), the
 * participants (for the "is this reply really from someone in the
 * conversation" check) and the full-text document.  FT.SAFEADD is
 * FT.ADD done in Redis's main thread: inside MULTI (every writer but
 * "ticketctl gen") RediSearch 1.2 does that anyway, and outside it
 * plain FT.ADD hands each document to a thread pool and blocks the
 * client until it is back -- for a pipelined bulk load 1.4x slower and
 * half again the CPU (measured with gen, SCHEMA.md).  It uses NOSAVE:
 * RediSearch 1.x would otherwise copy the fields into the hash named by
 * the document id -- which is the article hash itself -- and overwrite
 * "attachments" (a count there, file names in the index).  Searches
 * still return the article hash's fields, read from that key.
 */
void
tk_article_write(tk_cmds_t *c, const tk_article_t *a, const tk_str_t *group)
{
    tk_article_write_flags(c, a, group, 0);
}


void
tk_article_write_flags(tk_cmds_t *c, const tk_article_t *a,
    const tk_str_t *group, unsigned flags)
{
    char         key[TK_KEY_MAX], list[TK_KEY_MAX], tkey[TK_KEY_MAX];
    char         mid[TK_KEY_MAX];
    const char  *kind;
    tk_feed_t   *f;

    kind = tk_article_kind_name(a->kind);

    if (kind == NULL
        || tk_key_article(key, sizeof(key), a->ticket, a->id) == 0
        || tk_key_ticket_articles(list, sizeof(list), a->ticket) == 0
        || tk_key_ticket(tkey, sizeof(tkey), a->ticket) == 0)
    {
        c->failed = 1;
        return;
    }

    if (flags & TK_ARTICLE_FT_ONLY) {
        /* a repair of the index, not a change */
        f = NULL;
        goto fulltext;
    }

    f = tk_feed_open(c, a->ticket, TK_FEED_ARTICLE, &a->author);

    tk_cmds_add(c, "HSET %s"
        " " TK_F_ID " %llu"
        " " TK_F_TICKET " %llu"
        " " TK_F_KIND " %s"
        " " TK_F_FROM " %S"
        " " TK_F_TO " %S"
        " " TK_F_CC " %S"
        " " TK_F_REPLY_TO " %S"
        " " TK_F_SUBJECT " %S"
        " " TK_F_MESSAGE_ID " %S"
        " " TK_F_IN_REPLY_TO " %S"
        " " TK_F_BODY " %S"
        " " TK_F_BODY_HTML " %S"
        " " TK_F_AUTHOR " %S"
        " " TK_F_TIME " %lld"
        " " TK_F_ATTACHMENTS " %u"
        " " TK_F_ATTACHMENT_NAMES " %S"
        " " TK_F_SIZE " %llu"
        " " TK_F_FLAGS " %S",
        key, (unsigned long long) a->id, (unsigned long long) a->ticket,
        kind, &a->from, &a->to, &a->cc, &a->reply_to, &a->subject,
        &a->message_id, &a->in_reply_to, &a->body, &a->body_html,
        &a->author, (long long) a->time, a->attachments,
        &a->attachment_names, (unsigned long long) a->size, &a->flags);

    /* outbound fields: inbound mail (most articles) never pays for them */
    if (a->bcc.len || a->references.len || a->crypt.len) {
        tk_cmds_add(c, "HSET %s " TK_F_BCC " %S " TK_F_REFERENCES " %S "
            TK_F_CRYPT " %S", key, &a->bcc, &a->references, &a->crypt);
    }

    if (a->list_id.len) {
        tk_cmds_add(c, "HSET %s " TK_F_LIST_ID " %S", key, &a->list_id);
    }

    tk_cmds_add(c, "RPUSH %s %llu", list, (unsigned long long) a->id);
    tk_cmds_add(c, "HINCRBY %s " TK_F_ARTICLE_COUNT " 1", tkey);
    tk_cmds_add(c, "HINCRBY %s " TK_F_REV " 1", tkey);
    tk_feed_bump(f);

    if (a->message_id.len) {
        if (tk_key_msgid(mid, sizeof(mid), &a->message_id) == 0) {
            c->failed = 1;
            return;
        }

        tk_cmds_add(c, "SET %s %llu:%llu", mid,
            (unsigned long long) a->ticket, (unsigned long long) a->id);
    }

fulltext:

    if (!(flags & TK_ARTICLE_NO_FULLTEXT)) {
        tk_str_t  subject, body, from, names;

        if (tk_ft_lower(c, &a->subject, &subject) != 0
            || tk_ft_lower(c, &a->body, &body) != 0
            || tk_ft_lower(c, &a->from, &from) != 0
            || tk_ft_lower(c, &a->attachment_names, &names) != 0)
        {
            return;
        }

        tk_cmds_add(c, "FT.SAFEADD " TK_KEY_FT_ARTICLES " %s 1.0 NOSAVE"
            " REPLACE"
            " LANGUAGE german FIELDS"
            " ticket %llu group %S kind %s subject %S body %S from %S"
            " attachments %S time %lld",
            key, (unsigned long long) a->ticket, group, kind, &subject,
            &body, &from, &names, (long long) a->time);
    }

    if ((a->kind == TK_ART_IN || a->kind == TK_ART_OUT)
        && !(flags & TK_ARTICLE_FT_ONLY))
    {
        tk_participants_add(c, a);
    }

    /* what SLA timers and notifications need without reading the
     * article: which one and of what kind ("first outbound reply") */
    tk_feed_group(c, f, group);
    tk_feed_num(c, f, "article", a->id);
    tk_feed_word(c, f, TK_F_KIND, kind);
    tk_feed_close(c, f);
}


/*
 * A flag set on an article after it was stored (mailbridge: "bounced"
 * when the bounce of an outbound mail comes back).  Bumps the ticket's
 * rev like every other write to an article, so the cached ticket page
 * shows the flag at once.
 */
void
tk_article_flag(tk_cmds_t *c, uint64_t number, uint64_t article,
    const tk_str_t *flags, const char *flag)
{
    static const tk_str_t  mailbridge = tk_string("mailbridge");

    char        key[TK_KEY_MAX], tkey[TK_KEY_MAX];
    tk_feed_t  *f;

    if (tk_key_article(key, sizeof(key), number, article) == 0
        || tk_key_ticket(tkey, sizeof(tkey), number) == 0)
    {
        c->failed = 1;
        return;
    }

    f = tk_feed_open(c, number, TK_FEED_FLAG, &mailbridge);

    tk_cmds_add(c, "HSET %s " TK_F_FLAGS " %S", key, flags);
    tk_cmds_add(c, "HINCRBY %s " TK_F_REV " 1", tkey);
    tk_feed_bump(f);

    tk_feed_num(c, f, "article", article);
    tk_feed_word(c, f, "flag", flag);
    tk_feed_close(c, f);
}


/*
 * The full-text index gets lower-cased text (tk_utf8_lower): RediSearch
 * 1.2 folds only ASCII.  The stored article keeps the original.
 */
static int
tk_ft_lower(tk_cmds_t *c, const tk_str_t *in, tk_str_t *out)
{
    out->len = in->len;
    out->data = in->data;

    if (in->len == 0) {
        return 0;
    }

    out->data = c->alloc(c->alloc_data, in->len);
    if (out->data == NULL) {
        c->failed = 1;
        return -1;
    }

    tk_utf8_lower(out->data, in->data, in->len);
    return 0;
}


static void
tk_participants_add(tk_cmds_t *c, const tk_article_t *a)
{
    char      key[TK_KEY_MAX];
    tk_str_t  argv[2 + 3 * TK_PARTICIPANTS_MAX];
    int       argc;

    argc = 2;
    argc = tk_addr_list(c, &a->from, argv, argc, 2 + TK_PARTICIPANTS_MAX);
    argc = tk_addr_list(c, &a->to, argv, argc, 2 + 2 * TK_PARTICIPANTS_MAX);
    argc = tk_addr_list(c, &a->cc, argv, argc, 2 + 3 * TK_PARTICIPANTS_MAX);

    if (c->failed || argc == 2) {
        return;
    }

    argv[0].data = (unsigned char *) "SADD";
    argv[0].len = 4;
    argv[1].data = (unsigned char *) key;
    argv[1].len = tk_key_participants(key, sizeof(key), a->ticket);

    tk_cmds_argv(c, argc, argv);
}


/*
 * An address header ("Ana <ana@x.org>, \"Doe, J\" <j@y.org>, b@z.org")
 * to lower-cased bare addresses.  Commas inside quotes or angle brackets
 * do not split; entries without '@' (group syntax, garbage) are skipped.
 */
static int
tk_addr_list(tk_cmds_t *c, const tk_str_t *list, tk_str_t *argv, int argc,
    int max)
{
    const unsigned char  *p, *end, *start;
    int                   quoted, angle;

    p = list->data;
    end = p + list->len;
    start = p;
    quoted = 0;
    angle = 0;

    for (; argc < max; p++) {

        if (p < end) {
            if (*p == '"') {
                quoted = !quoted;

            } else if (*p == '\\' && quoted && p + 1 < end) {
                p++;

            } else if (*p == '<' && !quoted) {
                angle = 1;

            } else if (*p == '>' && !quoted) {
                angle = 0;
            }

            if (*p != ',' || quoted || angle) {
                continue;
            }
        }

        if (tk_addr_one(c, start, (size_t) (p - start), &argv[argc])) {
            argc++;
        }

        if (p >= end) {
            break;
        }

        start = p + 1;
    }

    return argc;
}


/* One entry: the part in <...>, else the word with an '@'. */
static int
tk_addr_one(tk_cmds_t *c, const unsigned char *p, size_t len, tk_str_t *addr)
{
    const unsigned char  *lt, *gt, *at, *s, *e;

    if (len == 0) {
        return 0;           /* an empty list: p may be NULL (memchr) */
    }

    lt = memchr(p, '<', len);

    if (lt) {
        gt = memchr(lt, '>', len - (size_t) (lt - p));
        if (gt == NULL) {
            return 0;
        }

        s = lt + 1;
        e = gt;

    } else {
        at = memchr(p, '@', len);
        if (at == NULL) {
            return 0;
        }

        for (s = at; s > p && s[-1] != ' ' && s[-1] != '\t'
                     && s[-1] != '\r' && s[-1] != '\n'; s--) { /* void */ }

        for (e = at; e < p + len && *e != ' ' && *e != '\t' && *e != '\r'
                     && *e != '\n'; e++) { /* void */ }
    }

    while (s < e && (*s == ' ' || *s == '\t')) {
        s++;
    }

    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) {
        e--;
    }

    if (e == s || memchr(s, '@', (size_t) (e - s)) == NULL) {
        return 0;
    }

    return tk_lower_copy(c, s, (size_t) (e - s), addr) != NULL;
}


static tk_str_t *
tk_lower_copy(tk_cmds_t *c, const unsigned char *p, size_t len, tk_str_t *out)
{
    unsigned char  *d;
    size_t          i;

    d = c->alloc(c->alloc_data, len ? len : 1);
    if (d == NULL) {
        c->failed = 1;
        return NULL;
    }

    for (i = 0; i < len; i++) {
        d[i] = (p[i] >= 'A' && p[i] <= 'Z') ? p[i] | 0x20 : p[i];
    }

    out->data = d;
    out->len = len;

    return out;
}


/* ---- customers ---------------------------------------------------------- */

/* Addresses are matched case-insensitively, so the index key is folded. */
void
tk_customer_write(tk_cmds_t *c, uint64_t id, const tk_str_t *name,
    const tk_str_t *email)
{
    char      key[TK_KEY_MAX];
    tk_str_t  lower;

    if (tk_key_customer(key, sizeof(key), id) == 0) {
        c->failed = 1;
        return;
    }

    tk_cmds_add(c, "HSET %s " TK_F_ID " %llu " TK_F_NAME " %S " TK_F_EMAIL
        " %S", key, (unsigned long long) id, name, email);

    if (email->len == 0) {
        return;
    }

    if (tk_lower_copy(c, email->data, email->len, &lower) == NULL) {
        return;
    }

    tk_cmds_add(c, "HSET " TK_KEY_CUSTOMER_BY_EMAIL " %S %llu", &lower,
        (unsigned long long) id);
}
