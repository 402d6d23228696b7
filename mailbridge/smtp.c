/*
 * smtp.c -- hand one composed mail to the SMTP server (libcurl).
 *
 * One curl handle lives as long as the role, so a drain of many mails
 * uses one connection (MAIL/RCPT/DATA per mail, no reconnect, no new TLS
 * handshake).  The server's replies are read through the debug callback:
 * libcurl reports only the last reply code, but the agent should see the
 * reply text ("250 2.0.0 Ok: queued as 4F2B", "550 5.1.1 <x@y>: user
 * unknown").  The outcome is classified as
 *   accepted  CURLE_OK (the final reply to the data is 250)
 *   permanent a 5xx reply to MAIL FROM, RCPT TO, DATA or the data itself
 *   temporary everything else: 4xx, connect/TLS/timeout errors, and also
 *             a 5xx to EHLO/AUTH/STARTTLS (our configuration, not the
 *             mail, is wrong: it goes once the admin fixed it)
 * A recipient the server refuses fails the whole mail (no silently
 * dropped Cc).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mb_outbox.h"

struct mb_smtp_s {
    const mb_config_t  *cfg;
    CURL               *curl;
    char                url[1024];
    char                errbuf[CURL_ERROR_SIZE];
    char                last[512];      /* last reply line from the server */
    char                verb[8];        /* last command we sent            */
    char                fail[512];      /* first 4xx/5xx reply of the mail */
    char                fail_verb[8];   /* the command it answered         */
    int                 fail_data;      /* ... or it answered the data     */
    int                 in_data;        /* the 354 came: next reply ends it */
    int                 data_reply;     /* that reply was the data's       */

    /* the upload */
    const char         *data;
    size_t              len;
    size_t              off;
};

static int mb_smtp_open(mb_smtp_t *s);
static size_t mb_smtp_read(char *buf, size_t size, size_t n, void *data);
static int mb_smtp_debug(CURL *c, curl_infotype type, char *p, size_t n,
    void *data);


mb_smtp_t *
mb_smtp_new(const mb_config_t *cfg)
{
    mb_smtp_t  *s;
    const char *u, *path;
    char        host[256];

    s = calloc(1, sizeof(mb_smtp_t));
    if (s == NULL) {
        return NULL;
    }
    s->cfg = cfg;

    /* the URL path is the EHLO name; without one, say our host name */
    u = cfg->smtp.url;
    path = strstr(u, "://");
    path = path ? strchr(path + 3, '/') : NULL;
    if (path && path[1]) {
        snprintf(s->url, sizeof(s->url), "%s", u);
    } else {
        if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0') {
            strcpy(host, "localhost");
        }
        host[sizeof(host) - 1] = '\0';
        snprintf(s->url, sizeof(s->url), "%.*s/%s",
                 (int) (path ? (size_t) (path - u) : strlen(u)), u,
                 cfg->smtp.helo ? cfg->smtp.helo : host);
    }

    return s;
}


void
mb_smtp_free(mb_smtp_t *s)
{
    if (s) {
        if (s->curl) {
            curl_easy_cleanup(s->curl);     /* sends QUIT */
        }
        free(s);
    }
}


static int
mb_smtp_open(mb_smtp_t *s)
{
    const mb_config_t  *cfg = s->cfg;
    CURL               *c;

    if (s->curl) {
        return 0;
    }

    c = curl_easy_init();
    if (c == NULL) {
        return -1;
    }

    curl_easy_setopt(c, CURLOPT_URL, s->url);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, mb_smtp_read);
    curl_easy_setopt(c, CURLOPT_READDATA, s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long) cfg->smtp.timeout);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long) cfg->smtp.timeout * 4);
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long) cfg->smtp.starttls);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, cfg->smtp.tls_verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, cfg->smtp.tls_verify ? 2L : 0L);
    if (cfg->smtp.ca_file) {
        curl_easy_setopt(c, CURLOPT_CAINFO, cfg->smtp.ca_file);
    }
    if (cfg->smtp.user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, cfg->smtp.user);
        curl_easy_setopt(c, CURLOPT_PASSWORD,
                         cfg->smtp.password ? cfg->smtp.password : "");
    }

    /* the debug callback sees the dialogue: that is where replies are */
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, mb_smtp_debug);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, s);

    s->curl = c;
    return 0;
}


int
mb_smtp_send(mb_smtp_t *s, const mb_mail_t *mail, char *reply,
    size_t replylen)
{
    struct curl_slist  *rcpts = NULL, *l;
    char                buf[512];
    CURLcode            res;
    long                code = 0;
    size_t              i;
    int                 rc, perm_phase;

    if (mb_smtp_open(s) != 0) {
        snprintf(reply, replylen, "curl_easy_init failed");
        return MB_SEND_TEMP;
    }

    for (i = 0; i < mail->nrcpts; i++) {
        snprintf(buf, sizeof(buf), "<%s>", mail->rcpts[i]);
        l = curl_slist_append(rcpts, buf);
        if (l == NULL) {
            curl_slist_free_all(rcpts);
            snprintf(reply, replylen, "out of memory");
            return MB_SEND_TEMP;
        }
        rcpts = l;
    }

    snprintf(buf, sizeof(buf), "<%s>", mail->sender);
    curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, buf);
    curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpts);

    s->data = mail->data;
    s->len = mail->len;
    s->off = 0;
    s->errbuf[0] = '\0';
    s->last[0] = '\0';
    s->verb[0] = '\0';
    s->in_data = 0;
    s->data_reply = 0;
    s->fail[0] = '\0';
    s->fail_verb[0] = '\0';
    s->fail_data = 0;

    res = curl_easy_perform(s->curl);

    curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
    curl_slist_free_all(rcpts);
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);

    if (res == CURLE_OK) {
        snprintf(reply, replylen, "%s", s->last[0] ? s->last : "250 accepted");
        return MB_SEND_OK;
    }

    /* libcurl's QUIT after a failure overwrote the code: use the reply
       that failed the mail */
    if (s->fail[0]) {
        code = strtol(s->fail, NULL, 10);
    }

    perm_phase = s->fail_data || strcasecmp(s->fail_verb, "MAIL") == 0
                 || strcasecmp(s->fail_verb, "RCPT") == 0
                 || strcasecmp(s->fail_verb, "DATA") == 0;

    rc = (s->fail[0] && code >= 500 && code < 600 && perm_phase)
         ? MB_SEND_PERM : MB_SEND_TEMP;

    if (s->fail[0]) {
        snprintf(reply, replylen, "%s", s->fail);
    } else {
        snprintf(reply, replylen, "%s (%s)",
                 s->errbuf[0] ? s->errbuf : curl_easy_strerror(res),
                 s->cfg->smtp.url);
    }

    /* after a failure the connection's state is unknown: start afresh */
    curl_easy_cleanup(s->curl);
    s->curl = NULL;

    return rc;
}


static size_t
mb_smtp_read(char *buf, size_t size, size_t n, void *data)
{
    mb_smtp_t  *s = data;
    size_t      k;

    k = size * n;
    if (k > s->len - s->off) {
        k = s->len - s->off;
    }
    memcpy(buf, s->data + s->off, k);
    s->off += k;
    return k;
}


/*
 * Keep the last reply line (without CRLF) and the last command verb: a
 * 5xx after MAIL, RCPT or DATA, or after the data, is the mail's fault.
 */
static int
mb_smtp_debug(CURL *c, curl_infotype type, char *p, size_t n, void *data)
{
    mb_smtp_t  *s = data;
    size_t      k;

    if (type == CURLINFO_HEADER_IN) {
        while (n && (p[n - 1] == '\n' || p[n - 1] == '\r')) {
            n--;
        }
        if (n >= 4 && p[3] == '-') {
            return 0;                   /* a continuation line */
        }
        k = n < sizeof(s->last) - 1 ? n : sizeof(s->last) - 1;
        memcpy(s->last, p, k);
        s->last[k] = '\0';

        if (s->in_data == 1 && n >= 3 && memcmp(p, "354", 3) == 0) {
            s->in_data = 2;
        } else if (s->in_data == 2) {
            s->data_reply = 1;
            s->in_data = 0;
        }

        if (s->fail[0] == '\0' && n >= 3 && (p[0] == '4' || p[0] == '5')) {
            memcpy(s->fail, s->last, k + 1);
            memcpy(s->fail_verb, s->verb, sizeof(s->verb));
            s->fail_data = s->data_reply;
        }

    } else if (type == CURLINFO_HEADER_OUT) {
        for (k = 0; k < n && k < sizeof(s->verb) - 1 && p[k] != ' '
                    && p[k] != '\r'; k++)
        {
            s->verb[k] = p[k];
        }
        s->verb[k] = '\0';
        s->in_data = strcasecmp(s->verb, "DATA") == 0;

        if (mb_log_level >= MB_LOG_DEBUG
            && strncasecmp(p, "AUTH", 4) != 0)
        {
            mb_debug("smtp> %.*s", (int) (n > 200 ? 200 : n), p);
        }
    }

    return 0;
}
