/*
 * CSV: a header line, then one record per row, each line ending in "\n".
 * Quoting follows RFC 4180: a field that holds a comma, a double quote, CR
 * or LF is enclosed in double quotes, with inner quotes doubled. As in
 * PostgreSQL's COPY ... CSV, NULL is an empty unquoted field and the empty
 * string is "" (so the two stay apart), and text equal to the --null text is
 * quoted. Blobs are written as \x and hex digits.
 */
#include "dbal_encode.h"
#include "dbal_formats.h"

#include <string.h>

static void field(FILE *f, const char *s, size_t len, int force_quotes)
{
    int quote = force_quotes || len == 0;
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        fwrite(s, 1, len, f);
        return;
    }
    putc('"', f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            putc('"', f);
        putc(s[i], f);
    }
    putc('"', f);
}

void csv_header(FILE *f, int ncols, const char *const *names)
{
    for (int i = 0; i < ncols; i++) {
        if (i)
            putc(',', f);
        field(f, names[i], strlen(names[i]), 0);
    }
    putc('\n', f);
}

void csv_row(FILE *f, int ncols, const out_cell *cells, const char *null_text)
{
    size_t null_len = strlen(null_text);
    for (int i = 0; i < ncols; i++) {
        const out_cell *c = &cells[i];
        if (i)
            putc(',', f);
        if (c->type == DBAL_TYPE_NULL) {
            fputs(null_text, f);
        } else if (c->type == DBAL_TYPE_BLOB) {
            put_hex(f, c->data, c->len);
        } else {
            int like_null = null_len > 0 && c->len == null_len && memcmp(c->data, null_text, null_len) == 0;
            field(f, c->data, c->len, like_null);
        }
    }
    putc('\n', f);
}
