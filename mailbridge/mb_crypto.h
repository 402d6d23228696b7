/*
 * mb_crypto.h -- OpenPGP in mailbridge (gpgme, and gmime's gpgme-backed
 * crypto contexts where they do the job).  The keyring is mailbridge's
 * own (config "gnupg_home", docs/mailbridge.md "PGP"); nothing here asks
 * for a passphrase: the group keys have none, gpg runs with loopback
 * pinentry so an agent never waits for a user.
 *
 *   crypto.c     setup, the key cache, outbound mb_crypto_protect()
 *   crypto_in.c  inbound: PGP/MIME and inline PGP, decrypt + verify
 *   keys.c       key metadata in Redis, the key request stream (role)
 */

#ifndef MB_CRYPTO_H
#define MB_CRYPTO_H

#include <stddef.h>
#include <time.h>

#include <gmime/gmime.h>
#include <gpgme.h>

#include "mailbridge.h"

/* Code that calls into this file may be built without it: #ifdef. */
#define MB_HAVE_CRYPTO      1

/* mb_crypto_protect() results besides 0 */
#define MB_CRYPTO_TEMP      1     /* gpg/agent trouble: try again later  */
#define MB_CRYPTO_PERM      2     /* e.g. no usable key: fail the article */

/* ---- crypto.c ---------------------------------------------------------- */

/*
 * Points gpgme (and so gmime) at cfg->gnupg_home.  When the home is the
 * default and does not exist, PGP stays off (inbound mail is stored as
 * before, flagged encrypted/signed).  A configured home is created 0700.
 * Returns 0, or EX_CONFIG after logging.
 */
int mb_crypto_init(const mb_config_t *cfg);
int mb_crypto_enabled(void);
const char *mb_crypto_home(void);
/* Decrypted data larger than this (max_size) is refused: decrypt-failed. */
size_t mb_crypto_max_plain(void);
void mb_crypto_done(void);

/* The process's gpgme context: armour on, loopback pinentry. */
gpgme_ctx_t mb_crypto_gpgme(void);

/*
 * Every key of the keyring (public, with the secret flag), listed again
 * when the keyring files changed.  Borrowed: valid until the next call.
 * Returns 0, or -1 (gpg failed; err says why).
 */
int mb_crypto_keys(gpgme_key_t **keys, size_t *n, char *err, size_t errlen);
/* Forget the cached listing (after an import or delete). */
void mb_crypto_keys_changed(void);

/*
 * The best usable encryption key of a key for now: 1 and *expires (0 =
 * never) when the key, a user id with that address (NULL: any) and an
 * encryption subkey are neither revoked, expired, disabled nor invalid.
 */
int mb_crypto_key_usable(gpgme_key_t key, const char *addr, time_t now,
    time_t *expires);
/* The usable encryption key for an address, or NULL (borrowed). */
gpgme_key_t mb_crypto_key_for(const char *addr, time_t now, char *err,
    size_t errlen);

/*
 * Replaces msg's top-level part by multipart/encrypted (to every
 * recipient and the From address's own key, signed with sign_fpr when
 * given) or, with encrypt == 0, by multipart/signed (RFC 3156).
 * recipients: bare addresses (To, Cc, Bcc).  Returns 0, MB_CRYPTO_TEMP
 * or MB_CRYPTO_PERM with err = "no usable key for x@y" and the like.
 */
int mb_crypto_protect(GMimeMessage *msg, const char *const *recipients,
    size_t n, const char *sign_fpr, int encrypt, char *err, size_t errlen);

/*
 * crypto_cli.c: "mailbridge pgp-protect [--sign FPR] [--sign-only]
 * [--count N] RCPT..." -- mb_crypto_protect() on the mail on stdin, the
 * result on stdout, the rate on stderr (tests, benchmark).
 */
int mb_crypto_cli(const mb_config_t *cfg, int argc, char **argv);

/* ---- crypto_in.c: hooks of the MIME walk (parse_body.c) ---------------- */

struct mb_walk_s;

/* multipart/encrypted: decrypted and walked, or a notice + decrypt-failed */
void mb_crypto_walk_encrypted(struct mb_walk_s *w, GMimeMultipart *mp,
    int depth);
/* multipart/signed: verified, then the content walked */
void mb_crypto_walk_signed(struct mb_walk_s *w, GMimeMultipart *mp,
    int depth);
/*
 * Inline PGP in a text part: the decrypted / verified text replaces
 * *data (a GByteArray owned by the caller, replaced in place).
 */
void mb_crypto_inline(struct mb_walk_s *w, GMimePart *part,
    GByteArray **data);

/* ---- keys.c: the keys role --------------------------------------------- */

int mb_keys_enabled(const mb_config_t *cfg);
int mb_keys_run(const mb_config_t *cfg);

#endif /* MB_CRYPTO_H */
