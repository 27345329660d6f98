/*
 * sql_split.h - cutting SQL text into statements, fed a line at a time
 * (the CLI's shell and scripts; migration files).
 *
 * A statement ends at a ';' outside string literals, quoted identifiers,
 * comments and dollar-quoted bodies (sql_scan.h, for the given dialects).
 * In CREATE TRIGGER, CREATE FUNCTION and CREATE PROCEDURE, a ';' between
 * BEGIN (or CASE) and its END does not end the statement, so SQLite
 * trigger bodies and PostgreSQL's BEGIN ATOMIC bodies can be written as
 * they are.
 */
#ifndef DBAL_UTIL_SQL_SPLIT_H
#define DBAL_UTIL_SQL_SPLIT_H

#include "buf.h"

typedef struct dbal__splitter {
    dbal__buf text;   /* the statement being read */
    unsigned dialect; /* DBAL__SQL_* flags */
    size_t pos;       /* scanned up to here, outside any literal or comment */
    bool in_ident;    /* the byte before pos continues an identifier */
    int open;         /* what the text ends inside: DBAL__SQL_CODE (nothing), _QUOTED, _COMMENT */
    int nonblank;     /* something other than space and comments seen */
    int words;        /* top-level words so far */
    char first[16];   /* the first word, upper-cased */
    int returning;    /* a top-level RETURNING was seen */
    int create_block; /* a CREATE TRIGGER/FUNCTION/PROCEDURE */
    int block_depth;  /* open BEGIN/CASE in such a statement */
    size_t start;     /* where the statement's first code byte is in text (nonblank set) */
    size_t lines;     /* lines of input dropped from text so far */
} dbal__splitter;

/* A complete statement. */
typedef struct dbal__statement {
    char *sql;      /* without the final ';', allocated with the splitter's allocator */
    char first[16]; /* first word, upper-cased ("" when none) */
    int returning;  /* has a top-level RETURNING */
    size_t line;    /* the line of its first byte that is not space or comment, from 1 */
} dbal__statement;

void dbal__split_init(dbal__splitter *sp, unsigned dialect, const dbal__alloc *a);
/* Adds a line of input (a newline is appended). false when out of memory. */
bool dbal__split_feed(dbal__splitter *sp, const char *line);
/* The next complete statement: 1 and *st filled, 0 when more input is
 * needed, -1 when out of memory (then text.failed stays set). Blank
 * statements (";;") are skipped. */
int dbal__split_next(dbal__splitter *sp, dbal__statement *st);
/* Nothing but spaces and comments is waiting, and no comment is open. */
bool dbal__split_idle(const dbal__splitter *sp);
/* At the end of input: the unterminated rest as a statement (1), 0 when it
 * is blank, -1 when out of memory. */
int dbal__split_rest(dbal__splitter *sp, dbal__statement *st);
void dbal__split_free(dbal__splitter *sp);

#endif
