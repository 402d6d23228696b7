/*
 * tc_backup.c -- "ticketctl backup DIR" and "ticketctl restore DIR".
 *
 * A backup is files, taken on the Redis host (ticketctl reads Redis'
 * data directory, so run it as root or as redis):
 *
 *   DIR/dump.rdb        a BGSAVE made for this backup: one consistent
 *                       point in time of every key
 *   DIR/appendonlydir/  the AOF as it was a moment later (manifest,
 *                       base, increments; its last command may be cut
 *                       off, which Redis' aof-load-truncated forgives)
 *   DIR/keyring/        mailbridge's PGP keyring (--keyring, default
 *                       /var/lib/ticket/gnupg when it exists)
 *   DIR/MANIFEST        what was taken: time, schema, Redis version,
 *                       number of keys, file sizes
 *
 * "restore DIR --data-dir D" puts a backup into the empty data directory
 * of a Redis that is not running: the snapshot becomes the base of a
 * fresh multi-part AOF (so a Redis with appendonly yes loads it, which it
 * would not do with a bare dump.rdb), or with --aof the AOF copy is used
 * as it is.  Start Redis on D afterwards; its schema is checked by every
 * program at connect.  Nothing is ever written over existing data.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ticketctl.h"


#define TC_BACKUP_KEYRING   "/var/lib/ticket/gnupg"
#define TC_BACKUP_WAIT_MS   100
#define TC_BACKUP_TRIES     3
#define TC_AOF_PREFIX       "appendonly.aof"


static int tc_backup_snapshot(tc_ctx_t *ctx, const char *dir,
    const char *rdb);
static long tc_backup_info(tc_ctx_t *ctx, const char *field);
static int tc_backup_aof(const char *aofdir, const char *to);
static int tc_copy_file(const char *from, const char *to, off_t *size);
static int tc_copy_tree(const char *from, const char *to);
static int tc_dir_empty(const char *path);
static int tc_config_get(tc_ctx_t *ctx, const char *name, char *out,
    size_t size);
static int tc_restore_base(const char *dir, const char *aofdir);
static void tc_path(char *out, size_t size, const char *a, const char *b);


int
tc_cmd_backup(tc_ctx_t *ctx, int argc, char **argv)
{
    const char   *dir, *keyring = NULL;
    char          rdir[4096], rfile[256], aofname[256], path[4096];
    char          from[4096], version[64];
    struct stat   st;
    redisReply   *reply;
    long long     keys;
    off_t         rdb_size = 0;
    int           i, rc, have_keyring, have_aof;
    FILE         *f;

    if (argc < 2) {
        return tc_usage("backup");
    }
    dir = argv[1];

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--keyring") == 0 && i + 1 < argc) {
            keyring = argv[++i];
        } else {
            tc_fail(EX_USAGE, "unknown backup option \"%s\"", argv[i]);
            return tc_usage("backup");
        }
    }

    rc = tc_connect(ctx, 1);
    if (rc != EX_OK) {
        return rc;
    }

    if (mkdir(dir, 0700) != 0 && !(errno == EEXIST && tc_dir_empty(dir))) {
        return tc_fail(EX_CANTCREAT, "%s: %s", dir, errno == EEXIST
                       ? "exists and is not empty" : strerror(errno));
    }

    if (tc_config_get(ctx, "dir", rdir, sizeof(rdir)) != 0
        || tc_config_get(ctx, "dbfilename", rfile, sizeof(rfile)) != 0
        || tc_config_get(ctx, "appenddirname", aofname, sizeof(aofname))
           != 0)
    {
        return EX_UNAVAILABLE;
    }

    reply = tc_command(ctx, "DBSIZE");
    if (reply == NULL) {
        return EX_UNAVAILABLE;
    }
    keys = reply->integer;
    freeReplyObject(reply);

    rc = tc_backup_snapshot(ctx, rdir, rfile);
    if (rc != EX_OK) {
        return rc;
    }

    tc_path(from, sizeof(from), rdir, rfile);
    tc_path(path, sizeof(path), dir, "dump.rdb");
    if (tc_copy_file(from, path, &rdb_size) != 0) {
        return tc_fail(EX_IOERR, "copying %s: %s (ticketctl must be able "
                       "to read Redis' data directory: run it as root or "
                       "as the redis user)", from, strerror(errno));
    }

    tc_path(from, sizeof(from), rdir, aofname);
    have_aof = stat(from, &st) == 0;
    if (have_aof) {
        tc_path(path, sizeof(path), dir, "appendonlydir");
        if (tc_backup_aof(from, path) != 0) {
            return tc_fail(EX_IOERR, "copying the AOF %s: %s", from,
                           strerror(errno));
        }
    }

    if (keyring == NULL && stat(TC_BACKUP_KEYRING, &st) == 0
        && S_ISDIR(st.st_mode))
    {
        keyring = TC_BACKUP_KEYRING;
    }
    have_keyring = keyring != NULL;
    if (have_keyring) {
        tc_path(path, sizeof(path), dir, "keyring");
        if (tc_copy_tree(keyring, path) != 0) {
            return tc_fail(EX_IOERR, "copying the keyring %s: %s", keyring,
                           strerror(errno));
        }
    }

    reply = tc_command(ctx, "INFO server");
    snprintf(version, sizeof(version), "?");
    if (reply && reply->type == REDIS_REPLY_STRING) {
        char *v = strstr(reply->str, "redis_version:");
        if (v) {
            sscanf(v + sizeof("redis_version:") - 1, "%63[^\r\n]", version);
        }
    }
    if (reply) {
        freeReplyObject(reply);
    }

    tc_path(path, sizeof(path), dir, "MANIFEST");
    f = fopen(path, "w");
    if (f == NULL) {
        return tc_fail(EX_CANTCREAT, "%s: %s", path, strerror(errno));
    }
    fprintf(f, "ticket-backup 1\ncreated %lld\nschema %d\nredis %s\n"
            "keys %lld\ndump.rdb %lld\nappendonlydir %s\nkeyring %s\n",
            (long long) time(NULL), TK_SCHEMA_VERSION, version, keys,
            (long long) rdb_size, have_aof ? "yes" : "no",
            have_keyring ? keyring : "no");
    if (fclose(f) != 0) {
        return tc_fail(EX_IOERR, "%s: %s", path, strerror(errno));
    }

    printf("backup in %s: %lld keys, dump.rdb %lld bytes%s%s\n", dir, keys,
           (long long) rdb_size, have_aof ? ", the AOF" : "",
           have_keyring ? ", the keyring" : "");
    return EX_OK;
}


/*
 * BGSAVE SCHEDULE, waiting until a save that *started after us* ended:
 * rdb_saves counts finished saves, so "one more than before, none in
 * progress" is ours (or a later one: just as consistent).  A save already
 * running when we asked may be older than the call; it is waited out.
 */
static int
tc_backup_snapshot(tc_ctx_t *ctx, const char *dir, const char *rdb)
{
    redisReply       *reply;
    long              saves, running;
    struct timespec   pause = { 0, TC_BACKUP_WAIT_MS * 1000000L };

    for ( ;; ) {
        saves = tc_backup_info(ctx, "rdb_saves");
        running = tc_backup_info(ctx, "rdb_bgsave_in_progress");
        if (saves < 0 || running < 0) {
            return tc_fail(EX_UNAVAILABLE, "INFO persistence unreadable");
        }
        if (running == 0) {
            break;
        }
        nanosleep(&pause, NULL);
    }

    reply = tc_command(ctx, "BGSAVE SCHEDULE");
    if (reply == NULL) {
        return EX_UNAVAILABLE;
    }
    freeReplyObject(reply);

    for ( ;; ) {
        nanosleep(&pause, NULL);
        if (tc_backup_info(ctx, "rdb_saves") > saves
            && tc_backup_info(ctx, "rdb_bgsave_in_progress") == 0)
        {
            break;
        }
    }

    if (tc_backup_info(ctx, "rdb_last_bgsave_status") != 1) {
        return tc_fail(EX_SOFTWARE, "BGSAVE failed: see the log of Redis "
                       "(disk full? %s/%s not writable?)", dir, rdb);
    }

    return EX_OK;
}


/* A number of INFO persistence; "ok" is 1, "err" 0; -1 if absent. */
static long
tc_backup_info(tc_ctx_t *ctx, const char *field)
{
    redisReply  *reply;
    char        *p;
    long         v = -1;
    size_t       n = strlen(field);

    reply = tc_command(ctx, "INFO persistence");
    if (reply == NULL) {
        return -1;
    }

    for (p = reply->str; p && (p = strstr(p, field)) != NULL; p += n) {
        if ((p == reply->str || p[-1] == '\n') && p[n] == ':') {
            p += n + 1;
            v = strncmp(p, "ok", 2) == 0 ? 1
                : strncmp(p, "err", 3) == 0 ? 0 : strtol(p, NULL, 10);
            break;
        }
    }

    freeReplyObject(reply);
    return v;
}


/*
 * The files the manifest names, manifest first.  A rewrite finishing in
 * between removes old files: then the whole copy is done again.
 */
static int
tc_backup_aof(const char *aofdir, const char *to)
{
    char    line[1024], name[512], from[4096], path[4096];
    int     tries, ok;
    FILE   *m;

    for (tries = 0; tries < TC_BACKUP_TRIES; tries++) {
        if (mkdir(to, 0700) != 0 && errno != EEXIST) {
            return -1;
        }
        tc_path(from, sizeof(from), aofdir, TC_AOF_PREFIX ".manifest");
        tc_path(path, sizeof(path), to, TC_AOF_PREFIX ".manifest");
        if (tc_copy_file(from, path, NULL) != 0) {
            return -1;
        }

        m = fopen(path, "r");
        if (m == NULL) {
            return -1;
        }

        ok = 1;
        while (ok && fgets(line, sizeof(line), m)) {
            if (sscanf(line, "file %511s", name) != 1
                || strchr(name, '/') != NULL)
            {
                continue;
            }
            tc_path(from, sizeof(from), aofdir, name);
            tc_path(path, sizeof(path), to, name);
            ok = tc_copy_file(from, path, NULL) == 0;
        }
        fclose(m);

        if (ok) {
            return 0;
        }
        if (errno != ENOENT) {
            return -1;
        }
    }

    return -1;
}


int
tc_cmd_restore(tc_ctx_t *ctx, int argc, char **argv)
{
    const char   *dir, *data = NULL, *keyring = NULL;
    char          path[4096], to[4096];
    int           i, aof = 0;

    if (argc < 2) {
        return tc_usage("restore");
    }
    dir = argv[1];

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else if (strcmp(argv[i], "--keyring") == 0 && i + 1 < argc) {
            keyring = argv[++i];
        } else if (strcmp(argv[i], "--aof") == 0) {
            aof = 1;
        } else {
            tc_fail(EX_USAGE, "unknown restore option \"%s\"", argv[i]);
            return tc_usage("restore");
        }
    }

    if (data == NULL) {
        tc_fail(EX_USAGE, "restore needs --data-dir: the (empty) data "
                "directory of the Redis to start on the backup");
        return tc_usage("restore");
    }

    tc_path(path, sizeof(path), dir, "MANIFEST");
    if (access(path, R_OK) != 0) {
        return tc_fail(EX_NOINPUT, "%s is not a backup (no MANIFEST)", dir);
    }

    if (mkdir(data, 0700) != 0 && !(errno == EEXIST && tc_dir_empty(data))) {
        return tc_fail(EX_CANTCREAT, "%s: %s", data, errno == EEXIST
                       ? "holds data already; a backup is restored into an "
                         "empty data directory only (stop Redis, move the "
                         "old one aside)" : strerror(errno));
    }

    tc_path(to, sizeof(to), data, "appendonlydir");
    if (aof) {
        tc_path(path, sizeof(path), dir, "appendonlydir");
        if (tc_copy_tree(path, to) != 0) {
            return tc_fail(EX_IOERR, "copying %s: %s", path, strerror(errno));
        }
    } else if (tc_restore_base(dir, to) != 0) {
        return tc_fail(EX_IOERR, "writing %s: %s", to, strerror(errno));
    }

    tc_path(path, sizeof(path), dir, "keyring");
    if (keyring && tc_copy_tree(path, keyring) != 0) {
        return tc_fail(EX_IOERR, "restoring the keyring into %s: %s",
                       keyring, strerror(errno));
    }

    (void) ctx;
    printf("restored %s into %s (%s)%s; now give it to the redis user "
           "and start Redis on it\n", dir, data,
           aof ? "the AOF copy" : "the snapshot", keyring ? " and the keyring"
                                                         : "");
    return EX_OK;
}


/* The snapshot as the base of a new multi-part AOF, plus dump.rdb for
 * a Redis that runs without AOF. */
static int
tc_restore_base(const char *dir, const char *aofdir)
{
    char    from[4096], path[4096];
    FILE   *m;

    tc_path(from, sizeof(from), dir, "dump.rdb");

    if (mkdir(aofdir, 0700) != 0) {
        return -1;
    }
    tc_path(path, sizeof(path), aofdir, TC_AOF_PREFIX ".1.base.rdb");
    if (tc_copy_file(from, path, NULL) != 0) {
        return -1;
    }

    tc_path(path, sizeof(path), aofdir, TC_AOF_PREFIX ".1.incr.aof");
    m = fopen(path, "w");
    if (m == NULL || fclose(m) != 0) {
        return -1;
    }

    tc_path(path, sizeof(path), aofdir, TC_AOF_PREFIX ".manifest");
    m = fopen(path, "w");
    if (m == NULL) {
        return -1;
    }
    fprintf(m, "file " TC_AOF_PREFIX ".1.base.rdb seq 1 type b\n"
            "file " TC_AOF_PREFIX ".1.incr.aof seq 1 type i\n");
    if (fclose(m) != 0) {
        return -1;
    }

    tc_path(path, sizeof(path), aofdir, "../dump.rdb");
    return tc_copy_file(from, path, NULL);
}


/* Copies through a temporary name, fsynced, then renamed. */
static int
tc_copy_file(const char *from, const char *to, off_t *size)
{
    char     buf[65536], tmp[4096];
    ssize_t  n;
    off_t    total = 0;
    int      in, out, err;

    in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        return -1;
    }

    if ((size_t) snprintf(tmp, sizeof(tmp), "%s.tmp", to) >= sizeof(tmp)) {
        close(in);
        errno = ENAMETOOLONG;
        return -1;
    }
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        err = errno;
        close(in);
        errno = err;
        return -1;
    }

    while ((n = read(in, buf, sizeof(buf))) > 0) {
        if (write(out, buf, (size_t) n) != n) {
            n = -1;
            break;
        }
        total += n;
    }

    err = errno;
    if (n < 0 || fsync(out) != 0 || close(out) != 0) {
        close(in);
        unlink(tmp);
        errno = n < 0 ? err : errno;
        return -1;
    }
    close(in);

    if (size) {
        *size = total;
    }
    return rename(tmp, to);
}


/* Directories and regular files (no sockets: gpg-agent's), modes kept. */
static int
tc_copy_tree(const char *from, const char *to)
{
    char            a[4096], b[4096];
    DIR            *d;
    struct dirent  *e;
    struct stat     st;
    int             rc = 0;

    if (stat(from, &st) != 0) {
        return -1;
    }
    if (mkdir(to, st.st_mode & 07777) != 0 && errno != EEXIST) {
        return -1;
    }

    d = opendir(from);
    if (d == NULL) {
        return -1;
    }

    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        tc_path(a, sizeof(a), from, e->d_name);
        tc_path(b, sizeof(b), to, e->d_name);
        if (lstat(a, &st) != 0) {
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = tc_copy_tree(a, b);
        } else if (S_ISREG(st.st_mode)) {
            rc = tc_copy_file(a, b, NULL) == 0
                 ? chmod(b, st.st_mode & 07777) : -1;
        }
    }

    closedir(d);
    return rc;
}


/* 1 if path is a directory without entries. */
static int
tc_dir_empty(const char *path)
{
    DIR            *d;
    struct dirent  *e;
    int             empty = 1;

    d = opendir(path);
    if (d == NULL) {
        return 0;
    }
    while (empty && (e = readdir(d)) != NULL) {
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    }
    closedir(d);
    return empty;
}


/* CONFIG GET name into out. */
static int
tc_config_get(tc_ctx_t *ctx, const char *name, char *out, size_t size)
{
    redisReply  *reply;

    reply = tc_command(ctx, "CONFIG GET %s", name);
    if (reply == NULL) {
        return -1;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        freeReplyObject(reply);
        tc_fail(EX_SOFTWARE, "CONFIG GET %s: no answer (is CONFIG renamed "
                "or disabled?)", name);
        return -1;
    }
    snprintf(out, size, "%s", reply->element[1]->str);
    freeReplyObject(reply);
    return 0;
}


/* a/b; a path too long for out becomes "", which no open() finds */
static void
tc_path(char *out, size_t size, const char *a, const char *b)
{
    int  n;

    n = snprintf(out, size, "%s/%s", a, b);
    if (n < 0 || (size_t) n >= size) {
        out[0] = '\0';
    }
}
