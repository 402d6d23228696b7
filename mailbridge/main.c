/*
 * main.c -- mailbridge: inbound mail for the ticket system.
 *
 *   mailbridge -c FILE deliver [--group G | --recipient ADDR] [--sender S]
 *   mailbridge -c FILE run [--once | --role NAME]
 *   mailbridge -c FILE import [--no-progress] PATH...
 *   mailbridge -c FILE check
 *   mailbridge -c FILE outbox        (until the supervisor merge)
 *
 * Reads the configuration, sets up signals and logging, and hands over
 * to one mode.  See docs/mailbridge.md for the guarantees of each.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "mailbridge.h"
#include "mb_crypto.h"
#include "mb_roles.h"
#include "mb_outbox.h"
#include "mb_timers.h"

volatile int mb_stop;

static void mb_on_stop(int sig);
static void mb_on_crash(int sig);
static void mb_signals(int deliver);
static int mb_usage(int code);
static int mb_check(const mb_config_t *cfg);


int
main(int argc, char **argv)
{
    mb_config_t   cfg;
    const char   *conf = NULL, *mode = NULL, *group = NULL;
    const char   *recipient = NULL, *sender = NULL, *role = NULL;
    int           i, rc, verbose = 0, once = 0, progress = 1, deliver = 0;
    int           first_path = 0;
    tk_str_t      g;

    /* know early whether a failure must be EX_TEMPFAIL (see deliver.c) */
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "deliver") == 0) {
            deliver = 1;
        }
    }

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            conf = argv[++i];
        } else if (strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("mailbridge %s\n", MB_VERSION);
            return EX_OK;
        } else if (strcmp(argv[i], "-h") == 0
                   || strcmp(argv[i], "--help") == 0)
        {
            return mb_usage(EX_OK);
        } else if (mode == NULL && argv[i][0] != '-') {
            mode = argv[i];
        } else if (mode && strcmp(mode, "deliver") == 0
                   && strcmp(argv[i], "--group") == 0 && i + 1 < argc)
        {
            group = argv[++i];
        } else if (mode && strcmp(mode, "deliver") == 0
                   && strcmp(argv[i], "--recipient") == 0 && i + 1 < argc)
        {
            recipient = argv[++i];
        } else if (mode && strcmp(mode, "deliver") == 0
                   && strcmp(argv[i], "--sender") == 0 && i + 1 < argc)
        {
            sender = argv[++i];
        } else if (mode && strcmp(mode, "run") == 0
                   && strcmp(argv[i], "--once") == 0)
        {
            once = 1;
        } else if (mode && strcmp(mode, "run") == 0
                   && strcmp(argv[i], "--role") == 0 && i + 1 < argc)
        {
            role = argv[++i];
        } else if (mode && strcmp(mode, "import") == 0
                   && strcmp(argv[i], "--no-progress") == 0)
        {
            progress = 0;
        } else if (mode && strcmp(mode, "import") == 0
                   && argv[i][0] != '-')
        {
            if (first_path == 0) {
                first_path = i;
            }
        } else if (mode && strcmp(mode, "pgp-protect") == 0) {
            if (first_path == 0) {
                first_path = i;         /* the rest: crypto_cli.c */
            }
        } else {
            fprintf(stderr, "mailbridge: unexpected argument \"%s\"\n",
                    argv[i]);
            return mb_usage(deliver ? EX_TEMPFAIL : EX_USAGE);
        }
    }

    if (mode && strcmp(mode, "html-allowlist") == 0) {
        /* needs no configuration: what the sanitiser lets through */
        mb_sanitize_allowlist();
        return EX_OK;
    }

    if (conf == NULL || mode == NULL) {
        return mb_usage(deliver ? EX_TEMPFAIL : EX_USAGE);
    }

    mb_signals(deliver);

    rc = mb_config_load(&cfg, conf);
    if (rc != 0) {
        mb_config_free(&cfg);
        /* Postfix maps EX_CONFIG to 5.3.5, a bounce: keep the mail */
        return deliver ? EX_TEMPFAIL : rc;
    }

    mb_log_level = verbose ? MB_LOG_DEBUG : cfg.log_level;
    tk_redis_wait_default(cfg.redis_wait_replicas, cfg.redis_wait_timeout);

    if (group) {
        g.data = (unsigned char *) group;
        g.len = strlen(group);
        if (!tk_valid_group(&g)) {
            mb_err("invalid group \"%s\"", group);
            mb_config_free(&cfg);
            return EX_TEMPFAIL;
        }
    }

    if (recipient && *recipient && group == NULL
        && mb_config_group_for(&cfg, recipient) == NULL)
    {
        mb_warn("recipient %s is not in the address map; using the "
                "default group", recipient);
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();
    mb_parse_init();
    rc = mb_crypto_init(&cfg);              /* PGP keyring, crypto.c */

    if (rc != 0) {
        rc = deliver ? EX_TEMPFAIL : rc;

    } else if (strcmp(mode, "deliver") == 0) {
        rc = mb_deliver(&cfg, group, recipient, sender);

    } else if (strcmp(mode, "run") == 0) {
        /* --once: one IMAP poll in this process (cron, tests) */
        rc = once ? mb_run(&cfg, 1)
             : role ? mb_role_foreground(&cfg, role) : mb_supervise(&cfg);

    } else if (strcmp(mode, "import") == 0) {
        if (first_path == 0) {
            mb_err("import needs a PATH (mbox, maildir, .eml or a directory)");
            rc = EX_USAGE;
        } else {
            rc = EX_OK;
            for (i = first_path; i < argc && rc == EX_OK && !mb_stop; i++) {
                if (argv[i][0] == '-') {
                    continue;
                }
                rc = mb_import(&cfg, argv[i], progress);
            }
        }

    } else if (strcmp(mode, "check") == 0) {
        rc = mb_check(&cfg);

    } else if (strcmp(mode, "keys") == 0) {
        rc = mb_keys_run(&cfg);                 /* keys.c */

    } else if (strcmp(mode, "timers") == 0) {
        rc = mb_timers_run(&cfg);               /* timers.c */

    } else if (strcmp(mode, "pgp-protect") == 0) {
        rc = mb_crypto_cli(&cfg, first_path ? argc - first_path : 0,
                           argv + first_path);
    } else if (strcmp(mode, "outbox") == 0) {
        rc = mb_outbox_run(&cfg);

    } else {
        fprintf(stderr, "mailbridge: unknown mode \"%s\"\n", mode);
        rc = EX_USAGE;
    }

    mb_crypto_done();
    mb_parse_done();
    xmlCleanupParser();
    curl_global_cleanup();
    mb_config_free(&cfg);

    return rc;
}


/* The configuration is readable and Redis answers with our schema. */
static int
mb_check(const mb_config_t *cfg)
{
    mb_store_t  *st;
    int          ok;

    st = mb_store_new(cfg);
    ok = st && mb_store_ping(st) == 0;
    mb_store_free(st);

    if (!ok) {
        return EX_TEMPFAIL;
    }

    if (cfg->test_clock_offset) {
        fprintf(stderr, "WARNING: test_clock_offset = %lld: the timers "
                "role runs with a SHIFTED clock (tests only)\n",
                cfg->test_clock_offset);
    }

    if (cfg->notify.test_period) {
        fprintf(stderr, "WARNING: test_digest_period = %d: every digest "
                "comes after %d s (tests only)\n", cfg->notify.test_period,
                cfg->notify.test_period);
    }

    printf("config %s ok: redis %s, %zu mailbox(es), %zu address(es), "
           "default group %s\n", cfg->path, cfg->redis, cfg->nmailboxes,
           cfg->naddresses, cfg->default_group ? cfg->default_group : "-");
    return EX_OK;
}


static void
mb_signals(int deliver)
{
    struct sigaction  sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);

    /* no SA_RESTART: a blocking read or sleep returns, the loop checks */
    sa.sa_handler = mb_on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    if (deliver) {
        /* a crash must look like "try later" to the MTA, not a bounce */
        sa.sa_handler = mb_on_crash;
        sa.sa_flags = SA_RESETHAND;
        sigaction(SIGSEGV, &sa, NULL);
        sigaction(SIGBUS, &sa, NULL);
        sigaction(SIGFPE, &sa, NULL);
        sigaction(SIGILL, &sa, NULL);
        sigaction(SIGABRT, &sa, NULL);
    }
}


static void
mb_on_stop(int sig)
{
    mb_stop = 1;
}


static void
mb_on_crash(int sig)
{
    static const char  msg[] = "mailbridge: internal error (signal), "
                               "exiting with EX_TEMPFAIL\n";
    ssize_t            r;

    r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void) r;
    _exit(EX_TEMPFAIL);
}


static int
mb_usage(int code)
{
    fprintf(code == EX_OK ? stdout : stderr,
        "usage: mailbridge -c FILE [-v] MODE ...\n"
        "  deliver [--group G | --recipient ADDR] [--sender ADDR]\n"
        "          one mail on stdin; exit 0 stored, 75 try again later\n"
        "  run [--once | --role NAME]\n"
        "                    supervise the roles (imap, feed, ...); --once:\n"
        "                    poll the IMAP mailboxes once; --role: one role\n"
        "  import [--no-progress] PATH...\n"
        "                    mbox files, maildirs, directories of .eml\n"
        "  check             config and Redis reachable\n"
        "  keys              the PGP key role (key requests from the web)\n"
        "  timers            the SLA escalation and reminder role\n"
        "  pgp-protect [--sign FPR] [--sign-only] [--count N] RCPT...\n"
        "                    encrypt/sign the mail on stdin (tests)\n"
        "  outbox            send queued outbound mail (smtp.url)\n"
        "  html-allowlist    the HTML sanitiser's allow-list (no -c)\n"
        "see docs/mailbridge.md\n");
    return code;
}
