/*
 * ngx_http_ticket_endpoint.h -- where Redis is: the ticket_redis address,
 * parsed and resolved once at configuration time (nginx's own URL
 * parser), so a worker never resolves a name; the connections of a
 * worker (the pipelined one and the WATCH pool) all take their address
 * from this one object.  A later Sentinel lookup replaces the addresses
 * here and nowhere else.
 */

#ifndef NGX_HTTP_TICKET_ENDPOINT_H
#define NGX_HTTP_TICKET_ENDPOINT_H

#include <ngx_config.h>
#include <ngx_core.h>


/* One address of the endpoint, in the form hiredis connects to. */
typedef struct {
    ngx_str_t                  text;            /* "127.0.0.1:6379",
                                                   "[::1]:6379",
                                                   "unix:/run/r.sock" */
    char                      *host;            /* numeric address or
                                                   socket path, NUL-
                                                   terminated */
    int                        port;            /* 0: unix socket */
} ngx_http_ticket_endpoint_addr_t;


struct ngx_http_ticket_endpoint_s {
    ngx_str_t                  name;            /* as configured */
    ngx_http_ticket_endpoint_addr_t  *addrs;    /* >= 1, resolved */
    ngx_uint_t                 naddrs;

    /* per worker (configuration memory is the worker's own copy) */
    ngx_uint_t                 current;         /* addrs[current] in use */
    ngx_uint_t                 generation;      /* +1 when current moves */

    /* AUTH after connecting when set (no directive sets it yet) */
    ngx_str_t                  password;

    /*
     * ticket_redis_sentinel: the Sentinels, asked in turn for the primary
     * of master_name, whose address then fills addrs[0] (naddrs 1) --
     * per worker, after every lost link, READONLY reply or timeout.
     */
    ngx_http_ticket_endpoint_addr_t  *sentinels;
    ngx_uint_t                 nsentinels;
    ngx_str_t                  master_name;
    ngx_uint_t                 sentinel;        /* sentinels[] asked next */
    ngx_uint_t                 sub_sentinel;    /* the one w->sub uses  */
    u_char                    *primary_text;    /* addrs[0].text's room */
    unsigned                   resolved:1;      /* addrs[0] is current  */
};


/*
 * "host:port", "[v6]:port" or "unix:/path": NGX_CONF_OK, or an error
 * message for nginx -t (the caller names the directive and the value).
 * A host name is resolved here, with every address it has.
 */
char *ngx_http_ticket_endpoint_parse(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_ticket_endpoint_t **endpoint);

/*
 * "ticket_redis_sentinel ADDR ... master NAME": every ADDR as for
 * ticket_redis, resolved now; addrs[0] gets room for the primary's
 * address a worker learns later.
 */
char *ngx_http_ticket_endpoint_sentinel(ngx_conf_t *cf, ngx_str_t *values,
    ngx_uint_t n, ngx_str_t *name, ngx_http_ticket_endpoint_t **endpoint);

/* The primary "ip" "port" a Sentinel named: into addrs[0]; NGX_ERROR
 * when it is not an address. */
ngx_int_t ngx_http_ticket_endpoint_primary(ngx_http_ticket_endpoint_t *ep,
    ngx_str_t *ip, ngx_str_t *port);

/* The address in use. */
ngx_http_ticket_endpoint_addr_t *ngx_http_ticket_endpoint_addr(
    ngx_http_ticket_endpoint_t *ep);

/* Move on to the next address (after a failure with this one). */
void ngx_http_ticket_endpoint_next(ngx_http_ticket_endpoint_t *ep);

#endif /* NGX_HTTP_TICKET_ENDPOINT_H */
