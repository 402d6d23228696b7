/*
 * ngx_http_ticket_endpoint.c -- the Redis endpoint (ticket_redis):
 * parsed with ngx_parse_url() and resolved at configuration time, so
 * the master resolves a host name once (nginx -t fails when it cannot)
 * and hiredis only ever gets a numeric address or a socket path.
 */

#include "ngx_http_ticket.h"
#include "ngx_http_ticket_endpoint.h"


static char *ngx_http_ticket_endpoint_addr_init(ngx_conf_t *cf,
    ngx_http_ticket_endpoint_addr_t *addr, ngx_addr_t *resolved);


char *
ngx_http_ticket_endpoint_parse(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_ticket_endpoint_t **endpoint)
{
    char                        *rv;
    ngx_url_t                    u;
    ngx_uint_t                   i;
    ngx_http_ticket_endpoint_t  *ep;

    if (value->len >= 5 && ngx_strncmp(value->data, "unix:", 5) == 0
        && (value->len == 5 || value->data[5] != '/'))
    {
        return "expected an absolute path after \"unix:\"";
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *value;
    u.default_port = 0;
    u.no_resolve = 0;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        return u.err ? u.err : "invalid address";
    }

    if (u.family != AF_UNIX && u.no_port) {
        return "no port (expected \"host:port\" or \"unix:/path\")";
    }

    if (u.naddrs == 0 || u.addrs == NULL) {
        return "host not found";
    }

    ep = ngx_pcalloc(cf->pool, sizeof(ngx_http_ticket_endpoint_t));
    if (ep == NULL) {
        return NGX_CONF_ERROR;
    }

    ep->name = *value;
    ep->naddrs = u.naddrs;
    ep->addrs = ngx_pcalloc(cf->pool,
                        u.naddrs * sizeof(ngx_http_ticket_endpoint_addr_t));
    if (ep->addrs == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < u.naddrs; i++) {
        rv = ngx_http_ticket_endpoint_addr_init(cf, &ep->addrs[i],
                                                &u.addrs[i]);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    *endpoint = ep;

    return NGX_CONF_OK;
}


/* What hiredis gets: the numeric host without the port, or the path. */
static char *
ngx_http_ticket_endpoint_addr_init(ngx_conf_t *cf,
    ngx_http_ticket_endpoint_addr_t *addr, ngx_addr_t *resolved)
{
    u_char              *p;
    size_t               len;
#if (NGX_HAVE_UNIX_DOMAIN)
    struct sockaddr_un  *saun;
#endif

    addr->text = resolved->name;

#if (NGX_HAVE_UNIX_DOMAIN)
    if (resolved->sockaddr->sa_family == AF_UNIX) {
        saun = (struct sockaddr_un *) resolved->sockaddr;
        len = ngx_strlen(saun->sun_path);

        p = ngx_pnalloc(cf->pool, len + 1);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        *ngx_cpymem(p, saun->sun_path, len) = '\0';

        addr->host = (char *) p;
        addr->port = 0;

        return NGX_CONF_OK;
    }
#endif

    p = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    len = ngx_sock_ntop(resolved->sockaddr, resolved->socklen, p,
                        NGX_SOCKADDR_STRLEN, 0);
    p[len] = '\0';

    addr->host = (char *) p;
    addr->port = (int) ngx_inet_get_port(resolved->sockaddr);

    if (addr->port == 0) {
        return "invalid port";
    }

    return NGX_CONF_OK;
}


ngx_http_ticket_endpoint_addr_t *
ngx_http_ticket_endpoint_addr(ngx_http_ticket_endpoint_t *ep)
{
    return &ep->addrs[ep->current];
}


void
ngx_http_ticket_endpoint_next(ngx_http_ticket_endpoint_t *ep)
{
    if (ep->naddrs > 1) {
        ep->current = (ep->current + 1) % ep->naddrs;
        ep->generation++;
    }
}


/*
 * Each Sentinel is parsed like a ticket_redis address (all addresses of a
 * host name count as Sentinels); the endpoint itself starts with one
 * empty address that the first lookup of each worker fills.
 */
char *
ngx_http_ticket_endpoint_sentinel(ngx_conf_t *cf, ngx_str_t *values,
    ngx_uint_t n, ngx_str_t *name, ngx_http_ticket_endpoint_t **endpoint)
{
    char                             *rv;
    ngx_uint_t                        i, j, total;
    ngx_http_ticket_endpoint_t       *ep, *one[16];
    ngx_http_ticket_endpoint_addr_t  *addr;

    if (n > 16) {
        return "too many Sentinels (at most 16)";
    }

    total = 0;

    for (i = 0; i < n; i++) {
        rv = ngx_http_ticket_endpoint_parse(cf, &values[i], &one[i]);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
        total += one[i]->naddrs;
    }

    ep = ngx_pcalloc(cf->pool, sizeof(ngx_http_ticket_endpoint_t));
    addr = ngx_pcalloc(cf->pool, sizeof(ngx_http_ticket_endpoint_addr_t));
    if (ep == NULL || addr == NULL) {
        return NGX_CONF_ERROR;
    }

    ep->sentinels = ngx_pcalloc(cf->pool,
                           total * sizeof(ngx_http_ticket_endpoint_addr_t));
    addr->host = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    ep->primary_text = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    if (ep->sentinels == NULL || addr->host == NULL
        || ep->primary_text == NULL)
    {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < n; i++) {
        for (j = 0; j < one[i]->naddrs; j++) {
            ep->sentinels[ep->nsentinels++] = one[i]->addrs[j];
        }
    }

    ngx_str_set(&addr->text, "(primary not known yet)");
    addr->host[0] = '\0';

    ep->name = *name;
    ep->master_name = *name;
    ep->addrs = addr;
    ep->naddrs = 1;

    *endpoint = ep;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_ticket_endpoint_primary(ngx_http_ticket_endpoint_t *ep,
    ngx_str_t *ip, ngx_str_t *port)
{
    u_char                           *p;
    ngx_int_t                         n;
    ngx_http_ticket_endpoint_addr_t  *addr;

    n = ngx_atoi(port->data, port->len);

    if (n <= 0 || n > 65535 || ip->len == 0
        || ip->len + sizeof("[]:65535") > NGX_SOCKADDR_STRLEN
        || ngx_strlchr(ip->data, ip->data + ip->len, '/'))
    {
        return NGX_ERROR;
    }

    addr = &ep->addrs[0];

    *ngx_cpymem(addr->host, ip->data, ip->len) = '\0';
    addr->port = (int) n;

    p = ngx_strlchr(ip->data, ip->data + ip->len, ':')
        ? ngx_sprintf(ep->primary_text, "[%V]:%i", ip, n)
        : ngx_sprintf(ep->primary_text, "%V:%i", ip, n);
    addr->text.data = ep->primary_text;
    addr->text.len = p - ep->primary_text;

    ep->resolved = 1;
    ep->generation++;

    return NGX_OK;
}
