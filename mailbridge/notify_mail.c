/*
 * notify_mail.c -- the words of a notification (mb_notify.h), in the
 * recipient's language: the short line ("updated by anna: state in
 * progress"), the subject "[Ticket#N] title — what happened", and a
 * plain-text body with the change, the article's first lines and the
 * permalink.  Never more than the recipient may read: callers only ask
 * for users with rights on the ticket's group.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mb_notify.h"

#define MB_NOTIFY_QUOTE  1500           /* bytes of the article quoted */

static int mb_de(const mb_nuser_t *u);
static void mb_add(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const char *mb_state_label(const tk_str_t *s, int de);
static const char *mb_prio_label(const tk_str_t *s, int de);
static const char *mb_base(const mb_config_t *cfg);


static int
mb_de(const mb_nuser_t *u)
{
    return u->lang.len == 2 && memcmp(u->lang.data, "de", 2) == 0;
}


/* snprintf that appends and never runs over */
static void
mb_add(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list  ap;
    int      n;

    if (*len + 1 >= size) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        *len += (size_t) n < size - *len ? (size_t) n : size - *len - 1;
    }
}


static const char *
mb_state_label(const tk_str_t *s, int de)
{
    int          st = (int) tk_str_atoll(s);
    const char  *l = de ? tk_state_label_de(st) : tk_state_label_en(st);

    return l ? l : "-";
}


static const char *
mb_prio_label(const tk_str_t *s, int de)
{
    int          p = (int) tk_str_atoll(s);
    const char  *l = de ? tk_prio_label_de(p) : tk_prio_label_en(p);

    return l ? l : "-";
}


const char *
mb_notify_from(const mb_config_t *cfg)
{
    return cfg->notify.from ? cfg->notify.from
           : cfg->outbox.from ? cfg->outbox.from : "tickets@localhost";
}


static const char *
mb_base(const mb_config_t *cfg)
{
    return cfg->notify.base_url ? cfg->notify.base_url : "http://localhost/";
}


size_t
mb_notify_what(const mb_nmail_ctx_t *x, char *buf, size_t size)
{
    const mb_notify_ev_t  *e = x->e;
    const tk_str_t        *by = &e->by;
    int                    de = mb_de(x->u);
    size_t                 len = 0;

    buf[0] = '\0';

    if (strcmp(x->what, TK_NOTIFY_MENTION) == 0) {
        mb_add(buf, size, &len, de ? "%.*s hat dich erw\xc3\xa4hnt"
                                   : "%.*s mentioned you",
               (int) by->len, by->data);
    } else if (strcmp(x->what, "assigned") == 0) {
        mb_add(buf, size, &len, de ? "dir zugewiesen von %.*s"
                                   : "assigned to you by %.*s",
               (int) by->len, by->data);
    } else if (strcmp(x->what, TK_NOTIFY_TRIGGER) == 0) {
        mb_add(buf, size, &len, de ? "Regel \xe2\x80\x9e%.*s\xe2\x80\x9c"
                                   : "rule \"%.*s\"",
               (int) e->reason.len, e->reason.data);
    } else if (strcmp(x->what, "escalation") == 0) {
        mb_add(buf, size, &len, de ? "eskaliert" : "escalated");
    } else if (strcmp(x->what, "reminder") == 0) {
        mb_add(buf, size, &len, de ? "Erinnerung erreicht"
                                   : "reminder reached");
    } else if (strcmp(x->what, "create") == 0) {
        mb_add(buf, size, &len, de ? "neues Ticket von %.*s"
                                   : "new ticket from %.*s",
               (int) by->len, by->data);
    } else if (e->article.len && tk_str_eq_cstr(&x->art_kind, "note")) {
        mb_add(buf, size, &len, de ? "Notiz von %.*s" : "note by %.*s",
               (int) by->len, by->data);
    } else if (e->article.len && tk_str_eq_cstr(&x->art_kind, "out")) {
        mb_add(buf, size, &len, de ? "Antwort von %.*s" : "reply by %.*s",
               (int) by->len, by->data);
    } else if (e->article.len) {
        mb_add(buf, size, &len, de ? "neue Nachricht von %.*s"
                                   : "new message from %.*s",
               (int) by->len, by->data);
    } else {
        mb_add(buf, size, &len, de ? "ge\xc3\xa4ndert von %.*s"
                                   : "updated by %.*s",
               (int) by->len, by->data);
    }

    /* the one change that matters most, in the line itself */
    if (strcmp(x->what, "create") && e->state.len && e->state_from.len) {
        mb_add(buf, size, &len, de ? ": Status %s" : ": state %s",
               mb_state_label(&e->state, de));
    }

    /* a line: no breaks (it becomes a subject) */
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\r' || buf[i] == '\n') {
            buf[i] = ' ';
        }
    }
    return len;
}


size_t
mb_notify_subject(const mb_config_t *cfg, const mb_nmail_ctx_t *x,
    const char *what, char *buf, size_t size)
{
    size_t  len = 0, i;

    buf[0] = '\0';
    mb_add(buf, size, &len, "[%s%llu] %.*s \xe2\x80\x94 %s",
           cfg->subject_tag ? cfg->subject_tag : "Ticket#",
           (unsigned long long) x->e->ticket, (int) x->title.len,
           x->title.data, what);
    for (i = 0; i < len; i++) {
        if (buf[i] == '\r' || buf[i] == '\n') {
            buf[i] = ' ';
        }
    }
    return len;
}


size_t
mb_notify_body(const mb_config_t *cfg, const mb_nmail_ctx_t *x,
    const char *what, char *buf, size_t size)
{
    const mb_notify_ev_t  *e = x->e;
    const tk_str_t        *name;
    int                    de = mb_de(x->u);
    size_t                 len = 0, q, i, start;

    name = x->u->name.len ? &x->u->name : &x->u->login;
    buf[0] = '\0';

    mb_add(buf, size, &len, de ? "Hallo %.*s,\n\nTicket #%llu \xe2\x80\x9e%.*s"
                                 "\xe2\x80\x9c: %s.\n\n"
                               : "Hello %.*s,\n\nticket #%llu \"%.*s\": "
                                 "%s.\n\n",
           (int) name->len, name->data, (unsigned long long) e->ticket,
           (int) x->title.len, x->title.data, what);

    if (e->state.len && e->state_from.len) {
        mb_add(buf, size, &len, de ? "Status:     %s -> %s\n"
                                   : "State:      %s -> %s\n",
               mb_state_label(&e->state_from, de),
               mb_state_label(&e->state, de));
    }
    if (e->prio.len && e->prio_from.len) {
        mb_add(buf, size, &len, de ? "Priorit\xc3\xa4t:  %s -> %s\n"
                                   : "Priority:   %s -> %s\n",
               mb_prio_label(&e->prio_from, de), mb_prio_label(&e->prio, de));
    }
    if (e->changed.len
        && memmem(e->changed.data, e->changed.len, TK_F_OWNER, 5))
    {
        mb_add(buf, size, &len, de ? "Besitzer:   %.*s -> %.*s\n"
                                   : "Owner:      %.*s -> %.*s\n",
               e->owner_from.len ? (int) e->owner_from.len : 1,
               e->owner_from.len ? (const char *) e->owner_from.data : "-",
               e->owner.len ? (int) e->owner.len : 1,
               e->owner.len ? (const char *) e->owner.data : "-");
    }
    if (e->group_from.len) {
        mb_add(buf, size, &len, de ? "AG:         %.*s -> %.*s\n"
                                   : "Group:      %.*s -> %.*s\n",
               (int) e->group_from.len, e->group_from.data,
               (int) x->group.len, x->group.data);
    }

    /* the article's first lines, quoted */
    if (x->body.len) {
        q = x->body.len < MB_NOTIFY_QUOTE ? x->body.len : MB_NOTIFY_QUOTE;
        while (q < x->body.len && q > 0
               && (x->body.data[q] & 0xc0) == 0x80)
        {
            q--;                        /* not inside a UTF-8 sequence */
        }
        mb_add(buf, size, &len, "\n");
        for (i = 0, start = 0; i <= q; i++) {
            if (i == q || x->body.data[i] == '\n') {
                mb_add(buf, size, &len, "> %.*s\n", (int) (i - start),
                       x->body.data + start);
                start = i + 1;
            }
        }
        if (q < x->body.len) {
            mb_add(buf, size, &len, "> [...]\n");
        }
    }

    mb_add(buf, size, &len, de ? "\nAG:      %.*s\nTicket:  %st/%llu\n"
                               : "\nGroup:   %.*s\nTicket:  %st/%llu\n",
           (int) x->group.len, x->group.data, mb_base(cfg),
           (unsigned long long) e->ticket);
    mb_add(buf, size, &len, de ? "\n-- \nTicketsystem (automatische "
                                 "Benachrichtigung)\nEinstellungen: "
                                 "%sprofile\n"
                               : "\n-- \nTicket system (automatic "
                                 "notification)\nSettings: %sprofile\n",
           mb_base(cfg));
    return len;
}


size_t
mb_notify_digest_subject(const mb_config_t *cfg, int de, size_t n,
    char *buf, size_t size)
{
    size_t  len = 0;

    (void) cfg;
    buf[0] = '\0';
    mb_add(buf, size, &len, de ? "Zusammenfassung: %zu Benachrichtigung%s"
                               : "Digest: %zu notification%s",
           n, n == 1 ? "" : de ? "en" : "s");
    return len;
}


size_t
mb_notify_digest_body(const mb_config_t *cfg, int de, const tk_str_t *name,
    redisReply *lines, char *buf, size_t size)
{
    size_t  len = 0, i;

    buf[0] = '\0';
    mb_add(buf, size, &len, de ? "Hallo %.*s,\n\nseit der letzten "
                                 "Zusammenfassung:\n\n"
                               : "Hello %.*s,\n\nsince the last digest:\n\n",
           (int) name->len, name->data);

    for (i = 0; i < lines->elements; i++) {
        if (lines->element[i]->type == REDIS_REPLY_STRING) {
            mb_add(buf, size, &len, "* %s\n", lines->element[i]->str);
        }
    }

    mb_add(buf, size, &len, de ? "\n%s\n\n-- \nTicketsystem (automatische "
                                 "Zusammenfassung)\nEinstellungen: "
                                 "%sprofile\n"
                               : "\n%s\n\n-- \nTicket system (automatic "
                                 "digest)\nSettings: %sprofile\n",
           mb_base(cfg), mb_base(cfg));
    return len;
}
