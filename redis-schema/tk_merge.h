/*
 * tk_merge.h -- merging a duplicate ticket into another and splitting an
 * article off into a new ticket (SCHEMA.md "Merge and split").  Both move
 * articles between tickets: an article's keys (hash, attachments, raw
 * mail) carry the ticket's hash tag {t:N}, so a move is a RENAME to the
 * other ticket's tag -- possible in one MULTI on one Redis, not across
 * cluster slots (SCHEMA.md "Redis Cluster").  The article id stays (ids
 * are global), its "ticket" field, the Message-ID index and its
 * full-text document follow (FT.DEL of the old document id, FT.SAFEADD
 * of the new one with the target's number and group).
 *
 * Callers read both tickets (and each moved article) first, WATCH the
 * ticket keys, check that rev did not move since their read, and wrap
 * the commands in MULTI/EXEC.
 */

#ifndef TK_MERGE_H
#define TK_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "tk_ticket.h"

/* An article to move, as read (HGETALL), and whether it has a raw mail. */
typedef struct {
    tk_article_t   a;
    int            has_raw;
} tk_move_art_t;

/*
 * Merge src into dst: every article of src moves into dst (dst's list is
 * rewritten in id order, so the thread stays chronological), the
 * participants join dst's, the tags are united; src is closed with
 * merged_into = dst (mail to it is threaded into dst, mailbridge/
 * thread.c), its list emptied.  History: "merged_into" in src,
 * "merged" (from = src's number) in dst.  dst_ids: dst's article ids as
 * read.  tags_buf: TK_TAGS_LEN_MAX bytes that outlive the commands.
 */
void tk_ticket_merge(tk_cmds_t *c, const tk_ticket_t *src,
    const tk_ticket_t *dst, tk_move_art_t *arts, size_t n,
    const uint64_t *dst_ids, size_t ndst, const tk_str_t *by, int64_t now,
    unsigned char *tags_buf);

/*
 * Split article art of src off into the new ticket t (number from INCR
 * tk:seq:ticket, group, customer, title filled by the caller; articles,
 * times set here): the article moves, src keeps the rest.  History:
 * "split" (to = the new number) in src, "split_from" in the new one.
 */
void tk_ticket_split(tk_cmds_t *c, const tk_ticket_t *src,
    tk_move_art_t *art, tk_ticket_t *t, const tk_str_t *by, int64_t now);

#endif /* TK_MERGE_H */
