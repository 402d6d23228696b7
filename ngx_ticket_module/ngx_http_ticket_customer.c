/*
 * ngx_http_ticket_customer.c -- the customer page (issue 13):
 *
 *   GET  /customers/ID          data, PGP key status (tk:pgp:addr), the
 *                               tickets the viewer may read, the other
 *                               customers of the same organisation
 *   POST /customers/ID          name, email, organisation, notes (CSRF)
 *   GET  /customers?email=ADDR  to the page of that address
 *
 * Rights: a customer exists for an agent who may read one of their
 * tickets (admins: always); anyone else gets the 404 of a customer that
 * does not exist.  Editing takes the full right on one of the tickets.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"
#include "tk_addr.h"
#include "tk_customer.h"
#include "tk_tags.h"
#include "tk_tpl.h"


#define NGX_HTTP_TICKET_CU_TICKETS   200        /* listed at most */
#define NGX_HTTP_TICKET_CU_MEMBERS   50

/* ticket fields of a row, in HMGET order */
#define NGX_HTTP_TICKET_CU_FIELDS                                            \
    TK_F_NUMBER " " TK_F_TITLE " " TK_F_GROUP " " TK_F_STATE " " TK_F_UPDATED


typedef struct {
    uint64_t                   id;
    ngx_str_t                  key;             /* tk:{c:ID} */
    tk_customer_t              cu;
    tk_customer_t              posted;
    ngx_flag_t                 post;
    const char                *error;
    ngx_http_ticket_reply_t   *second;          /* rows, pgp, members */
    ngx_uint_t                 nsecond;
    ngx_uint_t                 nrows;
    ngx_flag_t                 can_edit;
    ngx_flag_t                 by_email;        /* ?email=: redirect */
    ngx_http_ticket_reply_t   *third;           /* the others' rows */
    ngx_uint_t                 nthird;
    ngx_str_t                 *members;         /* their ids */
    ngx_uint_t                *counts;          /* customer_vis.c */
    u_char                    *visible;         /* per row of third */
    tk_tpl_customer_t         *tpl;
} ngx_http_ticket_cu_t;


static ngx_int_t ngx_http_ticket_cu_by_email(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_cu_found(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static const char *ngx_http_ticket_cu_form(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_cu_t *cv);
static ngx_int_t ngx_http_ticket_cu_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_cu_rows(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_cu_members(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_cu_owned(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_cu_visible(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_cu_save(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_cu_write(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_cu_saved(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_cu_render(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static void ngx_http_ticket_cu_body(tk_out_t *out, void *data);
static tk_str_t ngx_http_ticket_cu_lower(ngx_http_request_t *r,
    tk_str_t *s);


ngx_int_t
ngx_http_ticket_customer(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    size_t                 n;
    ngx_str_t              rest;
    ngx_http_ticket_cu_t  *cv;

    ctx->page = "customer";

    cv = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_cu_t));
    if (cv == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = cv;

    if (ctx->path.len == sizeof("/customers") - 1) {
        return ngx_http_ticket_cu_by_email(r, ctx);
    }

    rest.data = ctx->path.data + sizeof("/customers/") - 1;
    rest.len = ctx->path.len - (sizeof("/customers/") - 1);

    n = ngx_http_ticket_number(rest.data, rest.data + rest.len, &cv->id);
    if (n == 0 || n != rest.len) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    cv->key.data = ngx_pnalloc(r->pool, TK_KEY_MAX);
    if (cv->key.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cv->key.len = tk_key_customer((char *) cv->key.data, TK_KEY_MAX, cv->id);

    if (r->method == NGX_HTTP_POST) {
        if (ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
            return ngx_http_ticket_csrf_refused(r, ctx);
        }

        cv->post = 1;
        cv->error = ngx_http_ticket_cu_form(r, ctx, cv);
    }

    return ngx_http_ticket_cu_read(r, ctx);
}


/* "?email=ADDR": the id from tk:customer-by-email, then a redirect. */
static ngx_int_t
ngx_http_ticket_cu_by_email(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_str_t    lower;
    ngx_str_t   email;
    tk_cmds_t  *cmds;

    if (ngx_http_ticket_query_arg(r, "email", &email) != NGX_OK
        || email.len == 0 || email.len > TK_ADDR_LEN_MAX)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    lower = ngx_http_ticket_cu_lower(r, ngx_ticket_str(&email));

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL || lower.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGET " TK_KEY_CUSTOMER_BY_EMAIL " %S", &lower);

    return ngx_http_ticket_redis_send(r, ctx, cmds, ngx_http_ticket_cu_found);
}


/*
 * The id is known, but whether the customer exists for this user is
 * decided by their tickets as on the page itself: the redirect comes
 * after that check (ngx_http_ticket_cu_members), else a 303 against a
 * 404 would tell anyone which addresses are customers.
 */
static ngx_int_t
ngx_http_ticket_cu_found(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    long long              id;
    ngx_http_ticket_cu_t  *cv;

    cv = ctx->view;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_STRING
        || (id = tk_str_atoll(ngx_ticket_str(&ctx->replies[0].str))) <= 0)
    {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    cv->id = (uint64_t) id;
    cv->by_email = 1;
    cv->key.data = ngx_pnalloc(r->pool, TK_KEY_MAX);
    if (cv->key.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cv->key.len = tk_key_customer((char *) cv->key.data, TK_KEY_MAX, cv->id);

    return ngx_http_ticket_cu_read(r, ctx);
}


/* The posted fields into cv->posted; the first problem, or NULL. */
static const char *
ngx_http_ticket_cu_form(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_cu_t *cv)
{
    ngx_str_t      v[4];
    tk_customer_t *p;

    p = &cv->posted;

    ngx_http_ticket_form_value(r, ctx, "name", &v[0]);
    ngx_http_ticket_form_value(r, ctx, "email", &v[1]);
    ngx_http_ticket_form_value(r, ctx, "organisation", &v[2]);
    ngx_http_ticket_form_value(r, ctx, "notes", &v[3]);

    ngx_http_ticket_trim(&v[0]);
    ngx_http_ticket_trim(&v[1]);
    ngx_http_ticket_trim(&v[2]);

    p->id = cv->id;
    p->name = *ngx_ticket_str(&v[0]);
    p->email = *ngx_ticket_str(&v[1]);
    p->organisation = *ngx_ticket_str(&v[2]);
    p->notes = *ngx_ticket_str(&v[3]);

    if (p->name.len > 200 || !tk_text_valid(p->name.data, p->name.len)) {
        return ngx_http_ticket_msg(ctx,
                                   TK_MSG_CUSTOMER_THE_NAME_IS_TOO_LONG_OR_HAS);
    }

    if (p->email.len == 0 || p->email.len > TK_ADDR_LEN_MAX
        || !tk_addr_valid(p->email.data, p->email.len))
    {
        return ngx_http_ticket_msg(ctx,
                                   TK_MSG_CUSTOMER_PLEASE_GIVE_A_VALID_EMAIL);
    }

    if (!tk_valid_organisation(&p->organisation)) {
        return
            ngx_http_ticket_msg(ctx,
                                TK_MSG_CUSTOMER_THE_ORGANISATION_AT_MOST_100);
    }

    if (p->notes.len > TK_NOTES_MAX
        || !tk_text_valid_lines(p->notes.data, p->notes.len, 1))
    {
        return
            ngx_http_ticket_msg(ctx,
                                TK_MSG_CUSTOMER_THE_NOTES_ARE_TOO_LONG_OR_NOT);
    }

    return NULL;
}


/* Round 1: the customer and their tickets' numbers. */
static ngx_int_t
ngx_http_ticket_cu_read(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t             *cmds;
    ngx_http_ticket_cu_t  *cv;

    cv = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGETALL %S", ngx_ticket_str(&cv->key));
    tk_cmds_add(cmds, "ZREVRANGE " TK_FMT_CUST_TICKETS " 0 %d",
                (unsigned long long) cv->id, NGX_HTTP_TICKET_CU_TICKETS - 1);

    return ngx_http_ticket_redis_send(r, ctx, cmds, ngx_http_ticket_cu_rows);
}


/* Round 2: every ticket's row, the PGP key, the organisation's ids. */
static ngx_int_t
ngx_http_ticket_cu_rows(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    size_t                    npairs;
    tk_str_t                 *pairs, lower;
    tk_cmds_t                *cmds;
    ngx_uint_t                i;
    ngx_http_ticket_cu_t     *cv;
    ngx_http_ticket_reply_t  *nums;

    cv = ctx->view;

    if (ctx->nreplies < 2) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pairs = ngx_http_ticket_reply_pairs(r, &ctx->replies[0], &npairs);
    if (pairs == NULL || tk_customer_parse(&cv->cu, pairs, npairs) != 0) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    nums = &ctx->replies[1];
    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cv->nrows = 0;

    if (nums->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < nums->nelem; i++) {
            tk_cmds_add(cmds, "HMGET " TK_PFX_TICKET "%S} "
                        NGX_HTTP_TICKET_CU_FIELDS,
                        ngx_ticket_str(&nums->element[i].str));
            cv->nrows++;
        }
    }

    lower = ngx_http_ticket_cu_lower(r, &cv->cu.email);
    if (lower.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGET " TK_KEY_PGP_ADDR " %S", &lower);

    if (cv->cu.organisation.len) {
        tk_cmds_add(cmds, "SRANDMEMBER " TK_FMTS_ORG " %d",
                    &cv->cu.organisation, NGX_HTTP_TICKET_CU_MEMBERS + 1);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_cu_members);
}


/*
 * Rows are in: the rights decide whether the customer is there at all
 * and whether the form is; a POST goes on to the write.  Round 3: the
 * organisation's other customers.
 */
static ngx_int_t
ngx_http_ticket_cu_members(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_int_t                 right;
    tk_cmds_t                *cmds;
    ngx_str_t                *members;
    ngx_uint_t                i, readable;
    ngx_http_ticket_cu_t     *cv;
    ngx_http_ticket_reply_t  *ids;

    cv = ctx->view;
    cv->second = ctx->replies;
    cv->nsecond = ctx->nreplies;
    readable = 0;

    if (cv->nsecond < cv->nrows + 1) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < cv->nrows; i++) {
        if (cv->second[i].type != REDIS_REPLY_ARRAY
            || cv->second[i].nelem != 5)
        {
            continue;
        }

        right = ngx_http_ticket_right(ctx, &cv->second[i].element[2].str);
        readable += (right != TK_RIGHT_NONE);
        cv->can_edit |= (right == TK_RIGHT_FULL);
    }

    if (ctx->user.admin) {
        cv->can_edit = 1;

    } else if (readable == 0) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (cv->by_email) {
        u_char  *p, *last;

        p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 16);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        last = ngx_sprintf(p, "customers/%uL", cv->id);
        return ngx_http_ticket_redirect(r, (char *) p, last - p);
    }

    /* the right before the form's errors: read only is a 403 always */
    if (cv->post && !cv->can_edit) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_FORBIDDEN,
                                 ngx_http_ticket_msg(ctx,
                                     TK_MSG_CUSTOMER_YOU_HAVE_READ_ACCESS_TO_THIS));
    }

    if (cv->post && cv->error == NULL) {
        return ngx_http_ticket_cu_save(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ids = cv->cu.organisation.len && cv->nsecond > cv->nrows + 1
          ? &cv->second[cv->nrows + 1] : NULL;

    if (ids && ids->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < ids->nelem; i++) {
            tk_cmds_add(cmds, "HMGET " TK_PFX_CUSTOMER "%S} " TK_F_ID " "
                        TK_F_NAME " " TK_F_EMAIL,
                        ngx_ticket_str(&ids->element[i].str));
        }

        cv->nthird = ids->nelem;
        members = ngx_palloc(r->pool, (ids->nelem + 1) * sizeof(ngx_str_t));
        if (members == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        for (i = 0; i < ids->nelem; i++) {
            members[i] = ids->element[i].str;
        }

        /* and their tickets: an other one is named only if their own
         * page is there for this user (customer_vis.c) */
        ngx_http_ticket_cust_vis_tickets(cmds, members, ids->nelem);
        cv->members = members;
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cmds->n == 0) {
        ctx->replies = NULL;
        ctx->nreplies = 0;
        return ngx_http_ticket_cu_render(r, ctx);
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds, ngx_http_ticket_cu_owned);
}


/* Round 4: the groups of the others' tickets. */
static ngx_int_t
ngx_http_ticket_cu_owned(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t             *cmds;
    ngx_http_ticket_cu_t  *cv;

    cv = ctx->view;

    if (ctx->nreplies != 2 * cv->nthird) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cv->third = ctx->replies;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL
        || ngx_http_ticket_cust_vis_groups(r, ctx, cmds,
                                           ctx->replies + cv->nthird,
                                           cv->nthird, cv->members,
                                           cv->nthird, &cv->counts)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cmds->n == 0) {
        ctx->replies = NULL;
        ctx->nreplies = 0;
        return ngx_http_ticket_cu_visible(r, ctx);
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_cu_visible);
}


static ngx_int_t
ngx_http_ticket_cu_visible(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_cu_t  *cv;

    cv = ctx->view;

    cv->visible = ngx_pnalloc(r->pool, cv->nthird + 1);
    if (cv->visible == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_ticket_cust_vis_decide(ctx, ctx->replies, ctx->nreplies,
                                    cv->counts, cv->nthird, cv->visible);

    return ngx_http_ticket_cu_render(r, ctx);
}


/* WATCH the customer and the address index; the address not taken. */
static ngx_int_t
ngx_http_ticket_cu_save(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_str_t               lower;
    tk_cmds_t             *cmds;
    ngx_str_t             *keys;
    ngx_http_ticket_cu_t  *cv;

    cv = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    keys = ngx_palloc(r->pool, 2 * sizeof(ngx_str_t));
    lower = ngx_http_ticket_cu_lower(r, &cv->posted.email);
    if (cmds == NULL || keys == NULL || lower.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    keys[0] = cv->key;
    ngx_str_set(&keys[1], TK_KEY_CUSTOMER_BY_EMAIL);

    tk_cmds_add(cmds, "HGETALL %S", ngx_ticket_str(&cv->key));
    tk_cmds_add(cmds, "HGET " TK_KEY_CUSTOMER_BY_EMAIL " %S", &lower);

    return ngx_http_ticket_tx_begin(r, ctx, keys, 2, cmds,
                                    ngx_http_ticket_cu_write);
}


static ngx_int_t
ngx_http_ticket_cu_write(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    size_t                 npairs;
    tk_str_t              *pairs;
    long long              owner;
    tk_cmds_t             *cmds;
    tk_customer_t          old;
    ngx_http_ticket_cu_t  *cv;

    cv = ctx->view;

    pairs = ctx->nreplies == 2
            ? ngx_http_ticket_reply_pairs(r, &ctx->replies[0], &npairs) : NULL;

    if (pairs == NULL || tk_customer_parse(&old, pairs, npairs) != 0) {
        ngx_http_ticket_tx_abort(r, ctx);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    owner = ctx->replies[1].type == REDIS_REPLY_STRING
            ? tk_str_atoll(ngx_ticket_str(&ctx->replies[1].str)) : 0;

    if (owner > 0 && (uint64_t) owner != cv->id) {
        ngx_http_ticket_tx_abort(r, ctx);
        cv->error =
            ngx_http_ticket_msg(ctx, TK_MSG_CUSTOMER_THIS_ADDRESS_BELONGS_TO);
        return ngx_http_ticket_cu_read(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_customer_update(cmds, &old, &cv->posted);

    return ngx_http_ticket_tx_commit(r, ctx, cmds, ngx_http_ticket_cu_saved);
}


static ngx_int_t
ngx_http_ticket_cu_saved(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                *p, *last;
    ngx_http_ticket_cu_t  *cv;

    cv = ctx->view;

    if (ctx->tx_conflict) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_CONFLICT,
                                     ngx_http_ticket_msg(ctx,
                                         TK_MSG_CUSTOMER_CHANGED_BY_OTHERS_JUST_NOW));
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 24);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = ngx_sprintf(p, "customers/%uL?saved=1", cv->id);

    return ngx_http_ticket_redirect(r, (char *) p, last - p);
}


static ngx_int_t
ngx_http_ticket_cu_render(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    u_char                   *p;
    ngx_str_t                 title, arg, fpr;
    ngx_uint_t                i, n;
    long long                 v;
    tk_tpl_customer_t        *tpl;
    ngx_http_ticket_cu_t     *cv;
    ngx_http_ticket_reply_t  *row, *pgp;

    cv = ctx->view;

    tpl = ngx_pcalloc(r->pool, sizeof(tk_tpl_customer_t));
    if (tpl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tpl->de = ngx_http_ticket_lang_de(ctx);
    tpl->name = cv->cu.name;
    tpl->email = cv->cu.email;
    tpl->organisation = cv->cu.organisation;
    tpl->notes = cv->cu.notes;
    tpl->can_edit = cv->can_edit;
    tpl->csrf = *ngx_ticket_str(&ctx->csrf);
    tpl->saved = ngx_http_ticket_query_arg(r, "saved", &arg) == NGX_OK;

    if (cv->error) {
        ngx_http_ticket_cstr(&tpl->error, cv->error);
    }

    /* the form: as posted after a refusal, else as stored */
    tpl->f_name = cv->error ? cv->posted.name : cv->cu.name;
    tpl->f_email = cv->error ? cv->posted.email : cv->cu.email;
    tpl->f_organisation = cv->error ? cv->posted.organisation
                                    : cv->cu.organisation;
    tpl->f_notes = cv->error ? cv->posted.notes : cv->cu.notes;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 16);
    if (p == NULL
        || ngx_http_ticket_url(r, (char *) p,
                               ngx_sprintf(p, "customers/%uL", cv->id) - p,
                               &tpl->action) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* "FINGERPRINT EXPIRES" (SCHEMA.md "PGP keys") */
    pgp = &cv->second[cv->nrows];
    ngx_http_ticket_cstr(&tpl->pgp_state, "none");

    if (pgp->type == REDIS_REPLY_STRING && pgp->str.len) {
        fpr = pgp->str;
        p = ngx_strlchr(fpr.data, fpr.data + fpr.len, ' ');
        v = 0;

        if (p) {
            tk_str_t  exp;

            exp.data = p + 1;
            exp.len = (size_t) (fpr.data + fpr.len - exp.data);
            v = tk_str_atoll(&exp);
            fpr.len = (size_t) (p - fpr.data);
        }

        if (v == 0 || v > (long long) ngx_time()) {
            tpl->pgp_fpr = *ngx_ticket_str(&fpr);
            ngx_http_ticket_cstr(&tpl->pgp_state, "key");

            if (v > 0
                && ngx_http_ticket_time_str(r, v, &tpl->pgp_expires)
                   != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }

    tpl->tickets = ngx_pcalloc(r->pool,
                               (cv->nrows + 1) * sizeof(*tpl->tickets));
    if (tpl->tickets == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0, n = 0; i < cv->nrows; i++) {
        row = &cv->second[i];

        if (row->type != REDIS_REPLY_ARRAY || row->nelem != 5
            || row->element[0].type != REDIS_REPLY_STRING
            || ngx_http_ticket_right(ctx, &row->element[2].str)
               == TK_RIGHT_NONE)
        {
            continue;
        }

        tpl->tickets[n].number = *ngx_ticket_str(&row->element[0].str);
        tpl->tickets[n].title = *ngx_ticket_str(&row->element[1].str);
        tpl->tickets[n].group = *ngx_ticket_str(&row->element[2].str);
        tpl->tickets[n].state_id = *ngx_ticket_str(&row->element[3].str);
        ngx_http_ticket_state_label(ctx,
            tk_state_parse((const char *) row->element[3].str.data,
                           row->element[3].str.len),
            &tpl->tickets[n].state);

        v = tk_str_atoll(ngx_ticket_str(&row->element[4].str));
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 4);

        if (p == NULL
            || ngx_http_ticket_time_str(r, v > 0 ? v : 0,
                                        &tpl->tickets[n].updated) != NGX_OK
            || ngx_http_ticket_url(r, (char *) p,
                       ngx_sprintf(p, "t/%V", &row->element[0].str) - p,
                       &tpl->tickets[n].url) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        n++;
    }

    tpl->tickets_n = n;

    /* the organisation's others (round 3), this one left out */
    tpl->members = ngx_pcalloc(r->pool,
                               (cv->nthird + 1) * sizeof(*tpl->members));
    if (tpl->members == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0, n = 0;
         cv->third && i < cv->nthird && n < NGX_HTTP_TICKET_CU_MEMBERS; i++)
    {
        row = &cv->third[i];

        if (cv->visible == NULL || !cv->visible[i]
            || row->type != REDIS_REPLY_ARRAY || row->nelem != 3
            || row->element[0].type != REDIS_REPLY_STRING
            || (uint64_t) tk_str_atoll(ngx_ticket_str(&row->element[0].str))
               == cv->id)
        {
            continue;
        }

        tpl->members[n].email = *ngx_ticket_str(&row->element[2].str);
        tpl->members[n].name = row->element[1].str.len
                               ? *ngx_ticket_str(&row->element[1].str)
                               : tpl->members[n].email;
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 16);

        if (p == NULL
            || ngx_http_ticket_url(r, (char *) p,
                       ngx_sprintf(p, "customers/%V", &row->element[0].str)
                       - p, &tpl->members[n].url) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        n++;
    }

    tpl->members_n = n;
    cv->tpl = tpl;

    title.data = cv->cu.name.len ? cv->cu.name.data : cv->cu.email.data;
    title.len = cv->cu.name.len ? cv->cu.name.len : cv->cu.email.len;

    return ngx_http_ticket_page(r, ctx, cv->error ? 422 : NGX_HTTP_OK, &title,
                                ngx_http_ticket_cu_body, tpl);
}


static void
ngx_http_ticket_cu_body(tk_out_t *out, void *data)
{
    tk_tpl_customer(out, data);
}


/* ASCII lower case into the pool (the address index's form). */
static tk_str_t
ngx_http_ticket_cu_lower(ngx_http_request_t *r, tk_str_t *s)
{
    tk_str_t  out;

    out.len = s->len;
    out.data = ngx_pnalloc(r->pool, s->len ? s->len : 1);

    if (out.data) {
        ngx_strlow(out.data, s->data, s->len);
    }

    return out;
}
