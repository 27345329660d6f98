/*
 * dbal_split.h - the shell's statements: cut by the one splitter
 * (util/sql_split.h, both dialects) and told apart by kind here.
 */
#ifndef DBAL_SPLIT_H
#define DBAL_SPLIT_H

#include "sql_scan.h"
#include "sql_split.h"

/* Both dialects at once: the shell takes what either database would. */
#define SHELL_DIALECT (DBAL__SQL_POSTGRESQL | DBAL__SQL_SQLITE)

typedef dbal__splitter splitter;
typedef dbal__statement statement;

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
