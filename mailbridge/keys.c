/*
 * keys.c -- the keys role: mailbridge's keyring as seen by the web, and
 * the web's requests to change it.
 *
 * The keyring is mailbridge's alone (gpgme, crypto.c); the module never
 * runs gpg.  So the metadata the module shows and checks (tk:pgp:addr,
 * tk:pgp:keys, tk:pgp:key:FPR, SCHEMA.md "PGP keys") is written here, in
 * one MULTI each time, at start, after every import or delete, and when
 * it changed otherwise (a key expired, gpg on the server imported one).
 * Requests (import armoured text, import an article's attachment, delete)
 * come through the stream tk:pgp:requests (consumer group "mailbridge");
 * each outcome is written to tk:pgp:result:ID in the same MULTI that
 * acknowledges the entry, so a request is done exactly when its result
 * is visible, and a crash before that repeats it (import is idempotent).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "mb_crypto.h"
#include "tk_redis_sync.h"
#include "tk_schema_sync.h"

#define MB_KEYS_CONSUMER    "keys"
#define MB_KEYS_BATCH       16
#define MB_KEYS_MAX_TEXT    (1024 * 1024)

typedef struct {
    tk_redis_t          r;
    const mb_config_t  *cfg;
    int                 block_ms;
    char                digest[65];    /* of the metadata last written   */
} mb_keys_t;

/* one address -> its best usable key */
typedef struct {
    char          *email;
    const char    *fpr;
    time_t         expires;
    long           created;
} mb_addr_t;

/* what a transaction writes: the metadata, then the request's outcome */
typedef struct {
    mb_keys_t     *k;
    tk_cmds_t     *extra;
    int            force;
    char           digest[65];
} mb_sync_t;

static int mb_keys_sync(mb_keys_t *k, tk_cmds_t *extra, int force);
static int mb_keys_decide(void *data, redisReply **reads, size_t nreads,
    tk_cmds_t *w);
static int mb_keys_meta(tk_cmds_t *w, redisReply *old, time_t now,
    char *digest);
static void mb_keys_key(tk_cmds_t *w, GChecksum *ck, gpgme_key_t key,
    time_t now);
static int mb_keys_handle(mb_keys_t *k, redisReply *entry);
static int mb_keys_import(const char *data, size_t len, int admin,
    char *msg, size_t msglen, GString *fprs);
static int mb_keys_delete(const char *fpr, char *msg, size_t msglen);
static int mb_keys_att(mb_keys_t *k, const char *t, const char *a,
    const char *att, redisReply **reply, char *msg, size_t msglen);
static int mb_keys_read(mb_keys_t *k, const char *id);
static const char *mb_field(redisReply *fields, const char *name,
    size_t *len);
static char *mb_lower_dup(const char *s);
static int mb_has_word(const char *list, const char *word);


int
mb_keys_enabled(const mb_config_t *cfg)
{
    return mb_crypto_init(cfg) == 0 && mb_crypto_enabled();
}


int
mb_keys_run(const mb_config_t *cfg)
{
    mb_keys_t    k;
    redisReply  *reply;
    int          rc, backoff = 1, first;

    if (!mb_keys_enabled(cfg)) {
        mb_err("keys: PGP is off: set gnupg_home (docs/mailbridge.md)");
        return EX_CONFIG;
    }

    memset(&k, 0, sizeof(k));
    k.cfg = cfg;
    /* BLOCK below the command timeout, so a quiet stream is no error */
    k.block_ms = cfg->redis_timeout / 2;
    if (k.block_ms > 5000) {
        k.block_ms = 5000;
    }

    while (!mb_stop) {
        if (tk_redis_connect(&k.r, cfg->redis, cfg->redis_timeout)
                != TK_REDIS_OK
            || tk_redis_schema_check(&k.r) != TK_REDIS_OK)
        {
            mb_warn("keys: %s; again in %d s", k.r.err, backoff);
            tk_redis_close(&k.r);
            sleep((unsigned) backoff);
            backoff = backoff < 30 ? backoff * 2 : 60;
            continue;
        }

        reply = tk_redis_command(&k.r, "XGROUP CREATE %s %s 0 MKSTREAM",
                                 TK_KEY_PGP_REQUESTS, TK_PGP_GROUP);
        if (reply) {
            freeReplyObject(reply);     /* BUSYGROUP: exists, fine */
        }

        /* our own pending requests first (a crash between gpg and EXEC) */
        rc = mb_keys_sync(&k, NULL, 1);
        for (first = 1; rc == 0 && !mb_stop; first = 0) {
            rc = mb_keys_read(&k, first ? "0" : ">");
            if (rc == 0) {
                rc = mb_keys_sync(&k, NULL, 0);
            }
            backoff = 1;
        }

        if (rc != 0 && !mb_stop) {
            mb_warn("keys: %s; reconnecting in %d s", k.r.err, backoff);
            sleep((unsigned) backoff);
            backoff = backoff < 30 ? backoff * 2 : 60;
        }
        tk_redis_close(&k.r);
    }

    return EX_OK;
}


/*
 * XREADGROUP once ("0": our pending entries, ">": new ones, blocking)
 * and handle what came.  0, or -1 on a Redis error (k->r.err).
 */
static int
mb_keys_read(mb_keys_t *k, const char *id)
{
    redisReply  *reply, *entries;
    size_t       i;

    if (strcmp(id, ">") == 0) {
        reply = tk_redis_command(&k->r, "XREADGROUP GROUP %s %s COUNT %d "
                                 "BLOCK %d STREAMS %s >", TK_PGP_GROUP,
                                 MB_KEYS_CONSUMER, MB_KEYS_BATCH,
                                 k->block_ms, TK_KEY_PGP_REQUESTS);
    } else {
        reply = tk_redis_command(&k->r, "XREADGROUP GROUP %s %s COUNT %d "
                                 "STREAMS %s %s", TK_PGP_GROUP,
                                 MB_KEYS_CONSUMER, 1000, TK_KEY_PGP_REQUESTS,
                                 id);
    }

    if (reply == NULL) {
        return -1;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        tk_redis_set_error(&k->r, "XREADGROUP: %s", reply->str);
        freeReplyObject(reply);
        return -1;
    }

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1
        && reply->element[0]->type == REDIS_REPLY_ARRAY
        && reply->element[0]->elements == 2)
    {
        entries = reply->element[0]->element[1];
        for (i = 0; entries->type == REDIS_REPLY_ARRAY
                    && i < entries->elements && !mb_stop; i++)
        {
            if (mb_keys_handle(k, entries->element[i]) != 0) {
                /* unacknowledged: read again ("0") after reconnecting */
                freeReplyObject(reply);
                return -1;
            }
        }
    }

    freeReplyObject(reply);
    return 0;
}


/* ---- one request -------------------------------------------------------- */

static int
mb_keys_handle(mb_keys_t *k, redisReply *entry)
{
    redisReply  *fields, *att = NULL;
    tk_arena_t   arena;
    tk_cmds_t    extra;
    GString     *fprs;
    const char  *id, *op, *login, *role, *text, *fpr;
    char         msg[512], key[TK_KEY_MAX];
    size_t       len;
    int          admin, ok = 0, rc;

    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2
        || entry->element[0]->type != REDIS_REPLY_STRING)
    {
        return 0;
    }

    id = entry->element[0]->str;
    fields = entry->element[1];
    op = mb_field(fields, TK_F_PGP_OP, NULL);
    login = mb_field(fields, TK_F_LOGIN, NULL);
    role = mb_field(fields, TK_F_ROLE, NULL);
    admin = role && strcmp(role, "admin") == 0;
    fprs = g_string_new(NULL);
    msg[0] = '\0';

    if (op == NULL) {
        snprintf(msg, sizeof(msg), "request without op");

    } else if (strcmp(op, "import") == 0) {
        text = mb_field(fields, TK_F_PGP_TEXT, &len);
        if (text == NULL || len == 0) {
            snprintf(msg, sizeof(msg), "nothing to import");
        } else {
            ok = mb_keys_import(text, len, admin, msg, sizeof(msg), fprs);
        }

    } else if (strcmp(op, "import-att") == 0) {
        if (mb_keys_att(k, mb_field(fields, TK_F_TICKET, NULL),
                        mb_field(fields, TK_F_PGP_ARTICLE, NULL),
                        mb_field(fields, TK_F_PGP_ATT, NULL), &att, msg,
                        sizeof(msg)) == 0)
        {
            ok = mb_keys_import(att->str, att->len, admin, msg, sizeof(msg),
                                fprs);
        }

    } else if (strcmp(op, "delete") == 0) {
        fpr = mb_field(fields, TK_F_PGP_FPR, NULL);
        if (!admin) {
            snprintf(msg, sizeof(msg), "only admins may delete keys");
        } else if (fpr == NULL || *fpr == '\0') {
            snprintf(msg, sizeof(msg), "no fingerprint given");
        } else {
            ok = mb_keys_delete(fpr, msg, sizeof(msg));
            if (ok) {
                g_string_append(fprs, fpr);
            }
        }

    } else {
        snprintf(msg, sizeof(msg), "unknown request \"%s\"", op);
    }

    if (att) {
        freeReplyObject(att);
    }

    mb_info("keys: request %s (%s by %s): %s: %s", id, op ? op : "-",
            login ? login : "-", ok ? "ok" : "error", msg);

    tk_arena_init(&arena);
    tk_cmds_init(&extra, tk_arena_alloc, &arena);
    snprintf(key, sizeof(key), TK_FMT_PGP_RESULT, id);
    tk_cmds_add(&extra, "HSET %s " TK_F_PGP_STATUS " %s " TK_F_PGP_MESSAGE
                " %s " TK_F_PGP_FPRS " %s " TK_F_PGP_OP " %s " TK_F_LOGIN
                " %s " TK_F_TIME " %lld", key, ok ? "ok" : "error", msg,
                fprs->str, op ? op : "", login ? login : "",
                (long long) time(NULL));
    tk_cmds_add(&extra, "EXPIRE %s %d", key, TK_PGP_RESULT_TTL);
    tk_cmds_add(&extra, "XACK %s %s %s", TK_KEY_PGP_REQUESTS, TK_PGP_GROUP,
                id);
    tk_cmds_add(&extra, "XDEL %s %s", TK_KEY_PGP_REQUESTS, id);
    g_string_free(fprs, TRUE);

    rc = mb_keys_sync(k, &extra, 1);
    if (rc != 0) {
        /* not acknowledged: the request runs again after reconnecting */
        mb_warn("keys: request %s: %s", id, k->r.err);
    }
    tk_arena_reset(&arena);
    return rc;
}


/*
 * Imports armoured or binary keys.  Secret keys only for admins: gpg
 * lists what the data holds before anything is imported.
 */
static int
mb_keys_import(const char *data, size_t len, int admin, char *msg,
    size_t msglen, GString *fprs)
{
    gpgme_ctx_t            ctx = mb_crypto_gpgme();
    gpgme_data_t           d;
    gpgme_key_t            key;
    gpgme_error_t          e;
    gpgme_import_result_t  r;
    gpgme_import_status_t  s;
    int                    nkeys = 0, secret = 0;

    if (len > MB_KEYS_MAX_TEXT) {
        snprintf(msg, msglen, "too large (%zu bytes)", len);
        return 0;
    }

    if (memmem(data, len, "PRIVATE KEY BLOCK", 17)) {
        secret = 1;
    }

    e = gpgme_data_new_from_mem(&d, data, len, 0);
    if (e) {
        snprintf(msg, msglen, "%s", gpgme_strerror(e));
        return 0;
    }

    e = gpgme_op_keylist_from_data_start(ctx, d, 0);
    while (e == 0 && (e = gpgme_op_keylist_next(ctx, &key)) == 0) {
        nkeys++;
        secret |= key->secret;
        gpgme_key_unref(key);
    }
    gpgme_op_keylist_end(ctx);

    if (nkeys == 0) {
        snprintf(msg, msglen, "no OpenPGP key found in the data");
        gpgme_data_release(d);
        return 0;
    }

    if (secret && !admin) {
        snprintf(msg, msglen, "secret keys may only be imported by admins; "
                 "nothing was imported");
        gpgme_data_release(d);
        return 0;
    }

    gpgme_data_seek(d, 0, SEEK_SET);
    e = gpgme_op_import(ctx, d);
    gpgme_data_release(d);
    mb_crypto_keys_changed();

    r = gpgme_op_import_result(ctx);
    if (e || r == NULL) {
        snprintf(msg, msglen, "import failed: %s", gpgme_strerror(e));
        return 0;
    }

    for (s = r->imports; s; s = s->next) {
        if (s->result == 0 && s->fpr && !strstr(fprs->str, s->fpr)) {
            g_string_append_printf(fprs, "%s%s", fprs->len ? " " : "",
                                   s->fpr);
        }
    }

    if (r->considered == 0 || fprs->len == 0) {
        snprintf(msg, msglen, "no key could be imported");
        return 0;
    }

    snprintf(msg, msglen, "%d key(s): %d imported, %d unchanged, %d secret",
             r->considered, r->imported, r->unchanged, r->secret_imported);
    return 1;
}


static int
mb_keys_delete(const char *fpr, char *msg, size_t msglen)
{
    gpgme_key_t   *keys, key = NULL;
    gpgme_error_t  e;
    size_t         n, i;
    char           err[256];

    if (mb_crypto_keys(&keys, &n, err, sizeof(err)) != 0) {
        snprintf(msg, msglen, "%s", err);
        return 0;
    }

    for (i = 0; i < n && key == NULL; i++) {
        if (keys[i]->fpr && strcasecmp(keys[i]->fpr, fpr) == 0) {
            key = keys[i];
        }
    }

    if (key == NULL) {
        snprintf(msg, msglen, "no key %s in the keyring", fpr);
        return 0;
    }

    e = gpgme_op_delete_ext(mb_crypto_gpgme(), key,
                            GPGME_DELETE_ALLOW_SECRET | GPGME_DELETE_FORCE);
    mb_crypto_keys_changed();

    if (e) {
        snprintf(msg, msglen, "delete failed: %s", gpgme_strerror(e));
        return 0;
    }

    snprintf(msg, msglen, "deleted");
    return 1;
}


/* The bytes of attachment K of article A of ticket T. */
static int
mb_keys_att(mb_keys_t *k, const char *t, const char *a, const char *att,
    redisReply **reply, char *msg, size_t msglen)
{
    char                 key[TK_KEY_MAX], *end;
    unsigned long long   tn, an;
    unsigned long        kn;

    tn = t ? strtoull(t, &end, 10) : 0;
    an = a ? strtoull(a, &end, 10) : 0;
    kn = att ? strtoul(att, &end, 10) : 0;

    if (tn == 0 || an == 0 || kn == 0 || kn > 100000) {
        snprintf(msg, msglen, "invalid attachment reference");
        return -1;
    }

    tk_key_attachment(key, sizeof(key), tn, an, (unsigned) kn);
    *reply = tk_redis_command(&k->r, "HGET %s " TK_F_DATA, key);

    if (*reply == NULL || (*reply)->type != REDIS_REPLY_STRING) {
        snprintf(msg, msglen, "attachment %llu/%llu/%lu not found", tn, an,
                 kn);
        if (*reply) {
            freeReplyObject(*reply);
            *reply = NULL;
        }
        return -1;
    }

    return 0;
}


/* ---- the metadata ------------------------------------------------------ */

/*
 * WATCH tk:pgp:keys, read its members, write the whole set in one MULTI
 * with extra (a request's outcome) appended.  Without force and without
 * extra nothing is written when the metadata is what we wrote last.
 */
static int
mb_keys_sync(mb_keys_t *k, tk_cmds_t *extra, int force)
{
    static const char *const  watch[] = { TK_KEY_PGP_KEYS };
    tk_arena_t                arena;
    tk_cmds_t                 reads;
    mb_sync_t                 s;
    int                       rc;

    memset(&s, 0, sizeof(s));
    s.k = k;
    s.extra = extra;
    s.force = force || extra;

    if (!s.force) {
        if (mb_keys_meta(NULL, NULL, time(NULL), s.digest) != 0) {
            return 0;           /* gpg trouble: logged, try next time */
        }
        if (strcmp(s.digest, k->digest) == 0) {
            return 0;
        }
    }

    tk_arena_init(&arena);
    tk_cmds_init(&reads, tk_arena_alloc, &arena);
    tk_cmds_add(&reads, "SMEMBERS %s", TK_KEY_PGP_KEYS);

    rc = tk_redis_tx(&k->r, watch, 1, &reads, mb_keys_decide, &s, 5, NULL);
    tk_arena_reset(&arena);

    if (rc == TK_REDIS_OK) {
        memcpy(k->digest, s.digest, sizeof(k->digest));
        mb_debug("keys: metadata written");
        return 0;
    }

    if (rc == TK_REDIS_ABORT) {
        return 0;
    }

    return -1;
}


static int
mb_keys_decide(void *data, redisReply **reads, size_t nreads, tk_cmds_t *w)
{
    mb_sync_t  *s = data;
    size_t      i;

    if (mb_keys_meta(w, nreads ? reads[0] : NULL, time(NULL), s->digest)
        != 0 && s->extra == NULL)
    {
        return TK_REDIS_ABORT;
    }

    for (i = 0; s->extra && i < s->extra->n; i++) {
        tk_str_t c = tk_cmds_get(s->extra, i);

        tk_cmds_raw(w, c.data, c.len);
    }

    return w->failed ? TK_REDIS_ERROR : 0;
}


/*
 * The commands that make Redis show the keyring (w NULL: only the
 * digest).  old: SMEMBERS tk:pgp:keys, for the keys that are gone.
 */
static int
mb_keys_meta(tk_cmds_t *w, redisReply *old, time_t now, char *digest)
{
    gpgme_key_t     *keys, key;
    gpgme_user_id_t  uid;
    GChecksum       *ck;
    GPtrArray       *addrs;
    mb_addr_t       *a;
    char             err[256], val[128], fkey[TK_KEY_MAX];
    size_t           n, i, j;
    time_t           exp;

    if (mb_crypto_keys(&keys, &n, err, sizeof(err)) != 0) {
        mb_warn("keys: %s", err);
        return -1;
    }

    ck = g_checksum_new(G_CHECKSUM_SHA256);
    addrs = g_ptr_array_new();

    if (w) {
        tk_cmds_add(w, "DEL %s", TK_KEY_PGP_ADDR);
    }

    for (i = 0; i < n; i++) {
        key = keys[i];
        if (key->fpr == NULL) {
            continue;
        }

        mb_keys_key(w, ck, key, now);

        for (uid = key->uids; uid; uid = uid->next) {
            if (uid->email == NULL || *uid->email == '\0'
                || !mb_crypto_key_usable(key, uid->email, now, &exp))
            {
                continue;
            }
            for (j = 0; j < addrs->len; j++) {
                a = g_ptr_array_index(addrs, j);
                if (strcasecmp(a->email, uid->email) == 0) {
                    break;
                }
            }
            if (j == addrs->len) {
                a = calloc(1, sizeof(mb_addr_t));
                if (a == NULL) {
                    continue;
                }
                a->email = mb_lower_dup(uid->email);
                g_ptr_array_add(addrs, a);
            } else if (a->created >= key->subkeys->timestamp) {
                continue;       /* the newer key wins */
            }
            a->fpr = key->fpr;
            a->expires = exp;
            a->created = key->subkeys->timestamp;
        }
    }

    for (j = 0; j < addrs->len; j++) {
        a = g_ptr_array_index(addrs, j);
        snprintf(val, sizeof(val), "%s %lld", a->fpr, (long long) a->expires);
        g_checksum_update(ck, (guchar *) a->email, -1);
        g_checksum_update(ck, (guchar *) val, -1);
        if (w && a->email) {
            tk_cmds_add(w, "HSET %s %s %s", TK_KEY_PGP_ADDR, a->email, val);
        }
        free(a->email);
        free(a);
    }
    g_ptr_array_free(addrs, TRUE);

    /* fingerprints that are no longer in the keyring */
    for (j = 0; w && old && old->type == REDIS_REPLY_ARRAY
                && j < old->elements; j++)
    {
        for (i = 0; i < n; i++) {
            if (keys[i]->fpr && strcmp(keys[i]->fpr, old->element[j]->str)
                                == 0)
            {
                break;
            }
        }
        if (i == n) {
            snprintf(fkey, sizeof(fkey), TK_FMT_PGP_KEY,
                     old->element[j]->str);
            tk_cmds_add(w, "SREM %s %s", TK_KEY_PGP_KEYS,
                        old->element[j]->str);
            tk_cmds_add(w, "DEL %s", fkey);
        }
    }

    snprintf(digest, 65, "%s", g_checksum_get_string(ck));
    g_checksum_free(ck);
    return 0;
}


/* tk:pgp:key:FPR of one key, and its line in the digest. */
static void
mb_keys_key(tk_cmds_t *w, GChecksum *ck, gpgme_key_t key, time_t now)
{
    gpgme_user_id_t  uid;
    GString         *uids, *emails, *line;
    char             fkey[TK_KEY_MAX], *e;
    time_t           exp;

    uids = g_string_new(NULL);
    emails = g_string_new(NULL);

    for (uid = key->uids; uid; uid = uid->next) {
        if (uid->uid) {
            g_string_append_printf(uids, "%s%s%s", uids->len ? "\n" : "",
                                   uid->uid, uid->revoked ? " (revoked)"
                                                          : "");
        }
        if (uid->email && *uid->email
            && mb_crypto_key_usable(key, uid->email, now, NULL))
        {
            e = mb_lower_dup(uid->email);
            if (e && !mb_has_word(emails->str, e)) {
                g_string_append_printf(emails, "%s%s",
                                       emails->len ? " " : "", e);
            }
            free(e);
        }
    }

    exp = key->subkeys ? key->subkeys->expires : 0;

    line = g_string_new(NULL);
    g_string_printf(line, "%s|%s|%s|%lld|%d|%d|%d|%d|%ld", key->fpr,
                    uids->str, emails->str, (long long) exp,
                    key->revoked ? 1 : 0,
                    mb_crypto_key_usable(key, NULL, now, NULL),
                    key->can_sign && !key->revoked && !key->expired ? 1 : 0,
                    key->secret ? 1 : 0,
                    key->subkeys ? (long) key->subkeys->timestamp : 0L);
    g_checksum_update(ck, (guchar *) line->str, (gssize) line->len);

    if (w) {
        snprintf(fkey, sizeof(fkey), TK_FMT_PGP_KEY, key->fpr);
        tk_cmds_add(w, "DEL %s", fkey);
        tk_cmds_add(w, "HSET %s " TK_F_PGP_FPR " %s " TK_F_PGP_UIDS " %s "
                    TK_F_PGP_EMAILS " %s " TK_F_PGP_EXPIRES " %lld "
                    TK_F_PGP_REVOKED " %d " TK_F_PGP_CAN_ENCRYPT " %d "
                    TK_F_PGP_CAN_SIGN " %d " TK_F_PGP_SECRET " %d "
                    TK_F_PGP_CREATED " %ld", fkey, key->fpr, uids->str,
                    emails->str, (long long) exp, key->revoked ? 1 : 0,
                    mb_crypto_key_usable(key, NULL, now, NULL),
                    key->can_sign && !key->revoked && !key->expired ? 1 : 0,
                    key->secret ? 1 : 0,
                    key->subkeys ? (long) key->subkeys->timestamp : 0L);
        tk_cmds_add(w, "SADD %s %s", TK_KEY_PGP_KEYS, key->fpr);
    }

    g_string_free(line, TRUE);
    g_string_free(uids, TRUE);
    g_string_free(emails, TRUE);
}


/* ---- helpers ------------------------------------------------------------ */

/* Value of a field of a stream entry ([f1, v1, f2, v2, ...]). */
static const char *
mb_field(redisReply *fields, const char *name, size_t *len)
{
    size_t  i;

    if (fields->type != REDIS_REPLY_ARRAY) {
        return NULL;
    }

    for (i = 0; i + 1 < fields->elements; i += 2) {
        if (fields->element[i]->type == REDIS_REPLY_STRING
            && strcmp(fields->element[i]->str, name) == 0
            && fields->element[i + 1]->type == REDIS_REPLY_STRING)
        {
            if (len) {
                *len = fields->element[i + 1]->len;
            }
            return fields->element[i + 1]->str;
        }
    }

    return NULL;
}


static char *
mb_lower_dup(const char *s)
{
    char    *d = strdup(s);
    size_t   i;

    for (i = 0; d && d[i]; i++) {
        if (d[i] >= 'A' && d[i] <= 'Z') {
            d[i] = (char) (d[i] + 32);
        }
    }

    return d;
}


/* word is one of the space-separated words of list */
static int
mb_has_word(const char *list, const char *word)
{
    size_t       n = strlen(word);
    const char  *p = list;

    while ((p = strstr(p, word)) != NULL) {
        if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ')) {
            return 1;
        }
        p += n;
    }

    return 0;
}
