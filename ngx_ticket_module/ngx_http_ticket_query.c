/*
 * ngx_http_ticket_query.c -- a ticket list over the overview index: the
 * (group, state, owner) partitions it covers are counted, the top of
 * each is read and merged into a page (ngx_http_ticket_merge.c), then
 * the page's tickets are read.  The overview pages and the JSON API
 * both list tickets this way; see ngx_http_ticket_views.h.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"


typedef struct {
    const char                *name;
    int                        label;           /* TK_MSG_OVERVIEW_COL_* */
    ngx_flag_t                 default_desc;
} ngx_http_ticket_col_def_t;


static ngx_int_t ngx_http_ticket_query_counted(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_query_packed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
static ngx_int_t ngx_http_ticket_query_rows(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);


static ngx_http_ticket_col_def_t  ngx_http_ticket_col_defs[] = {
    { "number", TK_MSG_OVERVIEW_COL_NUMBER, 1 },
    { "title", TK_MSG_OVERVIEW_COL_TITLE, 0 },
    { "customer", TK_MSG_OVERVIEW_COL_CUSTOMER, 0 },
    { "group", TK_MSG_OVERVIEW_COL_GROUP, 0 },
    { "owner", TK_MSG_OVERVIEW_COL_OWNER, 0 },
    { "state", TK_MSG_OVERVIEW_COL_STATE, 0 },
    { "priority", TK_MSG_OVERVIEW_COL_PRIORITY, 1 },
    { "created", TK_MSG_OVERVIEW_COL_CREATED, 1 },
    { "updated", TK_MSG_OVERVIEW_COL_UPDATED, 1 },
};


/* Fields of a ticket hash a list shows, in HMGET order. */
static const char  *ngx_http_ticket_row_fields[] = {
    TK_F_NUMBER, TK_F_TITLE, TK_F_CUSTOMER_NAME, TK_F_CUSTOMER_EMAIL,
    TK_F_GROUP, TK_F_OWNER, TK_F_STATE, TK_F_PRIORITY, TK_F_CREATED,
    TK_F_UPDATED,
    TK_F_TAGS, TK_F_CUSTOMER                    /* tags, customer page */
};

#define NGX_HTTP_TICKET_ROW_FIELDS                                           \
    (sizeof(ngx_http_ticket_row_fields) / sizeof(char *))


/* ---- the ticket list query ------------------------------------------------ */

ngx_int_t
ngx_http_ticket_query_init(ngx_http_request_t *r, ngx_http_ticket_query_t *q)
{
    ngx_memzero(q, sizeof(ngx_http_ticket_query_t));

    q->column = NGX_HTTP_TICKET_COL_UPDATED;
    q->desc = 1;
    q->limit = NGX_HTTP_TICKET_PER_PAGE;
    q->merged = ngx_http_ticket_query_read_rows;

    return ngx_array_init(&q->parts, r->pool, 16,
                          sizeof(ngx_http_ticket_part_t));
}


ngx_int_t
ngx_http_ticket_query_add(ngx_http_ticket_query_t *q, ngx_str_t *group,
    ngx_int_t state, ngx_str_t *owner)
{
    ngx_http_ticket_part_t  *part;

    part = ngx_array_push(&q->parts);
    if (part == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(part, sizeof(ngx_http_ticket_part_t));

    part->group = *group;
    part->state = state;
    part->owner = *owner;

    return NGX_OK;
}


/*
 * Read the partitions' sizes first (the API has no sidebar to take them
 * from): one HMGET of tk:{ix}:counts, or with a priority filter one
 * ZCOUNT of each partition's priority set over that priority's range.
 */
ngx_int_t
ngx_http_ticket_query_run(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_query_t *q)
{
    char                     key[TK_KEY_MAX];
    long long                lo, hi;
    ngx_flag_t               ranged;
    tk_str_t                *argv;
    tk_cmds_t               *cmds;
    ngx_uint_t               i;
    ngx_http_ticket_part_t  *part;

    if (q->parts.nelts == 0) {
        return ngx_http_ticket_query_fetch(r, ctx, q);
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    part = q->parts.elts;
    q->counts_per_part = ngx_http_ticket_query_score_range(q, &lo, &hi);

    for (i = 0; i < q->parts.nelts; i++) {
        if (part[i].state > TK_STATE_MAX) {
            q->counts_per_part = 1;         /* a class partition: ZCARD */
        }
    }

    if (q->counts_per_part) {
        ranged = ngx_http_ticket_query_score_range(q, &lo, &hi);

        for (i = 0; i < q->parts.nelts; i++) {
            if (tk_key_index(key, sizeof(key), ngx_ticket_str(&part[i].group),
                             (int) part[i].state,
                             ngx_ticket_str(&part[i].owner),
                             ngx_http_ticket_query_range_sort(q))
                == 0)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            if (ranged) {
                tk_cmds_add(cmds, "ZCOUNT %s %lld (%lld", key, lo, hi);
            } else {
                tk_cmds_add(cmds, "ZCARD %s", key);
            }
        }

    } else {
        argv = ngx_palloc(r->pool, (q->parts.nelts + 2) * sizeof(tk_str_t));
        if (argv == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        tk_str_set(&argv[0], "HMGET");
        tk_str_set(&argv[1], TK_KEY_INDEX_COUNTS);

        for (i = 0; i < q->parts.nelts; i++) {
            if (ngx_http_ticket_count_field(r, &part[i].group, part[i].state,
                                            &part[i].owner, &argv[i + 2])
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        tk_cmds_argv(cmds, (int) q->parts.nelts + 2, argv);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_query_counted);
}


static ngx_int_t
ngx_http_ticket_query_counted(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    long long                 n;
    ngx_uint_t                i;
    ngx_http_ticket_reply_t  *rep;
    ngx_http_ticket_query_t  *q;
    ngx_http_ticket_part_t   *part;

    q = ctx->view;
    part = q->parts.elts;

    for (i = 0; i < q->parts.nelts; i++) {

        if (q->counts_per_part) {
            rep = (i < ctx->nreplies) ? &ctx->replies[i] : NULL;

        } else {
            rep = (ctx->nreplies == 1
                   && ctx->replies[0].type == REDIS_REPLY_ARRAY
                   && i < ctx->replies[0].nelem)
                  ? &ctx->replies[0].element[i] : NULL;
        }

        n = 0;

        if (rep && rep->type == REDIS_REPLY_INTEGER) {
            n = rep->integer;

        } else if (rep && rep->type == REDIS_REPLY_STRING) {
            n = tk_str_atoll(ngx_ticket_str(&rep->str));
        }

        part[i].count = n > 0 ? (ngx_uint_t) n : 0;
    }

    return ngx_http_ticket_query_fetch(r, ctx, q);
}


/*
 * The merge's page (or a search's candidates) is in q->numbers: read the
 * rows of its tickets, one HMGET of tk:{ix}:rows for all of them (the
 * index keeps a ready row per ticket).
 */
ngx_int_t
ngx_http_ticket_query_read_rows(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                i, n;
    tk_cmds_t                *cmds;
    ngx_http_ticket_query_t  *q;

    q = ctx->view;
    n = q->nnumbers;

    q->rows = ngx_pcalloc(r->pool, (n + 1) * sizeof(ngx_http_ticket_row_t));
    if (q->rows == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->nrows = 0;

    if (n == 0) {
        return q->done(r, ctx);
    }

    if (q->page_packed && q->lazy_rows) {
        /* the merge ordered the members by their rows, each checked to
         * be its member's (number at the front): here already */
        for (i = 0; i < n; i++) {
            q->rows[i].number = q->numbers[i];
            q->rows[i].packed = q->page_packed[i];
            q->rows[i].lazy = 1;
        }

        q->nrows = n;
        return q->done(r, ctx);
    }

    if (q->page_packed) {
        /* the merge ordered the members by their rows: here already */
        for (i = 0; i < n; i++) {
            if (ngx_http_ticket_query_unpack(&q->page_packed[i], &q->rows[i])
                    != NGX_OK
                || q->rows[i].number != q->numbers[i])
            {
                break;
            }
        }

        if (i == n) {
            q->nrows = n;
            return q->done(r, ctx);
        }

        ngx_memzero(q->rows, n * sizeof(ngx_http_ticket_row_t));
    }

    cmds = ngx_http_ticket_cmds(r);
    if (cmds == NULL
        || ngx_http_ticket_rows_cmd(r, cmds, q->numbers, n) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_query_packed);
}


/* One packed row: "N\x1ftitle\x1f...\x1fupdated\x1ftags\x1fcustomer"
 * (tk_ticket_row()). */
ngx_int_t
ngx_http_ticket_query_unpack(ngx_str_t *packed, ngx_http_ticket_row_t *row)
{
    long long   v;
    ngx_str_t   f[TK_ROW_FIELDS];
    ngx_uint_t  k;
    u_char     *p, *last, *sep;

    p = packed->data;
    last = p + packed->len;

    for (k = 0; k < TK_ROW_FIELDS; k++) {
        /* memchr: vectorised, and a page splits 50 rows of ~300 bytes */
        sep = (k + 1 < TK_ROW_FIELDS) ? memchr(p, TK_ROW_SEP, last - p)
                                      : last;
        if (sep == NULL) {
            return NGX_ERROR;
        }

        f[k].data = p;
        f[k].len = sep - p;
        p = sep + 1;
    }

    v = tk_str_atoll(ngx_ticket_str(&f[0]));
    if (v <= 0) {
        return NGX_ERROR;
    }

    row->number = (uint64_t) v;
    row->title = f[1];
    row->customer_name = f[2];
    row->customer_email = f[3];
    row->group = f[4];
    row->owner = f[5];
    row->state = tk_state_parse((const char *) f[6].data, f[6].len);
    row->priority = tk_prio_parse((const char *) f[7].data, f[7].len);
    v = tk_str_atoll(ngx_ticket_str(&f[8]));
    row->created = v > 0 ? v : 0;
    v = tk_str_atoll(ngx_ticket_str(&f[9]));
    row->updated = v > 0 ? v : 0;
    row->tags = f[10];                          /* tags, customer page */
    v = tk_str_atoll(ngx_ticket_str(&f[11]));
    row->customer = v > 0 ? (uint64_t) v : 0;
    row->packed = *packed;                      /* the row cache's key */

    return NGX_OK;
}


/*
 * The rows are in.  A ticket without one (indexed before rows existed,
 * or a row too long to keep) is read from its hash in a second round;
 * its slot waits with number 0.
 */
static ngx_int_t
ngx_http_ticket_query_packed(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx)
{
    ngx_uint_t                i, f, n, missing;
    tk_str_t                 *argv;
    tk_cmds_t                *cmds;
    ngx_http_ticket_reply_t  *rep;
    ngx_http_ticket_query_t  *q;

    q = ctx->view;
    n = q->nnumbers;

    if (ctx->nreplies != 1 || ctx->replies[0].type != REDIS_REPLY_ARRAY
        || ctx->replies[0].nelem != n)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ticket: unexpected reply to HMGET %s",
                      TK_KEY_INDEX_ROWS);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    missing = 0;

    for (i = 0; i < n; i++) {
        rep = &ctx->replies[0].element[i];

        if (rep->type != REDIS_REPLY_STRING
            || ngx_http_ticket_query_unpack(&rep->str, &q->rows[i])
               != NGX_OK
            || q->rows[i].number != q->numbers[i])
        {
            q->rows[i].number = 0;
            q->rows[i].packed.len = 0;          /* rendered from the hash */
            missing++;
        }
    }

    if (missing == 0) {
        q->nrows = n;
        return q->done(r, ctx);
    }

    cmds = ngx_http_ticket_cmds(r);
    argv = ngx_palloc(r->pool,
                       (NGX_HTTP_TICKET_ROW_FIELDS + 2) * sizeof(tk_str_t));
    if (cmds == NULL || argv == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tk_str_set(&argv[0], "HMGET");

    for (f = 0; f < NGX_HTTP_TICKET_ROW_FIELDS; f++) {
        argv[f + 2].data = (u_char *) ngx_http_ticket_row_fields[f];
        argv[f + 2].len = ngx_strlen(ngx_http_ticket_row_fields[f]);
    }

    for (i = 0; i < n; i++) {
        if (q->rows[i].number) {
            continue;
        }

        argv[1].data = ngx_pnalloc(r->pool, TK_KEY_MAX);
        if (argv[1].data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        argv[1].len = tk_key_ticket((char *) argv[1].data, TK_KEY_MAX,
                                    q->numbers[i]);

        tk_cmds_argv(cmds, (int) NGX_HTTP_TICKET_ROW_FIELDS + 2, argv);
    }

    if (cmds->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ticket_redis_send(r, ctx, cmds,
                                      ngx_http_ticket_query_rows);
}


/* One HMGET per ticket without a row is in, in slot order; a ticket
 * deleted meanwhile is left out, the page keeps its order. */
static ngx_int_t
ngx_http_ticket_query_rows(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx)
{
    long long                 v;
    ngx_str_t                 s;
    ngx_uint_t                i, k, j;
    ngx_http_ticket_row_t    *row;
    ngx_http_ticket_reply_t  *rep, *e;
    ngx_http_ticket_query_t  *q;

    q = ctx->view;
    k = 0;

    for (i = 0; i < q->nnumbers; i++) {
        row = &q->rows[i];

        if (row->number) {
            continue;
        }

        rep = (k < ctx->nreplies) ? &ctx->replies[k] : NULL;
        k++;

        if (rep == NULL || rep->type != REDIS_REPLY_ARRAY
            || rep->nelem != NGX_HTTP_TICKET_ROW_FIELDS
            || rep->element[0].type != REDIS_REPLY_STRING)
        {
            continue;
        }

        e = rep->element;

        v = tk_str_atoll(ngx_ticket_str(&e[0].str));
        if (v <= 0) {
            continue;
        }

        row->number = (uint64_t) v;

        ngx_http_ticket_reply_str(&e[1], &row->title);
        ngx_http_ticket_reply_str(&e[2], &row->customer_name);
        ngx_http_ticket_reply_str(&e[3], &row->customer_email);
        ngx_http_ticket_reply_str(&e[4], &row->group);
        ngx_http_ticket_reply_str(&e[5], &row->owner);

        ngx_http_ticket_reply_str(&e[6], &s);
        row->state = tk_state_parse((const char *) s.data, s.len);
        ngx_http_ticket_reply_str(&e[7], &s);
        row->priority = tk_prio_parse((const char *) s.data, s.len);

        ngx_http_ticket_reply_str(&e[8], &s);
        v = tk_str_atoll(ngx_ticket_str(&s));
        row->created = v > 0 ? v : 0;

        ngx_http_ticket_reply_str(&e[9], &s);
        v = tk_str_atoll(ngx_ticket_str(&s));
        row->updated = v > 0 ? v : 0;

        ngx_http_ticket_reply_str(&e[10], &row->tags);
        ngx_http_ticket_reply_str(&e[11], &s);
        v = tk_str_atoll(ngx_ticket_str(&s));
        row->customer = v > 0 ? (uint64_t) v : 0;
    }

    /* close the gaps of tickets gone meanwhile */
    for (i = 0, j = 0; i < q->nnumbers; i++) {
        if (q->rows[i].number) {
            q->rows[j++] = q->rows[i];
        }
    }

    q->nrows = j;

    return q->done(r, ctx);
}


/* The argv of "HMGET tk:{ix}:rows" with room for n fields (from argv[2]
 * on, for the caller to fill). */
tk_str_t *
ngx_http_ticket_rows_argv(ngx_http_request_t *r, ngx_uint_t n)
{
    tk_str_t  *argv;

    argv = ngx_palloc(r->pool, (n + 2) * sizeof(tk_str_t));
    if (argv == NULL) {
        return NULL;
    }

    tk_str_set(&argv[0], "HMGET");
    tk_str_set(&argv[1], TK_KEY_INDEX_ROWS);

    return argv;
}


/* "HMGET tk:{ix}:rows N ..." for n ticket numbers into cmds: the list
 * rows of a page, or of the created range's number search. */
ngx_int_t
ngx_http_ticket_rows_cmd(ngx_http_request_t *r, tk_cmds_t *cmds,
    uint64_t *numbers, ngx_uint_t n)
{
    char        *p;
    ngx_uint_t   i;
    tk_str_t    *argv;

    argv = ngx_http_ticket_rows_argv(r, n);
    p = ngx_pnalloc(r->pool, n * TK_UINT_LEN + 1);
    if (argv == NULL || p == NULL) {
        return NGX_ERROR;
    }

    /* one buffer for all the numbers */
    for (i = 0; i < n; i++) {
        argv[i + 2].data = (unsigned char *) p;
        p = tk_str_putu(p, numbers[i]);
        argv[i + 2].len = (size_t) (p - (char *) argv[i + 2].data);
    }

    tk_cmds_argv(cmds, (int) n + 2, argv);

    return cmds->failed ? NGX_ERROR : NGX_OK;
}


ngx_int_t
ngx_http_ticket_count_field(ngx_http_request_t *r, ngx_str_t *group,
    ngx_int_t state, ngx_str_t *owner, tk_str_t *field)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, group->len + owner->len + NGX_INT_T_LEN + 2);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* by hand: the sidebar's HMGET names 21 fields per group */
    field->data = p;
    p = ngx_cpymem(p, group->data, group->len);
    *p++ = ':';

    if (state >= 0 && state <= 9) {
        *p++ = (u_char) ('0' + state);
    } else {
        p = ngx_sprintf(p, "%i", state);
    }

    *p++ = ':';
    p = ngx_cpymem(p, owner->data, owner->len);
    field->len = p - field->data;

    return NGX_OK;
}


/* ---- columns -------------------------------------------------------------- */

ngx_int_t
ngx_http_ticket_col_parse(ngx_str_t *name)
{
    ngx_uint_t  c;

    for (c = 0; c < NGX_HTTP_TICKET_COL_N; c++) {
        if (name->len == ngx_strlen(ngx_http_ticket_col_defs[c].name)
            && ngx_strncmp(name->data, ngx_http_ticket_col_defs[c].name,
                           name->len) == 0)
        {
            return c;
        }
    }

    return NGX_ERROR;
}


const char *
ngx_http_ticket_col_name(ngx_uint_t col)
{
    return col < NGX_HTTP_TICKET_COL_N ? ngx_http_ticket_col_defs[col].name
                                       : "updated";
}


ngx_flag_t
ngx_http_ticket_col_default_desc(ngx_uint_t col)
{
    return col < NGX_HTTP_TICKET_COL_N
           ? ngx_http_ticket_col_defs[col].default_desc : 1;
}


void
ngx_http_ticket_col_label(ngx_http_ticket_ctx_t *ctx, ngx_uint_t col,
    tk_str_t *label)
{
    ngx_http_ticket_col_def_t  *c;

    c = &ngx_http_ticket_col_defs[col < NGX_HTTP_TICKET_COL_N ? col : 0];

    label->data = (u_char *) ngx_http_ticket_msg(ctx, c->label);
    label->len = ngx_strlen(label->data);
}


ngx_flag_t
ngx_http_ticket_col_numeric(ngx_uint_t col)
{
    return col == NGX_HTTP_TICKET_COL_NUMBER
           || col == NGX_HTTP_TICKET_COL_CREATED
           || col == NGX_HTTP_TICKET_COL_PRIORITY
           || col == NGX_HTTP_TICKET_COL_UPDATED
           || col == NGX_HTTP_TICKET_COL_GROUP;
}


ngx_flag_t
ngx_http_ticket_col_with_priority(ngx_uint_t col)
{
    return col == NGX_HTTP_TICKET_COL_UPDATED
           || col == NGX_HTTP_TICKET_COL_PRIORITY
           || col == NGX_HTTP_TICKET_COL_STATE
           || col == NGX_HTTP_TICKET_COL_GROUP;
}
