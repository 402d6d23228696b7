/*
 * supervise.c -- "mailbridge run": the supervisor of the role processes,
 * shaped like Postfix's master(8).  It forks one child per enabled role
 * (roles.c), restarts a child that dies -- with a backoff, so a role that
 * crashes at start does not spin -- and on SIGTERM/SIGINT passes the
 * signal on and waits (bounded) for every child.  It holds no Redis or
 * IMAP connection itself: the children do all the work, each blocked on
 * its own source, and the supervisor sleeps in sigtimedwait().
 */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mb_roles.h"

/* a child that lived this long was healthy: its restart is immediate */
#define MB_STABLE_MS        10000
#define MB_RESTART_FIRST_MS 100
#define MB_RESTART_MIN_MS   1000
#define MB_RESTART_MAX_MS   60000

typedef struct {
    const mb_role_t  *role;
    pid_t             pid;            /* 0: not running               */
    int64_t           started;        /* mb_now_ms() of the fork      */
    int64_t           restart_at;     /* when pid == 0                */
    int64_t           delay;          /* the last backoff, ms         */
    int               status;         /* last wait status             */
} mb_child_t;

static pid_t mb_child_start(const mb_config_t *cfg, mb_child_t *ch,
    const sigset_t *mask);
static int mb_child_reap(mb_child_t *kids, size_t n, int stopping);
static void mb_child_status(char *buf, size_t size, int status);
static void mb_stop_children(const mb_config_t *cfg, mb_child_t *kids,
    size_t n, int *clean);
static void mb_on_child(int sig);


int
mb_supervise(const mb_config_t *cfg)
{
    mb_child_t        kids[16];
    const mb_role_t  *r;
    sigset_t          set, orig;
    siginfo_t         info;
    struct timespec   ts;
    struct sigaction  sa;
    int64_t           now, next;
    size_t            n = 0, i;
    int               sig, clean = 1;

    for (r = mb_roles; r->name && n < sizeof(kids) / sizeof(kids[0]); r++) {
        if (r->enabled(cfg)) {
            memset(&kids[n], 0, sizeof(kids[n]));
            kids[n++].role = r;
        }
    }

    if (n == 0) {
        mb_err("%s enables no role (no mailbox.NAME.url, feed = no): "
               "nothing to run", cfg->path);
        return EX_CONFIG;
    }

    /* SIGCHLD must be delivered (not discarded) for sigtimedwait */
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = mb_on_child;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, &orig);

    for (i = 0; i < n; i++) {
        mb_child_start(cfg, &kids[i], &orig);
    }

    while (!mb_stop) {
        now = mb_now_ms();
        next = -1;

        for (i = 0; i < n; i++) {
            if (kids[i].pid == 0 && kids[i].restart_at <= now) {
                mb_child_start(cfg, &kids[i], &orig);
            }
            if (kids[i].pid == 0
                && (next < 0 || kids[i].restart_at < next))
            {
                next = kids[i].restart_at;
            }
        }

        /* nothing to do until a child dies, a restart is due, or a stop */
        if (next < 0) {
            sig = sigwaitinfo(&set, &info);
        } else {
            next -= mb_now_ms();
            next = next < 0 ? 0 : next;
            ts.tv_sec = next / 1000;
            ts.tv_nsec = (next % 1000) * 1000000;
            sig = sigtimedwait(&set, &info, &ts);
        }

        if (sig == SIGTERM || sig == SIGINT) {
            mb_info("%s: stopping %zu role(s)", sig == SIGTERM ? "SIGTERM"
                    : "SIGINT", n);
            mb_stop = 1;
        }

        mb_child_reap(kids, n, 0);
    }

    mb_stop_children(cfg, kids, n, &clean);
    sigprocmask(SIG_SETMASK, &orig, NULL);

    mb_info("stopped");
    return clean ? EX_OK : EX_SOFTWARE;
}


/* "mailbridge run --role NAME": the role in this process, no supervisor. */
int
mb_role_foreground(const mb_config_t *cfg, const char *name)
{
    const mb_role_t  *r;

    for (r = mb_roles; r->name; r++) {
        if (strcmp(r->name, name) == 0) {
            break;
        }
    }

    if (r->name == NULL) {
        mb_err("unknown role \"%s\"", name);
        return EX_USAGE;
    }

    if (!r->enabled(cfg)) {
        mb_err("role %s is not enabled by %s", name, cfg->path);
        return EX_CONFIG;
    }

    mb_log_role = r->name;
    return r->run(cfg);
}


static pid_t
mb_child_start(const mb_config_t *cfg, mb_child_t *ch, const sigset_t *mask)
{
    struct sigaction  sa;
    pid_t             pid, parent = getpid();
    char              comm[16];

    pid = fork();

    if (pid < 0) {
        mb_err("role %s: fork: %s; trying again in %d s", ch->role->name,
               strerror(errno), MB_RESTART_MIN_MS / 1000);
        ch->restart_at = mb_now_ms() + MB_RESTART_MIN_MS;
        return -1;
    }

    if (pid == 0) {
        /* a supervisor killed with -9 must not leave its roles behind */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) {
            _exit(EX_OK);
        }

        memset(&sa, 0, sizeof(sa));
        sigemptyset(&sa.sa_mask);
        sa.sa_handler = SIG_DFL;
        sigaction(SIGCHLD, &sa, NULL);
        sigprocmask(SIG_SETMASK, mask, NULL);

        snprintf(comm, sizeof(comm), "mb-%s", ch->role->name);
        prctl(PR_SET_NAME, comm);
        mb_log_role = ch->role->name;

        exit(ch->role->run(cfg));
    }

    ch->pid = pid;
    ch->started = mb_now_ms();
    mb_info("role %s started (pid %ld)", ch->role->name, (long) pid);
    return pid;
}


/*
 * Collects every dead child; schedules its restart.  The backoff doubles
 * while a child keeps dying within MB_STABLE_MS of its start (1 s, 2 s,
 * ... 60 s), so a role that crashes in a loop costs one fork a minute.
 * Returns how many children are still running.
 */
static int
mb_child_reap(mb_child_t *kids, size_t n, int stopping)
{
    pid_t     pid;
    size_t    i;
    int       status, running = 0;
    int64_t   now, lived;
    char      how[64];

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (i = 0; i < n && kids[i].pid != pid; i++) {
            /* find it */
        }
        if (i == n) {
            continue;
        }

        now = mb_now_ms();
        lived = now - kids[i].started;
        kids[i].pid = 0;
        kids[i].status = status;
        mb_child_status(how, sizeof(how), status);

        if (stopping) {
            mb_log(WIFEXITED(status) && WEXITSTATUS(status) == 0
                   ? MB_LOG_INFO : MB_LOG_WARN,
                   "role %s (pid %ld) %s", kids[i].role->name, (long) pid,
                   how);
            continue;
        }

        if (lived >= MB_STABLE_MS) {
            kids[i].delay = MB_RESTART_FIRST_MS;
        } else {
            kids[i].delay = kids[i].delay < MB_RESTART_MIN_MS
                            ? MB_RESTART_MIN_MS : kids[i].delay * 2;
            if (kids[i].delay > MB_RESTART_MAX_MS) {
                kids[i].delay = MB_RESTART_MAX_MS;
            }
        }
        kids[i].restart_at = now + kids[i].delay;

        mb_err("role %s (pid %ld) %s after %lld ms; restarting in %lld ms",
               kids[i].role->name, (long) pid, how, (long long) lived,
               (long long) kids[i].delay);
    }

    for (i = 0; i < n; i++) {
        running += kids[i].pid != 0;
    }

    return running;
}


static void
mb_child_status(char *buf, size_t size, int status)
{
    if (WIFEXITED(status)) {
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        snprintf(buf, size, "killed by signal %d (%s)%s", WTERMSIG(status),
                 strsignal(WTERMSIG(status)),
                 WCOREDUMP(status) ? ", core dumped" : "");
    } else {
        snprintf(buf, size, "ended with wait status %d", status);
    }
}


/*
 * SIGTERM to every child; each finishes the mail or entry at hand and
 * exits.  Whoever is still there after stop_timeout gets SIGKILL (safe:
 * nothing is acknowledged before it is committed) and *clean = 0.
 */
static void
mb_stop_children(const mb_config_t *cfg, mb_child_t *kids, size_t n,
    int *clean)
{
    sigset_t         chld;
    struct timespec  ts;
    int64_t          deadline, left;
    size_t           i;

    for (i = 0; i < n; i++) {
        if (kids[i].pid) {
            kill(kids[i].pid, SIGTERM);
        }
    }

    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    deadline = mb_now_ms() + (int64_t) cfg->stop_timeout * 1000;

    while (mb_child_reap(kids, n, 1) > 0) {
        left = deadline - mb_now_ms();
        if (left <= 0) {
            break;
        }
        ts.tv_sec = left / 1000;
        ts.tv_nsec = (left % 1000) * 1000000;
        sigtimedwait(&chld, NULL, &ts);
    }

    for (i = 0; i < n; i++) {
        if (kids[i].pid) {
            mb_err("role %s (pid %ld) did not stop within %d s: SIGKILL",
                   kids[i].role->name, (long) kids[i].pid, cfg->stop_timeout);
            kill(kids[i].pid, SIGKILL);
            waitpid(kids[i].pid, NULL, 0);
            kids[i].pid = 0;
            *clean = 0;
        }
    }
}


int
mb_wait(int fd, int64_t timeout_ms)
{
    sigset_t         stop, orig;
    struct pollfd    pfd;
    struct timespec  ts;
    int              n;

    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, &orig);

    if (mb_stop) {
        sigprocmask(SIG_SETMASK, &orig, NULL);
        return -1;
    }

    pfd.fd = fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = (timeout_ms % 1000) * 1000000;
    }

    /* a pending SIGTERM is delivered the moment ppoll unblocks it */
    n = ppoll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0,
              timeout_ms >= 0 ? &ts : NULL, &orig);

    sigprocmask(SIG_SETMASK, &orig, NULL);

    if (mb_stop) {
        return -1;
    }

    return n > 0 ? 1 : 0;
}


int64_t
mb_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static void
mb_on_child(int sig)
{
    (void) sig;                 /* only there so SIGCHLD is queued */
}
