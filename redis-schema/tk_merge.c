/*
 * tk_merge.c -- merge and split (tk_merge.h): moving articles between
 * tickets inside the callers' MULTI.
 */

#include <stdlib.h>
#include <string.h>

#include "tk_merge.h"
#include "tk_tags.h"


static void tk_article_move(tk_cmds_t *c, tk_move_art_t *m, uint64_t to,
    const tk_str_t *group);
static int tk_id_cmp(const void *a, const void *b);
static size_t tk_merge_num(char *buf, uint64_t v);


static size_t
tk_merge_num(char *buf, uint64_t v)
{
    char  *p, tmp[TK_UINT_LEN + 1];

    p = tk_str_utoa(tmp + sizeof(tmp), v);
    memcpy(buf, p, (size_t) (tmp + sizeof(tmp) - p));
    buf[tmp + sizeof(tmp) - p] = '\0';

    return (size_t) (tmp + sizeof(tmp) - p);
}


/*
 * One article from its ticket to ticket "to": its keys RENAMEd, the
 * ticket field, the Message-ID index, the full-text document.  No feed
 * entry of its own: the tickets' update entries say what happened.
 */
static void
tk_article_move(tk_cmds_t *c, tk_move_art_t *m, uint64_t to,
    const tk_str_t *group)
{
    char       from_key[TK_KEY_MAX], to_key[TK_KEY_MAX], mid[TK_KEY_MAX];
    unsigned   k;
    uint64_t   from;

    from = m->a.ticket;

    if (tk_key_article(from_key, sizeof(from_key), from, m->a.id) == 0
        || tk_key_article(to_key, sizeof(to_key), to, m->a.id) == 0)
    {
        c->failed = 1;
        return;
    }

    tk_cmds_add(c, "RENAME %s %s", from_key, to_key);
    tk_cmds_add(c, "HSET %s " TK_F_TICKET " %llu", to_key,
                (unsigned long long) to);

    for (k = 1; k <= m->a.attachments; k++) {
        tk_key_attachment(from_key, sizeof(from_key), from, m->a.id, k);
        tk_key_attachment(to_key, sizeof(to_key), to, m->a.id, k);
        tk_cmds_add(c, "RENAME %s %s", from_key, to_key);
    }

    if (m->has_raw) {
        tk_key_raw(from_key, sizeof(from_key), from, m->a.id);
        tk_key_raw(to_key, sizeof(to_key), to, m->a.id);
        tk_cmds_add(c, "RENAME %s %s", from_key, to_key);
    }

    /* the old document id names a key that is gone */
    tk_key_article(from_key, sizeof(from_key), from, m->a.id);
    tk_cmds_add(c, "FT.DEL " TK_KEY_FT_ARTICLES " %s", from_key);

    if (m->a.message_id.len) {
        if (tk_key_msgid(mid, sizeof(mid), &m->a.message_id) == 0) {
            c->failed = 1;
            return;
        }

        tk_cmds_add(c, "SET %s %llu:%llu", mid, (unsigned long long) to,
                    (unsigned long long) m->a.id);
    }

    m->a.ticket = to;
    tk_article_write_flags(c, &m->a, group, TK_ARTICLE_FT_ONLY);
}


static int
tk_id_cmp(const void *a, const void *b)
{
    uint64_t  x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}


void
tk_ticket_merge(tk_cmds_t *c, const tk_ticket_t *src, const tk_ticket_t *dst,
    tk_move_art_t *arts, size_t n, const uint64_t *dst_ids, size_t ndst,
    const tk_str_t *by, int64_t now, unsigned char *tags_buf)
{
    char         list[TK_KEY_MAX], part_s[TK_KEY_MAX], part_d[TK_KEY_MAX];
    char         num[TK_UINT_LEN + 1];
    size_t       i, nall, ntags;
    uint64_t    *all;
    tk_str_t     s, tags[2 * TK_TAGS_MAX];
    tk_ticket_t  snew, dnew;

    all = c->alloc(c->alloc_data, (n + ndst + 1) * sizeof(uint64_t));
    if (all == NULL) {
        c->failed = 1;
        return;
    }

    for (i = 0; i < n; i++) {
        tk_article_move(c, &arts[i], dst->number, &dst->group);
        all[i] = arts[i].a.id;
    }

    memcpy(all + n, dst_ids, ndst * sizeof(uint64_t));
    nall = n + ndst;
    qsort(all, nall, sizeof(uint64_t), tk_id_cmp);

    /* the target's list in id order: the thread stays chronological */
    tk_key_ticket_articles(list, sizeof(list), dst->number);
    tk_cmds_add(c, "DEL %s", list);

    for (i = 0; i < nall; i++) {
        tk_cmds_add(c, "RPUSH %s %llu", list, (unsigned long long) all[i]);
    }

    tk_key_ticket_articles(list, sizeof(list), src->number);
    tk_cmds_add(c, "DEL %s", list);

    tk_key_participants(part_s, sizeof(part_s), src->number);
    tk_key_participants(part_d, sizeof(part_d), dst->number);
    tk_cmds_add(c, "SUNIONSTORE %s %s %s", part_d, part_d, part_s);

    /* the merged one: closed, empty, pointing at the target */
    snew = *src;
    snew.state = TK_STATE_CLOSED;
    snew.pending_until = 0;
    snew.articles = 0;
    snew.merged_into = dst->number;
    tk_ticket_update(c, src, &snew, by, now);

    s.data = (unsigned char *) num;
    s.len = tk_merge_num(num, dst->number);
    tk_history_add(c, src->number, now, by, TK_F_MERGED_INTO, NULL, &s);

    dnew = *dst;
    dnew.articles = nall;

    ntags = tk_tags_split(&dst->tags, tags, TK_TAGS_MAX);
    ntags += tk_tags_split(&src->tags, tags + ntags, TK_TAGS_MAX);
    dnew.tags.data = tags_buf;
    dnew.tags.len = tk_tags_join(tags, ntags, tags_buf);

    tk_ticket_update(c, dst, &dnew, by, now);

    s.len = tk_merge_num(num, src->number);
    tk_history_add(c, dst->number, now, by, "merged", &s, NULL);
}


void
tk_ticket_split(tk_cmds_t *c, const tk_ticket_t *src, tk_move_art_t *art,
    tk_ticket_t *t, const tk_str_t *by, int64_t now)
{
    char         list[TK_KEY_MAX], part_s[TK_KEY_MAX], part_d[TK_KEY_MAX];
    char         num[TK_UINT_LEN + 1];
    uint64_t     id;
    tk_str_t     s;
    tk_ticket_t  snew;

    id = art->a.id;

    t->articles = 1;
    t->created = now;
    t->updated = now;
    t->rev = 0;
    tk_ticket_create(c, t, by);

    tk_article_move(c, art, t->number, &t->group);

    tk_key_ticket_articles(list, sizeof(list), src->number);
    tk_cmds_add(c, "LREM %s 0 %llu", list, (unsigned long long) id);
    tk_key_ticket_articles(list, sizeof(list), t->number);
    tk_cmds_add(c, "RPUSH %s %llu", list, (unsigned long long) id);

    /* the people of the conversation may write to the new one too */
    tk_key_participants(part_s, sizeof(part_s), src->number);
    tk_key_participants(part_d, sizeof(part_d), t->number);
    tk_cmds_add(c, "SUNIONSTORE %s %s", part_d, part_s);

    s.data = (unsigned char *) num;
    s.len = tk_merge_num(num, src->number);
    tk_history_add(c, t->number, now, by, "split_from", &s, NULL);

    snew = *src;
    snew.articles = src->articles ? src->articles - 1 : 0;
    tk_ticket_update(c, src, &snew, by, now);

    s.len = tk_merge_num(num, t->number);
    tk_history_add(c, src->number, now, by, "split", NULL, &s);
}
