/*
 * mb_parse.h -- what the files of the parse stage share (mailbridge.h has
 * the stage's interface):
 *   parse.c         raw bytes -> gmime message -> mb_msg_t (the driver)
 *   parse_header.c  addresses, references, recipients
 *   parse_body.c    the MIME tree: body text, HTML, nested messages
 *   parse_attach.c  attachments
 */

#ifndef MB_PARSE_H
#define MB_PARSE_H

#include <gmime/gmime.h>

#include "mailbridge.h"

/* What the walk over the MIME tree collects. */
typedef struct mb_walk_s {
    mb_msg_t    *m;
    GString     *text;          /* text/plain parts                  */
    GString     *html_text;     /* text derived from HTML parts       */
    GString     *html;          /* sanitised HTML parts              */
    int          in_report;     /* inside multipart/report           */
    int          guessed;       /* a charset was guessed             */
    GPtrArray   *atts;          /* mb_att_t *                        */
} mb_walk_t;

/* Parser options of every gmime parse (mb_parse_init()). */
extern GMimeParserOptions  *mb_opts;

/* parse_header.c */
void mb_parse_addresses(mb_msg_t *m, GMimeMessage *msg);
void mb_parse_refs(mb_msg_t *m, GMimeMessage *msg);
void mb_parse_rcpts(mb_msg_t *m, GMimeMessage *msg);
tk_str_t mb_header_line(mb_msg_t *m, const char *s);
void mb_lower(tk_str_t *s);
void mb_add_ref(mb_msg_t *m, tk_str_t **list, size_t *n, const char *id);

/* parse_body.c */
void mb_walk(mb_walk_t *w, GMimeObject *obj, int depth);
void mb_append_block(GString *s, const char *p, size_t n);

/* parse_attach.c */
void mb_add_attachment(mb_walk_t *w, GMimeObject *obj,
    const unsigned char *data, size_t len, const char *name);

#endif /* MB_PARSE_H */
