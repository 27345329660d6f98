/*
 * JSON: an array of objects, one per row and one per line, keys in column
 * order. Integers and doubles are numbers (NaN and +-Infinity, which JSON
 * lacks, are the strings "NaN", "Infinity", "-Infinity"); bools are true and
 * false; NULL is null; text is a string (bytes that are not UTF-8 become
 * U+FFFD); blobs are base64 strings. Numerics stay strings (a reader
 * that takes JSON numbers for doubles would round them), JSON values are
 * embedded as they are, dates, times, timestamps and UUIDs are strings in
 * dbal's text form.
 */
#include "dbal_encode.h"
#include "dbal_formats.h"

#include <string.h>

void json_begin(FILE *f)
{
    putc('[', f);
}

static void value(FILE *f, const out_cell *c)
{
    switch (c->type) {
    case DBAL_TYPE_NULL: fputs("null", f); break;
    case DBAL_TYPE_BOOL:
        fwrite(c->data, 1, c->len, f); /* "true" or "false" */
        break;
    case DBAL_TYPE_INT64:
    case DBAL_TYPE_DOUBLE:
        if (is_json_number(c->data, c->len))
            fwrite(c->data, 1, c->len, f);
        else
            put_json_string(f, c->data, c->len);
        break;
    case DBAL_TYPE_JSON: fwrite(c->data, 1, c->len, f); break;
    case DBAL_TYPE_BLOB:
        putc('"', f);
        put_base64(f, c->data, c->len);
        putc('"', f);
        break;
    default: put_json_string(f, c->data, c->len); break;
    }
}

void json_row(FILE *f, int ncols, const char *const *names, const out_cell *cells, int first)
{
    fputs(first ? "\n  {" : ",\n  {", f);
    for (int i = 0; i < ncols; i++) {
        if (i)
            fputs(", ", f);
        put_json_string(f, names[i], strlen(names[i]));
        fputs(": ", f);
        value(f, &cells[i]);
    }
    putc('}', f);
}

void json_end(FILE *f, int any_rows)
{
    fputs(any_rows ? "\n]\n" : "]\n", f);
}
