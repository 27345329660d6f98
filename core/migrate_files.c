/*
 * The migration directory: which files are migrations, of which version and
 * role, which one a driver uses, their bytes and checksums. The naming rule
 * is in include/dbal.h (migrations).
 */
#include "migrate.h"

#include "alloc.h"
#include "errors.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One *.sql file of the directory, as its name reads. */
typedef struct entry {
    int64_t version;
    char *fname;
    size_t name_len; /* the name part: fname + name_at */
    size_t name_at;
    int down;
    char driver[32]; /* "" for the plain file */
} entry;

typedef struct entries {
    entry *e;
    size_t count, cap;
} entries;

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static size_t span(const char *s, size_t n, const char *set_extra, int letters_upper)
{
    size_t i = 0;
    for (; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(set_extra, c) != NULL ||
                 (letters_upper && c >= 'A' && c <= 'Z');
        if (!ok || c == '\0')
            break;
    }
    return i;
}

/* NNNN_name[.down][.driver].sql: 0 and *e filled, or -1. */
static int parse_name(const char *fname, entry *e)
{
    size_t n = strlen(fname) - strlen(".sql");
    size_t digits = 0;
    int64_t v = 0;
    while (digits < n && fname[digits] >= '0' && fname[digits] <= '9') {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (fname[digits++] - '0');
    }
    if (digits == 0 || v <= 0 || fname[digits] != '_')
        return -1;
    e->version = v;
    e->name_at = digits + 1;
    e->name_len = span(fname + e->name_at, n - e->name_at, "_-", 1);
    if (e->name_len == 0)
        return -1;
    const char *rest = fname + e->name_at + e->name_len, *end = fname + n;
    e->down = end - rest >= 5 && strncmp(rest, ".down", 5) == 0 && (rest + 5 == end || rest[5] == '.');
    if (e->down)
        rest += 5;
    e->driver[0] = '\0';
    if (rest == end)
        return 0;
    size_t dlen = (size_t)(end - rest) - 1;
    if (*rest != '.' || dlen == 0 || dlen >= sizeof e->driver || !(rest[1] >= 'a' && rest[1] <= 'z') ||
        span(rest + 1, dlen, "_", 0) != dlen || (dlen == 4 && strncmp(rest + 1, "down", 4) == 0))
        return -1;
    memcpy(e->driver, rest + 1, dlen);
    e->driver[dlen] = '\0';
    return 0;
}

/* A variant named for a driver under another of its names would never be
 * used: refused, with the name to use. */
static const char *misnamed_driver(const char *driver)
{
    static const char *const names[][2] = {{"postgres", "postgresql"}, {"pg", "postgresql"},
                                           {"pgsql", "postgresql"},    {"psql", "postgresql"},
                                           {"sqlite3", "sqlite"},      {"up", NULL}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(driver, names[i][0]) == 0)
            return names[i][1] ? names[i][1] : "(nothing: an up file has no .up)";
    return NULL;
}

static int add_entry(entries *es, const char *dir, const char *fname, dbal_error *err)
{
    entry e = {0};
    if (parse_name(fname, &e) != 0)
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0,
                               "%s/%s: not a migration file name: expected NNNN_name.sql, "
                               "NNNN_name.down.sql or NNNN_name[.down].DRIVER.sql (name: letters, digits, _ "
                               "and -)",
                               dir, fname);
    const char *better = e.driver[0] ? misnamed_driver(e.driver) : NULL;
    if (better)
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0,
                               "%s/%s: '%s' is not a database's name: use %s (the URL's scheme)", dir, fname,
                               e.driver, better);
    if (es->count == es->cap) {
        size_t cap = es->cap ? es->cap * 2 : 16;
        entry *more = dbal__realloc(es->e, cap * sizeof *more);
        if (!more)
            return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
        es->e = more;
        es->cap = cap;
    }
    if (!(e.fname = dbal__strdup(fname)))
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    es->e[es->count++] = e;
    return DBAL_OK;
}

static void entries_free(entries *es)
{
    for (size_t i = 0; i < es->count; i++)
        dbal__free(es->e[i].fname);
    dbal__free(es->e);
}

static int entry_order(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->version != y->version)
        return x->version < y->version ? -1 : 1;
    return strcmp(x->fname, y->fname);
}

/* Every *.sql file that is not hidden, sorted by version. */
static int list_dir(const char *dir, entries *es, dbal_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0, "cannot read the migration directory %s: %s", dir,
                               strerror(errno));
    int rc = DBAL_OK;
    struct dirent *de;
    while (rc == DBAL_OK && (de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && ends_with(de->d_name, ".sql"))
            rc = add_entry(es, dir, de->d_name, err);
    closedir(d);
    if (rc == DBAL_OK && es->count > 1)
        qsort(es->e, es->count, sizeof *es->e, entry_order);
    return rc;
}

int dbal__mig_read_file(const char *path, char **out, size_t *len, dbal_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int statted = fd >= 0 && fstat(fd, &st) == 0;
    if (!statted || !S_ISREG(st.st_mode)) {
        int e = fd < 0 || !statted ? errno : S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        if (fd >= 0)
            close(fd);
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0, "cannot read migration file %s: %s", path,
                               e == EINVAL ? "not a regular file" : strerror(e));
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = dbal__malloc(cap);
    ssize_t got = 1;
    while (buf && n < cap - 1 && (got = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)got;
    int e = errno;
    close(fd);
    if (!buf)
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    buf[n] = '\0';
    if (got < 0 || memchr(buf, '\0', n)) {
        dbal__free(buf);
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0, "cannot read migration file %s: %s", path,
                               got < 0 ? strerror(e) : "it holds a NUL byte (not SQL text)");
    }
    *out = buf;
    *len = n;
    return DBAL_OK;
}

/* A line that is `-- dbal:WORD`: WORD into w; 0, or -1 when it is not one. */
static int directive(const char *line, size_t n, char *w, size_t cap)
{
    size_t i = 2;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (n - i < 5 || strncmp(line + i, "dbal:", 5) != 0)
        return -1;
    i += 5;
    while (n > i && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
        n--;
    size_t k = n - i < cap - 1 ? n - i : cap - 1;
    memcpy(w, line + i, k);
    w[k] = '\0';
    return 0;
}

int dbal__mig_directives(const char *path, const char *sql, int *no_tx, dbal_error *err)
{
    *no_tx = 0;
    for (const char *p = sql; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        size_t lead = strspn(p, " \t\r");
        char w[64];
        if (lead < n && strncmp(p + lead, "--", 2) != 0)
            break; /* the first line of code ends the header */
        if (lead < n && directive(p + lead, n - lead, w, sizeof w) == 0) {
            if (strcmp(w, "no-transaction") != 0)
                return dbal__error_set(err, DBAL_EINVAL, NULL, 0,
                                       "%s: unknown directive '-- dbal:%s' (the one there is: -- "
                                       "dbal:no-transaction)",
                                       path, w);
            *no_tx = 1;
        }
        p += nl ? n + 1 : n;
    }
    return DBAL_OK;
}

/* dir/fname, without a doubled '/'. */
static char *join(const char *dir, const char *fname)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    size_t len = n + 1 + strlen(fname) + 1;
    char *p = dbal__malloc(len);
    if (p)
        snprintf(p, len, "%.*s/%s", (int)n, dir, fname);
    return p;
}

/* Entries es[from..to) are one version's: checks they agree, and picks the
 * up and down files the driver uses. */
static int pick(const char *dir, const entry *es, size_t from, size_t to, const char *driver,
                const entry **up, const entry **down, dbal_error *err)
{
    const entry *best[2][2] = {{NULL, NULL}, {NULL, NULL}}; /* [down][variant] */
    for (size_t i = from; i < to; i++) {
        const entry *e = &es[i], *first = &es[from];
        if (e->name_len != first->name_len ||
            memcmp(e->fname + e->name_at, first->fname + first->name_at, e->name_len) != 0)
            return dbal__error_set(err, DBAL_EINVAL, NULL, 0, "%s: version %lld has two names: %s and %s",
                                   dir, (long long)e->version, first->fname, e->fname);
        int variant = e->driver[0] != '\0';
        if (variant && strcmp(e->driver, driver) != 0)
            continue;
        const entry **slot = &best[e->down][variant];
        if (*slot)
            return dbal__error_set(err, DBAL_EINVAL, NULL, 0, "%s: two files for one role: %s and %s", dir,
                                   (*slot)->fname, e->fname);
        *slot = e;
    }
    *up = best[0][1] ? best[0][1] : best[0][0];
    *down = best[1][1] ? best[1][1] : best[1][0];
    if (!*up)
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0,
                               "%s: version %lld (%s) has no up file for the %s driver: add %.*s.sql or "
                               "%.*s.%s.sql (comments only, if it has nothing to do there)",
                               dir, (long long)es[from].version, es[from].fname, driver,
                               (int)(es[from].name_at + es[from].name_len), es[from].fname,
                               (int)(es[from].name_at + es[from].name_len), es[from].fname, driver);
    return DBAL_OK;
}

/* Fills f from its chosen files: paths, the up file's bytes, checksum and
 * directives. */
static int load(const char *dir, const entry *up, const entry *down, dbal__mig_file *f, dbal_error *err)
{
    f->version = up->version;
    f->name = dbal__strndup(up->fname + up->name_at, up->name_len);
    f->up = join(dir, up->fname);
    f->down = down ? join(dir, down->fname) : NULL;
    if (!f->name || !f->up || (down && !f->down))
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    int rc = dbal__mig_read_file(f->up, &f->sql, &f->len, err);
    if (rc == DBAL_OK)
        rc = dbal__mig_directives(f->up, f->sql, &f->no_tx, err);
    if (rc == DBAL_OK)
        dbal__sha256_hex(f->sql, f->len, f->checksum);
    return rc;
}

static void file_free(dbal__mig_file *f)
{
    dbal__free(f->name);
    dbal__free(f->up);
    dbal__free(f->down);
    dbal__free(f->sql);
}

int dbal__mig_dir_read(const char *dir, const char *driver, dbal__mig_dir *out, dbal_error *err)
{
    entries es = {0};
    memset(out, 0, sizeof *out);
    int rc = list_dir(dir, &es, err);
    if (rc == DBAL_OK && es.count && !(out->files = dbal__calloc(es.count, sizeof *out->files)))
        rc = dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    for (size_t from = 0, to; rc == DBAL_OK && from < es.count; from = to) {
        for (to = from + 1; to < es.count && es.e[to].version == es.e[from].version;)
            to++;
        const entry *up, *down;
        rc = pick(dir, es.e, from, to, driver, &up, &down, err);
        if (rc == DBAL_OK)
            rc = load(dir, up, down, &out->files[out->count++], err);
    }
    entries_free(&es);
    if (rc != DBAL_OK)
        dbal__mig_dir_free(out);
    return rc;
}

void dbal__mig_dir_free(dbal__mig_dir *d)
{
    for (size_t i = 0; i < d->count; i++)
        file_free(&d->files[i]);
    dbal__free(d->files);
    memset(d, 0, sizeof *d);
}

const dbal__mig_file *dbal__mig_dir_find(const dbal__mig_dir *d, int64_t version)
{
    for (size_t i = 0; i < d->count; i++)
        if (d->files[i].version == version)
            return &d->files[i];
    return NULL;
}
