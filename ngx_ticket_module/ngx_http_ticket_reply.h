/*
 * ngx_http_ticket_reply.h -- the two files of a reply being sent:
 *   ngx_http_ticket_reply_form.c   the request, parsed and checked
 *   ngx_http_ticket_reply.c        the transaction
 *   ngx_http_ticket_reply_article.c  the article it writes
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
/* Every field checked, errors set next to them: NGX_OK or NGX_DECLINED. */
ngx_int_t ngx_http_ticket_reply_check(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_compose_t *c);
void ngx_http_ticket_reply_first_error(ngx_http_ticket_compose_t *c,
    const char **field, const char **message);

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
