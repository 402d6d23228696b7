/*
 * tk_tags.h -- tags on tickets (SCHEMA.md "Tags"): what a tag may be,
 * the ticket's list of them, and the commands that keep the tag sets
 * tk:{ix}:tag:TAG and the counts tk:{ix}:tags in step with the ticket.
 *
 * The ticket hash's "tags" field (TK_F_TAGS) is the truth: lower-case
 * tags, sorted bytewise, unique, joined by ','.  Writers change a tag by
 * changing tk_ticket_t.tags and calling tk_ticket_update(), which calls
 * tk_tags_sync() inside the same MULTI: so the tag sets move with every
 * write that moves "updated", and nothing else writes them.
 */

#ifndef TK_TAGS_H
#define TK_TAGS_H

#include <stddef.h>
#include <stdint.h>

#include "tk_cmd.h"
#include "tk_feed.h"
#include "tk_schema.h"
#include "tk_str.h"

/*
 * One tag as typed (any bytes) into its stored form in out (room for
 * TK_TAG_MAX bytes): blanks at both ends dropped, inner runs of blanks
 * one space, lower-cased (tk_utf8_lower).  Refused (returns 0): empty,
 * longer than TK_TAG_MAX bytes, not UTF-8, a control byte, or one of
 * , { } * " \ (a list separator, key and query syntax).  Returns the
 * length.
 */
size_t tk_tag_normalise(const unsigned char *in, size_t len,
    unsigned char *out);

/* Valid UTF-8 without control bytes (tabs and newlines allowed when
 * lines is set): 1 or 0.  Also for organisations and notes. */
int tk_text_valid_lines(const unsigned char *p, size_t len, int lines);
#define tk_text_valid(p, len)  tk_text_valid_lines(p, len, 0)

/* The tags of a stored list ("a,b"), at most max; returns how many. */
size_t tk_tags_split(const tk_str_t *list, tk_str_t *tags, size_t max);

/*
 * tags (already normalised, any order, maybe repeated) as the stored
 * list into buf (TK_TAGS_LEN_MAX bytes): sorted, unique.  Returns the
 * length; the array is sorted in place.
 */
size_t tk_tags_join(tk_str_t *tags, size_t n, unsigned char *buf);

/* list (a stored list) holds tag. */
int tk_tags_has(const tk_str_t *list, const tk_str_t *tag);

/*
 * The tag sets of ticket number from old (NULL: a new ticket) to new:
 * ZADD every tag set of new with the score "updated" (also the tags
 * that stayed: their score follows the ticket), ZREM the dropped ones,
 * the counts in tk:{ix}:tags up or down (a count at 0 removed).  When
 * the list changed: a history entry (field "tags") and the feed's
 * "changed tags" -- an entry that changes nothing else is of event
 * "tags" (tk_feed.c).  Called by tk_ticket_update/tk_ticket_create.
 */
void tk_tags_sync(tk_cmds_t *c, tk_feed_t *f, uint64_t number,
    const tk_str_t *old, const tk_str_t *new, int64_t updated,
    const tk_str_t *by, int64_t now);

/* Repair (ticketctl reindex, after deleting the tag sets and counts):
 * ZADD the ticket into each of its tags' sets and count it. */
void tk_tags_index(tk_cmds_t *c, uint64_t number, const tk_str_t *tags,
    int64_t updated);

#endif /* TK_TAGS_H */
