/*
 * dbal_encode.h - byte-level helpers for the printers: UTF-8 decoding and
 * display width, hex, base64, JSON strings and numbers.
 */
#ifndef DBAL_ENCODE_H
#define DBAL_ENCODE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "decode.h" /* dbal__hex_value */

/* Decodes one UTF-8 character from s (len > 0): returns its length (1-4)
 * and sets *cp, or returns 0 when the bytes there are not valid UTF-8. */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* Columns a character takes on a terminal: 0 (combining), 1, or 2 (East
 * Asian wide, emoji). */
int char_width(uint32_t cp);

/* Writes bytes as "\x" and two lowercase hex digits per byte (PostgreSQL's
 * bytea output). */
void put_hex(FILE *f, const void *p, size_t len);

/* Writes bytes as standard padded base64 (RFC 4648). */
void put_base64(FILE *f, const void *p, size_t len);

/* Writes a JSON string literal: quotes, backslash escapes, control
 * characters as \uXXXX; bytes that are not valid UTF-8 become U+FFFD. */
void put_json_string(FILE *f, const char *s, size_t len);

/* Whether s is a number in JSON's grammar (so NaN and Infinity are not). */
int is_json_number(const char *s, size_t len);

#endif /* DBAL_ENCODE_H */
