/*
 * mb_roles.h -- "mailbridge run": one process per role under a
 * supervisor (supervise.c), in the manner of Postfix's master(8).  A role
 * is a loop that waits on its own source (IMAP schedule, a Redis Stream)
 * until mb_stop is set; the table of roles is roles.c.
 * docs/architecture.md "mailbridge processes".
 */

#ifndef MB_ROLES_H
#define MB_ROLES_H

#include <stdint.h>

#include "mailbridge.h"

/*
 * run: loops until mb_stop, returns a sysexits code (the supervisor
 * restarts it whatever it returns, unless it is stopping).
 * enabled: does the configuration ask for this role?
 */
typedef struct {
    const char    *name;          /* "imap": --role imap, log tag     */
    int          (*run)(const mb_config_t *cfg);
    int          (*enabled)(const mb_config_t *cfg);
} mb_role_t;

extern const mb_role_t  mb_roles[];   /* ends with { NULL, NULL, NULL } */

/* roles.c's members that live in mailbridge itself */
int mb_imap_run(const mb_config_t *cfg);         /* fetch_imap.c */
int mb_imap_enabled(const mb_config_t *cfg);
int mb_feed_run(const mb_config_t *cfg);         /* feed.c       */
int mb_feed_enabled(const mb_config_t *cfg);

/* supervise.c: "run" (every enabled role) and "run --role NAME" */
int mb_supervise(const mb_config_t *cfg);
int mb_role_foreground(const mb_config_t *cfg, const char *name);

/*
 * Waits until fd is readable (fd < 0: only the clock), timeout_ms passed
 * (< 0: no limit), or SIGTERM/SIGINT arrived -- without the race of a
 * signal between "check mb_stop" and "go to sleep" (ppoll with the
 * signals blocked until the sleep).  Returns 1 readable, 0 timeout or
 * another signal, -1 stop requested.
 */
int mb_wait(int fd, int64_t timeout_ms);
/* CLOCK_MONOTONIC in milliseconds: schedules that survive clock jumps */
int64_t mb_now_ms(void);

#endif /* MB_ROLES_H */
