/*
 * ngx_http_ticket_merge_ticket.c -- merging a duplicate into another
 * ticket and splitting an article off (tk_merge.h):
 *
 *   POST /t/N/merge  into=M [rev=R]      POST /api/v1/tickets/N/merge
 *   GET  /t/N/a/A/split  (confirmation)  {"into":M[,"rev":R]}
 *   POST /t/N/a/A/split  [rev=R]         POST /api/v1/tickets/N/articles/A/split
 *
 * Three rounds: read the tickets and article lists; read the articles to
 * move; WATCH the ticket keys and read their rev again -- when a rev
 * moved since the first read, everything is read again (a few times),
 * so the MULTI writes exactly what was checked.  A rev posted by the
 * form (what the agent saw) that is no longer the ticket's is a 409 and
 * nothing is written.  Full right on both tickets.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"
#include "tk_json.h"
#include "tk_merge.h"
#include "tk_tpl.h"


#define NGX_HTTP_TICKET_MS_RETRIES  5
#define NGX_HTTP_TICKET_MS_ARTS     2000        /* articles moved at most */


typedef struct {
    ngx_flag_t                 split;
    uint64_t                   number;          /* N */
    uint64_t                   into;            /* M (merge) */
    uint64_t                   article;         /* A (split) */
    uint64_t                   fresh;           /* the new ticket (split) */
    long long                  rev;             /* posted; -1: none */
    ngx_str_t                  keys[2];         /* tk:{t:N}, tk:{t:M} */
    tk_ticket_t                src, dst;
    uint64_t                  *src_ids, *dst_ids;
    ngx_uint_t                 nsrc, ndst;
    tk_move_art_t             *arts;
    ngx_uint_t                 narts;
    const char                *error;           /* the API's 422, told
                                                   after the rights */
} ngx_http_ticket_ms_t;


static ngx_int_t ngx_http_ticket_ms_init(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number, ngx_flag_t split);
static ngx_int_t ngx_http_ticket_ms_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_ms_checked(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_ms_articles(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_ms_watched(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_ms_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_ms_ids(ngx_http_request_t *r,
    ngx_http_ticket_reply_t *rep, uint64_t **ids, ngx_uint_t *n);
static ngx_int_t ngx_http_ticket_ms_refuse(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status, const char *de,
    const char *en);
static ngx_int_t ngx_http_ticket_ms_confirm(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_ms_confirm_body(tk_out_t *out, void *data);


static ngx_int_t
ngx_http_ticket_ms_init(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number, ngx_flag_t split)
{
    ngx_http_ticket_ms_t  *ms;

    ms = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_ms_t));
    if (ms == NULL
        || ngx_http_ticket_ticket_key(r, number, &ms->keys[0]) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ms->split = split;
    ms->number = number;
    ms->rev = -1;
    ctx->view = ms;
    ctx->tx_retries = 0;

    return NGX_OK;
}


/* A form's number field: digits only; -1 when absent or malformed. */
static long long
ngx_http_ticket_ms_form_num(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    const char *name)
{
    ngx_str_t  v;

    ngx_http_ticket_form_value(r, ctx, name, &v);
    ngx_http_ticket_trim(&v);

    if (v.len == 0 || v.len > 19) {
        return -1;
    }

    return tk_str_atoll(ngx_ticket_str(&v));
}


ngx_int_t
ngx_http_ticket_merge_form(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number)
{
    long long              into;
    ngx_str_t              msg;
    ngx_http_ticket_ms_t  *ms;

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    if (ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
        return ngx_http_ticket_csrf_refused(r, ctx);
    }

    if (ngx_http_ticket_ms_init(r, ctx, number, 0) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ms = ctx->view;
    into = ngx_http_ticket_ms_form_num(r, ctx, "into");
    ms->rev = ngx_http_ticket_ms_form_num(r, ctx, "rev");

    if (into <= 0 || (uint64_t) into == number) {
        ngx_str_set(&msg, "");
        msg.data = (u_char *) (
                               ngx_http_ticket_msg(ctx,
                                   TK_MSG_MERGE_TICKET_PLEASE_GIVE_THE_NUMBER_OF));
        msg.len = ngx_strlen(msg.data);
        return ngx_http_ticket_view_again(r, ctx, number, "into", &msg);
    }

    ms->into = (uint64_t) into;

    return ngx_http_ticket_ms_read(r, ctx);
}


ngx_int_t
ngx_http_ticket_merge_api(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number)
{
    int                      n;
    size_t                   errpos;
    long long                v;
    tk_json_member_t         m[4];
    const tk_json_member_t  *e;
    ngx_http_ticket_ms_t    *ms;

    if (ngx_http_ticket_ms_init(r, ctx, number, 0) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ms = ctx->view;

    n = tk_json_object(ngx_ticket_str(&ctx->form), m, 4, &errpos);
    e = n > 0 ? tk_json_get(m, n, "into") : NULL;
    v = (e && e->type == TK_JSON_NUMBER) ? tk_json_uint(&e->value) : -1;

    /* bad input is told only to who may change the ticket: the rights
     * come first (ngx_http_ticket_ms_checked), so it waits in ms->error */
    if (v <= 0 || (uint64_t) v == number) {
        ms->error = "into: the number of another ticket";
        v = (long long) number;
    }

    ms->into = (uint64_t) v;

    e = n > 0 ? tk_json_get(m, n, "rev") : NULL;
    if (e && ms->error == NULL) {
        ms->rev = e->type == TK_JSON_NUMBER ? tk_json_uint(&e->value) : -1;
        if (ms->rev < 0) {
            ms->error = "rev: a number";
        }
    }

    return ngx_http_ticket_ms_read(r, ctx);
}


/* GET: the confirmation page; POST: the split. */
ngx_int_t
ngx_http_ticket_split_form(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number, uint64_t article)
{
    ngx_http_ticket_ms_t  *ms;

    if (r->method == NGX_HTTP_POST
        && ngx_http_ticket_check_csrf(r, ctx) != NGX_OK)
    {
        return ngx_http_ticket_csrf_refused(r, ctx);
    }

    if (ngx_http_ticket_ms_init(r, ctx, number, 1) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ms = ctx->view;
    ms->article = article;

    if (r->method == NGX_HTTP_POST) {
        ms->rev = ngx_http_ticket_ms_form_num(r, ctx, "rev");
    }

    return ngx_http_ticket_ms_read(r, ctx);
}


ngx_int_t
ngx_http_ticket_split_api(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number, uint64_t article)
{
    ngx_http_ticket_ms_t  *ms;

    if (ngx_http_ticket_ms_init(r, ctx, number, 1) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ms = ctx->view;
    ms->article = article;

    return ngx_http_ticket_ms_read(r, ctx);
}


/* Round 1: the tickets and their lists (and, to split, a new number). */
static ngx_int_t
ngx_http_ticket_ms_read(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t             *cmds;
    ngx_http_ticket_ms_t  *ms;

    ms = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL
        || (!ms->split && ms->keys[1].len == 0
            && ngx_http_ticket_ticket_key(r, ms->into, &ms->keys[1])
               != NGX_OK))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGETALL %S", ngx_ticket_str(&ms->keys[0]));
    tk_cmds_add(cmds, "LRANGE %S:articles 0 -1", ngx_ticket_str(&ms->keys[0]));

    if (!ms->split) {
        tk_cmds_add(cmds, "HGETALL %S", ngx_ticket_str(&ms->keys[1]));
        tk_cmds_add(cmds, "LRANGE %S:articles 0 -1",
                    ngx_ticket_str(&ms->keys[1]));
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_ms_checked);
}


/* The stored tickets: rights and sense of the request, then round 2. */
static ngx_int_t
ngx_http_ticket_ms_checked(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    char                   key[TK_KEY_MAX];
    size_t                 len;
    tk_cmds_t             *cmds;
    ngx_uint_t             i;
    ngx_http_ticket_ms_t  *ms;

    ms = ctx->view;

    if (ctx->nreplies < 2
        || ngx_http_ticket_ticket_parse(r, &ctx->replies[0], &ms->src)
           != NGX_OK
        || ngx_http_ticket_right(ctx, (ngx_str_t *) &ms->src.group)
           == TK_RIGHT_NONE
        || ngx_http_ticket_ms_ids(r, &ctx->replies[1], &ms->src_ids,
                                  &ms->nsrc) != NGX_OK)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (ngx_http_ticket_right(ctx, (ngx_str_t *) &ms->src.group)
        != TK_RIGHT_FULL)
    {
        return ngx_http_ticket_ms_refuse(r, ctx, NGX_HTTP_FORBIDDEN,
                   "Du hast f\xc3\xbcr diese AG nur Lesezugriff.",
                   "You have read access to this group only.");
    }

    if (ms->error) {
        return ngx_http_ticket_error(r, ctx, 422, ms->error);
    }

    if (ms->src.merged_into) {
        return ngx_http_ticket_ms_refuse(r, ctx, 422,
                   "Dieses Ticket wurde schon zusammengef\xc3\xbchrt.",
                   "This ticket was merged already.");
    }

    if (ms->rev >= 0 && (uint64_t) ms->rev != ms->src.rev) {
        return ngx_http_ticket_ms_refuse(r, ctx, NGX_HTTP_CONFLICT,
                   "Das Ticket wurde inzwischen ge\xc3\xa4ndert: bitte neu "
                   "laden und noch einmal versuchen.",
                   "The ticket changed meanwhile: reload it and try again.");
    }

    if (!ms->split) {
        if (ctx->nreplies < 4
            || ngx_http_ticket_ticket_parse(r, &ctx->replies[2], &ms->dst)
               != NGX_OK
            || ngx_http_ticket_right(ctx, (ngx_str_t *) &ms->dst.group)
               == TK_RIGHT_NONE
            || ngx_http_ticket_ms_ids(r, &ctx->replies[3], &ms->dst_ids,
                                      &ms->ndst) != NGX_OK)
        {
            return ngx_http_ticket_ms_refuse(r, ctx, 422,
                       "Dieses Ticket gibt es nicht.",
                       "There is no such ticket.");
        }

        if (ngx_http_ticket_right(ctx, (ngx_str_t *) &ms->dst.group)
            != TK_RIGHT_FULL || ms->dst.merged_into)
        {
            return ngx_http_ticket_ms_refuse(r, ctx, 422,
                       "In dieses Ticket kannst du nicht zusammenf\xc3\xbchren.",
                       "You cannot merge into that ticket.");
        }

        if (ms->nsrc > NGX_HTTP_TICKET_MS_ARTS) {
            return ngx_http_ticket_ms_refuse(r, ctx, 422,
                       "Zu viele Nachrichten.", "Too many messages.");
        }

    } else {
        for (i = 0; i < ms->nsrc && ms->src_ids[i] != ms->article; i++) {
            /* void */
        }

        if (i == ms->nsrc) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
        }

        if (ms->nsrc < 2) {
            return ngx_http_ticket_ms_refuse(r, ctx, 422,
                       "Die einzige Nachricht eines Tickets kann nicht "
                       "abgetrennt werden.",
                       "The only message of a ticket cannot be split off.");
        }

        ms->src_ids[0] = ms->article;       /* the one to move */
        ms->nsrc = 1;
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < ms->nsrc; i++) {
        tk_key_article(key, sizeof(key), ms->number, ms->src_ids[i]);
        tk_cmds_add(cmds, "HGETALL %s", key);
        len = tk_key_raw(key, sizeof(key), ms->number, ms->src_ids[i]);
        tk_cmds_add(cmds, "EXISTS %b", key, len);
    }

    /* ids come from INCR outside the transaction (SCHEMA.md) */
    if (ms->split && r->method == NGX_HTTP_POST && ms->fresh == 0) {
        tk_cmds_add(cmds, "INCR " TK_KEY_SEQ_TICKET);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_ms_articles);
}


/* Round 2 is in: the articles; then WATCH and read the revs again. */
static ngx_int_t
ngx_http_ticket_ms_articles(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t             *cmds;
    ngx_uint_t             i;
    ngx_http_ticket_ms_t  *ms;

    ms = ctx->view;

    if (ctx->nreplies < 2 * ms->nsrc) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ms->arts = ngx_pcalloc(r->pool, (ms->nsrc + 1) * sizeof(tk_move_art_t));
    if (ms->arts == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ms->narts = 0;

    for (i = 0; i < ms->nsrc; i++) {
        if (ngx_http_ticket_article_parse(r, &ctx->replies[2 * i],
                                          &ms->arts[ms->narts].a)
            != NGX_OK)
        {
            continue;       /* a dangling id: nothing to move */
        }

        ms->arts[ms->narts].has_raw =
            ctx->replies[2 * i + 1].type == REDIS_REPLY_INTEGER
            && ctx->replies[2 * i + 1].integer == 1;
        ms->narts++;
    }

    if (ms->split && ms->narts == 0) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (ms->split && r->method != NGX_HTTP_POST) {
        return ngx_http_ticket_ms_confirm(r, ctx);
    }

    if (ms->split && ms->fresh == 0) {
        if (ctx->nreplies <= 2 * ms->nsrc
            || ctx->replies[2 * ms->nsrc].type != REDIS_REPLY_INTEGER
            || ctx->replies[2 * ms->nsrc].integer <= 0)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ms->fresh = (uint64_t) ctx->replies[2 * ms->nsrc].integer;
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGET %S " TK_F_REV, ngx_ticket_str(&ms->keys[0]));

    if (!ms->split) {
        tk_cmds_add(cmds, "HGET %S " TK_F_REV, ngx_ticket_str(&ms->keys[1]));
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_tx_begin(r, ctx, ms->keys, ms->split ? 1 : 2, cmds,
                                    ngx_http_ticket_ms_watched);
}


/* rev as read under WATCH equals the first read's: commit what was read. */
static ngx_int_t
ngx_http_ticket_ms_watched(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    long long              rev[2];
    tk_cmds_t             *cmds;
    ngx_uint_t             i, n;
    unsigned char         *tags;
    tk_ticket_t            t;
    ngx_http_ticket_ms_t  *ms;

    ms = ctx->view;
    n = ms->split ? 1 : 2;

    for (i = 0; i < n; i++) {
        rev[i] = (i < ctx->nreplies
                  && ctx->replies[i].type == REDIS_REPLY_STRING)
                 ? tk_str_atoll(ngx_ticket_str(&ctx->replies[i].str)) : 0;
    }

    if ((uint64_t) rev[0] != ms->src.rev
        || (n == 2 && (uint64_t) rev[1] != ms->dst.rev))
    {
        ngx_http_ticket_tx_abort(r, ctx);
        ctx->tx_conflict = 1;
        return ngx_http_ticket_ms_committed(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    tags = ngx_pnalloc(r->pool, TK_TAGS_LEN_MAX);
    if (cmds == NULL || tags == NULL) {
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ms->split) {
        tk_ticket_merge(cmds, &ms->src, &ms->dst, ms->arts, ms->narts,
                        ms->dst_ids, ms->ndst,
                        ngx_ticket_str(&ctx->user.login),
                        (int64_t) ngx_time(), tags);

    } else {
        t = ms->src;
        t.number = ms->fresh;
        t.title = ms->arts[0].a.subject.len ? ms->arts[0].a.subject
                                            : ms->src.title;
        t.state = TK_STATE_OPEN;
        t.first_response = 0;
        t.escalation_at = 0;
        t.pending_until = 0;
        t.escalated = 0;
        t.tags = ms->src.tags;
        t.merged_into = 0;

        tk_ticket_split(cmds, &ms->src, &ms->arts[0], &t,
                        ngx_ticket_str(&ctx->user.login),
                        (int64_t) ngx_time());
    }

    if (cmds->failed) {
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_tx_commit(r, ctx, cmds,
                                     ngx_http_ticket_ms_committed);
}


static ngx_int_t
ngx_http_ticket_ms_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    u_char                *p, *last;
    uint64_t               to;
    tk_out_t               out;
    ngx_uint_t             i;
    ngx_http_ticket_ms_t  *ms;

    ms = ctx->view;

    if (ctx->tx_conflict) {
        ctx->tx_conflict = 0;

        if (++ctx->tx_retries < NGX_HTTP_TICKET_MS_RETRIES) {
            return ngx_http_ticket_ms_read(r, ctx);
        }

        return ngx_http_ticket_error(r, ctx, NGX_HTTP_CONFLICT,
                                     ngx_http_ticket_msg(ctx,
                                         TK_MSG_ACTION_THE_TICKET_WAS_BEING_CHANGED));
    }

    for (i = 0; i < ctx->nreplies; i++) {
        if (ngx_http_ticket_reply_is_error(&ctx->replies[i])) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "ticket: merge/split of %V: command %ui failed: "
                          "%V", &ms->keys[0], i, &ctx->replies[i].str);
            return ngx_http_ticket_error(r, ctx,
                                         NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         NULL);
        }
    }

    to = ms->split ? ms->fresh : ms->into;

    if (!ctx->api) {
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 4);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        last = ngx_sprintf(p, "t/%uL", to);
        return ngx_http_ticket_redirect(r, (char *) p, last - p);
    }

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_out_cstr(&out, "{\"ticket\":");
    tk_out_uint(&out, ms->number);
    tk_out_cstr(&out, ms->split ? ",\"new_ticket\":" : ",\"merged_into\":");
    tk_out_uint(&out, to);
    tk_out_cstr(&out, ",\"articles\":");
    tk_out_uint(&out, ms->narts);
    tk_out_cstr(&out, "}\n");

    return ngx_http_ticket_json(r, &out, ms->split ? NGX_HTTP_CREATED
                                                   : NGX_HTTP_OK);
}


/* LRANGE ids as numbers. */
static ngx_int_t
ngx_http_ticket_ms_ids(ngx_http_request_t *r, ngx_http_ticket_reply_t *rep,
    uint64_t **ids, ngx_uint_t *n)
{
    long long   v;
    ngx_uint_t  i;

    *n = 0;

    if (rep->type != REDIS_REPLY_ARRAY) {
        return NGX_ERROR;
    }

    *ids = ngx_palloc(r->pool, (rep->nelem + 1) * sizeof(uint64_t));
    if (*ids == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < rep->nelem; i++) {
        v = tk_str_atoll(ngx_ticket_str(&rep->element[i].str));
        if (v > 0) {
            (*ids)[(*n)++] = (uint64_t) v;
        }
    }

    return NGX_OK;
}


/* A refused merge from the form: the page again, message at "into". */
static ngx_int_t
ngx_http_ticket_ms_refuse(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_uint_t status, const char *de, const char *en)
{
    ngx_str_t              msg;
    ngx_http_ticket_ms_t  *ms;

    ms = ctx->view;
    msg.data = (u_char *) (ngx_http_ticket_lang_de(ctx) ? de : en);
    msg.len = ngx_strlen(msg.data);

    if (status == 422 && !ctx->api && !ms->split) {
        return ngx_http_ticket_view_again(r, ctx, ms->number, "into", &msg);
    }

    return ngx_http_ticket_error(r, ctx, status, (char *) msg.data);
}


/* GET /t/N/a/A/split: what would move, and the form that does it. */
static ngx_int_t
ngx_http_ticket_ms_confirm(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                *p;
    ngx_str_t              title;
    tk_article_t          *a;
    tk_tpl_split_t        *tpl;
    ngx_http_ticket_ms_t  *ms;

    ms = ctx->view;
    a = &ms->arts[0].a;

    tpl = ngx_pcalloc(r->pool, sizeof(tk_tpl_split_t));
    p = ngx_pnalloc(r->pool, 2 * NGX_INT64_LEN + 32);
    if (tpl == NULL || p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->de = ngx_http_ticket_lang_de(ctx);
    tpl->csrf = *ngx_ticket_str(&ctx->csrf);
    tpl->from = a->from;
    tpl->subject = a->subject;
    tpl->preview = a->body;

    if (tpl->preview.len > 400) {
        tpl->preview.len = 400;         /* a glance; may cut a character */
        while (tpl->preview.len && (tpl->preview.data[tpl->preview.len] & 0xc0)
                                   == 0x80)
        {
            tpl->preview.len--;
        }
    }

    if (ngx_http_ticket_uint_str(r, ms->number, &tpl->number) != NGX_OK
        || ngx_http_ticket_uint_str(r, ms->src.rev, &tpl->rev) != NGX_OK
        || ngx_http_ticket_time_str(r, a->time, &tpl->time) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_ticket_url(r, (char *) p,
                            ngx_sprintf(p, "t/%uL", ms->number) - p,
                            &tpl->back_url) != NGX_OK
        || ngx_http_ticket_url(r, (char *) p,
                               ngx_sprintf(p, "t/%uL/a/%uL/split", ms->number,
                                           ms->article) - p,
                               &tpl->action) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&title, "Split");

    return ngx_http_ticket_page(r, ctx, NGX_HTTP_OK, &title,
                                ngx_http_ticket_ms_confirm_body, tpl);
}


static void
ngx_http_ticket_ms_confirm_body(tk_out_t *out, void *data)
{
    tk_tpl_split(out, data);
}
