/*
 * ngx_http_ticket_format.c -- strings for the views' templates: labels
 * in the user's language, times and numbers, a growing string sink for
 * the escaping helpers; and the checks views make on what users type
 * and on what Redis returns.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/read.h>

#include "ngx_http_ticket_views.h"


static void ngx_http_ticket_label(const char *s, tk_str_t *label);
static ngx_int_t ngx_http_ticket_time_format(ngx_http_request_t *r,
    int64_t t, ngx_flag_t iso, tk_str_t *str);
static long ngx_http_ticket_gmtoff(int64_t t);
static u_char *ngx_http_ticket_digits(u_char *p, int v, int width);
static ngx_int_t ngx_http_ticket_short_time_libc(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, int64_t t, tk_str_t *str);

/* the parts a date format (date.*_fmt in messages.txt) names */
typedef struct {
    int                        year;
    int                        mon;             /* 1..12 */
    int                        mday;
    int                        hour;
    int                        min;
} ngx_http_ticket_date_t;

static ngx_int_t ngx_http_ticket_date(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, int id, ngx_http_ticket_date_t *d,
    tk_str_t *str);
static ngx_int_t ngx_http_ticket_parse_local(ngx_str_t *s, int64_t *t,
    ngx_int_t hour);
static int ngx_http_ticket_sink_more(tk_out_t *out, size_t min);


/* ---- language and formatting ---------------------------------------------- */

/* the catalogue's word for each TK_STATE_* / TK_PRIO_* (-1: none) */
static const int  ngx_http_ticket_state_msgs[] = {
    -1, TK_MSG_STATE_NEW, TK_MSG_STATE_OPEN, TK_MSG_STATE_WAITING,
    TK_MSG_STATE_REMINDER, TK_MSG_STATE_DEFERRED, TK_MSG_STATE_CLOSED
};

static const int  ngx_http_ticket_prio_msgs[] = {
    -1, TK_MSG_PRIO_LOW, TK_MSG_PRIO_NORMAL, TK_MSG_PRIO_HIGH,
    TK_MSG_PRIO_URGENT
};


void
ngx_http_ticket_state_label(ngx_http_ticket_ctx_t *ctx, ngx_int_t state,
    tk_str_t *label)
{
    const char  *s;

    s = NULL;

    if (state >= TK_STATE_MIN && state <= TK_STATE_MAX
        && (size_t) state < sizeof(ngx_http_ticket_state_msgs) / sizeof(int))
    {
        s = ngx_http_ticket_msg(ctx, ngx_http_ticket_state_msgs[state]);
    }

    ngx_http_ticket_label(s, label);
}


void
ngx_http_ticket_prio_label(ngx_http_ticket_ctx_t *ctx, ngx_int_t prio,
    tk_str_t *label)
{
    const char  *s;

    s = NULL;

    if (prio >= TK_PRIO_MIN && prio <= TK_PRIO_MAX
        && (size_t) prio < sizeof(ngx_http_ticket_prio_msgs) / sizeof(int))
    {
        s = ngx_http_ticket_msg(ctx, ngx_http_ticket_prio_msgs[prio]);
    }

    ngx_http_ticket_label(s, label);
}


/* A value the schema has no word for still shows as something. */
static void
ngx_http_ticket_label(const char *s, tk_str_t *label)
{
    ngx_http_ticket_cstr(label, s ? s : "?");
}


ngx_int_t
ngx_http_ticket_time_str(ngx_http_request_t *r, int64_t t, tk_str_t *str)
{
    return ngx_http_ticket_time_format(r, t, 0, str);
}


ngx_int_t
ngx_http_ticket_iso_str(ngx_http_request_t *r, int64_t t, tk_str_t *str)
{
    return ngx_http_ticket_time_format(r, t, 1, str);
}


/* The escaping library formats times; this gives them a pool string. */
static ngx_int_t
ngx_http_ticket_time_format(ngx_http_request_t *r, int64_t t, ngx_flag_t iso,
    tk_str_t *str)
{
    tk_out_t                out;
    ngx_http_ticket_sink_t  sink;

    if (t <= 0) {
        tk_str_set(str, "");
        return NGX_OK;
    }

    ngx_http_ticket_sink_init(r, &out, &sink, 32);

    if (iso) {
        tk_out_time_iso(&out, t);

    } else {
        tk_out_time(&out, t, (int) (ngx_http_ticket_gmtoff(t) / 60));
    }

    return ngx_http_ticket_sink_str(&out, str);
}


/*
 * Seconds east of UTC at time t in the server's time zone, which the
 * worker reads once (localtime_r does not re-read TZ).  A page formats
 * hundreds of times, so the offset is cached per day: when it is the same
 * at the first and the last second of a day it holds for the whole day
 * (a zone never changes twice within one day); a day with a change asks
 * localtime_r every time, as before.
 */

#define NGX_HTTP_TICKET_GMTOFF_DAYS  256
#define NGX_HTTP_TICKET_GMTOFF_MAX   253402300799LL   /* 9999-12-31 */

typedef struct {
    int64_t     day;
    long        gmtoff;
    ngx_flag_t  valid;          /* 1: cached; 2: offset changes that day */
} ngx_http_ticket_gmtoff_t;

static ngx_http_ticket_gmtoff_t
    ngx_http_ticket_gmtoffs[NGX_HTTP_TICKET_GMTOFF_DAYS];


static long
ngx_http_ticket_libc_gmtoff(int64_t t)
{
#if (NGX_HAVE_GMTOFF)
    struct tm  tm;

    ngx_libc_localtime((time_t) t, &tm);

    return tm.tm_gmtoff;
#else
    return 0;
#endif
}


static long
ngx_http_ticket_gmtoff(int64_t t)
{
    long                       last;
    int64_t                    day;
    ngx_http_ticket_gmtoff_t  *c;

    if (t < 0 || t > NGX_HTTP_TICKET_GMTOFF_MAX) {
        return ngx_http_ticket_libc_gmtoff(t);
    }

    day = t / 86400;
    c = &ngx_http_ticket_gmtoffs[day % NGX_HTTP_TICKET_GMTOFF_DAYS];

    if (c->valid == 0 || c->day != day) {
        c->day = day;
        c->gmtoff = ngx_http_ticket_libc_gmtoff(day * 86400);
        last = ngx_http_ticket_libc_gmtoff(day * 86400 + 86399);
        c->valid = (last == c->gmtoff) ? 1 : 2;
    }

    return c->valid == 1 ? c->gmtoff : ngx_http_ticket_libc_gmtoff(t);
}


static u_char *
ngx_http_ticket_digits(u_char *p, int v, int width)
{
    int  i;

    for (i = width - 1; i >= 0; i--) {
        p[i] = (u_char) ('0' + v % 10);
        v /= 10;
    }

    return p + width;
}


/* Times outside the years 0..9999, as libc splits them. */
static ngx_int_t
ngx_http_ticket_short_time_libc(ngx_http_request_t *r,
    ngx_http_ticket_ctx_t *ctx, int64_t t, tk_str_t *str)
{
    struct tm               tm, now;
    ngx_http_ticket_date_t  d;

    ngx_libc_localtime((time_t) t, &tm);
    ngx_libc_localtime(ngx_time(), &now);

    d.year = tm.tm_year + 1900;
    d.mon = tm.tm_mon + 1;
    d.mday = tm.tm_mday;
    d.hour = tm.tm_hour;
    d.min = tm.tm_min;

    return ngx_http_ticket_date(r, ctx,
                                tm.tm_year == now.tm_year
                                && tm.tm_yday == now.tm_yday
                                ? TK_MSG_DATE_TODAY_FMT
                                : tm.tm_year == now.tm_year
                                ? TK_MSG_DATE_THIS_YEAR_FMT
                                : TK_MSG_DATE_OTHER_YEAR_FMT,
                                &d, str);
}


/*
 * Today: "14:05"; this year: "24.11. 14:05" or "24 Nov 14:05"; else
 * "2025-11-24": the formats are the catalogue's (date.*_fmt), in the
 * zone of ticket_time_zone.
 */
ngx_int_t
ngx_http_ticket_short_time(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    int64_t t, tk_str_t *str)
{
    tk_tm_t                 tm, now;
    ngx_http_ticket_date_t  d;

    if (t <= 0) {
        tk_str_set(str, "");
        return NGX_OK;
    }

    if (tk_time_split(t + ngx_http_ticket_gmtoff(t), &tm) != 0
        || tk_time_split(ngx_time() + ngx_http_ticket_gmtoff(ngx_time()),
                         &now)
           != 0)
    {
        return ngx_http_ticket_short_time_libc(r, ctx, t, str);
    }

    d.year = tm.year;
    d.mon = tm.mon;
    d.mday = tm.mday;
    d.hour = tm.hour;
    d.min = tm.min;

    return ngx_http_ticket_date(r, ctx,
                                tm.days == now.days ? TK_MSG_DATE_TODAY_FMT
                                : tm.year == now.year
                                ? TK_MSG_DATE_THIS_YEAR_FMT
                                : TK_MSG_DATE_OTHER_YEAR_FMT,
                                &d, str);
}


/*
 * A date in the user's language: the catalogue's format id, already
 * split into text and {params}, filled by the params' names.
 */
static ngx_int_t
ngx_http_ticket_date(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    int id, ngx_http_ticket_date_t *d, tk_str_t *str)
{
    int                  lang;
    u_char              *p;
    size_t               i, size;
    const char          *mon;
    const tk_msg_t      *m;
    const tk_msg_seg_t  *seg;

    static const int     months[] = {
        TK_MSG_DATE_MON_1, TK_MSG_DATE_MON_2, TK_MSG_DATE_MON_3,
        TK_MSG_DATE_MON_4, TK_MSG_DATE_MON_5, TK_MSG_DATE_MON_6,
        TK_MSG_DATE_MON_7, TK_MSG_DATE_MON_8, TK_MSG_DATE_MON_9,
        TK_MSG_DATE_MON_10, TK_MSG_DATE_MON_11, TK_MSG_DATE_MON_12
    };

    lang = (int) ngx_http_ticket_lang(ctx);
    m = tk_msg_get(lang, id);
    mon = tk_msg(lang, months[(d->mon + 11) % 12]);

    /* every piece at most its text, 4 digits or the month's name */
    size = m->len + m->nsegs * (4 + ngx_strlen(mon));

    p = ngx_pnalloc(r->pool, size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    str->data = p;

    for (i = 0; i < m->nsegs; i++) {
        seg = &m->segs[i];

        if (seg->arg < 0) {
            p = ngx_cpymem(p, seg->text, seg->len);

        } else if (ngx_http_ticket_seg_is(seg, "dd")) {
            p = ngx_http_ticket_digits(p, d->mday, 2);

        } else if (ngx_http_ticket_seg_is(seg, "day")) {
            p = ngx_http_ticket_digits(p, d->mday, d->mday < 10 ? 1 : 2);

        } else if (ngx_http_ticket_seg_is(seg, "mm")) {
            p = ngx_http_ticket_digits(p, d->mon, 2);

        } else if (ngx_http_ticket_seg_is(seg, "mon")) {
            p = ngx_cpymem(p, mon, ngx_strlen(mon));

        } else if (ngx_http_ticket_seg_is(seg, "yyyy")) {
            p = ngx_http_ticket_digits(p, d->year, 4);

        } else if (ngx_http_ticket_seg_is(seg, "hh")) {
            p = ngx_http_ticket_digits(p, d->hour, 2);

        } else if (ngx_http_ticket_seg_is(seg, "mi")) {
            p = ngx_http_ticket_digits(p, d->min, 2);
        }
    }

    str->len = p - str->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_ticket_uint_str(ngx_http_request_t *r, uint64_t v, tk_str_t *str)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, TK_UINT_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    str->data = p;
    str->len = (u_char *) tk_str_putu((char *) p, v) - p;

    return NGX_OK;
}


/*
 * Sizes as file managers show them, 1024 based: whole KB rounded up (a
 * 10-byte file over 1 KB is "1 KB", never "0 KB"), one decimal for MB.
 */
ngx_int_t
ngx_http_ticket_size_str(ngx_http_request_t *r, ngx_http_ticket_ctx_t *ctx,
    uint64_t bytes, tk_str_t *str)
{
    u_char    *p;
    uint64_t   tenths;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 8);
    if (p == NULL) {
        return NGX_ERROR;
    }

    str->data = p;

    if (bytes < 1024) {
        p = ngx_sprintf(p, "%uL B", bytes);

    } else if (bytes < 1024 * 1024) {
        p = ngx_sprintf(p, "%uL KB", (bytes + 1023) / 1024);

    } else {
        tenths = (bytes * 10 + 1024 * 1024 / 2) / (1024 * 1024);
        p = ngx_sprintf(p, "%uL%c%uL MB", tenths / 10,
                        ngx_http_ticket_lang_de(ctx) ? ',' : '.',
                        tenths % 10);
    }

    str->len = p - str->data;

    return NGX_OK;
}


/* ---- a growing string sink -------------------------------------------------- */

/*
 * more(): the next chunk must continue the same string, so grow by
 * copying into a buffer at least twice as big.  Large sizes come from the
 * pool's large allocations and go with the request.
 */
static int
ngx_http_ticket_sink_more(tk_out_t *out, size_t min)
{
    u_char                  *p;
    size_t                   used, size;
    ngx_http_ticket_sink_t  *sink = out->data;

    if (sink->start == NULL) {
        return -1;
    }

    used = out->pos - sink->start;
    size = ngx_max(2 * (size_t) (out->end - sink->start), used + min + 64);

    p = ngx_pnalloc(sink->pool, size);
    if (p == NULL) {
        return -1;
    }

    ngx_memcpy(p, sink->start, used);

    sink->start = p;
    out->pos = p + used;
    out->end = p + size;

    return 0;
}


void
ngx_http_ticket_sink_init(ngx_http_request_t *r, tk_out_t *out,
    ngx_http_ticket_sink_t *sink, size_t size)
{
    ngx_memzero(out, sizeof(tk_out_t));

    sink->pool = r->pool;
    sink->start = ngx_pnalloc(r->pool, size);

    out->more = ngx_http_ticket_sink_more;
    out->data = sink;
    out->lang = (int) ngx_http_ticket_page_lang(r,
                          ngx_http_get_module_ctx(r, ngx_http_ticket_module));

    if (sink->start == NULL) {
        out->failed = 1;
        return;
    }

    out->pos = sink->start;
    out->end = sink->start + size;
}


ngx_int_t
ngx_http_ticket_sink_str(tk_out_t *out, tk_str_t *str)
{
    ngx_http_ticket_sink_t  *sink = out->data;

    if (tk_out_failed(out) || sink->start == NULL) {
        return NGX_ERROR;
    }

    str->data = sink->start;
    str->len = out->pos - sink->start;

    return NGX_OK;
}


/* ---- input checks and replies ---------------------------------------------- */

void
ngx_http_ticket_trim(ngx_str_t *s)
{
    while (s->len && (s->data[0] == ' ' || s->data[0] == '\t'
                      || s->data[0] == '\r' || s->data[0] == '\n'))
    {
        s->data++;
        s->len--;
    }

    while (s->len && (s->data[s->len - 1] == ' '
                      || s->data[s->len - 1] == '\t'
                      || s->data[s->len - 1] == '\r'
                      || s->data[s->len - 1] == '\n'))
    {
        s->len--;
    }
}


/*
 * Titles, names and the like end up in mail headers, index members and
 * history entries: only valid UTF-8, no control characters (line breaks
 * only where the field is multi-line).
 */
ngx_int_t
ngx_http_ticket_text_chars(ngx_str_t *s, ngx_flag_t multiline)
{
    u_char     *p, *last;
    uint32_t    c;
    ngx_int_t   n;

    p = s->data;
    last = s->data + s->len;
    n = 0;

    while (p < last) {

        if (*p < 0x80) {
            if ((*p < 0x20 || *p == 0x7f)
                && !(multiline && (*p == '\n' || *p == '\r' || *p == '\t')))
            {
                return -1;
            }

            p++;
            n++;
            continue;
        }

        c = ngx_utf8_decode(&p, last - p);

        if (c > 0x10ffff || (c >= 0x80 && c < 0xa0)) {
            return -1;
        }

        n++;
    }

    return n;
}


ngx_int_t
ngx_http_ticket_casecmp(tk_str_t *a, tk_str_t *b)
{
    size_t  i, n;
    u_char  ca, cb;

    n = ngx_min(a->len, b->len);

    for (i = 0; i < n; i++) {
        ca = ngx_tolower(a->data[i]);
        cb = ngx_tolower(b->data[i]);

        if (ca != cb) {
            return ca < cb ? -1 : 1;
        }
    }

    return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
}


void
ngx_http_ticket_reply_str(ngx_http_ticket_reply_t *rep, ngx_str_t *s)
{
    if (rep != NULL
        && (rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_STATUS))
    {
        *s = rep->str;
        return;
    }

    ngx_str_set(s, "");
}


/* Is member in a SMEMBERS reply?  Sets here are tens of names. */
ngx_flag_t
ngx_http_ticket_set_has(ngx_http_ticket_reply_t *set, ngx_str_t *member)
{
    ngx_uint_t  i;

    if (set == NULL || set->type != REDIS_REPLY_ARRAY) {
        return 0;
    }

    for (i = 0; i < set->nelem; i++) {
        if (set->element[i].str.len == member->len
            && ngx_strncmp(set->element[i].str.data, member->data,
                           member->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* (moved from ngx_http_ticket_action.c: the composer uses it too) */
/*
 * "2026-11-24T14:05" (datetime-local) or "2026-11-24 14:05" or
 * "2026-11-24" in the server's time zone -- the zone the page shows
 * times in.  A date alone is 09:00: a reminder "on the 24th" is for the
 * working morning.
 */
ngx_int_t
ngx_http_ticket_parse_local_time(ngx_str_t *s, int64_t *t)
{
    return ngx_http_ticket_parse_local(s, t, 9);
}


/* The same, but a date alone is its first second: the start of a date
 * range ("updated from the 24th"), whose end adds the day. */
ngx_int_t
ngx_http_ticket_parse_local_day(ngx_str_t *s, int64_t *t)
{
    return ngx_http_ticket_parse_local(s, t, 0);
}


static ngx_int_t
ngx_http_ticket_parse_local(ngx_str_t *s, int64_t *t, ngx_int_t hour)
{
    u_char     *p;
    struct tm   tm;
    time_t      tt;
    ngx_int_t   y, mo, d, h, mi;

    p = s->data;
    h = hour;
    mi = 0;

    if ((s->len != 10 && s->len != 16 && s->len != 19)
        || p[4] != '-' || p[7] != '-')
    {
        return NGX_ERROR;
    }

    y = ngx_atoi(p, 4);
    mo = ngx_atoi(p + 5, 2);
    d = ngx_atoi(p + 8, 2);

    if (s->len >= 16) {
        if ((p[10] != 'T' && p[10] != ' ') || p[13] != ':') {
            return NGX_ERROR;
        }

        h = ngx_atoi(p + 11, 2);
        mi = ngx_atoi(p + 14, 2);

        if (s->len == 19 && (p[16] != ':' || ngx_atoi(p + 17, 2) < 0)) {
            return NGX_ERROR;
        }
    }

    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31
        || h < 0 || h > 23 || mi < 0 || mi > 59)
    {
        return NGX_ERROR;
    }

    ngx_memzero(&tm, sizeof(struct tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_isdst = -1;

    tt = mktime(&tm);
    if (tt == (time_t) -1 || tm.tm_mday != d) {
        return NGX_ERROR;
    }

    *t = (int64_t) tt;

    return NGX_OK;
}
