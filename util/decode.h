/* decode.h - hex digits and percent-encoding, for URLs, bytea and the CLI. */
#ifndef DBAL_UTIL_DECODE_H
#define DBAL_UTIL_DECODE_H

#include <stdbool.h>
#include <stddef.h>

/* The value of a hex digit (either case), or -1. */
int dbal__hex_value(char c);

/*
 * Percent-decodes s[0..len) into out (room for len + 1 bytes; the result is
 * NUL-terminated, its length in *out_len). strict: a '%' not followed by
 * two hex digits, or one that decodes to a NUL byte, makes it fail (false,
 * out undefined), as a URL must; else such a '%' is copied as it is.
 */
bool dbal__percent_decode(const char *s, size_t len, char *out, size_t *out_len, bool strict);

#endif
