/*
 * deliver.c -- "mailbridge deliver": one message on stdin from the MTA
 * (Postfix pipe(8), a .forward, procmail).  Exit 0 only once the mail is
 * committed to Redis (or quarantined); any other outcome is EX_TEMPFAIL,
 * so the MTA keeps the mail queued and retries -- a bounce would go back
 * to an activist who did nothing wrong.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mailbridge.h"

static int mb_read_stdin(size_t keep, unsigned char **buf, size_t *len,
    size_t *total);
static void mb_log_outcome(const mb_msg_t *m, const mb_outcome_t *o);


int
mb_deliver(const mb_config_t *cfg, const char *group, const char *recipient,
    const char *sender)
{
    mb_msg_t       m, *mp = &m;
    mb_store_t    *st;
    mb_outcome_t   out;
    unsigned char *buf;
    size_t         len, total;
    int            rc;

    /* headers of an oversized mail are kept: read a little past the
     * limit, count (and drop) the rest so the MTA sees us take it all */
    if (mb_read_stdin(cfg->max_size + 1, &buf, &len, &total) != 0) {
        return EX_TEMPFAIL;
    }

    mb_msg_init(&m);
    m.raw = buf;
    m.raw_len = len;
    m.size = total;
    m.source = "deliver";
    m.envelope_from = sender;
    m.recipient = recipient;
    m.group = group;
    m.received = (int64_t) time(NULL);

    if (mb_parse(&m, cfg->max_size) != 0) {
        mb_warn("unparseable mail (%zu bytes): %s; quarantining", total,
                m.reason);
    }

    st = mb_store_new(cfg);
    if (st == NULL) {
        mb_err("out of memory");
        mb_msg_free(&m);
        free(buf);
        return EX_TEMPFAIL;
    }

    rc = mb_store_batch(st, &mp, 1, &out);
    mb_store_free(st);

    if (rc == 0) {
        mb_log_outcome(&m, &out);
    } else {
        mb_err("not stored, the MTA will retry: message-id <%s> from <%s>",
               m.message_id.len ? (char *) m.message_id.data : "",
               m.from_addr.len ? (char *) m.from_addr.data : "");
    }

    mb_msg_free(&m);
    free(buf);

    return rc == 0 ? EX_OK : EX_TEMPFAIL;
}


static void
mb_log_outcome(const mb_msg_t *m, const mb_outcome_t *o)
{
    static const char *const what[] = {
        "stored", "duplicate", "quarantined", "tempfail"
    };

    mb_info("%s: message-id <%s> from <%s> ticket %llu article %llu%s%s",
            what[o->result],
            m->message_id.len ? (char *) m->message_id.data : "",
            m->from_addr.len ? (char *) m->from_addr.data : "",
            (unsigned long long) o->ticket, (unsigned long long) o->article,
            o->created ? " (new ticket)" : "",
            o->reopened ? " (reopened)" : "");
}


/* All of stdin; the first 'keep' bytes in *buf, the size in *total. */
static int
mb_read_stdin(size_t keep, unsigned char **buf, size_t *len, size_t *total)
{
    unsigned char  *b = NULL, *nb, sink[65536];
    size_t          cap = 0, n = 0, all = 0;
    ssize_t         r;

    for ( ;; ) {
        if (n < keep && n == cap) {
            cap = cap ? cap * 2 : 65536;
            if (cap > keep) {
                cap = keep;
            }
            nb = realloc(b, cap);
            if (nb == NULL) {
                mb_err("out of memory reading the mail (%zu bytes)", cap);
                free(b);
                return -1;
            }
            b = nb;
        }

        if (n < keep) {
            r = read(STDIN_FILENO, b + n, cap - n);
        } else {
            r = read(STDIN_FILENO, sink, sizeof(sink));
        }

        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            mb_err("reading stdin: %s", strerror(errno));
            free(b);
            return -1;
        }

        if (r == 0) {
            break;
        }

        if (n < keep) {
            n += (size_t) r;
        }
        all += (size_t) r;
    }

    *buf = b ? b : malloc(1);
    *len = n;
    *total = all;
    return *buf ? 0 : -1;
}
