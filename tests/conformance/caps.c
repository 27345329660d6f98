/*
 * caps.c - reading a driver's capability file (caps.h; the keys are
 * described in README.md in this directory).
 *
 * The format: one `key = value` per line, blanks around either ignored;
 * lines that are empty or start with '#' are comments. Every key must be
 * one the suite knows and every value one its kind allows, so that a typo
 * stops the run instead of quietly skipping cases.
 */
#include "caps.h"

#include "cases.h"
#include "fixture.h"

#include <ctype.h>
#include <errno.h>

typedef struct cap_def {
    const char *key;
    enum cap_kind kind;
    const char *words; /* the set, space-separated, for CAP_CHOICE and CAP_LIST */
} cap_def;

static const cap_def defs[CAP_COUNT] = {
#define CAP_DEF(id, key, kind, words) {key, kind, words},
    CONF_CAPS(CAP_DEF)
#undef CAP_DEF
};

static char values[CAP_COUNT][256];
static int set[CAP_COUNT];

/* 1 when word (len bytes) is one of the space-separated words. */
static int in_words(const char *words, const char *word, size_t len)
{
    for (const char *p = words; *p;) {
        size_t n = strcspn(p, " ");
        if (n == len && strncmp(p, word, len) == 0)
            return 1;
        p += n;
        p += strspn(p, " ");
    }
    return 0;
}

/* Why value does not fit the key's kind, or NULL when it does. */
static const char *refuse(const cap_def *d, const char *value)
{
    switch (d->kind) {
    case CAP_TEXT: return *value ? NULL : "an empty value";
    case CAP_BOOL: return strcmp(value, "yes") == 0 || strcmp(value, "no") == 0 ? NULL : "not yes or no";
    case CAP_CHOICE: return in_words(d->words, value, strlen(value)) ? NULL : "not one of the words allowed";
    case CAP_INT: {
        char *end;
        errno = 0;
        (void)strtol(value, &end, 10);
        return *value && !*end && errno == 0 ? NULL : "not an integer";
    }
    case CAP_LIST:
        if (strcmp(value, "none") == 0)
            return NULL;
        for (const char *p = value;;) {
            p += strspn(p, " ");
            size_t n = strcspn(p, ", ");
            if (n == 0 || !in_words(d->words, p, n))
                return "a list holding a word not allowed";
            p += n;
            p += strspn(p, " ");
            if (!*p)
                return NULL;
            if (*p++ != ',')
                return "not a comma-separated list";
        }
    }
    return "of an unknown kind";
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Reads one `key = value` line; 0, or -1 after saying what is wrong. */
static int load_line(const char *path, int lineno, char *line)
{
    char *s = trim(line);
    if (!*s || *s == '#')
        return 0;
    char *eq = strchr(s, '=');
    if (!eq) {
        fprintf(stderr, "%s:%d: not a key = value line\n", path, lineno);
        return -1;
    }
    *eq = '\0';
    const char *key = trim(s);
    const char *value = trim(eq + 1);
    for (int k = 0; k < CAP_COUNT; k++) {
        if (strcmp(defs[k].key, key) != 0)
            continue;
        const char *why = refuse(&defs[k], value);
        if (why) {
            fprintf(stderr, "%s:%d: %s = %s: %s", path, lineno, key, value, why);
            if (defs[k].kind == CAP_CHOICE || defs[k].kind == CAP_LIST)
                fprintf(stderr, " (%s)", defs[k].words);
            fprintf(stderr, "\n");
            return -1;
        }
        if (set[k]) {
            fprintf(stderr, "%s:%d: %s is given twice\n", path, lineno, key);
            return -1;
        }
        if (strlen(value) >= sizeof values[k]) {
            fprintf(stderr, "%s:%d: the value of %s is too long\n", path, lineno, key);
            return -1;
        }
        snprintf(values[k], sizeof values[k], "%s", value);
        set[k] = 1;
        return 0;
    }
    fprintf(stderr, "%s:%d: unknown key '%s' (the keys are described in the conformance README)\n", path,
            lineno, key);
    return -1;
}

int caps_load(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "cannot read the capability file %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[1024];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, fp)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(fp)) {
            fprintf(stderr, "%s:%d: line too long\n", path, lineno);
            rc = -1;
        } else {
            rc = load_line(path, lineno, line);
        }
    }
    fclose(fp);
    return rc;
}

const char *cap_name(enum conf_cap k)
{
    return defs[k].key;
}

const char *cap(enum conf_cap k)
{
    return set[k] ? values[k] : NULL;
}

int cap_is(enum conf_cap k, const char *word)
{
    if (!set[k])
        return 0;
    if (defs[k].kind != CAP_LIST)
        return strcmp(values[k], word) == 0;
    for (const char *p = values[k]; *p;) {
        p += strspn(p, " ,");
        size_t n = strcspn(p, ", ");
        if (n == strlen(word) && strncmp(p, word, n) == 0)
            return 1;
        p += n;
    }
    return 0;
}

int cap_int(enum conf_cap k, long *out)
{
    if (!set[k] || defs[k].kind != CAP_INT)
        return 0;
    *out = strtol(values[k], NULL, 10);
    return 1;
}

void cap_need(enum conf_cap k, const char *word)
{
    if (set[k] && (!word || cap_is(k, word)))
        return;
    if (!set[k])
        print_message("    skipped: the capability file does not set %s\n", defs[k].key);
    else if (defs[k].kind == CAP_LIST)
        print_message("    skipped: %s = %s, without %s\n", defs[k].key, values[k], word);
    else
        print_message("    skipped: %s = %s\n", defs[k].key, values[k]);
    skip();
}
