/*
 * ticketctl.h -- what the subcommands of ticketctl share: the context
 * (Redis connection), exit codes, error reporting and the small write
 * helpers (users, groups, tickets) that init, demo and gen reuse.
 */

#ifndef TICKETCTL_H
#define TICKETCTL_H

#include <stdint.h>
#include <sysexits.h>

#include "tk_cmd.h"
#include "tk_redis_sync.h"
#include "tk_schema.h"
#include "tk_schema_sync.h"
#include "tk_ticket.h"

#define TC_PASSWORD_MIN     8
#define TC_PASSWORD_MAX     1024
#define TC_TOKEN_BYTES      32

typedef struct {
    const char  *addr;          /* --redis, $TICKET_REDIS or the default */
    int          timeout_ms;    /* connect and per command               */
    tk_redis_t   redis;
    int          connected;
} tc_ctx_t;

/* One subcommand: argv[0] is its name ("user", "add", ...). */
typedef int (*tc_cmd_pt)(tc_ctx_t *ctx, int argc, char **argv);

/* A table of them, ended by a NULL name. */
typedef struct {
    const char  *name;
    tc_cmd_pt    handler;
} tc_command_t;

/* ---- ticketctl.c: plumbing ---------------------------------------------- */

/* Prints "ticketctl: ..." to stderr and returns code (for "return"). */
int tc_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints usage (of one subcommand, or everything) and returns EX_USAGE. */
int tc_usage(const char *topic);

/*
 * "TOPIC SUB ARGS": runs the handler of subs named SUB with argv + 1, or
 * says "unknown TOPIC command" and prints the topic's usage.
 */
int tc_subcommand(tc_ctx_t *ctx, int argc, char **argv, const char *topic,
    const tc_command_t *subs);

/*
 * Connects (once) and checks the schema version; returns 0 or an exit
 * code after printing why.  init connects with need_schema = 0.
 */
int tc_connect(tc_ctx_t *ctx, int need_schema);

/* Maps a TK_REDIS_* result to an exit code, printing ctx->redis.err. */
int tc_redis_fail(tc_ctx_t *ctx, int rc);

/* Runs cmds (e.g. a MULTI/EXEC) and fails on any error reply. */
int tc_run(tc_ctx_t *ctx, tk_cmds_t *cmds);

/* The change feed's actor of ticketctl's ticket writes: the admin's Unix
 * login ($SUDO_USER behind sudo), source "cli" (tk_cmds_actor). */
void tc_actor(tk_cmds_t *cmds);

/* One command (hiredis format); NULL after printing the error. */
redisReply *tc_command(tc_ctx_t *ctx, const char *fmt, ...);

/* 1 if member is in the set, 0 if not, -1 on error (printed). */
int tc_sismember(tc_ctx_t *ctx, const char *set, const char *member);

/*
 * SMEMBERS key, sorted by name: *names point into *set; the caller
 * frees *names and *set.  0 or an exit code (printed).
 */
int tc_members_sorted(tc_ctx_t *ctx, const char *key, redisReply **set,
    char ***names, size_t *n);

/* Element i of an array reply as a string, "" where there is none. */
const char *tc_reply_str(redisReply *r, size_t i);

/* An HGETALL reply as field/value pairs for tk_*_parse(); memory from
 * alloc, NULL when there is none. */
tk_str_t *tc_reply_pairs(redisReply *r, tk_alloc_pt alloc, void *data);

/* Reads one line (the password) from stdin, without the newline. */
int tc_read_password(char *buf, size_t size);

/* yescrypt hash of password into out; 0 or -1. */
int tc_password_hash(const char *password, char *out, size_t size);

/* n random bytes (getrandom) as lower-case hex: out has 2n+1 bytes. */
int tc_random_hex(char *out, size_t n);

/* A random password of len letters and digits (no look-alikes). */
int tc_random_password(char *out, size_t len);

/* A C string (NULL: "") as a tk_str_t. */
void tc_str(tk_str_t *s, const char *p);

/* Lower-cases ASCII in place; returns s. */
char *tc_lower(char *s);

/* tc_text.c: columns a string takes on a terminal (UTF-8 aware), and a
 * table cell padded to width columns plus one blank. */
size_t tc_text_width(const char *s);
void tc_print_col(const char *s, size_t width);

/* ---- tc_user.c, tc_group.c, tc_token.c: users, groups, tokens ---------- */

int tc_cmd_user(tc_ctx_t *ctx, int argc, char **argv);
int tc_cmd_group(tc_ctx_t *ctx, int argc, char **argv);
int tc_cmd_token(tc_ctx_t *ctx, int argc, char **argv);
int tc_cmd_outbox(tc_ctx_t *ctx, int argc, char **argv);   /* tc_outbox.c */

typedef struct {
    const char  *login;
    const char  *name;
    const char  *email;
    const char  *password_hash;  /* "$y$..." */
    const char  *rights;         /* "legal:full,ALSO:read" */
    const char  *lang;           /* "de" | "en" */
    int          admin;
    int          disabled;
} tc_user_t;

/* HSET the user hash + SADD tk:users (no existence check). */
void tc_user_write(tk_cmds_t *c, const tc_user_t *u, int64_t now);

/* 1 if LOGIN is in tk:users / its hash tk:{u:LOGIN} exists, 0 if not,
 * -1 on error (printed). */
int tc_user_listed(tc_ctx_t *ctx, const char *login);
int tc_user_exists(tc_ctx_t *ctx, const char *login);

/* A login ("a-z 0-9 . _ -") or an address a user may give; 0 or
 * EX_DATAERR (printed). */
int tc_check_login(const char *login);
int tc_check_email(const char *email);

/* HSET the group hash, SADD tk:groups, tk:groups:all-agents if flagged. */
void tc_group_write(tk_cmds_t *c, const char *name, const char *email,
    const char *signature, int all_agents);

/*
 * A rights list "g:full,h:read": every group must exist and every right
 * be read|full.  Returns 0, EX_DATAERR (printed) or another exit code.
 */
int tc_rights_check(tc_ctx_t *ctx, const char *rights);

/* 1 if the group exists, 0 if not, -1 on error (printed). */
int tc_group_exists(tc_ctx_t *ctx, const char *name);

/* The same as an exit code: 0, or "unknown group" printed. */
int tc_group_check(tc_ctx_t *ctx, const char *name);

/* ---- tc_ticket.c, tc_reindex.c: tickets ---------------------------------- */

int tc_cmd_ticket(tc_ctx_t *ctx, int argc, char **argv);
int tc_cmd_reindex(tc_ctx_t *ctx, int argc, char **argv);
/* the overview index rebuilt (reindex, and the migration 2 -> 3) */
int tc_reindex_index(tc_ctx_t *ctx, int verbose);
/* tc_trigger.c: "trigger", and the default rule init creates once */
int tc_cmd_trigger(tc_ctx_t *ctx, int argc, char **argv);
int tc_trigger_seed(tc_ctx_t *ctx, int verbose);
/* FT.CREATE of the full-text index (tc_init.c; reindex --fulltext) */
int tc_init_ft_create(tc_ctx_t *ctx);

/* casework: tc_reindex.c, the full-text index rebuilt (FT.DROP KEEPDOCS,
 * FT.CREATE, every article again); tc_customer.c, export and erase */
int tc_reindex_fulltext(tc_ctx_t *ctx);
int tc_cmd_customer(tc_ctx_t *ctx, int argc, char **argv);

/* A new ticket with an inbound first article, as "ticket create" and
 * "demo" make them. */
typedef struct {
    const char  *group;
    const char  *title;
    const char  *customer_email;
    const char  *customer_name;
    const char  *body;           /* NULL: no article */
    const char  *owner;          /* NULL or "": unassigned */
    int          priority;
    int          state;
    int64_t      created;        /* 0: now */
    /* optional follow-ups, for demo data */
    const char  *reply;          /* outbound answer from the owner */
    const char  *note;           /* internal note from the owner   */
} tc_ticket_new_t;

/* Creates it in one MULTI/EXEC; *number receives its number. */
int tc_ticket_new(tc_ctx_t *ctx, const tc_ticket_new_t *tn,
    uint64_t *number);

/* ---- tc_init.c, tc_demo.c, tc_gen.c ------------------------------------- */

/* tc_sla.c: service levels and calendars; init writes the defaults */
int tc_cmd_sla(tc_ctx_t *ctx, int argc, char **argv);
int tc_cmd_calendar(tc_ctx_t *ctx, int argc, char **argv);
int tc_sla_init(tc_ctx_t *ctx, int verbose);

int tc_cmd_init(tc_ctx_t *ctx, int argc, char **argv);
int tc_cmd_demo(tc_ctx_t *ctx, int argc, char **argv);
int tc_cmd_gen(tc_ctx_t *ctx, int argc, char **argv);

/* init without output unless something was created; 0 or exit code. */
int tc_init_quiet(tc_ctx_t *ctx, int verbose);
/* tc_migrate.c: an older schema ('from') to TK_SCHEMA_VERSION, by init */
int tc_migrate(tc_ctx_t *ctx, long from, int verbose);
int tc_cmd_migrate(tc_ctx_t *ctx, int argc, char **argv);

/* tc_backup.c: files-level backup and restore */
int tc_cmd_backup(tc_ctx_t *ctx, int argc, char **argv);
int tc_cmd_restore(tc_ctx_t *ctx, int argc, char **argv);

/* The collective's groups (demo and gen create them when missing). */
typedef struct {
    const char  *name;
    const char  *email;
    int          all_agents;
} tc_group_def_t;

extern const tc_group_def_t  tc_collective_groups[];
extern const size_t          tc_collective_ngroups;

/* Creates the missing ones; prints "group X created" when verbose. */
int tc_groups_ensure(tc_ctx_t *ctx, int verbose);

#endif /* TICKETCTL_H */
