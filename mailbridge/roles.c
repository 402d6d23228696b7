/*
 * roles.c -- the processes "mailbridge run" starts: one line per role.
 * The supervisor (supervise.c) forks one child for each role whose
 * enabled() says yes and restarts it when it dies.  To add a role, write
 * NAME_run / NAME_enabled (mb_roles.h) and add its line here.
 */

#include "mb_crypto.h"
#include "mb_notify.h"
#include "mb_outbox.h"
#include "mb_timers.h"
#include "mb_roles.h"

const mb_role_t  mb_roles[] = {
    { "imap",   mb_imap_run,   mb_imap_enabled },    /* fetch_imap.c */
    { "feed",   mb_feed_run,   mb_feed_enabled },    /* feed.c       */
    { "outbox", mb_outbox_run, mb_outbox_enabled },  /* outbox.c     */
    { "keys",   mb_keys_run,   mb_keys_enabled },    /* keys.c       */
    { "timers", mb_timers_run, mb_timers_enabled },  /* timers.c     */
    { "notify", mb_notify_run, mb_notify_enabled },  /* notify.c     */
    { NULL, NULL, NULL }
};
