/* Hex digits and percent-encoding; see decode.h. */
#include "decode.h"

int dbal__hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool dbal__percent_decode(const char *s, size_t len, char *out, size_t *out_len, bool strict)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int hi = s[i] == '%' && i + 1 < len ? dbal__hex_value(s[i + 1]) : -1;
        int lo = hi >= 0 && i + 2 < len ? dbal__hex_value(s[i + 2]) : -1;
        if (s[i] == '%' && lo >= 0 && (hi | lo) != 0) {
            out[n++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (s[i] == '%' && strict) {
            return false;
        } else {
            out[n++] = s[i];
        }
    }
    out[n] = '\0';
    *out_len = n;
    return true;
}
