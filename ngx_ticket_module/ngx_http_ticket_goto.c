/*
 * ngx_http_ticket_goto.c -- "GET /go?n=..." from the field in every
 * page's head: agents quote ticket numbers on the phone, as "123",
 * "#123" or the subject tag "[Ticket#123]".  A ticket the user may see
 * is a 303 to "/t/N"; any other answer is the overview with a notice
 * ("?goto=N"), the same words for a missing ticket and one of a group
 * the user has no right on: a number must not tell which.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"


typedef struct {
    uint64_t                   number;
} ngx_http_ticket_goto_t;


static ngx_int_t ngx_http_ticket_goto_checked(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_goto_back(ngx_http_request_t *r,
    const char *fmt, uint64_t number);


/*
 * "123", "#123", "Ticket#123", "[Ticket#123]", "ticket 123", blanks
 * around any of them: the number, or 0 when the input is none of these.
 */
uint64_t
ngx_http_ticket_goto_parse(ngx_str_t *input)
{
    u_char    *p, *last;
    size_t     n;
    uint64_t   number;

    p = input->data;
    last = p + input->len;

#define ngx_http_ticket_goto_blanks()                                        \
    while (p < last && (*p == ' ' || *p == '\t')) p++

    ngx_http_ticket_goto_blanks();

    if (p < last && *p == '[') {
        p++;
    }

    if (last - p >= 6 && ngx_strncasecmp(p, (u_char *) "ticket", 6) == 0) {
        p += 6;
        ngx_http_ticket_goto_blanks();
    }

    if (p < last && *p == '#') {
        p++;
        ngx_http_ticket_goto_blanks();
    }

    n = ngx_http_ticket_number(p, last, &number);
    if (n == 0) {
        return 0;
    }

    p += n;

    if (p < last && *p == ']') {
        p++;
    }

    ngx_http_ticket_goto_blanks();

#undef ngx_http_ticket_goto_blanks

    return p == last ? number : 0;
}


/* GET /go?n=...: one HGET of the ticket's group decides. */
ngx_int_t
ngx_http_ticket_goto(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                input, key;
    tk_cmds_t               *cmds;
    ngx_http_ticket_goto_t  *go;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    if (ngx_http_ticket_query_arg(r, "n", &input) != NGX_OK) {
        ngx_str_set(&input, "");
    }

    ngx_http_ticket_trim(&input);

    if (input.len == 0) {
        /* an empty field sent: nothing to look for */
        return ngx_http_ticket_redirect(r, "", 0);
    }

    go = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_goto_t));
    if (go == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = go;
    go->number = ngx_http_ticket_goto_parse(&input);

    if (go->number == 0) {
        return ngx_http_ticket_goto_back(r, "?goto=none", 0);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL
        || ngx_http_ticket_ticket_key(r, go->number, &key) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGET %S " TK_F_GROUP, ngx_ticket_str(&key));

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_goto_checked);
}


static ngx_int_t
ngx_http_ticket_goto_checked(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_goto_t   *go;
    ngx_http_ticket_reply_t  *group;

    go = ctx->view;

    if (ctx->nreplies < 1) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    group = &ctx->replies[0];

    if (group->type != REDIS_REPLY_STRING || group->str.len == 0
        || ngx_http_ticket_right(ctx, &group->str) == TK_RIGHT_NONE)
    {
        return ngx_http_ticket_goto_back(r, "?goto=%uL", go->number);
    }

    return ngx_http_ticket_goto_back(r, "t/%uL", go->number);
}


static ngx_int_t
ngx_http_ticket_goto_back(ngx_http_request_t *r, const char *fmt,
    uint64_t number)
{
    u_char  *p, *last;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 16);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = ngx_sprintf(p, fmt, number);

    return ngx_http_ticket_redirect(r, (char *) p, last - p);
}


/*
 * The overview after a "go to" that found nothing: "?goto=N" (no such
 * ticket, or none of the user's) or "?goto=none" (not a number) as a
 * notice in the page head.  Only digits and "none" are shown; anything
 * else in the URL says nothing.
 */
ngx_int_t
ngx_http_ticket_goto_notice(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char      *p;
    uint64_t     number;
    ngx_str_t    arg;

    if (ngx_http_ticket_query_arg(r, "goto", &arg) != NGX_OK) {
        return NGX_OK;
    }

    if (arg.len == 4 && ngx_strncmp(arg.data, "none", 4) == 0) {
        ngx_http_ticket_cstr(&ctx->notice,
                             ngx_http_ticket_msg(ctx,
                                 TK_MSG_GOTO_THAT_IS_NO_TICKET_NUMBER_TYPE));
        return NGX_OK;
    }

    if (ngx_http_ticket_number(arg.data, arg.data + arg.len, &number)
        != arg.len)
    {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 128);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->notice.data = p;
    ctx->notice.len = ngx_sprintf(p,
                                  ngx_http_ticket_msg(ctx,
                                      TK_MSG_GOTO_THERE_IS_NO_TICKET_UL_OR_YOU),
                                  number)
                      - p;

    return NGX_OK;
}
