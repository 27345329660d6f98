/*
 * numeric's binary form (numeric_send / numeric_recv): int16 ndigits,
 * int16 weight, uint16 sign, uint16 dscale, then ndigits base-10000
 * digits, the first worth 10000^weight. Read into exactly the text
 * numeric_out writes, and written from numeric text for COPY, so that a
 * numeric never goes through a double. Needs nothing of the rest of the
 * driver.
 */
#ifndef DBAL_PG_NUMERIC_H
#define DBAL_PG_NUMERIC_H

#include <stddef.h>

/* Room the text of binary value p (len bytes) needs, with its NUL; 0 when
 * p is not a numeric's binary form. */
size_t pg_numeric_text_size(const unsigned char *p, size_t len);
/* Writes that text to out (pg_numeric_text_size bytes) and returns its
 * length. */
size_t pg_numeric_text(const unsigned char *p, size_t len, char *out);

/* Room the binary form of numeric text s needs (at least), or 0 when it
 * has none the driver writes (not numeric text, or out of numeric's
 * range: the server reports it). s must be numeric text. */
size_t pg_numeric_binary_size(const char *s, size_t len);
/* Writes the binary form of s to out and returns its length. */
size_t pg_numeric_binary(const char *s, size_t len, unsigned char *out);

#endif
