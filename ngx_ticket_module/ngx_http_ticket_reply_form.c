/*
 * ngx_http_ticket_reply_form.c -- what a reply or note asks for, from
 * the composer's form (POST /t/N/reply) or from JSON ( POST
 * /api/v1/tickets/N/articles), checked field by field before anything
 * is read or written: recipients (no CR/LF, valid addresses), subject
 * (no CR/LF), text, state afterwards and the reminder date.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ticket_reply.h"
#include "tk_multipart.h"


#define NGX_HTTP_TICKET_SUBJECT_MAX    900      /* a header line < 998 */


static void ngx_http_ticket_reply_number(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *name, long long *v);
static ngx_int_t ngx_http_ticket_reply_body(ngx_http_request_t *r,
    ngx_str_t *body);
static void *ngx_http_ticket_reply_alloc(void *pool, size_t size);


/* The form as the composer posts it; malformed fields read as empty,
 * and the checks say what is missing. */
ngx_int_t
ngx_http_ticket_reply_form(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_compose_t *c)
{
    long long  v;
    ngx_str_t  type, state, confirm, forward;

    c->posted = 1;

    ngx_http_ticket_form_value(r, ctx, "type", &type);
    ngx_http_ticket_form_value(r, ctx, "to", &c->to);
    ngx_http_ticket_form_value(r, ctx, "cc", &c->cc);
    ngx_http_ticket_form_value(r, ctx, "bcc", &c->bcc);
    ngx_http_ticket_form_value(r, ctx, "subject", &c->subject);
    ngx_http_ticket_form_value(r, ctx, "body", &c->body);
    ngx_http_ticket_form_value(r, ctx, "state", &state);
    ngx_http_ticket_form_value(r, ctx, "pending_until", &c->pending);
    ngx_http_ticket_form_value(r, ctx, "confirm_plain", &confirm);
    ngx_http_ticket_form_value(r, ctx, "forward", &forward);
    ngx_http_ticket_form_value(r, ctx, "group", &c->group);

    c->note = (type.len == 4 && ngx_strncmp(type.data, "note", 4) == 0);
    c->confirm_plain = (confirm.len == 1 && confirm.data[0] == '1');
    c->forward = (forward.len == 1 && forward.data[0] == '1');

    ngx_http_ticket_reply_number(r, ctx, "reply", &v);
    c->reply = v > 0 ? (uint64_t) v : 0;
    ngx_http_ticket_reply_number(r, ctx, "rev", &c->rev);
    ngx_http_ticket_reply_number(r, ctx, "arts", &v);
    c->arts = v;
    ngx_http_ticket_reply_number(r, ctx, "hist", &v);
    c->hist = v;

    if (ngx_http_ticket_reply_body(r, &c->body) != NGX_OK) {
        return NGX_ERROR;
    }

    if (!c->note && !(type.len == 5 && ngx_strncmp(type.data, "reply", 5) == 0)
        && type.len)
    {
        c->err =
            ngx_http_ticket_msg(ctx,
                                TK_MSG_REPLY_FORM_UNKNOWN_KIND_REPLY_OR_NOTE);
    }

    c->state = state.len ? tk_state_parse((char *) state.data, state.len)
                         : TK_STATE_WAITING;
    c->state = c->state ? c->state : -1;

    return NGX_OK;
}


static void
ngx_http_ticket_reply_number(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *name, long long *v)
{
    ngx_str_t  s;

    ngx_http_ticket_form_value(r, ctx, name, &s);
    *v = s.len ? tk_str_atoll(ngx_ticket_str(&s)) : -1;
}


/* Browsers send a textarea with CRLF; the stored text has LF only (the
 * sender writes CRLF on the wire). */
static ngx_int_t
ngx_http_ticket_reply_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char  *p, *d, *e;

    if (ngx_strlchr(body->data, body->data + body->len, '\r') == NULL) {
        return NGX_OK;
    }

    d = ngx_pnalloc(r->pool, body->len + 1);
    if (d == NULL) {
        return NGX_ERROR;
    }

    e = body->data + body->len;
    p = body->data;
    body->data = d;

    for (; p < e; p++) {
        if (*p == '\r' && p + 1 < e && p[1] == '\n') {
            continue;
        }

        *d++ = (*p == '\r') ? '\n' : *p;
    }

    body->len = d - body->data;

    return NGX_OK;
}


/*
 * The checks both ways in share: each error next to its field.  A note
 * goes to nobody, so its recipients are not looked at.  NGX_OK or
 * NGX_DECLINED (something is wrong; nothing may be written).
 */
ngx_int_t
ngx_http_ticket_reply_check(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_compose_t *c)
{
    ngx_flag_t  bad;

    bad = (c->err != NULL);

    ngx_http_ticket_trim(&c->subject);

    if (tk_has_ctrl(ngx_ticket_str(&c->subject))) {
        c->err_subject =
            ngx_http_ticket_msg(ctx, TK_MSG_REPLY_FORM_LINE_BREAKS_AND_CONTROL);
        bad = 1;

    } else if (c->subject.len > NGX_HTTP_TICKET_SUBJECT_MAX
               || ngx_http_ticket_text_chars(&c->subject, 0) < 0)
    {
        c->err_subject =
            ngx_http_ticket_msg(ctx,
                                TK_MSG_REPLY_FORM_THE_SUBJECT_IS_TOO_LONG_OR);
        bad = 1;

    } else if (!c->note && c->subject.len == 0) {
        c->err_subject =
            ngx_http_ticket_msg(ctx, TK_MSG_REPLY_FORM_PLEASE_ENTER_A_SUBJECT);
        bad = 1;
    }

    if (ngx_http_ticket_text_chars(&c->body, 1) < 0) {
        c->err_body =
            ngx_http_ticket_msg(ctx,
                                TK_MSG_REPLY_FORM_THE_TEXT_CONTAINS_INVALID);
        bad = 1;

    } else {
        ngx_str_t  t = c->body;

        ngx_http_ticket_trim(&t);
        if (t.len == 0) {
            c->err_body =
                ngx_http_ticket_msg(ctx, TK_MSG_REPLY_FORM_THE_TEXT_IS_EMPTY);
            bad = 1;
        }
    }

    if (c->state == 0) {
        /* the API's note without a state: the ticket keeps its own */

    } else if (c->state < TK_STATE_MIN || c->state > TK_STATE_MAX) {
        c->err_state =
            ngx_http_ticket_msg(ctx, TK_MSG_REPLY_FORM_THERE_IS_NO_SUCH_STATE);
        c->state = TK_STATE_WAITING;
        bad = 1;

    } else if (c->state == TK_STATE_REMINDER) {
        ngx_http_ticket_trim(&c->pending);

        if (c->pending.len == 0
            || ngx_http_ticket_parse_local_time(&c->pending,
                                                &c->pending_until)
               != NGX_OK)
        {
            c->err_state =
                ngx_http_ticket_msg(ctx,
                    TK_MSG_REPLY_FORM_WITH_REMINDER_NEEDS_A_VALID);
            bad = 1;
        }
    }

    if (ngx_http_ticket_compose_rcpt(c, ngx_http_ticket_lang(ctx)) != NGX_OK) {
        if (c->note) {
            c->err_to = c->err_cc = c->err_bcc = NULL;
            c->nto = c->ncc = c->nbcc = 0;

        } else {
            bad = 1;
        }

    } else if (!c->note && c->nto + c->ncc + c->nbcc == 0) {
        c->err_to =
            ngx_http_ticket_msg(ctx,
                TK_MSG_REPLY_FORM_PLEASE_ENTER_AT_LEAST_ONE_TEXT);
        bad = 1;
    }

    return bad ? NGX_DECLINED : NGX_OK;
}


/* The first error as the API names it: (field, message). */
void
ngx_http_ticket_reply_first_error(ngx_http_ticket_compose_t *c,
    const char **field, const char **message)
{
    *field = NULL;
    *message = c->err;

    if (c->err_to) { *field = "to"; *message = c->err_to; return; }
    if (c->err_cc) { *field = "cc"; *message = c->err_cc; return; }
    if (c->err_bcc) { *field = "bcc"; *message = c->err_bcc; return; }
    if (c->err_subject) {
        *field = "subject"; *message = c->err_subject; return;
    }
    if (c->err_body) { *field = "body"; *message = c->err_body; return; }
    if (c->err_state) {
        *field = c->state == TK_STATE_REMINDER ? "pending_until" : "state";
        *message = c->err_state;
        return;
    }
    if (c->err_confirm) {
        *field = "confirm_plain"; *message = c->err_confirm; return;
    }
}


/* ---- JSON ------------------------------------------------------------- */

static void *
ngx_http_ticket_reply_alloc(void *pool, size_t size)
{
    return ngx_palloc(pool, size ? size : 1);
}


/*
 * {"type":"reply"|"note","to","cc","bcc","subject","body","state",
 *  "pending_until","attachments","rev","reply_to_article",
 *  "confirm_plain"}.  Unknown members are an error: a typo must not go
 * unnoticed.  NGX_OK, or NGX_DECLINED with field and message set.
 */
ngx_int_t
ngx_http_ticket_reply_json(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_compose_t *c, const char **field, const char **message)
{
    int                      n;
    long long                v;
    ngx_str_t                type;
    tk_json_member_t         m[NGX_HTTP_TICKET_JSON_MEMBERS];
    const tk_json_member_t  *e;

    static const char  *known[] = {
        "type", "to", "cc", "bcc", "subject", "body", "state",
        "pending_until", "attachments", "rev", "reply_to_article",
        "confirm_plain", "forward", NULL
    };

    n = ngx_http_ticket_reply_json_object(ctx, c, known, m, field, message);
    if (n < 0) {
        return NGX_DECLINED;
    }

    if (ngx_http_ticket_reply_json_str(r, m, n, "type", &type, field)
            != NGX_OK
        || ngx_http_ticket_reply_json_text(r, m, n, c, field) != NGX_OK)
    {
        *message = "must be a string";
        return NGX_DECLINED;
    }

    if (type.len == 4 && ngx_strncmp(type.data, "note", 4) == 0) {
        c->note = 1;

    } else if (!(type.len == 5 && ngx_strncmp(type.data, "reply", 5) == 0)) {
        *field = "type";
        *message = "must be \"reply\" or \"note\"";
        return NGX_DECLINED;
    }

    c->state = c->note ? 0 : TK_STATE_WAITING;

    if (ngx_http_ticket_reply_json_common(r, ctx, m, n, c, field, message)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    e = tk_json_get(m, n, "rev");
    if (e && e->type != TK_JSON_NULL) {
        c->rev = (e->type == TK_JSON_NUMBER) ? tk_json_uint(&e->value) : -1;
        if (c->rev < 0) {
            *field = "rev";
            *message = "must be the ticket's rev (a number)";
            return NGX_DECLINED;
        }
    }

    e = tk_json_get(m, n, "reply_to_article");
    if (e && e->type != TK_JSON_NULL) {
        v = (e->type == TK_JSON_NUMBER) ? tk_json_uint(&e->value) : -1;
        if (v <= 0) {
            *field = "reply_to_article";
            *message = "must be an article id";
            return NGX_DECLINED;
        }

        c->reply = (uint64_t) v;
    }

    e = tk_json_get(m, n, "confirm_plain");
    c->confirm_plain = (e && e->type == TK_JSON_TRUE);

    /* "forward": true sends reply_to_article on, with its attachments */
    e = tk_json_get(m, n, "forward");
    c->forward = (e && e->type == TK_JSON_TRUE);

    if (c->forward && (c->reply == 0 || c->note)) {
        *field = "forward";
        *message = "a forward needs \"type\":\"reply\" and "
                   "reply_to_article";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The body (ctx->form) as a JSON object into m, for a reply and a new
 * ticket's first mail: a member not in known is an error (a typo must
 * not go unnoticed).  Also c's start as posted (no rev, no counts).
 * The number of members, or -1 with message (and field) set.
 */
int
ngx_http_ticket_reply_json_object(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_compose_t *c, const char **known, tk_json_member_t *m,
    const char **field, const char **message)
{
    int           n, i;
    size_t        errpos;
    const char  **k;

    c->posted = 1;
    c->rev = -1;
    c->arts = -1;
    c->hist = -1;
    *field = NULL;

    n = tk_json_object(ngx_ticket_str(&ctx->form), m,
                       NGX_HTTP_TICKET_JSON_MEMBERS, &errpos);
    if (n < 0) {
        *message = "the body is not a JSON object (or a key repeats)";
        return -1;
    }

    for (i = 0; i < n; i++) {
        for (k = known; *k && !tk_str_eq_cstr(&m[i].key, *k); k++) {
            /* void */
        }

        if (*k == NULL) {
            *message = "unknown member";
            *field = "?";
            return -1;
        }
    }

    return n;
}


/* The mail's strings both take: to, cc, bcc, subject, body and the
 * reminder date; NGX_ERROR (*field = the member) for a non-string. */
ngx_int_t
ngx_http_ticket_reply_json_text(ngx_http_request_t *r,
    const tk_json_member_t *m, int n, ngx_http_ticket_compose_t *c,
    const char **field)
{
    if (ngx_http_ticket_reply_json_str(r, m, n, "to", &c->to, field)
            != NGX_OK
        || ngx_http_ticket_reply_json_str(r, m, n, "cc", &c->cc, field)
           != NGX_OK
        || ngx_http_ticket_reply_json_str(r, m, n, "bcc", &c->bcc, field)
           != NGX_OK
        || ngx_http_ticket_reply_json_str(r, m, n, "subject", &c->subject,
                                          field) != NGX_OK
        || ngx_http_ticket_reply_json_str(r, m, n, "body", &c->body, field)
           != NGX_OK
        || ngx_http_ticket_reply_json_str(r, m, n, "pending_until",
                                          &c->pending, field) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * What a reply and a new ticket's first mail share: "state" (a name or
 * 1..6; absent: c->state as set before) and "attachments".  NGX_OK, or
 * NGX_DECLINED with field and message.
 */
ngx_int_t
ngx_http_ticket_reply_json_common(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const tk_json_member_t *m, int n,
    ngx_http_ticket_compose_t *c, const char **field, const char **message)
{
    long long                v;
    ngx_str_t                state;
    const tk_json_member_t  *e;

    e = tk_json_get(m, n, "state");

    if (e && e->type == TK_JSON_NUMBER) {
        v = tk_json_uint(&e->value);
        c->state = (v >= TK_STATE_MIN && v <= TK_STATE_MAX) ? v : -1;

    } else if (e && e->type == TK_JSON_STRING) {
        if (ngx_http_ticket_reply_json_str(r, m, n, "state", &state, field)
            != NGX_OK)
        {
            *message = "must be a string";
            return NGX_DECLINED;
        }

        c->state = tk_state_parse((char *) state.data, state.len);
        c->state = c->state ? c->state : -1;

    } else if (e && e->type != TK_JSON_NULL) {
        *field = "state";
        *message = "a state name (waiting, reminder, ...) or 1 to 6";
        return NGX_DECLINED;
    }

    e = tk_json_get(m, n, "attachments");
    if (e && e->type != TK_JSON_NULL
        && (e->type != TK_JSON_ARRAY
            || ngx_http_ticket_reply_json_files(r, ctx, &e->value) != NGX_OK))
    {
        *field = "attachments";
        *message = "a list of {\"name\",\"content_type\",\"data\": base64}";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_ticket_reply_json_str(ngx_http_request_t *r,
    const tk_json_member_t *m, int n, const char *name, ngx_str_t *value,
    const char **field)
{
    const tk_json_member_t  *e;

    ngx_str_set(value, "");

    e = tk_json_get(m, n, name);

    if (e == NULL || e->type == TK_JSON_NULL) {
        return NGX_OK;
    }

    if (e->type != TK_JSON_STRING
        || tk_json_string(&e->value, ngx_ticket_str(value),
                          ngx_http_ticket_reply_alloc, r->pool)
           != 0)
    {
        *field = name;
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * "attachments": [{"name":"a.pdf","content_type":"application/pdf",
 * "data":"BASE64"}, ...] -- the same files as a form's (ctx->uploads),
 * decoded into the request pool.
 */
ngx_int_t
ngx_http_ticket_reply_json_files(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const tk_str_t *list)
{
    int                      n, i, k;
    size_t                   errpos;
    ngx_str_t                b64, name, type, bin;
    tk_part_t               *up;
    const char              *field;
    tk_json_member_t         el[NGX_HTTP_TICKET_JSON_MEMBERS], m[4];
    const tk_json_member_t  *e;

    n = tk_json_array(list, el, NGX_HTTP_TICKET_JSON_MEMBERS, &errpos);
    if (n < 0) {
        return NGX_ERROR;
    }

    ctx->uploads = ngx_array_create(r->pool, n ? n : 1, sizeof(tk_part_t));
    if (ctx->uploads == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (el[i].type != TK_JSON_OBJECT) {
            return NGX_ERROR;
        }

        k = tk_json_object(&el[i].value, m, 4, &errpos);

        if (k < 0
            || ngx_http_ticket_reply_json_str(r, m, k, "name", &name, &field)
               != NGX_OK
            || ngx_http_ticket_reply_json_str(r, m, k, "content_type", &type,
                                              &field)
               != NGX_OK
            || ngx_http_ticket_reply_json_str(r, m, k, "data", &b64, &field)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        for (e = m; e < m + k; e++) {
            if (!tk_str_eq_cstr(&e->key, "name")
                && !tk_str_eq_cstr(&e->key, "content_type")
                && !tk_str_eq_cstr(&e->key, "data"))
            {
                return NGX_ERROR;
            }
        }

        bin.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(b64.len) + 1);
        if (bin.data == NULL || ngx_decode_base64(&bin, &b64) != NGX_OK) {
            return NGX_ERROR;
        }

        up = ngx_array_push(ctx->uploads);
        if (up == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(up, sizeof(tk_part_t));
        up->is_file = 1;
        up->filename = *ngx_ticket_str(&name);
        up->content_type = *ngx_ticket_str(&type);
        up->data = *ngx_ticket_str(&bin);
    }

    return NGX_OK;
}
