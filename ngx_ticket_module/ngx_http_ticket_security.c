/*
 * ngx_http_ticket_security.c -- what the composer knows before a mail
 * goes out: every article's addresses and flags in one SORT, the
 * recipients checked (no CR/LF, valid addresses), and the security line
 * ("encrypted to all recipients", "signed only", "NOT encrypted: no key
 * for x@y") from the key metadata mailbridge keeps in Redis -- no gpg
 * in a worker.  The page shows it, the POST decides by it again, and
 * GET /t/N/security?to=&cc=&bcc= gives it to the page's script (and
 * GET /new/security?group=G&... to the new outbound ticket's).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_compose.h"


typedef struct {
    uint64_t                   number;
    ngx_http_ticket_compose_t  c;
    ngx_flag_t                 encrypted;
    ngx_flag_t                 has_keys;
} ngx_http_ticket_security_req_t;


static ngx_int_t ngx_http_ticket_security_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_security_group(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *group);
static ngx_int_t ngx_http_ticket_security_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_rcpt_field(ngx_http_ticket_compose_t *c,
    ngx_str_t *list, ngx_uint_t *n, const char **err, ngx_uint_t lang);


/* ---- every article in one command ------------------------------------- */

void
ngx_http_ticket_compose_sort(tk_cmds_t *cmds, uint64_t number)
{
    unsigned long long  n = number;

    tk_cmds_add(cmds, "SORT " TK_FMT_TICKET_ARTS " BY nosort GET #"
        " GET " TK_FMT_ARTICLE_GET TK_F_KIND, n, n);
}


void
ngx_http_ticket_compose_flags(tk_cmds_t *cmds, uint64_t number)
{
    tk_cmds_add(cmds, "SORT " TK_FMT_TICKET_ARTS " BY nosort"
        " GET " TK_FMT_ARTICLE_GET TK_F_FLAGS,
        (unsigned long long) number, (unsigned long long) number);
}


ngx_flag_t
ngx_http_ticket_compose_encrypted(ngx_http_ticket_reply_t *rep)
{
    ngx_uint_t  i;

    for (i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->nelem; i++) {
        if (rep->element[i].type == REDIS_REPLY_STRING
            && tk_flags_has(ngx_ticket_str(&rep->element[i].str),
                            TK_FLAG_ENCRYPTED))
        {
            return 1;
        }
    }

    return 0;
}


void
ngx_http_ticket_compose_art_read(tk_cmds_t *cmds, uint64_t number,
    uint64_t id)
{
    tk_cmds_add(cmds, "HMGET " TK_FMT_ARTICLE " " TK_F_KIND " " TK_F_FROM
        " " TK_F_REPLY_TO " " TK_F_TO " " TK_F_CC " " TK_F_LIST_ID " "
        TK_F_MESSAGE_ID " " TK_F_REFERENCES " " TK_F_IN_REPLY_TO " "
        TK_F_ATTACHMENTS " " TK_F_ATTACHMENT_NAMES " " TK_F_BODY " "
        TK_F_TIME " " TK_F_SUBJECT " " TK_F_FLAGS " " TK_F_AUTHOR,
        (unsigned long long) number, (unsigned long long) id);
}


ngx_int_t
ngx_http_ticket_compose_art(ngx_http_ticket_reply_t *rep, uint64_t id,
    ngx_http_ticket_cs_art_t *a)
{
    long long                 v;
    ngx_http_ticket_reply_t  *e;

    ngx_memzero(a, sizeof(ngx_http_ticket_cs_art_t));

    if (rep->type != REDIS_REPLY_ARRAY
        || rep->nelem != NGX_HTTP_TICKET_CA_NFIELDS)
    {
        return NGX_DECLINED;
    }

    e = rep->element;

    a->id = id;
    a->kind = tk_article_kind_parse((char *) e[0].str.data, e[0].str.len);
    ngx_http_ticket_reply_str(&e[1], &a->from);
    ngx_http_ticket_reply_str(&e[2], &a->reply_to);
    ngx_http_ticket_reply_str(&e[3], &a->to);
    ngx_http_ticket_reply_str(&e[4], &a->cc);
    ngx_http_ticket_reply_str(&e[5], &a->list_id);
    ngx_http_ticket_reply_str(&e[6], &a->message_id);
    ngx_http_ticket_reply_str(&e[7], &a->references);
    ngx_http_ticket_reply_str(&e[8], &a->in_reply_to);
    v = tk_str_atoll(ngx_ticket_str(&e[9].str));
    a->attachments = v > 0 ? (ngx_uint_t) v : 0;
    ngx_http_ticket_reply_str(&e[10], &a->attachment_names);
    ngx_http_ticket_reply_str(&e[11], &a->body);
    v = tk_str_atoll(ngx_ticket_str(&e[12].str));
    a->time = v > 0 ? v : 0;
    ngx_http_ticket_reply_str(&e[13], &a->subject);
    ngx_http_ticket_reply_str(&e[14], &a->flags);
    ngx_http_ticket_reply_str(&e[15], &a->author);

    return a->kind ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_http_ticket_compose_sorted(ngx_http_request_t *r,
    ngx_http_ticket_reply_t *rep, ngx_http_ticket_cs_art_t **arts,
    ngx_uint_t *n)
{
    long long                  id;
    ngx_uint_t                 i, k;
    ngx_http_ticket_reply_t   *e;
    ngx_http_ticket_cs_art_t  *a;

    *n = 0;

    if (rep->type != REDIS_REPLY_ARRAY
        || rep->nelem % NGX_HTTP_TICKET_CS_NFIELDS)
    {
        return NGX_ERROR;
    }

    a = ngx_pcalloc(r->pool, (rep->nelem / NGX_HTTP_TICKET_CS_NFIELDS + 1)
                             * sizeof(ngx_http_ticket_cs_art_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    *arts = a;
    k = 0;

    for (i = 0; i < rep->nelem; i += NGX_HTTP_TICKET_CS_NFIELDS) {
        e = &rep->element[i];

        id = tk_str_atoll(ngx_ticket_str(&e[0].str));
        if (id <= 0) {
            continue;
        }

        a[k].id = (uint64_t) id;
        a[k].kind = tk_article_kind_parse((char *) e[1].str.data,
                                          e[1].str.len);

        /* an id whose hash is gone has no kind: left out */
        if (a[k].kind) {
            k++;
        }
    }

    *n = k;

    return NGX_OK;
}


/* ---- recipients ------------------------------------------------------- */

/*
 * Every field on its own, so the message stands next to the field that
 * is wrong; CR/LF is named as what it is.
 */
ngx_int_t
ngx_http_ticket_compose_rcpt(ngx_http_ticket_compose_t *c, ngx_uint_t lang)
{
    ngx_int_t  rc;

    c->nto = c->ncc = c->nbcc = 0;

    rc = ngx_http_ticket_rcpt_field(c, &c->to, &c->nto, &c->err_to, lang);
    rc |= ngx_http_ticket_rcpt_field(c, &c->cc, &c->ncc, &c->err_cc, lang);
    rc |= ngx_http_ticket_rcpt_field(c, &c->bcc, &c->nbcc, &c->err_bcc, lang);

    return rc ? NGX_DECLINED : NGX_OK;
}


static ngx_int_t
ngx_http_ticket_rcpt_field(ngx_http_ticket_compose_t *c, ngx_str_t *list,
    ngx_uint_t *n, const char **err, ngx_uint_t lang)
{
    int        got;
    tk_str_t   bad;
    tk_addr_t *at;

    at = &c->rcpt[c->nto + c->ncc + c->nbcc];

    got = tk_addr_parse(ngx_ticket_str(list), at, TK_ADDR_MAX, &bad);

    switch (got) {

    case TK_ADDR_E_CTRL:
        *err = tk_msg((int) lang, TK_MSG_SECURITY_LINE_BREAKS_AND_CONTROL);
        return 1;

    case TK_ADDR_E_MANY:
        *err = tk_msg((int) lang, TK_MSG_SECURITY_TOO_MANY_ADDRESSES_AT_MOST);
        return 1;

    case TK_ADDR_E_SYNTAX:
        *err = tk_msg((int) lang, TK_MSG_SECURITY_THAT_IS_NOT_A_VALID_EMAIL);
        return 1;
    }

    *n = (ngx_uint_t) got;

    return 0;
}


/* ---- keys and the decision -------------------------------------------- */

ngx_uint_t
ngx_http_ticket_compose_keys(ngx_http_request_t *r, tk_cmds_t *cmds,
    tk_addr_t *rcpt, ngx_uint_t n)
{
    u_char      *p;
    tk_str_t    *argv;
    ngx_uint_t   i;

    if (n == 0) {
        return 0;
    }

    argv = ngx_palloc(r->pool, (n + 2) * sizeof(tk_str_t));
    if (argv == NULL) {
        cmds->failed = 1;
        return 0;
    }

    tk_str_set(&argv[0], "HMGET");
    tk_str_set(&argv[1], TK_KEY_PGP_ADDR);

    for (i = 0; i < n; i++) {
        p = ngx_pnalloc(r->pool, rcpt[i].addr.len + 1);
        if (p == NULL) {
            cmds->failed = 1;
            return 0;
        }

        tk_addr_lower(p, &rcpt[i].addr);
        argv[i + 2].data = p;
        argv[i + 2].len = rcpt[i].addr.len;
    }

    tk_cmds_argv(cmds, (int) n + 2, argv);

    return 1;
}


/*
 * Encrypted only when every recipient has a usable key ("FPR EXPIRES",
 * EXPIRES 0 = never); signed when the group has a signing key.  keys
 * NULL: none were asked for (no recipients).
 */
void
ngx_http_ticket_security(ngx_http_ticket_security_t *sec, tk_addr_t *rcpt,
    ngx_uint_t n, ngx_http_ticket_reply_t *keys,
    ngx_http_ticket_reply_t *group, ngx_flag_t customer_encrypted)
{
    u_char      *sp;
    ngx_str_t   *v, sign;
    ngx_uint_t   i;
    long long    expires;
    tk_str_t     rest;

    ngx_memzero(sec, sizeof(ngx_http_ticket_security_t));

    sec->recipients = n;

    for (i = 0; i < n; i++) {
        v = (keys && keys->type == REDIS_REPLY_ARRAY && i < keys->nelem
             && keys->element[i].type == REDIS_REPLY_STRING)
            ? &keys->element[i].str : NULL;

        if (v && v->len) {
            sp = ngx_strlchr(v->data, v->data + v->len, ' ');
            expires = 0;

            if (sp) {
                rest.data = sp + 1;
                rest.len = v->data + v->len - sp - 1;
                expires = tk_str_atoll(&rest);
            }

            if (sp && expires >= 0 && (expires == 0 || expires > ngx_time()))
            {
                continue;
            }
        }

        if (sec->missing++ == 0) {
            sec->first_missing = *(ngx_str_t *) &rcpt[i].addr;
        }
    }

    sec->encrypt = (n > 0 && sec->missing == 0);

    ngx_http_ticket_reply_value(group, TK_F_PGP_SIGN, &sign);
    sec->sign = sign.len ? 1 : 0;

    sec->customer_encrypted = customer_encrypted ? 1 : 0;
}


void
ngx_http_ticket_security_crypt(ngx_http_ticket_security_t *sec,
    tk_str_t *crypt)
{
    if (sec->encrypt && sec->sign) {
        tk_str_set(crypt, "encrypt,sign");
    } else if (sec->encrypt) {
        tk_str_set(crypt, "encrypt");
    } else if (sec->sign) {
        tk_str_set(crypt, "sign");
    } else {
        tk_str_set(crypt, "");
    }
}


ngx_int_t
ngx_http_ticket_security_text(ngx_http_request_t *r, ngx_uint_t lang,
    ngx_http_ticket_security_t *sec, tk_str_t *text, const char **kind)
{
    u_char      *p;
    const char  *head;

    if (sec->encrypt) {
        *kind = "encrypted";
        ngx_http_ticket_cstr(text, sec->sign
            ? (tk_msg((int) lang, TK_MSG_SECURITY_ENCRYPTED_TO_ALL_RECIPIENTS))
            : (tk_msg((int) lang, TK_MSG_SECURITY_ENCRYPTED_TO_ALL_RECIPIENTS_2)));
        return NGX_OK;
    }

    *kind = sec->sign ? "signed" : "plain";

    if (sec->recipients == 0) {
        ngx_http_ticket_cstr(text, sec->sign
            ? (tk_msg((int) lang, TK_MSG_SECURITY_SIGNED_ONLY_NO_RECIPIENTS_YET))
            : (tk_msg((int) lang, TK_MSG_SECURITY_NOT_ENCRYPTED_NO_RECIPIENTS)));
        return NGX_OK;
    }

    head = sec->sign
           ? (tk_msg((int) lang, TK_MSG_SECURITY_SIGNED_ONLY_NOT_ENCRYPTED_NO))
           : (tk_msg((int) lang, TK_MSG_SECURITY_NOT_ENCRYPTED_NO_KEY_FOR));

    p = ngx_pnalloc(r->pool, ngx_strlen(head) + sec->first_missing.len
                             + NGX_INT_T_LEN + 32);
    if (p == NULL) {
        return NGX_ERROR;
    }

    text->data = p;

    if (sec->missing > 1) {
        p = ngx_sprintf(p, "%s%V %s %ui %s", head, &sec->first_missing,
                        tk_msg((int) lang, TK_MSG_SECURITY_AND), sec->missing - 1,
                        tk_msg((int) lang, TK_MSG_SECURITY_MORE));
    } else {
        p = ngx_sprintf(p, "%s%V.", head, &sec->first_missing);
    }

    text->len = p - text->data;

    return NGX_OK;
}


/* ---- GET /t/N/security ------------------------------------------------ */

/*
 * For the composer's script: the line for the recipients as typed.  The
 * composer's rights (none: 404, read only: 403), JSON answers.
 */
ngx_int_t
ngx_http_ticket_compose_security_json(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number)
{
    ngx_str_t                        key;
    tk_cmds_t                       *cmds;
    ngx_http_ticket_security_req_t  *sr;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_ALLOWED, NULL);
    }

    sr = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_security_req_t));
    cmds = ngx_http_ticket_cmds(r);
    if (sr == NULL || cmds == NULL
        || (number && ngx_http_ticket_ticket_key(r, number, &key) != NGX_OK))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sr->number = number;
    ctx->view = sr;

    if (ngx_http_ticket_query_arg(r, "to", &sr->c.to) != NGX_OK) {
        ngx_str_set(&sr->c.to, "");
    }

    if (ngx_http_ticket_query_arg(r, "cc", &sr->c.cc) != NGX_OK) {
        ngx_str_set(&sr->c.cc, "");
    }

    if (ngx_http_ticket_query_arg(r, "bcc", &sr->c.bcc) != NGX_OK) {
        ngx_str_set(&sr->c.bcc, "");
    }

    /* no ticket yet (GET /new/security?group=G&to=...): the group is
     * named, the right is known without a read, nobody wrote encrypted */
    if (number == 0) {
        ngx_str_t  group;

        if (ngx_http_ticket_query_arg(r, "group", &group) != NGX_OK
            || !tk_valid_group(ngx_ticket_str(&group))
            || ngx_http_ticket_right(ctx, &group) != TK_RIGHT_FULL)
        {
            return ngx_http_ticket_compose_json_error(r, NGX_HTTP_NOT_FOUND,
                                                      "group", "not found");
        }

        return ngx_http_ticket_security_group(r, ctx, &group);
    }

    tk_cmds_add(cmds, "HGETALL %S", ngx_ticket_str(&key));
    ngx_http_ticket_compose_flags(cmds, number);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_security_read);
}


static ngx_int_t
ngx_http_ticket_security_read(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_ticket_t                      t;
    ngx_http_ticket_security_req_t  *sr;

    sr = ctx->view;

    if (ctx->nreplies != 2
        || ngx_http_ticket_ticket_parse(r, &ctx->replies[0], &t) != NGX_OK
        || ngx_http_ticket_right(ctx, (ngx_str_t *) &t.group)
           == TK_RIGHT_NONE)
    {
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                               "not found");
    }

    /* whose keys exist is for those who may write here */
    if (ngx_http_ticket_right(ctx, (ngx_str_t *) &t.group) != TK_RIGHT_FULL) {
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_FORBIDDEN, NULL,
                                                  "read access only");
    }

    sr->encrypted = ngx_http_ticket_compose_encrypted(&ctx->replies[1]);

    return ngx_http_ticket_security_group(r, ctx, (ngx_str_t *) &t.group);
}


/* The recipients checked, then the group (signing) and their keys. */
static ngx_int_t
ngx_http_ticket_security_group(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *group)
{
    char                             gkey[TK_KEY_MAX];
    tk_cmds_t                       *cmds;
    ngx_http_ticket_security_req_t  *sr;

    sr = ctx->view;

    if (ngx_http_ticket_compose_rcpt(&sr->c, ngx_http_ticket_lang(ctx))
        != NGX_OK)
    {
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_BAD_REQUEST,
                   sr->c.err_to ? "to" : sr->c.err_cc ? "cc" : "bcc",
                   sr->c.err_to ? sr->c.err_to
                   : sr->c.err_cc ? sr->c.err_cc : sr->c.err_bcc);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL
        || tk_key_group(gkey, sizeof(gkey), ngx_ticket_str(group)) == 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGETALL %s", gkey);
    sr->has_keys = ngx_http_ticket_compose_keys(r, cmds, sr->c.rcpt,
                                     sr->c.nto + sr->c.ncc + sr->c.nbcc);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_security_send);
}


static ngx_int_t
ngx_http_ticket_security_send(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_out_t                         out;
    tk_str_t                         text, crypt;
    ngx_uint_t                       n;
    const char                      *kind;
    ngx_http_ticket_security_t       sec;
    ngx_http_ticket_security_req_t  *sr;

    sr = ctx->view;
    n = sr->c.nto + sr->c.ncc + sr->c.nbcc;

    if (ctx->nreplies < 1) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_ticket_security(&sec, sr->c.rcpt, n,
                             sr->has_keys && ctx->nreplies > 1
                             ? &ctx->replies[1] : NULL,
                             &ctx->replies[0], sr->encrypted);
    ngx_http_ticket_security_crypt(&sec, &crypt);

    if (ngx_http_ticket_security_text(r, ngx_http_ticket_lang(ctx), &sec,
                                      &text, &kind)
            != NGX_OK
        || ngx_http_ticket_out_init(r, &out) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_out_cstr(&out, "{\"crypt\":");
    tk_out_json(&out, crypt.data, crypt.len);
    tk_out_cstr(&out, ",\"kind\":");
    tk_out_json(&out, kind, ngx_strlen(kind));
    tk_out_cstr(&out, ",\"text\":");
    tk_out_json(&out, text.data, text.len);
    tk_out_cstr(&out, ",\"recipients\":");
    tk_out_uint(&out, n);
    tk_out_cstr(&out, ",\"confirm\":");
    tk_out_cstr(&out, (sec.customer_encrypted && !sec.encrypt)
                      ? "true" : "false");
    tk_out_cstr(&out, "}\n");

    return ngx_http_ticket_json(r, &out, NGX_HTTP_OK);
}


/* {"error":"...","field":"to"}: the API and the script learn which field */
ngx_int_t
ngx_http_ticket_compose_json_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *field, const char *message)
{
    tk_out_t  out;

    if (ngx_http_ticket_out_init(r, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_out_cstr(&out, "{\"error\":");
    tk_out_json(&out, message, ngx_strlen(message));

    if (field) {
        tk_out_cstr(&out, ",\"field\":");
        tk_out_json(&out, field, ngx_strlen(field));
    }

    tk_out_cstr(&out, "}\n");

    return ngx_http_ticket_json(r, &out, status);
}
