/*
 * tk_notify.c -- see tk_notify.h.  The settings live in one small hash
 * per user; anything absent there is Zammad's default, so a new user is
 * notified sensibly before ever opening the profile page.
 */

#include <stdio.h>
#include <string.h>

#include "tk_notify.h"
#include "tk_outbox.h"

static const char *const  tk_nev_names[TK_NEV_N] = {
    "create", "update", "reminder", "escalation"
};

static const char *const  tk_nsc_names[TK_NSC_N] = {
    "mine", "unassigned", "subscribed", "all"
};

static const char *const  tk_digest_names[] = { "off", "hourly", "daily" };

static int tk_notify_in_list(const tk_str_t *list, const tk_str_t *word);
static int tk_mention_char(unsigned char ch);


const char *
tk_notify_event_name(int ev)
{
    return ev >= 0 && ev < TK_NEV_N ? tk_nev_names[ev] : NULL;
}


const char *
tk_notify_scope_name(int sc)
{
    return sc >= 0 && sc < TK_NSC_N ? tk_nsc_names[sc] : NULL;
}


const char *
tk_digest_name(int d)
{
    return d >= TK_DIGEST_OFF && d <= TK_DIGEST_DAILY ? tk_digest_names[d]
                                                      : NULL;
}


int
tk_digest_parse(const tk_str_t *s)
{
    int  d;

    for (d = TK_DIGEST_OFF; d <= TK_DIGEST_DAILY; d++) {
        if (tk_str_eq_cstr(s, tk_digest_names[d])) {
            return d;
        }
    }
    return -1;
}


void
tk_notify_conf_default(tk_notify_conf_t *conf)
{
    memset(conf, 0, sizeof(*conf));

    /* Zammad's ticket_agent_default_notifications */
    conf->m[TK_NEV_CREATE][TK_NSC_MINE] = 1;
    conf->m[TK_NEV_CREATE][TK_NSC_UNASSIGNED] = 1;
    conf->m[TK_NEV_CREATE][TK_NSC_SUBSCRIBED] = 1;
    conf->m[TK_NEV_UPDATE][TK_NSC_MINE] = 1;
    conf->m[TK_NEV_UPDATE][TK_NSC_UNASSIGNED] = 1;
    conf->m[TK_NEV_UPDATE][TK_NSC_SUBSCRIBED] = 1;
    conf->m[TK_NEV_REMINDER][TK_NSC_MINE] = 1;
    conf->m[TK_NEV_ESCALATION][TK_NSC_MINE] = 1;
    conf->assigned = 1;
    conf->email = 1;
    conf->digest = TK_DIGEST_OFF;
}


void
tk_notify_conf_parse(tk_notify_conf_t *conf, const tk_str_t *pairs, size_t n)
{
    const tk_str_t  *f, *v;
    size_t           i, fl;
    int              ev, sc, on, d;

    for (i = 0; i < n; i++) {
        f = &pairs[2 * i];
        v = &pairs[2 * i + 1];
        on = v->len == 1 && v->data[0] == '1';

        if (tk_str_eq_cstr(f, TK_F_NTF_ASSIGNED)) {
            conf->assigned = on;
        } else if (tk_str_eq_cstr(f, TK_F_NTF_EMAIL)) {
            conf->email = on;
        } else if (tk_str_eq_cstr(f, TK_F_NTF_DIGEST)) {
            d = tk_digest_parse(v);
            conf->digest = d < 0 ? TK_DIGEST_OFF : d;
        } else if (tk_str_eq_cstr(f, TK_F_NTF_GROUPS)) {
            conf->groups = *v;
        } else {
            /* EVENT:SCOPE */
            for (ev = 0; ev < TK_NEV_N; ev++) {
                fl = strlen(tk_nev_names[ev]);
                if (f->len <= fl + 1 || f->data[fl] != ':'
                    || memcmp(f->data, tk_nev_names[ev], fl) != 0)
                {
                    continue;
                }
                for (sc = 0; sc < TK_NSC_N; sc++) {
                    if (f->len - fl - 1 == strlen(tk_nsc_names[sc])
                        && memcmp(f->data + fl + 1, tk_nsc_names[sc],
                                  f->len - fl - 1) == 0)
                    {
                        conf->m[ev][sc] = (unsigned char) on;
                    }
                }
            }
        }
    }
}


void
tk_notify_conf_write(tk_cmds_t *c, const tk_str_t *login,
    const tk_notify_conf_t *conf)
{
    int   ev, sc;
    char  field[32];

    tk_cmds_add(c, "DEL " TK_FMTS_USER_NOTIFY, login);
    tk_cmds_add(c, "HSET " TK_FMTS_USER_NOTIFY " " TK_F_NTF_ASSIGNED " %d "
                TK_F_NTF_EMAIL " %d " TK_F_NTF_DIGEST " %s " TK_F_NTF_GROUPS
                " %S", login, conf->assigned ? 1 : 0, conf->email ? 1 : 0,
                tk_digest_name(conf->digest), &conf->groups);

    for (ev = 0; ev < TK_NEV_N; ev++) {
        for (sc = 0; sc < TK_NSC_N; sc++) {
            strcpy(field, tk_nev_names[ev]);
            strcat(field, ":");
            strcat(field, tk_nsc_names[sc]);
            tk_cmds_add(c, "HSET " TK_FMTS_USER_NOTIFY " %s %d", login, field,
                        conf->m[ev][sc] ? 1 : 0);
        }
    }
}


int
tk_notify_wants(const tk_notify_conf_t *conf, int ev,
    const tk_notify_ctx_t *x)
{
    if (ev < 0 || ev >= TK_NEV_N) {
        return 0;
    }

    if (conf->m[ev][TK_NSC_ALL]) {
        return 1;
    }
    if (conf->m[ev][TK_NSC_MINE] && x->mine) {
        return 1;
    }
    if (conf->m[ev][TK_NSC_SUBSCRIBED] && x->subscribed) {
        return 1;
    }
    if (conf->m[ev][TK_NSC_UNASSIGNED] && x->unassigned
        && (conf->groups.len == 0 || x->group == NULL
            || tk_notify_in_list(&conf->groups, x->group)))
    {
        return 1;
    }
    return 0;
}


/* "a,b,c" holds word (exact, case-sensitive like group names) */
static int
tk_notify_in_list(const tk_str_t *list, const tk_str_t *word)
{
    size_t  i = 0, j;

    while (i <= list->len) {
        for (j = i; j < list->len && list->data[j] != ','; j++) {
            /* to the next comma */
        }
        if (j - i == word->len && memcmp(list->data + i, word->data,
                                         word->len) == 0)
        {
            return 1;
        }
        i = j + 1;
    }
    return 0;
}


void
tk_notice_add(tk_cmds_t *c, const tk_str_t *login, uint64_t seq,
    uint64_t ticket, const char *event, const tk_str_t *title,
    const tk_str_t *by, const tk_str_t *group, const tk_str_t *text,
    int64_t now)
{
    tk_cmds_add(c, "XADD " TK_FMTS_USER_NOTICES " MAXLEN ~ %d 0-%llu " TK_F_TICKET " %llu " TK_F_NTF_EVENT " %s "
                TK_F_TITLE " %S " TK_F_NTF_BY " %S " TK_F_GROUP " %S "
                TK_F_NTF_TEXT " %S " TK_F_TIME " %lld", login,
                TK_NOTICES_MAX, (unsigned long long) seq, (unsigned long long) ticket, event,
                title, by, group, text, (long long) now);
    tk_cmds_add(c, "ZADD " TK_FMTS_USER_UNREAD " %lld %llu", login,
                (long long) now, (unsigned long long) seq);
    /* the unread set never outgrows the list it points into */
    tk_cmds_add(c, "ZREMRANGEBYRANK " TK_FMTS_USER_UNREAD " 0 %d", login,
                -(TK_NOTICES_MAX + 1));
}


void
tk_notice_read(tk_cmds_t *c, const tk_str_t *login, uint64_t seq)
{
    if (seq == 0) {
        tk_cmds_add(c, "DEL " TK_FMTS_USER_UNREAD, login);
    } else {
        tk_cmds_add(c, "ZREM " TK_FMTS_USER_UNREAD " %llu", login,
                    (unsigned long long) seq);
    }
}


void
tk_subscribe(tk_cmds_t *c, uint64_t ticket, const tk_str_t *login, int on)
{
    tk_cmds_add(c, "%s " TK_FMT_SUBSCRIBERS " %S", on ? "SADD" : "SREM",
                (unsigned long long) ticket, login);
}


static int
tk_mention_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
           || ch == '.' || ch == '_' || ch == '-';
}


int
tk_mention_next(const tk_str_t *text, size_t *pos, tk_str_t *out)
{
    size_t         i, j;
    unsigned char  p;

    for (i = *pos; i + 2 < text->len; i++) {
        if (text->data[i] != '@' || text->data[i + 1] != '@') {
            continue;
        }
        if (i > 0) {
            p = text->data[i - 1];
            if (p == '@' || (p >= 'a' && p <= 'z') || (p >= 'A' && p <= 'Z')
                || (p >= '0' && p <= '9'))
            {
                continue;
            }
        }
        for (j = i + 2; j < text->len && tk_mention_char(text->data[j]);
             j++)
        {
            /* the login */
        }
        while (j > i + 2 && text->data[j - 1] == '.') {
            j--;                    /* "ask @@anna." */
        }
        if (j == i + 2 || j - i - 2 > TK_LOGIN_MAX) {
            i = j;
            continue;
        }
        out->data = text->data + i + 2;
        out->len = j - i - 2;
        *pos = j;
        return 1;
    }

    *pos = text->len;
    return 0;
}


void
tk_nmail_queue(tk_cmds_t *c, const tk_nmail_t *m, int64_t now)
{
    char  id[24];

    snprintf(id, sizeof(id), "%llu", (unsigned long long) m->id);

    tk_cmds_add(c, "HSET " TK_FMT_NMAIL " " TK_F_TICKET " %llu " TK_F_FROM
                " %S " TK_F_TO " %S " TK_F_SUBJECT " %S " TK_F_BODY " %S "
                TK_F_MESSAGE_ID " %S " TK_F_TIME " %lld " TK_F_NTF_X_GROUP
                " %S " TK_F_NTF_X_EVENT " %s", id,
                (unsigned long long) m->ticket, &m->from, &m->to,
                &m->subject, &m->body, &m->message_id, (long long) now,
                &m->group, m->event);
    tk_cmds_add(c, "XADD " TK_KEY_OUTBOX " * " TK_F_TICKET " %llu article"
                " %llu kind " TK_OUTBOX_KIND_NOTIFY,
                (unsigned long long) m->ticket, (unsigned long long) m->id);
}
