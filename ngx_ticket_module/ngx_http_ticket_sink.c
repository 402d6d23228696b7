/*
 * ngx_http_ticket_sink.c -- the tk_out_t sink over nginx buffers: what
 * templates and escaping write goes into a chain of request-pool buffers
 * (no malloc), which can be linked into another or sent
 * (ngx_http_ticket_output.c).
 */

#include "ngx_http_ticket.h"


#define NGX_HTTP_TICKET_CHUNK  8192


/* State of a tk_out_t writing into a chain of r->pool buffers. */
typedef struct {
    ngx_pool_t                *pool;
    ngx_chain_t               *first;
    ngx_chain_t               *last;           /* the link being written */
} ngx_http_ticket_out_chain_t;


static int ngx_http_ticket_out_more(tk_out_t *out, size_t min);


ngx_int_t
ngx_http_ticket_out_init(ngx_http_request_t *r, tk_out_t *out)
{
    ngx_http_ticket_out_chain_t  *oc;

    ngx_memzero(out, sizeof(tk_out_t));

    oc = ngx_pcalloc(r->pool, sizeof(ngx_http_ticket_out_chain_t));
    if (oc == NULL) {
        out->failed = 1;
        return NGX_ERROR;
    }

    oc->pool = r->pool;

    out->more = ngx_http_ticket_out_more;
    out->data = oc;
    out->lang = (int) ngx_http_ticket_page_lang(r,
                          ngx_http_get_module_ctx(r, ngx_http_ticket_module));

    return NGX_OK;
}


/*
 * Close the buffer being written and append a new one of at least min
 * bytes.  An empty current buffer is replaced rather than kept: nginx
 * warns about zero-size buffers in an output chain.
 */
static int
ngx_http_ticket_out_more(tk_out_t *out, size_t min)
{
    size_t                        size;
    ngx_buf_t                    *b;
    ngx_chain_t                  *cl;
    ngx_http_ticket_out_chain_t  *oc;

    oc = out->data;

    size = ngx_max(min, NGX_HTTP_TICKET_CHUNK);

    b = ngx_create_temp_buf(oc->pool, size);
    if (b == NULL) {
        return -1;
    }

    if (oc->last && out->pos == oc->last->buf->pos) {
        oc->last->buf = b;

    } else {
        if (oc->last) {
            oc->last->buf->last = out->pos;
        }

        cl = ngx_alloc_chain_link(oc->pool);
        if (cl == NULL) {
            return -1;
        }

        cl->buf = b;
        cl->next = NULL;

        if (oc->last) {
            oc->last->next = cl;

        } else {
            oc->first = cl;
        }

        oc->last = cl;
    }

    out->pos = b->pos;
    out->end = b->end;

    return 0;
}


/*
 * Close out: what was written as a chain of non-empty buffers (NULL when
 * nothing was) and its length.  Nothing more may be written to out then;
 * the chain may go into another out (ngx_http_ticket_out_link).
 */
ngx_int_t
ngx_http_ticket_out_chain(tk_out_t *out, ngx_chain_t **chain, off_t *len)
{
    off_t                         n;
    ngx_chain_t                  *cl, **ll;
    ngx_http_ticket_out_chain_t  *oc;

    oc = out->data;

    if (out->failed || oc == NULL) {
        return NGX_ERROR;
    }

    if (oc->last) {
        oc->last->buf->last = out->pos;
    }

    /* drop empty buffers; count the rest */
    n = 0;

    for (ll = &oc->first; *ll; /* void */) {
        cl = *ll;

        if (cl->buf->last == cl->buf->pos) {
            *ll = cl->next;
            continue;
        }

        n += cl->buf->last - cl->buf->pos;
        ll = &cl->next;
    }

    *chain = oc->first;
    *len = n;

    return NGX_OK;
}


/*
 * Append a closed chain (another out's, or memory the request owns) to
 * out without copying it, then go on writing in what is left of the
 * current buffer.  A failure marks out as failed, like any write.
 */
ngx_int_t
ngx_http_ticket_out_link(tk_out_t *out, ngx_chain_t *in)
{
    ngx_buf_t                    *b;
    ngx_chain_t                  *cl, *tail;
    ngx_http_ticket_out_chain_t  *oc;

    oc = out->data;

    if (out->failed || oc == NULL) {
        return NGX_ERROR;
    }

    if (in == NULL) {
        return NGX_OK;
    }

    for (tail = in; tail->next; tail = tail->next) { /* void */ }

    /* the rest of the current buffer, as a link of its own after in */
    b = ngx_calloc_buf(oc->pool);
    cl = ngx_alloc_chain_link(oc->pool);
    if (b == NULL || cl == NULL) {
        out->failed = 1;
        return NGX_ERROR;
    }

    if (oc->last) {
        oc->last->buf->last = out->pos;
        oc->last->next = in;

    } else {
        oc->first = in;
    }

    b->start = out->pos;
    b->pos = out->pos;
    b->last = out->pos;
    b->end = out->end;
    b->temporary = 1;

    cl->buf = b;
    cl->next = NULL;
    tail->next = cl;
    oc->last = cl;

    return NGX_OK;
}


/* len bytes at data, which live as long as the request, appended to out
 * as they are (no copy). */
ngx_int_t
ngx_http_ticket_out_ref(tk_out_t *out, u_char *data, size_t len)
{
    ngx_buf_t                    *b;
    ngx_chain_t                  *cl;
    ngx_http_ticket_out_chain_t  *oc;

    oc = out->data;

    if (out->failed || oc == NULL) {
        return NGX_ERROR;
    }

    if (len == 0) {
        return NGX_OK;
    }

    b = ngx_calloc_buf(oc->pool);
    cl = ngx_alloc_chain_link(oc->pool);
    if (b == NULL || cl == NULL) {
        out->failed = 1;
        return NGX_ERROR;
    }

    b->pos = data;
    b->last = data + len;
    b->memory = 1;

    cl->buf = b;
    cl->next = NULL;

    return ngx_http_ticket_out_link(out, cl);
}
