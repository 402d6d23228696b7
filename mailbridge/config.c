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

#include "mailbridge.h"

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
    cfg->log_level = MB_LOG_INFO;
    cfg->max_size = MB_DEFAULT_MAX_SIZE;
    cfg->subject_tag = strdup("Ticket#");
    cfg->batch = 50;
    cfg->gnupg_home = strdup(MB_DEFAULT_GNUPG_HOME);

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
