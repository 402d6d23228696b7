/*
 * ngx_http_ticket_views.h -- what the view files share among themselves
 * (overview, ticket page and actions, profile, API): the ticket list
 * query over the overview index, reading a ticket, history entries,
 * labels in the user's language, and small formatting helpers that
 * produce strings for the compiled templates.
 *
 * Private to the views (the contract between core and views is
 * ngx_http_ticket.h); each section names the file that implements it.
 */

#ifndef NGX_HTTP_TICKET_VIEWS_H
#define NGX_HTTP_TICKET_VIEWS_H

#include "ngx_http_ticket.h"

/* ---- ticket list query (ngx_http_ticket_query.c, _merge.c) ------------- */

/* Tickets on a page of a list, unless the API asks for another number. */
#define NGX_HTTP_TICKET_PER_PAGE       50

/* Sortable columns of a ticket list, in table order. */
typedef enum {
    NGX_HTTP_TICKET_COL_NUMBER = 0,
    NGX_HTTP_TICKET_COL_TITLE,
    NGX_HTTP_TICKET_COL_CUSTOMER,
    NGX_HTTP_TICKET_COL_GROUP,
    NGX_HTTP_TICKET_COL_OWNER,
    NGX_HTTP_TICKET_COL_STATE,
    NGX_HTTP_TICKET_COL_PRIORITY,
    NGX_HTTP_TICKET_COL_CREATED,
    NGX_HTTP_TICKET_COL_UPDATED,
    NGX_HTTP_TICKET_COL_N
} ngx_http_ticket_col_e;

/* One (group, state, owner) partition of the overview index. */
typedef struct {
    ngx_str_t                  group;
    ngx_int_t                  state;           /* or TK_ISTATE_OPEN, _ALL */
    ngx_str_t                  owner;           /* login, "-", "!", "*" */
    ngx_uint_t                 count;           /* tickets in it */
    ngx_uint_t                 want;            /* entries asked for */
    ngx_uint_t                 index;           /* its reply in the batch */
    ngx_flag_t                 refill;          /* read in round 2 too */
    ngx_str_t                 *members;         /* the fetched range */
    double                    *scores;          /* parsed, numeric sorts */
    ngx_str_t                 *packed;          /* the members' rows, when
                                                   the scores came from them */
    ngx_uint_t                 len;             /* entries fetched */
    ngx_uint_t                 scored;          /* of which with a score */
    ngx_uint_t                 pos;             /* merge cursor */
} ngx_http_ticket_part_t;

/* Consecutive partitions of one state or group when sorting by it. */
typedef struct {
    ngx_uint_t                 first;           /* index in parts */
    ngx_uint_t                 nparts;
    ngx_uint_t                 total;
    ngx_uint_t                 skip;            /* entries before the page */
    ngx_uint_t                 end;             /* entries to merge */
    double                     bound;           /* score of the trial
                                                   merge's last entry */
    ngx_flag_t                 bounded;         /* it reached "end" */
} ngx_http_ticket_seg_t;

/* One ticket of a result page (only the fields lists show). */
typedef struct {
    uint64_t                   number;
    ngx_str_t                  title;
    ngx_str_t                  customer_name;
    ngx_str_t                  customer_email;
    ngx_str_t                  group;
    ngx_str_t                  owner;
    ngx_int_t                  state;
    ngx_int_t                  priority;
    int64_t                    created;
    int64_t                    updated;
    ngx_str_t                  tags;            /* stored list (tk_tags.h) */
    uint64_t                   customer;        /* id, 0: none */
    ngx_str_t                  packed;          /* as in tk:{ix}:rows; "":
                                                   read from the hash */
    unsigned                   lazy:1;          /* number and packed only:
                                                   see query.lazy_rows */
} ngx_http_ticket_row_t;

/*
 * A ticket list: partitions (all with the same owner kind), a sort
 * column and direction, an optional priority filter and a page.  The
 * result is rows (at most limit) and total.
 *
 * Sorting by state or group concatenates "segments" (one per state or
 * group, in sort order); within a segment, and for every other column,
 * the partitions' sorted sets are k-way merged.
 */
typedef struct {
    ngx_array_t                parts;           /* ngx_http_ticket_part_t */
    ngx_uint_t                 column;          /* ngx_http_ticket_col_e */
    ngx_flag_t                 desc;
    ngx_int_t                  priority;        /* filter; 0: any */
    ngx_uint_t                 offset;
    ngx_uint_t                 limit;

    ngx_uint_t                 total;
    ngx_http_ticket_row_t     *rows;
    ngx_uint_t                 nrows;

    ngx_http_ticket_step_pt    done;            /* runs with the result */
    ngx_flag_t                 lazy_rows;       /* rows the merge read stay
                                                   packed: the consumer
                                                   unpacks what it renders
                                                   (overview pages: only
                                                   rows not in the row
                                                   cache) */

    /* internal: the merge (ngx_http_ticket_merge.c) hands the page's
     * ticket numbers up through this step (ngx_http_ticket_query.c) */
    ngx_http_ticket_step_pt    merged;
    uint64_t                  *numbers;
    ngx_uint_t                 nnumbers;
    ngx_str_t                 *page_packed;     /* their rows, when the
                                                   merge read them; or NULL */

    /* internal: how the sets are read, the segments in page order */
    ngx_int_t                  sort;            /* tk_sort_e of the sets */
    ngx_flag_t                 lex;
    ngx_flag_t                 set_desc;
    ngx_http_ticket_seg_t     *segs;
    ngx_uint_t                 nsegs;
    ngx_flag_t                 counts_per_part; /* run(): one reply each */
    ngx_flag_t                 with_scores;     /* sets read WITHSCORES (a
                                                   ticket without a row) */
    ngx_http_ticket_step_pt    scored;          /* after the rows' scores */
    int64_t                    upd_from;        /* filter on updated, Unix */
    int64_t                    upd_to;          /* s, inclusive; 0: open */
    /* a created range as ticket numbers (numbers are given out in
     * creation order): a score range of the "crt" sets */
    ngx_flag_t                 num_range;
    int64_t                    num_from;        /* inclusive */
    int64_t                    num_to;          /* inclusive; 0: open */
} ngx_http_ticket_query_t;

/*
 * A query with a priority or an updated range reads score ranges: of the
 * priority sets (priority * 1e10 + updated) or of the updated sets.
 * Bounds: lo inclusive, hi exclusive (ngx_http_ticket_merge.c).
 */
ngx_flag_t ngx_http_ticket_query_score_range(ngx_http_ticket_query_t *q,
    long long *lo, long long *hi);
/* The sets a score range is read from: priority, created (a number
 * range), else updated. */
ngx_int_t ngx_http_ticket_query_range_sort(ngx_http_ticket_query_t *q);

/* Column by name ("number" ... "updated"), or NGX_ERROR. */
ngx_int_t ngx_http_ticket_col_parse(ngx_str_t *name);
const char *ngx_http_ticket_col_name(ngx_uint_t col);
/* Direction a column is sorted in when first clicked (1: descending). */
ngx_flag_t ngx_http_ticket_col_default_desc(ngx_uint_t col);
void ngx_http_ticket_col_label(ngx_http_ticket_ctx_t *ctx, ngx_uint_t col,
    tk_str_t *label);
/*
 * With a priority filter the lists come from the priority sets (score =
 * priority, then updated), so only these columns keep their order:
 * updated, priority, state, group.  Others fall back to updated.
 */
ngx_flag_t ngx_http_ticket_col_with_priority(ngx_uint_t col);
/* Columns the class partitions (numeric sorts, and group: segments by
 * updated) can give; title, customer, owner and state cannot. */
ngx_flag_t ngx_http_ticket_col_numeric(ngx_uint_t col);

/* The rows of the tickets in q->numbers (q = ctx->view), then q->done. */
ngx_int_t ngx_http_ticket_query_read_rows(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
ngx_int_t ngx_http_ticket_query_init(ngx_http_request_t *r,
    ngx_http_ticket_query_t *q);
/* Add one partition; every partition of a query has the same owner kind
 * (a login, "-", "!" or "*"). */
ngx_int_t ngx_http_ticket_query_add(ngx_http_ticket_query_t *q,
    ngx_str_t *group, ngx_int_t state, ngx_str_t *owner);

/*
 * Run the query.  ctx->view must point to q (or to a struct that starts
 * with it): the steps in between find it there.  run() reads the counts
 * first; fetch() expects part.count already set (the overview reads them
 * together with its sidebar).  Both return NGX_DONE (or an error rc);
 * q->done runs with rows and total.
 */
ngx_int_t ngx_http_ticket_query_run(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_query_t *q);
ngx_int_t ngx_http_ticket_query_fetch(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_query_t *q);

/* A ticket list as the API asks for it: an overview and filters. */
typedef struct {
    ngx_str_t                  overview;        /* "": all */
    ngx_int_t                  state;           /* 0: any */
    ngx_str_t                  group;           /* "": any */
    ngx_str_t                  owner;           /* "": any, login, "-" */
} ngx_http_ticket_filter_t;

/* Add the partitions of f to q (ngx_http_ticket_overview.c); NGX_OK,
 * NGX_DECLINED (no such overview for this user) or NGX_ERROR. */
ngx_int_t ngx_http_ticket_overview_query(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_filter_t *f,
    ngx_http_ticket_query_t *q);

/*
 * Internal to the merge (ngx_http_ticket_merge.c, _merge_scores.c): the
 * sets are read without scores -- Redis 7.0 prints each with "%.17g",
 * the biggest part of its time for a page -- and the members ordered by
 * their rows' fields instead, read in the round trip that reads the
 * page's rows anyway.  score_rows() reads the rows of the members that
 * have no score yet and runs next (at once when the sets' order needs
 * no rows); a ticket without a row makes the query start over with
 * scores (q->with_scores).
 */
ngx_flag_t ngx_http_ticket_query_rows_scored(ngx_http_ticket_query_t *q);
/* The sets to read (ngx_http_ticket_merge_plan.c), and the partitions cut
 * into segments in page order. */
void ngx_http_ticket_query_plan(ngx_http_ticket_query_t *q);
ngx_uint_t ngx_http_ticket_query_want(ngx_http_ticket_seg_t *seg,
    ngx_http_ticket_part_t *part, ngx_uint_t nparts);
ngx_int_t ngx_http_ticket_query_segments(ngx_http_request_t *r,
    ngx_http_ticket_query_t *q);
ngx_int_t ngx_http_ticket_query_score_rows(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_step_pt next);
/* One packed row of tk:{ix}:rows into row (ngx_http_ticket_query.c). */
ngx_int_t ngx_http_ticket_query_unpack(ngx_str_t *packed,
    ngx_http_ticket_row_t *row);

/* "HMGET tk:{ix}:rows N ..." for n ticket numbers into cmds; its argv
 * with n fields left to fill (the merge names members as they came). */
tk_str_t *ngx_http_ticket_rows_argv(ngx_http_request_t *r, ngx_uint_t n);
ngx_int_t ngx_http_ticket_rows_cmd(ngx_http_request_t *r, tk_cmds_t *cmds,
    uint64_t *numbers, ngx_uint_t n);
/* "G:S:O", a field of tk:{ix}:counts, into r->pool. */
ngx_int_t ngx_http_ticket_count_field(ngx_http_request_t *r,
    ngx_str_t *group, ngx_int_t state, ngx_str_t *owner, tk_str_t *field);

/* ---- PGP on the ticket page (ngx_http_ticket_keys.c) -------------------- */

/* "Verschlüsselt · Signatur gültig (FPR, UID)" from an article's flags and
 * pgp_sig, and its class (valid, valid-other: the signer's user id is not
 * the From address, bad, unknown-key, ..., failed); "" when the mail had
 * no PGP. */
ngx_int_t ngx_http_ticket_keys_article(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, tk_str_t *flags, ngx_str_t *sig,
    tk_str_t *from, tk_str_t *label, tk_str_t *status);
/* For an application/pgp-keys part: the key page's import URL, else "". */
ngx_int_t ngx_http_ticket_keys_file(ngx_http_request_t *r, tk_str_t *type,
    uint64_t number, uint64_t article, ngx_uint_t k, tk_str_t *url);

/* ---- language and formatting (ngx_http_ticket_format.c) ----------------- */

void ngx_http_ticket_state_label(ngx_http_ticket_ctx_t *ctx, ngx_int_t state,
    tk_str_t *label);
void ngx_http_ticket_prio_label(ngx_http_ticket_ctx_t *ctx, ngx_int_t prio,
    tk_str_t *label);

/*
 * Strings for template fields, in r->pool.  time: "2026-11-24 14:05" in
 * the server's time zone, iso: "2026-11-24T14:05:00Z"; both "" for 0.
 */
ngx_int_t ngx_http_ticket_time_str(ngx_http_request_t *r, int64_t t,
    tk_str_t *out);
ngx_int_t ngx_http_ticket_iso_str(ngx_http_request_t *r, int64_t t,
    tk_str_t *out);
ngx_int_t ngx_http_ticket_uint_str(ngx_http_request_t *r, uint64_t v,
    tk_str_t *out);
/* A file size for people: "512 B", "12 KB", "3.4 MB" ("3,4 MB"). */
ngx_int_t ngx_http_ticket_size_str(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t bytes, tk_str_t *out);

/* Short, for lists: "14:05" today, "24.11. 14:05" / "24 Nov 14:05" this
 * year, "2025-11-24" before. */
ngx_int_t ngx_http_ticket_short_time(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, int64_t t, tk_str_t *out);

/*
 * A tk_out_t that grows one contiguous buffer in r->pool, so that
 * escaping helpers (tk_out_text_as_html, tk_out_time) can produce a
 * string for a template field.  ngx_http_ticket_sink_str() returns what
 * was written.
 */
typedef struct {
    ngx_pool_t                *pool;
    u_char                    *start;
} ngx_http_ticket_sink_t;

void ngx_http_ticket_sink_init(ngx_http_request_t *r, tk_out_t *out,
    ngx_http_ticket_sink_t *sink, size_t size);
ngx_int_t ngx_http_ticket_sink_str(tk_out_t *out, tk_str_t *str);

/* An email address good enough to catch typos (ngx_http_ticket_profile.c):
 * one "@", a dot in the domain, no blanks, "<>,;" or control characters. */
ngx_flag_t ngx_http_ticket_valid_email(ngx_str_t *email);

/* Trim ASCII white space at both ends. */
void ngx_http_ticket_trim(ngx_str_t *s);

/* Number of code points of valid UTF-8 without control characters, or
 * -1. */
ngx_int_t ngx_http_ticket_text_chars(ngx_str_t *s, ngx_flag_t multiline);

/* Compare ASCII case-insensitively, then by length (for sorting). */
ngx_int_t ngx_http_ticket_casecmp(tk_str_t *a, tk_str_t *b);

/* HMGET/HGETALL reply element as a string ("" for nil). */
void ngx_http_ticket_reply_str(ngx_http_ticket_reply_t *rep, ngx_str_t *s);

/* Is member in a SMEMBERS reply? */
ngx_flag_t ngx_http_ticket_set_has(ngx_http_ticket_reply_t *set,
    ngx_str_t *member);

/* ---- one ticket (ngx_http_ticket_read.c) -------------------------------- */

/*
 * A ticket number in a URL ("/t/N", "/api/v1/tickets/N"): 1 to 19
 * digits, no leading zero.  Returns how many bytes from p it takes, 0
 * when there is none (the 404 of a ticket that does not exist).
 */
size_t ngx_http_ticket_number(u_char *p, u_char *last, uint64_t *number);

/* tk:{t:N} into r->pool. */
ngx_int_t ngx_http_ticket_ticket_key(ngx_http_request_t *r, uint64_t number,
    ngx_str_t *key);

/*
 * Reading a ticket takes two batches.  The first starts with
 * ticket_read()'s commands (replies NGX_HTTP_TICKET_READ_*); when the
 * ticket parses and the user has a right on its group, the second
 * starts with articles_read()'s HGETALLs, one reply per article.
 */
#define NGX_HTTP_TICKET_READ_TICKET    0        /* HGETALL tk:{t:N} */
#define NGX_HTTP_TICKET_READ_ARTICLES  1        /* LRANGE ...:articles */
#define NGX_HTTP_TICKET_READ_HISTORY   2        /* XRANGE ...:history */

void ngx_http_ticket_ticket_read(tk_cmds_t *cmds, ngx_str_t *key);
/* NGX_OK, NGX_DECLINED (no such ticket) or NGX_ERROR (not valid). */
ngx_int_t ngx_http_ticket_ticket_parse(ngx_http_request_t *r,
    ngx_http_ticket_reply_t *rep, tk_ticket_t *t);
/* Returns the number of articles (and so of replies) added. */
ngx_uint_t ngx_http_ticket_articles_read(tk_cmds_t *cmds, uint64_t number,
    ngx_http_ticket_reply_t *ids);
/* NGX_OK, NGX_DECLINED (gone meanwhile) or NGX_ERROR (not valid). */
ngx_int_t ngx_http_ticket_article_parse(ngx_http_request_t *r,
    ngx_http_ticket_reply_t *rep, tk_article_t *a);

/* ---- history entries (ngx_http_ticket_read.c) --------------------------- */

/* An entry of tk:{t:N}:history: time, by, field, from, to (SCHEMA.md). */
typedef struct {
    int64_t                    time;
    ngx_str_t                  by;
    ngx_str_t                  field;
    ngx_str_t                  from;            /* "" when left out */
    ngx_str_t                  to;
    unsigned                   has_from:1;
    unsigned                   has_to:1;
} ngx_http_ticket_hist_t;

/* One element of the XRANGE reply; NGX_ERROR when it is none of ours.
 * The strings point into the reply. */
ngx_int_t ngx_http_ticket_history_entry(ngx_http_ticket_reply_t *entry,
    ngx_http_ticket_hist_t *h);
/* The entry as the API's JSON object (null for a missing from/to). */
void ngx_http_ticket_history_json(tk_out_t *out, ngx_http_ticket_hist_t *h);
/* The entry's sentence as plain text (ngx_http_ticket_view_history.c). */
ngx_int_t ngx_http_ticket_history_plain(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_hist_t *h, ngx_str_t *out);

/* ---- go to a ticket by number (ngx_http_ticket_goto.c) ------------------ */

/* "123", "#123", "Ticket#123", "[Ticket#123]" with blanks: N, or 0. */
uint64_t ngx_http_ticket_goto_parse(ngx_str_t *input);
/* "?goto=..." of the overview as ctx->notice. */
ngx_int_t ngx_http_ticket_goto_notice(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/* ---- files of an article (ngx_http_ticket_download.c) ------------------- */

/* GET "/t/N" + rest, rest one of "/a/A/att/K", "/a/A/cid/CONTENT-ID",
 * "/a/A/raw". */
ngx_int_t ngx_http_ticket_download(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number, ngx_str_t *rest);

/* ---- HTML mail at render time (ngx_http_ticket_mailhtml.c) -------------- */

typedef struct {
    tk_str_t                   cid_prefix;      /* ".../t/5/a/9/cid/" */
    ngx_flag_t                 load_remote;     /* data-src becomes src */
    ngx_uint_t                 remote;          /* out: remote images */
} ngx_http_ticket_mailhtml_t;

/*
 * Write sanitised mail HTML to out with src="cid:ID" pointing to
 * cid_prefix + ID and, with load_remote, remote images' data-src turned
 * into src; counts the remote images either way.
 */
void ngx_http_ticket_mailhtml(tk_out_t *out, tk_str_t *html,
    ngx_http_ticket_mailhtml_t *mh);

/* ---- ticket changes (ngx_http_ticket_action.c) -------------------------- */

/* a POST to "/t/N/update" or "/t/N/title" (routed by the ticket page) */
#define NGX_HTTP_TICKET_UPDATE         1
#define NGX_HTTP_TICKET_RENAME         2
#define NGX_HTTP_TICKET_PATCH          3        /* the API's, both at once */

ngx_int_t ngx_http_ticket_action(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number, ngx_uint_t action);
/* Inside a change's transaction (also the tags form's): let go of it,
 * then the error page, or the ticket page again with the form as sent
 * and message at field (422). */
ngx_int_t ngx_http_ticket_action_refuse(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_uint_t status, const char *message);
ngx_int_t ngx_http_ticket_action_again(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number, const char *field,
    const char *message);

/* ---- the API's writes (ngx_http_ticket_api_write.c, _api.c) ------------- */

/* PATCH /api/v1/tickets/N */
ngx_int_t ngx_http_ticket_api_patch(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number);
/* A flat JSON body as the urlencoded form ctx->form (members in known). */
ngx_int_t ngx_http_ticket_api_form(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char **known, const char **field,
    const char **message);
/* "/api/v1/admin/..." (ngx_http_ticket_api_admin.c); rest from "/admin" */
ngx_int_t ngx_http_ticket_api_admin(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *rest);
/* The ticket as GET /api/v1/tickets/N answers (after a change). */
ngx_int_t ngx_http_ticket_api_ticket_get(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number);
/* GET /api/v1/tickets: the list (ngx_http_ticket_api_list.c) */
ngx_int_t ngx_http_ticket_api_list(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);

/*
 * A refused update form (ngx_http_ticket_view.c): the ticket page again
 * (422), the form showing what was posted on top of the stored ticket,
 * message next to field ("state", "priority", "group", "owner",
 * "pending_until").
 */
ngx_int_t ngx_http_ticket_view_again(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number, const char *field,
    ngx_str_t *message);

/* "2026-11-24T14:05" (datetime-local), "2026-11-24 14:05" or
 * "2026-11-24" in the server's time zone; NGX_OK or NGX_ERROR.  A date
 * alone is 09:00 (_time: a reminder) or 00:00 (_day: a range's start). */
ngx_int_t ngx_http_ticket_parse_local_time(ngx_str_t *s, int64_t *t);
ngx_int_t ngx_http_ticket_parse_local_day(ngx_str_t *s, int64_t *t);

/* ---- tags, merge/split, customers (issue 13, helper "tags") ------------- */

/* POST /t/N/tags; GET|POST|DELETE /api/v1/tickets/N/tags
 * (ngx_http_ticket_tags.c) */
ngx_int_t ngx_http_ticket_tags_form(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number);
ngx_int_t ngx_http_ticket_tags_api(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number);
/* the API's paths of this block below /api/v1; NGX_DECLINED: none */
ngx_int_t ngx_http_ticket_case_api(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *rest);
/* merge and split (ngx_http_ticket_merge_ticket.c): POST /t/N/merge
 * (into=M), GET|POST /t/N/a/A/split; the API's */
ngx_int_t ngx_http_ticket_merge_form(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number);
ngx_int_t ngx_http_ticket_split_form(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number, uint64_t article);
ngx_int_t ngx_http_ticket_merge_api(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number);
ngx_int_t ngx_http_ticket_split_api(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number, uint64_t article);

/* ---- which customers exist for the user (ngx_http_ticket_customer_vis.c):
 * round 1 (their newest tickets), round 2 (those tickets' groups, the
 * older ones per readable group), the verdict; the caller sends the rounds ---------------------------------- */
void ngx_http_ticket_cust_vis_tickets(tk_cmds_t *cmds, ngx_str_t *ids,
    ngx_uint_t n);
ngx_int_t ngx_http_ticket_cust_vis_groups(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, tk_cmds_t *cmds,
    ngx_http_ticket_reply_t *replies, ngx_uint_t nreplies, ngx_str_t *ids,
    ngx_uint_t n, ngx_uint_t **counts);
void ngx_http_ticket_cust_vis_decide(ngx_http_ticket_ctx_t *ctx,
    ngx_http_ticket_reply_t *replies, ngx_uint_t nreplies,
    ngx_uint_t *counts, ngx_uint_t n, u_char *visible);

/* ---- notifications (ngx_http_ticket_notify.c, helper notify) ---------- */

/* "/api/v1/notifications" + rest ("" or "/read") */
ngx_int_t ngx_http_ticket_api_notifications(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_str_t *rest);
/* "/t/N/subscription" (form) and "/api/v1/tickets/N/subscription" */
ngx_int_t ngx_http_ticket_subscription(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, uint64_t number, ngx_flag_t api);
/* "?unseen=a,b" after a reply: the page head's notice (reply_mention.c) */
ngx_int_t ngx_http_ticket_mention_notice(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
/* the ticket page's subscribe form action: base "t/N/subscription" */
ngx_int_t ngx_http_ticket_view_sub_url(ngx_http_request_t *r,
    uint64_t number, tk_str_t *url);
/* the profile's notification matrix (ngx_http_ticket_profile_notify.c):
 * the settings hash's reply into the template, and POST
 * "/profile/notifications" */
ngx_int_t ngx_http_ticket_profile_notify_tpl(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, ngx_http_ticket_reply_t *conf, void *tpl);
ngx_int_t ngx_http_ticket_profile_notify_save(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx);
/* profile.c: the page again, 422, the matrix as posted, error on top */
ngx_int_t ngx_http_ticket_profile_notify_refused(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, const char *error);

#endif /* NGX_HTTP_TICKET_VIEWS_H */
