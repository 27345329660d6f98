/*
 * bytea values arrive as text: "\x" and two hex digits a byte (the default
 * since PostgreSQL 9.0), or the older escape format when the server has
 * bytea_output = 'escape'.
 */
#include "pg_stmt.h"

#include "decode.h"

/* Makes room for n bytes and the NUL that follows them. */
static int reserve(pg_blob *b, size_t n)
{
    if (b->data && n < b->cap)
        return DBAL_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap <= n)
        cap *= 2;
    unsigned char *d = pg_host->realloc(b->data, cap);
    if (!d)
        return DBAL_ENOMEM;
    b->data = d;
    b->cap = cap;
    return DBAL_OK;
}

/* The server sends valid hex: anything else reads as 0 rather than
 * overflowing the byte. */
static unsigned hex_digit(char ch)
{
    int v = dbal__hex_value(ch);
    return v < 0 ? 0 : (unsigned)v;
}

static void decode_hex(pg_blob *b, const char *hex, size_t len)
{
    b->len = len / 2;
    for (size_t i = 0; i < b->len; i++)
        b->data[i] = (unsigned char)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
}

static int is_octal(char ch)
{
    return ch >= '0' && ch <= '7';
}

/* "\\" is a backslash, "\ooo" an octal byte, anything else itself. */
static void decode_escape(pg_blob *b, const char *s, size_t len)
{
    size_t o = 0, i = 0;
    while (i < len) {
        if (s[i] == '\\' && i + 1 < len && s[i + 1] == '\\') {
            b->data[o++] = '\\';
            i += 2;
        } else if (s[i] == '\\' && i + 3 < len && is_octal(s[i + 1]) && is_octal(s[i + 2]) &&
                   is_octal(s[i + 3])) {
            b->data[o++] = (unsigned char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
            i += 4;
        } else {
            b->data[o++] = (unsigned char)s[i++];
        }
    }
    b->len = o;
}

int pg_bytea_decode(pg_blob *b, const char *text, size_t len)
{
    /* Either form decodes to at most len bytes. */
    if (reserve(b, len) != DBAL_OK)
        return DBAL_ENOMEM;
    if (len >= 2 && text[0] == '\\' && text[1] == 'x')
        decode_hex(b, text + 2, len - 2);
    else
        decode_escape(b, text, len);
    b->data[b->len] = '\0';
    return DBAL_OK;
}
