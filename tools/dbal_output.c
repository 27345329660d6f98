/* Printing results: picks the format and turns cursor values into cells. */
#include "dbal_formats.h"
#include "dbal_output.h"

#include <stdlib.h>
#include <string.h>

struct out_result {
    FILE *f;
    out_options o;
    int ncols;
    char **names;
    size_t nrows;
    table *table; /* OUT_TABLE only */
};

static void free_names(char **names, int n)
{
    for (int i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

out_result *out_begin(FILE *f, const out_options *o, int ncols, const char *const *names)
{
    out_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->f = f;
    r->o = *o;
    if (!r->o.null_text)
        r->o.null_text = "";
    r->ncols = ncols;
    r->names = calloc(ncols > 0 ? (size_t)ncols : 1, sizeof *r->names);
    if (!r->names)
        goto fail;
    for (int i = 0; i < ncols; i++)
        if (!(r->names[i] = strdup(names[i] ? names[i] : "")))
            goto fail;
    const char *const *cnames = (const char *const *)r->names;
    switch (o->format) {
    case OUT_TABLE:
        if (!(r->table = table_new(ncols, cnames)))
            goto fail;
        break;
    case OUT_CSV:
        if (ncols > 0)
            csv_header(f, ncols, cnames);
        break;
    case OUT_JSON: json_begin(f); break;
    }
    return r;
fail:
    free_names(r->names, ncols);
    free(r);
    return NULL;
}

int out_row(out_result *r, const out_cell *cells)
{
    const char *const *names = (const char *const *)r->names;
    switch (r->o.format) {
    case OUT_TABLE:
        if (table_add(r->table, cells, r->o.null_text) != 0)
            return -1;
        break;
    case OUT_CSV: csv_row(r->f, r->ncols, cells, r->o.null_text); break;
    case OUT_JSON: json_row(r->f, r->ncols, names, cells, r->nrows == 0); break;
    }
    r->nrows++;
    return 0;
}

int out_end(out_result *r)
{
    switch (r->o.format) {
    case OUT_TABLE:
        if (r->ncols == 0) { /* a statement that returns no result set */
            fputs("OK\n", r->f);
            break;
        }
        table_print(r->table, r->f);
        fprintf(r->f, "(%zu %s)\n", r->nrows, r->nrows == 1 ? "row" : "rows");
        break;
    case OUT_CSV: break;
    case OUT_JSON: json_end(r->f, r->nrows > 0); break;
    }
    out_abort(r);
    return 0;
}

void out_abort(out_result *r)
{
    if (!r)
        return;
    table_free(r->table);
    free_names(r->names, r->ncols);
    free(r);
}

void out_affected(FILE *f, const out_options *o, int64_t n)
{
    switch (o->format) {
    case OUT_TABLE: fprintf(f, "%lld %s affected\n", (long long)n, n == 1 ? "row" : "rows"); break;
    case OUT_CSV: fprintf(f, "rows_affected\n%lld\n", (long long)n); break;
    case OUT_JSON: fprintf(f, "{\"rows_affected\": %lld}\n", (long long)n); break;
    }
}

void out_cell_from_row(dbal_rows *r, int i, out_cell *c)
{
    c->type = dbal_col_type(r, i);
    c->data = NULL;
    c->len = 0;
    switch (c->type) {
    case DBAL_TYPE_NULL: break;
    case DBAL_TYPE_BOOL:
        c->data = dbal_col_bool(r, i) ? "true" : "false";
        c->len = strlen(c->data);
        break;
    case DBAL_TYPE_BLOB: c->data = dbal_col_blob(r, i, &c->len); break;
    default:
        /* With its length: SQLite text may hold NUL bytes. Numbers, dates,
         * times and UUIDs come as the text getter writes them. */
        if (dbal_col_get_text(r, i, &c->data, &c->len) != DBAL_OK)
            c->data = NULL;
        break;
    }
    if (!c->data)
        c->type = DBAL_TYPE_NULL;
}
