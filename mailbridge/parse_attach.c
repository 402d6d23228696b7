/*
 * parse_attach.c -- a MIME part kept as an attachment: its bytes exact,
 * its type, Content-ID and a file name safe to offer for download.
 */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "mb_parse.h"

static tk_str_t mb_file_name(mb_msg_t *m, const char *name,
    GMimeContentType *ct, unsigned k);


void
mb_add_attachment(mb_walk_t *w, GMimeObject *obj, const unsigned char *data,
    size_t len, const char *name)
{
    mb_msg_t                 *m = w->m;
    mb_att_t                 *a;
    GMimeContentType         *ct;
    GMimeContentDisposition  *disp;
    const char               *cid;
    char                     *type;

    a = mb_alloc(m, sizeof(mb_att_t));
    if (a == NULL) {
        return;
    }

    ct = g_mime_object_get_content_type(obj);
    type = g_mime_content_type_get_mime_type(ct);
    a->content_type = mb_header_line(m, type);
    mb_lower(&a->content_type);
    g_free(type);

    cid = g_mime_object_get_content_id(obj);
    a->content_id = mb_msgid_norm(m, cid);

    disp = g_mime_object_get_content_disposition(obj);
    if ((disp && !g_mime_content_disposition_is_attachment(disp))
        || (disp == NULL && cid))
    {
        a->disposition = mb_strdup(m, "inline");
    } else {
        a->disposition = mb_strdup(m, "attachment");
    }

    a->name = mb_file_name(m, name, ct, w->atts->len + 1);
    a->data = mb_memdup(m, data, len);

    g_ptr_array_add(w->atts, a);
}


/*
 * A file name safe to offer for download: UTF-8, no directories, no
 * control characters, not hidden; invented from the type when missing.
 */
static tk_str_t
mb_file_name(mb_msg_t *m, const char *name, GMimeContentType *ct,
    unsigned k)
{
    tk_str_t     s;
    const char  *sub, *base;
    char         buf[128];
    size_t       i, j;

    if (name == NULL || *name == '\0') {
        sub = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
        if (ct && g_mime_content_type_is_type(ct, "message", "rfc822")) {
            sub = "eml";
        } else if (sub == NULL || strlen(sub) > 16 || strchr(sub, '.')
                   || strncasecmp(sub, "x-", 2) == 0
                   || strcasecmp(sub, "octet-stream") == 0)
        {
            sub = "bin";
        } else if (strcasecmp(sub, "plain") == 0) {
            sub = "txt";
        } else if (strcasecmp(sub, "jpeg") == 0) {
            sub = "jpg";
        }
        snprintf(buf, sizeof(buf), "part-%u.%s", k, sub);
        name = buf;
    }

    /* a path ("../../etc/x", "C:\\Users\\x"): its last part, as mail
     * clients do */
    base = strrchr(name, '/');
    if (base == NULL || (strrchr(name, '\\') && strrchr(name, '\\') > base)) {
        base = strrchr(name, '\\');
    }
    if (base && base[1]) {
        name = base + 1;
    }

    s = mb_utf8_clean(m, name);

    for (i = 0, j = 0; i < s.len && j < 200; i++) {
        unsigned char c = s.data[i];

        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') {
            c = '_';
        }
        if (j == 0 && (c == '.' || c == ' ')) {
            continue;
        }
        s.data[j++] = c;
    }

    /* don't cut a UTF-8 sequence in half */
    while (j > 0 && (s.data[j - 1] & 0xc0) == 0x80 && i < s.len) {
        j--;
    }
    if (j > 0 && s.data[j - 1] >= 0xc0 && i < s.len) {
        j--;
    }

    if (j == 0) {
        return mb_strdup(m, "attachment.bin");
    }

    s.data[j] = '\0';
    s.len = j;
    return s;
}
