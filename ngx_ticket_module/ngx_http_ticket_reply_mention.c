/*
 * ngx_http_ticket_reply_mention.c -- "@@login" in a reply or note (helper
 * notify).  mailbridge's notify role reads the article from the change
 * feed, notifies and subscribes every mentioned agent who may read the
 * ticket's group, and nobody else.  Here, after the reply is committed,
 * the composer learns which of the mentioned logins will NOT hear of it
 * (no right on the group, disabled, unknown): one pipelined round trip,
 * then the page says so (303 to "t/N?unseen=a,b") or the API's JSON
 * lists them ("mentions_unseen").  Nothing about those users leaks: the
 * warning names only the logins the author typed.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_reply.h"
#include "tk_notify.h"

#define NGX_HTTP_TICKET_MENTIONS_MAX  10


static ngx_int_t ngx_http_ticket_mentions_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);


/*
 * The distinct logins mentioned in the reply (at most ten); none: then
 * runs at once.  Else then runs with rq->unseen set.
 */
ngx_int_t
ngx_http_ticket_mentions_check(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_step_pt then)
{
    size_t                        pos = 0;
    tk_str_t                      body, m;
    ngx_uint_t                    i, n = 0;
    tk_cmds_t                    *cmds;
    ngx_http_ticket_reply_req_t  *rq = ctx->view;

    rq->mention_then = then;
    rq->mentions = ngx_pcalloc(r->pool, NGX_HTTP_TICKET_MENTIONS_MAX
                                        * sizeof(ngx_str_t));
    if (rq->mentions == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = rq->c->body.data;
    body.len = rq->c->body.len;

    while (n < NGX_HTTP_TICKET_MENTIONS_MAX && tk_mention_next(&body, &pos, &m))
    {
        for (i = 0; i < n; i++) {
            if (rq->mentions[i].len == m.len
                && ngx_strncmp(rq->mentions[i].data, m.data, m.len) == 0)
            {
                break;
            }
        }
        if (i == n) {
            rq->mentions[n].data = m.data;
            rq->mentions[n].len = m.len;
            n++;
        }
    }

    rq->nmentions = n;
    if (n == 0) {
        return then(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "SISMEMBER " TK_KEY_GROUPS_ALL " %S",
                ngx_ticket_str(&rq->group));
    for (i = 0; i < n; i++) {
        tk_cmds_add(cmds, "HMGET " TK_FMTS_USER " " TK_F_RIGHTS " "
                    TK_F_DISABLED " " TK_F_LOGIN,
                    ngx_ticket_str(&rq->mentions[i]));
    }
    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_mentions_read);
}


static ngx_int_t
ngx_http_ticket_mentions_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    u_char                       *p;
    int                           all;
    tk_str_t                      rights;
    ngx_uint_t                    i;
    ngx_http_ticket_reply_t      *h;
    ngx_http_ticket_reply_req_t  *rq = ctx->view;

    if (ctx->nreplies != rq->nmentions + 1) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    all = ctx->replies[0].type == REDIS_REPLY_INTEGER
          && ctx->replies[0].integer == 1;

    p = ngx_pnalloc(r->pool, rq->nmentions * (TK_LOGIN_MAX + 1));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    rq->unseen.data = p;

    for (i = 0; i < rq->nmentions; i++) {
        h = &ctx->replies[i + 1];

        if (h->type == REDIS_REPLY_ARRAY && h->nelem == 3
            && h->element[2].type == REDIS_REPLY_STRING
            && !(h->element[1].type == REDIS_REPLY_STRING
                 && ngx_http_ticket_flag_on(&h->element[1].str)))
        {
            rights.data = h->element[0].str.data;
            rights.len = h->element[0].type == REDIS_REPLY_STRING
                         ? h->element[0].str.len : 0;
            if (tk_rights_get(&rights, ngx_ticket_str(&rq->group), all)
                >= TK_RIGHT_READ)
            {
                continue;           /* will be told */
            }
        }

        if (p != rq->unseen.data) {
            *p++ = ',';
        }
        p = ngx_cpymem(p, rq->mentions[i].data, rq->mentions[i].len);
    }

    rq->unseen.len = p - rq->unseen.data;
    return rq->mention_then(r, ctx);
}


/*
 * The ticket page after a reply named someone who will not hear of it:
 * "?unseen=a,b" becomes the notice in the page head.  Only valid logins
 * are shown; anything else in the parameter is ignored.
 */
ngx_int_t
ngx_http_ticket_mention_notice(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    u_char     *p, *s, *last;
    ngx_str_t   arg;
    tk_str_t    login;

    if (ngx_http_ticket_query_arg(r, "unseen", &arg) != NGX_OK
        || arg.len == 0 || arg.len > NGX_HTTP_TICKET_MENTIONS_MAX
                                     * (TK_LOGIN_MAX + 1))
    {
        return NGX_OK;
    }

    for (s = arg.data, last = arg.data + arg.len; s < last; s = p + 1) {
        p = ngx_strlchr(s, last, ',');
        p = p ? p : last;
        login.data = s;
        login.len = p - s;
        if (!tk_valid_login(&login)) {
            return NGX_OK;
        }
    }

    p = ngx_pnalloc(r->pool, arg.len * 2 + 200);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->notice.data = p;
    ctx->notice.len = ngx_sprintf(p,
                                  ngx_http_ticket_msg(ctx,
                                      TK_MSG_REPLY_MENTION_NOT_NOTIFIED_V_CANNOT_SEE),
                                  &arg) - p;
    return NGX_OK;
}


/* The answer to a committed reply: 303 to the ticket (with the notice
 * of who was not told), or the API's JSON. */
ngx_int_t
ngx_http_ticket_reply_respond(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    u_char                       *p, *last;
    tk_out_t                      out;
    ngx_http_ticket_reply_req_t  *rq;

    rq = ctx->view;

    if (!rq->api) {
        p = ngx_pnalloc(r->pool, 2 * NGX_INT64_LEN + 32 + rq->unseen.len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        last = rq->unseen.len
               ? ngx_sprintf(p, "t/%uL?unseen=%V#a-%uL", rq->number,
                             &rq->unseen, rq->id)
               : ngx_sprintf(p, "t/%uL#a-%uL", rq->number, rq->id);
        return ngx_http_ticket_redirect(r, (char *) p, last - p);
    }

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_out_cstr(&out, "{\"id\":");
    tk_out_uint(&out, rq->id);
    tk_out_cstr(&out, ",\"ticket\":");
    tk_out_uint(&out, rq->number);
    tk_out_cstr(&out, rq->c->note ? ",\"kind\":\"note\",\"delivery\":null"
                                  : ",\"kind\":\"out\",\"delivery\":"
                                    "\"queued\"");
    tk_out_cstr(&out, ",\"message_id\":");

    if (rq->message_id.len) {
        tk_out_json(&out, rq->message_id.data, rq->message_id.len);
    } else {
        tk_out_cstr(&out, "null");
    }

    tk_out_cstr(&out, ",\"crypt\":");
    tk_out_json(&out, rq->crypt.data, rq->crypt.len);
    tk_out_cstr(&out, ",\"mentions_unseen\":[");
    for (p = rq->unseen.data, last = p + rq->unseen.len; p < last; ) {
        u_char  *e = ngx_strlchr(p, last, ',');

        e = e ? e : last;
        if (p != rq->unseen.data) {
            tk_out_cstr(&out, ",");
        }
        tk_out_json(&out, p, e - p);
        p = e + 1;
    }
    tk_out_cstr(&out, "]}\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_CREATED);
}
