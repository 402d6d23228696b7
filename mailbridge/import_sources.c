/*
 * import_sources.c -- where "mailbridge import" finds its mails: walks
 * files, maildirs (cur/ and new/) and directory trees, splits mbox files
 * at their "From " lines, orders the mails by date and loads the bytes
 * of one mail for the parser.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "mailbridge.h"
#include "mb_import.h"


static int mb_scan_file(mb_import_t *im, const char *path);
static int mb_add_file(mb_import_t *im, const char *path, int mbox);
static int mb_add_item(mb_import_t *im, unsigned file, size_t off,
    size_t len);
static unsigned char *mb_mbox_unescape(const unsigned char *p, size_t n,
    size_t *out);
static int64_t mb_head_date(const unsigned char *p, size_t n);
static int mb_cmp_item(const void *a, const void *b);
static int mb_cmp_str(const void *a, const void *b);




/* A file, a maildir (cur/ and new/) or a directory tree. */
int
mb_scan(mb_import_t *im, const char *path, int depth)
{
    struct stat     st;
    DIR            *d;
    struct dirent  *e;
    char          **names = NULL, *sub, **nn;
    size_t          n = 0, cap = 0, i;
    int             maildir, rc = 0;

    if (stat(path, &st) != 0) {
        mb_err("%s: %s", path, strerror(errno));
        return -1;
    }

    if (S_ISREG(st.st_mode)) {
        return mb_scan_file(im, path);
    }

    if (!S_ISDIR(st.st_mode) || depth > 16) {
        return 0;
    }

    d = opendir(path);
    if (d == NULL) {
        mb_err("%s: %s", path, strerror(errno));
        return -1;
    }

    maildir = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        if (strcmp(e->d_name, "cur") == 0 || strcmp(e->d_name, "new") == 0)
        {
            maildir = 1;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            nn = realloc(names, cap * sizeof(char *));
            if (nn == NULL) {
                rc = -1;
                break;
            }
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);

    /* file names of maildirs begin with the delivery time: in order */
    qsort(names, n, sizeof(char *), mb_cmp_str);

    for (i = 0; i < n && rc == 0; i++) {
        /* a maildir's tmp/ holds mails still being written */
        if (maildir && strcmp(names[i], "tmp") == 0) {
            continue;
        }
        if (asprintf(&sub, "%s/%s", path, names[i]) < 0) {
            rc = -1;
            break;
        }
        /* dot files (.DS_Store, dovecot.index...) are not mail; dot
         * directories may be Maildir++ folders */
        if (names[i][0] == '.' && !(stat(sub, &st) == 0
                                    && S_ISDIR(st.st_mode)))
        {
            free(sub);
            continue;
        }
        if (maildir && (strcmp(names[i], "cur") == 0
                        || strcmp(names[i], "new") == 0))
        {
            rc = mb_scan(im, sub, depth + 1);
        } else if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
            rc = mb_scan(im, sub, depth + 1);
        } else if (!maildir) {
            /* (files beside cur/ and new/ are the server's: uidlist...) */
            rc = mb_scan_file(im, sub);
        }
        free(sub);
    }

    for (i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    return rc;
}


/* mbox when it starts with a "From " line, else one message. */
static int
mb_scan_file(mb_import_t *im, const char *path)
{
    char     head[5];
    int      fd, mbox = 0;
    ssize_t  r;

    fd = open(path, O_RDONLY);
    if (fd < 0) {
        mb_err("%s: %s", path, strerror(errno));
        im->errors++;
        return 0;
    }

    r = read(fd, head, sizeof(head));
    close(fd);

    if (r == 5 && memcmp(head, "From ", 5) == 0) {
        mbox = 1;
    }

    if (r <= 0) {
        return 0;               /* empty file: nothing to import */
    }

    if (mb_add_file(im, path, mbox) != 0) {
        return -1;
    }

    return mbox ? 0 : mb_add_item(im, (unsigned) (im->nfiles - 1), 0, 0);
}


/*
 * Split an mbox at "From " lines that follow an empty line (or start the
 * file) -- the blank line keeps a body line "From here..." from cutting
 * a mail in two.
 */
int
mb_scan_mbox(mb_import_t *im, unsigned file)
{
    mb_file_t            *f = &im->files[file];
    struct stat           st;
    const unsigned char  *p, *end, *start, *q;
    int                   fd;

    fd = open(f->path, O_RDONLY);
    if (fd < 0 || fstat(fd, &st) != 0) {
        mb_err("%s: %s", f->path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }

    f->size = (size_t) st.st_size;
    if (f->size == 0) {
        close(fd);
        return 0;
    }

    f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        mb_err("%s: mmap: %s", f->path, strerror(errno));
        return -1;
    }

    madvise(f->map, f->size, MADV_SEQUENTIAL);

    p = f->map;
    end = p + f->size;
    start = p;

    /* one pass over the line starts: O(size), whatever the line ends */
    for (q = memchr(p, '\n', f->size); q && q + 1 < end;
         q = memchr(q + 1, '\n', (size_t) (end - q - 1)))
    {
        const unsigned char  *line = q + 1, *prev;

        if ((size_t) (end - line) < 5 || memcmp(line, "From ", 5) != 0) {
            continue;
        }

        /* the previous line must be empty ("\n\n" or "\n\r\n") */
        prev = q;
        if (prev > p && prev[-1] == '\r') {
            prev--;
        }
        if (prev == p || prev[-1] != '\n') {
            continue;
        }

        if (mb_add_item(im, file, (size_t) (start - p),
                        (size_t) (prev - start)) != 0)
        {
            return -1;
        }
        start = line;
    }

    if (start < end) {
        return mb_add_item(im, file, (size_t) (start - p),
                           (size_t) (end - start));
    }

    return 0;
}


/* The bytes of one item into m (owned: what to free afterwards). */
int
mb_load(mb_import_t *im, const mb_item_t *it, mb_msg_t *m,
    unsigned char **owned)
{
    mb_file_t      *f = &im->files[it->file];
    unsigned char  *buf;
    struct stat     st;
    size_t          n = 0, keep;
    ssize_t         r;
    int             fd;

    m->source = f->path;
    m->received = (int64_t) time(NULL);
    m->use_date = 1;
    keep = im->cfg->max_size + 1;

    if (f->mbox) {
        buf = mb_mbox_unescape(f->map + it->off, it->len, &n);
        if (buf == NULL) {
            return -1;
        }
        *owned = buf;
        m->raw = buf;
        m->size = n;
        m->raw_len = n < keep ? n : keep;
        return 0;
    }

    fd = open(f->path, O_RDONLY);
    if (fd < 0 || fstat(fd, &st) != 0) {
        mb_err("%s: %s", f->path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }

    m->size = (size_t) st.st_size;
    if ((size_t) st.st_size < keep) {
        keep = (size_t) st.st_size;
    }

    buf = malloc(keep + 1);
    if (buf == NULL) {
        close(fd);
        return -1;
    }

    while (n < keep) {
        r = read(fd, buf + n, keep - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        n += (size_t) r;
    }
    close(fd);

    *owned = buf;
    m->raw = buf;
    m->raw_len = n;
    return 0;
}


/* mboxrd: ">From " -> "From ", ">>From " -> ">From " (a copy). */
static unsigned char *
mb_mbox_unescape(const unsigned char *p, size_t n, size_t *out)
{
    unsigned char  *buf, *d;
    size_t          i, k;
    int             bol = 1;

    buf = malloc(n + 1);
    if (buf == NULL) {
        return NULL;
    }

    d = buf;
    for (i = 0; i < n; i++) {
        if (bol && p[i] == '>') {
            for (k = i; k < n && p[k] == '>'; k++) { /* void */ }
            if (n - k >= 5 && memcmp(p + k, "From ", 5) == 0) {
                i++;            /* drop one '>' */
            }
        }
        *d++ = p[i];
        bol = p[i] == '\n';
    }

    *out = (size_t) (d - buf);
    return buf;
}


static int
mb_add_file(mb_import_t *im, const char *path, int mbox)
{
    mb_file_t  *nf;

    if (im->nfiles == im->cfiles) {
        im->cfiles = im->cfiles ? im->cfiles * 2 : 64;
        nf = realloc(im->files, im->cfiles * sizeof(mb_file_t));
        if (nf == NULL) {
            return -1;
        }
        im->files = nf;
    }

    nf = &im->files[im->nfiles++];
    memset(nf, 0, sizeof(*nf));
    nf->path = strdup(path);
    nf->mbox = mbox;
    return nf->path ? 0 : -1;
}


static int
mb_add_item(mb_import_t *im, unsigned file, size_t off, size_t len)
{
    mb_item_t  *ni;

    if (im->nitems == im->citems) {
        im->citems = im->citems ? im->citems * 2 : 1024;
        ni = realloc(im->items, im->citems * sizeof(mb_item_t));
        if (ni == NULL) {
            return -1;
        }
        im->items = ni;
    }

    ni = &im->items[im->nitems++];
    ni->file = file;
    ni->off = off;
    ni->len = len;
    return 0;
}


/*
 * Oldest first, whatever the files are called: a reply imported before
 * the mail it answers could not find its ticket.  Mails without a Date
 * keep their place behind the mail scanned before them.
 */
void
mb_sort_by_date(mb_import_t *im)
{
    mb_item_t      *it;
    mb_file_t      *f;
    unsigned char   head[16384];
    size_t          i, n;
    ssize_t         r;
    int64_t         last = 0;
    int             fd;

    for (i = 0; i < im->nitems; i++) {
        it = &im->items[i];
        f = &im->files[it->file];
        it->seq = i;
        it->date = 0;

        if (f->mbox) {
            n = it->len < sizeof(head) ? it->len : sizeof(head);
            it->date = mb_head_date(f->map + it->off, n);

        } else {
            fd = open(f->path, O_RDONLY);
            if (fd >= 0) {
                r = read(fd, head, sizeof(head));
                close(fd);
                if (r > 0) {
                    it->date = mb_head_date(head, (size_t) r);
                }
            }
        }

        if (it->date <= 0) {
            it->date = last;
        }
        last = it->date;
    }

    qsort(im->items, im->nitems, sizeof(mb_item_t), mb_cmp_item);
}


/* The Date: header of a header block (cut at the first empty line). */
static int64_t
mb_head_date(const unsigned char *p, size_t n)
{
    const unsigned char  *end = p + n, *line, *nl, *e;
    char                  buf[256];
    GDateTime            *dt;
    int64_t               t = 0;
    size_t                len;

    for (line = p; line < end; line = nl + 1) {
        nl = memchr(line, '\n', (size_t) (end - line));
        if (nl == NULL) {
            nl = end;
        }
        if (nl == line || (nl == line + 1 && line[0] == '\r')) {
            break;              /* end of the headers */
        }
        if (nl - line > 5 && strncasecmp((const char *) line, "Date:", 5) == 0)
        {
            e = nl;
            while (e > line && (e[-1] == '\r' || e[-1] == ' ')) {
                e--;
            }
            len = (size_t) (e - line - 5);
            if (len >= sizeof(buf)) {
                len = sizeof(buf) - 1;
            }
            memcpy(buf, line + 5, len);
            buf[len] = '\0';
            dt = g_mime_utils_header_decode_date(buf);
            if (dt) {
                t = g_date_time_to_unix(dt);
                g_date_time_unref(dt);
            }
            break;
        }
    }

    return t;
}


static int
mb_cmp_item(const void *a, const void *b)
{
    const mb_item_t  *x = a, *y = b;

    if (x->date != y->date) {
        return x->date < y->date ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}


static int
mb_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}
