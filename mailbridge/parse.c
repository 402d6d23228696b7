/*
 * parse.c -- raw RFC 5322 bytes to a plain mb_msg_t with gmime 3.
 * Everything comes out as UTF-8: headers decoded (RFC 2047/2231, 8-bit
 * headers through fallback charsets), bodies converted by charset.c.
 * text/plain is the body; HTML-only mail is sanitised (sanitize.c) and a
 * text version derived; every other part is an attachment, byte-exact.
 * A mail is rejected (quarantined by the caller) only when gmime cannot
 * find a message in it at all -- broken MIME is repaired, not refused.
 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "mailbridge.h"

#define MB_MAX_DEPTH        32          /* nested multiparts/messages */
#define MB_MSGID_MAX        200         /* longer ids are hashed      */
#define MB_HEADERS_MAX      (1024 * 1024)

typedef struct {
    mb_msg_t    *m;
    GString     *text;          /* text/plain parts                  */
    GString     *html_text;     /* text derived from HTML parts       */
    GString     *html;          /* sanitised HTML parts              */
    int          in_report;     /* inside multipart/report           */
    int          guessed;       /* a charset was guessed             */
    GPtrArray   *atts;          /* mb_att_t *                        */
} mb_walk_t;

static GMimeParserOptions  *mb_opts;

static GMimeMessage *mb_parse_bytes(const unsigned char *p, size_t n);
static size_t mb_strip_from_line(mb_msg_t *m);
static void mb_parse_oversized(mb_msg_t *m, size_t max_size);
static void mb_parse_addresses(mb_msg_t *m, GMimeMessage *msg);
static void mb_parse_refs(mb_msg_t *m, GMimeMessage *msg);
static void mb_parse_rcpts(mb_msg_t *m, GMimeMessage *msg);
static void mb_walk(mb_walk_t *w, GMimeObject *obj, int depth);
static void mb_walk_alternative(mb_walk_t *w, GMimeMultipart *mp,
    int depth);
static void mb_walk_part(mb_walk_t *w, GMimePart *part);
static void mb_walk_message(mb_walk_t *w, GMimeMessagePart *mp, int depth);
static void mb_walk_rfc822_headers(mb_walk_t *w, GMimePart *part);
static GByteArray *mb_part_bytes(GMimePart *part);
static void mb_add_attachment(mb_walk_t *w, GMimeObject *obj,
    const unsigned char *data, size_t len, const char *name);
static tk_str_t mb_file_name(mb_msg_t *m, const char *name,
    GMimeContentType *ct, unsigned k);
static const char *mb_html_meta_charset(const unsigned char *p, size_t n,
    char *buf, size_t size);
static int mb_is_body_text(GMimeObject *obj, const char *subtype);
static void mb_append_block(GString *s, const char *p, size_t n);
static tk_str_t mb_header_line(mb_msg_t *m, const char *s);
static void mb_lower(tk_str_t *s);
static void mb_add_ref(mb_msg_t *m, tk_str_t **list, size_t *n,
    const char *id);


void
mb_parse_init(void)
{
    static const char *fallback[] = { "UTF-8", "windows-1252", NULL };

    g_mime_init();

    mb_opts = g_mime_parser_options_new();
    g_mime_parser_options_set_rfc2047_compliance_mode(mb_opts,
        GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_address_compliance_mode(mb_opts,
        GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(mb_opts,
        GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_allow_addresses_without_domain(mb_opts, TRUE);
    /* raw 8-bit headers: UTF-8 if valid, else what Windows sends */
    g_mime_parser_options_set_fallback_charsets(mb_opts, fallback);
}


void
mb_parse_done(void)
{
    if (mb_opts) {
        g_mime_parser_options_free(mb_opts);
        mb_opts = NULL;
    }

    g_mime_shutdown();
}


int
mb_parse(mb_msg_t *m, size_t max_size)
{
    GMimeMessage      *msg;
    GMimeObject       *body;
    GDateTime         *date;
    mb_walk_t          w;
    const char        *s;
    unsigned           i;
    size_t             skip;

    if (m->raw_len == 0) {
        m->reason = "empty message";
        return -1;
    }

    mb_strip_from_line(m);

    if (m->size > max_size) {
        mb_parse_oversized(m, max_size);
    }

    msg = mb_parse_bytes(m->raw, m->raw_len);

    if (msg == NULL) {
        /* a header block indented by mistake: one more try without it */
        for (skip = 0; skip < m->raw_len && isspace(m->raw[skip]); skip++) {
            /* void */
        }
        if (skip && skip < m->raw_len) {
            msg = mb_parse_bytes(m->raw + skip, m->raw_len - skip);
            m->flags |= MB_F_BROKEN;
        }
    }

    if (msg == NULL) {
        m->reason = "no RFC 5322 message found";
        return -1;
    }

    mb_parse_addresses(m, msg);

    m->subject = mb_header_line(m, g_mime_message_get_subject(msg));
    m->message_id = mb_msgid_norm(m, g_mime_message_get_message_id(msg));
    mb_parse_refs(m, msg);
    mb_parse_rcpts(m, msg);

    date = g_mime_message_get_date(msg);
    m->date = date ? g_date_time_to_unix(date) : 0;

    m->flags |= mb_classify(msg, m->envelope_from,
                            m->from_addr.len ? (char *) m->from_addr.data
                                             : NULL);

    if (m->flags & MB_F_OVERSIZED) {
        g_object_unref(msg);
        return 0;
    }

    memset(&w, 0, sizeof(w));
    w.m = m;
    w.text = g_string_new(NULL);
    w.html_text = g_string_new(NULL);
    w.html = g_string_new(NULL);
    w.atts = g_ptr_array_new();

    body = g_mime_message_get_mime_part(msg);
    if (body) {
        mb_walk(&w, body, 0);
    }

    if (w.text->len == 0 && w.html_text->len == 0 && w.atts->len == 0
        && body && GMIME_IS_MULTIPART(body))
    {
        /* a multipart without parts: keep what the sender wrote */
        s = g_mime_multipart_get_prologue((GMimeMultipart *) body);
        if (s) {
            mb_append_block(w.text, s, strlen(s));
        }
        m->flags |= MB_F_BROKEN;
    }

    if (w.text->len) {
        if (w.html_text->len) {
            mb_append_block(w.text, w.html_text->str, w.html_text->len);
        }
        m->body = mb_memdup(m, w.text->str, w.text->len);

    } else {
        /* HTML only: the sanitised HTML is shown, the text is searched */
        m->body = mb_memdup(m, w.html_text->str, w.html_text->len);
        m->body_html = mb_memdup(m, w.html->str, w.html->len);
        if (w.html->len) {
            m->flags |= MB_F_HTML;
        }
    }

    if (w.guessed) {
        m->flags |= MB_F_CHARSET;
    }

    if (memmem(m->body.data, m->body.len, "-----BEGIN PGP MESSAGE-----",
               27))
    {
        m->flags |= MB_F_ENCRYPTED;
    }

    if (memmem(m->body.data, m->body.len,
               "-----BEGIN PGP SIGNED MESSAGE-----", 34))
    {
        m->flags |= MB_F_SIGNED;
    }

    m->natts = w.atts->len;
    m->atts = mb_alloc(m, (w.atts->len + 1) * sizeof(mb_att_t));
    for (i = 0; m->atts && i < w.atts->len; i++) {
        m->atts[i] = *(mb_att_t *) g_ptr_array_index(w.atts, i);
    }

    g_string_free(w.text, TRUE);
    g_string_free(w.html_text, TRUE);
    g_string_free(w.html, TRUE);
    g_ptr_array_free(w.atts, TRUE);
    g_object_unref(msg);

    return 0;
}


static GMimeMessage *
mb_parse_bytes(const unsigned char *p, size_t n)
{
    GMimeStream   *stream;
    GMimeParser   *parser;
    GMimeMessage  *msg;

    stream = g_mime_stream_mem_new_with_buffer((const char *) p, n);
    parser = g_mime_parser_new_with_stream(stream);
    g_object_unref(stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);

    msg = g_mime_parser_construct_message(parser, mb_opts);
    g_object_unref(parser);

    return msg;
}


/*
 * An mbox "From " envelope line (procmail, local(8), mbox import) is not
 * part of the message; its sender tells us about null senders.
 */
static size_t
mb_strip_from_line(mb_msg_t *m)
{
    const unsigned char  *nl, *sp;
    char                 *sender;
    size_t                skip;

    if (m->raw_len < 5 || memcmp(m->raw, "From ", 5) != 0) {
        return 0;
    }

    nl = memchr(m->raw, '\n', m->raw_len);
    if (nl == NULL) {
        return 0;
    }

    skip = (size_t) (nl - m->raw) + 1;

    if (m->envelope_from == NULL) {
        sp = memchr(m->raw + 5, ' ', skip - 5);
        if (sp == NULL) {
            sp = nl;
        }
        sender = (char *) mb_memdup(m, m->raw + 5,
                                    (size_t) (sp - m->raw - 5)).data;
        if (sender && (strcasecmp(sender, "MAILER-DAEMON") == 0
                       || strcmp(sender, "<>") == 0))
        {
            sender[0] = '\0';
        }
        m->envelope_from = sender;
    }

    m->raw += skip;
    m->raw_len -= skip;
    if (m->size >= skip) {
        m->size -= skip;
    }

    return skip;
}


/* Too big: keep the headers only, and say so in the article. */
static void
mb_parse_oversized(mb_msg_t *m, size_t max_size)
{
    const unsigned char  *p, *end;
    size_t                n;
    char                  note[512];

    n = m->raw_len < MB_HEADERS_MAX ? m->raw_len : MB_HEADERS_MAX;
    end = m->raw + n;

    for (p = m->raw; p < end; p++) {
        if (*p == '\n' && (p + 1 < end)
            && (p[1] == '\n' || (p[1] == '\r' && p + 2 < end
                                 && p[2] == '\n')))
        {
            n = (size_t) (p - m->raw) + 1;
            break;
        }
    }

    m->raw_len = n;
    m->flags |= MB_F_OVERSIZED;

    snprintf(note, sizeof(note),
             "This message was %zu bytes, more than the limit of %zu "
             "bytes. Only its headers were kept; please ask the sender "
             "for a smaller mail or a download link.\n\n"
             "Diese Nachricht war %zu Bytes groß, mehr als die Grenze von "
             "%zu Bytes. Nur die Kopfzeilen wurden gespeichert; bitte den "
             "Absender um eine kleinere Mail oder einen Download-Link "
             "bitten.", m->size, max_size, m->size, max_size);
    m->body = mb_strdup(m, note);
}


/* From (else Sender, Return-Path), To, Cc, Reply-To as display strings. */
static void
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
}


/*
 * Threading candidates, best first: In-Reply-To, then References from
 * the newest (last) to the oldest.
 */
static void
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
static void
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


static void
mb_walk(mb_walk_t *w, GMimeObject *obj, int depth)
{
    GMimeContentType  *ct;
    GMimeMultipart    *mp;
    int                i, n, report;

    if (depth > MB_MAX_DEPTH) {
        w->m->flags |= MB_F_BROKEN;
        return;
    }

    if (GMIME_IS_MESSAGE_PART(obj)) {
        mb_walk_message(w, (GMimeMessagePart *) obj, depth);
        return;
    }

    if (GMIME_IS_PART(obj)) {
        mb_walk_part(w, (GMimePart *) obj);
        return;
    }

    if (!GMIME_IS_MULTIPART(obj)) {
        return;
    }

    mp = (GMimeMultipart *) obj;
    ct = g_mime_object_get_content_type(obj);
    n = g_mime_multipart_get_count(mp);

    if (g_mime_content_type_is_type(ct, "multipart", "alternative")) {
        mb_walk_alternative(w, mp, depth);
        return;
    }

    if (g_mime_content_type_is_type(ct, "multipart", "signed")) {
        /* the content; the signature stays in the raw mail */
        w->m->flags |= MB_F_SIGNED;
        if (n > 0) {
            mb_walk(w, g_mime_multipart_get_part(mp, 0), depth + 1);
        }
        return;
    }

    if (g_mime_content_type_is_type(ct, "multipart", "encrypted")) {
        /* kept as an attachment until the crypto stage decrypts it */
        w->m->flags |= MB_F_ENCRYPTED;
        for (i = 1; i < n; i++) {
            mb_walk(w, g_mime_multipart_get_part(mp, i), depth + 1);
        }
        return;
    }

    report = g_mime_content_type_is_type(ct, "multipart", "report");
    w->in_report += report;

    for (i = 0; i < n; i++) {
        mb_walk(w, g_mime_multipart_get_part(mp, i), depth + 1);
    }

    w->in_report -= report;
}


/*
 * multipart/alternative: the plain-text version when there is one (the
 * collective prefers text), else the last (richest) version.
 */
static void
mb_walk_alternative(mb_walk_t *w, GMimeMultipart *mp, int depth)
{
    GMimeObject  *child;
    int           i, n;

    n = g_mime_multipart_get_count(mp);

    for (i = 0; i < n; i++) {
        child = g_mime_multipart_get_part(mp, i);
        if (mb_is_body_text(child, "plain")) {
            mb_walk(w, child, depth + 1);
            return;
        }
    }

    if (n > 0) {
        mb_walk(w, g_mime_multipart_get_part(mp, n - 1), depth + 1);
    }
}


static void
mb_walk_part(mb_walk_t *w, GMimePart *part)
{
    GMimeObject       *obj = (GMimeObject *) part;
    GMimeContentType  *ct;
    GByteArray        *bytes;
    const char        *charset;
    char               meta[64];
    tk_str_t           text, html, htext;
    int                guessed = 0;

    ct = g_mime_object_get_content_type(obj);

    if (g_mime_content_type_is_type(ct, "application", "pgp-signature")
        || g_mime_content_type_is_type(ct, "application", "pgp-encrypted"))
    {
        return;             /* in the raw mail; not useful as a file */
    }

    if (w->in_report
        && g_mime_content_type_is_type(ct, "text", "rfc822-headers"))
    {
        mb_walk_rfc822_headers(w, part);
    }

    bytes = mb_part_bytes(part);

    if (mb_is_body_text(obj, "plain")) {
        charset = g_mime_object_get_content_type_parameter(obj, "charset");
        text = mb_to_utf8(w->m, charset, bytes->data, bytes->len, &guessed);
        mb_append_block(w->text, (char *) text.data, text.len);

    } else if (mb_is_body_text(obj, "html")) {
        charset = g_mime_object_get_content_type_parameter(obj, "charset");
        if (charset == NULL) {
            charset = mb_html_meta_charset(bytes->data, bytes->len, meta,
                                           sizeof(meta));
        }
        text = mb_to_utf8(w->m, charset, bytes->data, bytes->len, &guessed);
        mb_sanitize_html(w->m, text.data, text.len, &html, &htext);
        g_string_append_len(w->html, (char *) html.data, html.len);
        mb_append_block(w->html_text, (char *) htext.data, htext.len);

    } else {
        mb_add_attachment(w, obj, bytes->data, bytes->len,
                          g_mime_part_get_filename(part));
    }

    if (guessed) {
        w->guessed = 1;
    }

    g_byte_array_unref(bytes);
}


/*
 * message/rfc822: a forwarded mail's text joins the body (so search finds
 * it) and its attachments become ours.  Inside a bounce it is the
 * returned original: its Message-ID says which of our mails bounced, and
 * it is kept whole as an .eml attachment.
 */
static void
mb_walk_message(mb_walk_t *w, GMimeMessagePart *mp, int depth)
{
    GMimeMessage  *inner;
    GMimeObject   *body;
    const char    *id, *subj;
    char          *s, *from;
    GString       *hdr;
    GDateTime     *date;
    gchar         *ds;

    inner = g_mime_message_part_get_message(mp);
    if (inner == NULL) {
        return;
    }

    if (w->in_report) {
        id = g_mime_message_get_message_id(inner);
        if (id) {
            mb_add_ref(w->m, &w->m->dsn_refs, &w->m->ndsn_refs, id);
        }
        s = g_mime_object_to_string((GMimeObject *) inner, NULL);
        if (s) {
            mb_add_attachment(w, (GMimeObject *) mp, (unsigned char *) s,
                              strlen(s), "original-message.eml");
            g_free(s);
        }
        return;
    }

    hdr = g_string_new("-------- Forwarded message --------\n");

    from = internet_address_list_to_string(g_mime_message_get_from(inner),
                                           NULL, FALSE);
    if (from && *from) {
        g_string_append_printf(hdr, "From: %s\n", from);
    }
    g_free(from);

    date = g_mime_message_get_date(inner);
    if (date) {
        ds = g_date_time_format(date, "%Y-%m-%d %H:%M %z");
        if (ds) {
            g_string_append_printf(hdr, "Date: %s\n", ds);
            g_free(ds);
        }
    }

    subj = g_mime_message_get_subject(inner);
    if (subj) {
        g_string_append_printf(hdr, "Subject: %s\n", subj);
    }

    mb_append_block(w->text, hdr->str, hdr->len);
    g_string_free(hdr, TRUE);

    body = g_mime_message_get_mime_part(inner);
    if (body) {
        mb_walk(w, body, depth + 1);
    }
}


/* text/rfc822-headers in a bounce: the bounced mail's Message-ID. */
static void
mb_walk_rfc822_headers(mb_walk_t *w, GMimePart *part)
{
    GByteArray    *bytes;
    GMimeStream   *stream;
    GMimeParser   *parser;
    GMimeMessage  *msg;
    const char    *id;

    bytes = mb_part_bytes(part);
    if (bytes->len) {
        stream = g_mime_stream_mem_new_with_buffer((char *) bytes->data,
                                                   bytes->len);
        parser = g_mime_parser_new_with_stream(stream);
        g_object_unref(stream);
        msg = g_mime_parser_construct_message(parser, mb_opts);
        g_object_unref(parser);

        if (msg) {
            id = g_mime_message_get_message_id(msg);
            if (id) {
                mb_add_ref(w->m, &w->m->dsn_refs, &w->m->ndsn_refs, id);
            }
            g_object_unref(msg);
        }
    }

    g_byte_array_unref(bytes);
}


/* The decoded content (base64/QP undone) of a leaf part; never NULL. */
static GByteArray *
mb_part_bytes(GMimePart *part)
{
    GMimeDataWrapper  *content;
    GMimeStream       *mem;
    GByteArray        *bytes;

    bytes = g_byte_array_new();
    content = g_mime_part_get_content(part);

    if (content) {
        mem = g_mime_stream_mem_new_with_byte_array(bytes);
        g_mime_stream_mem_set_owner((GMimeStreamMem *) mem, FALSE);
        g_mime_data_wrapper_write_to_stream(content, mem);
        g_object_unref(mem);
    }

    return bytes;
}


static void
mb_add_attachment(mb_walk_t *w, GMimeObject *obj, const unsigned char *data,
    size_t len, const char *name)
{
    mb_msg_t                 *m = w->m;
    mb_att_t                 *a;
    GMimeContentType         *ct;
    GMimeContentDisposition  *disp;
    const char               *cid;
    char                     *type;

    a = mb_alloc(m, sizeof(mb_att_t));
    if (a == NULL) {
        return;
    }

    ct = g_mime_object_get_content_type(obj);
    type = g_mime_content_type_get_mime_type(ct);
    a->content_type = mb_header_line(m, type);
    mb_lower(&a->content_type);
    g_free(type);

    cid = g_mime_object_get_content_id(obj);
    a->content_id = mb_msgid_norm(m, cid);

    disp = g_mime_object_get_content_disposition(obj);
    if ((disp && !g_mime_content_disposition_is_attachment(disp))
        || (disp == NULL && cid))
    {
        a->disposition = mb_strdup(m, "inline");
    } else {
        a->disposition = mb_strdup(m, "attachment");
    }

    a->name = mb_file_name(m, name, ct, w->atts->len + 1);
    a->data = mb_memdup(m, data, len);

    g_ptr_array_add(w->atts, a);
}


/*
 * A file name safe to offer for download: UTF-8, no directories, no
 * control characters, not hidden; invented from the type when missing.
 */
static tk_str_t
mb_file_name(mb_msg_t *m, const char *name, GMimeContentType *ct,
    unsigned k)
{
    tk_str_t     s;
    const char  *sub, *base;
    char         buf[128];
    size_t       i, j;

    if (name == NULL || *name == '\0') {
        sub = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
        if (ct && g_mime_content_type_is_type(ct, "message", "rfc822")) {
            sub = "eml";
        } else if (sub == NULL || strlen(sub) > 16 || strchr(sub, '.')
                   || strncasecmp(sub, "x-", 2) == 0
                   || strcasecmp(sub, "octet-stream") == 0)
        {
            sub = "bin";
        } else if (strcasecmp(sub, "plain") == 0) {
            sub = "txt";
        } else if (strcasecmp(sub, "jpeg") == 0) {
            sub = "jpg";
        }
        snprintf(buf, sizeof(buf), "part-%u.%s", k, sub);
        name = buf;
    }

    /* a path ("../../etc/x", "C:\\Users\\x"): its last part, as mail
     * clients do */
    base = strrchr(name, '/');
    if (base == NULL || (strrchr(name, '\\') && strrchr(name, '\\') > base)) {
        base = strrchr(name, '\\');
    }
    if (base && base[1]) {
        name = base + 1;
    }

    s = mb_utf8_clean(m, name);

    for (i = 0, j = 0; i < s.len && j < 200; i++) {
        unsigned char c = s.data[i];

        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') {
            c = '_';
        }
        if (j == 0 && (c == '.' || c == ' ')) {
            continue;
        }
        s.data[j++] = c;
    }

    /* don't cut a UTF-8 sequence in half */
    while (j > 0 && (s.data[j - 1] & 0xc0) == 0x80 && i < s.len) {
        j--;
    }
    if (j > 0 && s.data[j - 1] >= 0xc0 && i < s.len) {
        j--;
    }

    if (j == 0) {
        return mb_strdup(m, "attachment.bin");
    }

    s.data[j] = '\0';
    s.len = j;
    return s;
}


/* <meta charset="x"> or http-equiv content="...; charset=x" */
static const char *
mb_html_meta_charset(const unsigned char *p, size_t n, char *buf,
    size_t size)
{
    const unsigned char  *c, *end;
    size_t                i;

    if (n > 4096) {
        n = 4096;
    }
    end = p + n;

    for (c = p; c + 8 < end; c++) {
        if (strncasecmp((const char *) c, "charset=", 8) != 0) {
            continue;
        }
        c += 8;
        while (c < end && (*c == '"' || *c == '\'' || *c == ' ')) {
            c++;
        }
        for (i = 0; c < end && i < size - 1
                    && (isalnum(*c) || *c == '-' || *c == '_' || *c == ':');
             c++)
        {
            buf[i++] = (char) *c;
        }
        buf[i] = '\0';
        return i ? buf : NULL;
    }

    return NULL;
}


/* text/SUBTYPE that is meant to be read, not saved. */
static int
mb_is_body_text(GMimeObject *obj, const char *subtype)
{
    GMimeContentType         *ct;
    GMimeContentDisposition  *disp;

    if (!GMIME_IS_PART(obj)) {
        return 0;
    }

    ct = g_mime_object_get_content_type(obj);
    if (!g_mime_content_type_is_type(ct, "text", subtype)) {
        return 0;
    }

    disp = g_mime_object_get_content_disposition(obj);
    return disp == NULL || !g_mime_content_disposition_is_attachment(disp);
}


static void
mb_append_block(GString *s, const char *p, size_t n)
{
    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r')) {
        n--;
    }

    if (n == 0) {
        return;
    }

    if (s->len) {
        g_string_append(s, "\n\n");
    }

    g_string_append_len(s, p, (gssize) n);
}


/* A decoded header value: valid UTF-8 on one line. */
static tk_str_t
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


static void
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
static void
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


void
mb_msg_hash(mb_msg_t *m)
{
    GChecksum  *ck;

    ck = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(ck, m->raw, m->raw_len);
    snprintf(m->raw_hash, sizeof(m->raw_hash), "%s",
             g_checksum_get_string(ck));
    g_checksum_free(ck);
}
