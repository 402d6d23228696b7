/*
 * tk_schema_casework.h -- a section of tk_schema.h, included by it in
 * place: include tk_schema.h, not this.  scripts/schema-pm.pl reads it
 * where tk_schema.h includes it (build/TKSchema.pm).
 */

#ifndef TK_SCHEMA_CASEWORK_H
#define TK_SCHEMA_CASEWORK_H

#ifndef TK_SCHEMA_H
#error "include tk_schema.h"
#endif

/* ---- casework: text modules, ticket templates, request form, data
 * protection (helper casework; SCHEMA.md "Text modules and templates",
 * "Request form", "Data protection") ------------------------------------ */

/*
 *   tk:textmods            set: ids of the shared text modules (admins)
 *   tk:{u:LOGIN}:textmods  set: ids of LOGIN's personal text modules
 *   tk:textmod:ID          hash, fields TK_F_TM_* below
 *   tk:templates           set: ids of the ticket templates
 *   tk:template:ID         hash, fields TK_F_TPL_* below
 * Written by tk_textmod.c (module admin and profile pages, ticketctl).
 */
#define TK_KEY_TEXTMODS      "tk:textmods"
#define TK_KEY_SEQ_TEXTMOD   "tk:seq:textmod"
#define TK_FMT_TEXTMOD       "tk:textmod:%s"
#define TK_FMTS_TEXTMOD      "tk:textmod:%S"
#define TK_SFX_TEXTMODS      ":textmods"
#define TK_FMT_USER_TEXTMODS TK_FMT_USER TK_SFX_TEXTMODS
#define TK_FMTS_USER_TEXTMODS TK_FMTS_USER TK_SFX_TEXTMODS
/* SORT ... BY/GET patterns: a list's modules sorted by keyword, in one
 * command (SORT tk:textmods BY tk:textmod:*->keyword ALPHA GET # ...) */
#define TK_SORT_TEXTMOD      "tk:textmod:*->"
#define TK_SORT_TEMPLATE     "tk:template:*->"
#define TK_F_TM_KEYWORD      "keyword"         /* [a-z0-9_-]{1,32}        */
#define TK_F_TM_NAME         "name"
#define TK_F_TM_BODY         "body"            /* text with {{...}}       */
#define TK_F_TM_OWNER        "owner"           /* login, "" shared        */
#define TK_F_TM_UPDATED      "updated"         /* Unix s                  */
#define TK_KEY_TEMPLATES     "tk:templates"
#define TK_KEY_SEQ_TEMPLATE  "tk:seq:template"
#define TK_FMT_TEMPLATE      "tk:template:%s"
#define TK_FMTS_TEMPLATE     "tk:template:%S"
#define TK_F_TPL_NAME        "name"
#define TK_F_TPL_GROUP       "group"           /* group name or ""        */
#define TK_F_TPL_STATE       "state"           /* state name or ""        */
#define TK_F_TPL_PRIORITY    "priority"        /* priority name or ""     */
#define TK_F_TPL_SUBJECT     "subject"         /* text with {{...}}       */
#define TK_F_TPL_BODY        "body"            /* text with {{...}}       */
#define TK_F_TPL_CUSTOMER    "customer"        /* address or ""           */
#define TK_F_TPL_UPDATED     "updated"

/* Public request form (ticket_form on): a form token per page shown
 * (string "1", EXPIRE TK_FORM_TOKEN_TTL; GETDEL on submit) and the
 * per-IP counter of submissions (INCR, EXPIRE TK_FORM_RL_WINDOW). */
#define TK_FMT_FORM_TOKEN    "tk:form:tok:%s"
#define TK_FMTS_FORM_TOKEN   "tk:form:tok:%S"
#define TK_FMT_RL_FORM_IP    "tk:rl:form:ip:%s"
#define TK_FMTS_RL_FORM_IP   "tk:rl:form:ip:%S"
#define TK_FORM_TOKEN_TTL    3600
#define TK_FORM_RL_WINDOW    3600
#define TK_FORM_ACTOR        "form"
#define TK_FORM_MESSAGE_MAX  20000           /* bytes of the message    */
/* article flags: "form" on a request that came through the form;
 * "auto-reply" on its confirmation -- mailbridge then sends it with
 * Auto-Submitted: auto-replied (RFC 3834) */
#define TK_FLAG_FORM         "form"
#define TK_FLAG_AUTO_REPLY   "auto-reply"

/* Data protection: one entry per export or erasure, without personal
 * data (time by action mode customer tickets articles); capped. */
#define TK_KEY_AUDIT         "tk:audit"
#define TK_AUDIT_MAXLEN      10000
#define TK_F_AUD_TIME        "time"
#define TK_F_AUD_BY          "by"
#define TK_F_AUD_ACTION      "action"          /* export | erase          */
#define TK_F_AUD_MODE        "mode"            /* anonymise | delete      */
#define TK_F_AUD_CUSTOMER    "customer"        /* customer id (a number)  */
#define TK_F_AUD_TICKETS     "tickets"
#define TK_F_AUD_ARTICLES    "articles"
/*
 * Requests of the web (admins: /admin/customers, the JSON API) to export
 * or erase, worked off by "ticketctl customer work" (consumer group
 * TK_DP_GROUP), each outcome in tk:dp:result:ID (ID = the entry's id),
 * with EXPIRE TK_DP_RESULT_TTL; the entry is XACK'd and XDEL'd in the
 * MULTI that writes the result.  An export's zip is the result's "file".
 */
#define TK_KEY_DP_REQUESTS   "tk:dp:requests"
#define TK_DP_GROUP          "ticketctl"
#define TK_FMT_DP_RESULT     "tk:dp:result:%s"
#define TK_FMTS_DP_RESULT    "tk:dp:result:%S"
#define TK_PATTERN_DP_RESULT "tk:dp:result:*"
#define TK_DP_RESULT_TTL     3600
#define TK_F_DP_OP           "op"              /* export | erase          */
#define TK_F_DP_ADDRESS      "address"         /* request only            */
#define TK_F_DP_MODE         "mode"            /* anonymise | delete      */
#define TK_F_DP_LOGIN        "login"           /* the admin who asked     */
#define TK_F_DP_STATUS       "status"          /* done | error            */
#define TK_F_DP_MESSAGE      "message"
#define TK_F_DP_TICKETS      "tickets"
#define TK_F_DP_ARTICLES     "articles"
#define TK_F_DP_CUSTOMER     "customer"        /* customer id             */
#define TK_F_DP_FILE         "file"            /* the zip (export)        */
#define TK_F_DP_TIME         "time"

/* SCAN patterns of what erasure looks through (ticketctl customer) */
#define TK_PATTERN_RAWHASH   TK_PFX_RAWHASH "*"
/* what an anonymised name and address become */
#define TK_ANON_NAME         "anonymised"
#define TK_ANON_EMAIL_FMT    "anonymised-%llu@invalid"

#endif /* TK_SCHEMA_CASEWORK_H */
