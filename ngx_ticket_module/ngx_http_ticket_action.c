/*
 * ngx_http_ticket_action.c -- changes to one ticket: POST "/t/N/update"
 * (group, owner, state, priority, reminder), POST "/t/N/title" and the
 * API's PATCH /api/v1/tickets/N (both at once, as JSON turned into this
 * form by ngx_http_ticket_api_write.c; answers in JSON).
 *
 * Changes are optimistic transactions on the ticket key (WATCH, read,
 * MULTI/EXEC through tk_ticket_update, retried on conflict), so two
 * agents changing one ticket at once never lose an index entry.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"
#include "ngx_http_ticket_compose.h"


#define NGX_HTTP_TICKET_TITLE_MAX      200
#define NGX_HTTP_TICKET_TX_RETRIES     5

/* replies of an update's reads */
#define NGX_HTTP_TICKET_U_TICKET       0
#define NGX_HTTP_TICKET_U_GROUPS       1
#define NGX_HTTP_TICKET_U_ALL_AGENTS   2
#define NGX_HTTP_TICKET_U_OWNER        3


typedef struct {
    uint64_t                   number;
    ngx_str_t                  key;             /* tk:{t:N} */
    ngx_uint_t                 action;          /* UPDATE or RENAME */

    /* the change asked for; a field not posted stays as it is */
    unsigned                   set_group:1;
    unsigned                   set_owner:1;
    unsigned                   set_state:1;
    unsigned                   set_priority:1;
    unsigned                   set_pending:1;
    unsigned                   set_title:1;
    int64_t                    rev;             /* PATCH's; -1: any */

    /* a field that cannot be taken: told after the rights were checked
     * (a ticket one may not change is a 404/403 whatever was posted) */
    const char                *error;
    const char                *error_field;
    ngx_str_t                  group;
    ngx_str_t                  owner;
    ngx_str_t                  owner_check;     /* posted, changed or not */
    ngx_int_t                  state;
    ngx_int_t                  priority;
    int64_t                    pending_until;
    ngx_str_t                  title;
} ngx_http_ticket_action_t;


static ngx_int_t ngx_http_ticket_action_field(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *name, ngx_str_t *value);
static ngx_int_t ngx_http_ticket_action_form(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_action_t *act,
    const char **error, const char **field);
static ngx_int_t ngx_http_ticket_action_begin(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_action_change(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_action_invalid(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *field, const char *message);
static ngx_int_t ngx_http_ticket_action_no_access(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *name, tk_str_t *group);
static ngx_int_t ngx_http_ticket_action_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_action_back(ngx_http_request_t *r,
    ngx_http_ticket_action_t *act);
static ngx_flag_t ngx_http_ticket_action_rev_is(ngx_http_ticket_ctx_t *ctx,
    int64_t rev);


/*
 * POST /t/N/update and /t/N/title: the CSRF token first, then every
 * field on its own (400 with a message that says what is wrong), and
 * only then the transaction that checks rights against the stored
 * ticket.  Nothing is written before all of that passed.
 */
ngx_int_t
ngx_http_ticket_action(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number, ngx_uint_t action)
{
    const char                *error, *field;
    ngx_http_ticket_action_t  *act;

    act = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_action_t));
    if (act == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->view = act;

    act->number = number;
    act->action = action;
    act->rev = -1;

    if (ngx_http_ticket_ticket_key(r, number, &act->key) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_ticket_check_csrf(r, ctx) != NGX_OK) {
        return ngx_http_ticket_csrf_refused(r, ctx);
    }

    if (ngx_http_ticket_action_form(r, ctx, act, &error, &field) != NGX_OK) {
        if (error == NULL) {
            return ngx_http_ticket_error(r, ctx, NGX_HTTP_BAD_REQUEST, NULL);
        }

        act->error = error;
        act->error_field = field;
    }

    ctx->tx_retries = 0;

    return ngx_http_ticket_action_begin(r, ctx);
}


/*
 * A posted field counts only if it differs from what the form showed
 * ("was_NAME"): an agent who changes the priority in a form opened an
 * hour ago must not reset the state someone else set meanwhile.  Without
 * "was_NAME" (scripts, old forms) the field counts.
 */
static ngx_int_t
ngx_http_ticket_action_field(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    const char *name, ngx_str_t *value)
{
    u_char     buf[32];
    ngx_int_t  rc;
    ngx_str_t  was;

    rc = ngx_http_ticket_form_arg(r, ctx, name, value);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_snprintf(buf, sizeof(buf), "was_%s%Z", name);

    rc = ngx_http_ticket_form_arg(r, ctx, (char *) buf, &was);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK && was.len == value->len
        && ngx_strncmp(was.data, value->data, was.len) == 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * Read and check the posted fields: NGX_OK, or NGX_ERROR with *error
 * set to what is wrong with *field (NULL for a malformed body).
 */
static ngx_int_t
ngx_http_ticket_action_form(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_action_t *act, const char **error, const char **field)
{
    ngx_int_t   n, rc;
    ngx_str_t   value;

    *error = NULL;
    *field = NULL;

    /* the title: the title form's only field, PATCH's when named */
    rc = (act->action == NGX_HTTP_TICKET_UPDATE)
         ? NGX_DECLINED : ngx_http_ticket_form_arg(r, ctx, "title", &value);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED && act->action == NGX_HTTP_TICKET_RENAME) {
        ngx_str_set(&value, "");
        rc = NGX_OK;
    }

    if (rc == NGX_OK) {

        ngx_http_ticket_trim(&value);
        n = ngx_http_ticket_text_chars(&value, 0);

        if (n < 1 || n > NGX_HTTP_TICKET_TITLE_MAX) {
            *field = "title";
            *error =
                ngx_http_ticket_msg(ctx,
                                    TK_MSG_ACTION_THE_TITLE_MUST_BE_1_TO_200);
            return NGX_ERROR;
        }

        act->title = value;
        act->set_title = 1;

        if (act->action == NGX_HTTP_TICKET_RENAME) {
            return NGX_OK;
        }
    }

    /* PATCH: the rev the change was made against */
    if (act->action == NGX_HTTP_TICKET_PATCH
        && ngx_http_ticket_form_arg(r, ctx, "rev", &value) == NGX_OK
        && value.len)
    {
        act->rev = ngx_atoi(value.data, value.len);
        if (act->rev < 0) {
            *field = "rev";
            *error = "must be the ticket's rev (a number)";
            return NGX_ERROR;
        }
    }

    rc = ngx_http_ticket_action_field(r, ctx, "state", &value);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        act->state = tk_state_parse((char *) value.data, value.len);
        if (act->state < TK_STATE_MIN || act->state > TK_STATE_MAX) {
            *field = "state";
            *error =
                ngx_http_ticket_msg(ctx,
                    TK_MSG_ACTION_THERE_IS_NO_SUCH_STATE_1_TO_6);
            return NGX_ERROR;
        }

        act->set_state = 1;
    }

    rc = ngx_http_ticket_action_field(r, ctx, "priority", &value);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        act->priority = tk_prio_parse((char *) value.data, value.len);
        if (act->priority < TK_PRIO_MIN || act->priority > TK_PRIO_MAX) {
            *field = "priority";
            *error =
                ngx_http_ticket_msg(ctx,
                                    TK_MSG_ACTION_THERE_IS_NO_SUCH_PRIORITY_1);
            return NGX_ERROR;
        }

        act->set_priority = 1;
    }

    rc = ngx_http_ticket_action_field(r, ctx, "group", &value);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        if (!tk_valid_group(ngx_ticket_str(&value))) {
            *field = "group";
            *error = ngx_http_ticket_msg(ctx,
                                         TK_MSG_ACTION_THERE_IS_NO_SUCH_GROUP);
            return NGX_ERROR;
        }

        act->group = value;
        act->set_group = 1;
    }

    /* the owner as posted, changed or not: a move to another group
     * checks that they may see it */
    if (ngx_http_ticket_form_arg(r, ctx, "owner", &value) == NGX_OK
        && tk_valid_login(ngx_ticket_str(&value)))
    {
        act->owner_check = value;
    }

    rc = ngx_http_ticket_action_field(r, ctx, "owner", &value);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        if (value.len && !tk_valid_login(ngx_ticket_str(&value))) {
            *field = "owner";
            *error = ngx_http_ticket_msg(ctx,
                                         TK_MSG_ACTION_THERE_IS_NO_SUCH_AGENT);
            return NGX_ERROR;
        }

        act->owner = value;
        act->set_owner = 1;
    }

    rc = ngx_http_ticket_action_field(r, ctx, "pending_until", &value);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        ngx_http_ticket_trim(&value);

        if (value.len
            && ngx_http_ticket_parse_local_time(&value, &act->pending_until)
               != NGX_OK)
        {
            *field = "pending_until";
            *error =
                ngx_http_ticket_msg(ctx,
                                    TK_MSG_ACTION_THE_REMINDER_DATE_IS_NOT);
            return NGX_ERROR;
        }

        act->set_pending = value.len ? 1 : 0;
    }

    return NGX_OK;
}


/*
 * WATCH the ticket and read it together with what the checks need: the
 * groups, the all-agents groups and, when an owner is named, that user.
 * Runs again after a conflict.
 */
static ngx_int_t
ngx_http_ticket_action_begin(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                 *cmds;
    ngx_http_ticket_action_t  *act;

    act = ctx->view;

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_cmds_add(cmds, "HGETALL %S", ngx_ticket_str(&act->key));
    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_GROUPS);
    tk_cmds_add(cmds, "SMEMBERS " TK_KEY_GROUPS_ALL);

    if (act->set_owner && act->owner.len) {
        act->owner_check = act->owner;
    }

    if (act->owner_check.len) {
        tk_cmds_add(cmds, "HMGET " TK_FMTS_USER " " TK_F_LOGIN " "
                    TK_F_RIGHTS " " TK_F_DISABLED " " TK_F_NAME,
                    ngx_ticket_str(&act->owner_check));
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_tx_begin(r, ctx, &act->key, 1, cmds,
                                    ngx_http_ticket_action_change);
}


/*
 * The stored ticket is in: check rights and references against it,
 * build the new ticket and write it with the shared write path.  A
 * request that changes nothing writes nothing (and gets the same 303).
 */
static ngx_int_t
ngx_http_ticket_action_change(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    tk_cmds_t                 *cmds;
    ngx_int_t                  right;
    ngx_str_t                  rights, disabled, login, name;
    ngx_flag_t                 all_agents, moved;
    tk_ticket_t                old, new;
    ngx_http_ticket_reply_t   *rep;
    ngx_http_ticket_action_t  *act;

    act = ctx->view;

    if (ctx->nreplies < NGX_HTTP_TICKET_U_OWNER) {
        return ngx_http_ticket_action_refuse(r, ctx,
                                             NGX_HTTP_INTERNAL_SERVER_ERROR,
                                             NULL);
    }

    if (ngx_http_ticket_ticket_parse(r,
                                     &ctx->replies[NGX_HTTP_TICKET_U_TICKET],
                                     &old)
        != NGX_OK)
    {
        return ngx_http_ticket_action_refuse(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    right = ngx_http_ticket_right(ctx, (ngx_str_t *) &old.group);

    if (right == TK_RIGHT_NONE) {
        return ngx_http_ticket_action_refuse(r, ctx, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (right != TK_RIGHT_FULL) {
        return ngx_http_ticket_action_refuse(r, ctx, NGX_HTTP_FORBIDDEN,
                                   ngx_http_ticket_msg(ctx,
                                       TK_MSG_COMMON_YOU_HAVE_READ_ACCESS_TO_THIS));
    }

    if (act->error) {
        if (act->action == NGX_HTTP_TICKET_RENAME) {
            return ngx_http_ticket_action_refuse(r, ctx, NGX_HTTP_BAD_REQUEST,
                                                 act->error);
        }

        return ngx_http_ticket_action_invalid(r, ctx, act->error_field,
                                              act->error);
    }

    /* PATCH against an older rev: someone changed it since (409) */
    if (act->rev >= 0 && !ngx_http_ticket_action_rev_is(ctx, act->rev)) {
        ngx_http_ticket_tx_abort(r, ctx);
        return ngx_http_ticket_compose_json_error(r, NGX_HTTP_CONFLICT, "rev",
                   "the ticket changed since that rev: read it again");
    }

    new = old;

    if (act->set_title) {
        new.title = *ngx_ticket_str(&act->title);
    }

    if (act->action == NGX_HTTP_TICKET_RENAME) {
        goto write;
    }

    if (act->set_group && !tk_str_eq(ngx_ticket_str(&act->group), &old.group)) {

        if (!ngx_http_ticket_set_has(&ctx->replies[NGX_HTTP_TICKET_U_GROUPS],
                                     &act->group))
        {
            return ngx_http_ticket_action_invalid(r, ctx, "group",
                                   ngx_http_ticket_msg(ctx,
                                       TK_MSG_ACTION_THERE_IS_NO_SUCH_GROUP));
        }

        if (ngx_http_ticket_right(ctx, &act->group) != TK_RIGHT_FULL) {
            return ngx_http_ticket_action_invalid(r, ctx, "group",
                                   ngx_http_ticket_msg(ctx,
                                       TK_MSG_ACTION_YOU_MAY_NOT_MOVE_TICKETS_INTO));
        }

        new.group = *ngx_ticket_str(&act->group);
    }

    if (act->set_owner) {
        new.owner = *ngx_ticket_str(&act->owner);
    }

    if (act->set_state) {
        new.state = (int) act->state;
    }

    if (act->set_priority) {
        new.priority = (int) act->priority;
    }

    /* the reminder belongs to "waiting with reminder" only */
    if (new.state != TK_STATE_REMINDER) {
        new.pending_until = 0;

    } else if (act->set_pending) {
        new.pending_until = act->pending_until;
    }

    /* "waiting with reminder" without a date would never remind */
    if (new.state == TK_STATE_REMINDER && new.pending_until == 0) {
        return ngx_http_ticket_action_invalid(r, ctx, "pending_until",
                   ngx_http_ticket_msg(ctx,
                       TK_MSG_ACTION_WAITING_WITH_REMINDER_NEEDS_A));
    }

    /* a named owner must be an enabled agent with a right on the group
     * the ticket ends up in (checked when owner or group change) */
    moved = !tk_str_eq(&new.group, &old.group);

    if (new.owner.len && (moved || !tk_str_eq(&new.owner, &old.owner))) {

        /* the user read is the one the new owner is (someone else may
         * have assigned the ticket meanwhile: then there is no check) */
        rep = (act->owner_check.len
               && tk_str_eq(ngx_ticket_str(&act->owner_check), &new.owner)
               && ctx->nreplies > NGX_HTTP_TICKET_U_OWNER)
              ? &ctx->replies[NGX_HTTP_TICKET_U_OWNER] : NULL;

        if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->nelem != 4) {
            if (act->set_owner) {
                return ngx_http_ticket_action_invalid(r, ctx, "owner",
                                   ngx_http_ticket_msg(ctx,
                                       TK_MSG_ACTION_THERE_IS_NO_SUCH_AGENT));
            }

            goto write;
        }

        ngx_http_ticket_reply_str(&rep->element[0], &login);
        ngx_http_ticket_reply_str(&rep->element[1], &rights);
        ngx_http_ticket_reply_str(&rep->element[2], &disabled);
        ngx_http_ticket_reply_str(&rep->element[3], &name);

        all_agents = ngx_http_ticket_set_has(
                         &ctx->replies[NGX_HTTP_TICKET_U_ALL_AGENTS],
                         (ngx_str_t *) &new.group);

        if (login.len == 0 || ngx_http_ticket_flag_on(&disabled)) {
            return ngx_http_ticket_action_invalid(r, ctx, "owner",
                                   ngx_http_ticket_msg(ctx,
                                       TK_MSG_ACTION_THERE_IS_NO_SUCH_AGENT));
        }

        if (tk_rights_get(ngx_ticket_str(&rights), &new.group, all_agents)
            == TK_RIGHT_NONE)
        {
            return ngx_http_ticket_action_no_access(r, ctx,
                                                    name.len ? &name : &login,
                                                    &new.group);
        }
    }

write:

    if (tk_str_eq(&new.title, &old.title)
        && tk_str_eq(&new.group, &old.group)
        && tk_str_eq(&new.owner, &old.owner)
        && new.state == old.state
        && new.priority == old.priority
        && new.pending_until == old.pending_until)
    {
        ngx_http_ticket_tx_abort(r, ctx);
        return ngx_http_ticket_action_back(r, act);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_ticket_update(cmds, &old, &new, ngx_ticket_str(&ctx->user.login),
                     (int64_t) ngx_time());

    if (cmds->failed) {
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_tx_commit(r, ctx, cmds,
                                     ngx_http_ticket_action_committed);
}


/* An error page for a change refused inside the transaction. */
ngx_int_t
ngx_http_ticket_action_refuse(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_uint_t status, const char *message)
{
    ngx_http_ticket_tx_abort(r, ctx);

    return ngx_http_ticket_error(r, ctx, status, message);
}


/* A form refused inside the transaction: the ticket page again (422). */
ngx_int_t
ngx_http_ticket_action_again(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t number, const char *field, const char *message)
{
    ngx_str_t  msg;

    ngx_http_ticket_tx_abort(r, ctx);

    msg.data = (u_char *) message;
    msg.len = ngx_strlen(message);

    return ngx_http_ticket_view_again(r, ctx, number, field, &msg);
}


/*
 * A value of the update form that cannot be taken: the ticket page
 * again, its form as submitted, the message next to the field -- not an
 * error page (ngx_http_ticket_view_again).
 */
static ngx_int_t
ngx_http_ticket_action_invalid(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *field, const char *message)
{
    ngx_http_ticket_action_t  *act;

    act = ctx->view;

    if (ctx->api) {
        ngx_http_ticket_tx_abort(r, ctx);
        return ngx_http_ticket_compose_json_error(r, 422, field, message);
    }

    return ngx_http_ticket_action_again(r, ctx, act->number, field, message);
}


/* "Sanne Weber hat keinen Zugriff auf ALSO: ..." -- and what to do. */
static ngx_int_t
ngx_http_ticket_action_no_access(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *name, tk_str_t *group)
{
    u_char                    *p;
    size_t                     len;
    ngx_str_t                  msg;
    ngx_http_ticket_action_t  *act;

    act = ctx->view;

    len = name->len + group->len + 128;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        ngx_http_ticket_tx_abort(r, ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    msg.data = p;
    msg.len = ngx_snprintf(p, len - 1,
                           ngx_http_ticket_msg(ctx,
                               TK_MSG_ACTION_V_HAS_NO_ACCESS_TO_V_CLEAR),
                           name, (ngx_str_t *) group)
              - p;
    p[msg.len] = '\0';

    ngx_http_ticket_tx_abort(r, ctx);

    if (ctx->api) {
        return ngx_http_ticket_compose_json_error(r, 422, "owner",
                                                  (char *) msg.data);
    }

    return ngx_http_ticket_view_again(r, ctx, act->number, "owner", &msg);
}


/*
 * EXEC is done.  Someone else changed the ticket between our read and
 * our write: read it again and re-apply the change on top, a few times;
 * then give up with a message rather than overwrite their change.
 */
static ngx_int_t
ngx_http_ticket_action_committed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                 i;
    ngx_http_ticket_action_t  *act;

    act = ctx->view;

    if (ctx->tx_conflict) {
        ctx->tx_conflict = 0;

        if (++ctx->tx_retries < NGX_HTTP_TICKET_TX_RETRIES) {
            return ngx_http_ticket_action_begin(r, ctx);
        }

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "ticket: %V changed %ui times during an update, "
                      "giving up", &act->key, ctx->tx_retries);

        return ngx_http_ticket_error(r, ctx, NGX_HTTP_CONFLICT,
                                     ngx_http_ticket_msg(ctx,
                                         TK_MSG_ACTION_THE_TICKET_WAS_BEING_CHANGED));
    }

    for (i = 0; i < ctx->nreplies; i++) {
        if (ngx_http_ticket_reply_is_error(&ctx->replies[i])) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "ticket: writing %V failed: %V", &act->key,
                          &ctx->replies[i].str);
            return ngx_http_ticket_error(r, ctx,
                                         NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         NULL);
        }
    }

    return ngx_http_ticket_action_back(r, act);
}


/* 303 to the ticket page: the browser shows the result of the change;
 * the API gets the ticket as GET shows it now. */
static ngx_int_t
ngx_http_ticket_action_back(ngx_http_request_t *r,
    ngx_http_ticket_action_t *act)
{
    u_char                 *p, *last;
    ngx_http_ticket_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ticket_module);

    if (ctx->api) {
        return ngx_http_ticket_api_ticket_get(r, ctx, act->number);
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 2);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = ngx_sprintf(p, "t/%uL", act->number);

    return ngx_http_ticket_redirect(r, (char *) p, last - p);
}


/* The stored ticket's rev (read under WATCH) is rev. */
static ngx_flag_t
ngx_http_ticket_action_rev_is(ngx_http_ticket_ctx_t *ctx, int64_t rev)
{
    ngx_str_t  *stored;

    stored = ngx_http_ticket_reply_field(
                          &ctx->replies[NGX_HTTP_TICKET_U_TICKET], TK_F_REV);

    if (stored == NULL || stored->len == 0) {
        return rev == 0;
    }

    return ngx_atoi(stored->data, stored->len) == rev;
}
