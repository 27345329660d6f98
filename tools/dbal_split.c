/* Telling what kind of statement the shell was given; see dbal_split.h. */
#include "dbal_split.h"

#include <dbal.h>
#include <ctype.h>
#include <string.h>

/* ---- classification ---------------------------------------------------------- */

/* Upper-cased words of a statement that has no quotes or comments, split on
 * space and commas; 0 when it has something else or too many words. */
static int simple_words(const char *sql, char words[][16], int max)
{
    int n = 0;
    if (strpbrk(sql, "'\"`$-/;(") != NULL)
        return 0;
    const char *p = sql;
    while (*p) {
        while (*p && (isspace((unsigned char)*p) || *p == ','))
            p++;
        if (!*p)
            break;
        size_t len = 0;
        while (p[len] && !isspace((unsigned char)p[len]) && p[len] != ',')
            len++;
        if (n == max || len >= 16)
            return 0;
        for (size_t i = 0; i < len; i++)
            words[n][i] = (char)toupper((unsigned char)p[i]);
        words[n][len] = '\0';
        n++;
        p += len;
    }
    return n;
}

static int is(const char *w, const char *kw)
{
    return strcmp(w, kw) == 0;
}

/* Transaction modes after BEGIN / START TRANSACTION; -1 when not understood. */
static long tx_modes(char words[][16], int i, int n)
{
    unsigned opts = 0;
    while (i < n) {
        if (i + 2 < n && is(words[i], "ISOLATION") && is(words[i + 1], "LEVEL")) {
            i += 2;
            if (is(words[i], "SERIALIZABLE")) {
                opts |= DBAL_TX_SERIALIZABLE;
                i += 1;
            } else if (i + 1 < n && is(words[i], "REPEATABLE") && is(words[i + 1], "READ")) {
                opts |= DBAL_TX_REPEATABLE_READ;
                i += 2;
            } else if (i + 1 < n && is(words[i], "READ") &&
                       (is(words[i + 1], "COMMITTED") || is(words[i + 1], "UNCOMMITTED"))) {
                opts |= DBAL_TX_READ_COMMITTED;
                i += 2;
            } else {
                return -1;
            }
        } else if (i + 1 < n && is(words[i], "READ") && is(words[i + 1], "ONLY")) {
            opts |= DBAL_TX_READ_ONLY;
            i += 2;
        } else if (i + 1 < n && is(words[i], "READ") && is(words[i + 1], "WRITE")) {
            i += 2;
        } else if (is(words[i], "DEFERRABLE")) {
            opts |= DBAL_TX_DEFERRABLE;
            i += 1;
        } else if (i + 1 < n && is(words[i], "NOT") && is(words[i + 1], "DEFERRABLE")) {
            i += 2;
        } else {
            return -1;
        }
    }
    return (long)opts;
}

stmt_kind stmt_classify(const statement *st, unsigned *tx_options)
{
    static const char *const rows[] = {"SELECT", "WITH",    "VALUES", "TABLE",
                                       "SHOW",   "EXPLAIN", "PRAGMA", "FETCH"};
    static const char *const changes[] = {"INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE"};
    char w[8][16];
    int n = simple_words(st->sql, w, 8);
    *tx_options = 0;
    if (n > 0) {
        int opt_word = (n >= 2 && (is(w[1], "WORK") || is(w[1], "TRANSACTION"))) ? 2 : 1;
        long modes = -1;
        if (is(w[0], "BEGIN"))
            modes = tx_modes(w, opt_word, n);
        else if (n >= 2 && is(w[0], "START") && is(w[1], "TRANSACTION"))
            modes = tx_modes(w, 2, n);
        if (modes >= 0) {
            *tx_options = (unsigned)modes;
            return STMT_BEGIN;
        }
        if (n == opt_word && (is(w[0], "COMMIT") || is(w[0], "END")))
            return STMT_COMMIT;
        if (n == opt_word && (is(w[0], "ROLLBACK") || is(w[0], "ABORT")))
            return STMT_ROLLBACK;
        if (is(w[0], "ROLLBACK") && n > opt_word && is(w[opt_word], "TO"))
            return STMT_OTHER; /* ROLLBACK TO SAVEPOINT: plain SQL */
    }
    static const char *const tx_words[] = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"};
    for (size_t i = 0; i < sizeof tx_words / sizeof *tx_words; i++)
        if (is(st->first, tx_words[i]) && (n > 0 || !is(st->first, "ROLLBACK")))
            return STMT_TX_OTHER;
    if (st->returning)
        return STMT_ROWS;
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        if (is(st->first, rows[i]))
            return STMT_ROWS;
    for (size_t i = 0; i < sizeof changes / sizeof *changes; i++)
        if (is(st->first, changes[i]))
            return STMT_CHANGE;
    return STMT_OTHER;
}
