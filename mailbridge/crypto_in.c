/*
 * crypto_in.c -- inbound OpenPGP, called from the MIME walk
 * (parse_body.c): PGP/MIME (RFC 3156) through gmime's gpgme-backed
 * contexts, inline PGP in text parts through gpgme.  The decrypted
 * entity is walked like any other part, so its text becomes the body
 * (and is indexed, see docs/security.md) and its files attachments.
 *
 * A mail we cannot decrypt is stored all the same: the raw mail is kept
 * as always, the body is a notice, the encrypted part an attachment, the
 * article flagged decrypt-failed.  Never a quarantine, never a tempfail:
 * a missing key does not appear by retrying.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mb_crypto.h"
#include "mb_parse.h"

#define MB_ARMOUR_MSG       "-----BEGIN PGP MESSAGE-----"
#define MB_ARMOUR_MSG_END   "-----END PGP MESSAGE-----"
#define MB_ARMOUR_SIGNED    "-----BEGIN PGP SIGNED MESSAGE-----"
#define MB_ARMOUR_SIG_END   "-----END PGP SIGNATURE-----"

/* decrypted data beyond max_size is refused (compression bombs) */
#define MB_CRYPTO_MAX_PLAIN mb_crypto_max_plain()

typedef struct {
    GByteArray  *b;
    int          over;
} mb_sink_t;

static ssize_t mb_sink_write(void *handle, const void *buf, size_t n);

static struct gpgme_data_cbs  mb_sink_cbs = { NULL, mb_sink_write, NULL,
                                              NULL };

static const char  mb_notice[] =
    "[Diese Nachricht ist verschl\xc3\xbcsselt und konnte nicht "
    "entschl\xc3\xbcsselt werden: %s. Die Mail ist unver\xc3\xa4ndert "
    "gespeichert (Rohdaten / \"raw\"); der verschl\xc3\xbcsselte Teil "
    "h\xc3\xa4ngt an.]\n\n"
    "[This message is encrypted and could not be decrypted: %s. The mail "
    "is stored unchanged (raw); the encrypted part is attached.]";

static void mb_crypto_gmime_sigs(mb_walk_t *w, GMimeSignatureList *sigs);
static void mb_crypto_gpgme_sigs(mb_walk_t *w, gpgme_verify_result_t r);
static void mb_crypto_set_sig(mb_walk_t *w, const char *status,
    const char *id);
static void mb_crypto_notice(mb_walk_t *w, const char *why);
static const char *mb_crypto_uid_for(gpgme_key_t key, mb_msg_t *m);
static int mb_crypto_inline_run(mb_walk_t *w, const unsigned char *p,
    size_t n, int decrypt, GByteArray *plain, char *why, size_t whylen);
static const unsigned char *mb_find(const unsigned char *p, size_t n,
    const char *s);


void
mb_crypto_walk_encrypted(mb_walk_t *w, GMimeMultipart *mp, int depth)
{
    GMimeObject       *part, *obj = NULL;
    GMimeDataWrapper  *dw;
    GMimeStream       *mem;
    GMimeParser       *parser;
    GByteArray        *cipher, *plain;
    char               why[256];
    int                i, n;

    w->m->flags |= MB_F_ENCRYPTED;
    snprintf(why, sizeof(why), "PGP is not set up on this server");
    n = g_mime_multipart_get_count(mp);
    part = n >= 2 ? g_mime_multipart_get_part(mp, 1) : NULL;

    /* gpgme, not gmime's decrypt: the plain text is capped (a small
     * compressed message must not inflate into all of our memory) */
    if (mb_crypto_enabled() && part && GMIME_IS_PART(part)) {
        cipher = g_byte_array_new();
        dw = g_mime_part_get_content((GMimePart *) part);
        if (dw) {
            mem = g_mime_stream_mem_new_with_byte_array(cipher);
            g_mime_stream_mem_set_owner((GMimeStreamMem *) mem, FALSE);
            g_mime_data_wrapper_write_to_stream(dw, mem);
            g_object_unref(mem);
        }

        plain = g_byte_array_new();
        if (mb_crypto_inline_run(w, cipher->data, cipher->len, 1, plain, why,
                                 sizeof(why)) == 0)
        {
            mem = g_mime_stream_mem_new_with_buffer((const char *) plain->data,
                                                    plain->len);
            parser = g_mime_parser_new_with_stream(mem);
            g_object_unref(mem);
            obj = g_mime_parser_construct_part(parser, mb_opts);
            g_object_unref(parser);
            if (obj == NULL) {
                snprintf(why, sizeof(why), "the decrypted data is not MIME");
            }
        }
        g_byte_array_unref(plain);
        g_byte_array_unref(cipher);
    }

    if (obj) {
        mb_walk(w, obj, depth + 1);
        g_object_unref(obj);
        return;
    }

    mb_info("pgp: cannot decrypt: %s", why);
    mb_crypto_notice(w, why);

    /* the encrypted part as a file: nothing of the mail is hidden */
    for (i = 1; i < n; i++) {
        mb_walk(w, g_mime_multipart_get_part(mp, i), depth + 1);
    }
}


void
mb_crypto_walk_signed(mb_walk_t *w, GMimeMultipart *mp, int depth)
{
    GMimeSignatureList  *sigs;
    GError              *err = NULL;

    w->m->flags |= MB_F_SIGNED;

    if (mb_crypto_enabled() && GMIME_IS_MULTIPART_SIGNED(mp)
        && g_mime_multipart_get_count(mp) == 2)
    {
        sigs = g_mime_multipart_signed_verify((GMimeMultipartSigned *) mp,
                                              GMIME_VERIFY_NONE, &err);
        if (sigs) {
            mb_crypto_gmime_sigs(w, sigs);
            g_object_unref(sigs);
        } else {
            mb_info("pgp: cannot verify: %s",
                    err ? err->message : "unknown error");
            mb_crypto_set_sig(w, "bad", "-");
        }
        g_clear_error(&err);
    }

    /* the content; the signature stays in the raw mail */
    if (g_mime_multipart_get_count(mp) > 0) {
        mb_walk(w, g_mime_multipart_get_part(mp, 0), depth + 1);
    }
}


void
mb_crypto_inline(mb_walk_t *w, GMimePart *part, GByteArray **data)
{
    const unsigned char  *p = (*data)->data, *b, *e;
    size_t                n = (*data)->len, elen;
    GByteArray           *out, *plain;
    char                  why[256];
    int                   decrypt;

    if ((b = mb_find(p, n, MB_ARMOUR_MSG)) != NULL) {
        decrypt = 1;
        e = mb_find(b, (size_t) (p + n - b), MB_ARMOUR_MSG_END);
        elen = sizeof(MB_ARMOUR_MSG_END) - 1;
        w->m->flags |= MB_F_ENCRYPTED;

    } else if ((b = mb_find(p, n, MB_ARMOUR_SIGNED)) != NULL) {
        decrypt = 0;
        e = mb_find(b, (size_t) (p + n - b), MB_ARMOUR_SIG_END);
        elen = sizeof(MB_ARMOUR_SIG_END) - 1;
        w->m->flags |= MB_F_SIGNED;

    } else {
        return;
    }

    if (e == NULL) {
        return;                 /* a quoted fragment, not a message */
    }
    e += elen;

    if (!mb_crypto_enabled()) {
        if (decrypt) {
            mb_crypto_notice(w, "PGP is not set up on this server");
        }
        return;
    }

    plain = g_byte_array_new();
    if (mb_crypto_inline_run(w, b, (size_t) (e - b), decrypt, plain, why,
                             sizeof(why)) != 0)
    {
        g_byte_array_unref(plain);
        if (decrypt) {
            mb_info("pgp: cannot decrypt inline PGP: %s", why);
            mb_crypto_notice(w, why);
        } else {
            mb_crypto_set_sig(w, "bad", "-");
        }
        return;                 /* the armoured text stays the body */
    }

    /* what the sender wrote around the block stays where it was */
    out = g_byte_array_sized_new((guint) (n + plain->len));
    g_byte_array_append(out, p, (guint) (b - p));
    g_byte_array_append(out, plain->data, plain->len);
    g_byte_array_append(out, e, (guint) (p + n - e));
    g_byte_array_unref(plain);
    g_byte_array_unref(*data);
    *data = out;
}


/* gpgme on one armoured block: plain text out, signatures noted. */
static int
mb_crypto_inline_run(mb_walk_t *w, const unsigned char *p, size_t n,
    int decrypt, GByteArray *plain, char *why, size_t whylen)
{
    gpgme_ctx_t            ctx = mb_crypto_gpgme();
    gpgme_data_t           in = NULL, out = NULL;
    gpgme_error_t          e;
    gpgme_verify_result_t  vr;
    mb_sink_t              sink;

    sink.b = plain;
    sink.over = 0;

    e = gpgme_data_new_from_mem(&in, (const char *) p, n, 0);
    if (e == 0) {
        e = gpgme_data_new_from_cbs(&out, &mb_sink_cbs, &sink);
    }

    if (e == 0) {
        e = decrypt ? gpgme_op_decrypt_verify(ctx, in, out)
                    : gpgme_op_verify(ctx, in, NULL, out);
    }

    gpgme_data_release(in);
    gpgme_data_release(out);

    if (e || sink.over) {
        if (sink.over) {
            snprintf(why, whylen, "the decrypted text is larger than "
                     "max_size (%zu MB)", MB_CRYPTO_MAX_PLAIN >> 20);
        } else {
            snprintf(why, whylen, "%s", gpgme_strerror(e));
        }
        return -1;
    }

    vr = gpgme_op_verify_result(ctx);
    if (vr && vr->signatures) {
        w->m->flags |= MB_F_SIGNED;
        mb_crypto_gpgme_sigs(w, vr);
    }

    return 0;
}


/* ---- signature status -------------------------------------------------- */

static void
mb_crypto_gmime_sigs(mb_walk_t *w, GMimeSignatureList *sigs)
{
    GMimeSignature        *sig;
    GMimeCertificate      *cert;
    GMimeSignatureStatus   st;
    const char            *status, *id = NULL;

    if (g_mime_signature_list_length(sigs) < 1) {
        mb_crypto_set_sig(w, "bad", "-");
        return;
    }

    sig = g_mime_signature_list_get_signature(sigs, 0);
    st = g_mime_signature_get_status(sig);
    cert = g_mime_signature_get_certificate(sig);

    if (cert) {
        id = g_mime_certificate_get_fingerprint(cert);
        if (id == NULL || *id == '\0') {
            id = g_mime_certificate_get_key_id(cert);
        }
    }

    if (st & GMIME_SIGNATURE_STATUS_KEY_MISSING) {
        status = "unknown-key";
    } else if (st & GMIME_SIGNATURE_STATUS_RED) {
        status = "bad";
    } else if (st & GMIME_SIGNATURE_STATUS_KEY_REVOKED) {
        status = "revoked-key";
    } else if (st & GMIME_SIGNATURE_STATUS_KEY_EXPIRED) {
        status = "expired-key";
    } else if (st & GMIME_SIGNATURE_STATUS_SYS_ERROR) {
        status = "bad";
    } else {
        status = "valid";
    }

    mb_crypto_set_sig(w, status, id);
}


static void
mb_crypto_gpgme_sigs(mb_walk_t *w, gpgme_verify_result_t r)
{
    gpgme_signature_t  s = r->signatures;
    const char        *status;

    if (gpgme_err_code(s->status) == GPG_ERR_NO_PUBKEY
        || (s->summary & GPGME_SIGSUM_KEY_MISSING))
    {
        status = "unknown-key";
    } else if (gpgme_err_code(s->status) == GPG_ERR_BAD_SIGNATURE
               || (s->summary & GPGME_SIGSUM_RED))
    {
        status = "bad";
    } else if (gpgme_err_code(s->status) == GPG_ERR_CERT_REVOKED
               || (s->summary & GPGME_SIGSUM_KEY_REVOKED))
    {
        status = "revoked-key";
    } else if (gpgme_err_code(s->status) == GPG_ERR_KEY_EXPIRED
               || (s->summary & GPGME_SIGSUM_KEY_EXPIRED))
    {
        status = "expired-key";
    } else if (s->status) {
        status = "bad";
    } else {
        status = "valid";
    }

    mb_crypto_set_sig(w, status, s->fpr);
}


/* "STATUS ID [UID]": the first signature of a mail counts. */
static void
mb_crypto_set_sig(mb_walk_t *w, const char *status, const char *id)
{
    gpgme_key_t  *keys;
    size_t        n, i, len;
    const char   *uid = NULL;
    char          err[128], idbuf[128], *buf;

    if (w->m->pgp_sig.len) {
        return;
    }

    /* a copy: listing keys below ends gpgme's verify result */
    snprintf(idbuf, sizeof(idbuf), "%s", id && *id ? id : "-");
    id = idbuf;

    len = strlen(id);
    if (len >= 16 && mb_crypto_keys(&keys, &n, err, sizeof(err)) == 0) {
        for (i = 0; i < n && uid == NULL; i++) {
            if (keys[i]->fpr && strlen(keys[i]->fpr) >= len
                && strcasecmp(keys[i]->fpr + strlen(keys[i]->fpr) - len, id)
                   == 0 && keys[i]->uids)
            {
                uid = mb_crypto_uid_for(keys[i], w->m);
                if (strlen(keys[i]->fpr) > len) {
                    id = keys[i]->fpr;      /* the full fingerprint */
                }
            }
        }
    }

    len = strlen(status) + strlen(id) + (uid ? strlen(uid) : 0) + 3;
    buf = mb_alloc(w->m, len);
    if (buf == NULL) {
        return;
    }
    snprintf(buf, len, "%s %s%s%s", status, id, uid ? " " : "",
             uid ? uid : "");
    /* a user id is whatever the key's owner typed: one clean line */
    for (i = 0; buf[i]; i++) {
        if ((unsigned char) buf[i] < 0x20) {
            buf[i] = ' ';
        }
    }
    w->m->pgp_sig = mb_utf8_clean(w->m, buf);
}


/*
 * The user id shown with a signature: the one with the mail's From
 * address if the key has it, else the first -- so a valid signature by
 * somebody else's key shows somebody else's address (the page warns).
 */
static const char *
mb_crypto_uid_for(gpgme_key_t key, mb_msg_t *m)
{
    gpgme_user_id_t  u;

    for (u = key->uids; u && m->from_addr.len; u = u->next) {
        if (u->email && !u->revoked
            && strcasecmp(u->email, (const char *) m->from_addr.data) == 0)
        {
            return u->uid;
        }
    }

    return key->uids->uid;
}


static void
mb_crypto_notice(mb_walk_t *w, const char *why)
{
    char  buf[2048];
    int   n;

    w->m->flags |= MB_F_DECRYPT_FAILED;
    n = snprintf(buf, sizeof(buf), mb_notice, why, why);
    if (n > 0) {
        mb_append_block(w->text, buf,
                        (size_t) n < sizeof(buf) ? (size_t) n
                                                 : sizeof(buf) - 1);
    }
}


/* gpgme's output into a GByteArray, at most MB_CRYPTO_MAX_PLAIN bytes */
static ssize_t
mb_sink_write(void *handle, const void *buf, size_t n)
{
    mb_sink_t  *s = handle;

    if (s->b->len + n > MB_CRYPTO_MAX_PLAIN) {
        s->over = 1;
        errno = ENOSPC;
        return -1;
    }

    g_byte_array_append(s->b, buf, (guint) n);
    return (ssize_t) n;
}


static const unsigned char *
mb_find(const unsigned char *p, size_t n, const char *s)
{
    /* an empty part's GByteArray has data == NULL: memmem's nonnull */
    if (n == 0) {
        return NULL;
    }

    return memmem(p, n, s, strlen(s));
}
