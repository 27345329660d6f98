/*
 * sql_scan.h - the one SQL scanner: where the literals, quoted identifiers
 * and comments of a statement begin and end, for both dialects.
 *
 * It follows PostgreSQL's lexer (src/backend/parser/scan.l) and SQLite's
 * tokenizer just far enough to know which bytes are outside those: the
 * `?` rewriting of the PostgreSQL driver and the statement splitter of the
 * CLI (and of migrations) are built on it. Input is NUL-terminated;
 * nothing is allocated.
 */
#ifndef DBAL_UTIL_SQL_SCAN_H
#define DBAL_UTIL_SQL_SCAN_H

#include <stdbool.h>

/* Dialect flags: what a construct means depends on the database. */
enum {
    DBAL__SQL_POSTGRESQL = 0x1, /* E'...' strings, $tag$...$tag$ bodies */
    DBAL__SQL_SQLITE = 0x2,     /* `...` identifiers */
};

/* What starts at a position: nothing to skip, a literal or quoted
 * identifier, or a comment. */
enum { DBAL__SQL_CODE, DBAL__SQL_QUOTED, DBAL__SQL_COMMENT };

typedef struct dbal__sql_skip {
    int kind;        /* DBAL__SQL_* above */
    const char *end; /* past the construct; at the NUL when it is not closed */
    bool closed;     /* false: the input ended inside it */
} dbal__sql_skip;

/*
 * Looks at p: when a literal, quoted identifier or comment starts there,
 * fills *out and returns true. after_ident says the byte before p continues
 * an identifier (dbal__sql_in_ident): then `e'` is a type-prefixed literal
 * and `$` continues the identifier. Strings double their quote to contain
 * it; E'' strings take backslash escapes and continue across a newline;
 * block comments nest, as PostgreSQL's do; a dollar-quoted body ends only
 * at its very own tag.
 */
bool dbal__sql_skip_at(const char *p, unsigned dialect, bool after_ident, dbal__sql_skip *out);

/* Whether the byte c, following a byte for which this returned in_ident,
 * continues (or starts) an unquoted identifier. A number is not one (1$$
 * opens a dollar quote); bytes >= 0x80 are letters, as to PostgreSQL. */
bool dbal__sql_in_ident(bool in_ident, unsigned char c);

/* Letters, `_` and bytes >= 0x80: what can start an identifier. */
bool dbal__sql_ident_start(unsigned char c);

#endif
