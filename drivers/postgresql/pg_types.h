/*
 * The PostgreSQL types the driver knows, in one table: their OIDs (from
 * pg_type.dat), what a value of each reads as, and which of the driver's
 * binary paths each may take. Every other type is text to the driver.
 * Needs nothing of the rest of the driver.
 */
#ifndef DBAL_PG_TYPES_H
#define DBAL_PG_TYPES_H

#include <dbal.h>
#include <libpq-fe.h>

/*
 * X(ID, name, OID, array type's OID, dbal type, read_binary, copy_binary)
 *
 * read_binary: a result column of the type may come in binary format: the
 * driver decodes that form, and it reads exactly as the text form would
 * (float4 would not: its text is the shortest float4 digits, which a
 * double's are not). Dates and times read as their int64s (whatever the
 * session's TimeZone and DateStyle), numeric as numeric_out's text, jsonb
 * as its text. A statement's rows come in binary only when every
 * column's type has it.
 * copy_binary: the driver writes the type's binary COPY form from the
 * values an INSERT of the column takes (pg_copy.c); a batch into a table
 * with a column of another type goes through the pipeline.
 * The array OIDs are not read yet: they are here so that the table is the
 * one place that knows the types.
 */
#define PG_TYPE_MAP(X)                                                     \
    X(BOOL, "bool", 16, 1000, DBAL_TYPE_BOOL, 1, 1)                        \
    X(BYTEA, "bytea", 17, 1001, DBAL_TYPE_BLOB, 1, 1)                      \
    X(INT8, "int8", 20, 1016, DBAL_TYPE_INT64, 1, 1)                       \
    X(INT2, "int2", 21, 1005, DBAL_TYPE_INT64, 1, 1)                       \
    X(INT4, "int4", 23, 1007, DBAL_TYPE_INT64, 1, 1)                       \
    X(TEXT, "text", 25, 1009, DBAL_TYPE_TEXT, 1, 1)                        \
    X(OID, "oid", 26, 1028, DBAL_TYPE_INT64, 0, 0)                         \
    X(JSON, "json", 114, 199, DBAL_TYPE_JSON, 1, 1)                        \
    X(FLOAT4, "float4", 700, 1021, DBAL_TYPE_DOUBLE, 0, 1)                 \
    X(FLOAT8, "float8", 701, 1022, DBAL_TYPE_DOUBLE, 1, 1)                 \
    X(BPCHAR, "bpchar", 1042, 1014, DBAL_TYPE_TEXT, 1, 0)                  \
    X(VARCHAR, "varchar", 1043, 1015, DBAL_TYPE_TEXT, 1, 1)                \
    X(DATE, "date", 1082, 1182, DBAL_TYPE_DATE, 1, 1)                      \
    X(TIME, "time", 1083, 1183, DBAL_TYPE_TIME, 1, 1)                      \
    X(TIMESTAMP, "timestamp", 1114, 1115, DBAL_TYPE_TIMESTAMP, 1, 1)       \
    X(TIMESTAMPTZ, "timestamptz", 1184, 1185, DBAL_TYPE_TIMESTAMPTZ, 1, 1) \
    X(NUMERIC, "numeric", 1700, 1231, DBAL_TYPE_NUMERIC, 1, 1)             \
    X(UUID, "uuid", 2950, 2951, DBAL_TYPE_UUID, 1, 1)                      \
    X(JSONB, "jsonb", 3802, 3807, DBAL_TYPE_JSON, 1, 1)

/* PG_BOOLOID, PG_BYTEAOID, ... */
enum pg_type_oid {
#define PG_TYPE_OID(id, name, oid, array, type, read_binary, copy_binary) PG_##id##OID = oid,
    PG_TYPE_MAP(PG_TYPE_OID)
#undef PG_TYPE_OID
};

/* One row of the table. */
typedef struct pg_type {
    const char *name;
    Oid oid;
    Oid array_oid;
    dbal_type type; /* what dbal_col_type() says of a value */
    int read_binary;
    int copy_binary;
} pg_type;

/* PostgreSQL counts days and microseconds from 2000-01-01; dbal from
 * 1970-01-01. */
#define PG_EPOCH_DAYS 10957
#define PG_EPOCH_US (INT64_C(10957) * 86400000000)

/* Whether a timestamp or date value can be carried in PostgreSQL's binary
 * form (counted from 2000 without overflow, a date in an int32, neither on
 * an infinity's value); times always. Whether the server takes it is the
 * server's to say. */
int pg_binary_fits(const dbal_value *v);

/* The row of oid; for a type not in the table, a row of its own: oid 0,
 * DBAL_TYPE_TEXT, no binary path. Never NULL. */
const pg_type *pg_type_of(Oid oid);

#endif
