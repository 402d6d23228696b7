/*
 * parse.c -- raw RFC 5322 bytes to a plain mb_msg_t with gmime 3.
 * Everything comes out as UTF-8: headers decoded (RFC 2047/2231, 8-bit
 * headers through fallback charsets), bodies converted by charset.c.
 * text/plain is the body; HTML-only mail is sanitised (sanitize.c) and a
 * text version derived; every other part is an attachment, byte-exact.
 * A mail is rejected (quarantined by the caller) only when gmime cannot
 * find a message in it at all -- broken MIME is repaired, not refused.
 *
 * This file is the driver; the stages of a parse are parse_header.c
 * (addresses, references, recipients), parse_body.c (the MIME tree) and
 * parse_attach.c (attachments), sharing mb_parse.h.
 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "mb_parse.h"

#define MB_HEADERS_MAX      (1024 * 1024)

GMimeParserOptions  *mb_opts;

static GMimeMessage *mb_parse_bytes(const unsigned char *p, size_t n);
static size_t mb_strip_from_line(mb_msg_t *m);
static void mb_parse_oversized(mb_msg_t *m, size_t max_size);


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
            /* raw bytes of no declared charset: made UTF-8 like a part */
            int      guess;
            tk_str_t t = mb_to_utf8(m, NULL, (const unsigned char *) s,
                                    strlen(s), &guess);
            mb_append_block(w.text, (const char *) t.data, t.len);
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
