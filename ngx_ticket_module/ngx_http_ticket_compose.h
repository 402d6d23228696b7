/*
 * ngx_http_ticket_compose.h -- the reply / note composer, shared by its
 * files and by the ticket page that shows it:
 *   ngx_http_ticket_compose.c   the form on the ticket page (defaults
 *                               from the answered article, or the form as
 *                               posted with its errors), the security line
 *   ngx_http_ticket_reply.c     POST /t/N/reply and POST
 *                               /api/v1/tickets/N/articles: the outbound
 *                               article + ticket change + outbox entry in
 *                               one optimistic transaction
 */

#ifndef NGX_HTTP_TICKET_COMPOSE_H
#define NGX_HTTP_TICKET_COMPOSE_H

#include "ngx_http_ticket_views.h"
#include "ngx_http_ticket_cache.h"
#include "tk_addr.h"



/* What SORT ... GET reads of every article of a ticket -- one command,
 * and little, since it grows with the ticket: every page and reply
 * reads the flags (did the customer write encrypted?), the kinds only
 * when the mail answered must be looked for; the article answered is
 * read whole (ngx_http_ticket_compose_art_read). */
#define NGX_HTTP_TICKET_CS_NFIELDS     2
#define NGX_HTTP_TICKET_CA_NFIELDS     16


/* An article as the composer knows it: every one id, kind and flags;
 * the one answered also the rest. */
typedef struct {
    uint64_t                   id;
    ngx_int_t                  kind;            /* tk_article_kind_e */
    ngx_str_t                  flags;
    ngx_str_t                  from;
    ngx_str_t                  reply_to;
    ngx_str_t                  to;
    ngx_str_t                  cc;
    ngx_str_t                  list_id;
    ngx_str_t                  message_id;
    ngx_str_t                  references;
    ngx_str_t                  in_reply_to;
    ngx_uint_t                 attachments;
    ngx_str_t                  attachment_names;
    ngx_str_t                  body;
    int64_t                    time;
    ngx_str_t                  subject;
    ngx_str_t                  author;
} ngx_http_ticket_cs_art_t;


/* The security line: what key metadata says about the recipients. */
typedef struct {
    ngx_uint_t                 recipients;
    ngx_uint_t                 missing;         /* without a usable key */
    ngx_str_t                  first_missing;
    unsigned                   sign:1;          /* group's pgp_sign set */
    unsigned                   encrypt:1;       /* every recipient has one */
    unsigned                   customer_encrypted:1; /* an inbound article
                                                   was encrypted */
} ngx_http_ticket_security_t;


/*
 * The composer's values: the defaults on a fresh page, or the form as
 * posted when it comes back with errors or a conflict.
 */
typedef struct {
    ngx_flag_t                 posted;
    ngx_flag_t                 note;            /* type=note */
    ngx_flag_t                 forward;         /* forward "reply" with
                                                   its attachments */
    ngx_str_t                  mode;            /* ?to= sender|all|list */
    ngx_str_t                  to;
    ngx_str_t                  cc;
    ngx_str_t                  bcc;
    ngx_str_t                  subject;
    ngx_str_t                  body;
    ngx_int_t                  state;           /* after sending */
    ngx_str_t                  pending;         /* datetime-local text */
    int64_t                    pending_until;
    uint64_t                   reply;           /* the answered article */
    ngx_str_t                  group;           /* what the form saw */
    long long                  rev;             /* -1: not sent */
    ngx_int_t                  arts;            /* articles the form saw,
                                                   -1: not sent */
    ngx_int_t                  hist;            /* history entries ... */
    ngx_flag_t                 confirm_plain;

    /* what is wrong, next to the field (NULL: nothing) */
    const char                *err;             /* above the form */
    const char                *err_to;
    const char                *err_cc;
    const char                *err_bcc;
    const char                *err_subject;
    const char                *err_body;
    const char                *err_state;
    const char                *err_confirm;
    const char                *err_files;
    ngx_array_t               *changes;         /* tk_str_t: the conflict,
                                                   in words */
    ngx_uint_t                 status;          /* of the page, 0: 200 */

    /* the parsed recipients (reply) */
    tk_addr_t                  rcpt[3 * TK_ADDR_MAX];
    ngx_uint_t                 nto, ncc, nbcc;

    void                      *tpl;             /* tk_tpl_compose_t */
    void                      *load;            /* the page's reads */
} ngx_http_ticket_compose_t;


/* What the page's composer read (ngx_http_ticket_compose.c). */
typedef struct {
    ngx_http_ticket_step_pt    step;            /* the page's, run after */
    ngx_http_ticket_reply_t   *saved;           /* the page's replies */
    ngx_uint_t                 nsaved;
    ngx_http_ticket_reply_t   *group;
    ngx_flag_t                 encrypted;       /* the customer wrote so */
    ngx_http_ticket_cs_art_t  *target;          /* the answered article,
                                                   or NULL */
    ngx_http_ticket_cs_art_t   target_art;      /* ... read whole */
    uint64_t                   cand;            /* read with the first
                                                   batch: the one named
                                                   or the newest */
    ngx_int_t                  keys_at;         /* HMGET of keys, -1 */
    ngx_uint_t                 first;           /* its replies in the
                                                   page's second batch */
    ngx_uint_t                 n;
    ngx_http_ticket_reply_t   *keys;            /* the customer's key, read
                                                   with the first batch */
    ngx_str_t                  keys_for;        /* ... for this address */
    /* casework: the ticket templates (tk_template_sort), for the choice
     * above the composer and ?template=ID; -1/NULL when posted */
    ngx_int_t                  tpl_at;
    ngx_http_ticket_reply_t   *templates;
    ngx_http_ticket_reply_t   *chosen;          /* ?template=ID's HMGET */
    /* the page cache (ngx_http_ticket_view_cached.c): encrypted and
     * target as found for this rev; target_rep: the HMGET it came from */
    ngx_http_ticket_cache_item_t  cache;
    ngx_http_ticket_reply_t   *target_rep;
    unsigned                   cached:1;
    /* the quote, escaped for the textarea, under the same rev */
    ngx_http_ticket_cache_item_t  quote;
    ngx_str_t                  quote_html;
} ngx_http_ticket_compose_load_t;


/* ngx_http_ticket_compose.c ------------------------------------------- */

/* SORT tk:{t:N}:articles BY nosort GET # GET ...->kind */
void ngx_http_ticket_compose_sort(tk_cmds_t *cmds, uint64_t number);
/* SORT tk:{t:N}:articles BY nosort GET ...->flags, and whether one says
 * "encrypted" (only mail received has that flag) */
void ngx_http_ticket_compose_flags(tk_cmds_t *cmds, uint64_t number);
ngx_flag_t ngx_http_ticket_compose_encrypted(ngx_http_ticket_reply_t *rep);
/* Its reply as articles, oldest first; NGX_OK or NGX_ERROR. */
ngx_int_t ngx_http_ticket_compose_sorted(ngx_http_request_t *r,
    ngx_http_ticket_reply_t *rep, ngx_http_ticket_cs_art_t **arts,
    ngx_uint_t *n);
/* HMGET of everything the composer needs of the article answered, and
 * its reply parsed: NGX_OK, NGX_DECLINED (no such article). */
void ngx_http_ticket_compose_art_read(tk_cmds_t *cmds, uint64_t number,
    uint64_t id);
ngx_int_t ngx_http_ticket_compose_art(ngx_http_ticket_reply_t *rep,
    uint64_t id, ngx_http_ticket_cs_art_t *a);

/* HMGET tk:pgp:addr of every recipient (lower-cased); nothing when
 * there are none.  Returns how many commands were added (0 or 1). */
ngx_uint_t ngx_http_ticket_compose_keys(ngx_http_request_t *r,
    tk_cmds_t *cmds, tk_addr_t *rcpt, ngx_uint_t n);
/* The decision from that reply and the group hash (HGETALL). */
void ngx_http_ticket_security(ngx_http_ticket_security_t *sec,
    tk_addr_t *rcpt, ngx_uint_t n, ngx_http_ticket_reply_t *keys,
    ngx_http_ticket_reply_t *group, ngx_flag_t customer_encrypted);
/* "encrypt,sign", "encrypt", "sign" or "" */
void ngx_http_ticket_security_crypt(ngx_http_ticket_security_t *sec,
    tk_str_t *crypt);
/* The line in words; *kind: "encrypted", "signed" or "plain". */
ngx_int_t ngx_http_ticket_security_text(ngx_http_request_t *r,
    ngx_uint_t lang, ngx_http_ticket_security_t *sec, tk_str_t *text,
    const char **kind);

/* "Send email to x@y (and n more)": what the button says
 * (ngx_http_ticket_compose_form.c; also the new ticket's). */
ngx_int_t ngx_http_ticket_compose_send_label(ngx_http_request_t *r,
    ngx_uint_t lang, ngx_http_ticket_compose_t *c, tk_str_t *label);

/* Parse and check to, cc, bcc of c into c->rcpt (errors next to the
 * fields); NGX_OK or NGX_DECLINED (some error set). */
ngx_int_t ngx_http_ticket_compose_rcpt(ngx_http_ticket_compose_t *c,
    ngx_uint_t lang);

/* {"error":message,"field":field} with status (field may be NULL). */
ngx_int_t ngx_http_ticket_compose_json_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *field, const char *message);

/* GET /t/N/complete?q=: addresses of customers and agents
 * (ngx_http_ticket_complete.c) */
ngx_int_t ngx_http_ticket_complete(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number);

/* GET /t/N/security?to=&cc=&bcc=: the security line as JSON. */
ngx_int_t ngx_http_ticket_compose_security_json(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number);


/* ngx_http_ticket_reply.c ---------------------------------------------- */

/* POST /t/N/reply */
ngx_int_t ngx_http_ticket_reply(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number);
/* POST /api/v1/tickets/N/articles */
ngx_int_t ngx_http_ticket_reply_api(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number);

#endif /* NGX_HTTP_TICKET_COMPOSE_H */
