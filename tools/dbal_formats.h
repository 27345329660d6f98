/*
 * dbal_formats.h - the three output formats behind dbal_output.h.
 */
#ifndef DBAL_FORMATS_H
#define DBAL_FORMATS_H

#include "dbal_output.h"

/* Aligned table: rows are rendered and kept until the widths are known. */
typedef struct table table;
table *table_new(int ncols, const char *const *names);
int table_add(table *t, const out_cell *cells, const char *null_text); /* 0 or -1 */
void table_print(const table *t, FILE *f);
void table_free(table *t);

/* CSV, RFC 4180 quoting, one record per line ending in "\n". */
void csv_header(FILE *f, int ncols, const char *const *names);
void csv_row(FILE *f, int ncols, const out_cell *cells, const char *null_text);

/* JSON: "[", objects separated by ",\n", "]". */
void json_begin(FILE *f);
void json_row(FILE *f, int ncols, const char *const *names, const out_cell *cells, int first);
void json_end(FILE *f, int any_rows);

#endif /* DBAL_FORMATS_H */
