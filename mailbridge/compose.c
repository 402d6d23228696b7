/*
 * compose.c -- one outbound mail (mb_out_t) -> the bytes smtp.c sends.
 *
 * gmime builds the message: From/To/Cc as stored (display names RFC 2047
 * encoded by gmime), Subject RFC 2047, Date, Message-ID, In-Reply-To,
 * References, a text/plain UTF-8 quoted-printable body, attachments as
 * multipart/mixed with RFC 2231 file names.  Bcc is only an envelope
 * recipient.  No User-Agent or X-Mailer: we don't advertise versions.
 *
 * Every header value is checked for CR, LF and NUL before gmime sees it:
 * a value with a line break could add headers (injection), so such a
 * mail fails for good with a sentence naming the field.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "mb_crypto.h"
#include "mb_outbox.h"

#define MB_MAX_RCPTS  200

static int mb_compose_check(const char *field, const tk_str_t *v, char *err,
    size_t errlen);
static char *mb_cstr(const tk_str_t *s);
static int mb_compose_addrs(const char *field, const tk_str_t *v,
    InternetAddressList **list, mb_mail_t *mail, char *err, size_t errlen);
static int mb_compose_collect(InternetAddressList *l, const char *field,
    mb_mail_t *mail, char *err, size_t errlen);
static int mb_valid_addr(const char *a);
static void mb_compose_ids(GMimeObject *obj, const char *header,
    const tk_str_t *ids);
static GMimeObject *mb_compose_body(const mb_out_t *o);
static GMimeObject *mb_compose_att(const mb_att_t *att);
static char *mb_safe_filename(const tk_str_t *name);
static void mb_utf8_param(GMimeParamList *list, const char *name);
static int mb_compose_protect(GMimeMessage *msg, const mb_out_t *o,
    const mb_mail_t *mail, char *err, size_t errlen);
static int mb_compose_write(GMimeMessage *msg, mb_mail_t *mail);


int
mb_compose(const mb_out_t *o, const char *envelope_from, mb_mail_t *mail,
    char *err, size_t errlen)
{
    static const struct { const char *name; size_t off; } fields[] = {
        { "From", offsetof(mb_out_t, from) },
        { "To", offsetof(mb_out_t, to) },
        { "Cc", offsetof(mb_out_t, cc) },
        { "Bcc", offsetof(mb_out_t, bcc) },
        { "Subject", offsetof(mb_out_t, subject) },
        { "Message-ID", offsetof(mb_out_t, message_id) },
        { "In-Reply-To", offsetof(mb_out_t, in_reply_to) },
        { "References", offsetof(mb_out_t, references) },
        { "X-Ticket-Group", offsetof(mb_out_t, x_group) },
        { "X-Ticket-Event", offsetof(mb_out_t, x_event) },
    };

    GMimeMessage         *msg = NULL;
    GMimeObject          *top;
    InternetAddressList  *from = NULL, *to = NULL, *cc = NULL, *bcc = NULL;
    GDateTime            *date;
    char                 *s;
    size_t                i;
    int                   rc;

    memset(mail, 0, sizeof(*mail));
    *err = '\0';

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        rc = mb_compose_check(fields[i].name,
                 (const tk_str_t *) ((const char *) o + fields[i].off),
                 err, errlen);
        if (rc != MB_SEND_OK) {
            return rc;
        }
    }

    if (o->message_id.len == 0) {
        snprintf(err, errlen, "the article has no Message-ID");
        return MB_SEND_PERM;
    }

    /* From: exactly one mailbox; it is the envelope sender by default */
    rc = mb_compose_addrs("From", &o->from, &from, NULL, err, errlen);
    if (rc != MB_SEND_OK) {
        goto done;
    }

    if (internet_address_list_length(from) != 1
        || !INTERNET_ADDRESS_IS_MAILBOX(internet_address_list_get_address(
               from, 0)))
    {
        snprintf(err, errlen, "From must be one address: \"%.*s\"",
                 (int) o->from.len, o->from.data);
        rc = MB_SEND_PERM;
        goto done;
    }

    mail->sender = strdup(envelope_from && *envelope_from ? envelope_from
        : internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(
              internet_address_list_get_address(from, 0))));

    if ((rc = mb_compose_addrs("To", &o->to, &to, mail, err, errlen))
        || (rc = mb_compose_addrs("Cc", &o->cc, &cc, mail, err, errlen))
        || (rc = mb_compose_addrs("Bcc", &o->bcc, &bcc, mail, err, errlen)))
    {
        goto done;
    }

    if (mail->nrcpts == 0) {
        snprintf(err, errlen, "no recipient (To, Cc and Bcc are empty)");
        rc = MB_SEND_PERM;
        goto done;
    }

    msg = g_mime_message_new(TRUE);

    internet_address_list_append(
        g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_FROM), from);
    /* an empty list would still write an empty header */
    if (internet_address_list_length(to)) {
        internet_address_list_append(
            g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO), to);
    }
    if (internet_address_list_length(cc)) {
        internet_address_list_append(
            g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC), cc);
    }

    s = mb_cstr(&o->subject);
    g_mime_message_set_subject(msg, s, "utf-8");
    free(s);

    date = g_date_time_new_from_unix_local(o->date);
    g_mime_message_set_date(msg, date);
    g_date_time_unref(date);

    s = mb_cstr(&o->message_id);
    g_mime_message_set_message_id(msg, s);
    free(s);

    mb_compose_ids(GMIME_OBJECT(msg), "In-Reply-To", &o->in_reply_to);
    mb_compose_ids(GMIME_OBJECT(msg), "References", &o->references);

    if (o->auto_submitted) {
        g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted",
                                 o->auto_submitted == 2 ? "auto-replied"
                                 : "auto-generated", NULL);
    }

    /* notifications: for the agents' mail filters */
    if (o->x_group.len) {
        s = mb_cstr(&o->x_group);
        g_mime_object_set_header(GMIME_OBJECT(msg), "X-Ticket-Group", s,
                                 "utf-8");
        free(s);
    }
    if (o->x_event.len) {
        s = mb_cstr(&o->x_event);
        g_mime_object_set_header(GMIME_OBJECT(msg), "X-Ticket-Event", s,
                                 NULL);
        free(s);
    }

    top = mb_compose_body(o);

    if (o->natts) {
        GMimeMultipart  *mixed = g_mime_multipart_new_with_subtype("mixed");

        g_mime_multipart_add(mixed, top);
        g_object_unref(top);

        for (i = 0; i < o->natts; i++) {
            GMimeObject  *att = mb_compose_att(&o->atts[i]);

            g_mime_multipart_add(mixed, att);
            g_object_unref(att);
        }

        top = GMIME_OBJECT(mixed);
    }

    g_mime_message_set_mime_part(msg, top);
    g_object_unref(top);

    rc = mb_compose_protect(msg, o, mail, err, errlen);
    if (rc != MB_SEND_OK) {
        goto done;
    }

    if (mb_compose_write(msg, mail) != 0) {
        snprintf(err, errlen, "out of memory writing the message");
        rc = MB_SEND_TEMP;
    }

done:

    if (msg) {
        g_object_unref(msg);
    }
    if (from) {
        g_object_unref(from);
    }
    if (to) {
        g_object_unref(to);
    }
    if (cc) {
        g_object_unref(cc);
    }
    if (bcc) {
        g_object_unref(bcc);
    }
    if (rc != MB_SEND_OK) {
        mb_mail_free(mail);
    }

    return rc;
}


void
mb_mail_free(mb_mail_t *mail)
{
    size_t  i;

    for (i = 0; i < mail->nrcpts; i++) {
        free(mail->rcpts[i]);
    }
    free(mail->rcpts);
    free(mail->sender);
    g_free(mail->data);
    memset(mail, 0, sizeof(*mail));
}


/* A line break in a header value would start a new header: refuse it. */
static int
mb_compose_check(const char *field, const tk_str_t *v, char *err,
    size_t errlen)
{
    size_t  i;

    for (i = 0; i < v->len; i++) {
        if (v->data[i] == '\r' || v->data[i] == '\n' || v->data[i] == '\0') {
            snprintf(err, errlen, "%s contains a line break or NUL byte "
                     "(header injection refused); nothing was sent", field);
            return MB_SEND_PERM;
        }
    }

    return MB_SEND_OK;
}


static char *
mb_cstr(const tk_str_t *s)
{
    char  *p;

    p = malloc(s->len + 1);
    if (p == NULL) {
        abort();
    }
    if (s->len) {
        memcpy(p, s->data, s->len);
    }
    p[s->len] = '\0';
    return p;
}


/* Parse an address list; every mailbox must be a plausible address. */
static int
mb_compose_addrs(const char *field, const tk_str_t *v,
    InternetAddressList **list, mb_mail_t *mail, char *err, size_t errlen)
{
    char  *s;

    s = mb_cstr(v);
    *list = v->len ? internet_address_list_parse(NULL, s) : NULL;

    if (*list == NULL) {
        *list = internet_address_list_new();
        if (v->len) {
            snprintf(err, errlen, "%s is not an address list: \"%s\"",
                     field, s);
            free(s);
            return MB_SEND_PERM;
        }
    }

    free(s);
    return mb_compose_collect(*list, field, mail, err, errlen);
}


/* Check each mailbox (groups flattened); add it to the envelope. */
static int
mb_compose_collect(InternetAddressList *l, const char *field,
    mb_mail_t *mail, char *err, size_t errlen)
{
    InternetAddress  *ia;
    const char       *addr;
    char            **r;
    int               i, n, rc;
    size_t            k;

    n = internet_address_list_length(l);

    for (i = 0; i < n; i++) {
        ia = internet_address_list_get_address(l, i);

        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            rc = mb_compose_collect(internet_address_group_get_members(
                     INTERNET_ADDRESS_GROUP(ia)), field, mail, err, errlen);
            if (rc != MB_SEND_OK) {
                return rc;
            }
            continue;
        }

        addr = internet_address_mailbox_get_addr(
                   INTERNET_ADDRESS_MAILBOX(ia));

        if (!mb_valid_addr(addr)) {
            snprintf(err, errlen, "invalid address in %s: \"%s\"", field,
                     addr ? addr : "");
            return MB_SEND_PERM;
        }

        if (mail == NULL) {
            continue;
        }

        for (k = 0; k < mail->nrcpts; k++) {
            if (strcasecmp(mail->rcpts[k], addr) == 0) {
                break;
            }
        }
        if (k < mail->nrcpts) {
            continue;               /* one RCPT TO per address */
        }

        if (mail->nrcpts >= MB_MAX_RCPTS) {
            snprintf(err, errlen, "more than %d recipients", MB_MAX_RCPTS);
            return MB_SEND_PERM;
        }

        r = realloc(mail->rcpts, (mail->nrcpts + 1) * sizeof(char *));
        if (r == NULL) {
            abort();
        }
        mail->rcpts = r;
        mail->rcpts[mail->nrcpts++] = strdup(addr);
    }

    return MB_SEND_OK;
}


/* local@domain, printable ASCII or UTF-8, no space, no <>, no quotes. */
static int
mb_valid_addr(const char *a)
{
    const char  *at;
    size_t       i;

    if (a == NULL || *a == '\0' || strlen(a) > 254) {
        return 0;
    }

    at = strrchr(a, '@');
    if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '.') == NULL)
    {
        return 0;
    }

    for (i = 0; a[i]; i++) {
        unsigned char  c = (unsigned char) a[i];

        if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"'
            || c == ',' || c == ';' || c == '\\')
        {
            return 0;
        }
    }

    return 1;
}


/* "a@x b@y" -> "<a@x> <b@y>" (ids stored without brackets). */
static void
mb_compose_ids(GMimeObject *obj, const char *header, const tk_str_t *ids)
{
    GString  *v;
    size_t    i, start;

    v = g_string_new(NULL);

    for (i = 0; i <= ids->len; i++) {
        if (i < ids->len && !isspace(ids->data[i])) {
            continue;
        }
        for (start = i; start > 0 && !isspace(ids->data[start - 1]); start--) {
            /* back to the start of the word */
        }
        if (start < i) {
            size_t  s = start, e = i;

            if (ids->data[s] == '<') {
                s++;
            }
            if (e > s && ids->data[e - 1] == '>') {
                e--;
            }
            if (e > s) {
                g_string_append_printf(v, "%s<%.*s>", v->len ? " " : "",
                                       (int) (e - s), ids->data + s);
            }
        }
    }

    if (v->len) {
        g_mime_object_set_header(obj, header, v->str, NULL);
    }
    g_string_free(v, TRUE);
}


static GMimeObject *
mb_compose_body(const mb_out_t *o)
{
    GMimeTextPart     *part;
    GMimeStream       *stream;
    GMimeDataWrapper  *content;

    /* the bytes as stored: g_mime_text_part_set_text() would convert
       them to the "best" charset (latin1), we promise UTF-8 */
    part = g_mime_text_part_new_with_subtype("plain");
    stream = g_mime_stream_mem_new_with_buffer((const char *) o->body.data,
                                               o->body.len);
    content = g_mime_data_wrapper_new_with_stream(stream,
                  GMIME_CONTENT_ENCODING_DEFAULT);
    g_object_unref(stream);
    g_mime_part_set_content(GMIME_PART(part), content);
    g_object_unref(content);
    g_mime_text_part_set_charset(part, "utf-8");
    g_mime_part_set_content_encoding(GMIME_PART(part),
                                     GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    return GMIME_OBJECT(part);
}


static GMimeObject *
mb_compose_att(const mb_att_t *att)
{
    GMimePart         *part;
    GMimeContentType  *ct = NULL;
    GMimeStream       *stream;
    GMimeDataWrapper  *content;
    char              *s, *name;

    /* only type/subtype of the stored value: no parameters, no breaks */
    s = mb_cstr(&att->content_type);
    s[strcspn(s, "; \t\r\n")] = '\0';
    if (strchr(s, '/')) {
        ct = g_mime_content_type_parse(NULL, s);
    }
    free(s);

    if (ct) {
        part = g_mime_part_new_with_type(g_mime_content_type_get_media_type(ct),
                   g_mime_content_type_get_media_subtype(ct));
        g_object_unref(ct);
    } else {
        part = g_mime_part_new_with_type("application", "octet-stream");
    }

    stream = g_mime_stream_mem_new_with_buffer((const char *) att->data.data,
                                               att->data.len);
    content = g_mime_data_wrapper_new_with_stream(stream,
                  GMIME_CONTENT_ENCODING_DEFAULT);
    g_object_unref(stream);
    g_mime_part_set_content(part, content);
    g_object_unref(content);
    g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);

    g_mime_object_set_disposition(GMIME_OBJECT(part),
        tk_str_eq_cstr(&att->disposition, "inline") ? "inline"
                                                    : "attachment");

    /* gmime encodes a non-ASCII name as RFC 2231 */
    name = mb_safe_filename(&att->name);
    g_mime_part_set_filename(part, name);
    free(name);
    mb_utf8_param(g_mime_content_disposition_get_parameters(
        g_mime_object_get_content_disposition(GMIME_OBJECT(part))),
        "filename");
    mb_utf8_param(g_mime_content_type_get_parameters(
        g_mime_object_get_content_type(GMIME_OBJECT(part))), "name");

    if (att->content_id.len && mb_compose_check("Content-ID",
            &att->content_id, (char[1]) {0}, 0) == MB_SEND_OK)
    {
        s = mb_cstr(&att->content_id);
        g_mime_object_set_content_id(GMIME_OBJECT(part), s);
        free(s);
    }

    return GMIME_OBJECT(part);
}


/* A non-ASCII parameter in UTF-8, not gmime's "best" charset. */
static void
mb_utf8_param(GMimeParamList *list, const char *name)
{
    GMimeParam  *p;

    p = list ? g_mime_param_list_get_parameter(list, name) : NULL;
    if (p) {
        g_mime_param_set_charset(p, "utf-8");
    }
}


/* No directories, no control characters, never empty. */
static char *
mb_safe_filename(const tk_str_t *name)
{
    char    *s, *base, *p;
    size_t   n;

    s = mb_cstr(name);

    base = s;
    for (p = s; *p; p++) {
        if (*p == '/' || *p == '\\') {
            base = p + 1;
        }
    }

    for (p = base; *p; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f || *p == '"') {
            *p = '_';
        }
    }

    while (*base == '.' || *base == ' ') {
        base++;                     /* no hidden files, no ".." */
    }

    n = strlen(base);
    memmove(s, base, n + 1);

    if (n == 0) {
        free(s);
        s = strdup("attachment");
    }

    return s;
}


/*
 * The crypto stage.  Without gpgme support an article that asks for
 * encryption or a signature waits (temporary): it must never leave in
 * plain text by mistake.
 */
static int
mb_compose_protect(GMimeMessage *msg, const mb_out_t *o,
    const mb_mail_t *mail, char *err, size_t errlen)
{
    int  encrypt, sign;

    encrypt = o->crypt.len && memmem(o->crypt.data, o->crypt.len,
                                     "encrypt", 7) != NULL;
    sign = o->crypt.len && memmem(o->crypt.data, o->crypt.len,
                                  "sign", 4) != NULL;

    if (!encrypt && !sign) {
        return MB_SEND_OK;
    }

#ifdef MB_HAVE_CRYPTO
    {
        char  *fpr;
        int    rc;

        if (sign && o->sign_fpr.len == 0) {
            snprintf(err, errlen, "signing asked for, but the group has no "
                     "signing key (pgp_sign)");
            return MB_SEND_PERM;
        }

        fpr = sign ? mb_cstr(&o->sign_fpr) : NULL;
        rc = mb_crypto_protect(msg, (const char *const *) mail->rcpts,
                               mail->nrcpts, fpr, encrypt, err, errlen);
        free(fpr);

        if (rc == 0) {
            return MB_SEND_OK;
        }
        return rc == MB_CRYPTO_PERM ? MB_SEND_PERM : MB_SEND_TEMP;
    }
#else
    snprintf(err, errlen, "PGP not available (mailbridge built without "
             "crypto); the mail waits and is not sent unencrypted");
    return MB_SEND_TEMP;
#endif
}


/* The message as bytes with CRLF line ends, as SMTP wants them. */
static int
mb_compose_write(GMimeMessage *msg, mb_mail_t *mail)
{
    GMimeFormatOptions  *fo;
    GMimeStream         *mem;
    GByteArray          *ba;

    fo = g_mime_format_options_clone(NULL);
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);

    mem = g_mime_stream_mem_new();
    if (g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, mem) < 0) {
        g_object_unref(mem);
        g_mime_format_options_free(fo);
        return -1;
    }
    g_mime_format_options_free(fo);

    /* take the bytes from the stream without copying them */
    ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    g_object_unref(mem);

    mail->len = ba->len;
    mail->data = (char *) g_byte_array_free(ba, FALSE);
    return 0;
}
