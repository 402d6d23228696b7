/*
 * ngx_http_ticket_reply_article.c -- the article a reply or note
 * becomes, as the contract in BRIEF.md and SCHEMA.md "Outbox" has it:
 * what the sender (mailbridge) reads to build the mail.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ticket_reply.h"
#include "tk_multipart.h"


#define NGX_HTTP_TICKET_MSGID_BYTES    12      /* random part, 96 bits */
#define NGX_HTTP_TICKET_TYPE_MAX       100


static ngx_int_t ngx_http_ticket_reply_addrs(ngx_http_request_t *r,
    tk_addr_t *a, ngx_uint_t n, tk_str_t *out);
static void ngx_http_ticket_reply_type(tk_str_t *type);


/*
 * The article as the contract in BRIEF.md has it: From from the group,
 * the subject with its tag, a Message-ID of random bytes + ticket +
 * article at the group's domain, In-Reply-To/References of the mail
 * answered, the text with the group's signature.
 */
ngx_int_t
ngx_http_ticket_reply_article(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_reply_req_t *rq,
    tk_article_t *a, ngx_http_ticket_cs_art_t *target,
    ngx_http_ticket_reply_t *group)
{
    u_char                      *p, *at, tag[64];
    size_t                       tlen, i;
    ngx_str_t                    email, name, sig, rnd, *prev;
    ngx_flag_t                   tagged;
    tk_addr_t                    from;
    ngx_http_ticket_compose_t   *c;
    ngx_http_ticket_loc_conf_t  *lcf;

    c = rq->c;
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ticket_module);

    ngx_memzero(a, sizeof(tk_article_t));

    a->id = rq->id;
    a->ticket = rq->number;
    a->kind = c->note ? TK_ART_NOTE : TK_ART_OUT;
    a->author = *ngx_ticket_str(&ctx->user.login);
    a->time = (int64_t) ngx_time();
    a->subject = *ngx_ticket_str(&c->subject);
    a->body = *ngx_ticket_str(&c->body);

    if (c->note) {
        return NGX_OK;
    }

    ngx_http_ticket_reply_value(group, TK_F_EMAIL, &email);
    /* the sender name admins give the group, else the group's name */
    ngx_http_ticket_reply_value(group, TK_F_DISPLAY_NAME, &name);
    if (name.len == 0) {
        ngx_http_ticket_reply_value(group, TK_F_NAME, &name);
    }
    ngx_http_ticket_reply_value(group, TK_F_SIGNATURE, &sig);

    at = ngx_strlchr(email.data, email.data + email.len, '@');

    if (!tk_addr_valid(email.data, email.len) || at == NULL
        || tk_has_ctrl(ngx_ticket_str(&name)))
    {
        c->err =
            ngx_http_ticket_msg(ctx,
                TK_MSG_REPLY_ARTICLE_THIS_GROUP_HAS_NO_VALID_EMAIL);
        return NGX_ERROR;
    }

    /* From: "Group" <group@domain> */
    from.name = *ngx_ticket_str(name.len ? &name : &rq->group);
    from.addr = *ngx_ticket_str(&email);
    from.name_quoted = 0;

    if (ngx_http_ticket_reply_addrs(r, &from, 1, &a->from) != NGX_OK
        || ngx_http_ticket_reply_addrs(r, c->rcpt, c->nto, &a->to) != NGX_OK
        || ngx_http_ticket_reply_addrs(r, c->rcpt + c->nto, c->ncc, &a->cc)
           != NGX_OK
        || ngx_http_ticket_reply_addrs(r, c->rcpt + c->nto + c->ncc, c->nbcc,
                                       &a->bcc)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* "[Ticket#42] " in front, unless it is in the subject already */
    tlen = ngx_snprintf(tag, sizeof(tag), "[%V%uL]", &lcf->subject_tag,
                        rq->number) - tag;
    tagged = 0;

    for (i = 0; i + tlen <= c->subject.len; i++) {
        if (ngx_strncasecmp(c->subject.data + i, tag, tlen) == 0) {
            tagged = 1;
            break;
        }
    }

    if (!tagged) {
        p = ngx_pnalloc(r->pool, tlen + 1 + c->subject.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        a->subject.data = p;
        a->subject.len = ngx_sprintf(p, "%*s %V", tlen, tag, &c->subject) - p;
    }

    /* Message-ID: unguessable, ours, at the group's domain */
    if (ngx_http_ticket_random_hex(r, NGX_HTTP_TICKET_MSGID_BYTES, &rnd)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, 2 * NGX_INT64_LEN + rnd.len
                             + (email.data + email.len - at) + 8);
    if (p == NULL) {
        return NGX_ERROR;
    }

    a->message_id.data = p;
    a->message_id.len = ngx_sprintf(p, "tk.%uL.%uL.%V%*s", rq->number, rq->id,
                                    &rnd, (size_t) (email.data + email.len
                                                    - at), at) - p;
    rq->message_id = *(ngx_str_t *) &a->message_id;

    if (c->forward && target) {
        a->attachments = (unsigned) target->attachments;
        a->attachment_names = *ngx_ticket_str(&target->attachment_names);

    } else if (target && target->message_id.len) {
        a->in_reply_to = *ngx_ticket_str(&target->message_id);

        prev = target->references.len ? &target->references
                                      : &target->in_reply_to;

        p = ngx_pnalloc(r->pool, prev->len + 1 + target->message_id.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        a->references.data = p;
        a->references.len = (prev->len
                             ? ngx_sprintf(p, "%V %V", prev,
                                           &target->message_id)
                             : ngx_sprintf(p, "%V", &target->message_id))
                            - p;
    }

    if (sig.len) {
        p = ngx_pnalloc(r->pool, c->body.len + sig.len + 8);
        if (p == NULL) {
            return NGX_ERROR;
        }

        /* "-- " on a line of its own: mail programs know it */
        while (c->body.len && (c->body.data[c->body.len - 1] == '\n'
                               || c->body.data[c->body.len - 1] == ' '))
        {
            c->body.len--;
        }

        a->body.data = p;

        /* a signature written with its own separator keeps it alone */
        if (sig.len >= 4 && ngx_strncmp(sig.data, "-- \n", 4) == 0) {
            a->body.len = ngx_sprintf(p, "%V\n\n%V\n", &c->body, &sig) - p;

        } else {
            a->body.len = ngx_sprintf(p, "%V\n\n-- \n%V\n", &c->body, &sig)
                          - p;
        }
    }

    a->crypt = rq->crypt;

    return NGX_OK;
}


/* An address list in its one written form (tk_addr_write). */
static ngx_int_t
ngx_http_ticket_reply_addrs(ngx_http_request_t *r, tk_addr_t *a, ngx_uint_t n,
    tk_str_t *out)
{
    tk_out_t                o;
    ngx_uint_t              i;
    size_t                  size;
    ngx_http_ticket_sink_t  sink;

    if (n == 0) {
        out->len = 0;
        out->data = (u_char *) "";
        return NGX_OK;
    }

    size = 16;

    for (i = 0; i < n; i++) {
        size += 2 * a[i].name.len + a[i].addr.len + 8;
    }

    ngx_http_ticket_sink_init(r, &o, &sink, size);
    tk_addr_write(&o, a, (int) n);

    return ngx_http_ticket_sink_str(&o, out);
}


/* ---- uploaded files ----------------------------------------------------- */

/*
 * Count and names (space-separated, for the full text, as mailbridge
 * keeps them) of the article's files: a forward's first, then the
 * uploads with their names cleaned (no path, no control bytes).
 */
ngx_int_t
ngx_http_ticket_reply_files(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    tk_article_t *a)
{
    u_char      *p;
    size_t       len;
    tk_part_t   *up;
    ngx_uint_t   i;

    if (ctx->uploads == NULL || ctx->uploads->nelts == 0) {
        return NGX_OK;
    }

    up = ctx->uploads->elts;

    p = ngx_pnalloc(r->pool, a->attachment_names.len + ctx->uploads->nelts
                             * (TK_FILENAME_MAX + 2));
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, a->attachment_names.data, a->attachment_names.len);
    len = a->attachment_names.len;

    for (i = 0; i < ctx->uploads->nelts; i++) {
        u_char  *name;

        name = ngx_pnalloc(r->pool, TK_FILENAME_MAX + 1);
        if (name == NULL) {
            return NGX_ERROR;
        }

        /* the cleaned name replaces the one sent, for the hash too */
        up[i].filename.len = tk_filename_clean(name, &up[i].filename);
        up[i].filename.data = name;
        ngx_http_ticket_reply_type(&up[i].content_type);

        if (len) {
            p[len++] = ' ';
        }

        ngx_memcpy(p + len, name, up[i].filename.len);
        len += up[i].filename.len;
    }

    a->attachment_names.data = p;
    a->attachment_names.len = len;
    a->attachments += (unsigned) ctx->uploads->nelts;

    return NGX_OK;
}


/* The attachment hashes, exactly like mailbridge's (SCHEMA.md). */
void
ngx_http_ticket_reply_files_write(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, tk_cmds_t *cmds, tk_article_t *a,
    unsigned first)
{
    char         key[TK_KEY_MAX];
    size_t       len;
    tk_part_t   *up;
    ngx_uint_t   i;

    if (ctx->uploads == NULL) {
        return;
    }

    up = ctx->uploads->elts;

    for (i = 0; i < ctx->uploads->nelts; i++) {
        len = tk_key_attachment(key, sizeof(key), a->ticket, a->id,
                                first + (unsigned) i);
        if (len == 0) {
            cmds->failed = 1;
            return;
        }

        tk_cmds_add(cmds, "HSET %b " TK_F_NAME " %S " TK_F_CONTENT_TYPE " %S "
                    TK_F_SIZE " %zu " TK_F_CONTENT_ID " %s " TK_F_DISPOSITION
                    " attachment " TK_F_DATA " %S", key, len, &up[i].filename,
                    &up[i].content_type, up[i].data.len, "", &up[i].data);
    }
}


/* "type/subtype" of token characters, lower case; anything else (or
 * parameters) gives application/octet-stream: a download then. */
static void
ngx_http_ticket_reply_type(tk_str_t *type)
{
    size_t      i, slash;
    u_char      c;

    slash = 0;

    for (i = 0; i < type->len && type->len <= NGX_HTTP_TICKET_TYPE_MAX; i++)
    {
        c = type->data[i];

        if (c == '/' && slash == 0 && i > 0) {
            slash = i;
            continue;
        }

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.'))
        {
            break;
        }
    }

    if (i == type->len && slash && slash + 1 < type->len) {
        for (i = 0; i < type->len; i++) {
            type->data[i] = ngx_tolower(type->data[i]);
        }

        return;
    }

    tk_str_set(type, "application/octet-stream");
}
