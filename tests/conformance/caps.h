/*
 * caps.h - what a driver's capability file tells the conformance suite.
 *
 * A capability file (<driver>.caps, key = value lines; README.md in this
 * directory describes each key) states the facts about a driver that the
 * suite cannot take for granted: a type name in DDL, whether a feature
 * exists, what a value reads back as. The cases ask these facts and never
 * the driver's name. A case that needs a key the file leaves unset, or a
 * feature it says is missing, is skipped and reported as skipped.
 */
#ifndef CONF_CAPS_H
#define CONF_CAPS_H

/* Kinds of value: free text; one word of a set; a comma-separated list of
 * words of a set (or "none"); yes or no; an integer. */
enum cap_kind { CAP_TEXT, CAP_CHOICE, CAP_LIST, CAP_BOOL, CAP_INT };

/* The one table of keys: X(id, key, kind, words), words being the set for
 * CAP_CHOICE and CAP_LIST. */
#define CONF_CAPS(X)                                                                          \
    X(DDL_BLOB, "ddl.blob", CAP_TEXT, "")                                                     \
    X(DDL_AUTO_ID, "ddl.auto_id", CAP_TEXT, "")                                               \
    X(VALUE_NAN, "value.nan", CAP_CHOICE, "nan null")                                         \
    X(VALUE_TEXT_NUL, "value.text_nul", CAP_CHOICE, "stored refused")                         \
    X(VALUE_INVALID_UTF8, "value.invalid_utf8", CAP_CHOICE, "stored refused")                 \
    X(VALUE_UNDECLARED_BOOL, "value.undeclared_bool", CAP_CHOICE, "bool int64")               \
    X(PARAM_TYPE_MISMATCH, "param.type_mismatch", CAP_CHOICE, "stored refused")               \
    X(PARAM_DOUBLE_INTO_BIGINT, "param.double_into_bigint", CAP_CHOICE, "kept rounded")       \
    X(SQL_RETURNING, "sql.returning", CAP_BOOL, "")                                           \
    X(SQL_DIVISION_BY_ZERO, "sql.division_by_zero", CAP_CHOICE, "null error")                 \
    X(ERROR_CONSTRAINT_NAMES, "error.constraint_names", CAP_LIST, "unique foreign_key check") \
    X(ERROR_NATIVE_UNIQUE, "error.native.unique", CAP_INT, "")                                \
    X(ERROR_CLASSES, "error.classes", CAP_BOOL, "")                                           \
    X(ERROR_NATIVE_PRIMARY_KEY, "error.native.primary_key", CAP_INT, "")                      \
    X(ERROR_NATIVE_FOREIGN_KEY, "error.native.foreign_key", CAP_INT, "")                      \
    X(ERROR_NATIVE_NOT_NULL, "error.native.not_null", CAP_INT, "")                            \
    X(ERROR_NATIVE_CHECK, "error.native.check", CAP_INT, "")                                  \
    X(TX_ISOLATION, "tx.isolation", CAP_LIST, "read_committed repeatable_read serializable")  \
    X(TX_READ_ONLY, "tx.read_only", CAP_BOOL, "")                                             \
    X(TX_WRITERS, "tx.writers", CAP_CHOICE, "row_locks one_at_a_time")                        \
    X(TX_WRITER_WAIT_OPTION, "tx.writer_wait_option", CAP_TEXT, "")                           \
    X(SESSION_READ_ONLY, "session.read_only", CAP_BOOL, "")                                   \
    X(SESSION_LAST_INSERT_ID, "session.last_insert_id", CAP_BOOL, "")                         \
    X(SESSION_TIMEOUT, "session.timeout", CAP_BOOL, "")                                       \
    X(SESSION_CANCEL, "session.cancel", CAP_BOOL, "")                                         \
    X(VALUE_TYPES, "value.types", CAP_LIST, "datetime numeric uuid json")                     \
    X(VALUE_DATETIME_RANGE, "value.datetime_range", CAP_CHOICE, "years_0_9999 postgresql")    \
    X(VALUE_NUMERIC_DIGITS, "value.numeric_digits", CAP_CHOICE, "exact 15")                   \
    X(VALUE_UNDECLARED_TYPES, "value.undeclared_types", CAP_CHOICE, "typed text")

enum conf_cap {
#define CAP_ENUM(id, key, kind, words) CAP_##id,
    CONF_CAPS(CAP_ENUM)
#undef CAP_ENUM
        CAP_COUNT
};

/* Reads a capability file. Returns 0, or -1 after printing to stderr what
 * is wrong (file:line: an unknown key, a value outside its set, a key given
 * twice). */
int caps_load(const char *path);

/* The key's name, e.g. "ddl.blob". */
const char *cap_name(enum conf_cap k);
/* The key's value as the file gives it; NULL when the file does not set it. */
const char *cap(enum conf_cap k);
/* 1 when the key's value is `word` (for a list: when the list holds it). */
int cap_is(enum conf_cap k, const char *word);
/* 1 and the value in *out when an integer key is set. */
int cap_int(enum conf_cap k, long *out);

/* Skips the running case, saying why, unless the key is set and (when word
 * is not NULL) cap_is(k, word). */
void cap_need(enum conf_cap k, const char *word);

#endif
