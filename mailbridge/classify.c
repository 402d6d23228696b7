/*
 * classify.c -- is this mail written by a person?  Auto-replies,
 * newsletters, list mail and bounces must never reopen a ticket or start
 * an auto-reply loop; they are flagged "auto" and the overview
 * "newsletters / auto-generated" lists them.  Delivery status reports
 * are also "bounce": thread.c attaches them to the bounced mail's ticket.
 */

#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "mailbridge.h"

static int mb_header_is(GMimeObject *obj, const char *name,
    const char *const *values, int negate);
static int mb_local_part_auto(const char *addr);


unsigned
mb_classify(struct _GMimeMessage *msg, const char *envelope_from,
    const char *from_addr)
{
    static const char *const no[] = { "no", NULL };
    static const char *const precedence[] = {
        "bulk", "list", "junk", "auto_reply", NULL
    };
    GMimeObject       *obj = (GMimeObject *) msg;
    GMimeObject       *body;
    GMimeContentType  *ct;
    const char        *rp, *rt;
    unsigned           flags = 0;

    /* RFC 3834: anything but "no" means a machine wrote it */
    if (mb_header_is(obj, "Auto-Submitted", no, 1)) {
        flags |= MB_F_AUTO;
    }

    if (mb_header_is(obj, "Precedence", precedence, 0)) {
        flags |= MB_F_AUTO;
    }

    if (g_mime_object_get_header(obj, "List-Id")
        || g_mime_object_get_header(obj, "List-Unsubscribe")
        || g_mime_object_get_header(obj, "X-Autoreply")
        || g_mime_object_get_header(obj, "X-Autorespond")
        || g_mime_object_get_header(obj, "X-Auto-Reply"))
    {
        flags |= MB_F_AUTO;
    }

    /* null sender: from the MTA if it told us, else Return-Path */
    if (envelope_from && (*envelope_from == '\0'
                          || strcasecmp(envelope_from, "MAILER-DAEMON") == 0
                          || strcmp(envelope_from, "<>") == 0))
    {
        flags |= MB_F_AUTO;
    }

    rp = g_mime_object_get_header(obj, "Return-Path");
    if (rp) {
        while (*rp == ' ' || *rp == '\t') {
            rp++;
        }
        /* Postfix writes the null sender as <MAILER-DAEMON> (flags=R) */
        if (strncmp(rp, "<>", 2) == 0
            || strncasecmp(rp, "<MAILER-DAEMON>", 15) == 0)
        {
            flags |= MB_F_AUTO;
        }
    }

    if (from_addr && mb_local_part_auto(from_addr)) {
        flags |= MB_F_AUTO;
    }

    body = g_mime_message_get_mime_part(msg);
    if (body) {
        ct = g_mime_object_get_content_type(body);
        if (ct && g_mime_content_type_is_type(ct, "multipart", "report")) {
            flags |= MB_F_AUTO;
            rt = g_mime_content_type_get_parameter(ct, "report-type");
            if (rt && strcasecmp(rt, "delivery-status") == 0) {
                flags |= MB_F_BOUNCE;
            }
        }
    }

    return flags;
}


/* Header present and (not) equal to one of values, ignoring case. */
static int
mb_header_is(GMimeObject *obj, const char *name, const char *const *values,
    int negate)
{
    const char  *v;
    size_t       n;

    v = g_mime_object_get_header(obj, name);
    if (v == NULL) {
        return 0;
    }

    while (*v == ' ' || *v == '\t') {
        v++;
    }

    for ( ; *values; values++) {
        n = strlen(*values);
        if (strncasecmp(v, *values, n) == 0
            && (v[n] == '\0' || v[n] == ';' || v[n] == ' '
                || v[n] == '\t' || v[n] == '\r' || v[n] == '\n'))
        {
            return !negate;
        }
    }

    return negate;
}


static int
mb_local_part_auto(const char *addr)
{
    static const char *const names[] = {
        "mailer-daemon", "noreply", "no-reply", "no_reply", "donotreply",
        "do-not-reply", "do_not_reply", NULL
    };
    const char *const  *n;
    const char         *at;
    size_t              len;

    at = strchr(addr, '@');
    len = at ? (size_t) (at - addr) : strlen(addr);

    for (n = names; *n; n++) {
        if (len == strlen(*n) && strncasecmp(addr, *n, len) == 0) {
            return 1;
        }
    }

    /* "noreply-123@", "no-reply.alerts@" */
    return strncasecmp(addr, "noreply", 7) == 0
           || strncasecmp(addr, "no-reply", 8) == 0;
}
