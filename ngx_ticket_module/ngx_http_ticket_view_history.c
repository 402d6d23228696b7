/*
 * ngx_http_ticket_view_history.c -- the ticket page's history: the
 * entries of tk:{t:N}:history told in the user's words, people by their
 * display names with the login in a tooltip, as everywhere else on the
 * page.
 *
 * The history is rendered per request (never cached), so names are as
 * fresh as the data they come from: the owner choice's user list (every
 * user; cached under tk:{ix}:gen, which a rename bumps), or -- on a page
 * without it (read right) -- one HGET per person named, sent in the
 * batch that reads the articles: no round trip of its own.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_view.h"


/* at most this many parts per sentence: 4 values and the text around */
#define NGX_HTTP_TICKET_HIST_PARTS     9



static ngx_int_t ngx_http_ticket_history_add_login(ngx_http_request_t *r,
    ngx_http_ticket_view_t *v, ngx_str_t *login);
static ngx_flag_t ngx_http_ticket_history_is_owner(ngx_http_ticket_hist_t *h);
static ngx_str_t *ngx_http_ticket_history_name(ngx_http_ticket_view_t *v,
    ngx_str_t *login);
static ngx_int_t ngx_http_ticket_history_text(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_hist_t *h, tk_tpl_ticket_side_history_t *item);
static int ngx_http_ticket_history_sentence(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_hist_t *h, ngx_str_t *from, ngx_str_t *to,
    const char **what);
static void ngx_http_ticket_history_value(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *field, ngx_str_t *value,
    ngx_str_t *label);


/*
 * After the first batch: parse the entries; on a page that will have no
 * user list, add one HGET of the display name per person the entries
 * name (the actor, and both owners of an owner change).
 */
ngx_int_t
ngx_http_ticket_view_history_read(ngx_http_request_t *r,
    ngx_http_ticket_view_t *v, tk_cmds_t *cmds, ngx_flag_t have_users)
{
    ngx_str_t   *login;
    ngx_uint_t   i;

    if (v->history->type != REDIS_REPLY_ARRAY || v->history->nelem == 0) {
        return NGX_OK;
    }

    v->hist = ngx_palloc(r->pool,
                         v->history->nelem * sizeof(ngx_http_ticket_hist_t));
    v->name_logins = ngx_array_create(r->pool, 4, sizeof(ngx_str_t));
    if (v->hist == NULL || v->name_logins == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < v->history->nelem; i++) {
        if (ngx_http_ticket_history_entry(&v->history->element[i],
                                          &v->hist[v->nhist])
            != NGX_OK)
        {
            continue;
        }

        if (!have_users
            && (ngx_http_ticket_history_add_login(r, v, &v->hist[v->nhist].by)
                    != NGX_OK
                || (ngx_http_ticket_history_is_owner(&v->hist[v->nhist])
                    && (ngx_http_ticket_history_add_login(r, v,
                                            &v->hist[v->nhist].from)
                            != NGX_OK
                        || ngx_http_ticket_history_add_login(r, v,
                                            &v->hist[v->nhist].to)
                           != NGX_OK))))
        {
            return NGX_ERROR;
        }

        v->nhist++;
    }

    v->names_base = cmds->n;
    login = v->name_logins->elts;

    for (i = 0; i < v->name_logins->nelts; i++) {
        tk_cmds_add(cmds, "HGET " TK_FMTS_USER " " TK_F_NAME,
                    ngx_ticket_str(&login[i]));
    }

    return NGX_OK;
}


/* Each login once; "system" and other non-logins are shown as they are. */
static ngx_int_t
ngx_http_ticket_history_add_login(ngx_http_request_t *r,
    ngx_http_ticket_view_t *v, ngx_str_t *login)
{
    ngx_str_t   *l;
    ngx_uint_t   i;

    if (login->len == 0 || !tk_valid_login(ngx_ticket_str(login))) {
        return NGX_OK;
    }

    l = v->name_logins->elts;

    for (i = 0; i < v->name_logins->nelts; i++) {
        if (l[i].len == login->len
            && ngx_strncmp(l[i].data, login->data, login->len) == 0)
        {
            return NGX_OK;
        }
    }

    l = ngx_array_push(v->name_logins);
    if (l == NULL) {
        return NGX_ERROR;
    }

    *l = *login;

    return NGX_OK;
}


static ngx_flag_t
ngx_http_ticket_history_is_owner(ngx_http_ticket_hist_t *h)
{
    return h->field.len == sizeof(TK_F_OWNER) - 1
           && ngx_strncmp(h->field.data, TK_F_OWNER, h->field.len) == 0;
}


/* The display name of a login, or NULL (no such user, or no name). */
static ngx_str_t *
ngx_http_ticket_history_name(ngx_http_ticket_view_t *v, ngx_str_t *login)
{
    ngx_str_t                    *l;
    ngx_uint_t                    i, k;
    ngx_http_ticket_reply_t      *rep;
    ngx_http_ticket_view_user_t  *u;

    if (login->len == 0 || v == NULL) {
        return NULL;
    }

    if (v->users_list) {
        u = v->users_list->elts;

        for (i = 0; i < v->users_list->nelts; i++) {
            if (u[i].login.len == login->len
                && ngx_strncmp(u[i].login.data, login->data, login->len) == 0)
            {
                return u[i].name.len ? &u[i].name : NULL;
            }
        }

        return NULL;
    }

    if (v->name_logins == NULL) {
        return NULL;
    }

    l = v->name_logins->elts;

    for (i = 0; i < v->name_logins->nelts; i++) {
        k = v->names_base + i;

        if (l[i].len != login->len
            || ngx_strncmp(l[i].data, login->data, login->len) != 0
            || k >= v->nsecond)
        {
            continue;
        }

        rep = &v->second[k];

        return (rep->type == REDIS_REPLY_STRING && rep->str.len)
               ? &rep->str : NULL;
    }

    return NULL;
}


/* The entries for ticket_side.html, oldest first. */
ngx_int_t
ngx_http_ticket_view_history(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    tk_tpl_ticket_side_t *tpl)
{
    ngx_uint_t                     i;
    tk_tpl_ticket_side_history_t  *item;

    if (v->nhist == 0) {
        return NGX_OK;
    }

    item = ngx_pcalloc(r->pool, v->nhist * sizeof(*item));
    if (item == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < v->nhist; i++) {
        if (ngx_http_ticket_history_text(r, ctx, v, &v->hist[i], &item[i])
                != NGX_OK
            || ngx_http_ticket_time_str(r, v->hist[i].time, &item[i].time)
               != NGX_OK
            || ngx_http_ticket_iso_str(r, v->hist[i].time, &item[i].time_iso)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    tpl->history = item;
    tpl->history_n = v->nhist;

    return NGX_OK;
}


/*
 * "Jörg Müller hat das Ticket Sanne Weber zugewiesen": the sentence's
 * text around its values, each value a part of its own; a person's part
 * carries the login for the tooltip.
 */
static ngx_int_t
ngx_http_ticket_history_text(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_view_t *v,
    ngx_http_ticket_hist_t *h, tk_tpl_ticket_side_history_t *item)
{
    size_t                               i;
    ngx_str_t                            from, to, *value, *login, *name;
    ngx_flag_t                           owner;
    const char                          *what;
    const tk_msg_t                      *m;
    const tk_msg_seg_t                  *seg;
    tk_tpl_ticket_side_history_parts_t  *part;

    ngx_http_ticket_history_value(r, ctx, &h->field, &h->from, &from);
    ngx_http_ticket_history_value(r, ctx, &h->field, &h->to, &to);

    m = tk_msg_get(ngx_http_ticket_lang(ctx),
                   ngx_http_ticket_history_sentence(ctx, h, &from, &to,
                                                    &what));
    owner = ngx_http_ticket_history_is_owner(h);

    part = ngx_pcalloc(r->pool, NGX_HTTP_TICKET_HIST_PARTS * sizeof(*part));
    if (part == NULL) {
        return NGX_ERROR;
    }

    item->parts = part;

    /* the catalogue split the sentence into text and {params} already */
    for (i = 0; i < m->nsegs && item->parts_n < NGX_HTTP_TICKET_HIST_PARTS;
         i++)
    {
        seg = &m->segs[i];
        login = NULL;
        value = NULL;

        if (seg->arg < 0) {
            part[item->parts_n].text.data = (u_char *) seg->text;
            part[item->parts_n].text.len = seg->len;

        } else if (ngx_http_ticket_seg_is(seg, "by")) {
            value = &h->by;
            login = &h->by;

        } else if (ngx_http_ticket_seg_is(seg, "from")) {
            value = &from;
            login = owner ? &h->from : NULL;

        } else if (ngx_http_ticket_seg_is(seg, "to")) {
            value = &to;
            login = owner ? &h->to : NULL;

        } else if (what) {
            /* {what}: the field's label, or its name when there is none */
            part[item->parts_n].text.data = (u_char *) what;
            part[item->parts_n].text.len = ngx_strlen(what);

        } else {
            part[item->parts_n].text = *ngx_ticket_str(&h->field);
        }

        if (value) {
            part[item->parts_n].text = *ngx_ticket_str(value);
            name = login ? ngx_http_ticket_history_name(v, login) : NULL;

            if (name) {
                part[item->parts_n].text = *ngx_ticket_str(name);
                part[item->parts_n].login = *ngx_ticket_str(login);
            }
        }

        item->parts_n++;
    }

    return NGX_OK;
}


/*
 * The sentence (a TK_MSG_VIEW_HISTORY_* with {by} {from} {to} {what}) for
 * an entry; *what names the field where it says so.
 */
static int
ngx_http_ticket_history_sentence(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_hist_t *h,
    ngx_str_t *from, ngx_str_t *to, const char **what)
{
    ngx_str_t  *f;

    f = &h->field;
    *what = NULL;

#define ngx_http_ticket_field_is(name)                                       \
    (f->len == sizeof(name) - 1 && ngx_strncmp(f->data, name, f->len) == 0)

    if (ngx_http_ticket_field_is("created")) {
        return TK_MSG_VIEW_HISTORY_CREATED_THE_TICKET;
    }

    if (ngx_http_ticket_field_is(TK_F_OWNER) && from->len == 0) {
        return TK_MSG_VIEW_HISTORY_ASSIGNED_THE_TICKET_TO;
    }

    if (ngx_http_ticket_field_is(TK_F_OWNER) && to->len == 0) {
        return TK_MSG_VIEW_HISTORY_UNASSIGNED;
    }

    if (ngx_http_ticket_field_is(TK_F_PENDING_UNTIL) && to->len == 0) {
        return TK_MSG_VIEW_HISTORY_REMOVED_THE_REMINDER;
    }

    if (ngx_http_ticket_field_is(TK_F_PENDING_UNTIL)) {
        return TK_MSG_VIEW_HISTORY_SET_A_REMINDER_FOR;
    }

    /* issue 13: tags, merge, split */
    if (ngx_http_ticket_field_is(TK_F_TAGS) && from->len == 0) {
        return TK_MSG_VIEW_HISTORY_TAGGED;
    }

    if (ngx_http_ticket_field_is(TK_F_TAGS) && to->len == 0) {
        return TK_MSG_VIEW_HISTORY_UNTAGGED_ALL;
    }

    if (ngx_http_ticket_field_is(TK_F_TAGS)) {
        return TK_MSG_VIEW_HISTORY_TAGS_CHANGED;
    }

    if (ngx_http_ticket_field_is(TK_F_MERGED_INTO)) {
        return TK_MSG_VIEW_HISTORY_MERGED_INTO;
    }

    if (ngx_http_ticket_field_is("merged")) {
        return TK_MSG_VIEW_HISTORY_MERGED_HERE;
    }

    if (ngx_http_ticket_field_is("split")) {
        return TK_MSG_VIEW_HISTORY_SPLIT_OFF;
    }

    if (ngx_http_ticket_field_is("split_from")) {
        return TK_MSG_VIEW_HISTORY_SPLIT_FROM;
    }

    if (ngx_http_ticket_field_is(TK_F_STATE)) {
        *what = ngx_http_ticket_msg(ctx, TK_MSG_VIEW_HISTORY_STATE);

    } else if (ngx_http_ticket_field_is(TK_F_PRIORITY)) {
        *what = ngx_http_ticket_msg(ctx, TK_MSG_VIEW_HISTORY_PRIORITY);

    } else if (ngx_http_ticket_field_is(TK_F_GROUP)) {
        *what = ngx_http_ticket_msg(ctx, TK_MSG_VIEW_HISTORY_GROUP);

    } else if (ngx_http_ticket_field_is(TK_F_OWNER)) {
        *what = ngx_http_ticket_msg(ctx, TK_MSG_VIEW_HISTORY_OWNER);

    } else if (ngx_http_ticket_field_is(TK_F_TITLE)) {
        *what = ngx_http_ticket_msg(ctx, TK_MSG_VIEW_HISTORY_TITLE);

    } else if (ngx_http_ticket_field_is(TK_F_CUSTOMER)) {
        *what = ngx_http_ticket_msg(ctx, TK_MSG_VIEW_HISTORY_CUSTOMER);
    }

#undef ngx_http_ticket_field_is

    if (*what) {
        return TK_MSG_VIEW_HISTORY_CHANGED_FROM_TO;
    }

    /* a field this page does not know yet: still say something */
    return TK_MSG_VIEW_HISTORY_CHANGED_UNKNOWN_FIELD;
}


/* The label of a history value: states and priorities as words. */
static void
ngx_http_ticket_history_value(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *field, ngx_str_t *value,
    ngx_str_t *label)
{
    long long  n;
    tk_str_t   s;

    *label = *value;

    if (value->len == 0) {
        return;
    }

    if (field->len == sizeof(TK_F_STATE) - 1
        && ngx_strncmp(field->data, TK_F_STATE, field->len) == 0)
    {
        ngx_http_ticket_state_label(ctx,
                            tk_state_parse((char *) value->data, value->len),
                            &s);
        label->data = s.data;
        label->len = s.len;

    } else if (field->len == sizeof(TK_F_PRIORITY) - 1
               && ngx_strncmp(field->data, TK_F_PRIORITY, field->len) == 0)
    {
        ngx_http_ticket_prio_label(ctx,
                            tk_prio_parse((char *) value->data, value->len),
                            &s);
        label->data = s.data;
        label->len = s.len;

    } else if (field->len == sizeof(TK_F_PENDING_UNTIL) - 1
               && ngx_strncmp(field->data, TK_F_PENDING_UNTIL, field->len)
                  == 0)
    {
        n = tk_str_atoll(ngx_ticket_str(value));
        if (n > 0 && ngx_http_ticket_time_str(r, n, &s) == NGX_OK) {
            label->data = s.data;
            label->len = s.len;
        }
    }
}


/*
 * The entry's sentence as plain text, with logins (no names loaded):
 * what the composer's conflict notice lists as "changed meanwhile".
 */
ngx_int_t
ngx_http_ticket_history_plain(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_hist_t *h, ngx_str_t *out)
{
    u_char                        *p;
    size_t                         len;
    ngx_uint_t                     i;
    tk_tpl_ticket_side_history_t   item;

    ngx_memzero(&item, sizeof(item));

    if (ngx_http_ticket_history_text(r, ctx, NULL, h, &item) != NGX_OK) {
        return NGX_ERROR;
    }

    for (len = 0, i = 0; i < item.parts_n; i++) {
        len += item.parts[i].text.len;
    }

    p = ngx_pnalloc(r->pool, len ? len : 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    for (i = 0; i < item.parts_n; i++) {
        p = ngx_cpymem(p, item.parts[i].text.data, item.parts[i].text.len);
    }

    out->len = p - out->data;

    return NGX_OK;
}
