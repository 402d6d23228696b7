/*
 * ngx_http_ticket_overview_filter.c -- two conditions of an overview
 * (issue 12): the customer (by id, or by address: resolved through
 * tk:customer-by-email before the page is read) and the created range.
 * Here: the ad hoc GET parameters ("customer", "created_from",
 * "created_to"), the saved definition's parts ("customer=ID",
 * "created_from=S", "created_to=S"), their share of definitions and the
 * page cache's key -- and the ad hoc filters of every link (sort links,
 * pager: all filters, these and the older ones) and whether a page is
 * filtered at all.  How they are read: a customer is a set
 * overview over tk:{ix}:cust:tickets:ID (ngx_http_ticket_overview_sets.c);
 * a created range without a customer becomes a range of ticket numbers
 * (ngx_http_ticket_overview_probe.c) read from the "crt" partitions.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ticket_overview.h"


#define NGX_HTTP_TICKET_EMAIL_MAX      254


static ngx_flag_t ngx_http_ticket_overview_cust_parse(ngx_http_request_t *r,
    ngx_str_t *arg, ngx_http_ticket_overview_t *ov);
static u_char *ngx_http_ticket_overview_link_arg(u_char *p, const char *name,
    ngx_str_t *value);
static u_char *ngx_http_ticket_overview_cond_link(u_char *p,
    ngx_http_ticket_overview_t *ov);


/*
 * Ad hoc, over what a saved overview says: a customer given by id or
 * address; created from / to as dates ("2026-11-24", "to" is the whole
 * day) or date and time.  What cannot be read is left out, as the
 * updated range is.
 */
void
ngx_http_ticket_overview_cond_args(ngx_http_request_t *r,
    ngx_http_ticket_overview_t *ov)
{
    int64_t     t;
    uint64_t    saved;
    ngx_str_t   arg, email;

    if (ngx_http_ticket_query_arg(r, "customer", &arg) == NGX_OK && arg.len) {
        saved = ov->customer;
        email = ov->cust_email;

        if (ngx_http_ticket_overview_cust_parse(r, &arg, ov)) {
            ov->filter_cust = arg;

            /* a saved customer and another one: nothing is both */
            ov->nothing |= (saved && ov->customer && saved != ov->customer)
                           || (email.len && ov->cust_email.len
                               && !tk_str_eq(ngx_ticket_str(&email),
                                             ngx_ticket_str(&ov->cust_email)));
        }
    }

    if (ngx_http_ticket_query_arg(r, "created_from", &arg) == NGX_OK
        && arg.len && ngx_http_ticket_parse_local_day(&arg, &t) == NGX_OK)
    {
        ov->filter_cfrom = arg;
        ov->crt_from = t;
    }

    if (ngx_http_ticket_query_arg(r, "created_to", &arg) == NGX_OK
        && arg.len && ngx_http_ticket_parse_local_day(&arg, &t) == NGX_OK)
    {
        ov->filter_cto = arg;
        ov->crt_to = t + ((arg.len == 10) ? 86399 : 59);
    }
}


/* A saved definition's customer and created range (Unix seconds). */
void
ngx_http_ticket_overview_cond_apply(ngx_http_request_t *r,
    ngx_http_ticket_overview_t *ov, ngx_str_t *def)
{
    ngx_str_t  arg;

    if (ngx_http_ticket_string_arg(r, def, "customer", &arg) == NGX_OK
        && arg.len)
    {
        (void) ngx_http_ticket_overview_cust_parse(r, &arg, ov);
    }

    if (ngx_http_ticket_string_arg(r, def, "created_from", &arg) == NGX_OK) {
        ov->crt_from = ngx_max(0, tk_str_atoll(ngx_ticket_str(&arg)));
    }

    if (ngx_http_ticket_string_arg(r, def, "created_to", &arg) == NGX_OK) {
        ov->crt_to = ngx_max(0, tk_str_atoll(ngx_ticket_str(&arg)));
    }
}


/* Digits: an id; with an '@': an address, lower-cased as the map keeps
 * them.  Anything else is no customer (0). */
static ngx_flag_t
ngx_http_ticket_overview_cust_parse(ngx_http_request_t *r, ngx_str_t *arg,
    ngx_http_ticket_overview_t *ov)
{
    long long   id;
    ngx_uint_t  i;
    u_char     *p;

    while (arg->len && (arg->data[0] == ' ' || arg->data[0] == '\t')) {
        arg->data++;
        arg->len--;
    }

    while (arg->len && (arg->data[arg->len - 1] == ' '
                        || arg->data[arg->len - 1] == '\t'))
    {
        arg->len--;
    }

    if (arg->len == 0 || arg->len > NGX_HTTP_TICKET_EMAIL_MAX) {
        return 0;
    }

    for (i = 0; i < arg->len && arg->data[i] >= '0' && arg->data[i] <= '9';
         i++)
    {
        /* void */
    }

    if (i == arg->len) {
        id = tk_str_atoll(ngx_ticket_str(arg));
        if (id <= 0) {
            return 0;
        }

        ov->customer = (uint64_t) id;
        ov->cust_email.len = 0;
        return 1;
    }

    if (ngx_strlchr(arg->data, arg->data + arg->len, '@') == NULL) {
        return 0;
    }

    for (i = 0; i < arg->len; i++) {
        if (arg->data[i] <= 0x20 || arg->data[i] == 0x7f) {
            return 0;
        }
    }

    p = ngx_pnalloc(r->pool, arg->len);
    if (p == NULL) {
        return 0;
    }

    ngx_strlow(p, arg->data, arg->len);
    ov->cust_email.data = p;
    ov->cust_email.len = arg->len;
    ov->customer = 0;

    return 1;
}


ngx_flag_t
ngx_http_ticket_overview_cond_any(ngx_http_ticket_overview_t *ov)
{
    return ov->customer || ov->cust_email.len || ov->crt_from || ov->crt_to;
}


/* What the three functions below may write at most. */
size_t
ngx_http_ticket_overview_cond_len(ngx_http_ticket_overview_t *ov)
{
    return sizeof("&customer=&created_from=&created_to=|||") - 1
           + 3 * (ov->filter_cust.len + ov->filter_cfrom.len
                  + ov->filter_cto.len + ov->cust_email.len)
           + 3 * NGX_INT64_LEN;
}


/* Is the page filtered ad hoc (then it offers "clear filters")? */
ngx_flag_t
ngx_http_ticket_overview_filtered(ngx_http_ticket_overview_t *ov)
{
    return ov->filter_state
           || (ov->filter_prio && ov->filter_prio != ov->cond_prio)
           || ov->filter_group.len || ov->filter_who.len
           || ov->filter_only || ov->filter_tag.len
           || ov->filter_from.len || ov->filter_to.len
           || ov->filter_cust.len || ov->filter_cfrom.len
           || ov->filter_cto.len;
}


/*
 * The page's ad hoc filters in a link ("&state=2&owner=me..."): what
 * sort links, pager and the sidebar's own entry carry over.  Values are
 * percent-encoded; the template escapes the whole URL for HTML.
 */
size_t
ngx_http_ticket_overview_link_len(ngx_http_ticket_overview_t *ov)
{
    return sizeof("&state=&priority=&group=") - 1 + 2 * NGX_INT_T_LEN
           + 3 * ov->filter_group.len
           + sizeof("&owner=&only=escalated&tag=") + 3 * ov->filter_who.len
           + 3 * ov->filter_tag.len + sizeof("&columns=") + 10 * 9
           + sizeof("&from=&to=") + 3 * (ov->filter_from.len
                                         + ov->filter_to.len)
           + ngx_http_ticket_overview_cond_len(ov);
}


u_char *
ngx_http_ticket_overview_link_filters(u_char *p,
    ngx_http_ticket_overview_t *ov)
{
    ngx_uint_t  c;

    if (ov->filter_state) {
        p = ngx_sprintf(p, "&state=%i", ov->filter_state);
    }

    if (ov->filter_prio) {
        p = ngx_sprintf(p, "&priority=%i", ov->filter_prio);
    }

    p = ngx_http_ticket_overview_link_arg(p, "&group=", &ov->filter_group);
    p = ngx_http_ticket_overview_link_arg(p, "&owner=", &ov->filter_who);

    if (ov->filter_only) {
        p = ngx_sprintf(p, "&only=%s",
                        ov->filter_only == NGX_HTTP_TICKET_ONLY_ESCALATED
                        ? "escalated" : "reminder");
    }

    p = ngx_http_ticket_overview_link_arg(p, "&tag=", &ov->filter_tag);
    p = ngx_http_ticket_overview_link_arg(p, "&from=", &ov->filter_from);
    p = ngx_http_ticket_overview_link_arg(p, "&to=", &ov->filter_to);

    p = ngx_http_ticket_overview_cond_link(p, ov);

    if (ov->filter_columns && ov->columns) {
        p = ngx_cpymem(p, "&columns=", sizeof("&columns=") - 1);

        for (c = 0; c < NGX_HTTP_TICKET_COL_N; c++) {
            if (ov->columns & ((ngx_uint_t) 1 << c)) {
                p = ngx_sprintf(p, "%s,", ngx_http_ticket_col_name(c));
            }
        }

        p--;
    }

    return p;
}


/* The customer and created range as typed, for links that keep them. */
static u_char *
ngx_http_ticket_overview_cond_link(u_char *p, ngx_http_ticket_overview_t *ov)
{
    p = ngx_http_ticket_overview_link_arg(p, "&customer=", &ov->filter_cust);
    p = ngx_http_ticket_overview_link_arg(p, "&created_from=",
                                          &ov->filter_cfrom);

    return ngx_http_ticket_overview_link_arg(p, "&created_to=",
                                             &ov->filter_cto);
}


/* The conditions as a definition keeps them: the customer's id (or the
 * address while no customer has it), the range in Unix seconds. */
u_char *
ngx_http_ticket_overview_cond_def(u_char *p, ngx_http_ticket_overview_t *ov)
{
    if (ov->customer) {
        p = ngx_sprintf(p, "&customer=%uL", ov->customer);

    } else if (ov->cust_email.len) {
        p = ngx_cpymem(p, "&customer=", sizeof("&customer=") - 1);
        p += tk_escape_url(p, 3 * ov->cust_email.len, ov->cust_email.data,
                           ov->cust_email.len, TK_URL_COMPONENT);
    }

    if (ov->crt_from) {
        p = ngx_sprintf(p, "&created_from=%L", ov->crt_from);
    }

    if (ov->crt_to) {
        p = ngx_sprintf(p, "&created_to=%L", ov->crt_to);
    }

    return p;
}


/* The page cache's share: what the page lists and what its form shows. */
u_char *
ngx_http_ticket_overview_cond_key(u_char *p, ngx_http_ticket_overview_t *ov)
{
    p = ngx_sprintf(p, "|%uL|%L|%L|", ov->customer, ov->crt_from, ov->crt_to);
    p = ngx_cpymem(p, ov->cust_email.data, ov->cust_email.len);
    *p++ = '|';
    p = ngx_cpymem(p, ov->filter_cust.data, ov->filter_cust.len);

    return p;
}


/* Tag in a stored tag list: lower case, sorted, joined by ','. */
ngx_flag_t
ngx_http_ticket_overview_row_tag(ngx_str_t *tags, ngx_str_t *tag)
{
    u_char  *p, *last, *comma;

    for (p = tags->data, last = tags->data + tags->len; p < last;
         p = comma + 1)
    {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        if ((size_t) (comma - p) == tag->len
            && ngx_strncmp(p, tag->data, tag->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* "&name=value", the value percent-encoded; nothing for an empty one.
 * (ngx_http_ticket_overview_link_len() counts 3 bytes a value byte.) */
static u_char *
ngx_http_ticket_overview_link_arg(u_char *p, const char *name,
    ngx_str_t *value)
{
    if (value->len == 0) {
        return p;
    }

    p = ngx_cpymem(p, name, ngx_strlen(name));

    return p + tk_escape_url(p, 3 * value->len, value->data, value->len,
                             TK_URL_COMPONENT);
}
