/*
 * tc_user.c -- "ticketctl user": agent accounts (yescrypt passwords,
 * rights per group), and the user writer and checks that demo, gen and
 * "token" reuse.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ticketctl.h"


#define TC_PAIRS_MAX  16

/* like NGX_HTTP_TICKET_SESSION_GEN_BYTES: hex in TK_F_SESSION_GEN */
#define TC_SESSION_GEN_BYTES  8

/* A change of an existing user: field/value pairs to HSET. */
typedef struct {
    const char  *login;
    const char  *fields[TC_PAIRS_MAX];
    const char  *values[TC_PAIRS_MAX];
    int          n;
    int          must_not_exist;   /* user add */
    int          existed;
    tc_user_t   *user;             /* user add: the whole record */
} tc_user_change_t;


static int tc_user_add(tc_ctx_t *ctx, int argc, char **argv);
static int tc_user_list(tc_ctx_t *ctx, int argc, char **argv);
static int tc_user_passwd(tc_ctx_t *ctx, int argc, char **argv);
static int tc_user_disable(tc_ctx_t *ctx, int argc, char **argv);
static int tc_user_enable(tc_ctx_t *ctx, int argc, char **argv);
static int tc_user_able(tc_ctx_t *ctx, int argc, char **argv, int enable);
static int tc_user_set(tc_ctx_t *ctx, int argc, char **argv);
static int tc_user_end_sessions(tc_ctx_t *ctx, int argc, char **argv);
static int tc_user_change(tc_ctx_t *ctx, tc_user_change_t *ch);
static int tc_user_change_decide(void *data, redisReply **reads,
    size_t nreads, tk_cmds_t *writes);
static int tc_check_name(const char *name);
static int tc_check_lang(const char *lang);
static int tc_new_password(char *hash, size_t size);


static const tc_command_t  tc_user_commands[] = {
    { "add", tc_user_add },
    { "list", tc_user_list },
    { "passwd", tc_user_passwd },
    { "disable", tc_user_disable },
    { "enable", tc_user_enable },
    { "set", tc_user_set },
    { "end-sessions", tc_user_end_sessions },
    { NULL, NULL }
};


/* ---- shared writer and checks ------------------------------------------- */

void
tc_user_write(tk_cmds_t *c, const tc_user_t *u, int64_t now)
{
    char  key[TK_KEY_MAX];

    snprintf(key, sizeof(key), TK_FMT_USER, u->login);

    tk_cmds_add(c, "HSET %s " TK_F_LOGIN " %s " TK_F_NAME " %s " TK_F_EMAIL
                " %s " TK_F_ROLE " %s " TK_F_RIGHTS " %s " TK_F_LANG " %s "
                TK_F_DISABLED " %s " TK_F_CREATED " %lld",
                key, u->login, u->name, u->email,
                u->admin ? "admin" : "agent", u->rights ? u->rights : "",
                u->lang ? u->lang : "de", u->disabled ? "1" : "0",
                (long long) now);

    if (u->password_hash) {
        tk_cmds_add(c, "HSET %s " TK_F_PASSWORD " %s", key,
                    u->password_hash);
    }

    tk_cmds_add(c, "SADD " TK_KEY_USERS " %s", u->login);

    /* names and rights are part of rendered pages: nginx's page cache
     * must not keep what was made before (SCHEMA.md, tk:{ix}:gen) */
    tk_index_touch(c);
}


/* In tk:users: the list of accounts (demo and gen create missing ones). */
int
tc_user_listed(tc_ctx_t *ctx, const char *login)
{
    return tc_sismember(ctx, TK_KEY_USERS, login);
}


/* The account's hash: what owners and tokens need. */
int
tc_user_exists(tc_ctx_t *ctx, const char *login)
{
    redisReply  *reply;
    char         key[TK_KEY_MAX];
    int          exists;

    snprintf(key, sizeof(key), TK_FMT_USER, login);

    reply = tc_command(ctx, "EXISTS %s", key);
    if (reply == NULL) {
        return -1;
    }

    exists = reply->integer == 1;
    freeReplyObject(reply);

    return exists;
}


/* ---- validation --------------------------------------------------------- */

int
tc_check_login(const char *login)
{
    tk_str_t  s;

    tc_str(&s, login);

    if (!tk_valid_login(&s)) {
        return tc_fail(EX_DATAERR, "invalid login \"%s\": use 1 to %d of "
                       "a-z 0-9 . _ -", login, TK_LOGIN_MAX);
    }

    return EX_OK;
}


static int
tc_check_name(const char *name)
{
    const unsigned char  *p;

    if (*name == '\0' || strlen(name) > 200) {
        return tc_fail(EX_DATAERR, "invalid name \"%s\": 1 to 200 bytes",
                       name);
    }

    for (p = (const unsigned char *) name; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return tc_fail(EX_DATAERR, "invalid name \"%s\": control "
                           "characters", name);
        }
    }

    return EX_OK;
}


/* Deliberately loose: one '@', something on both sides, no blanks. */
int
tc_check_email(const char *email)
{
    const char  *at;
    size_t       i;

    at = strchr(email, '@');

    if (at == NULL || at == email || at[1] == '\0' || strchr(at + 1, '@')
        || strlen(email) > 254)
    {
        return tc_fail(EX_DATAERR, "invalid email address \"%s\"", email);
    }

    for (i = 0; email[i]; i++) {
        if ((unsigned char) email[i] <= ' ' || strchr("<>,;\"()", email[i])) {
            return tc_fail(EX_DATAERR, "invalid email address \"%s\"",
                           email);
        }
    }

    return EX_OK;
}


static int
tc_check_lang(const char *lang)
{
    if (strcmp(lang, "de") != 0 && strcmp(lang, "en") != 0) {
        return tc_fail(EX_DATAERR, "invalid language \"%s\": de or en",
                       lang);
    }

    return EX_OK;
}


/* --password-stdin: one line, at least TC_PASSWORD_MIN characters */
static int
tc_new_password(char *hash, size_t size)
{
    char  password[TC_PASSWORD_MAX + 2];
    int   rc;

    if (tc_read_password(password, sizeof(password)) != 0) {
        return tc_fail(EX_DATAERR, "no password on stdin (or longer than "
                       "%d bytes)", TC_PASSWORD_MAX);
    }

    if (strlen(password) < TC_PASSWORD_MIN) {
        explicit_bzero(password, sizeof(password));
        return tc_fail(EX_DATAERR, "password too short: at least %d "
                       "characters", TC_PASSWORD_MIN);
    }

    rc = tc_password_hash(password, hash, size);
    explicit_bzero(password, sizeof(password));

    if (rc != 0) {
        return tc_fail(EX_SOFTWARE, "yescrypt hashing failed");
    }

    return EX_OK;
}


/* ---- user --------------------------------------------------------------- */

int
tc_cmd_user(tc_ctx_t *ctx, int argc, char **argv)
{
    return tc_subcommand(ctx, argc, argv, "user", tc_user_commands);
}


static int
tc_user_add(tc_ctx_t *ctx, int argc, char **argv)
{
    static const struct option  opts[] = {
        { "name", required_argument, NULL, 'n' },
        { "email", required_argument, NULL, 'e' },
        { "admin", no_argument, NULL, 'a' },
        { "groups", required_argument, NULL, 'g' },
        { "lang", required_argument, NULL, 'l' },
        { "password-stdin", no_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 }
    };

    tc_user_t         u;
    tc_user_change_t  ch;
    char              hash[256];
    int               c, rc, pw;

    memset(&u, 0, sizeof(u));
    u.lang = "de";
    u.rights = "";
    pw = 0;
    optind = 0;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n': u.name = optarg; break;
        case 'e': u.email = optarg; break;
        case 'a': u.admin = 1; break;
        case 'g': u.rights = optarg; break;
        case 'l': u.lang = optarg; break;
        case 'p': pw = 1; break;
        default: return tc_usage("user");
        }
    }

    if (optind != argc - 1 || u.name == NULL || u.email == NULL || !pw) {
        tc_fail(EX_USAGE, "user add needs LOGIN, --name, --email and "
                "--password-stdin");
        return tc_usage("user");
    }

    u.login = argv[optind];

    if ((rc = tc_check_login(u.login)) || (rc = tc_check_name(u.name))
        || (rc = tc_check_email(u.email)) || (rc = tc_check_lang(u.lang)))
    {
        return rc;
    }

    if ((rc = tc_connect(ctx, 1)) || (rc = tc_rights_check(ctx, u.rights))) {
        return rc;
    }

    if ((rc = tc_new_password(hash, sizeof(hash)))) {
        return rc;
    }

    u.password_hash = hash;

    memset(&ch, 0, sizeof(ch));
    ch.login = u.login;
    ch.must_not_exist = 1;
    ch.user = &u;

    rc = tc_user_change(ctx, &ch);
    if (rc == EX_OK) {
        printf("user %s created (%s%s%s)\n", u.login,
               u.admin ? "admin" : "agent", *u.rights ? ", " : "", u.rights);
    }

    return rc;
}


/*
 * Every change of a user is WATCH tk:{u:LOGIN} / EXISTS / MULTI HSET
 * EXEC: "user add" must not overwrite an account created at the same
 * moment, the others must not resurrect a user deleted meanwhile.
 */
static int
tc_user_change(tc_ctx_t *ctx, tc_user_change_t *ch)
{
    tk_arena_t         arena;
    tk_cmds_t          reads;
    char               key[TK_KEY_MAX];
    const char        *keys[1];
    int                rc;

    snprintf(key, sizeof(key), TK_FMT_USER, ch->login);
    keys[0] = key;

    tk_arena_init(&arena);
    tk_cmds_init(&reads, tk_arena_alloc, &arena);
    tk_cmds_add(&reads, "EXISTS %s", key);

    rc = tk_redis_tx(&ctx->redis, keys, 1, &reads, tc_user_change_decide, ch,
                     5, NULL);
    tk_arena_reset(&arena);

    if (rc == TK_REDIS_ABORT) {
        if (ch->must_not_exist) {
            return tc_fail(EX_DATAERR, "user \"%s\" exists already (change "
                           "it with \"ticketctl user set\")", ch->login);
        }

        return tc_fail(EX_DATAERR, "no user \"%s\" (see \"ticketctl user "
                       "list\")", ch->login);
    }

    if (rc != TK_REDIS_OK) {
        return tc_redis_fail(ctx, rc);
    }

    return EX_OK;
}


static int
tc_user_change_decide(void *data, redisReply **reads, size_t nreads,
    tk_cmds_t *writes)
{
    tc_user_change_t  *ch = data;
    char               key[TK_KEY_MAX];
    int                i;

    ch->existed = reads[0]->type == REDIS_REPLY_INTEGER
                  && reads[0]->integer == 1;

    if (ch->existed == ch->must_not_exist) {
        return TK_REDIS_ABORT;
    }

    if (ch->user) {
        tc_user_write(writes, ch->user, (int64_t) time(NULL));
        return 0;
    }

    snprintf(key, sizeof(key), TK_FMT_USER, ch->login);

    for (i = 0; i < ch->n; i++) {
        tk_cmds_add(writes, "HSET %s %s %s", key, ch->fields[i],
                    ch->values[i]);
    }

    /* a name, rights, a disabled account: pages cached before are out */
    tk_index_touch(writes);

    return 0;
}


static int
tc_user_list(tc_ctx_t *ctx, int argc, char **argv)
{
    tk_arena_t    arena;
    tk_cmds_t     cmds;
    redisReply   *set, **replies;
    char        **logins;
    char          key[TK_KEY_MAX];
    size_t        i, n;
    int           rc;

    if (argc != 1) {
        return tc_usage("user");
    }

    if ((rc = tc_connect(ctx, 1))
        || (rc = tc_members_sorted(ctx, TK_KEY_USERS, &set, &logins, &n)))
    {
        return rc;
    }

    tk_arena_init(&arena);
    tk_cmds_init(&cmds, tk_arena_alloc, &arena);

    for (i = 0; i < n; i++) {
        snprintf(key, sizeof(key), TK_FMT_USER, logins[i]);
        tk_cmds_add(&cmds, "HMGET %s " TK_F_NAME " " TK_F_EMAIL " " TK_F_ROLE
                    " " TK_F_LANG " " TK_F_DISABLED " " TK_F_RIGHTS, key);
    }

    replies = NULL;
    rc = n ? tk_redis_pipeline(&ctx->redis, &cmds, &replies) : TK_REDIS_OK;

    if (rc != TK_REDIS_OK) {
        rc = tc_redis_fail(ctx, rc);

    } else {
        printf("%-16s %-24s %-30s %-5s %-4s %-8s %s\n", "LOGIN", "NAME",
               "EMAIL", "ROLE", "LANG", "STATUS", "RIGHTS");

        /* names and addresses may hold umlauts: padded by width */
        for (i = 0; i < n; i++) {
            tc_print_col(logins[i], 16);
            tc_print_col(tc_reply_str(replies[i], 0), 24);
            tc_print_col(tc_reply_str(replies[i], 1), 30);
            printf("%-5s %-4s %-8s %s\n",
                   tc_reply_str(replies[i], 2), tc_reply_str(replies[i], 3),
                   strcmp(tc_reply_str(replies[i], 4), "1") == 0
                       ? "disabled" : "active",
                   tc_reply_str(replies[i], 5));
        }

        rc = EX_OK;
    }

    tk_redis_replies_free(replies, n);
    tk_arena_reset(&arena);
    free(logins);
    freeReplyObject(set);

    return rc;
}


static int
tc_user_passwd(tc_ctx_t *ctx, int argc, char **argv)
{
    static const struct option  opts[] = {
        { "password-stdin", no_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 }
    };

    tc_user_change_t  ch;
    char              hash[256], gen[2 * TC_SESSION_GEN_BYTES + 1];
    int               c, rc, pw;

    pw = 0;
    optind = 0;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'p') {
            return tc_usage("user");
        }
        pw = 1;
    }

    if (optind != argc - 1 || !pw) {
        tc_fail(EX_USAGE, "user passwd needs LOGIN and --password-stdin");
        return tc_usage("user");
    }

    memset(&ch, 0, sizeof(ch));
    ch.login = argv[optind];

    if ((rc = tc_check_login(ch.login)) || (rc = tc_connect(ctx, 1))
        || (rc = tc_new_password(hash, sizeof(hash))))
    {
        return rc;
    }

    /* a new password ends the user's sessions (docs/security.md) */
    if (tc_random_hex(gen, TC_SESSION_GEN_BYTES) != 0) {
        return tc_fail(EX_OSERR, "getrandom failed");
    }

    ch.fields[0] = TK_F_PASSWORD;
    ch.values[0] = hash;
    ch.fields[1] = TK_F_SESSION_GEN;
    ch.values[1] = gen;
    ch.n = 2;

    rc = tc_user_change(ctx, &ch);
    if (rc == EX_OK) {
        printf("password of %s changed, their sessions ended\n", ch.login);
    }

    return rc;
}


static int
tc_user_disable(tc_ctx_t *ctx, int argc, char **argv)
{
    return tc_user_able(ctx, argc, argv, 0);
}


static int
tc_user_enable(tc_ctx_t *ctx, int argc, char **argv)
{
    return tc_user_able(ctx, argc, argv, 1);
}


/* A new session generation: every session of the user is over at its
 * next request (the web's "end all sessions"). */
static int
tc_user_end_sessions(tc_ctx_t *ctx, int argc, char **argv)
{
    tc_user_change_t  ch;
    char              gen[2 * TC_SESSION_GEN_BYTES + 1];
    int               rc;

    if (argc != 2) {
        return tc_usage("user");
    }

    memset(&ch, 0, sizeof(ch));
    ch.login = argv[1];

    if ((rc = tc_check_login(ch.login)) || (rc = tc_connect(ctx, 1))) {
        return rc;
    }

    if (tc_random_hex(gen, TC_SESSION_GEN_BYTES) != 0) {
        return tc_fail(EX_OSERR, "getrandom failed");
    }

    ch.fields[0] = TK_F_SESSION_GEN;
    ch.values[0] = gen;
    ch.n = 1;

    rc = tc_user_change(ctx, &ch);
    if (rc == EX_OK) {
        printf("sessions of %s ended\n", ch.login);
    }

    return rc;
}


static int
tc_user_able(tc_ctx_t *ctx, int argc, char **argv, int enable)
{
    tc_user_change_t  ch;
    int               rc;

    if (argc != 2) {
        return tc_usage("user");
    }

    memset(&ch, 0, sizeof(ch));
    ch.login = argv[1];

    if ((rc = tc_check_login(ch.login)) || (rc = tc_connect(ctx, 1))) {
        return rc;
    }

    ch.fields[0] = TK_F_DISABLED;
    ch.values[0] = enable ? "0" : "1";
    ch.n = 1;

    rc = tc_user_change(ctx, &ch);
    if (rc == EX_OK) {
        printf("user %s %s\n", ch.login, enable ? "enabled" : "disabled");
    }

    return rc;
}


static int
tc_user_set(tc_ctx_t *ctx, int argc, char **argv)
{
    static const struct option  opts[] = {
        { "name", required_argument, NULL, 'n' },
        { "email", required_argument, NULL, 'e' },
        { "groups", required_argument, NULL, 'g' },
        { "admin", no_argument, NULL, 'a' },
        { "no-admin", no_argument, NULL, 'A' },
        { "lang", required_argument, NULL, 'l' },
        { NULL, 0, NULL, 0 }
    };

    tc_user_change_t  ch;
    const char       *name, *email, *rights, *lang, *role;
    int               c, rc;

    name = email = rights = lang = role = NULL;
    optind = 0;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n': name = optarg; break;
        case 'e': email = optarg; break;
        case 'g': rights = optarg; break;
        case 'a': role = "admin"; break;
        case 'A': role = "agent"; break;
        case 'l': lang = optarg; break;
        default: return tc_usage("user");
        }
    }

    if (optind != argc - 1 || !(name || email || rights || lang || role)) {
        tc_fail(EX_USAGE, "user set needs LOGIN and at least one change");
        return tc_usage("user");
    }

    memset(&ch, 0, sizeof(ch));
    ch.login = argv[optind];

    if ((rc = tc_check_login(ch.login))
        || (name && (rc = tc_check_name(name)))
        || (email && (rc = tc_check_email(email)))
        || (lang && (rc = tc_check_lang(lang)))
        || (rc = tc_connect(ctx, 1))
        || (rights && (rc = tc_rights_check(ctx, rights))))
    {
        return rc;
    }

#define TC_SET(f, v)                                                         \
    if (v) {                                                                 \
        ch.fields[ch.n] = f;                                                 \
        ch.values[ch.n++] = v;                                               \
    }

    TC_SET(TK_F_NAME, name);
    TC_SET(TK_F_EMAIL, email);
    TC_SET(TK_F_RIGHTS, rights);
    TC_SET(TK_F_ROLE, role);
    TC_SET(TK_F_LANG, lang);

#undef TC_SET

    rc = tc_user_change(ctx, &ch);
    if (rc == EX_OK) {
        printf("user %s changed\n", ch.login);
    }

    return rc;
}
