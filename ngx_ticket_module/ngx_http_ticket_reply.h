/*
 * ngx_http_ticket_reply.h -- the two files of a reply being sent:
 *   ngx_http_ticket_reply_form.c   the request, parsed and checked
 *   ngx_http_ticket_reply.c        the transaction
 *   ngx_http_ticket_reply_article.c  the article it writes
 *   ngx_http_ticket_reply_conflict.c what changed, when it is not sent
 */

#ifndef NGX_HTTP_TICKET_REPLY_H
#define NGX_HTTP_TICKET_REPLY_H

#include "ngx_http_ticket_view.h"
#include "tk_json.h"
#include "tk_outbox.h"


/* A reply or note being written (ctx->view). */
typedef struct {
    uint64_t                   number;
    ngx_str_t                  key;             /* tk:{t:N} */
    ngx_http_ticket_compose_t *c;
    ngx_flag_t                 api;
    uint64_t                   id;              /* the new article */
    ngx_str_t                  group;           /* read before WATCH */
    ngx_uint_t                 retries;
    ngx_flag_t                 keys;            /* HMGET of keys read */
    tk_str_t                   crypt;
    ngx_str_t                  message_id;

    /* the transaction's reads besides the fixed ones (-1: not read) */
    uint64_t                   tid;             /* the mail answered */
    ngx_int_t                  at_target;
    ngx_int_t                  at_keys;
    ngx_int_t                  at_incr;
    ngx_http_ticket_cs_art_t   target;

    /* a conflict: what to tell */
    ngx_http_ticket_cs_art_t  *fresh;           /* articles not seen */
    ngx_uint_t                 nfresh;
    ngx_http_ticket_reply_t   *history;

    /* the API: what is wrong with the body, told after the rights were
     * checked (a ticket one may not change is a 404/403 whatever came) */
    const char                *error;
    const char                *error_field;
    /* @@mentions (ngx_http_ticket_reply_mention.c, helper notify) */
    ngx_str_t                 *mentions;
    ngx_uint_t                 nmentions;
    ngx_str_t                  unseen;          /* "a,b": not told */
    ngx_http_ticket_step_pt    mention_then;
} ngx_http_ticket_reply_req_t;


/* POST /t/N/reply's form into c (NGX_OK, NGX_ERROR: no memory). */
ngx_int_t ngx_http_ticket_reply_form(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_compose_t *c);
/* The JSON body of the API into c: NGX_OK, or NGX_DECLINED with the
 * field and what is wrong with it. */
ngx_int_t ngx_http_ticket_reply_json(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_compose_t *c,
    const char **field, const char **message);

/* JSON members a reply and a new ticket share (ngx_http_ticket_reply_form.c,
 * also used by ngx_http_ticket_outbound_form.c). */
#define NGX_HTTP_TICKET_JSON_MEMBERS   32
/* ctx->form as a JSON object of members in known (NULL-terminated)
 * into m[NGX_HTTP_TICKET_JSON_MEMBERS], c as posted: the number of
 * members, or -1 with message (and field). */
int ngx_http_ticket_reply_json_object(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_compose_t *c, const char **known, tk_json_member_t *m,
    const char **field, const char **message);
/* to, cc, bcc, subject, body, pending_until into c: NGX_OK, or
 * NGX_ERROR (*field = the member) when one is not a string. */
ngx_int_t ngx_http_ticket_reply_json_text(ngx_http_request_t *r,
    const tk_json_member_t *m, int n, ngx_http_ticket_compose_t *c,
    const char **field);
/* "state" and "attachments" into c and ctx->uploads: NGX_OK, or
 * NGX_DECLINED with field and message. */
ngx_int_t ngx_http_ticket_reply_json_common(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const tk_json_member_t *m, int n,
    ngx_http_ticket_compose_t *c, const char **field, const char **message);
/* A string member decoded into the pool ("" when absent or null);
 * NGX_ERROR (*field = name) when it is not a string. */
ngx_int_t ngx_http_ticket_reply_json_str(ngx_http_request_t *r,
    const tk_json_member_t *m, int n, const char *name, ngx_str_t *value,
    const char **field);
/* "attachments": [{"name","content_type","data"}] into ctx->uploads. */
ngx_int_t ngx_http_ticket_reply_json_files(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const tk_str_t *list);
/* Every field checked, errors set next to them: NGX_OK or NGX_DECLINED. */
ngx_int_t ngx_http_ticket_reply_check(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_compose_t *c);
void ngx_http_ticket_reply_first_error(ngx_http_ticket_compose_t *c,
    const char **field, const char **message);

/* Not sent, the ticket changed since the form was seen: what changed,
 * read and shown above the form as typed (ngx_http_ticket_reply_conflict.c;
 * the transaction is aborted there). */
ngx_int_t ngx_http_ticket_reply_changes(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
/* "the attachments were not kept" when the form comes back with files */
void ngx_http_ticket_reply_files_lost(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_compose_t *c);

/* The article from c, the group hash and the mail answered (target,
 * may be NULL) -- ngx_http_ticket_reply_article.c.  NGX_ERROR with
 * rq->c->err set: the group cannot send (no valid address). */
ngx_int_t ngx_http_ticket_reply_article(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_reply_req_t *rq,
    tk_article_t *a, ngx_http_ticket_cs_art_t *target,
    ngx_http_ticket_reply_t *group);

/* The files uploaded with the form (ctx->uploads) as the article's
 * attachments after those it has (a forward's): count and names before
 * tk_article_write, the hashes after it. */
ngx_int_t ngx_http_ticket_reply_files(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, tk_article_t *a);
void ngx_http_ticket_reply_files_write(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, tk_cmds_t *cmds, tk_article_t *a,
    unsigned first);

/* ngx_http_ticket_reply_mention.c: which @@logins of the committed reply
 * will not be told (rq->unseen), then then(r, ctx) */
ngx_int_t ngx_http_ticket_mentions_check(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_step_pt then);
/* the answer to a committed reply (303 or the API's 201 JSON) */
ngx_int_t ngx_http_ticket_reply_respond(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

#endif /* NGX_HTTP_TICKET_REPLY_H */
