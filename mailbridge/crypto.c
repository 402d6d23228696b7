/*
 * crypto.c -- OpenPGP setup and outbound protection.
 *
 * One keyring per mailbridge (config "gnupg_home", 0700, owned by the
 * mailbridge user).  gpgme spawns gpg for every operation, so the key
 * listing is cached and listed again only when the keyring files change
 * (an import by the keys role or by gpg on the server): a mail to three
 * recipients costs one gpg run (encrypt+sign), not four key look-ups.
 * Whether a key may be used is decided again at every send (expiry
 * against now, revocation from the listing).
 */

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "mb_crypto.h"

typedef struct {
    int            on;
    size_t         max_plain;     /* cfg->max_size                    */
    char          *home;
    gpgme_ctx_t    ctx;
    gpgme_key_t   *keys;
    size_t         nkeys;
    int            listed;
    struct timespec  stamp[2];    /* mtimes of pubring.kbx, trustdb   */
    off_t          size[2];
} mb_crypto_t;

static mb_crypto_t  mb_crypto;

static int mb_crypto_home_ready(const mb_config_t *cfg);
static void mb_crypto_stamp(struct timespec *ts, off_t *size);
static void mb_crypto_keys_free(void);
static gpgme_key_t mb_crypto_secret_key(const char *fpr);
static int mb_crypto_error(gpgme_error_t e, char *err, size_t errlen,
    const char *what);
static GMimeObject *mb_crypto_encrypted_part(const char *armour,
    size_t len);
static int mb_crypto_from(GMimeMessage *msg, char *buf, size_t size);


int
mb_crypto_init(const mb_config_t *cfg)
{
    gpgme_error_t  e;

    if (mb_crypto.on) {
        return 0;
    }

    switch (mb_crypto_home_ready(cfg)) {
    case 0:
        break;
    case 1:
        mb_debug("pgp: %s does not exist; PGP is off", cfg->gnupg_home);
        return 0;
    default:
        return EX_CONFIG;
    }

    gpgme_check_version(NULL);
    gpgme_set_locale(NULL, LC_CTYPE, setlocale(LC_CTYPE, NULL));

    e = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
    if (e == 0) {
        /* global: gmime's gpg contexts (crypto_in.c) use it as well */
        e = gpgme_set_engine_info(GPGME_PROTOCOL_OpenPGP, NULL,
                                  cfg->gnupg_home);
    }
    if (e == 0) {
        e = gpgme_new(&mb_crypto.ctx);
    }
    if (e) {
        mb_err("pgp: gpgme for %s: %s", cfg->gnupg_home, gpgme_strerror(e));
        return EX_CONFIG;
    }

    /* and for gpg-agent, which gpg starts per home directory */
    setenv("GNUPGHOME", cfg->gnupg_home, 1);

    gpgme_set_protocol(mb_crypto.ctx, GPGME_PROTOCOL_OpenPGP);
    gpgme_set_armor(mb_crypto.ctx, 1);
    gpgme_set_offline(mb_crypto.ctx, 1);
    /* never a pinentry: a key that needs a passphrase fails, loudly */
    gpgme_set_pinentry_mode(mb_crypto.ctx, GPGME_PINENTRY_MODE_LOOPBACK);

    g_mime_crypto_context_register("application/pgp-encrypted",
                                   g_mime_gpg_context_new);
    g_mime_crypto_context_register("application/pgp-signature",
                                   g_mime_gpg_context_new);
    g_mime_crypto_context_register("application/pgp-keys",
                                   g_mime_gpg_context_new);

    mb_crypto.home = strdup(cfg->gnupg_home);
    mb_crypto.max_plain = cfg->max_size;
    mb_crypto.on = 1;
    mb_debug("pgp: keyring %s", cfg->gnupg_home);
    return 0;
}


/* 0 usable, 1 default home absent (PGP off), -1 error (logged). */
static int
mb_crypto_home_ready(const mb_config_t *cfg)
{
    struct stat  st;

    if (cfg->gnupg_home == NULL || cfg->gnupg_home[0] == '\0') {
        return 1;
    }

    if (stat(cfg->gnupg_home, &st) != 0) {
        if (errno != ENOENT) {
            mb_err("pgp: %s: %s", cfg->gnupg_home, strerror(errno));
            return -1;
        }
        if (!cfg->gnupg_home_set) {
            return 1;
        }
        if (mkdir(cfg->gnupg_home, 0700) != 0 && errno != EEXIST) {
            mb_err("pgp: cannot create gnupg_home %s: %s", cfg->gnupg_home,
                   strerror(errno));
            return -1;
        }
        return 0;
    }

    if (!S_ISDIR(st.st_mode)) {
        mb_err("pgp: gnupg_home %s is not a directory", cfg->gnupg_home);
        return -1;
    }

    if (st.st_mode & 077) {
        /* gpg itself only warns; a readable secret keyring is a leak */
        mb_err("pgp: gnupg_home %s is accessible by others (mode %03o); "
               "chmod 700 it", cfg->gnupg_home, (unsigned) (st.st_mode & 0777));
        return -1;
    }

    return 0;
}


int
mb_crypto_enabled(void)
{
    return mb_crypto.on;
}


size_t
mb_crypto_max_plain(void)
{
    return mb_crypto.max_plain ? mb_crypto.max_plain : 25u << 20;
}


const char *
mb_crypto_home(void)
{
    return mb_crypto.home;
}


gpgme_ctx_t
mb_crypto_gpgme(void)
{
    return mb_crypto.ctx;
}


void
mb_crypto_done(void)
{
    mb_crypto_keys_free();
    if (mb_crypto.ctx) {
        gpgme_release(mb_crypto.ctx);
    }
    free(mb_crypto.home);
    memset(&mb_crypto, 0, sizeof(mb_crypto));
}


/* ---- the key cache ----------------------------------------------------- */

/* pubring.kbx changes with every import, delete or revocation. */
static void
mb_crypto_stamp(struct timespec *ts, off_t *size)
{
    static const char  *files[2] = { "pubring.kbx", "pubring.gpg" };
    char                path[4096];
    struct stat         st;
    int                 i;

    for (i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", mb_crypto.home, files[i]);
        if (stat(path, &st) == 0) {
            ts[i] = st.st_mtim;
            size[i] = st.st_size;
        } else {
            memset(&ts[i], 0, sizeof(ts[i]));
            size[i] = -1;
        }
    }
}


static void
mb_crypto_keys_free(void)
{
    size_t  i;

    for (i = 0; i < mb_crypto.nkeys; i++) {
        gpgme_key_unref(mb_crypto.keys[i]);
    }
    free(mb_crypto.keys);
    mb_crypto.keys = NULL;
    mb_crypto.nkeys = 0;
    mb_crypto.listed = 0;
}


void
mb_crypto_keys_changed(void)
{
    mb_crypto_keys_free();
}


int
mb_crypto_keys(gpgme_key_t **keys, size_t *n, char *err, size_t errlen)
{
    struct timespec  ts[2];
    off_t            size[2];
    gpgme_key_t      k, *a;
    gpgme_error_t    e;
    size_t           cap = 0;

    if (!mb_crypto.on) {
        snprintf(err, errlen, "PGP is not configured (gnupg_home)");
        return -1;
    }

    mb_crypto_stamp(ts, size);

    if (mb_crypto.listed && memcmp(ts, mb_crypto.stamp, sizeof(ts)) == 0
        && memcmp(size, mb_crypto.size, sizeof(size)) == 0)
    {
        *keys = mb_crypto.keys;
        *n = mb_crypto.nkeys;
        return 0;
    }

    mb_crypto_keys_free();

    gpgme_set_keylist_mode(mb_crypto.ctx, GPGME_KEYLIST_MODE_LOCAL
                                          | GPGME_KEYLIST_MODE_WITH_SECRET);
    e = gpgme_op_keylist_start(mb_crypto.ctx, NULL, 0);

    while (e == 0) {
        e = gpgme_op_keylist_next(mb_crypto.ctx, &k);
        if (e) {
            break;
        }
        if (mb_crypto.nkeys == cap) {
            cap = cap ? cap * 2 : 16;
            a = realloc(mb_crypto.keys, cap * sizeof(gpgme_key_t));
            if (a == NULL) {
                gpgme_key_unref(k);
                gpgme_op_keylist_end(mb_crypto.ctx);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            mb_crypto.keys = a;
        }
        mb_crypto.keys[mb_crypto.nkeys++] = k;
    }

    gpgme_op_keylist_end(mb_crypto.ctx);

    if (gpgme_err_code(e) != GPG_ERR_EOF) {
        mb_crypto_error(e, err, errlen, "listing keys");
        mb_crypto_keys_free();
        return -1;
    }

    memcpy(mb_crypto.stamp, ts, sizeof(ts));
    memcpy(mb_crypto.size, size, sizeof(size));
    mb_crypto.listed = 1;
    *keys = mb_crypto.keys;
    *n = mb_crypto.nkeys;
    return 0;
}


int
mb_crypto_key_usable(gpgme_key_t key, const char *addr, time_t now,
    time_t *expires)
{
    gpgme_user_id_t  uid;
    gpgme_subkey_t   sub, best = NULL;
    int              match = addr == NULL;

    if (key->revoked || key->expired || key->disabled || key->invalid
        || !key->can_encrypt || key->subkeys == NULL)
    {
        return 0;
    }

    /* the primary key's expiry ends every subkey */
    if (key->subkeys->expires && key->subkeys->expires <= now) {
        return 0;
    }

    for (uid = key->uids; addr && uid; uid = uid->next) {
        if (!uid->revoked && !uid->invalid && uid->email
            && strcasecmp(uid->email, addr) == 0)
        {
            match = 1;
            break;
        }
    }

    if (!match) {
        return 0;
    }

    for (sub = key->subkeys; sub; sub = sub->next) {
        if (!sub->can_encrypt || sub->revoked || sub->expired
            || sub->disabled || sub->invalid
            || (sub->expires && sub->expires <= now))
        {
            continue;
        }
        if (best == NULL || sub->timestamp > best->timestamp) {
            best = sub;
        }
    }

    if (best == NULL) {
        return 0;
    }

    if (expires) {
        *expires = best->expires;
        if (key->subkeys->expires
            && (*expires == 0 || key->subkeys->expires < *expires))
        {
            *expires = key->subkeys->expires;
        }
    }

    return 1;
}


gpgme_key_t
mb_crypto_key_for(const char *addr, time_t now, char *err, size_t errlen)
{
    gpgme_key_t  *keys, best = NULL;
    size_t        n, i;

    if (mb_crypto_keys(&keys, &n, err, errlen) != 0) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (mb_crypto_key_usable(keys[i], addr, now, NULL)
            && (best == NULL
                || keys[i]->subkeys->timestamp > best->subkeys->timestamp))
        {
            best = keys[i];
        }
    }

    if (best == NULL) {
        snprintf(err, errlen, "no usable key for %s", addr);
    }

    return best;
}


/* The secret key for signing: in the listing with its secret flag. */
static gpgme_key_t
mb_crypto_secret_key(const char *fpr)
{
    gpgme_key_t  *keys;
    size_t        n, i, len = strlen(fpr);
    char          err[256];
    const char   *f;

    if (mb_crypto_keys(&keys, &n, err, sizeof(err)) != 0) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        f = keys[i]->fpr;
        if (f && keys[i]->secret && keys[i]->can_sign && !keys[i]->revoked
            && !keys[i]->expired && !keys[i]->disabled
            && strlen(f) >= len && len >= 16
            && strcasecmp(f + strlen(f) - len, fpr) == 0)
        {
            return keys[i];
        }
    }

    return NULL;
}


/* ---- outbound ---------------------------------------------------------- */

int
mb_crypto_protect(GMimeMessage *msg, const char *const *recipients,
    size_t n, const char *sign_fpr, int encrypt, char *err, size_t errlen)
{
    GMimeFormatOptions   *fo;
    GMimeCryptoContext   *gctx;
    GMimeMultipartSigned *signed_part;
    GMimeObject          *entity, *enc;
    GMimeStream          *mem;
    GByteArray           *bytes;
    GError               *gerr = NULL;
    gpgme_key_t          *rcpt = NULL, signer = NULL, own;
    gpgme_data_t          in = NULL, out = NULL;
    gpgme_error_t         e;
    time_t                now = time(NULL);
    char                  from[320], *armour;
    size_t                i, k = 0, len;
    int                   rc = MB_CRYPTO_TEMP;

    if (!mb_crypto.on) {
        snprintf(err, errlen, "PGP is not configured (gnupg_home)");
        return MB_CRYPTO_PERM;
    }

    entity = g_mime_message_get_mime_part(msg);
    if (entity == NULL) {
        snprintf(err, errlen, "message has no body");
        return MB_CRYPTO_PERM;
    }

    if (sign_fpr && *sign_fpr) {
        signer = mb_crypto_secret_key(sign_fpr);
        if (signer == NULL) {
            snprintf(err, errlen, "no usable secret key %s for signing",
                     sign_fpr);
            return MB_CRYPTO_PERM;
        }
    }

    if (!encrypt) {
        if (signer == NULL) {
            snprintf(err, errlen, "neither encryption nor a signing key");
            return MB_CRYPTO_PERM;
        }
        /* gmime canonicalises (7bit, CRLF) and builds RFC 3156 */
        gctx = g_mime_gpg_context_new();
        signed_part = g_mime_multipart_signed_sign(gctx, entity,
                                                   signer->fpr, &gerr);
        g_object_unref(gctx);
        if (signed_part == NULL) {
            snprintf(err, errlen, "signing failed: %s",
                     gerr ? gerr->message : "unknown error");
            g_clear_error(&gerr);
            return MB_CRYPTO_TEMP;
        }
        g_mime_message_set_mime_part(msg, (GMimeObject *) signed_part);
        g_object_unref(signed_part);
        return 0;
    }

    /* every recipient, the group's own key, NULL */
    rcpt = calloc(n + 2, sizeof(gpgme_key_t));
    if (rcpt == NULL) {
        snprintf(err, errlen, "out of memory");
        return MB_CRYPTO_TEMP;
    }

    for (i = 0; i < n; i++) {
        rcpt[k] = mb_crypto_key_for(recipients[i], now, err, errlen);
        if (rcpt[k] == NULL) {
            rc = strncmp(err, "no usable key", 13) == 0 ? MB_CRYPTO_PERM
                                                       : MB_CRYPTO_TEMP;
            goto done;
        }
        k++;
    }

    if (mb_crypto_from(msg, from, sizeof(from)) == 0) {
        own = mb_crypto_key_for(from, now, err, errlen);
        if (own) {
            rcpt[k++] = own;
        } else {
            /* the article keeps the text; only the sent copy is lost */
            mb_warn("pgp: %s; the sent mail is not encrypted to the group",
                    err);
        }
    }
    err[0] = '\0';

    /* the entity as it goes inside: CRLF, 7bit-safe (RFC 3156 §3) */
    g_mime_object_encode(entity, GMIME_ENCODING_CONSTRAINT_7BIT);
    fo = g_mime_format_options_clone(NULL);
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    bytes = g_byte_array_new();
    mem = g_mime_stream_mem_new_with_byte_array(bytes);
    g_mime_stream_mem_set_owner((GMimeStreamMem *) mem, FALSE);
    g_mime_object_write_to_stream(entity, fo, mem);
    g_object_unref(mem);
    g_mime_format_options_free(fo);

    e = gpgme_data_new_from_mem(&in, (const char *) bytes->data, bytes->len,
                                0);
    if (e == 0) {
        e = gpgme_data_new(&out);
    }
    if (e) {
        g_byte_array_unref(bytes);
        mb_crypto_error(e, err, errlen, "encrypting");
        goto done;
    }

    gpgme_signers_clear(mb_crypto.ctx);
    if (signer) {
        gpgme_signers_add(mb_crypto.ctx, signer);
        /* keys an admin imported are trusted: the keyring is the trust */
        e = gpgme_op_encrypt_sign(mb_crypto.ctx, rcpt,
                                  GPGME_ENCRYPT_ALWAYS_TRUST, in, out);
    } else {
        e = gpgme_op_encrypt(mb_crypto.ctx, rcpt, GPGME_ENCRYPT_ALWAYS_TRUST,
                             in, out);
    }
    gpgme_signers_clear(mb_crypto.ctx);
    gpgme_data_release(in);
    g_byte_array_unref(bytes);

    if (e) {
        rc = mb_crypto_error(e, err, errlen, "encrypting");
        gpgme_data_release(out);
        goto done;
    }

    armour = gpgme_data_release_and_get_mem(out, &len);
    enc = mb_crypto_encrypted_part(armour, len);
    gpgme_free(armour);
    g_mime_message_set_mime_part(msg, enc);
    g_object_unref(enc);
    rc = 0;

done:
    free(rcpt);
    return rc;
}


/* multipart/encrypted (RFC 3156 §4): version part, then the armour. */
static GMimeObject *
mb_crypto_encrypted_part(const char *armour, size_t len)
{
    GMimeMultipartEncrypted  *mp;
    GMimePart                *ver, *data;
    GMimeStream              *s;
    GMimeDataWrapper         *dw;

    mp = g_mime_multipart_encrypted_new();
    g_mime_multipart_set_boundary((GMimeMultipart *) mp, NULL);
    g_mime_object_set_content_type_parameter((GMimeObject *) mp, "protocol",
                                             "application/pgp-encrypted");

    ver = g_mime_part_new_with_type("application", "pgp-encrypted");
    g_mime_object_set_header((GMimeObject *) ver, "Content-Description",
                             "PGP/MIME version identification", NULL);
    s = g_mime_stream_mem_new_with_buffer("Version: 1\n", 11);
    dw = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_7BIT);
    g_mime_part_set_content(ver, dw);
    g_object_unref(dw);
    g_object_unref(s);

    data = g_mime_part_new_with_type("application", "octet-stream");
    g_mime_part_set_filename(data, "encrypted.asc");
    g_mime_object_set_disposition((GMimeObject *) data, "inline");
    g_mime_object_set_header((GMimeObject *) data, "Content-Description",
                             "OpenPGP encrypted message", NULL);
    s = g_mime_stream_mem_new_with_buffer(armour, len);
    dw = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_7BIT);
    g_mime_part_set_content(data, dw);
    g_mime_part_set_content_encoding(data, GMIME_CONTENT_ENCODING_7BIT);
    g_object_unref(dw);
    g_object_unref(s);

    g_mime_multipart_add((GMimeMultipart *) mp, (GMimeObject *) ver);
    g_mime_multipart_add((GMimeMultipart *) mp, (GMimeObject *) data);
    g_object_unref(ver);
    g_object_unref(data);

    return (GMimeObject *) mp;
}


/* The bare From address (the group's), lower-case. */
static int
mb_crypto_from(GMimeMessage *msg, char *buf, size_t size)
{
    InternetAddressList  *list;
    InternetAddress      *ia;
    const char           *addr;
    size_t                i;

    list = g_mime_message_get_from(msg);
    if (list == NULL || internet_address_list_length(list) < 1) {
        return -1;
    }

    ia = internet_address_list_get_address(list, 0);
    if (!INTERNET_ADDRESS_IS_MAILBOX(ia)) {
        return -1;
    }

    addr = internet_address_mailbox_get_addr((InternetAddressMailbox *) ia);
    if (addr == NULL || strlen(addr) >= size) {
        return -1;
    }

    for (i = 0; addr[i]; i++) {
        buf[i] = (char) ((addr[i] >= 'A' && addr[i] <= 'Z') ? addr[i] + 32
                                                             : addr[i]);
    }
    buf[i] = '\0';
    return 0;
}


/* gpgme's error as text; unusable keys are permanent, the rest not. */
static int
mb_crypto_error(gpgme_error_t e, char *err, size_t errlen, const char *what)
{
    gpgme_encrypt_result_t  r;

    switch (gpgme_err_code(e)) {
    case GPG_ERR_UNUSABLE_PUBKEY:
        r = gpgme_op_encrypt_result(mb_crypto.ctx);
        if (r && r->invalid_recipients && r->invalid_recipients->fpr) {
            snprintf(err, errlen, "%s: unusable key %s", what,
                     r->invalid_recipients->fpr);
        } else {
            snprintf(err, errlen, "%s: %s", what, gpgme_strerror(e));
        }
        return MB_CRYPTO_PERM;

    case GPG_ERR_UNUSABLE_SECKEY:
    case GPG_ERR_BAD_PASSPHRASE:
    case GPG_ERR_NO_SECKEY:
    case GPG_ERR_INV_VALUE:
        snprintf(err, errlen, "%s: %s", what, gpgme_strerror(e));
        return MB_CRYPTO_PERM;

    default:
        snprintf(err, errlen, "%s: %s", what, gpgme_strerror(e));
        return MB_CRYPTO_TEMP;
    }
}
