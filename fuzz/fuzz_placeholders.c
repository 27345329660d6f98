/*
 * fuzz_placeholders: dbal__rewrite_dollar on arbitrary SQL text.
 *
 * Checks, besides the sanitizers:
 *   - DBAL_OK, a NUL-terminated output whose length is *out_len, within the
 *     documented bound (12 bytes per `?`);
 *   - SQL without a `?` comes back byte for byte, with 0 parameters;
 *   - the count is the number of $n it wrote: every byte of the input is
 *     copied except `?`, so the `$<digit>` sequences of the output are those
 *     of the input plus exactly n new ones, numbered 1..n in order;
 *   - each `?` either survives or became a $n: the `?` lost are n plus the
 *     `??` pairs collapsed, so n <= ?(in) - ?(out);
 *   - the rewrite is deterministic (a second run gives the same bytes).
 */
#include "alloc.h"
#include "fuzz_target.h"
#include "dbal.h"
#include "placeholders.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                               \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "fuzz_placeholders: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                              \
        }                                                                                         \
    } while (0)

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

/* `$` immediately followed by a digit. */
static size_t count_dollar_digit(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += s[0] == '$' && s[1] >= '0' && s[1] <= '9';
    return n;
}

/* Whether $1, $2, ..., $n appear in out in that order, each as a whole
 * number (not followed by another digit). The input's own $k may sit in
 * between; the new ones are found greedily, which can only succeed more
 * often, never fail when the rewrite is right. */
static int numbered_in_order(const char *out, int n)
{
    const char *p = out;
    for (int k = 1; k <= n; k++) {
        char tok[16];
        int tl = snprintf(tok, sizeof tok, "$%d", k);
        for (;;) {
            p = strstr(p, tok);
            if (!p)
                return 0;
            if (p[tl] < '0' || p[tl] > '9')
                break;
            p++;
        }
        p += tl;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = malloc(size + 1);
    CHECK(sql);
    memcpy(sql, data, size);
    sql[size] = '\0';
    size_t len = strlen(sql);

    char *out = (char *)1;
    size_t out_len = 12345;
    int n = -1;
    int rc = dbal__rewrite_dollar(sql, &out, &out_len, &n);
    CHECK(rc == DBAL_OK);
    CHECK(out != NULL);
    CHECK(strlen(out) == out_len); /* NUL-terminated at out_len, no NUL inside */

    size_t q_in = count_char(sql, '?'), q_out = count_char(out, '?');
    CHECK(n >= 0 && (size_t)n <= q_in);
    CHECK(out_len <= len + 12 * q_in);
    if (q_in == 0) {
        CHECK(n == 0);
        CHECK(out_len == len && memcmp(out, sql, len) == 0);
    }
    CHECK(q_out <= q_in);
    CHECK((size_t)n <= q_in - q_out);
    /* every ? that disappeared became a $n or half of a ?? pair */
    CHECK(2 * ((q_in - q_out) - (size_t)n) + (size_t)n <= q_in);
    CHECK(count_dollar_digit(out) == count_dollar_digit(sql) + (size_t)n);
    CHECK(numbered_in_order(out, n));
    /* Bytes other than ?, spaces and the digits and $ of new numbers are
     * copied: removing those classes from both leaves the same text. */
    {
        char *a = malloc(len + 1), *b = malloc(out_len + 1);
        CHECK(a && b);
        size_t al = 0, bl = 0;
        for (size_t i = 0; i < len; i++)
            if (!strchr("? $0123456789", sql[i]))
                a[al++] = sql[i];
        for (size_t i = 0; i < out_len; i++)
            if (!strchr("? $0123456789", out[i]))
                b[bl++] = out[i];
        CHECK(al == bl && memcmp(a, b, al) == 0);
        free(a);
        free(b);
    }

    char *again;
    size_t again_len;
    int n2;
    CHECK(dbal__rewrite_dollar(sql, &again, &again_len, &n2) == DBAL_OK);
    CHECK(n2 == n && again_len == out_len && memcmp(again, out, out_len + 1) == 0);
    dbal__free(again);

    dbal__free(out);
    free(sql);
    return 0;
}
