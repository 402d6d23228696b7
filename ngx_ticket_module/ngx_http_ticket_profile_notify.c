/*
 * ngx_http_ticket_profile_notify.c -- the notification settings on the
 * profile page (helper notify): the matrix events x scopes, "someone
 * assigned a ticket to me", the groups of the scope "unassigned", mail
 * on/off and the digest mode.  Stored in tk:{u:LOGIN}:notify
 * (tk_notify.h); what is not stored there is Zammad's default, which the
 * form shows as such.  POST /profile/notifications saves the whole form.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"
#include "tk_notify.h"
#include "tk_tpl.h"


static const char *const  ngx_http_ticket_ntf_rows_de[TK_NEV_N] = {
    "Neues Ticket", "Aktualisierung", "Erinnerung erreicht", "Eskalation"
};
static const char *const  ngx_http_ticket_ntf_rows_en[TK_NEV_N] = {
    "New ticket", "Update", "Reminder reached", "Escalation"
};
static const char *const  ngx_http_ticket_ntf_cols_de[TK_NSC_N] = {
    "mir zugewiesen", "nicht zugewiesen", "abonniert", "alle meiner AGs"
};
static const char *const  ngx_http_ticket_ntf_cols_en[TK_NSC_N] = {
    "assigned to me", "unassigned", "subscribed", "all of my groups"
};


static ngx_int_t ngx_http_ticket_ntf_form(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, tk_notify_conf_t *conf, const char **error);
static ngx_int_t ngx_http_ticket_ntf_field(ngx_http_request_t *r,
    int ev, int sc, tk_str_t *out);
static ngx_int_t ngx_http_ticket_ntf_group_field(ngx_http_request_t *r,
    ngx_str_t *group, tk_str_t *out);
static ngx_flag_t ngx_http_ticket_ntf_in(tk_str_t *list, ngx_str_t *word);
static ngx_flag_t ngx_http_ticket_ntf_on(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *name);
static ngx_int_t ngx_http_ticket_ntf_saved(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);


/*
 * Fill the profile template's matrix: from the stored hash (conf), or
 * -- conf NULL: a refused POST -- from the form as sent.
 */
ngx_int_t
ngx_http_ticket_profile_notify_tpl(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_reply_t *conf, void *data)
{
    int                               ev, sc;
    size_t                            n;
    tk_str_t                         *pairs;
    ngx_flag_t                        de;
    ngx_uint_t                        i;
    const char                       *error;
    tk_notify_conf_t                  c;
    tk_tpl_profile_t                 *tpl = data;
    tk_tpl_profile_ntf_rows_t        *rows;
    tk_tpl_profile_ntf_rows_cells_t  *cells;
    tk_tpl_profile_ntf_groups_t      *g;
    ngx_http_ticket_group_right_t    *gr;

    de = ngx_http_ticket_lang_de(ctx);
    tk_notify_conf_default(&c);

    if (conf) {
        pairs = ngx_http_ticket_reply_pairs(r, conf, &n);
        if (pairs) {
            tk_notify_conf_parse(&c, pairs, n);
        }
    } else if (ngx_http_ticket_ntf_form(r, ctx, &c, &error) == NGX_ERROR) {
        return NGX_ERROR;
    }

    rows = ngx_pcalloc(r->pool, TK_NEV_N * sizeof(*rows));
    cells = ngx_pcalloc(r->pool, TK_NEV_N * TK_NSC_N * sizeof(*cells));
    if (rows == NULL || cells == NULL) {
        return NGX_ERROR;
    }

    for (ev = 0; ev < TK_NEV_N; ev++) {
        ngx_http_ticket_cstr(&rows[ev].event, tk_notify_event_name(ev));
        ngx_http_ticket_cstr(&rows[ev].label,
                             de ? ngx_http_ticket_ntf_rows_de[ev]
                                : ngx_http_ticket_ntf_rows_en[ev]);
        rows[ev].cells = &cells[ev * TK_NSC_N];
        rows[ev].cells_n = TK_NSC_N;

        for (sc = 0; sc < TK_NSC_N; sc++) {
            if (ngx_http_ticket_ntf_field(r, ev, sc,
                                          &rows[ev].cells[sc].name)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
            ngx_http_ticket_cstr(&rows[ev].cells[sc].column,
                                 de ? ngx_http_ticket_ntf_cols_de[sc]
                                    : ngx_http_ticket_ntf_cols_en[sc]);
            rows[ev].cells[sc].on = c.m[ev][sc];
        }
    }

    tpl->ntf_rows = rows;
    tpl->ntf_rows_n = TK_NEV_N;
    tpl->ntf_assigned = c.assigned;
    tpl->ntf_email = c.email;
    tpl->digest_off = c.digest == TK_DIGEST_OFF;
    tpl->digest_hourly = c.digest == TK_DIGEST_HOURLY;
    tpl->digest_daily = c.digest == TK_DIGEST_DAILY;

    /* the groups the user may read, for the scope "unassigned" */
    gr = ctx->groups.elts;
    g = ngx_pcalloc(r->pool, (ctx->groups.nelts + 1) * sizeof(*g));
    if (g == NULL) {
        return NGX_ERROR;
    }

    for (i = 0, n = 0; i < ctx->groups.nelts; i++) {
        if (gr[i].right == TK_RIGHT_NONE) {
            continue;
        }
        g[n].name = *ngx_ticket_str(&gr[i].name);
        g[n].on = ngx_http_ticket_ntf_in(&c.groups, &gr[i].name);
        if (ngx_http_ticket_ntf_group_field(r, &gr[i].name, &g[n].field)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
        n++;
    }

    tpl->ntf_groups = g;
    tpl->ntf_groups_n = n;

    return ngx_http_ticket_url(r, "profile/notifications",
                               sizeof("profile/notifications") - 1,
                               &tpl->notify_url);
}


/* "create:mine" */
static ngx_int_t
ngx_http_ticket_ntf_field(ngx_http_request_t *r, int ev, int sc,
    tk_str_t *out)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, 32);
    if (p == NULL) {
        return NGX_ERROR;
    }
    out->data = p;
    out->len = ngx_sprintf(p, "%s:%s", tk_notify_event_name(ev),
                           tk_notify_scope_name(sc)) - p;
    return NGX_OK;
}


/* "g:legal" */
static ngx_int_t
ngx_http_ticket_ntf_group_field(ngx_http_request_t *r, ngx_str_t *group,
    tk_str_t *out)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, group->len + 3);
    if (p == NULL) {
        return NGX_ERROR;
    }
    out->data = p;
    out->len = ngx_sprintf(p, "g:%V", group) - p;
    p[out->len] = '\0';
    return NGX_OK;
}


static ngx_flag_t
ngx_http_ticket_ntf_in(tk_str_t *list, ngx_str_t *word)
{
    size_t  i = 0, j;

    while (i < list->len) {
        for (j = i; j < list->len && list->data[j] != ','; j++) {
            /* to the next comma */
        }
        if (j - i == word->len
            && ngx_strncmp(list->data + i, word->data, word->len) == 0)
        {
            return 1;
        }
        i = j + 1;
    }
    return 0;
}


static ngx_flag_t
ngx_http_ticket_ntf_on(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    const char *name)
{
    ngx_str_t  v;

    return ngx_http_ticket_form_arg(r, ctx, name, &v) == NGX_OK
           && v.len == 1 && v.data[0] == '1';
}


/*
 * The form into conf: unticked boxes are absent from a form, so absent
 * is "off".  NGX_DECLINED with *error: a value that is not one of ours.
 */
static ngx_int_t
ngx_http_ticket_ntf_form(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    tk_notify_conf_t *conf, const char **error)
{
    int                             ev, sc, d;
    u_char                         *p;
    tk_str_t                        name, dig;
    ngx_str_t                       v;
    ngx_uint_t                      i;
    ngx_http_ticket_group_right_t  *gr;

    ngx_memzero(conf, sizeof(*conf));
    *error = NULL;

    for (ev = 0; ev < TK_NEV_N; ev++) {
        for (sc = 0; sc < TK_NSC_N; sc++) {
            if (ngx_http_ticket_ntf_field(r, ev, sc, &name) != NGX_OK) {
                return NGX_ERROR;
            }
            name.data[name.len] = '\0';
            conf->m[ev][sc] = ngx_http_ticket_ntf_on(r, ctx,
                                                     (char *) name.data);
        }
    }

    conf->assigned = ngx_http_ticket_ntf_on(r, ctx, "assigned");
    conf->email = ngx_http_ticket_ntf_on(r, ctx, "email");

    ngx_http_ticket_form_value(r, ctx, "digest", &v);
    dig.data = v.data;
    dig.len = v.len;
    d = tk_digest_parse(&dig);
    if (d < 0) {
        *error =
            ngx_http_ticket_msg(ctx,
                TK_MSG_PROFILE_NOTIFY_EMAILS_ONE_BY_ONE_HOURLY_OR);
        d = TK_DIGEST_OFF;
    }
    conf->digest = d;

    /* the groups ticked, in the order of the user's groups */
    gr = ctx->groups.elts;
    p = ngx_pnalloc(r->pool, ctx->groups.nelts * (TK_GROUP_MAX + 1) + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }
    conf->groups.data = p;

    for (i = 0; i < ctx->groups.nelts; i++) {
        if (gr[i].right == TK_RIGHT_NONE || gr[i].name.len > TK_GROUP_MAX
            || ngx_http_ticket_ntf_group_field(r, &gr[i].name, &name)
               != NGX_OK
            || !ngx_http_ticket_ntf_on(r, ctx, (char *) name.data))
        {
            continue;
        }
        if (p != conf->groups.data) {
            *p++ = ',';
        }
        p = ngx_cpymem(p, gr[i].name.data, gr[i].name.len);
    }
    conf->groups.len = p - conf->groups.data;

    return *error ? NGX_DECLINED : NGX_OK;
}


ngx_int_t
ngx_http_ticket_profile_notify_save(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_int_t          rc;
    const char        *error;
    tk_cmds_t         *cmds;
    tk_notify_conf_t   conf;

    rc = ngx_http_ticket_ntf_form(r, ctx, &conf, &error);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (rc == NGX_DECLINED) {
        return ngx_http_ticket_profile_notify_refused(r, ctx, error);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the user's own settings: no page shows them but this one */
    tk_cmds_multi(cmds);
    tk_notify_conf_write(cmds, ngx_ticket_str(&ctx->user.login), &conf);
    tk_cmds_exec(cmds);

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_ntf_saved);
}


static ngx_int_t
ngx_http_ticket_ntf_saved(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    ngx_http_ticket_reply_t  *last;

    last = ctx->nreplies ? &ctx->replies[ctx->nreplies - 1] : NULL;

    if (last == NULL || last->type != REDIS_REPLY_ARRAY) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: saving the notification settings of \"%V\" "
                      "failed", &ctx->user.login);
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL);
    }

    return ngx_http_ticket_redirect(r, "profile?saved=notify#notify",
                                    sizeof("profile?saved=notify#notify")
                                    - 1);
}
