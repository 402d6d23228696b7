/*
 * config.c -- the configuration file: "key = value" lines, '#' starts a
 * comment line.  Documented in docs/mailbridge.md.  A file that holds a
 * password must not be readable by group or others: we refuse to start
 * (EX_CONFIG) rather than run with a leaked secret.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mailbridge.h"
#include "mb_notify.h"

#define MB_DEFAULT_MAX_SIZE  (25u * 1024 * 1024)
#define MB_DEFAULT_POLL      30
#define MB_DEFAULT_GNUPG_HOME "/var/lib/mailbridge/gnupg"

static int mb_config_line(mb_config_t *cfg, char *key, char *val,
    unsigned lineno, int *has_password);
static int mb_config_mailbox(mb_config_t *cfg, const char *name,
    const char *key, const char *val, unsigned lineno, int *has_password);
static int mb_config_check(mb_config_t *cfg);
static char *mb_trim(char *s);
static int mb_parse_size(const char *s, size_t *out);
static int mb_parse_bool(const char *s, int *out);
static int mb_config_outbound(mb_config_t *cfg, const char *key,
    const char *val, int *has_password);
static int mb_parse_duration(const char *s, int *out);


int
mb_config_load(mb_config_t *cfg, const char *path)
{
    FILE         *f;
    struct stat   st;
    char         *line = NULL, *eq, *key, *val;
    size_t        cap = 0;
    ssize_t       len;
    unsigned      lineno = 0;
    int           has_password = 0, rc;

    memset(cfg, 0, sizeof(*cfg));
    cfg->path = strdup(path);
    cfg->redis = strdup("127.0.0.1:6379");
    cfg->redis_timeout = 5000;
    cfg->redis_wait_timeout = 1000;
    cfg->log_level = MB_LOG_INFO;
    cfg->max_size = MB_DEFAULT_MAX_SIZE;
    cfg->subject_tag = strdup("Ticket#");
    cfg->batch = 50;
    cfg->gnupg_home = strdup(MB_DEFAULT_GNUPG_HOME);
    cfg->stop_timeout = 10;
    cfg->feed = 1;
    cfg->timers = 1;
    cfg->notify.enabled = 1;
    cfg->feed_claim_idle = 60000;
    cfg->smtp.starttls = -1;                  /* auto */
    cfg->smtp.tls_verify = 1;
    cfg->smtp.timeout = 60;
    cfg->outbox.retry_min = 60;
    cfg->outbox.retry_max = 3600;
    cfg->outbox.retry_for = 5 * 86400;
    cfg->outbox.claim_idle = 600;

    f = fopen(path, "r");
    if (f == NULL) {
        mb_err("cannot open config \"%s\": %s", path, strerror(errno));
        return EX_CONFIG;
    }

    /* fstat the open file: the mode we check is the file we read */
    if (fstat(fileno(f), &st) != 0) {
        mb_err("cannot stat config \"%s\": %s", path, strerror(errno));
        fclose(f);
        return EX_CONFIG;
    }

    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        key = mb_trim(line);

        if (*key == '\0' || *key == '#') {
            continue;
        }

        eq = strchr(key, '=');
        if (eq == NULL) {
            mb_err("%s:%u: expected \"key = value\"", path, lineno);
            free(line);
            fclose(f);
            return EX_CONFIG;
        }

        *eq = '\0';
        val = mb_trim(eq + 1);
        key = mb_trim(key);

        rc = mb_config_line(cfg, key, val, lineno, &has_password);
        if (rc != 0) {
            free(line);
            fclose(f);
            return rc;
        }
    }

    free(line);
    fclose(f);

    if (has_password && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        mb_err("%s holds a password but is readable by group or others "
               "(mode %03o); chmod 600 it", path,
               (unsigned) (st.st_mode & 0777));
        return EX_CONFIG;
    }

    return mb_config_check(cfg);
}


static int
mb_config_line(mb_config_t *cfg, char *key, char *val, unsigned lineno,
    int *has_password)
{
    char    *dot, *name;
    size_t   n;
    long     num;
    int      i;

    if (strcmp(key, "redis") == 0) {
        free(cfg->redis);
        cfg->redis = strdup(val);
        return 0;
    }

    if (strcmp(key, "redis_timeout") == 0) {
        num = strtol(val, &dot, 10);
        if (*dot || num <= 0 || num > 600000) {
            goto bad;
        }
        cfg->redis_timeout = (int) num;
        return 0;
    }

    /* with replicas: a mail is acknowledged only once this many hold it
     * (WAIT after every commit; docs/mailbridge.md "Replication") */
    if (strcmp(key, "redis_wait_replicas") == 0) {
        num = strtol(val, &dot, 10);
        if (*dot || num < 0 || num > 16) {
            goto bad;
        }
        cfg->redis_wait_replicas = (int) num;
        return 0;
    }

    if (strcmp(key, "redis_wait_timeout") == 0) {
        num = strtol(val, &dot, 10);
        if (*dot || num <= 0 || num > 600000) {
            goto bad;
        }
        cfg->redis_wait_timeout = (int) num;
        return 0;
    }

    if (strcmp(key, "log_level") == 0) {
        i = mb_log_level_parse(val);
        if (i < 0) {
            goto bad;
        }
        cfg->log_level = i;
        return 0;
    }

    if (strcmp(key, "max_size") == 0) {
        if (mb_parse_size(val, &n) != 0 || n < 1024) {
            goto bad;
        }
        cfg->max_size = n;
        return 0;
    }

    if (strcmp(key, "default_group") == 0) {
        free(cfg->default_group);
        cfg->default_group = strdup(val);
        return 0;
    }

    if (strcmp(key, "subject_tag") == 0) {
        free(cfg->subject_tag);
        cfg->subject_tag = strdup(val);
        return 0;
    }

    if (strcmp(key, "gnupg_home") == 0) {
        free(cfg->gnupg_home);
        cfg->gnupg_home = strdup(val);
        cfg->gnupg_home_set = 1;
        return 0;
    }

    /* tests only: the timers role's clock runs this many seconds ahead
     * (behind when negative); "mailbridge check" and the role warn */
    if (strcmp(key, "test_clock_offset") == 0) {
        long long  off = strtoll(val, &dot, 10);

        if (*dot || *val == '\0' || off < -3650LL * 86400
            || off > 3650LL * 86400)
        {
            goto bad;
        }
        cfg->test_clock_offset = off;
        return 0;
    }

    /* notifications: their own parser (notify.c) */
    i = mb_notify_config(cfg, key, val);
    if (i < 0) {
        goto bad;
    }
    if (i == 0) {
        return 0;
    }

    if (strcmp(key, "import_batch") == 0) {
        num = strtol(val, &dot, 10);
        if (*dot || num < 1 || num > 5000) {
            goto bad;
        }
        cfg->batch = (unsigned) num;
        return 0;
    }

    if (strncmp(key, "address.", 8) == 0 && key[8]) {
        mb_address_t *a;

        a = realloc(cfg->addresses,
                    (cfg->naddresses + 1) * sizeof(mb_address_t));
        if (a == NULL) {
            return EX_OSERR;
        }
        cfg->addresses = a;
        a = &cfg->addresses[cfg->naddresses++];
        a->address = strdup(key + 8);
        for (name = a->address; *name; name++) {
            *name = (char) tolower((unsigned char) *name);
        }
        a->group = strdup(val);
        return 0;
    }

    if (strncmp(key, "smtp.", 5) == 0 || strncmp(key, "outbox.", 7) == 0) {
        i = mb_config_outbound(cfg, key, val, has_password);
        if (i < 0) {
            goto bad;
        }
        if (i == 0) {
            return 0;
        }
    }

    if (strncmp(key, "mailbox.", 8) == 0) {
        name = key + 8;
        dot = strchr(name, '.');
        if (dot == NULL || dot == name) {
            goto bad;
        }
        *dot = '\0';
        return mb_config_mailbox(cfg, name, dot + 1, val, lineno,
                                 has_password);
    }

    /* "run": the supervisor and the feed role (docs/mailbridge.md) */
    if (strcmp(key, "stop_timeout") == 0) {
        num = strtol(val, &dot, 10);
        if (*dot || num < 1 || num > 3600) {
            goto bad;
        }
        cfg->stop_timeout = (int) num;
        return 0;
    }

    if (strcmp(key, "feed") == 0) {
        if (mb_parse_bool(val, &cfg->feed) != 0) {
            goto bad;
        }
        return 0;
    }

    if (strcmp(key, "timers") == 0) {
        if (mb_parse_bool(val, &cfg->timers) != 0) {
            goto bad;
        }
        return 0;
    }

    if (strcmp(key, "feed_consumer") == 0) {
        if (*val == '\0' || strpbrk(val, " \t\r\n")) {
            goto bad;
        }
        free(cfg->feed_consumer);
        cfg->feed_consumer = strdup(val);
        return 0;
    }

    if (strcmp(key, "feed_claim_idle") == 0) {
        num = strtol(val, &dot, 10);
        if (*dot || num < 100 || num > 86400000) {
            goto bad;
        }
        cfg->feed_claim_idle = (int) num;
        return 0;
    }

    mb_err("%s:%u: unknown key \"%s\"", cfg->path, lineno, key);
    return EX_CONFIG;

bad:
    mb_err("%s:%u: invalid value \"%s\" for \"%s\"", cfg->path, lineno,
           val, key);
    return EX_CONFIG;
}


/* "mailbox.NAME.key": the mailbox is created by its first line. */
static int
mb_config_mailbox(mb_config_t *cfg, const char *name, const char *key,
    const char *val, unsigned lineno, int *has_password)
{
    mb_mailbox_t  *mb = NULL;
    size_t         i;
    long           num;
    char          *end;

    for (i = 0; i < cfg->nmailboxes; i++) {
        if (strcmp(cfg->mailboxes[i].name, name) == 0) {
            mb = &cfg->mailboxes[i];
        }
    }

    if (mb == NULL) {
        mb = realloc(cfg->mailboxes,
                     (cfg->nmailboxes + 1) * sizeof(mb_mailbox_t));
        if (mb == NULL) {
            return EX_OSERR;
        }
        cfg->mailboxes = mb;
        mb = &cfg->mailboxes[cfg->nmailboxes++];
        memset(mb, 0, sizeof(*mb));
        mb->name = strdup(name);
        mb->poll = MB_DEFAULT_POLL;
        mb->processed = strdup("Processed");
        mb->tls_verify = 1;
    }

    if (strcmp(key, "url") == 0) {
        if (strncmp(val, "imap://", 7) && strncmp(val, "imaps://", 8)) {
            goto bad;
        }
        free(mb->url);
        mb->url = strdup(val);

    } else if (strcmp(key, "user") == 0) {
        free(mb->user);
        mb->user = strdup(val);

    } else if (strcmp(key, "password") == 0) {
        free(mb->password);
        mb->password = strdup(val);
        *has_password = 1;

    } else if (strcmp(key, "group") == 0) {
        free(mb->group);
        mb->group = strdup(val);

    } else if (strcmp(key, "processed") == 0) {
        free(mb->processed);
        mb->processed = strcmp(val, "expunge") == 0 ? NULL : strdup(val);

    } else if (strcmp(key, "poll") == 0) {
        num = strtol(val, &end, 10);
        if (*end || num < 1 || num > 86400) {
            goto bad;
        }
        mb->poll = (int) num;

    } else if (strcmp(key, "search") == 0) {
        if (strcasecmp(val, "unseen") == 0) {
            mb->search_unseen = 1;
        } else if (strcasecmp(val, "all") == 0) {
            mb->search_unseen = 0;
        } else {
            goto bad;
        }

    } else if (strcmp(key, "tls") == 0) {
        if (strcasecmp(val, "auto") == 0) {
            mb->tls = MB_TLS_AUTO;
        } else if (strcasecmp(val, "starttls") == 0) {
            mb->tls = MB_TLS_STARTTLS;
        } else if (strcasecmp(val, "none") == 0) {
            mb->tls = MB_TLS_NONE;
        } else {
            goto bad;
        }

    } else if (strcmp(key, "tls_verify") == 0) {
        if (mb_parse_bool(val, &mb->tls_verify) != 0) {
            goto bad;
        }

    } else if (strcmp(key, "ca_file") == 0) {
        free(mb->ca_file);
        mb->ca_file = strdup(val);

    } else {
        mb_err("%s:%u: unknown mailbox key \"%s\"", cfg->path, lineno, key);
        return EX_CONFIG;
    }

    return 0;

bad:
    mb_err("%s:%u: invalid value \"%s\" for mailbox.%s.%s", cfg->path,
           lineno, val, name, key);
    return EX_CONFIG;
}


/* Whole-file checks: every group name must be usable inside a key. */
static int
mb_config_check(mb_config_t *cfg)
{
    size_t     i;
    tk_str_t   g;

    if (cfg->default_group == NULL && cfg->naddresses) {
        cfg->default_group = strdup(cfg->addresses[0].group);
    }

    /* WAIT blocks the connection: its answer must come before the
     * command timeout gives up on the link */
    if (cfg->redis_wait_replicas
        && cfg->redis_wait_timeout >= cfg->redis_timeout)
    {
        mb_err("%s: redis_wait_timeout (%d ms) must be shorter than "
               "redis_timeout (%d ms)", cfg->path, cfg->redis_wait_timeout,
               cfg->redis_timeout);
        return EX_CONFIG;
    }

    if (cfg->default_group) {
        g.data = (unsigned char *) cfg->default_group;
        g.len = strlen(cfg->default_group);
        if (!tk_valid_group(&g)) {
            mb_err("%s: invalid default_group \"%s\"", cfg->path,
                   cfg->default_group);
            return EX_CONFIG;
        }
    }

    for (i = 0; i < cfg->naddresses; i++) {
        g.data = (unsigned char *) cfg->addresses[i].group;
        g.len = strlen(cfg->addresses[i].group);
        if (!tk_valid_group(&g)) {
            mb_err("%s: invalid group \"%s\" for address %s", cfg->path,
                   cfg->addresses[i].group, cfg->addresses[i].address);
            return EX_CONFIG;
        }
    }

    if (cfg->smtp.starttls < 0) {
        /* auto: STARTTLS required, except to a relay on this machine */
        cfg->smtp.starttls = cfg->smtp.url
            && (strstr(cfg->smtp.url, "://127.") || strstr(cfg->smtp.url,
                "://localhost") || strstr(cfg->smtp.url, "://[::1]"))
            ? CURLUSESSL_TRY : CURLUSESSL_ALL;
    }

    if (cfg->outbox.retry_min > cfg->outbox.retry_max) {
        mb_err("%s: outbox.retry_min is larger than outbox.retry_max",
               cfg->path);
        return EX_CONFIG;
    }

    for (i = 0; i < cfg->nmailboxes; i++) {
        mb_mailbox_t *mb = &cfg->mailboxes[i];

        if (mb->url == NULL || mb->user == NULL) {
            mb_err("%s: mailbox \"%s\" needs url and user", cfg->path,
                   mb->name);
            return EX_CONFIG;
        }

        if (mb->group == NULL && cfg->default_group) {
            mb->group = strdup(cfg->default_group);
        }

        if (mb->group) {
            g.data = (unsigned char *) mb->group;
            g.len = strlen(mb->group);
            if (!tk_valid_group(&g)) {
                mb_err("%s: invalid group \"%s\" for mailbox %s",
                       cfg->path, mb->group, mb->name);
                return EX_CONFIG;
            }
        }
    }

    return 0;
}


void
mb_config_free(mb_config_t *cfg)
{
    size_t  i;

    for (i = 0; i < cfg->nmailboxes; i++) {
        mb_mailbox_t *mb = &cfg->mailboxes[i];

        free(mb->name);
        free(mb->url);
        free(mb->user);
        if (mb->password) {
            /* don't leave the secret in freed memory */
            explicit_bzero(mb->password, strlen(mb->password));
        }
        free(mb->password);
        free(mb->group);
        free(mb->processed);
        free(mb->ca_file);
    }

    for (i = 0; i < cfg->naddresses; i++) {
        free(cfg->addresses[i].address);
        free(cfg->addresses[i].group);
    }

    free(cfg->mailboxes);
    free(cfg->addresses);
    free(cfg->path);
    free(cfg->redis);
    free(cfg->default_group);
    free(cfg->subject_tag);
    free(cfg->gnupg_home);
    free(cfg->feed_consumer);
    free(cfg->smtp.url);
    free(cfg->smtp.user);
    if (cfg->smtp.password) {
        explicit_bzero(cfg->smtp.password, strlen(cfg->smtp.password));
    }
    free(cfg->smtp.password);
    free(cfg->smtp.ca_file);
    free(cfg->smtp.helo);
    free(cfg->smtp.envelope_from);
    free(cfg->outbox.from);
    free(cfg->outbox.consumer);
    free(cfg->notify.from);
    free(cfg->notify.base_url);
    memset(cfg, 0, sizeof(*cfg));
}


/* "legal+urgent@example.org" falls back to "legal@example.org". */
const char *
mb_config_group_for(const mb_config_t *cfg, const char *addr)
{
    const char  *plus, *at;
    char         base[320];
    size_t       i;

    for (i = 0; i < cfg->naddresses; i++) {
        if (strcasecmp(cfg->addresses[i].address, addr) == 0) {
            return cfg->addresses[i].group;
        }
    }

    plus = strchr(addr, '+');
    at = strrchr(addr, '@');
    if (plus && at && plus < at
        && (size_t) (plus - addr) + strlen(at) < sizeof(base))
    {
        snprintf(base, sizeof(base), "%.*s%s", (int) (plus - addr), addr, at);
        return mb_config_group_for(cfg, base);
    }

    return NULL;
}


static char *
mb_trim(char *s)
{
    char  *e;

    while (isspace((unsigned char) *s)) {
        s++;
    }

    e = s + strlen(s);
    while (e > s && isspace((unsigned char) e[-1])) {
        *--e = '\0';
    }

    return s;
}


/* "25M", "512k", "1048576": sizes as admins write them. */
static int
mb_parse_size(const char *s, size_t *out)
{
    unsigned long long  v;
    char               *end;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s) {
        return -1;
    }

    switch (*end) {
    case 'k': case 'K': v *= 1024; end++; break;
    case 'm': case 'M': v *= 1024 * 1024; end++; break;
    case 'g': case 'G': v *= 1024 * 1024 * 1024; end++; break;
    default: break;
    }

    if (*end == 'B' || *end == 'b') {
        end++;
    }

    if (*end || v > (1ULL << 32)) {
        return -1;
    }

    *out = (size_t) v;
    return 0;
}


static int
mb_parse_bool(const char *s, int *out)
{
    if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcmp(s, "1")
        || !strcasecmp(s, "on"))
    {
        *out = 1;
        return 0;
    }

    if (!strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcmp(s, "0")
        || !strcasecmp(s, "off"))
    {
        *out = 0;
        return 0;
    }

    return -1;
}


/*
 * smtp.* and outbox.* (docs/mailbridge.md "Outbound mail").  Returns 0
 * when taken, -1 for a bad value, 1 for a key it does not know.
 */
static int
mb_config_outbound(mb_config_t *cfg, const char *key, const char *val,
    int *has_password)
{
    char  **str = NULL;

    if (strcmp(key, "smtp.url") == 0) {
        if (strncmp(val, "smtp://", 7) && strncmp(val, "smtps://", 8)) {
            return -1;
        }
        str = &cfg->smtp.url;

    } else if (strcmp(key, "smtp.starttls") == 0) {
        if (strcasecmp(val, "require") == 0) {
            cfg->smtp.starttls = CURLUSESSL_ALL;
        } else if (strcasecmp(val, "try") == 0) {
            cfg->smtp.starttls = CURLUSESSL_TRY;
        } else if (strcasecmp(val, "none") == 0) {
            cfg->smtp.starttls = CURLUSESSL_NONE;
        } else if (strcasecmp(val, "auto") == 0) {
            cfg->smtp.starttls = -1;
        } else {
            return -1;
        }
        return 0;

    } else if (strcmp(key, "smtp.user") == 0) {
        str = &cfg->smtp.user;

    } else if (strcmp(key, "smtp.password") == 0) {
        *has_password = 1;
        str = &cfg->smtp.password;

    } else if (strcmp(key, "smtp.tls_verify") == 0) {
        return mb_parse_bool(val, &cfg->smtp.tls_verify);

    } else if (strcmp(key, "smtp.ca_file") == 0) {
        str = &cfg->smtp.ca_file;

    } else if (strcmp(key, "smtp.timeout") == 0) {
        return mb_parse_duration(val, &cfg->smtp.timeout) == 0
               && cfg->smtp.timeout > 0 ? 0 : -1;

    } else if (strcmp(key, "smtp.helo") == 0) {
        str = &cfg->smtp.helo;

    } else if (strcmp(key, "smtp.envelope_from") == 0) {
        str = &cfg->smtp.envelope_from;

    } else if (strcmp(key, "outbox.from") == 0) {
        str = &cfg->outbox.from;

    } else if (strcmp(key, "outbox.consumer") == 0) {
        str = &cfg->outbox.consumer;

    } else if (strcmp(key, "outbox.retry_min") == 0) {
        return mb_parse_duration(val, &cfg->outbox.retry_min) == 0
               && cfg->outbox.retry_min > 0 ? 0 : -1;

    } else if (strcmp(key, "outbox.retry_max") == 0) {
        return mb_parse_duration(val, &cfg->outbox.retry_max) == 0
               && cfg->outbox.retry_max > 0 ? 0 : -1;

    } else if (strcmp(key, "outbox.retry_for") == 0) {
        return mb_parse_duration(val, &cfg->outbox.retry_for);

    } else if (strcmp(key, "outbox.claim_idle") == 0) {
        return mb_parse_duration(val, &cfg->outbox.claim_idle) == 0
               && cfg->outbox.claim_idle > 0 ? 0 : -1;

    } else {
        return 1;
    }

    if (strpbrk(val, "\r\n") != NULL) {
        return -1;
    }
    free(*str);
    *str = strdup(val);
    return 0;
}


/* "90", "90s", "5m", "1h", "5d": seconds, as admins write them. */
static int
mb_parse_duration(const char *s, int *out)
{
    long   v;
    char  *end;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || v < 0) {
        return -1;
    }

    switch (*end) {
    case 's': end++; break;
    case 'm': v *= 60; end++; break;
    case 'h': v *= 3600; end++; break;
    case 'd': v *= 86400; end++; break;
    default: break;
    }

    if (*end || v > 365L * 86400) {
        return -1;
    }

    *out = (int) v;
    return 0;
}
