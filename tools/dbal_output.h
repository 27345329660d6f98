/*
 * dbal_output.h - printing results: an aligned table (buffered, to measure
 * the columns), CSV or JSON (both streamed).
 */
#ifndef DBAL_OUTPUT_H
#define DBAL_OUTPUT_H

#include <dbal.h>
#include <stdint.h>
#include <stdio.h>

typedef enum out_format { OUT_TABLE, OUT_CSV, OUT_JSON } out_format;

typedef struct out_options {
    out_format format;
    const char *null_text; /* how NULL reads in a table or CSV; "" by default */
} out_options;

/*
 * One value. `type` is what dbal_col_type says. `data` holds the text form
 * (numbers in decimal, bools "true"/"false", text as stored) or a blob's raw
 * bytes; it is NULL for SQL NULL.
 */
typedef struct out_cell {
    dbal_type type;
    const char *data;
    size_t len;
} out_cell;

typedef struct out_result out_result;

/* Starts a result of ncols columns (names are copied). NULL when out of
 * memory. */
out_result *out_begin(FILE *f, const out_options *o, int ncols, const char *const *names);
/* Adds a row of ncols cells (copied when the format needs it). 0, or -1
 * when out of memory. */
int out_row(out_result *r, const out_cell *cells);
/* Finishes (a table is printed now, with its "(N rows)" footer; JSON gets
 * its closing bracket) and frees. Returns 0, or -1 when out of memory. */
int out_end(out_result *r);
/* Frees a result that failed half-way; a table prints nothing. */
void out_abort(out_result *r);

/* "N rows affected", or its CSV / JSON form. */
void out_affected(FILE *f, const out_options *o, int64_t n);

/* The cell for column i of the current row of r. */
void out_cell_from_row(dbal_rows *r, int i, out_cell *c);

#endif /* DBAL_OUTPUT_H */
