/*
 * dbal_split.h - cutting the shell's input into statements and telling what
 * kind each one is.
 *
 * A statement ends at a ';' outside string literals ('...', E'...'), quoted
 * identifiers ("...", `...`), comments (-- to the end of the line, and block
 * comments, which nest) and dollar-quoted bodies ($$...$$, $tag$...$tag$).
 * In CREATE TRIGGER,
 * CREATE FUNCTION and CREATE PROCEDURE, a ';' between BEGIN (or CASE) and
 * its END does not end the statement, so SQLite trigger bodies and
 * PostgreSQL's BEGIN ATOMIC bodies can be typed as they are.
 */
#ifndef DBAL_SPLIT_H
#define DBAL_SPLIT_H

#include <stddef.h>

typedef struct splitter {
    char *buf; /* text of the statement being read */
    size_t len, cap;
    size_t pos; /* how far buf has been scanned */
    int state;
    int comment_depth;
    size_t tag_start, tag_len; /* the open $tag$, inside buf */
    int nonblank;              /* something other than space and comments seen */
    int words;                 /* top-level words so far */
    char first[16];            /* the first word, upper-cased */
    int returning;             /* a top-level RETURNING was seen */
    int create_block;          /* a CREATE TRIGGER/FUNCTION/PROCEDURE */
    int block_depth;           /* open BEGIN/CASE in such a statement */
    int failed;                /* out of memory */
} splitter;

/* A complete statement. */
typedef struct statement {
    char *sql;      /* without the final ';' */
    char first[16]; /* first word, upper-cased ("" when none) */
    int returning;  /* has a top-level RETURNING */
} statement;

void split_init(splitter *sp);
/* Adds a line of input (a newline is appended). 0, or -1 when out of memory. */
int split_feed(splitter *sp, const char *line);
/* The next complete statement: 1 and *st filled (free st->sql), or 0 when
 * more input is needed. Blank statements (";;") are skipped. */
int split_next(splitter *sp, statement *st);
/* Nothing but spaces and comments is waiting. */
int split_idle(const splitter *sp);
/* At the end of input: the unterminated rest as a statement (1), or 0 when
 * it is blank. */
int split_rest(splitter *sp, statement *st);
void split_free(splitter *sp);

/* What the shell does with a statement. */
typedef enum stmt_kind {
    STMT_ROWS,     /* print its rows: SELECT, WITH, VALUES, ..., RETURNING */
    STMT_CHANGE,   /* print rows affected: INSERT, UPDATE, DELETE, ... */
    STMT_OTHER,    /* run it: DDL and everything else */
    STMT_BEGIN,    /* BEGIN / START TRANSACTION, with DBAL_TX_* options */
    STMT_COMMIT,   /* COMMIT / END */
    STMT_ROLLBACK, /* ROLLBACK / ABORT */
    STMT_TX_OTHER  /* any other BEGIN, COMMIT, ...: refused, since a transaction
                      the session does not know about would be rolled back
                      behind the user's back */
} stmt_kind;

/* Classifies st; for STMT_BEGIN, *tx_options gets the DBAL_TX_* flags. */
stmt_kind stmt_classify(const statement *st, unsigned *tx_options);

#endif /* DBAL_SPLIT_H */
