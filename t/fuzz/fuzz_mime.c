/*
 * fuzz_mime.c -- libFuzzer target: mailbridge's whole parse stage
 * (mb_parse: gmime, headers, charset repair, MIME walk, attachments,
 * HTML sanitiser, classification) on arbitrary bytes, as `deliver` gets
 * them.  Seeded from t/corpus/ (make fuzz copies it into the run's
 * corpus directory).  Properties: mb_parse returns 0 or -1 with a
 * reason; the decoded fields are valid UTF-8 (the templates and the JSON
 * API rely on it), header lines hold no CR/LF (header injection into
 * replies), attachment names have no '/' (path tricks).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "mailbridge.h"

/* main.c is not linked (libFuzzer has the main); weak, so a later home
 * of mb_stop elsewhere in mailbridge/ wins without a clash */
__attribute__((weak)) volatile int mb_stop;

#define CHECK(cond, what)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "property violated: %s\n", what);              \
            abort();                                                        \
        }                                                                   \
    } while (0)

int mb_fuzz_initialised;


static void
check_line(const tk_str_t *s, const char *what)
{
    if (s->len == 0) {
        return;             /* unset fields are { 0, NULL } */
    }
    CHECK(g_utf8_validate((const char *) s->data, (gssize) s->len, NULL), what);
    CHECK(memchr(s->data, '\r', s->len) == NULL
          && memchr(s->data, '\n', s->len) == NULL, what);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mb_msg_t  m;
    unsigned  i;
    int       rc;

    if (!mb_fuzz_initialised) {
        mb_parse_init();
        mb_fuzz_initialised = 1;
    }

    mb_msg_init(&m);
    m.raw = data;
    m.raw_len = size;
    m.size = size;
    m.source = "fuzz";
    m.received = 1700000000;

    /* a small limit so the oversized path is reached as well */
    rc = mb_parse(&m, 256 * 1024);
    CHECK(rc == 0 || rc == -1, "mb_parse return value");

    if (rc == -1) {
        CHECK(m.reason != NULL, "mb_parse failed without a reason");
    } else {
        check_line(&m.subject, "subject: invalid UTF-8 or CR/LF");
        check_line(&m.from, "from: invalid UTF-8 or CR/LF");
        check_line(&m.from_name, "from_name: invalid UTF-8 or CR/LF");
        check_line(&m.message_id, "message_id: invalid UTF-8 or CR/LF");
        CHECK(m.body.len == 0
              || g_utf8_validate((const char *) m.body.data,
                                 (gssize) m.body.len, NULL),
              "body: invalid UTF-8");
        for (i = 0; i < m.natts; i++) {
            check_line(&m.atts[i].name, "attachment name: UTF-8 or CR/LF");
            CHECK(m.atts[i].name.len > 0
                  && memchr(m.atts[i].name.data, '/', m.atts[i].name.len) == NULL,
                  "attachment name with '/'");
        }
        mb_msg_hash(&m);
    }

    mb_msg_free(&m);
    return 0;
}
