/*
 * ngx_http_ticket_password.c -- passwords checked and hashed (yescrypt,
 * libcrypt) in nginx's "default" thread pool: ~20 ms of CPU each, too
 * long for the event loop.  There is no fallback in the worker: without
 * thread support "ticket" fails nginx -t.
 */

#include "ngx_http_ticket.h"

#include <crypt.h>

#if (NGX_THREADS)
#include <ngx_thread_pool.h>
#endif


/* longer ones are refused before they cost anything */
#define NGX_HTTP_TICKET_PASSWORD_MAX    1024


/* A yescrypt job for the thread pool: everything it touches is here. */
typedef struct {
    ngx_http_request_t        *request;
    ngx_http_ticket_ctx_t     *ctx;
    ngx_http_ticket_step_pt    step;
    ngx_flag_t                 hash;            /* 1: hash, 0: check */
    ngx_flag_t                 ok;
    char                      *password;
    char                       setting[CRYPT_OUTPUT_SIZE];
    char                       output[CRYPT_OUTPUT_SIZE];
    struct crypt_data          data;
} ngx_http_ticket_crypt_t;


static ngx_int_t ngx_http_ticket_crypt(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *setting, ngx_str_t *password,
    ngx_flag_t hash, ngx_http_ticket_step_pt step);
#if (NGX_THREADS)
static void ngx_http_ticket_crypt_thread(void *data, ngx_log_t *log);
static void ngx_http_ticket_crypt_done(ngx_event_t *ev);
static ngx_int_t ngx_http_ticket_crypt_finish(ngx_http_request_t *r,
    ngx_http_ticket_crypt_t *job);
#endif


ngx_int_t
ngx_http_ticket_password_check(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *hash, ngx_str_t *password,
    ngx_http_ticket_step_pt step)
{
    return ngx_http_ticket_crypt(r, ctx, hash, password, 0, step);
}


ngx_int_t
ngx_http_ticket_password_hash(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *password,
    ngx_http_ticket_step_pt step)
{
    return ngx_http_ticket_crypt(r, ctx, NULL, password, 1, step);
}


/*
 * yescrypt costs ~20 ms of CPU: it runs in the thread pool while the
 * request waits (r->main->blocked keeps nginx from freeing the request and
 * the job, which lives in its pool, until the thread is done).
 */
static ngx_int_t
ngx_http_ticket_crypt(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_str_t *setting, ngx_str_t *password, ngx_flag_t hash,
    ngx_http_ticket_step_pt step)
{
#if (NGX_THREADS)
    ngx_thread_task_t            *task;
    ngx_http_ticket_crypt_t      *job;
    ngx_http_ticket_main_conf_t  *mcf;
#endif

    ctx->password_ok = 0;
    ngx_str_null(&ctx->password_hash);

    if (password->len > NGX_HTTP_TICKET_PASSWORD_MAX
        || (setting && setting->len >= CRYPT_OUTPUT_SIZE))
    {
        return step(r, ctx);
    }

#if (NGX_THREADS)
    mcf = ngx_http_get_module_main_conf(r, ngx_http_ticket_module);

    if (mcf->thread_pool == NULL) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "ticket: no thread pool for password hashing");
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     NULL);
    }

    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_http_ticket_crypt_t));
    if (task == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    job = task->ctx;

    job->request = r;
    job->ctx = ctx;
    job->step = step;
    job->hash = hash;

    job->password = ngx_pnalloc(r->pool, password->len + 1);
    if (job->password == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ngx_cpymem(job->password, password->data, password->len) = '\0';

    if (setting) {
        *ngx_cpymem(job->setting, setting->data, setting->len) = '\0';
    }

    task->handler = ngx_http_ticket_crypt_thread;
    task->event.handler = ngx_http_ticket_crypt_done;
    task->event.data = job;
    task->event.log = r->connection->log;

    if (ngx_thread_task_post(mcf->thread_pool, task) != NGX_OK) {
        return ngx_http_ticket_error(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     NULL);
    }

    r->main->blocked++;
    r->main->count++;

    return NGX_DONE;
#else
    /* unreachable: "ticket" refuses a configuration without threads
     * (ngx_http_ticket_module.c), and a worker never hashes itself */
    return ngx_http_ticket_error(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE, NULL);
#endif
}


#if (NGX_THREADS)

/* In a pool thread: touches nothing but the job. */
static void
ngx_http_ticket_crypt_thread(void *data, ngx_log_t *log)
{
    ngx_http_ticket_crypt_t  *job = data;

    char    *out;
    size_t   i, len;
    u_char   diff;

    job->ok = 0;

    if (job->hash
        && crypt_gensalt_rn("$y$", 0, NULL, 0, job->setting,
                            sizeof(job->setting))
           == NULL)
    {
        return;
    }

    out = crypt_r(job->password, job->setting, &job->data);

    if (out != NULL && out[0] != '*') {
        len = ngx_strlen(out);

        if (job->hash) {
            if (len < sizeof(job->output)) {
                ngx_memcpy(job->output, out, len + 1);
                job->ok = 1;
            }

        } else if (len == ngx_strlen(job->setting)) {
            diff = 0;

            for (i = 0; i < len; i++) {
                diff |= (u_char) (out[i] ^ job->setting[i]);
            }

            job->ok = (diff == 0);
        }
    }

    explicit_bzero(&job->data, sizeof(job->data));
    explicit_bzero(job->password, ngx_strlen(job->password));
}


static void
ngx_http_ticket_crypt_done(ngx_event_t *ev)
{
    ngx_http_ticket_crypt_t  *job = ev->data;

    ngx_int_t            rc;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = job->request;
    c = r->connection;

    r->main->blocked--;

    if (c->error) {
        /* the request was terminated while the thread ran */
        ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
        ngx_http_run_posted_requests(c);
        return;
    }

    rc = ngx_http_ticket_crypt_finish(r, job);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_ticket_crypt_finish(ngx_http_request_t *r,
    ngx_http_ticket_crypt_t *job)
{
    size_t                  len;
    ngx_http_ticket_ctx_t  *ctx;

    ctx = job->ctx;

    if (!job->hash) {
        ctx->password_ok = job->ok ? 1 : 0;
        return job->step(r, ctx);
    }

    if (job->ok) {
        len = ngx_strlen(job->output);

        ctx->password_hash.data = ngx_pnalloc(r->pool, len + 1);
        if (ctx->password_hash.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(ctx->password_hash.data, job->output, len + 1);
        ctx->password_hash.len = len;

    } else {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, ngx_errno,
                      "ticket: could not hash a password");
    }

    return job->step(r, ctx);
}

#endif /* NGX_THREADS */
