/*
 * ngx_http_ticket_outbound.c -- a new ticket that starts with our mail
 * ("send email"): GET /new shows the form, POST /new and POST
 * /api/v1/tickets create it.  GET /new/security and /new/complete are
 * the composer's security line and address suggestions without a
 * ticket (ngx_http_ticket_security.c, _complete.c).
 *
 * Two round trips before the write: the group (address, signing key),
 * the customer by address and the recipients' keys; then, under WATCH
 * of the address index (two agents or a mail creating the same customer
 * at once must not both win), the stored customer's name and the new
 * numbers.  One MULTI/EXEC writes the customer if new, the ticket with
 * its index and history, the article (ngx_http_ticket_reply_article.c,
 * the composer's: From the group, [Ticket#N], a Message-ID that threads
 * the customer's answer back), its files and the outbox entry -- all of
 * it or nothing.  To, Cc and Bcc get one mail; the customer is the first
 * address under To.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_outbound.h"
#include "ngx_http_ticket_api_json.h"


#define NGX_HTTP_TICKET_OUTBOUND_RETRIES  5
#define NGX_HTTP_TICKET_UNPROCESSABLE     422


static ngx_int_t ngx_http_ticket_outbound_new(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_outbound_show(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status);
static ngx_int_t ngx_http_ticket_outbound_shown(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_outbound_reads(ngx_http_request_t *r,
    ngx_http_ticket_outbound_t *ob, tk_cmds_t *cmds, ngx_flag_t customer);
static ngx_int_t ngx_http_ticket_outbound_start(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_outbound_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_outbound_decide(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_outbound_write(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, tk_cmds_t *cmds);
static ngx_int_t ngx_http_ticket_outbound_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_outbound_created(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_outbound_back(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status);
static ngx_int_t ngx_http_ticket_outbound_id(ngx_http_ticket_reply_t *rep,
    uint64_t *id);


/* ---- the ways in ------------------------------------------------------ */

ngx_int_t
ngx_http_ticket_outbound(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t  *path;

    path = &ctx->path;

    if (path->len == sizeof("/new/security") - 1
        && ngx_strncmp(path->data, "/new/security", path->len) == 0)
    {
        return ngx_http_ticket_compose_security_json(r, ctx, 0);
    }

    if (path->len == sizeof("/new/complete") - 1
        && ngx_strncmp(path->data, "/new/complete", path->len) == 0)
    {
        return ngx_http_ticket_complete(r, ctx, 0);
    }

    if (path->len != sizeof("/new") - 1) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (r->method == NGX_HTTP_POST) {
        return ngx_http_ticket_outbound_new(r, ctx);
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    if (!ngx_http_ticket_full_somewhere(ctx)) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_FORBIDDEN,
                   ngx_http_ticket_msg(ctx,
                       TK_MSG_OUTBOUND_YOU_MAY_NOT_WRITE_IN_ANY));
    }

    ctx->view = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_outbound_t));
    if (ctx->view == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ((ngx_http_ticket_outbound_t *) ctx->view)->c.state = TK_STATE_WAITING;

    return ngx_http_ticket_outbound_show(r, ctx, NGX_HTTP_OK);
}


/* POST /new: a form with files, like the composer's. */
static ngx_int_t
ngx_http_ticket_outbound_new(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_outbound_t  *ob;

    if (ngx_http_ticket_multipart(r, ctx) == NGX_ERROR) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL);
    }

    if (ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
        return ngx_http_ticket_csrf_refused(r, ctx);
    }

    if (!ngx_http_ticket_full_somewhere(ctx)) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_FORBIDDEN,
                   ngx_http_ticket_msg(ctx,
                       TK_MSG_OUTBOUND_YOU_MAY_NOT_WRITE_IN_ANY));
    }

    ob = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_outbound_t));
    if (ob == NULL || ngx_http_ticket_outbound_form(r, ctx, ob) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = ob;

    if (ngx_http_ticket_outbound_check(r, ctx, ob) != NGX_OK) {
        return ngx_http_ticket_outbound_back(r, ctx,
                                             NGX_HTTP_TICKET_UNPROCESSABLE);
    }

    return ngx_http_ticket_outbound_start(r, ctx);
}


ngx_int_t
ngx_http_ticket_outbound_api(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    const char                  *field, *message;
    ngx_http_ticket_outbound_t  *ob;

    ob = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_outbound_t));
    if (ob == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ob->api = 1;
    ctx->view = ob;

    if (ngx_http_ticket_outbound_json(r, ctx, ob, &field, &message)
        != NGX_OK)
    {
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_BAD_REQUEST,
                                                  field, message);
    }

    if (ngx_http_ticket_outbound_check(r, ctx, ob) != NGX_OK) {
        return ngx_http_ticket_outbound_back(r, ctx,
                                             NGX_HTTP_TICKET_UNPROCESSABLE);
    }

    return ngx_http_ticket_outbound_start(r, ctx);
}


/* ---- the page --------------------------------------------------------- */

/*
 * The form, fresh or as sent: one batch for its security line (the
 * group chosen, or the first the agent may write in, and the
 * recipients' keys).
 */
static ngx_int_t
ngx_http_ticket_outbound_show(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status)
{
    ngx_uint_t                      i;
    tk_cmds_t                      *cmds;
    ngx_http_ticket_outbound_t     *ob;
    ngx_http_ticket_group_right_t  *gr;

    ob = ctx->view;
    ob->c.status = status;

    ngx_http_ticket_tx_abort(r, ctx);

    if (ob->group.len == 0 || !tk_valid_group(ngx_ticket_str(&ob->group))
        || ngx_http_ticket_right(ctx, &ob->group) != TK_RIGHT_FULL)
    {
        gr = ctx->groups.elts;

        for (i = 0; i < ctx->groups.nelts; i++) {
            if (gr[i].right == TK_RIGHT_FULL) {
                if (ob->group.len == 0) {
                    ob->group = gr[i].name;
                }
                break;
            }
        }

        if (i == ctx->groups.nelts) {
            return ngx_http_ticket_outbound_page(r, ctx, ob, NULL, status);
        }

        /* the security line of the group the select shows first */
        ob->rq.group = gr[i].name;

    } else {
        ob->rq.group = ob->group;
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_ticket_outbound_reads(r, ob, cmds, 0);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_outbound_shown);
}


static ngx_int_t
ngx_http_ticket_outbound_shown(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_outbound_t  *ob;

    ob = ctx->view;

    if (ctx->nreplies < 1) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ob->grp = &ctx->replies[0];

    return ngx_http_ticket_outbound_page(r, ctx, ob,
                                         ctx->nreplies > 1
                                         ? &ctx->replies[1] : NULL,
                                         ob->c.status);
}


/*
 * HGETALL of the group (rq.group), [HGET of the customer by address],
 * [HMGET of the recipients' keys] -- in that order.
 */
static void
ngx_http_ticket_outbound_reads(ngx_http_request_t *r,
    ngx_http_ticket_outbound_t *ob, tk_cmds_t *cmds, ngx_flag_t customer)
{
    char  gkey[TK_KEY_MAX];

    if (tk_key_group(gkey, sizeof(gkey), ngx_ticket_str(&ob->rq.group)) == 0)
    {
        cmds->failed = 1;
        return;
    }

    tk_cmds_add(cmds, "HGETALL %s", gkey);

    if (customer) {
        tk_cmds_add(cmds, "HGET " TK_KEY_CUSTOMER_BY_EMAIL " %S",
                    ngx_ticket_str(&ob->lower));
    }

    if (!ob->c.note) {
        ngx_http_ticket_compose_keys(r, cmds, ob->c.rcpt,
                                     ob->c.nto + ob->c.ncc + ob->c.nbcc);
    }
}


/* ---- the transaction -------------------------------------------------- */

static ngx_int_t
ngx_http_ticket_outbound_start(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                   *cmds;
    ngx_http_ticket_outbound_t  *ob;

    ob = ctx->view;
    ob->rq.c = &ob->c;
    ob->rq.group = ob->group;
    ob->rq.api = ob->api;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_ticket_outbound_reads(r, ob, cmds, 1);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_outbound_read);
}


/*
 * The group exists and can send, the security decision, the customer
 * found or not; then WATCH the address index and take the numbers.
 */
static ngx_int_t
ngx_http_ticket_outbound_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t                    email;
    tk_cmds_t                   *cmds;
    ngx_http_ticket_outbound_t  *ob;

    static ngx_str_t  index = ngx_string(TK_KEY_CUSTOMER_BY_EMAIL);

    ob = ctx->view;

    if (ctx->nreplies < 2) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ob->grp = &ctx->replies[0];

    if (ob->grp->type != REDIS_REPLY_ARRAY || ob->grp->nelem == 0) {
        ob->err_group =
            ngx_http_ticket_msg(ctx, TK_MSG_ACTION_THERE_IS_NO_SUCH_GROUP);
        return ngx_http_ticket_outbound_back(r, ctx,
                                             NGX_HTTP_TICKET_UNPROCESSABLE);
    }

    ngx_http_ticket_reply_value(ob->grp, TK_F_EMAIL, &email);

    if (!ob->c.note && !tk_addr_valid(email.data, email.len)) {
        ob->err_group =
            ngx_http_ticket_msg(ctx,
                TK_MSG_REPLY_ARTICLE_THIS_GROUP_HAS_NO_VALID_EMAIL);
        return ngx_http_ticket_outbound_back(r, ctx,
                                             NGX_HTTP_TICKET_UNPROCESSABLE);
    }

    if (ngx_http_ticket_outbound_id(&ctx->replies[1], &ob->customer)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a new ticket: nobody has written encrypted in it yet */
    ngx_memzero(&ob->sec, sizeof(ngx_http_ticket_security_t));
    tk_str_set(&ob->rq.crypt, "");

    if (!ob->c.note) {
        ngx_http_ticket_security(&ob->sec, ob->c.rcpt,
                                 ob->c.nto + ob->c.ncc + ob->c.nbcc,
                                 ctx->nreplies > 2 ? &ctx->replies[2] : NULL,
                                 ob->grp, 0);
        ngx_http_ticket_security_crypt(&ob->sec, &ob->rq.crypt);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGET " TK_KEY_CUSTOMER_BY_EMAIL " %S",
                ngx_ticket_str(&ob->lower));

    ob->at_name = ob->at_customer = -1;

    if (ob->customer) {
        char  ckey[TK_KEY_MAX];

        if (tk_key_customer(ckey, sizeof(ckey), ob->customer) == 0) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ob->at_name = cmds->n;
        tk_cmds_add(cmds, "HGET %s " TK_F_NAME, ckey);
    }

    /* the numbers: INCR is no read of the watched key; a retry or a
     * refusal leaves a gap, which is harmless */
    if (ob->rq.number == 0) {
        tk_cmds_add(cmds, "INCR " TK_KEY_SEQ_TICKET);
        tk_cmds_add(cmds, "INCR " TK_KEY_SEQ_ARTICLE);
    }

    if (ob->customer == 0) {
        ob->at_customer = cmds->n;
        tk_cmds_add(cmds, "INCR " TK_KEY_SEQ_CUSTOMER);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_tx_begin(r, ctx, &index, 1, cmds,
                                    ngx_http_ticket_outbound_decide);
}


/* Still the same customer under WATCH: the numbers, then the writes. */
static ngx_int_t
ngx_http_ticket_outbound_decide(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    uint64_t                     now_id, v;
    ngx_uint_t                   i;
    tk_cmds_t                   *cmds;
    ngx_http_ticket_outbound_t  *ob;

    ob = ctx->view;

    if (ctx->nreplies < 1
        || ngx_http_ticket_outbound_id(&ctx->replies[0], &now_id) != NGX_OK)
    {
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    i = 1 + (ob->at_name >= 0);

    if (ob->rq.number == 0) {
        if (ctx->nreplies < i + 2
            || ctx->replies[i].type != REDIS_REPLY_INTEGER
            || ctx->replies[i + 1].type != REDIS_REPLY_INTEGER
            || ctx->replies[i].integer <= 0
            || ctx->replies[i + 1].integer <= 0)
        {
            ngx_http_ticket_tx_abort(r, ctx);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ob->rq.number = (uint64_t) ctx->replies[i].integer;
        ob->rq.id = (uint64_t) ctx->replies[i + 1].integer;
    }

    /* created or changed since the first read: read again */
    if (now_id != ob->customer) {
        ngx_http_ticket_tx_abort(r, ctx);

        if (++ob->retries < NGX_HTTP_TICKET_OUTBOUND_RETRIES) {
            return ngx_http_ticket_outbound_start(r, ctx);
        }

        return ngx_http_ticket_error(r, ctx, NGX_HTTP_CONFLICT, NULL);
    }

    ngx_memzero(&ob->t, sizeof(tk_ticket_t));

    if (ob->at_customer >= 0) {
        if ((ngx_uint_t) ob->at_customer >= ctx->nreplies
            || ctx->replies[ob->at_customer].type != REDIS_REPLY_INTEGER
            || ctx->replies[ob->at_customer].integer <= 0)
        {
            ngx_http_ticket_tx_abort(r, ctx);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        v = (uint64_t) ctx->replies[ob->at_customer].integer;
        ob->t.customer = v;
        ob->t.customer_name = *ngx_ticket_str(&ob->name);

    } else {
        ob->t.customer = ob->customer;
        ob->t.customer_name = *ngx_ticket_str(&ob->name);

        /* the customer keeps the name stored, when there is one */
        if ((ngx_uint_t) ob->at_name < ctx->nreplies
            && ctx->replies[ob->at_name].type == REDIS_REPLY_STRING
            && ctx->replies[ob->at_name].str.len)
        {
            ob->t.customer_name =
                *ngx_ticket_str(&ctx->replies[ob->at_name].str);
        }
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_ticket_outbound_write(r, ctx, cmds) != NGX_OK) {
        if (ob->c.err) {
            return ngx_http_ticket_outbound_back(r, ctx,
                                             NGX_HTTP_TICKET_UNPROCESSABLE);
        }

        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_tx_commit(r, ctx, cmds,
                                     ngx_http_ticket_outbound_committed);
}


/*
 * The writes: customer (if new), ticket (index, history "created"),
 * the article with its files, the outbox entry.  The ticket's hash
 * comes first: the article's HINCRBY of "articles" counts on it.
 */
static ngx_int_t
ngx_http_ticket_outbound_write(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, tk_cmds_t *cmds)
{
    tk_ticket_t                 *t;
    tk_article_t                 a;
    ngx_http_ticket_outbound_t  *ob;

    ob = ctx->view;
    t = &ob->t;

    if (ngx_http_ticket_reply_article(r, ctx, &ob->rq, &a, NULL, ob->grp)
            != NGX_OK
        || ngx_http_ticket_reply_files(r, ctx, &a) != NGX_OK)
    {
        return NGX_ERROR;
    }

    t->number = ob->rq.number;
    t->title = *ngx_ticket_str(&ob->c.subject);
    t->group = *ngx_ticket_str(&ob->group);
    t->owner = *ngx_ticket_str(&ctx->user.login);   /* who wrote first */
    t->customer_email = *ngx_ticket_str(&ob->email);
    t->state = (int) (ob->c.state ? ob->c.state : TK_STATE_OPEN);
    t->priority = TK_PRIO_NORMAL;
    t->created = a.time;
    t->updated = a.time;
    t->first_response = ob->c.note ? 0 : a.time;
    t->pending_until = (t->state == TK_STATE_REMINDER)
                       ? ob->c.pending_until : 0;

    if (ob->at_customer >= 0) {
        tk_customer_write(cmds, t->customer, &t->customer_name,
                          &t->customer_email);
    }

    tk_ticket_create(cmds, t, ngx_ticket_str(&ctx->user.login));
    tk_article_write(cmds, &a, &t->group);
    ngx_http_ticket_reply_files_write(r, ctx, cmds, &a, 1);

    if (!ob->c.note) {
        tk_outbox_enqueue(cmds, t->number, a.id, a.time);
    }

    return cmds->failed ? NGX_ERROR : NGX_OK;
}


static ngx_int_t
ngx_http_ticket_outbound_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                   i;
    ngx_http_ticket_outbound_t  *ob;

    ob = ctx->view;

    if (ctx->tx_conflict) {
        ctx->tx_conflict = 0;

        /* someone created a customer meanwhile: read again (the numbers
         * taken stay ours) */
        if (++ob->retries < NGX_HTTP_TICKET_OUTBOUND_RETRIES) {
            return ngx_http_ticket_outbound_start(r, ctx);
        }

        return ngx_http_ticket_error(r, ctx, NGX_HTTP_CONFLICT, NULL);
    }

    for (i = 0; i < ctx->nreplies; i++) {
        if (ngx_http_ticket_reply_is_error(&ctx->replies[i])) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "ticket: creating ticket %uL failed: %V",
                          ob->rq.number, &ctx->replies[i].str);
            return ngx_http_ticket_error(r, ctx,
                                         NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         NULL);
        }
    }

    if (!ob->api) {
        u_char  buf[2 * NGX_INT64_LEN + 16], *last;

        last = ngx_sprintf(buf, "t/%uL#a-%uL", ob->rq.number, ob->rq.id);
        return ngx_http_ticket_redirect(r, (char *) buf, last - buf);
    }

    return ngx_http_ticket_outbound_created(r, ctx);
}


/* 201, Location: the ticket's API URL; the ticket as GET shows its
 * fields, the first article and the customer. */
static ngx_int_t
ngx_http_ticket_outbound_created(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    u_char                      *loc, *last;
    tk_out_t                     out;
    ngx_table_elt_t             *h;
    ngx_http_ticket_row_t        row;
    ngx_http_ticket_outbound_t  *ob;

    ob = ctx->view;

    loc = ngx_pnalloc(r->pool, NGX_INT64_LEN + 32);
    if (loc == NULL || ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = ngx_sprintf(loc, "api/v1/tickets/%uL", ob->rq.number);

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL
        || ngx_http_ticket_url(r, (char *) loc, last - loc,
                               ngx_ticket_str(&h->value))
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Location");
    h->lowcase_key = NULL;
    ngx_http_clear_location(r);
    r->headers_out.location = h;

    /* fields this page does not set (tags: a new ticket has none) */
    ngx_memzero(&row, sizeof(ngx_http_ticket_row_t));

    row.number = ob->t.number;
    row.customer = ob->t.customer;
    row.title = *(ngx_str_t *) &ob->t.title;
    row.customer_name = *(ngx_str_t *) &ob->t.customer_name;
    row.customer_email = *(ngx_str_t *) &ob->t.customer_email;
    row.group = *(ngx_str_t *) &ob->t.group;
    row.owner = *(ngx_str_t *) &ob->t.owner;
    row.state = ob->t.state;
    row.priority = ob->t.priority;
    row.created = ob->t.created;
    row.updated = ob->t.updated;

    tk_out_cstr(&out, "{");
    ngx_http_ticket_api_ticket_fields(&out, &row);
    tk_out_cstr(&out, ",\"customer_created\":");
    tk_out_cstr(&out, ob->at_customer >= 0 ? "true" : "false");
    tk_out_cstr(&out, ",\"article\":{\"id\":");
    tk_out_uint(&out, ob->rq.id);
    tk_out_cstr(&out, ob->c.note ? ",\"kind\":\"note\",\"delivery\":null"
                                 : ",\"kind\":\"out\",\"delivery\":"
                                   "\"queued\"");
    tk_out_cstr(&out, ",\"message_id\":");

    if (ob->rq.message_id.len) {
        tk_out_json(&out, ob->rq.message_id.data, ob->rq.message_id.len);
    } else {
        tk_out_cstr(&out, "null");
    }

    tk_out_cstr(&out, ",\"crypt\":");
    tk_out_json(&out, ob->rq.crypt.data, ob->rq.crypt.len);
    tk_out_cstr(&out, "}}\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_CREATED);
}


/* Refused: nothing written; the page with the form as sent, or the API's
 * JSON error. */
static ngx_int_t
ngx_http_ticket_outbound_back(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status)
{
    const char                  *field, *message;
    ngx_http_ticket_outbound_t  *ob;

    ob = ctx->view;

    ngx_http_ticket_tx_abort(r, ctx);

    if (ob->api) {
        ngx_http_ticket_outbound_first_error(ob, &field, &message);

        /* a group one may only read: the right is missing, not the data */
        if (field && ngx_strcmp(field, "group") == 0 && ob->group.len
            && tk_valid_group(ngx_ticket_str(&ob->group))
            && ngx_http_ticket_right(ctx, &ob->group) == TK_RIGHT_READ)
        {
            status = NGX_HTTP_FORBIDDEN;
        }

        return ngx_http_ticket_compose_json_error(r, status, field,
                                                  message ? message
                                                          : "refused");
    }

    ngx_http_ticket_reply_files_lost(ctx, &ob->c);

    return ngx_http_ticket_outbound_show(r, ctx, status);
}


/* HGET of the address index: the id, or 0 (nil: no such customer). */
static ngx_int_t
ngx_http_ticket_outbound_id(ngx_http_ticket_reply_t *rep, uint64_t *id)
{
    long long  v;

    if (rep->type == REDIS_REPLY_NIL) {
        *id = 0;
        return NGX_OK;
    }

    if (rep->type != REDIS_REPLY_STRING) {
        return NGX_ERROR;
    }

    v = tk_str_atoll(ngx_ticket_str(&rep->str));
    *id = v > 0 ? (uint64_t) v : 0;

    return NGX_OK;
}
