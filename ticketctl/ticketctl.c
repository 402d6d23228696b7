/*
 * ticketctl.c -- the admin command line: option parsing, the Redis
 * connection, exit codes (sysexits) and the helpers every subcommand
 * uses.  The subcommands live in tc_*.c.
 *
 *   ticketctl [--redis ADDR] COMMAND ...      (see tc_usage below)
 */

#include <crypt.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "ticketctl.h"


/* make run's socket; the Debian package builds with its own instance's
 * (make TC_DEFAULT_REDIS=..., debian/rules) */
#ifndef TC_DEFAULT_REDIS
#define TC_DEFAULT_REDIS    "unix:var/redis/redis.sock"
#endif
#define TC_TIMEOUT_MS       10000


static int tc_addr_valid(const char *addr);
static int tc_random(void *buf, size_t n);
static int tc_strcmp(const void *a, const void *b);


static const tc_command_t  tc_commands[] = {
    { "init", tc_cmd_init },
    { "user", tc_cmd_user },
    { "group", tc_cmd_group },
    { "token", tc_cmd_token },
    { "ticket", tc_cmd_ticket },
    { "demo", tc_cmd_demo },
    { "gen", tc_cmd_gen },
    { "reindex", tc_cmd_reindex },
    { "outbox", tc_cmd_outbox },
    { "sla", tc_cmd_sla },
    { "calendar", tc_cmd_calendar },
    { "trigger", tc_cmd_trigger },
    { "migrate", tc_cmd_migrate },
    { "backup", tc_cmd_backup },
    { "restore", tc_cmd_restore },
    { "customer", tc_cmd_customer },         /* casework: data protection */
    { NULL, NULL }
};

/* usage text per topic; tc_usage(NULL) prints them all */
static const struct {
    const char  *topic;
    const char  *text;
} tc_usages[] = {
    { "init",
      "  init                      set up an empty Redis (idempotent): schema\n"
      "                            version, full-text index\n" },
    { "user",
      "  user add LOGIN --name NAME --email ADDR --password-stdin\n"
      "           [--admin] [--groups G:full,H:read] [--lang de|en]\n"
      "  user list\n"
      "  user passwd LOGIN --password-stdin\n"
      "  user disable LOGIN | user enable LOGIN\n"
      "  user end-sessions LOGIN\n"
      "  user set LOGIN [--name N] [--email E] [--groups G:full,...]\n"
      "           [--admin|--no-admin] [--lang de|en]\n" },
    { "group",
      "  group add NAME [--email ADDR] [--display-name NAME] [--signature TEXT]\n"
      "           [--all-agents]\n"
      "  group set NAME [--email ADDR] [--display-name NAME] [--signature TEXT]\n"
      "           [--all-agents|--no-all-agents]\n"
      "  group list\n" },
    { "sla",
      "  sla show                  service levels per priority (tk:sla)\n"
      "  sla set KIND:PRIORITY DURATION\n"
      "                            KIND first_response|update|solution,\n"
      "                            DURATION 30m, 24h, 5d, seconds; 0 never\n" },
    { "calendar",
      "  calendar show [NAME]      business hours (default: \"default\")\n"
      "  calendar set NAME FIELD VALUE\n"
      "                            tz ZONE | sun..sat HH:MM-HH:MM[,..] | -\n"
      "                            | holidays \"YYYY-MM-DD ...\"\n"
      "  calendar group GROUP NAME the group's tickets use calendar NAME\n" },
    { "token",
      "  token add LOGIN           print a new API token for LOGIN\n"
      "  token list LOGIN          first digits, created, label\n"
      "  token revoke TOKEN\n" },
    { "ticket",
      "  ticket list [--group G] [--state S] [--limit N]\n"
      "  ticket create --group G --title T --customer EMAIL [--name N]\n"
      "           [--body TEXT] [--owner LOGIN] [--priority P] [--state S]\n"
      "  ticket update NUMBER [--state S] [--priority P] [--owner LOGIN|\"\"]\n"
      "           [--group G] [--title T]\n" },
    { "demo",
      "  demo                      groups, admin account, demo agents and\n"
      "                            tickets for a first start (idempotent)\n" },
    { "gen",
      "  gen --tickets N [--articles M] [--seed S] [--password-stdin]\n"
      "           [--no-fulltext]  bench data, pipelined; agents anna..tilda\n"
      "                            (password bench-password unless given)\n" },
    { "reindex",
      "  reindex [--fulltext]      rebuild overview indexes and counts from\n"
      "                            the ticket hashes; --fulltext also drops\n"
      "                            and rebuilds the full-text index (after\n"
      "                            an upgrade that changed its definition)\n" },
    { "outbox",
      "  outbox [--limit N]        outbound mail not yet final: state, tries,\n"
      "                            next retry, last SMTP reply\n" },
    { "trigger",
      "  trigger add NAME [--on create|update|both] [--subject RE] [--body RE]\n"
      "           [--from RE] [--icase 0|1] [--group G,..] [--priority P,..]\n"
      "           [--state S,..] [--auto 0|1] [--active 0|1] [--order N]\n"
      "           [--set-priority P] [--set-state S] [--set-group G]\n"
      "           [--set-owner LOGIN|-] [--notify LOGIN,@GROUP,..]\n"
      "           [--set-tags TAG,..]\n"
      "           [--note TEXT]   (patterns: PCRE2, checked before saving)\n"
      "  trigger set ID|NAME [the same options; \"\" clears a field]\n"
      "  trigger list | trigger del ID|NAME\n"
      "  trigger test --subject S [--body B] [--from F] [--group G]\n"
      "           [--priority P] [--state S] [--auto 0|1] [--on create|update]\n"
      "                            which rules would fire (exit 1: none)\n" },
    { "migrate",
      "  migrate                   bring an older schema to this version\n"
      "                            (stop nginx and mailbridge first)\n" },
    { "backup",
      "  backup DIR [--keyring PATH]\n"
      "                            BGSAVE snapshot + AOF copy + mailbridge's\n"
      "                            keyring into the new directory DIR (run\n"
      "                            on the Redis host, as root or redis)\n" },
    { "restore",
      "  restore DIR --data-dir D [--aof] [--keyring PATH]\n"
      "                            put a backup into the empty data dir D of\n"
      "                            a stopped Redis (--aof: the AOF copy\n"
      "                            instead of the snapshot)\n" },
    { "customer",
      "  customer export ADDRESS -o FILE.zip\n"
      "                            everything held about the person: JSON,\n"
      "                            every mail as .eml, attachments\n"
      "  customer erase ADDRESS --mode delete|anonymise --yes [--no-reindex]\n"
      "           [--verify]       delete their tickets or anonymise them;\n"
      "                            rebuilds the full-text index afterwards;\n"
      "                            --verify reads every key for what is left\n"
      "  customer work [--once]    work off the web's export and erase\n"
      "                            requests (tk:dp:requests)\n" },
    { NULL, NULL }
};


int
tc_fail(int code, const char *fmt, ...)
{
    va_list  ap;

    fputs("ticketctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);

    return code;
}


int
tc_usage(const char *topic)
{
    int  i, found;

    fputs("usage: ticketctl [--redis unix:/path|host:port] COMMAND ...\n"
          "  (default Redis: $TICKET_REDIS, else " TC_DEFAULT_REDIS ")\n",
          stderr);

    found = 0;

    for (i = 0; tc_usages[i].topic; i++) {
        if (topic == NULL || strcmp(topic, tc_usages[i].topic) == 0) {
            fputs(tc_usages[i].text, stderr);
            found = 1;
        }
    }

    if (!found) {
        for (i = 0; tc_usages[i].topic; i++) {
            fputs(tc_usages[i].text, stderr);
        }
    }

    return EX_USAGE;
}


int
tc_subcommand(tc_ctx_t *ctx, int argc, char **argv, const char *topic,
    const tc_command_t *subs)
{
    int  i;

    if (argc < 2) {
        return tc_usage(topic);
    }

    for (i = 0; subs[i].name; i++) {
        if (strcmp(argv[1], subs[i].name) == 0) {
            return subs[i].handler(ctx, argc - 1, argv + 1);
        }
    }

    tc_fail(EX_USAGE, "unknown %s command \"%s\"", topic, argv[1]);

    return tc_usage(topic);
}


int
tc_connect(tc_ctx_t *ctx, int need_schema)
{
    int  rc;

    if (!ctx->connected) {
        rc = tk_redis_connect(&ctx->redis, ctx->addr, ctx->timeout_ms);
        if (rc != TK_REDIS_OK) {
            return tc_fail(EX_UNAVAILABLE, "%s", ctx->redis.err);
        }

        ctx->connected = 1;
    }

    if (!need_schema) {
        return EX_OK;
    }

    rc = tk_redis_schema_check(&ctx->redis);

    return rc == TK_REDIS_OK ? EX_OK : tc_redis_fail(ctx, rc);
}


/*
 * Redis unreachable or not initialised: 69 (try again / run init);
 * Redis refusing a command means a bug or a broken data set: 70.
 */
int
tc_redis_fail(tc_ctx_t *ctx, int rc)
{
    int  code;

    switch (rc) {
    case TK_REDIS_ERROR:
    case TK_REDIS_NOSCHEMA:
    case TK_REDIS_BADSCHEMA:
        code = EX_UNAVAILABLE;
        break;
    case TK_REDIS_CONFLICT:
        code = EX_TEMPFAIL;
        break;
    default:
        code = EX_SOFTWARE;
        break;
    }

    return tc_fail(code, "%s", ctx->redis.err);
}


int
tc_run(tc_ctx_t *ctx, tk_cmds_t *cmds)
{
    int  rc;

    rc = tk_redis_pipeline(&ctx->redis, cmds, NULL);

    return rc == TK_REDIS_OK ? EX_OK : tc_redis_fail(ctx, rc);
}


/* root behind sudo is not who did it: the one who ran sudo is */
void
tc_actor(tk_cmds_t *cmds)
{
    const char     *who;
    struct passwd  *pw;
    tk_str_t        s;

    who = getenv("SUDO_USER");

    if (who == NULL || *who == '\0') {
        pw = getpwuid(getuid());
        who = pw ? pw->pw_name : "ticketctl";
    }

    tc_str(&s, who);
    tk_cmds_actor(cmds, &s, TK_SRC_CLI);
}


redisReply *
tc_command(tc_ctx_t *ctx, const char *fmt, ...)
{
    va_list      ap;
    redisReply  *reply;

    va_start(ap, fmt);
    reply = redisvCommand(ctx->redis.ctx, fmt, ap);
    va_end(ap);

    if (reply == NULL) {
        tk_redis_set_error(&ctx->redis, "Redis at %s: %s", ctx->redis.addr,
                           ctx->redis.ctx->errstr);
        tc_redis_fail(ctx, TK_REDIS_ERROR);
        return NULL;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        tc_fail(EX_SOFTWARE, "Redis at %s: %s", ctx->redis.addr, reply->str);
        freeReplyObject(reply);
        return NULL;
    }

    return reply;
}


int
tc_sismember(tc_ctx_t *ctx, const char *set, const char *member)
{
    redisReply  *reply;
    int          is;

    reply = tc_command(ctx, "SISMEMBER %s %s", set, member);
    if (reply == NULL) {
        return -1;
    }

    is = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
    freeReplyObject(reply);

    return is;
}


/* Listings are sorted by name: Redis returns set members in any order. */
int
tc_members_sorted(tc_ctx_t *ctx, const char *key, redisReply **set,
    char ***names, size_t *n)
{
    size_t  i;

    *set = tc_command(ctx, "SMEMBERS %s", key);
    if (*set == NULL) {
        return EX_UNAVAILABLE;
    }

    *n = (*set)->elements;
    *names = calloc(*n + 1, sizeof(char *));
    if (*names == NULL) {
        freeReplyObject(*set);
        return tc_fail(EX_OSERR, "out of memory");
    }

    for (i = 0; i < *n; i++) {
        (*names)[i] = (*set)->element[i]->str;
    }

    qsort(*names, *n, sizeof(char *), tc_strcmp);

    return EX_OK;
}


static int
tc_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}


const char *
tc_reply_str(redisReply *r, size_t i)
{
    if (r->type != REDIS_REPLY_ARRAY || i >= r->elements
        || r->element[i]->type != REDIS_REPLY_STRING)
    {
        return "";
    }

    return r->element[i]->str;
}


tk_str_t *
tc_reply_pairs(redisReply *r, tk_alloc_pt alloc, void *data)
{
    tk_str_t  *pairs;
    size_t     i;

    pairs = alloc(data, (r->elements + 1) * sizeof(tk_str_t));
    if (pairs == NULL) {
        return NULL;
    }

    for (i = 0; i < r->elements; i++) {
        pairs[i].data = (unsigned char *) r->element[i]->str;
        pairs[i].len = r->element[i]->len;
    }

    return pairs;
}


int
tc_read_password(char *buf, size_t size)
{
    size_t  n;

    if (fgets(buf, (int) size, stdin) == NULL) {
        buf[0] = '\0';
        return -1;
    }

    n = strlen(buf);

    if (n == size - 1 && buf[n - 1] != '\n') {
        return -1;                     /* longer than TC_PASSWORD_MAX */
    }

    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        buf[--n] = '\0';
    }

    return 0;
}


/* yescrypt with libxcrypt's default cost, the same as the module checks */
int
tc_password_hash(const char *password, char *out, size_t size)
{
    struct crypt_data  *data;
    char               *salt;
    const char         *hash;
    int                 rc;

    salt = crypt_gensalt_ra("$y$", 0, NULL, 0);
    if (salt == NULL) {
        return -1;
    }

    data = calloc(1, sizeof(struct crypt_data));
    if (data == NULL) {
        free(salt);
        return -1;
    }

    hash = crypt_r(password, salt, data);
    rc = -1;

    if (hash && strncmp(hash, "$y$", 3) == 0 && strlen(hash) < size) {
        strcpy(out, hash);
        rc = 0;
    }

    free(data);
    free(salt);

    return rc;
}


static int
tc_random(void *buf, size_t n)
{
    unsigned char  *p = buf;
    ssize_t         got;

    while (n) {
        got = getrandom(p, n, 0);

        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }

        p += got;
        n -= (size_t) got;
    }

    return 0;
}


int
tc_random_hex(char *out, size_t n)
{
    static const char  hex[] = "0123456789abcdef";
    unsigned char      bytes[256];
    size_t             i;

    if (n > sizeof(bytes) || tc_random(bytes, n) != 0) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 0xf];
    }

    out[2 * n] = '\0';

    return 0;
}


/* no 0/O, 1/l/I: these passwords are read off a terminal and typed */
int
tc_random_password(char *out, size_t len)
{
    static const char  alphabet[] =
        "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    unsigned char      bytes[256];
    size_t             i, n;

    n = sizeof(alphabet) - 1;

    if (len > sizeof(bytes) || tc_random(bytes, len) != 0) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        out[i] = alphabet[bytes[i] % n];
    }

    out[len] = '\0';

    return 0;
}


void
tc_str(tk_str_t *s, const char *p)
{
    s->data = (unsigned char *) (p ? p : "");
    s->len = p ? strlen(p) : 0;
}


char *
tc_lower(char *s)
{
    char  *p;

    for (p = s; *p; p++) {
        if (*p >= 'A' && *p <= 'Z') {
            *p |= 0x20;
        }
    }

    return s;
}


/* "unix:/path", "/path" or "host:port" with a port 1..65535 */
static int
tc_addr_valid(const char *addr)
{
    const char  *colon;
    char        *end;
    long         port;

    if (strncmp(addr, "unix:", 5) == 0) {
        return addr[5] != '\0';
    }

    /* sentinel://h:p,h:p/NAME (tk_redis_connect checks the rest) */
    if (strncmp(addr, "sentinel://", 11) == 0) {
        return strchr(addr + 11, '/') != NULL;
    }

    if (addr[0] == '/') {
        return 1;
    }

    colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr) {
        return 0;
    }

    port = strtol(colon + 1, &end, 10);

    return *end == '\0' && colon[1] != '\0' && port > 0 && port <= 65535;
}


int
main(int argc, char **argv)
{
    tc_ctx_t     ctx;
    const char  *env;
    int          i, rc;

    memset(&ctx, 0, sizeof(ctx));
    ctx.timeout_ms = TC_TIMEOUT_MS;

    env = getenv("TICKET_REDIS");
    ctx.addr = (env && *env) ? env : TC_DEFAULT_REDIS;

    argc--;
    argv++;

    while (argc > 0 && argv[0][0] == '-') {
        if (strcmp(argv[0], "--redis") == 0 && argc > 1) {
            ctx.addr = argv[1];
            argc -= 2;
            argv += 2;

        } else if (strncmp(argv[0], "--redis=", 8) == 0) {
            ctx.addr = argv[0] + 8;
            argc--;
            argv++;

        } else if (strcmp(argv[0], "-h") == 0
                   || strcmp(argv[0], "--help") == 0)
        {
            tc_usage(NULL);
            return EX_OK;

        } else {
            tc_fail(EX_USAGE, "unknown option \"%s\"", argv[0]);
            return tc_usage(NULL);
        }
    }

    if (argc == 0) {
        return tc_usage(NULL);
    }

    if (!tc_addr_valid(ctx.addr)) {
        tc_fail(EX_USAGE, "invalid Redis address \"%s\": want "
                "unix:/path/redis.sock, host:port or "
                "sentinel://host:port,.../NAME", ctx.addr);
        return tc_usage(NULL);
    }

    for (i = 0; tc_commands[i].name; i++) {
        if (strcmp(argv[0], tc_commands[i].name) == 0) {
            break;
        }
    }

    if (tc_commands[i].name == NULL) {
        tc_fail(EX_USAGE, "unknown command \"%s\"", argv[0]);
        return tc_usage(NULL);
    }

    rc = tc_commands[i].handler(&ctx, argc, argv);

    if (ctx.connected) {
        tk_redis_close(&ctx.redis);
    }

    if (fflush(stdout) != 0 && rc == EX_OK) {
        rc = tc_fail(EX_IOERR, "writing output: %s", strerror(errno));
    }

    return rc;
}
