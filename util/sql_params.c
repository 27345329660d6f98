/* `?` to `$n` rewriting, on the PostgreSQL dialect of the one scanner. */
#include "sql_params.h"

#include "sql_scan.h"

#include <dbal.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* The output bound below allows 10 digits per placeholder number. */
_Static_assert(INT_MAX <= 2147483647, "placeholder numbers must fit in 10 digits");

static char *put_param(char *o, int n)
{
    char digits[10];
    size_t k = 0;
    do {
        digits[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0);
    *o++ = '$';
    while (k > 0)
        *o++ = digits[--k];
    return o;
}

/* Keeps $n a token of its own: glued to a letter before it, it would
 * continue that identifier (LIKE? is not LIKE$1), and before one it would
 * be "trailing junk" ($1AND) or another number (?1 is not $11). */
static char *put_placeholder(char *o, int n, bool in_ident, unsigned char next)
{
    if (in_ident)
        *o++ = ' ';
    o = put_param(o, n);
    if (dbal__sql_ident_start(next) || (next >= '0' && next <= '9'))
        *o++ = ' ';
    return o;
}

int dbal__sql_rewrite_dollar(const char *sql, void *(*alloc)(size_t), char **out, size_t *out_len,
                             int *nparams)
{
    size_t len = strlen(sql), marks = 0;
    const char *p;
    char *buf, *o;
    int n = 0;
    bool in_ident = false; /* the previous byte belongs to an unquoted identifier */

    /* Counting every `?`, quoted or not, bounds the output in one cheap pass so
     * the scanner never has to grow its buffer. */
    for (p = sql; (p = strchr(p, '?')) != NULL; p++)
        marks++;
    *out = NULL;
    *out_len = 0;
    *nparams = 0;
    /* A `?` grows by at most 12 bytes: "$", 10 digits and two spaces. */
    if (marks > INT_MAX || marks > (SIZE_MAX - len - 1) / 12)
        return DBAL_ENOMEM; /* more parameters than can be numbered or stored */
    buf = alloc(len + marks * 12 + 1);
    if (buf == NULL)
        return DBAL_ENOMEM;

    for (p = sql, o = buf; *p != '\0';) {
        dbal__sql_skip skip;
        if (*p == '?' && p[1] == '?') {
            *o++ = '?';
            p += 2;
            in_ident = false;
        } else if (*p == '?') {
            o = put_placeholder(o, ++n, in_ident, (unsigned char)p[1]);
            p++;
            in_ident = false;
        } else if (dbal__sql_skip_at(p, DBAL__SQL_POSTGRESQL, in_ident, &skip)) {
            memcpy(o, p, (size_t)(skip.end - p));
            o += skip.end - p;
            p = skip.end;
            in_ident = false;
        } else {
            in_ident = dbal__sql_in_ident(in_ident, (unsigned char)*p);
            *o++ = *p++;
        }
    }
    *o = '\0';
    *out = buf;
    *out_len = (size_t)(o - buf);
    *nparams = n;
    return DBAL_OK;
}
