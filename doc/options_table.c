/*
 * The README's table of engine options, made from DBAL__ENGINE_OPTION_MAP
 * (core/engine_options.h), the table the URL parser and
 * dbal_engine_options are checked by:
 *
 *   dbal_options_table                  prints it
 *   dbal_options_table --check FILE     exits 1, saying where, unless FILE
 *                                       (README.md) has it as printed
 *   dbal_options_table --update FILE    writes it into FILE
 *
 * In FILE the table starts at its header line and runs to the last line
 * that starts with '|' (ctest: test_readme_options).
 */
#include "engine_options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char header[] =
    "| option | default | meaning (same as SQLAlchemy's option of that name where it has one) |\n"
    "| --- | --- | --- |\n";

static const char *const docs[] = {
#define DOC(key, field, kind, lo, hi, special, word, def, where, doc) doc,
    DBAL__ENGINE_OPTION_MAP(DOC)
#undef DOC
};

static const char *pool_reset_word(double value)
{
#define RESET_WORD(word, constant) \
    if (value == constant)         \
        return #word;
    DBAL__POOL_RESET_MAP(RESET_WORD)
#undef RESET_WORD
    return "?";
}

/* The table, header included, into a new string. */
static char *table(void)
{
    size_t cap = sizeof header, n = 0;
    for (size_t i = 0; i < dbal__engine_noptions; i++)
        cap += strlen(docs[i]) + 200;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    n += (size_t)snprintf(out, cap, "%s", header);
    for (size_t i = 0; i < dbal__engine_noptions; i++) {
        const dbal__engine_option *o = &dbal__engine_options[i];
        char def[64], range[64] = "";
        switch (o->kind) {
        case DBAL__OPT_BOOL: snprintf(def, sizeof def, "%s", o->def ? "true" : "false"); break;
        case DBAL__OPT_POOL_RESET: snprintf(def, sizeof def, "`%s`", pool_reset_word(o->def)); break;
        case DBAL__OPT_HOSTS: snprintf(def, sizeof def, "none"); break;
        default: {
            int named = o->word && o->def == o->special;
            int outside = o->word && (o->special < o->lo || o->special > o->hi);
            snprintf(def, sizeof def, "%s%s%s%s", o->def_text, named ? " (" : "", named ? o->word : "",
                     named ? ")" : "");
            snprintf(range, sizeof range, " (%s to %s%s%s)", o->lo_text, o->hi_text, outside ? ", or " : "",
                     outside ? o->special_text : "");
        }
        }
        n += (size_t)snprintf(out + n, cap - n, "| `%s` | %s | %s%s |\n", o->key, def, docs[i], range);
    }
    return out;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16;
    char *buf = malloc(cap + 1);
    *len = 0;
    for (size_t got; buf && (got = fread(buf + *len, 1, cap - *len, f)) > 0;) {
        *len += got;
        if (*len == cap) {
            char *bigger = realloc(buf, 2 * cap + 1);
            if (!bigger)
                free(buf);
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[*len] = '\0';
    return buf;
}

/* Where the table is in text: [*start, *end). 0 when it has no header line. */
static int find_block(const char *text, size_t *start, size_t *end)
{
    const char *h = strstr(text, header);
    if (!h || (h != text && h[-1] != '\n'))
        return 0;
    const char *p = h;
    while (*p == '|') {
        const char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : p + strlen(p);
    }
    *start = (size_t)(h - text);
    *end = (size_t)(p - text);
    return 1;
}

/* Checks path's table against want, or writes want into it (update).
 * Returns the exit code. */
static int check_file(const char *want, const char *path, int update, const char *prog)
{
    size_t len, start, end;
    char *text = slurp(path, &len);
    if (!text) {
        perror(path);
        return 2;
    }
    int rc = 0;
    if (!find_block(text, &start, &end)) {
        fprintf(stderr, "%s: no line \"%.*s\"\n", path, (int)strcspn(header, "\n"), header);
        rc = 1;
    } else if (end - start == strlen(want) && memcmp(text + start, want, end - start) == 0) {
        rc = 0;
    } else if (update) {
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(text, 1, start, f) != start || fputs(want, f) < 0 ||
            fwrite(text + end, 1, len - end, f) != len - end || fclose(f) != 0) {
            perror(path);
            rc = 2;
        }
    } else {
        /* The first line that differs, with its line number in the file. */
        const char *a = text + start, *b = want;
        while (*b && strncmp(a, b, strcspn(b, "\n") + 1) == 0) {
            a += strcspn(a, "\n") + 1;
            b += strcspn(b, "\n") + 1;
        }
        size_t line = 1;
        for (const char *p = text; p < a; p++)
            line += *p == '\n';
        fprintf(stderr,
                "%s:%zu: the engine options table differs from core/engine_options.h\n"
                "  README: %.*s\n  table:  %.*s\n"
                "(edit the table, then: %s --update %s)\n",
                path, line, (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b, prog, path);
        rc = 1;
    }
    free(text);
    return rc;
}

int main(int argc, char **argv)
{
    int update = argc == 3 && strcmp(argv[1], "--update") == 0;
    if (argc != 1 && !(argc == 3 && (update || strcmp(argv[1], "--check") == 0))) {
        fprintf(stderr, "usage: %s [--check|--update README.md]\n", argv[0]);
        return 2;
    }
    char *want = table();
    if (!want)
        return 2;
    int rc = argc == 1 ? (fputs(want, stdout) < 0) : check_file(want, argv[2], update, argv[0]);
    free(want);
    return rc;
}
