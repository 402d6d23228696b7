/*
 * crypto_cli.c -- "mailbridge pgp-protect": mb_crypto_protect() from the
 * command line, so the outbound half of crypto.c is tested (t/pgp.t) and
 * measured without the outbox: the mail on stdin is parsed, protected
 * --count times (each time from the parsed original), the last result
 * written to stdout and the rate to stderr.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mb_crypto.h"

static GByteArray *mb_cli_stdin(void);


int
mb_crypto_cli(const mb_config_t *cfg, int argc, char **argv)
{
    const char     **rcpt;
    const char      *sign = NULL;
    GByteArray      *in;
    GMimeStream     *s, *out;
    GMimeParser     *p;
    GMimeMessage    *msg = NULL;
    struct timespec  t0, t1;
    char             err[512];
    size_t           n = 0;
    long             count = 1, i;
    int              encrypt = 1, rc = 0, a;
    double           secs;

    if (!mb_crypto_enabled()) {
        mb_err("pgp-protect: PGP is off: set gnupg_home");
        return EX_CONFIG;
    }

    rcpt = calloc((size_t) argc + 1, sizeof(char *));
    if (rcpt == NULL) {
        return EX_OSERR;
    }

    for (a = 0; a < argc; a++) {
        if (strcmp(argv[a], "--sign") == 0 && a + 1 < argc) {
            sign = argv[++a];
        } else if (strcmp(argv[a], "--sign-only") == 0) {
            encrypt = 0;
        } else if (strcmp(argv[a], "--count") == 0 && a + 1 < argc) {
            count = strtol(argv[++a], NULL, 10);
        } else {
            rcpt[n++] = argv[a];
        }
    }

    in = mb_cli_stdin();
    clock_gettime(CLOCK_MONOTONIC, &t0);

    for (i = 0; i < count && rc == 0; i++) {
        if (msg) {
            g_object_unref(msg);
        }
        s = g_mime_stream_mem_new_with_buffer((const char *) in->data,
                                              in->len);
        p = g_mime_parser_new_with_stream(s);
        g_object_unref(s);
        msg = g_mime_parser_construct_message(p, NULL);
        g_object_unref(p);
        if (msg == NULL) {
            mb_err("pgp-protect: no message on stdin");
            rc = EX_DATAERR;
            break;
        }

        rc = mb_crypto_protect(msg, rcpt, n, sign, encrypt, err,
                               sizeof(err));
        if (rc != 0) {
            mb_err("pgp-protect: %s", err);
            /* the sender's mapping: permanent fails, temporary retries */
            rc = rc == MB_CRYPTO_PERM ? EX_DATAERR : EX_TEMPFAIL;
        }
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);

    if (rc == 0 && msg) {
        out = g_mime_stream_file_new(stdout);
        g_mime_stream_file_set_owner((GMimeStreamFile *) out, FALSE);
        g_mime_object_write_to_stream((GMimeObject *) msg, NULL, out);
        g_mime_stream_flush(out);
        g_object_unref(out);

        secs = (double) (t1.tv_sec - t0.tv_sec)
               + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
        fprintf(stderr, "pgp-protect: %ld mail(s) in %.3f s: %.1f mails/s\n",
                count, secs, secs > 0 ? (double) count / secs : 0.0);
    }

    if (msg) {
        g_object_unref(msg);
    }
    g_byte_array_unref(in);
    free(rcpt);
    return rc;
}


static GByteArray *
mb_cli_stdin(void)
{
    GByteArray  *b = g_byte_array_new();
    guint8       buf[65536];
    size_t       n;

    while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
        g_byte_array_append(b, buf, (guint) n);
    }

    return b;
}
