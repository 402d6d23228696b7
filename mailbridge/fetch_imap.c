/*
 * fetch_imap.c -- the imap role of "mailbridge run" (and "run --once"):
 * poll IMAP mailboxes with libcurl, each on its own schedule.
 * For each message: fetch by UID, store, and only after the Redis
 * transaction committed move it to the processed folder (UID MOVE, or
 * COPY + \Deleted + EXPUNGE) or expunge it.  If Redis is down the mail
 * stays in the INBOX for the next poll; if we die between commit and
 * move, the next poll finds a duplicate and just moves it.  Nothing is
 * lost, nothing stored twice.
 *
 * libcurl notes (TOOLCHAIN §3): custom requests (CURLOPT_CUSTOMREQUEST)
 * return only untagged lines and drop literals, so bodies are fetched
 * with the URL form ".../INBOX;UID=n"; that sends BODY[] (not PEEK) and
 * sets \Seen -- which is why the default search is ALL, not UNSEEN.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mailbridge.h"
#include "mb_roles.h"

typedef struct {
    unsigned char  *data;
    size_t          len;
    size_t          cap;
    size_t          keep;       /* store at most this much           */
    size_t          total;      /* bytes the server sent             */
} mb_buf_t;

typedef struct {
    const mb_config_t   *cfg;
    const mb_mailbox_t  *box;
    CURL                *curl;
    char                *base;      /* "imap://host:port"              */
    char                *mailbox;   /* "INBOX" as in the URL (encoded) */
    char                *source;    /* "imap:NAME"                     */
    int                  created;   /* processed folder CREATEd        */
    int                  no_move;   /* server lacks MOVE               */
    int                  abortable; /* a stop may cut the transfer     */
    int64_t              next;      /* mb_now_ms() of the next poll    */
    unsigned             fails;     /* failed polls in a row           */
    size_t               fetched;   /* stored by the current poll      */
    char                 error[256]; /* what went wrong in it, or ""   */
} mb_imap_t;

static int mb_imap_open(mb_imap_t *im);
static void mb_imap_close(mb_imap_t *im);
static int mb_imap_poll(mb_imap_t *im, mb_store_t *st);
static int mb_imap_poll_box(mb_imap_t *im, mb_store_t *st);
static void mb_imap_status(mb_imap_t *im, mb_store_t *st, int rc);
static int64_t mb_imap_delay(mb_imap_t *im, int rc);
static int mb_imap_command(mb_imap_t *im, const char *cmd, mb_buf_t *out);
static int mb_imap_fetch(mb_imap_t *im, unsigned long uid, mb_buf_t *out);
static int mb_imap_ack(mb_imap_t *im, unsigned long uid);
static int mb_imap_search(mb_imap_t *im, unsigned long **uids, size_t *n);
static size_t mb_imap_write(char *p, size_t size, size_t n, void *data);
static int mb_imap_progress(void *data, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow);
static int mb_is_loopback(const char *base);


/* The imap role: poll every mailbox on its schedule until mb_stop. */
int
mb_imap_run(const mb_config_t *cfg)
{
    return mb_run(cfg, 0);
}


int
mb_imap_enabled(const mb_config_t *cfg)
{
    return cfg->nmailboxes > 0;
}


int
mb_run(const mb_config_t *cfg, int once)
{
    mb_imap_t   *boxes;
    mb_store_t  *st;
    size_t       i, failures = 0;
    int          rc;
    int64_t      now, next;

    if (cfg->nmailboxes == 0) {
        mb_err("no mailbox.NAME.url in %s: nothing to poll", cfg->path);
        return EX_CONFIG;
    }

    boxes = calloc(cfg->nmailboxes, sizeof(mb_imap_t));
    st = mb_store_new(cfg);
    if (boxes == NULL || st == NULL) {
        free(boxes);
        mb_store_free(st);
        return EX_OSERR;
    }

    for (i = 0; i < cfg->nmailboxes; i++) {
        boxes[i].cfg = cfg;
        boxes[i].box = &cfg->mailboxes[i];
        if (mb_imap_open(&boxes[i]) != 0) {
            while (i-- > 0) {
                mb_imap_close(&boxes[i]);
            }
            free(boxes);
            mb_store_free(st);
            return EX_CONFIG;
        }
    }

    mb_info("polling %zu mailbox(es)%s", cfg->nmailboxes,
            once ? " once" : "");

    while (!mb_stop) {
        now = mb_now_ms();
        next = now + 3600 * 1000;

        for (i = 0; i < cfg->nmailboxes && !mb_stop; i++) {
            if (boxes[i].next <= now) {
                rc = mb_imap_poll(&boxes[i], st);
                if (rc != 0) {
                    failures++;
                }
                boxes[i].next = mb_now_ms() + mb_imap_delay(&boxes[i], rc);
            }
            if (boxes[i].next < next) {
                next = boxes[i].next;
            }
        }

        if (once) {
            break;
        }

        /* one sleep until the next mailbox is due; SIGTERM ends it */
        next -= mb_now_ms();
        mb_wait(-1, next > 0 ? next : 0);
    }

    for (i = 0; i < cfg->nmailboxes; i++) {
        mb_imap_close(&boxes[i]);
    }
    free(boxes);
    mb_store_free(st);

    if (once) {
        /* for cron: "try again", mail waits on the server */
        return failures ? EX_TEMPFAIL : EX_OK;
    }

    mb_info("stopped");
    return EX_OK;
}


/* Split "imap://host:port/INBOX" into base and mailbox. */
static int
mb_imap_open(mb_imap_t *im)
{
    const char  *url = im->box->url, *p;

    p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;

    if (p == NULL || p[1] == '\0') {
        im->base = strdup(url);
        im->mailbox = strdup("INBOX");
    } else {
        im->base = strndup(url, (size_t) (p - url));
        im->mailbox = strdup(p + 1);
    }

    if (asprintf(&im->source, "imap:%s", im->box->name) < 0) {
        im->source = NULL;
    }

    if (!im->base || !im->mailbox || !im->source) {
        return -1;
    }

    return 0;
}


static void
mb_imap_close(mb_imap_t *im)
{
    if (im->curl) {
        curl_easy_cleanup(im->curl);
        im->curl = NULL;
    }
    free(im->base);
    free(im->mailbox);
    free(im->source);
}


/*
 * One handle per mailbox, kept between commands so they share one IMAP
 * session (login and SELECT once per poll, not per message).
 */
static CURL *
mb_imap_handle(mb_imap_t *im)
{
    const mb_mailbox_t  *box = im->box;
    CURL                *c;
    long                 ssl;

    if (im->curl) {
        return im->curl;
    }

    c = curl_easy_init();
    if (c == NULL) {
        return NULL;
    }

    switch (box->tls) {
    case MB_TLS_NONE:
        ssl = CURLUSESSL_NONE;
        break;
    case MB_TLS_STARTTLS:
        ssl = CURLUSESSL_ALL;
        break;
    default:
        /* a password never crosses the network in clear text */
        ssl = mb_is_loopback(im->base) ? CURLUSESSL_TRY : CURLUSESSL_ALL;
    }

    curl_easy_setopt(c, CURLOPT_USERNAME, box->user);
    if (box->password) {
        curl_easy_setopt(c, CURLOPT_PASSWORD, box->password);
    }
    curl_easy_setopt(c, CURLOPT_USE_SSL, ssl);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, box->tls_verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, box->tls_verify ? 2L : 0L);
    if (box->ca_file) {
        curl_easy_setopt(c, CURLOPT_CAINFO, box->ca_file);
    }
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 120L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mb_imap_write);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, mb_imap_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, im);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    if (mb_log_level >= MB_LOG_DEBUG && getenv("MAILBRIDGE_CURL_VERBOSE")) {
        curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    }

    im->curl = c;
    return c;
}


/* One poll of one mailbox, its outcome recorded for the admins' page. */
static int
mb_imap_poll(mb_imap_t *im, mb_store_t *st)
{
    int  rc;

    im->fetched = 0;
    im->error[0] = '\0';

    rc = mb_imap_poll_box(im, st);
    mb_imap_status(im, st, rc);

    return rc;
}


/*
 * Until the next poll: the poll interval; after failures in a row (the
 * server or Redis down) it doubles per failure up to 32 polls, at most
 * 5 min (never below the interval), so that a long outage is not
 * hammered and the log not flooded, and mail is fetched soon after.
 */
static int64_t
mb_imap_delay(mb_imap_t *im, int rc)
{
    int64_t  poll, cap, d;
    unsigned k;

    poll = (int64_t) im->box->poll * 1000;

    if (rc == 0) {
        if (im->fails) {
            mb_info("%s: polling again after %u failed poll(s)", im->source,
                    im->fails);
        }
        im->fails = 0;
        return poll;
    }

    im->fails++;
    cap = poll * 32 < 300000 ? poll * 32 : 300000;
    cap = cap > poll ? cap : poll;

    for (d = poll, k = 1; k < im->fails && d < cap; k++) {
        d *= 2;
    }

    d = d < cap ? d : cap;
    mb_warn("%s: poll failed (%u in a row), next try in %lld s", im->source,
            im->fails, (long long) (d / 1000));

    return d;
}


/*
 * tk:mailbox:NAME (SCHEMA.md "Mail accounts"): when it was polled, when
 * it last worked, what went wrong, how many mails it brought.  Best
 * effort: a Redis that is down was logged by the store already.
 */
static void
mb_imap_status(mb_imap_t *im, mb_store_t *st, int rc)
{
    tk_arena_t  arena;
    tk_cmds_t   c;
    char        key[TK_KEY_MAX];
    long long   now;

    now = (long long) time(NULL);

    if (rc != 0 && im->error[0] == '\0') {
        snprintf(im->error, sizeof(im->error), "the poll failed (see the "
                 "log)");
    }

    snprintf(key, sizeof(key), TK_FMT_MAILBOX, im->box->name);

    tk_arena_init(&arena);
    tk_cmds_init(&c, tk_arena_alloc, &arena);
    tk_cmds_multi(&c);
    tk_cmds_add(&c, "HSET %s " TK_F_URL " %s/%s " TK_F_LAST_POLL " %lld "
                TK_F_LAST_ERROR " %s " TK_F_FETCHED " %zu", key, im->base,
                im->mailbox, now, im->error, im->fetched);
    if (rc == 0) {
        tk_cmds_add(&c, "HSET %s " TK_F_LAST_OK " %lld", key, now);
    }
    tk_cmds_add(&c, "SADD " TK_KEY_MAILBOXES " %s", im->box->name);
    tk_cmds_exec(&c);

    if (mb_store_run(st, &c) != 0) {
        mb_warn("%s: could not record the poll's status", im->source);
    }

    tk_arena_reset(&arena);
}


static int
mb_imap_poll_box(mb_imap_t *im, mb_store_t *st)
{
    unsigned long  *uids = NULL;
    size_t          n = 0, i;
    mb_buf_t        buf;
    mb_msg_t        m, *mp = &m;
    mb_outcome_t    out;
    char            cmd[128];
    int             rc, failed = 0;

    /* until a mail is stored there is nothing to lose: SIGTERM may cut
     * a hanging server short instead of waiting for curl's timeouts */
    im->abortable = 1;

    if (mb_imap_search(im, &uids, &n) != 0) {
        if (im->curl != NULL || mb_stop) {
            im->abortable = 0;
            return -1;
        }
        /* the session had died (server timeout): once more, fresh */
        if (mb_imap_search(im, &uids, &n) != 0) {
            im->abortable = 0;
            return -1;
        }
    }

    if (n) {
        mb_info("%s: %zu message(s) to fetch", im->source, n);
    }

    for (i = 0; i < n && !mb_stop; i++) {
        memset(&buf, 0, sizeof(buf));
        buf.keep = im->cfg->max_size + 1;

        im->abortable = 1;
        if (mb_imap_fetch(im, uids[i], &buf) != 0) {
            free(buf.data);
            failed = 1;
            break;              /* the server is unwell: next poll */
        }
        im->abortable = 0;      /* from here on this mail is finished */

        mb_msg_init(&m);
        m.raw = buf.data ? buf.data : (unsigned char *) "";
        m.raw_len = buf.len;
        m.size = buf.total;
        m.source = im->source;
        m.group = im->box->group;
        m.received = (int64_t) time(NULL);

        if (mb_parse(&m, im->cfg->max_size) != 0) {
            mb_warn("%s uid %lu: %s; quarantining", im->source, uids[i],
                    m.reason);
        }

        rc = mb_store_batch(st, &mp, 1, &out);

        if (rc != 0) {
            mb_err("%s uid %lu: not stored, stays in %s for the next poll",
                   im->source, uids[i], im->mailbox);
            snprintf(im->error, sizeof(im->error), "uid %lu: not stored "
                     "(Redis)", uids[i]);
            if (im->box->search_unseen) {
                /* the fetch marked it \Seen; UNSEEN must find it again */
                snprintf(cmd, sizeof(cmd), "UID STORE %lu -FLAGS.SILENT "
                         "(\\Seen)", uids[i]);
                mb_imap_command(im, cmd, NULL);
            }
            mb_msg_free(&m);
            free(buf.data);
            failed = 1;
            break;              /* Redis down: no use trying the rest */
        }

        mb_info("%s uid %lu: %s <%s> from <%s>: ticket %llu article %llu%s%s",
                im->source, uids[i],
                out.result == MB_RES_STORED ? "stored"
                : out.result == MB_RES_DUPLICATE ? "duplicate"
                : "quarantined",
                m.message_id.len ? (char *) m.message_id.data : "",
                m.from_addr.len ? (char *) m.from_addr.data : "",
                (unsigned long long) out.ticket,
                (unsigned long long) out.article,
                out.created ? " (new ticket)" : "",
                out.reopened ? " (reopened)" : "");

        mb_msg_free(&m);
        free(buf.data);
        im->fetched++;

        /* committed: now, and only now, it may leave the INBOX */
        if (mb_imap_ack(im, uids[i]) != 0) {
            mb_warn("%s uid %lu: stored but not moved; the next poll will "
                    "see a duplicate and move it", im->source, uids[i]);
            failed = 1;
            break;
        }
    }

    im->abortable = 0;
    free(uids);
    return failed ? -1 : 0;
}


static int
mb_imap_search(mb_imap_t *im, unsigned long **uids, size_t *n)
{
    mb_buf_t        buf;
    unsigned long  *list = NULL, *nl, v;
    size_t          cap = 0;
    char           *p, *end;

    /*
     * The session is kept between polls, and Dovecot brings a selected
     * mailbox up to date only at the end of a command: without the NOOP
     * the SEARCH would not see mail that arrived since the last poll,
     * and every mail would wait one poll interval longer.
     */
    if (mb_imap_command(im, "NOOP", NULL) != 0) {
        return -1;
    }

    memset(&buf, 0, sizeof(buf));
    buf.keep = 16 * 1024 * 1024;

    if (mb_imap_command(im, im->box->search_unseen
                            ? "UID SEARCH UNSEEN UNDELETED"
                            : "UID SEARCH UNDELETED", &buf) != 0)
    {
        free(buf.data);
        return -1;
    }

    *n = 0;
    p = buf.data ? (char *) buf.data : NULL;

    /* "* SEARCH 3 7 12\r\n" (possibly several lines) */
    while (p && (p = strstr(p, "SEARCH")) != NULL) {
        p += 6;
        for ( ;; ) {
            while (*p == ' ') {
                p++;
            }
            errno = 0;
            v = strtoul(p, &end, 10);
            if (end == p || errno) {
                break;
            }
            if (*n == cap) {
                cap = cap ? cap * 2 : 64;
                nl = realloc(list, cap * sizeof(unsigned long));
                if (nl == NULL) {
                    free(list);
                    free(buf.data);
                    return -1;
                }
                list = nl;
            }
            list[(*n)++] = v;
            p = end;
        }
    }

    free(buf.data);
    *uids = list;
    return 0;
}


/* A command on the mailbox; untagged output into out (may be NULL). */
static int
mb_imap_command(mb_imap_t *im, const char *cmd, mb_buf_t *out)
{
    mb_buf_t   sink;
    CURL      *c;
    CURLcode   rc;
    char      *url;

    c = mb_imap_handle(im);
    if (c == NULL) {
        return -1;
    }

    if (asprintf(&url, "%s/%s", im->base, im->mailbox) < 0) {
        return -1;
    }

    memset(&sink, 0, sizeof(sink));
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, cmd);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out ? out : &sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);

    rc = curl_easy_perform(c);
    free(url);
    free(sink.data);

    if (rc != CURLE_OK) {
        mb_debug("%s: \"%s\": %s", im->source, cmd, curl_easy_strerror(rc));
        if (rc != CURLE_QUOTE_ERROR) {
            mb_log(rc == CURLE_ABORTED_BY_CALLBACK ? MB_LOG_INFO : MB_LOG_WARN,
                   "%s: %s: %s", im->source, cmd,
                   rc == CURLE_ABORTED_BY_CALLBACK ? "cut short by the stop"
                   : curl_easy_strerror(rc));
            snprintf(im->error, sizeof(im->error), "%s: %s", cmd,
                     curl_easy_strerror(rc));
            /* connection trouble: a fresh session next time */
            curl_easy_cleanup(im->curl);
            im->curl = NULL;
        }
        return -1;
    }

    return 0;
}


static int
mb_imap_fetch(mb_imap_t *im, unsigned long uid, mb_buf_t *out)
{
    CURL      *c;
    CURLcode   rc;
    char      *url;

    c = mb_imap_handle(im);
    if (c == NULL) {
        return -1;
    }

    if (asprintf(&url, "%s/%s;UID=%lu", im->base, im->mailbox, uid) < 0) {
        return -1;
    }

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 0L);

    rc = curl_easy_perform(c);
    free(url);

    if (rc != CURLE_OK) {
        mb_log(rc == CURLE_ABORTED_BY_CALLBACK ? MB_LOG_INFO : MB_LOG_WARN,
               "%s uid %lu: fetch failed: %s", im->source, uid,
               rc == CURLE_ABORTED_BY_CALLBACK ? "cut short by the stop"
               : curl_easy_strerror(rc));
        snprintf(im->error, sizeof(im->error), "uid %lu: fetch failed: %s",
                 uid, curl_easy_strerror(rc));
        curl_easy_cleanup(im->curl);
        im->curl = NULL;
        return -1;
    }

    return 0;
}


/*
 * Out of the INBOX: UID MOVE to the processed folder (RFC 6851), else
 * COPY + \Deleted + (UID) EXPUNGE; or just \Deleted + expunge.
 */
static int
mb_imap_ack(mb_imap_t *im, unsigned long uid)
{
    const char  *folder = im->box->processed;
    char         cmd[512];

    if (folder) {
        if (!im->created) {
            /* fails harmlessly when it exists */
            snprintf(cmd, sizeof(cmd), "CREATE \"%s\"", folder);
            mb_imap_command(im, cmd, NULL);
            im->created = 1;
        }

        if (!im->no_move) {
            snprintf(cmd, sizeof(cmd), "UID MOVE %lu \"%s\"", uid, folder);
            if (mb_imap_command(im, cmd, NULL) == 0) {
                return 0;
            }
            im->no_move = 1;
        }

        snprintf(cmd, sizeof(cmd), "UID COPY %lu \"%s\"", uid, folder);
        if (mb_imap_command(im, cmd, NULL) != 0) {
            return -1;
        }
    }

    snprintf(cmd, sizeof(cmd), "UID STORE %lu +FLAGS.SILENT (\\Deleted)",
             uid);
    if (mb_imap_command(im, cmd, NULL) != 0) {
        return -1;
    }

    snprintf(cmd, sizeof(cmd), "UID EXPUNGE %lu", uid);
    if (mb_imap_command(im, cmd, NULL) == 0) {
        return 0;
    }

    /* no UIDPLUS: a plain EXPUNGE (also removes others' \Deleted mail) */
    return mb_imap_command(im, "EXPUNGE", NULL);
}


static size_t
mb_imap_write(char *p, size_t size, size_t n, void *data)
{
    mb_buf_t       *b = data;
    size_t          len = size * n, take, cap;
    unsigned char  *nd;

    b->total += len;
    take = b->len < b->keep ? b->keep - b->len : 0;
    if (take > len) {
        take = len;
    }

    if (take == 0) {
        return len;             /* oversized: count, don't keep */
    }

    if (b->len + take + 1 > b->cap) {
        cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->len + take + 1) {
            cap *= 2;
        }
        nd = realloc(b->data, cap);
        if (nd == NULL) {
            return 0;           /* makes curl fail: retried next poll */
        }
        b->data = nd;
        b->cap = cap;
    }

    memcpy(b->data + b->len, p, take);
    b->len += take;
    b->data[b->len] = '\0';
    return len;
}


/* Called by curl about once a second: a non-zero answer aborts. */
static int
mb_imap_progress(void *data, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
    mb_imap_t  *im = data;

    return mb_stop && im->abortable;
}


static int
mb_is_loopback(const char *base)
{
    const char  *h = strstr(base, "://");

    h = h ? h + 3 : base;
    return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost", 9) == 0
           || strncmp(h, "[::1]", 5) == 0;
}
