/*
 * import.c -- "mailbridge import PATH...": an archive (mbox files,
 * maildirs, directories of .eml files) into tickets, through the same
 * parse/thread/store stages as live mail, so threading, dedup and
 * quarantine behave the same.  Mails are stored in batches of
 * import_batch per MULTI/EXEC (pipelined), which is what makes a
 * mailbox of 100,000 mails a matter of minutes.  Running it twice stores
 * nothing twice.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <strings.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "mailbridge.h"
#include "mb_import.h"

#define MB_IMPORT_RETRIES  5

static int mb_store_with_retry(mb_import_t *im, mb_store_t *st,
    mb_msg_t **msgs, size_t n, mb_outcome_t *out);
static void mb_draw(mb_import_t *im, int final);
static double mb_now(void);


/*
 * One batch of the archive, loaded and parsed.  Two of them alternate:
 * while the main thread stores one (Redis busy on the other core), a
 * worker thread parses the next.
 */
typedef struct {
    mb_import_t    *im;
    size_t          first;          /* index of its first item          */
    size_t          n;              /* items                           */
    size_t          nmsgs;          /* loaded: what goes to the store   */
    size_t          unreadable;
    mb_msg_t       *msgs;
    mb_msg_t      **ptrs;
    unsigned char **owned;
    pthread_t       thread;
    int             running;
} mb_ibatch_t;

static void *mb_ibatch_parse(void *arg);
static void mb_ibatch_start(mb_ibatch_t *b, size_t first, size_t n);
static void mb_ibatch_wait(mb_ibatch_t *b);
static void mb_ibatch_clear(mb_ibatch_t *b);


int
mb_import(const mb_config_t *cfg, const char *path, int progress)
{
    mb_import_t     im;
    mb_store_t     *st = NULL;
    mb_ibatch_t     bs[2], *b, *next;
    mb_outcome_t   *out = NULL;
    size_t          i, k, batch;
    int             rc = EX_OK;

    memset(&im, 0, sizeof(im));
    memset(bs, 0, sizeof(bs));
    im.cfg = cfg;
    im.progress = progress && isatty(STDERR_FILENO);

    if (mb_scan(&im, path, 0) != 0) {
        rc = EX_NOINPUT;
        goto done;
    }

    for (i = 0; i < im.nfiles; i++) {
        if (im.files[i].mbox && mb_scan_mbox(&im, (unsigned) i) != 0) {
            im.errors++;
        }
    }

    mb_sort_by_date(&im);

    mb_info("import %s: %zu mails in %zu files", path, im.nitems,
            im.nfiles);

    batch = cfg->batch ? cfg->batch : 50;
    out = calloc(batch, sizeof(mb_outcome_t));
    st = mb_store_new(cfg);

    for (k = 0; k < 2; k++) {
        bs[k].im = &im;
        bs[k].msgs = calloc(batch, sizeof(mb_msg_t));
        bs[k].ptrs = calloc(batch, sizeof(mb_msg_t *));
        bs[k].owned = calloc(batch, sizeof(unsigned char *));
        if (!bs[k].msgs || !bs[k].ptrs || !bs[k].owned) {
            rc = EX_OSERR;
        }
    }

    if (rc != EX_OK || out == NULL || st == NULL) {
        mb_err("out of memory");
        rc = EX_OSERR;
        goto free;
    }

    if (mb_store_ping(st) != 0) {
        rc = EX_TEMPFAIL;
        goto free;
    }

    im.start = mb_now();

    b = &bs[0];
    next = &bs[1];
    mb_ibatch_start(b, 0, im.nitems < batch ? im.nitems : batch);

    while (b->n && !mb_stop) {
        mb_ibatch_wait(b);

        i = b->first + b->n;
        mb_ibatch_start(next, i, im.nitems - i < batch ? im.nitems - i
                                                       : batch);

        im.errors += b->unreadable;

        if (b->nmsgs
            && mb_store_with_retry(&im, st, b->ptrs, b->nmsgs, out) != 0)
        {
            rc = EX_TEMPFAIL;
        } else {
            for (k = 0; k < b->nmsgs; k++) {
                switch (out[k].result) {
                case MB_RES_STORED: im.stored++; break;
                case MB_RES_DUPLICATE: im.dups++; break;
                case MB_RES_QUARANTINED: im.quarantined++; break;
                default: im.errors++;
                }
            }
            im.done += b->n;
        }

        mb_ibatch_clear(b);
        mb_draw(&im, 0);

        if (rc != EX_OK) {
            break;
        }

        b = next;
        next = (b == &bs[0]) ? &bs[1] : &bs[0];
    }

    mb_draw(&im, 1);

    {
        double  secs = mb_now() - im.start;

        printf("import %s: %zu of %zu mails in %.1f s (%.0f/s): stored %zu, "
               "duplicates %zu, quarantined %zu, errors %zu%s\n", path,
               im.done, im.nitems, secs, secs > 0 ? im.done / secs : 0.0,
               im.stored, im.dups, im.quarantined, im.errors,
               rc == EX_TEMPFAIL ? " -- stopped: Redis unavailable, run "
                                   "again to continue"
               : mb_stop ? " -- interrupted, run again to continue" : "");
        fflush(stdout);
    }

    if (rc == EX_OK && im.errors) {
        rc = EX_IOERR;
    }

free:
    for (k = 0; k < 2; k++) {
        mb_ibatch_wait(&bs[k]);
        mb_ibatch_clear(&bs[k]);
        free(bs[k].msgs);
        free(bs[k].ptrs);
        free(bs[k].owned);
    }
    mb_store_free(st);
    free(out);

done:
    for (i = 0; i < im.nfiles; i++) {
        if (im.files[i].map) {
            munmap(im.files[i].map, im.files[i].size);
        }
        free(im.files[i].path);
    }
    free(im.files);
    free(im.items);

    return rc;
}


/* Parse items [first, first+n) in a worker thread (inline if none). */
static void
mb_ibatch_start(mb_ibatch_t *b, size_t first, size_t n)
{
    b->first = first;
    b->n = n;
    b->nmsgs = 0;
    b->unreadable = 0;
    b->running = 0;

    if (n == 0) {
        return;
    }

    if (pthread_create(&b->thread, NULL, mb_ibatch_parse, b) == 0) {
        b->running = 1;
    } else {
        mb_ibatch_parse(b);
    }
}


static void
mb_ibatch_wait(mb_ibatch_t *b)
{
    if (b->running) {
        pthread_join(b->thread, NULL);
        b->running = 0;
    }
}


/*
 * Load and parse (gmime and libxml2 are fine with separate objects in
 * separate threads).  Unreadable files are counted, not stored; mails
 * that don't parse go to the store to be quarantined.
 */
static void *
mb_ibatch_parse(void *arg)
{
    mb_ibatch_t  *b = arg;
    mb_msg_t     *m;
    size_t        k;

    for (k = 0; k < b->n; k++) {
        m = &b->msgs[b->nmsgs];
        mb_msg_init(m);
        b->owned[b->nmsgs] = NULL;

        if (mb_load(b->im, &b->im->items[b->first + k], m,
                    &b->owned[b->nmsgs]) != 0)
        {
            mb_msg_free(m);
            free(b->owned[b->nmsgs]);
            b->owned[b->nmsgs] = NULL;
            b->unreadable++;
            continue;
        }

        if (mb_parse(m, b->im->cfg->max_size) != 0) {
            mb_warn("%s: %s; quarantining", m->source, m->reason);
        }

        b->ptrs[b->nmsgs++] = m;
    }

    return NULL;
}


static void
mb_ibatch_clear(mb_ibatch_t *b)
{
    size_t  k;

    for (k = 0; k < b->nmsgs; k++) {
        mb_msg_free(&b->msgs[k]);
        free(b->owned[k]);
        b->owned[k] = NULL;
    }

    b->nmsgs = 0;
    b->n = 0;
}


/*
 * Redis gone for a moment (restart, failover): wait and try the same
 * batch again; idempotency makes a half-known outcome harmless.
 */
static int
mb_store_with_retry(mb_import_t *im, mb_store_t *st, mb_msg_t **msgs,
    size_t n, mb_outcome_t *out)
{
    int  attempt;

    for (attempt = 0; attempt < MB_IMPORT_RETRIES && !mb_stop; attempt++) {
        if (mb_store_batch(st, msgs, n, out) == 0) {
            return 0;
        }
        if (attempt + 1 == MB_IMPORT_RETRIES) {
            break;
        }
        mb_warn("batch of %zu mails not stored, retrying in %d s", n,
                1 << attempt);
        sleep(1u << attempt);
    }

    return -1;
}


/* "  1200/5000 mails  1843/s  ETA 0:02  dup 3  quarantined 0" on a TTY. */
static void
mb_draw(mb_import_t *im, int final)
{
    double  now = mb_now(), rate, eta;
    int     width = 30, filled;
    char    bar[64];

    if (!im->progress) {
        return;
    }

    if (!final && now - im->last_draw < 0.2) {
        return;
    }
    im->last_draw = now;

    rate = now > im->start ? im->done / (now - im->start) : 0;
    eta = rate > 0 ? (im->nitems - im->done) / rate : 0;
    filled = im->nitems ? (int) (width * im->done / im->nitems) : width;

    memset(bar, '#', (size_t) filled);
    memset(bar + filled, '.', (size_t) (width - filled));
    bar[width] = '\0';

    fprintf(stderr, "\r[%s] %zu/%zu mails  %.0f/s  ETA %d:%02d  dup %zu  "
            "quarantined %zu  errors %zu ", bar, im->done, im->nitems, rate,
            (int) eta / 60, (int) eta % 60, im->dups, im->quarantined,
            im->errors);

    if (final) {
        fputc('\n', stderr);
    }
    fflush(stderr);
}


static double
mb_now(void)
{
    struct timeval  tv;

    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}
