/*
 * notice.c -- the mail that tells an agent that their outbound article
 * could not be delivered (an outbox entry of kind "notice", queued by
 * outbox_store.c in the MULTI that recorded "failed").
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mb_outbox.h"


/*
 * The failure notice to the article's author: German, from outbox.from
 * (default: the group's From), Auto-Submitted, threaded to the article.
 * -1: nobody to tell (logged).
 */
int
mb_notice_build(const mb_config_t *cfg, const mb_entry_t *e, mb_out_t *o,
    char *buf, size_t size)
{
    const char  *at, *from;
    char        *subj, *mid, *body;
    size_t       fl, sl, ml, i;

    if (e->author_email.len == 0) {
        mb_warn("outbox: ticket %llu article %llu failed, but its author "
                "\"%.*s\" has no e-mail address: no notice",
                (unsigned long long) e->ticket,
                (unsigned long long) e->article, (int) e->a.author.len,
                e->a.author.data);
        return -1;
    }

    from = cfg->outbox.from;
    fl = from ? strlen(from) : e->a.from.len;
    if (from == NULL) {
        from = (const char *) e->a.from.data;
    }
    at = memchr(from, '@', fl);

    /* three strings in buf: subject, Message-ID, body */
    subj = buf;
    sl = (size_t) snprintf(subj, size / 4, "Unzustellbar: %.*s",
                           (int) e->a.subject.len, e->a.subject.data);
    sl = sl < size / 4 ? sl : size / 4 - 1;
    /* the failed subject may be why it failed: no line breaks here */
    for (i = 0; i < sl; i++) {
        if (subj[i] == '\r' || subj[i] == '\n' || subj[i] == '\0') {
            subj[i] = ' ';
        }
    }
    mid = subj + sl + 1;
    ml = (size_t) snprintf(mid, size / 4, "tk.notice.%llu.%llu.%lld@%.*s",
                           (unsigned long long) e->ticket,
                           (unsigned long long) e->article,
                           (long long) e->id_ms,
                           at ? (int) strcspn(at + 1, ">") : 9,
                           at ? at + 1 : "localhost");
    ml = ml < size / 4 ? ml : size / 4 - 1;
    body = mid + ml + 1;
    snprintf(body, size - sl - ml - 2,
        "Hallo %.*s,\n\n"
        "deine Nachricht in Ticket #%llu konnte nicht zugestellt werden.\n\n"
        "Betreff:    %.*s\n"
        "An:         %.*s\n"
        "Antwort des Mailservers:\n"
        "    %.*s\n\n"
        "Die Nachricht ist im Ticket als \"fehlgeschlagen\" markiert. Bitte "
        "pr\xc3\xbc" "fe die\nAdresse und schreibe die Antwort erneut.\n\n"
        "-- \nTicketsystem (automatische Nachricht)\n",
        (int) (e->author_name.len ? e->author_name.len : e->a.author.len),
        e->author_name.len ? e->author_name.data : e->a.author.data,
        (unsigned long long) e->ticket,
        (int) e->a.subject.len, e->a.subject.data,
        (int) e->a.to.len, e->a.to.data,
        (int) e->a.delivery_info.len, e->a.delivery_info.data);

    o->from.data = (unsigned char *) from;
    o->from.len = fl;
    o->to = e->author_email;
    o->subject.data = (unsigned char *) subj;
    o->subject.len = strlen(subj);
    o->message_id.data = (unsigned char *) mid;
    o->message_id.len = strlen(mid);
    o->in_reply_to = e->a.message_id;
    o->body.data = (unsigned char *) body;
    o->body.len = strlen(body);
    o->date = (int64_t) time(NULL);
    o->auto_submitted = 1;
    return 0;
}
