/*
 * ngx_http_ticket_overview_save.c -- keeping what an overview shows: the
 * page's conditions as a definition (a query string, SCHEMA.md "Saved
 * overviews"), the filter and save forms of the page, POST
 * /overview/save ("save as new overview"; "save changes" with the id of
 * one's own) and POST /overview/ID/delete.  Shared overviews are saved
 * by admins; /admin/overviews lists them.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_overview.h"
#include "tk_tpl.h"


#define NGX_HTTP_TICKET_OV_NAME_MAX    80       /* characters */
#define NGX_HTTP_TICKET_OV_SAVED_MAX   100      /* per user */


static ngx_int_t ngx_http_ticket_overview_column_opts(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_tpl_overview_t *tpl);
static ngx_int_t ngx_http_ticket_overview_save(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_overview_saved_id(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_overview_written(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_overview_delete(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *name);
static ngx_int_t ngx_http_ticket_overview_deleted(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static u_char *ngx_http_ticket_overview_put(u_char *p, const char *key,
    ngx_str_t *value);


/*
 * The filters beyond state, priority and group (owner, escalated or
 * reminder due, tag) and the forms to keep what is shown: "save as new
 * overview" (the definition of the page as it is filtered now), and on a
 * saved overview of one's own "save changes" and "delete".
 */
ngx_int_t
ngx_http_ticket_overview_forms(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_tpl_overview_t *tpl)
{
    u_char                      *p;
    ngx_str_t                    def;
    ngx_flag_t                   de;
    ngx_uint_t                   i;
    tk_tpl_overview_who_opts_t  *wo;
    tk_tpl_overview_only_opts_t *oo;
    static const char           *who[] = { "me", "nobody", "auto" };
    static const char           *who_de[] = { "ich", "niemand",
                                              "automatisch" };
    static const char           *who_en[] = { "me", "nobody", "automatic" };

    de = ngx_http_ticket_lang_de(ctx);

    wo = ngx_pcalloc(r->pool, 3 * sizeof(*wo));
    oo = ngx_pcalloc(r->pool, 2 * sizeof(*oo));
    if (wo == NULL || oo == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < 3; i++) {
        ngx_http_ticket_cstr(&wo[i].value, who[i]);
        ngx_http_ticket_cstr(&wo[i].label, de ? who_de[i] : who_en[i]);
        wo[i].selected = (ov->filter_who.len == ngx_strlen(who[i])
                          && ngx_strncmp(ov->filter_who.data, who[i],
                                         ov->filter_who.len) == 0);
    }

    tpl->who_opts = wo;
    tpl->who_opts_n = 3;

    ngx_http_ticket_cstr(&oo[0].value, "escalated");
    ngx_http_ticket_cstr(&oo[0].label,
                         ngx_http_ticket_msg(ctx,
                                             TK_MSG_TICKET_SIDE_ESCALATED));
    oo[0].selected = (ov->filter_only == NGX_HTTP_TICKET_ONLY_ESCALATED);
    ngx_http_ticket_cstr(&oo[1].value, "reminder");
    ngx_http_ticket_cstr(&oo[1].label,
                         ngx_http_ticket_msg(ctx,
                             TK_MSG_OVERVIEW_SAVE_REMINDER_DUE));
    oo[1].selected = (ov->filter_only == NGX_HTTP_TICKET_ONLY_REMINDER);

    tpl->only_opts = oo;
    tpl->only_opts_n = 2;

    if (ngx_http_ticket_overview_column_opts(r, ctx, ov, tpl) != NGX_OK) {
        return NGX_ERROR;
    }
    tpl->tag = *ngx_ticket_str(&ov->filter_tag);
    tpl->from = *ngx_ticket_str(&ov->filter_from);
    tpl->to = *ngx_ticket_str(&ov->filter_to);
    tpl->customer = *ngx_ticket_str(&ov->filter_cust);
    tpl->created_from = *ngx_ticket_str(&ov->filter_cfrom);
    tpl->created_to = *ngx_ticket_str(&ov->filter_cto);

    /* the forms that write */
    tpl->csrf = *ngx_ticket_str(&ctx->csrf);
    tpl->admin = ctx->user.admin;

    if (ngx_http_ticket_overview_def(r, ctx, ov, &def) != NGX_OK
        || ngx_http_ticket_url(r, "overview/save",
                               sizeof("overview/save") - 1, &tpl->save_url)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    tpl->def = *ngx_ticket_str(&def);

    if (ov->current && (ov->current->personal || ctx->user.admin)) {
        tpl->saved_id = *ngx_ticket_str(&ov->current->key);
        tpl->saved_name = *ngx_ticket_str(&ov->current->name);
        tpl->saved_shared = !ov->current->personal;

        p = ngx_pnalloc(r->pool, ov->current->key.len + 32);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_ticket_url(r, (char *) p,
                                ngx_sprintf(p, "overview/%V/delete",
                                            &ov->current->key) - p,
                                &tpl->delete_url)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The column choice of the filter bar: a few sets that work on a phone
 * and without a script ("columns=..." in the URL takes any list).
 */
static ngx_int_t
ngx_http_ticket_overview_column_opts(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    tk_tpl_overview_t *tpl)
{
    ngx_uint_t                      i, c, mask;
    ngx_flag_t                      de;
    tk_tpl_overview_column_opts_t  *co;
    static struct {
        const char  *value;
        const char  *de;
        const char  *en;
        ngx_uint_t   mask;
    } sets[] = {
        { "number,title,owner,updated", "kompakt", "compact",
          (1 << NGX_HTTP_TICKET_COL_NUMBER) | (1 << NGX_HTTP_TICKET_COL_TITLE)
          | (1 << NGX_HTTP_TICKET_COL_OWNER)
          | (1 << NGX_HTTP_TICKET_COL_UPDATED) },
        { "number,title,customer,state,priority,updated",
          "ohne AG und Zuständig", "without group and owner",
          (1 << NGX_HTTP_TICKET_COL_NUMBER) | (1 << NGX_HTTP_TICKET_COL_TITLE)
          | (1 << NGX_HTTP_TICKET_COL_CUSTOMER)
          | (1 << NGX_HTTP_TICKET_COL_STATE)
          | (1 << NGX_HTTP_TICKET_COL_PRIORITY)
          | (1 << NGX_HTTP_TICKET_COL_UPDATED) },
    };

    de = ngx_http_ticket_lang_de(ctx);
    co = ngx_pcalloc(r->pool, 3 * sizeof(*co));
    if (co == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < 2; i++) {
        ngx_http_ticket_cstr(&co[i].value, sets[i].value);
        ngx_http_ticket_cstr(&co[i].label, de ? sets[i].de : sets[i].en);
        co[i].selected = (ov->columns == sets[i].mask);
    }

    tpl->column_opts = co;
    tpl->column_opts_n = 2;

    /* another list (from the URL or a saved overview) is kept as it is */
    mask = ov->columns;

    if (mask && mask != sets[0].mask && mask != sets[1].mask) {
        co[2].value.data = ngx_pnalloc(r->pool, 10 * NGX_HTTP_TICKET_COL_N);
        if (co[2].value.data == NULL) {
            return NGX_ERROR;
        }

        for (c = 0; c < NGX_HTTP_TICKET_COL_N; c++) {
            if (mask & ((ngx_uint_t) 1 << c)) {
                co[2].value.len = ngx_sprintf(co[2].value.data
                                              + co[2].value.len, "%s,",
                                              ngx_http_ticket_col_name(c))
                                  - co[2].value.data;
            }
        }

        co[2].value.len--;
        co[2].label = co[2].value;
        co[2].selected = 1;
        tpl->column_opts_n = 3;
    }

    return NGX_OK;
}


/* ---- the definition of what is shown ------------------------------------ */

/* "&key=value" with the value percent-encoded (nothing for ""). */
static u_char *
ngx_http_ticket_overview_put(u_char *p, const char *key, ngx_str_t *value)
{
    if (value->len == 0) {
        return p;
    }

    p = ngx_sprintf(p, "&%s=", key);
    p += tk_escape_url(p, 3 * value->len, value->data, value->len,
                       TK_URL_COMPONENT);

    return p;
}


/*
 * ov's conditions, filters included, as a definition without the name:
 * "groups=...&states=...&owner=...".  The groups are those the overview
 * covers by name (a group overview's group, "[G] unassigned"'s G and
 * shared groups, a saved list, the group filter).
 */
ngx_int_t
ngx_http_ticket_overview_def(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_overview_t *ov,
    ngx_str_t *def)
{
    u_char                         *p, *start;
    size_t                          len;
    ngx_int_t                       s;
    ngx_uint_t                      g, states;
    ngx_str_t                       v;
    u_char                          buf[16];
    ngx_http_ticket_group_right_t  *gr;

    gr = ctx->groups.elts;
    len = 384 + 3 * (ov->owner.len + ov->tag.len)
          + ngx_http_ticket_overview_cond_len(ov);

    for (g = 0; g < ctx->groups.nelts; g++) {
        len += 3 * gr[g].name.len + 3;
    }

    start = ngx_pnalloc(r->pool, len);
    if (start == NULL) {
        return NGX_ERROR;
    }

    p = start;

    if (ov->filter_group.len || ov->group.len || ov->groups_in) {
        p = ngx_sprintf(p, "&groups=");

        for (g = 0; g < ctx->groups.nelts; g++) {
            if (ngx_http_ticket_overview_has_group(ctx, ov, g)) {
                p += tk_escape_url(p, 3 * gr[g].name.len, gr[g].name.data,
                                   gr[g].name.len, TK_URL_COMPONENT);
                *p++ = ',';
            }
        }

        if (p[-1] == ',') {
            p--;
        }
    }

    states = ov->filter_state ? (ngx_uint_t) 1 << ov->filter_state
                              : ov->states;
    p = ngx_sprintf(p, "&states=");

    for (s = TK_STATE_MIN; s <= TK_STATE_MAX; s++) {
        if (states & (1 << s)) {
            *p++ = (u_char) ('0' + s);
        }
    }

    switch (ov->owner_kind) {
    case NGX_HTTP_TICKET_OWNER_ME:
        ngx_str_set(&v, "me");
        break;
    case NGX_HTTP_TICKET_OWNER_NONE:
        ngx_str_set(&v, "nobody");
        break;
    case NGX_HTTP_TICKET_OWNER_AUTO:
        ngx_str_set(&v, "auto");
        break;
    case NGX_HTTP_TICKET_OWNER_OTHER:
        v = ov->owner;
        break;
    default:
        ngx_str_set(&v, "anyone");
    }

    p = ngx_http_ticket_overview_put(p, "owner", &v);

    if (ov->filter_prio) {
        v.data = buf;
        v.len = ngx_sprintf(buf, "%i", ov->filter_prio) - buf;
        p = ngx_http_ticket_overview_put(p, "priority", &v);
    }

    if (ov->only) {
        ngx_str_set(&v, "escalated");

        if (ov->only == NGX_HTTP_TICKET_ONLY_REMINDER) {
            ngx_str_set(&v, "reminder");
        }

        p = ngx_http_ticket_overview_put(p, "only", &v);
    }

    p = ngx_http_ticket_overview_put(p, "tag", &ov->tag);

    if (ov->upd_from) {
        p = ngx_sprintf(p, "&updated_from=%L", ov->upd_from);
    }

    if (ov->upd_to) {
        p = ngx_sprintf(p, "&updated_to=%L", ov->upd_to);
    }

    p = ngx_http_ticket_overview_cond_def(p, ov);

    p = ngx_sprintf(p, "&sort=%s&dir=%s",
                    ngx_http_ticket_col_name(ov->query.column),
                    ov->query.desc ? "desc" : "asc");

    if (ov->columns) {
        p = ngx_sprintf(p, "&columns=");

        for (s = 0; s < NGX_HTTP_TICKET_COL_N; s++) {
            if (ov->columns & ((ngx_uint_t) 1 << s)) {
                p = ngx_sprintf(p, "%s,", ngx_http_ticket_col_name(s));
            }
        }

        p--;                                    /* the last ',' */
    }

    def->data = start + 1;                      /* without the first '&' */
    def->len = p - start - 1;

    return NGX_OK;
}


/* ---- POST /overview/save, /overview/ID/delete -------------------------- */

ngx_int_t
ngx_http_ticket_overview_post(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_str_t   name;
    const char *prefix = "/overview/";
    size_t      plen;

    if (ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
        return ngx_http_ticket_csrf_refused(r, ctx);
    }

    plen = ngx_strlen(prefix);

    if (ctx->path.len == plen + 4
        && ngx_strncmp(ctx->path.data + plen, "save", 4) == 0)
    {
        return ngx_http_ticket_overview_save(r, ctx);
    }

    if (ctx->path.len > plen + 7
        && ngx_strncmp(ctx->path.data + ctx->path.len - 7, "/delete", 7)
           == 0)
    {
        name.data = ctx->path.data + plen;
        name.len = ctx->path.len - plen - 7;
        return ngx_http_ticket_overview_delete(r, ctx, &name);
    }

    return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
}


/*
 * "Save as new overview": name and the definition the page put into the
 * form, checked again here (parsed on top of "all" and written anew: a
 * group the user cannot read is dropped).  With "id" of one's own
 * overview it is replaced; admins may save a shared one ("shared",
 * "roles", "vgroups").  A bad name: the form's page again with 422.
 */
static ngx_int_t
ngx_http_ticket_overview_save(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_int_t                    n;
    ngx_str_t                    name, def, all, id, shared, roles, vgroups;
    ngx_uint_t                   i, mine;
    tk_cmds_t                   *cmds;
    ngx_http_ticket_saved_t     *sv;
    ngx_http_ticket_overview_t  *ov, *tmp;

    ov = ctx->view;

    ngx_http_ticket_form_value(r, ctx, "name", &name);
    ngx_http_ticket_form_value(r, ctx, "def", &def);
    ngx_http_ticket_form_value(r, ctx, "id", &id);
    ngx_http_ticket_form_value(r, ctx, "shared", &shared);
    ngx_http_ticket_form_value(r, ctx, "roles", &roles);
    ngx_http_ticket_form_value(r, ctx, "vgroups", &vgroups);
    ngx_http_ticket_trim(&name);

    n = ngx_http_ticket_text_chars(&name, 0);

    if (n < 1 || n > NGX_HTTP_TICKET_OV_NAME_MAX
        || def.len > TK_OVERVIEW_DEF_MAX)
    {
        return ngx_http_ticket_error(r, ctx, 422,
                   ngx_http_ticket_msg(ctx,
                       TK_MSG_OVERVIEW_SAVE_THE_OVERVIEW_S_NAME_MUST_BE_1));
    }

    ov->save_shared = (shared.len && ctx->user.admin);

    if (shared.len && !ctx->user.admin) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_FORBIDDEN,
                   ngx_http_ticket_msg(ctx,
                       TK_MSG_OVERVIEW_SAVE_ONLY_ADMINS_CREATE_SHARED));
    }

    ov->save_id = 0;

    if (id.len) {
        sv = ngx_http_ticket_overview_find(ov, &id);

        if (sv == NULL || (!sv->personal && !ctx->user.admin)) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                         "There is no such overview.");
        }

        ov->save_id = sv->id;
        ov->save_shared = !sv->personal;
    }

    mine = 0;
    sv = ov->saved.elts;

    for (i = 0; i < ov->saved.nelts; i++) {
        mine += sv[i].personal;
    }

    if (ov->save_id == 0 && !ov->save_shared
        && mine >= NGX_HTTP_TICKET_OV_SAVED_MAX)
    {
        return ngx_http_ticket_error(r, ctx, 422,
                   ngx_http_ticket_msg(ctx,
                       TK_MSG_OVERVIEW_SAVE_YOU_ALREADY_HAVE_100));
    }

    /* parse what the form says on top of "all", write it out anew */
    tmp = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_overview_t));
    if (tmp == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tmp->saved = ov->saved;
    tmp->all_agents = ov->all_agents;
    ngx_str_set(&all, "all");

    if (ngx_http_ticket_overview_resolve_name(ctx, &all, tmp) != NGX_OK
        || ngx_http_ticket_overview_apply(r, ctx, tmp, &def) != NGX_OK
        || ngx_http_ticket_query_init(r, &tmp->query) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (tmp->def_column >= 0) {
        tmp->query.column = tmp->def_column;
        tmp->query.desc = tmp->def_desc;
    }

    if (ngx_http_ticket_overview_def(r, ctx, tmp, &def) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ov->save_def.data = ngx_pnalloc(r->pool, def.len + 3 * name.len
                                    + 3 * roles.len + 3 * vgroups.len + 32);
    if (ov->save_def.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    {
        u_char  *p;

        p = ngx_sprintf(ov->save_def.data, "name=");
        p += tk_escape_url(p, 3 * name.len, name.data, name.len,
                           TK_URL_COMPONENT);

        if (ov->save_shared) {
            p = ngx_http_ticket_overview_put(p, "roles", &roles);
            p = ngx_http_ticket_overview_put(p, "vgroups", &vgroups);
        }

        *p++ = '&';
        p = ngx_cpymem(p, def.data, def.len);
        ov->save_def.len = p - ov->save_def.data;
    }

    if (ov->save_id) {
        return ngx_http_ticket_overview_saved_id(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the id outside the transaction: a gap is harmless (SCHEMA.md) */
    tk_cmds_add(cmds, "INCR " TK_KEY_SEQ_OVERVIEW);

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_overview_saved_id);
}


/* The id is known: HSET the definition, bump the generation (the
 * sidebar of every cached overview page changes), one MULTI. */
static ngx_int_t
ngx_http_ticket_overview_saved_id(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                   *cmds;
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;

    if (ov->save_id == 0) {
        if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_INTEGER
            || ctx->replies[0].integer <= 0)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ov->save_id = (ngx_uint_t) ctx->replies[0].integer;
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "MULTI");

    if (ov->save_shared) {
        tk_cmds_add(cmds, "HSET " TK_KEY_OVERVIEWS " %llu %S",
                    (unsigned long long) ov->save_id,
                    ngx_ticket_str(&ov->save_def));
    } else {
        tk_cmds_add(cmds, "HSET " TK_FMTS_USER_OVERVIEWS " %llu %S",
                    ngx_ticket_str(&ctx->user.login),
                    (unsigned long long) ov->save_id,
                    ngx_ticket_str(&ov->save_def));
    }

    tk_index_touch(cmds);
    tk_cmds_add(cmds, "EXEC");

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_overview_written);
}


static ngx_int_t
ngx_http_ticket_overview_written(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    u_char                      *p;
    ngx_http_ticket_overview_t  *ov;
    ngx_http_ticket_reply_t     *last;

    ov = ctx->view;
    last = ctx->nreplies ? &ctx->replies[ctx->nreplies - 1] : NULL;

    if (last == NULL || last->type != REDIS_REPLY_ARRAY) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN + sizeof("overview/"));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redirect(r, (char *) p,
                                    ngx_sprintf(p, "overview/%ui",
                                                ov->save_id) - p);
}


/* One's own overview, or as admin a shared one: gone, and the sidebars
 * with it (generation). */
static ngx_int_t
ngx_http_ticket_overview_delete(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *name)
{
    tk_cmds_t                   *cmds;
    ngx_http_ticket_saved_t     *sv;
    ngx_http_ticket_overview_t  *ov;

    ov = ctx->view;
    sv = ngx_http_ticket_overview_find(ov, name);

    if (sv == NULL || (!sv->personal && !ctx->user.admin)) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                     "There is no such overview.");
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "MULTI");

    if (sv->personal) {
        tk_cmds_add(cmds, "HDEL " TK_FMTS_USER_OVERVIEWS " %S",
                    ngx_ticket_str(&ctx->user.login),
                    ngx_ticket_str(&sv->key));
    } else {
        tk_cmds_add(cmds, "HDEL " TK_KEY_OVERVIEWS " %S",
                    ngx_ticket_str(&sv->key));
    }

    tk_index_touch(cmds);
    tk_cmds_add(cmds, "EXEC");

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_overview_deleted);
}


static ngx_int_t
ngx_http_ticket_overview_deleted(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    if (ctx->nreplies == 0
        || ctx->replies[ctx->nreplies - 1].type != REDIS_REPLY_ARRAY)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redirect(r, "overview/my?deleted=1",
                                    sizeof("overview/my?deleted=1") - 1);
}
