/*
 * parse_header.c -- the headers of a mail as mb_msg_t keeps them: UTF-8
 * display addresses, lower-case recipients, and normalised Message-IDs
 * for threading (In-Reply-To, References).
 */

#include <string.h>

#include <gmime/gmime.h>

#include "mb_parse.h"

#define MB_MSGID_MAX        200         /* longer ids are hashed      */


/* From (else Sender, Return-Path), To, Cc, Reply-To as display strings. */
void
mb_parse_addresses(mb_msg_t *m, GMimeMessage *msg)
{
    InternetAddressList  *list, *parsed = NULL;
    InternetAddress      *ia = NULL;
    const char           *rp, *addr;
    char                 *s;
    int                   i, n;

    list = g_mime_message_get_from(msg);
    n = list ? internet_address_list_length(list) : 0;

    if (n == 0) {
        list = g_mime_message_get_sender(msg);
        n = list ? internet_address_list_length(list) : 0;
    }

    if (n == 0) {
        rp = g_mime_object_get_header((GMimeObject *) msg, "Return-Path");
        if (rp) {
            parsed = internet_address_list_parse(mb_opts, rp);
            list = parsed;
            n = list ? internet_address_list_length(list) : 0;
        }
    }

    for (i = 0; i < n && ia == NULL; i++) {
        InternetAddress *a = internet_address_list_get_address(list, i);

        if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
            ia = a;

        } else if (INTERNET_ADDRESS_IS_GROUP(a)) {
            InternetAddressList *members;

            members = internet_address_group_get_members(
                          (InternetAddressGroup *) a);
            if (members && internet_address_list_length(members) > 0) {
                a = internet_address_list_get_address(members, 0);
                if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
                    ia = a;
                }
            }
        }
    }

    if (ia) {
        addr = internet_address_mailbox_get_addr(
                   (InternetAddressMailbox *) ia);
        m->from_addr = mb_header_line(m, addr);
        mb_lower(&m->from_addr);
        m->from_name = mb_header_line(m, internet_address_get_name(ia));
        s = internet_address_to_string(ia, NULL, FALSE);
        m->from = mb_header_line(m, s);
        g_free(s);
    }

    if (m->from_addr.len == 0 || !memchr(m->from_addr.data, '@',
                                         m->from_addr.len))
    {
        m->flags |= MB_F_NOSENDER;
    }

    if (parsed) {
        g_object_unref(parsed);
    }

    list = g_mime_message_get_to(msg);
    s = list ? internet_address_list_to_string(list, NULL, FALSE) : NULL;
    m->to = mb_header_line(m, s);
    g_free(s);

    list = g_mime_message_get_cc(msg);
    s = list ? internet_address_list_to_string(list, NULL, FALSE) : NULL;
    m->cc = mb_header_line(m, s);
    g_free(s);

    list = g_mime_message_get_reply_to(msg);
    s = list ? internet_address_list_to_string(list, NULL, FALSE) : NULL;
    m->reply_to = mb_header_line(m, s);
    g_free(s);

    /* List-Id "Aktive <aktive.lists.x.org>": the id, for "reply to list" */
    m->list_id = mb_header_line(m, g_mime_object_get_header(
                                       (GMimeObject *) msg, "List-Id"));
    if (m->list_id.len && m->list_id.data[m->list_id.len - 1] == '>'
        && (s = memchr(m->list_id.data, '<', m->list_id.len)) != NULL)
    {
        m->list_id.len = m->list_id.data + m->list_id.len - 1
                         - (unsigned char *) s - 1;
        m->list_id.data = (unsigned char *) s + 1;
    }
}


/*
 * Threading candidates, best first: In-Reply-To, then References from
 * the newest (last) to the oldest.
 */
void
mb_parse_refs(mb_msg_t *m, GMimeMessage *msg)
{
    GMimeReferences  *refs;
    const char       *v;
    int               i, n;

    m->refs = mb_alloc(m, 64 * sizeof(tk_str_t));
    m->nrefs = 0;

    v = g_mime_object_get_header((GMimeObject *) msg, "In-Reply-To");
    if (v) {
        refs = g_mime_references_parse(mb_opts, v);
        n = refs ? g_mime_references_length(refs) : 0;
        for (i = 0; i < n; i++) {
            mb_add_ref(m, &m->refs, &m->nrefs,
                       g_mime_references_get_message_id(refs, i));
        }
        if (n) {
            m->in_reply_to = m->refs[0];
        } else {
            m->in_reply_to = mb_msgid_norm(m, v);
            if (m->in_reply_to.len) {
                mb_add_ref(m, &m->refs, &m->nrefs, v);
            }
        }
        if (refs) {
            g_mime_references_free(refs);
        }
    }

    v = g_mime_object_get_header((GMimeObject *) msg, "References");
    if (v) {
        refs = g_mime_references_parse(mb_opts, v);
        n = refs ? g_mime_references_length(refs) : 0;
        for (i = n - 1; i >= 0; i--) {
            mb_add_ref(m, &m->refs, &m->nrefs,
                       g_mime_references_get_message_id(refs, i));
        }
        if (refs) {
            g_mime_references_free(refs);
        }
    }
}


/* Recipients (To, Cc, and what the MTA recorded) for the group map. */
void
mb_parse_rcpts(mb_msg_t *m, GMimeMessage *msg)
{
    static const char *const headers[] = {
        "Delivered-To", "X-Original-To", "Envelope-To", NULL
    };
    InternetAddressList  *all, *list;
    const char *const    *h;
    const char           *v;
    int                   i, n;

    m->rcpts = mb_alloc(m, 64 * sizeof(tk_str_t));
    m->nrcpts = 0;

    for (h = headers; *h; h++) {
        v = g_mime_object_get_header((GMimeObject *) msg, *h);
        if (v == NULL) {
            continue;
        }
        list = internet_address_list_parse(mb_opts, v);
        if (list == NULL) {
            continue;
        }
        n = internet_address_list_length(list);
        for (i = 0; i < n && m->nrcpts < 64; i++) {
            InternetAddress *a = internet_address_list_get_address(list, i);
            if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
                m->rcpts[m->nrcpts] = mb_header_line(m,
                    internet_address_mailbox_get_addr(
                        (InternetAddressMailbox *) a));
                mb_lower(&m->rcpts[m->nrcpts++]);
            }
        }
        g_object_unref(list);
    }

    all = g_mime_message_get_all_recipients(msg);
    n = all ? internet_address_list_length(all) : 0;
    for (i = 0; i < n && m->nrcpts < 64; i++) {
        InternetAddress *a = internet_address_list_get_address(all, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
            m->rcpts[m->nrcpts] = mb_header_line(m,
                internet_address_mailbox_get_addr(
                    (InternetAddressMailbox *) a));
            mb_lower(&m->rcpts[m->nrcpts++]);
        }
    }
    if (all) {
        g_object_unref(all);
    }
}


/* A decoded header value: valid UTF-8 on one line. */
tk_str_t
mb_header_line(mb_msg_t *m, const char *s)
{
    tk_str_t  r;
    size_t    i;

    r = mb_utf8_clean(m, s);

    for (i = 0; i < r.len; i++) {
        if (r.data[i] < 0x20 || r.data[i] == 0x7f) {
            r.data[i] = ' ';
        }
    }

    while (r.len && r.data[r.len - 1] == ' ') {
        r.data[--r.len] = '\0';
    }

    while (r.len && r.data[0] == ' ') {
        r.data++;
        r.len--;
    }

    return r;
}


void
mb_lower(tk_str_t *s)
{
    size_t  i;

    for (i = 0; i < s->len; i++) {
        if (s->data[i] >= 'A' && s->data[i] <= 'Z') {
            s->data[i] = (unsigned char) (s->data[i] + 32);
        }
    }
}


/* Appends a normalised id unless empty or already listed (max 64). */
void
mb_add_ref(mb_msg_t *m, tk_str_t **list, size_t *n, const char *id)
{
    tk_str_t  s;
    size_t    i;

    if (*list == NULL) {
        *list = mb_alloc(m, 64 * sizeof(tk_str_t));
        if (*list == NULL) {
            return;
        }
    }

    s = mb_msgid_norm(m, id);
    if (s.len == 0 || *n >= 64) {
        return;
    }

    for (i = 0; i < *n; i++) {
        if (tk_str_eq(&(*list)[i], &s)) {
            return;
        }
    }

    (*list)[(*n)++] = s;
}


/*
 * The Message-ID as the index key uses it: without <> and whitespace;
 * ids too long or too odd for a key are replaced by "h:" + SHA-256.
 */
tk_str_t
mb_msgid_norm(mb_msg_t *m, const char *id)
{
    const char  *b, *e;
    size_t       i, n;
    int          odd = 0;
    gchar       *hex;
    tk_str_t     s;

    if (id == NULL) {
        return mb_memdup(m, "", 0);
    }

    b = id;
    while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n' || *b == '<')
    {
        b++;
    }

    e = b + strlen(b);
    while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'
                     || e[-1] == '\n' || e[-1] == '>'))
    {
        e--;
    }

    n = (size_t) (e - b);
    for (i = 0; i < n; i++) {
        if ((unsigned char) b[i] <= 0x20 || (unsigned char) b[i] >= 0x7f) {
            odd = 1;
        }
    }

    if (n <= MB_MSGID_MAX && !odd) {
        return mb_memdup(m, b, n);
    }

    hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
                                      (const guchar *) b, n);
    s.len = 2 + strlen(hex);
    s.data = mb_alloc(m, s.len + 1);
    if (s.data == NULL) {
        g_free(hex);
        return mb_memdup(m, "", 0);
    }
    memcpy(s.data, "h:", 2);
    memcpy(s.data + 2, hex, s.len - 2 + 1);
    g_free(hex);
    return s;
}
