/* Byte-level helpers for the printers. */
#include "dbal_encode.h"

size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

typedef struct range {
    uint32_t first, last;
} range;

/* Zero-width: combining marks and zero-width spaces/joiners. */
static const range zero_width[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A},
    {0x064B, 0x065F}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F},
    {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF},
};

/* Two columns: East Asian wide and fullwidth forms, most emoji. */
static const range wide[] = {
    {0x1100, 0x115F}, {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},
    {0xA000, 0xA4CF}, {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},
    {0xFFE0, 0xFFE6}, {0x1F300, 0x1F64F}, {0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

static int in(const range *t, size_t n, uint32_t cp)
{
    for (size_t i = 0; i < n; i++)
        if (cp >= t[i].first && cp <= t[i].last)
            return 1;
    return 0;
}

int char_width(uint32_t cp)
{
    if (in(zero_width, sizeof zero_width / sizeof *zero_width, cp))
        return 0;
    if (in(wide, sizeof wide / sizeof *wide, cp))
        return 2;
    return 1;
}

void put_hex(FILE *f, const void *p, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = p;
    fputs("\\x", f);
    for (size_t i = 0; i < len; i++) {
        putc(digits[b[i] >> 4], f);
        putc(digits[b[i] & 15], f);
    }
}

void put_base64(FILE *f, const void *p, size_t len)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *b = p;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
        putc(alphabet[v >> 18], f);
        putc(alphabet[(v >> 12) & 63], f);
        putc(alphabet[(v >> 6) & 63], f);
        putc(alphabet[v & 63], f);
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)b[i] << 16;
        putc(alphabet[v >> 18], f);
        putc(alphabet[(v >> 12) & 63], f);
        fputs("==", f);
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8;
        putc(alphabet[v >> 18], f);
        putc(alphabet[(v >> 12) & 63], f);
        putc(alphabet[(v >> 6) & 63], f);
        putc('=', f);
    }
}

void put_json_string(FILE *f, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    putc('"', f);
    for (size_t i = 0; i < len;) {
        unsigned char c = u[i];
        uint32_t cp;
        size_t n = utf8_decode(u + i, len - i, &cp);
        if (n == 0) {
            fputs("\\ufffd", f); /* one replacement per invalid byte */
            i++;
            continue;
        }
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20 || c == 0x7F)
                fprintf(f, "\\u%04x", c);
            else
                fwrite(u + i, 1, n, f);
        }
        i += n;
    }
    putc('"', f);
}

static size_t digits(const char *s, size_t len, size_t i)
{
    size_t start = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    return i - start;
}

int is_json_number(const char *s, size_t len)
{
    size_t i = 0, n;
    if (i < len && s[i] == '-')
        i++;
    if (i < len && s[i] == '0')
        i++;
    else if ((n = digits(s, len, i)) > 0)
        i += n;
    else
        return 0;
    if (i < len && s[i] == '.') {
        if ((n = digits(s, len, i + 1)) == 0)
            return 0;
        i += 1 + n;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if ((n = digits(s, len, i)) == 0)
            return 0;
        i += n;
    }
    return i == len;
}
