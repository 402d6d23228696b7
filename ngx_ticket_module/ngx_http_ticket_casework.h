/*
 * ngx_http_ticket_casework.h -- text modules, ticket templates and the
 * public request form (helper casework): entry points for the router
 * (request.c, admin.c, api.c, reply.c) and what their files share.
 */

#ifndef NGX_HTTP_TICKET_CASEWORK_H
#define NGX_HTTP_TICKET_CASEWORK_H

#include "ngx_http_ticket_views.h"
#include "tk_textmod.h"
#include "ngx_http_ticket_compose.h"

/* casework_list.c: the request of a list page with a form (text
 * modules, templates); the first member of the page's view */
#define NGX_HTTP_TICKET_LIST_SHOW    0
#define NGX_HTTP_TICKET_LIST_SAVE    1
#define NGX_HTTP_TICKET_LIST_DELETE  2

typedef struct {
    const char                *prefix;      /* "admin/templates" */
    ngx_uint_t                 op;          /* NGX_HTTP_TICKET_LIST_* */
    ngx_str_t                  edit;        /* GET ?edit=ID, or empty */
    ngx_str_t                  id;          /* POST; empty: a new one */
} ngx_http_ticket_list_req_t;

/* ctx->path below prefix: refused (405, 404, 400, CSRF), or next with
 * op, edit and id set */
ngx_int_t ngx_http_ticket_list_request(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_step_pt next);
/* a save of a new entry: INCR seq first; then (or at once) write */
ngx_int_t ngx_http_ticket_list_save(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *seq,
    ngx_http_ticket_step_pt write);
/* in write: the new entry's id from the INCR reply (NGX_ERROR: none) */
ngx_int_t ngx_http_ticket_list_new_id(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
/* the step after the write's MULTI: back to the list */
ngx_int_t ngx_http_ticket_list_done(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* textmod.c: "/text-modules" (shared 0: the user's own) and
 * "/admin/text-modules" (shared 1; admin.c checked the role) */
ngx_int_t ngx_http_ticket_textmods(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_flag_t shared);

/* textmod_json.c: GET /api/v1/text_modules?q=&ticket=N (api 1) and
 * GET /text-modules.json?q=&ticket=N (session, for textmod.js) */
ngx_int_t ngx_http_ticket_textmod_json(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/*
 * "::keyword" tokens in *body replaced by the user's (then the shared)
 * text modules, placeholders filled from ticket number -- before the
 * reply or note is written (reply.c); number 0 for a ticket not made yet
 * (the send-email page: {{ticket.number}} etc. stay empty, the agent's
 * name is filled).  Without a token: next at once.  ctx->view is kept
 * for next.
 */
ngx_int_t ngx_http_ticket_textmod_expand(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number, ngx_str_t *body,
    ngx_http_ticket_step_pt next);

/* templates.c: "/admin/templates" (admins), GET /api/v1/templates */
ngx_int_t ngx_http_ticket_templates(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
ngx_int_t ngx_http_ticket_templates_api(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* templates.c: the ticket page's composer -- the choice of templates
 * (tpl->templates), ?template=ID filling subject and body of a fresh
 * form (placeholders from the ticket), the URL textmod.js asks. */
ngx_int_t ngx_http_ticket_template_prefill(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, void *view,
    ngx_http_ticket_compose_t *c, ngx_http_ticket_reply_t *templates,
    ngx_http_ticket_reply_t *chosen, void *compose_tpl);

/* dp.c: data protection -- "/admin/customers" (admin.c checked the
 * role) and "/api/v1/customers/..." (rest: "/customers/...") */
ngx_int_t ngx_http_ticket_dp_admin(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
ngx_int_t ngx_http_ticket_dp_api(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *rest);

/* reqform.c: a "ticket_form on" location: GET the form, POST a request */
ngx_int_t ngx_http_ticket_reqform(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

#endif /* NGX_HTTP_TICKET_CASEWORK_H */
