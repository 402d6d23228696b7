/*
 * parse_body.c -- walks the MIME tree of a parsed mail: text/plain parts
 * become the body, HTML parts are sanitised, forwarded and bounced mails
 * are opened, everything else goes to parse_attach.c.
 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "mb_crypto.h"
#include "mb_parse.h"

#define MB_MAX_DEPTH        32          /* nested multiparts/messages */

static void mb_walk_alternative(mb_walk_t *w, GMimeMultipart *mp,
    int depth);
static void mb_walk_part(mb_walk_t *w, GMimePart *part);
static void mb_walk_message(mb_walk_t *w, GMimeMessagePart *mp, int depth);
static void mb_walk_rfc822_headers(mb_walk_t *w, GMimePart *part);
static GByteArray *mb_part_bytes(GMimePart *part);
static const char *mb_html_meta_charset(const unsigned char *p, size_t n,
    char *buf, size_t size);
static int mb_is_body_text(GMimeObject *obj, const char *subtype);


void
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
        mb_crypto_walk_signed(w, mp, depth);        /* crypto_in.c */
        return;
    }

    if (g_mime_content_type_is_type(ct, "multipart", "encrypted")) {
        mb_crypto_walk_encrypted(w, mp, depth);     /* crypto_in.c */
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
        mb_crypto_inline(w, part, &bytes);          /* inline PGP */
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

    /* sized: an empty part still has data != NULL (memmem, memcpy and
     * pointer arithmetic on it are defined) */
    bytes = g_byte_array_sized_new(64);
    content = g_mime_part_get_content(part);

    if (content) {
        mem = g_mime_stream_mem_new_with_byte_array(bytes);
        g_mime_stream_mem_set_owner((GMimeStreamMem *) mem, FALSE);
        g_mime_data_wrapper_write_to_stream(content, mem);
        g_object_unref(mem);
    }

    return bytes;
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


void
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
