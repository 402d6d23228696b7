/*
 * tplc_tree.h -- what the stages of the template compiler share: the
 * parse tree, the inferred structs, the parser position, and the facts
 * about names and errors every stage asks (tplc_tree.c).  Each file
 * includes only what stands below it (no circle):
 *
 *   tplc.c (main)
 *     tplc_driver      runs the stages, writes the outputs
 *       tplc_parse     text -> tree (records uses through tplc_types)
 *         tplc_types   uses -> struct fields and C types
 *       tplc_gen       tree -> C
 *           tplc_tree  this header: tree, parser position, names, errors
 *             tplc_util  memory, byte buffers
 */

#ifndef TPLC_TREE_H
#define TPLC_TREE_H

#include <stddef.h>

#include "tplc_util.h"


#define TPLC_MAX_DEPTH  32          /* nested if/for blocks */
#define TPLC_MAX_WORDS  8           /* words inside one {% %} tag */
#define TPLC_LIT_PIECE  64          /* bytes per line of a C literal */

/* How a name is used; the C type follows from the union of uses. */
#define TPLC_PRINTED    1           /* {{ name }}       -> tk_str_t  */
#define TPLC_TESTED     2           /* {% if name %}    -> int       */
#define TPLC_ITERATED   4           /* {% for x in name %} -> list   */

typedef enum {
    TPLC_TEXT = 0,
    TPLC_PRINT,
    TPLC_IF,
    TPLC_FOR,
    TPLC_MSG                        /* {% t key %}: a catalogue message */
} tplc_node_type_e;

typedef enum {
    TPLC_FILTER_HTML = 0,
    TPLC_FILTER_URL,
    TPLC_FILTER_RAW
} tplc_filter_e;

typedef struct tplc_field_s   tplc_field_t;
typedef struct tplc_struct_s  tplc_struct_t;
typedef struct tplc_node_s    tplc_node_t;
typedef struct tplc_tpl_s     tplc_tpl_t;

/*
 * The message catalogue (ngx_ticket_module/messages.txt, read by
 * tplc_msg.c): one entry per key with a text in every language.  A text
 * may name template values as {name} (escaped when written); the
 * params are those names in order of first appearance, the same set in
 * every language (checked).
 */
typedef struct {
    char           *key;            /* "overview.clear_filters"     */
    char           *cname;          /* "TK_MSG_OVERVIEW_CLEAR_FILTERS" */
    char          **text;           /* [lang], NUL-terminated       */
    size_t         *len;            /* [lang]                       */
    char          **params;         /* {name}s                      */
    int             nparams;
    int             raw;            /* key ends in "_html"          */
    int             fmt;            /* key ends in "_fmt": C only   */
    int             line;
    int             used;           /* by a template                */
} tplc_msg_t;

typedef struct {
    const char     *path;
    char          **langs;          /* "de", "en": the first is the default */
    int             nlangs;
    tplc_msg_t     *msgs;           /* in file order                */
    int             nmsgs;
} tplc_cat_t;

struct tplc_field_s {
    char           *name;
    unsigned        use;            /* TPLC_PRINTED | ...           */
    int             line;           /* first use, for messages      */
    tplc_struct_t  *elem;           /* element struct of a list     */
    tplc_field_t   *next;
};

struct tplc_struct_s {
    char           *type;           /* C name without the "_t"      */
    tplc_field_t   *fields;         /* in order of first use        */
    size_t          nfields;
    int             line;           /* where it was first iterated  */
    tplc_struct_t  *next;           /* all structs of a template    */
};

struct tplc_node_s {
    tplc_node_type_e  type;
    int               line;
    const char       *text;         /* TEXT: bytes of the template  */
    size_t            len;
    tplc_field_t     *field;        /* PRINT, IF, FOR: the name     */
    int               depth;        /* 0: d->, k: ek-> (loop k)     */
    tplc_filter_e     filter;       /* PRINT                        */
    int               negate;       /* IF: {% if not x %}           */
    int               loop;         /* FOR: its k (e<k>, i<k>)      */
    int               var_used;     /* FOR: body reads loop.field   */
    int               msg;          /* MSG: index in the catalogue  */
    tplc_field_t    **args;         /* MSG: a field per param       */
    int              *arg_depth;
    tplc_node_t      *body;         /* IF: then; FOR: body          */
    tplc_node_t      *alt;          /* IF: else                     */
    tplc_node_t      *next;
};

struct tplc_tpl_s {
    const char       *path;
    char             *name;         /* file basename without .html  */
    char             *src;
    size_t            len;
    tplc_struct_t    *top;
    tplc_struct_t    *structs;      /* every struct, top included   */
    tplc_node_t      *root;
    const tplc_cat_t *cat;          /* NULL: {% t %} is an error    */
};

/* An open {% if %} or {% for %} while parsing. */
typedef struct {
    tplc_node_t      *node;
    tplc_node_t     **tail;         /* where the next node goes     */
    int               in_else;
    const char       *var;          /* FOR: loop variable           */
    tplc_struct_t    *elem;         /* FOR: its element struct      */
} tplc_block_t;

typedef struct {
    tplc_tpl_t       *tpl;
    int               line;         /* line of the current tag      */
    tplc_block_t      block[TPLC_MAX_DEPTH];
    int               nblocks;
    int               nloops;       /* FOR blocks among them        */
    tplc_node_t     **tail;         /* top level                    */
} tplc_parser_t;

/* "file:line: message" for the tag being parsed; returns -1. */
int tplc_error(tplc_parser_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Template and field names: [a-z_][a-z0-9_]*, and no C keyword. */
int tplc_valid_name(const char *s, size_t n);
int tplc_is_keyword(const char *s);

#endif /* TPLC_TREE_H */
