/*
 * ngx_http_ticket_api_json.c -- the JSON pieces of the API's answers: a
 * ticket's fields, an article, strings, times and enum names, written
 * escaped into a tk_out_t (split from ngx_http_ticket_api.c, which
 * routes and reads).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ticket_views.h"
#include "ngx_http_ticket_api_json.h"
#include "tk_tags.h"

/* The fields of a ticket object, without the braces. */
void
ngx_http_ticket_api_ticket_fields(tk_out_t *out, ngx_http_ticket_row_t *row)
{
    const char  *state, *prio;

    state = tk_state_name((int) row->state);
    prio = tk_prio_name((int) row->priority);

    tk_out_cstr(out, "\"number\":");
    tk_out_uint(out, row->number);
    tk_out_cstr(out, ",");
    ngx_http_ticket_api_str(out, "title", ngx_ticket_str(&row->title), 0);
    tk_out_cstr(out, ",");
    ngx_http_ticket_api_str(out, "group", ngx_ticket_str(&row->group), 0);
    tk_out_cstr(out, ",");
    ngx_http_ticket_api_str(out, "owner", ngx_ticket_str(&row->owner), 1);
    tk_out_cstr(out, ",\"customer\":{");
    ngx_http_ticket_api_str(out, "name", ngx_ticket_str(&row->customer_name),
                            0);
    tk_out_cstr(out, ",");
    ngx_http_ticket_api_str(out, "email",
                            ngx_ticket_str(&row->customer_email), 0);
    tk_out_cstr(out, "},\"state\":");
    ngx_http_ticket_api_name(out, state, "");
    tk_out_cstr(out, ",\"state_id\":");
    tk_out_int(out, row->state);
    tk_out_cstr(out, ",\"priority\":");
    ngx_http_ticket_api_name(out, prio, "");
    tk_out_cstr(out, ",\"priority_id\":");
    tk_out_int(out, row->priority);

    /* issue 13: the tags, the customer page's id */
    {
        size_t    i, n;
        tk_str_t  tags[TK_TAGS_MAX];

        n = tk_tags_split(ngx_ticket_str(&row->tags), tags, TK_TAGS_MAX);
        tk_out_cstr(out, ",\"tags\":[");

        for (i = 0; i < n; i++) {
            if (i) {
                tk_out_cstr(out, ",");
            }

            tk_out_json(out, tags[i].data, tags[i].len);
        }

        tk_out_cstr(out, "],\"customer_id\":");

        if (row->customer) {
            tk_out_uint(out, row->customer);
        } else {
            tk_out_cstr(out, "null");
        }
    }

    ngx_http_ticket_api_time(out, "created", row->created);
    ngx_http_ticket_api_time(out, "updated", row->updated);
}


void
ngx_http_ticket_api_article(tk_out_t *out, tk_article_t *a)
{
    const char  *kind;

    kind = tk_article_kind_name(a->kind);

    tk_out_cstr(out, "\"id\":");
    tk_out_uint(out, a->id);
    tk_out_cstr(out, ",\"kind\":");
    ngx_http_ticket_api_name(out, kind, "");
    tk_out_cstr(out, ",");
    ngx_http_ticket_api_str(out, "from", &a->from, 0);
    tk_out_cstr(out, ",");
    ngx_http_ticket_api_str(out, "to", &a->to, 0);
    tk_out_cstr(out, ",");
    ngx_http_ticket_api_str(out, "cc", &a->cc, 0);
    tk_out_cstr(out, ",");
    ngx_http_ticket_api_str(out, "subject", &a->subject, 0);
    tk_out_cstr(out, ",");
    ngx_http_ticket_api_str(out, "message_id", &a->message_id, 1);
    tk_out_cstr(out, ",");
    ngx_http_ticket_api_str(out, "body", &a->body, 0);
    tk_out_cstr(out, ",");
    ngx_http_ticket_api_str(out, "author", &a->author, 1);
    ngx_http_ticket_api_time(out, "time", a->time);
    tk_out_cstr(out, ",\"attachments\":");
    tk_out_uint(out, a->attachments);

    /* mail sent: how its delivery went (SCHEMA.md "Outbox") */
    if (a->kind == TK_ART_OUT) {
        tk_out_cstr(out, ",");
        ngx_http_ticket_api_str(out, "delivery", &a->delivery, 1);
        tk_out_cstr(out, ",");
        ngx_http_ticket_api_str(out, "delivery_info", &a->delivery_info, 1);
    }
}


/* "name":"value", or "name":null for an empty value where it means none. */
void
ngx_http_ticket_api_str(tk_out_t *out, const char *name, tk_str_t *value,
    ngx_flag_t null_if_empty)
{
    tk_out_json(out, name, ngx_strlen(name));
    tk_out_cstr(out, ":");

    if (value->len == 0 && null_if_empty) {
        tk_out_cstr(out, "null");
        return;
    }

    tk_out_json(out, value->data, value->len);
}


/* ,"name":"2026-11-24T14:05:00Z" or ,"name":null */
void
ngx_http_ticket_api_time(tk_out_t *out, const char *name, int64_t t)
{
    tk_out_cstr(out, ",");
    tk_out_json(out, name, ngx_strlen(name));

    if (t <= 0) {
        tk_out_cstr(out, ":null");
        return;
    }

    tk_out_cstr(out, ":\"");
    tk_out_time_iso(out, t);
    tk_out_cstr(out, "\"");
}


/* An enum's name as a JSON string; unknown where the schema has none. */
void
ngx_http_ticket_api_name(tk_out_t *out, const char *name,
    const char *unknown)
{
    if (name == NULL) {
        name = unknown;
    }

    tk_out_json(out, name, ngx_strlen(name));
}
