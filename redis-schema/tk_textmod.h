/*
 * tk_textmod.h -- text modules ("::keyword" in a text field) and ticket
 * templates (prefilled new tickets and mails): the one writer of their
 * keys (tk:textmods, tk:{u:LOGIN}:textmods, tk:textmod:ID, tk:templates,
 * tk:template:ID) and the text functions module and ticketctl share:
 * filling placeholders and expanding "::keyword" tokens.  See SCHEMA.md
 * "Text modules and templates".
 */

#ifndef TK_TEXTMOD_H
#define TK_TEXTMOD_H

#include <stddef.h>
#include <stdint.h>

#include "tk_cmd.h"
#include "tk_schema.h"
#include "tk_str.h"

#define TK_TEXTMOD_KEYWORD_MAX  32
#define TK_TEXTMOD_NAME_MAX     100
#define TK_TEXTMOD_BODY_MAX     20000
#define TK_TEXTMOD_MAX          500      /* per list a reader looks at */

/* What the placeholders stand for; an empty value fills in as "". */
typedef struct {
    tk_str_t   customer_name;    /* {{customer.name}}  */
    tk_str_t   customer_email;   /* {{customer.email}} */
    tk_str_t   number;           /* {{ticket.number}}  */
    tk_str_t   title;            /* {{ticket.title}}   */
    tk_str_t   agent_name;       /* {{agent.name}}     */
    tk_str_t   group;            /* {{group.name}}     */
} tk_textmod_vars_t;

/* One text module as the expansion needs it. */
typedef struct {
    tk_str_t   keyword;
    tk_str_t   body;
} tk_textmod_t;

/* [a-z0-9_-]{1,32}, so "::frist" is one token in any text. */
int tk_textmod_valid_keyword(const tk_str_t *keyword);

/*
 * text with every known {{placeholder}} replaced (unknown ones stay as
 * written, so a typo shows).  Writes at most size bytes to dst (dst may
 * be NULL with size 0) and returns the length of the whole result:
 * call once to measure, once to fill.
 */
size_t tk_textmod_fill(unsigned char *dst, size_t size, const tk_str_t *text,
    const tk_textmod_vars_t *v);

/*
 * body with every "::keyword" token (at the start or after white space,
 * ended by the end, white space or punctuation) whose keyword is one of
 * mods replaced by that module's body, placeholders filled.  Tokens of
 * no module stay.  Same calling convention as tk_textmod_fill.
 */
size_t tk_textmod_expand(unsigned char *dst, size_t size,
    const tk_str_t *body, const tk_textmod_t *mods, size_t nmods,
    const tk_textmod_vars_t *v);

/* 1 when text contains a "::" that could start a token. */
int tk_textmod_has_token(const tk_str_t *text);

/*
 * Save text module id (owner "": shared, else LOGIN's personal one):
 * HSET the hash and SADD it to its list.  Call inside MULTI.
 */
void tk_textmod_write(tk_cmds_t *c, const tk_str_t *id, const tk_str_t *owner,
    const tk_str_t *keyword, const tk_str_t *name, const tk_str_t *body,
    int64_t now);
void tk_textmod_delete(tk_cmds_t *c, const tk_str_t *id,
    const tk_str_t *owner);

/*
 * One command: the list's modules sorted by keyword, 4 replies per
 * module (id keyword name body), at most TK_TEXTMOD_MAX.  owner NULL:
 * the shared list, else LOGIN's own.
 */
void tk_textmod_sort(tk_cmds_t *c, const tk_str_t *owner);

/* A ticket template; empty fields prefill nothing. */
typedef struct {
    tk_str_t   name;
    tk_str_t   group;
    tk_str_t   state;            /* "new", "open" ... (tk_state_parse)  */
    tk_str_t   priority;         /* "low" ... "urgent"                  */
    tk_str_t   subject;
    tk_str_t   body;
    tk_str_t   customer;         /* an address                          */
} tk_template_t;

void tk_template_write(tk_cmds_t *c, const tk_str_t *id,
    const tk_template_t *t, int64_t now);
void tk_template_delete(tk_cmds_t *c, const tk_str_t *id);

/* The templates sorted by name, 8 replies each: id name group state
 * priority subject body customer. */
void tk_template_sort(tk_cmds_t *c);
/* Only ids and names, 2 replies each, unordered (the composer's choice;
 * it sorts them), and what the composer takes of one: HMGET state
 * subject body. */
void tk_template_sort_names(tk_cmds_t *c);
void tk_template_read(tk_cmds_t *c, const tk_str_t *id);

#endif /* TK_TEXTMOD_H */
