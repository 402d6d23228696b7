/*
 * log.c -- one line per event on stderr, with a UTC timestamp and the
 * pid, so the lines read the same under Postfix pipe(8) (which mails
 * stderr back only on failure), a supervisor, or a terminal.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "mailbridge.h"

int mb_log_level = MB_LOG_INFO;
const char *mb_log_role;        /* "imap": lines read mailbridge/imap[PID] */

static const char *mb_log_names[] = { "error", "warn", "info", "debug" };


void
mb_log(int level, const char *fmt, ...)
{
    char        line[2048], stamp[32];
    struct tm   tm;
    time_t      now;
    va_list     ap;
    int         n;

    if (level > mb_log_level) {
        return;
    }

    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);

    if (n < 0) {
        return;
    }

    /* one write(2) per line keeps lines whole when processes share stderr */
    fprintf(stderr, "%s mailbridge%s%s[%ld]: %s: %s\n", stamp,
            mb_log_role ? "/" : "", mb_log_role ? mb_log_role : "",
            (long) getpid(), mb_log_names[level], line);
    fflush(stderr);
}


int
mb_log_level_parse(const char *s)
{
    int  i;

    for (i = 0; i < 4; i++) {
        if (strcasecmp(s, mb_log_names[i]) == 0) {
            return i;
        }
    }

    if (strcasecmp(s, "warning") == 0) {
        return MB_LOG_WARN;
    }

    return -1;
}
