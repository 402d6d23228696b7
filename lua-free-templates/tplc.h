/*
 * tplc.h -- what the parts of the template compiler share: the parse
 * tree, the inferred structs and the functions each stage offers
 * (tplc.c: driver and helpers, tplc_parse.c, tplc_types.c, tplc_gen.c).
 */

#ifndef TPLC_H
#define TPLC_H

#include <stddef.h>


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
    TPLC_FOR
} tplc_node_type_e;

typedef enum {
    TPLC_FILTER_HTML = 0,
    TPLC_FILTER_URL,
    TPLC_FILTER_RAW
} tplc_filter_e;

typedef struct tplc_buf_s     tplc_buf_t;
typedef struct tplc_field_s   tplc_field_t;
typedef struct tplc_struct_s  tplc_struct_t;
typedef struct tplc_node_s    tplc_node_t;
typedef struct tplc_tpl_s     tplc_tpl_t;

struct tplc_buf_s {
    char           *data;
    size_t          len;
    size_t          cap;
};

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

/* tplc.c: helpers every stage uses */
void *tplc_alloc(size_t size);
char *tplc_strndup(const char *s, size_t n);
void tplc_buf_add(tplc_buf_t *b, const char *p, size_t n);
void tplc_buf_printf(tplc_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int tplc_error(tplc_parser_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* tplc_parse.c: template text -> node tree */
int tplc_read_file(tplc_tpl_t *tpl);
int tplc_valid_name(const char *s, size_t n);
int tplc_is_keyword(const char *s);
int tplc_parse(tplc_tpl_t *tpl);

/* tplc_types.c: names -> struct fields and their C types */
int tplc_resolve(tplc_parser_t *p, const char *s, size_t n, unsigned use,
    tplc_field_t **field, int *depth);
tplc_struct_t *tplc_struct_new(tplc_tpl_t *tpl, const char *prefix,
    const char *name, int line);
int tplc_check_structs(tplc_tpl_t *tpl);
int tplc_check_types(tplc_tpl_t *tpls, int ntpls);

/* tplc_gen.c: node tree -> tk_tpl.h and tk_tpl_all.c */
void tplc_gen_header(tplc_buf_t *b, tplc_tpl_t *tpls, int ntpls);
void tplc_gen_source(tplc_buf_t *b, tplc_tpl_t *tpls, int ntpls);

#endif /* TPLC_H */
