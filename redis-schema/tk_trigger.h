/*
 * tk_trigger.h -- one trigger rule (SCHEMA.md "Triggers"): parsed from
 * its hash tk:trigger:ID, checked and compiled once (PCRE2, UTF + UCP,
 * caseless with icase, JIT where available), matched against a ticket
 * and its article.  ticketctl checks a rule with it before saving (an
 * invalid pattern is refused with PCRE2's message and offset);
 * mailbridge's feed role (triggers.c) compiles every rule once per
 * generation of tk:triggers:gen and evaluates them.
 *
 * Linked with -lpcre2-8 (ticketctl, mailbridge, the unit tests); not
 * compiled into the nginx module.
 */

#ifndef TK_TRIGGER_H
#define TK_TRIGGER_H

#include <stddef.h>
#include <stdint.h>

#include "tk_cmd.h"
#include "tk_schema.h"
#include "tk_str.h"

#define TK_TRIGGER_ON_CREATE  0x01
#define TK_TRIGGER_ON_UPDATE  0x02

/* the patterns of a rule, in this order */
#define TK_TRIGGER_RE_SUBJECT 0
#define TK_TRIGGER_RE_BODY    1
#define TK_TRIGGER_RE_FROM    2
#define TK_TRIGGER_NRE        3

typedef struct {
    char       *id;
    char       *name;
    int         active;
    unsigned    on;                  /* TK_TRIGGER_ON_*              */
    int         icase;
    char       *re[TK_TRIGGER_NRE];  /* source, NULL: no condition   */
    void       *code[TK_TRIGGER_NRE]; /* pcre2_code *, after compile */
    char       *group;               /* comma list, NULL: any        */
    unsigned    prio_mask;           /* bit p: priority p; 0: any    */
    unsigned    state_mask;          /* bit s: state s; 0: any       */
    int         autogen;             /* -1 any, 0 not auto, 1 auto   */
    /* actions */
    int         set_priority;        /* 0: leave                     */
    int         set_state;           /* 0: leave                     */
    char       *set_group;           /* NULL: leave                  */
    char       *set_owner;           /* NULL: leave; "" unassign     */
    char       *set_tags;            /* tags to add, stored form
                                        (tk_tags.h); NULL: none       */
    char       *notify;              /* "anna,@legal" or NULL        */
    char       *note;                /* NULL: no note                */
    /* as stored, for ticketctl list (NULL when absent) */
    char       *raw_group, *raw_priority, *raw_state;
    /* tk_trigger_load_alloc: the caller's allocator, freed with it */
    tk_alloc_pt  alloc;
    void        *alloc_data;
    void        *gctx;               /* pcre2_general_context *       */
} tk_trigger_t;

/* Why a rule was refused: the field, the message and, for a pattern,
 * PCRE2's offset into it (-1 otherwise). */
typedef struct {
    const char *field;
    char        message[256];
    long        offset;
} tk_trigger_error_t;

/* What a rule is matched against. */
typedef struct {
    tk_str_t    subject;             /* the article's, else the title */
    tk_str_t    body;
    tk_str_t    from;
    tk_str_t    group;
    int         priority;
    int         state;
    int         autogen;             /* ticket or article flagged auto */
} tk_trigger_input_t;

/*
 * Fill t from HGETALL pairs (2n strings) of tk:trigger:ID, then check
 * every field and compile the patterns.  Returns 0, or -1 with err set
 * (t must still be freed).  Memory: malloc (tk_trigger_free).
 */
int tk_trigger_load(tk_trigger_t *t, const char *id, const tk_str_t *pairs,
    size_t n, tk_trigger_error_t *err);
void tk_trigger_free(tk_trigger_t *t);

/* The same with memory from alloc (an nginx pool: the module checks a
 * rule before saving it without malloc); tk_trigger_free then only
 * drops the compiled code's references.  Match with it: no. */
int tk_trigger_load_alloc(tk_trigger_t *t, const char *id,
    const tk_str_t *pairs, size_t n, tk_trigger_error_t *err,
    tk_alloc_pt alloc, void *alloc_data);

/* One pattern as a rule would compile it: 0, or -1 with err (message
 * and offset) set; err->field is left to the caller. */
int tk_trigger_check_pattern(const char *re, int icase,
    tk_trigger_error_t *err);

/* The matcher's scratch space, reused for every match (NULL: OOM). */
void *tk_trigger_match_data(void);
void tk_trigger_match_data_free(void *md);

/* 1 when every condition of the (compiled, active) rule holds for in
 * and the rule runs on event (TK_TRIGGER_ON_*), else 0. */
int tk_trigger_match(const tk_trigger_t *t, unsigned event,
    const tk_trigger_input_t *in, void *md);

/* "create" "update" "both" -> TK_TRIGGER_ON_*; 0 when bad */
unsigned tk_trigger_on_parse(const char *s);
const char *tk_trigger_on_name(unsigned on);

#endif /* TK_TRIGGER_H */
