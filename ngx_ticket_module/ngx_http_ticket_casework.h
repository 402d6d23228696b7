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
    void *compose_tpl);

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
