/*
 * items_api_client - the concurrent part of tests/test_items_api.sh: many
 * simultaneous HTTP clients of the items_api example service.
 *
 *   items_api_client burst  PORT N PREFIX
 *       N threads connect, wait at a barrier, then each POSTs /items once
 *       ("PREFIX-i"); all N requests are in flight together.
 *   items_api_client load   PORT THREADS SECONDS PAUSE_MS PREFIX
 *       THREADS threads POST /items ("PREFIX-t-k") until SECONDS have passed,
 *       pausing PAUSE_MS between requests (a database restart happens meanwhile).
 *   items_api_client verify PORT THREADS < lines
 *       GETs /items/ID of every "201 ID NAME" line and checks the name.
 *
 * burst and load print one line per request, "STATUS ID NAME" (ID 0 when the
 * answer carried none; STATUS 0 when there was no HTTP answer), then a
 * summary on stderr. verify exits 1 if any item is missing or differs.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NAME_MAX_LEN 96
#define IO_TIMEOUT_S 60

static unsigned short port;

/* ---- one HTTP/1.1 exchange over a fresh connection ------------------------ */

typedef struct response {
    int status; /* 0: no answer */
    json_t *body;
} response;

static int connect_local(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads until the server closes (the request says Connection: close). */
static char *read_all(int fd)
{
    size_t len = 0, cap = 8192;
    char *buf = malloc(cap);
    for (ssize_t r; buf; len += (size_t)r) {
        if (len + 4096 + 1 > cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) {
                free(buf);
                return NULL;
            }
            buf = bigger;
        }
        r = recv(fd, buf + len, cap - len - 1, 0);
        if (r <= 0)
            break;
    }
    if (buf)
        buf[len] = '\0';
    return buf;
}

static response parse_response(const char *raw)
{
    response rs = {0};
    if (!raw || sscanf(raw, "HTTP/1.%*d %d", &rs.status) != 1)
        return rs;
    const char *body = strstr(raw, "\r\n\r\n");
    if (body && body[4])
        rs.body = json_loads(body + 4, 0, NULL);
    return rs;
}

/* Sends a request on an open connection and reads the answer; closes fd. */
static response exchange(int fd, const char *method, const char *path, const char *json)
{
    char head[256];
    size_t body_len = json ? strlen(json) : 0;
    snprintf(head, sizeof head,
             "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
             method, path, body_len);
    response rs = {0};
    if (send_all(fd, head, strlen(head)) == 0 && send_all(fd, json ? json : "", body_len) == 0) {
        char *raw = read_all(fd);
        rs = parse_response(raw);
        free(raw);
    }
    close(fd);
    return rs;
}

static response request(const char *method, const char *path, const char *json)
{
    int fd = connect_local();
    if (fd < 0)
        return (response){0};
    return exchange(fd, method, path, json);
}

static long long id_of(const response *rs)
{
    return (long long)json_integer_value(json_object_get(rs->body, "id"));
}

/* ---- results ------------------------------------------------------------------- */

typedef struct result {
    int status;
    long long id;
    char name[NAME_MAX_LEN];
} result;

static char *item_json(const char *name, double price)
{
    json_t *doc = json_pack("{s:s, s:f, s:[s]}", "name", name, "price", price, "tags", "concurrent");
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

/* POSTs one item on fd (a connection already open, or -1 to open one). */
static void create_item(int fd, const char *name, double price, result *out)
{
    char *json = item_json(name, price);
    response rs = {0};
    if (json)
        rs = fd >= 0 ? exchange(fd, "POST", "/items", json) : request("POST", "/items", json);
    else if (fd >= 0)
        close(fd);
    out->status = rs.status;
    out->id = rs.status == 201 ? id_of(&rs) : 0;
    snprintf(out->name, sizeof out->name, "%s", name);
    json_decref(rs.body);
    free(json);
}

static void print_results(const result *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%d %lld %s\n", r[i].status, r[i].id, r[i].name);
}

static void summarize(const char *what, const result *r, size_t n)
{
    size_t created = 0, unavailable = 0, other = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].status == 201)
            created++;
        else if (r[i].status == 503)
            unavailable++;
        else
            other++;
    }
    fprintf(stderr, "%s: %zu requests: %zu x 201, %zu x 503, %zu other\n", what, n, created, unavailable,
            other);
}

/* ---- burst ----------------------------------------------------------------------- */

typedef struct burst_arg {
    pthread_barrier_t *barrier;
    const char *prefix;
    int index;
    result res;
} burst_arg;

static void *burst_thread(void *p)
{
    burst_arg *a = p;
    int fd = connect_local(); /* connect first, so that every request is in flight together */
    pthread_barrier_wait(a->barrier);
    char name[NAME_MAX_LEN];
    snprintf(name, sizeof name, "%s-%d", a->prefix, a->index);
    if (fd < 0) {
        a->res.status = 0;
        snprintf(a->res.name, sizeof a->res.name, "%s", name);
        return NULL;
    }
    create_item(fd, name, a->index + 0.25, &a->res);
    return NULL;
}

static int run_burst(int n, const char *prefix)
{
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)n);
    burst_arg *args = calloc((size_t)n, sizeof *args);
    pthread_t *threads = calloc((size_t)n, sizeof *threads);
    if (!args || !threads)
        return 2;
    for (int i = 0; i < n; i++) {
        args[i] = (burst_arg){.barrier = &barrier, .prefix = prefix, .index = i};
        if (pthread_create(&threads[i], NULL, burst_thread, &args[i]) != 0) {
            fprintf(stderr, "burst: cannot start thread %d\n", i);
            exit(2); /* the barrier would never open */
        }
    }
    result *res = calloc((size_t)n, sizeof *res);
    for (int i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
        res[i] = args[i].res;
    }
    print_results(res, (size_t)n);
    summarize("burst", res, (size_t)n);
    pthread_barrier_destroy(&barrier);
    free(res);
    free(args);
    free(threads);
    return 0;
}

/* ---- load -------------------------------------------------------------------------- */

typedef struct load_arg {
    const char *prefix;
    int thread;
    double until;
    int pause_ms;
    result *res;
    size_t n, cap;
} load_arg;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *load_thread(void *p)
{
    load_arg *a = p;
    for (int k = 0; now_s() < a->until; k++) {
        if (a->n == a->cap) {
            size_t cap = a->cap ? 2 * a->cap : 256;
            result *bigger = realloc(a->res, cap * sizeof *bigger);
            if (!bigger)
                break;
            a->res = bigger;
            a->cap = cap;
        }
        char name[NAME_MAX_LEN];
        snprintf(name, sizeof name, "%s-%d-%d", a->prefix, a->thread, k);
        create_item(-1, name, k, &a->res[a->n++]);
        struct timespec pause = {.tv_sec = a->pause_ms / 1000, .tv_nsec = (a->pause_ms % 1000) * 1000000L};
        nanosleep(&pause, NULL);
    }
    return NULL;
}

static int run_load(int nthreads, double seconds, int pause_ms, const char *prefix)
{
    load_arg *args = calloc((size_t)nthreads, sizeof *args);
    pthread_t *threads = calloc((size_t)nthreads, sizeof *threads);
    if (!args || !threads)
        return 2;
    double until = now_s() + seconds;
    for (int i = 0; i < nthreads; i++) {
        args[i] = (load_arg){.prefix = prefix, .thread = i, .until = until, .pause_ms = pause_ms};
        pthread_create(&threads[i], NULL, load_thread, &args[i]);
    }
    size_t total = 0, last_ok = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(threads[i], NULL);
        print_results(args[i].res, args[i].n);
        total += args[i].n;
        last_ok += args[i].n && args[i].res[args[i].n - 1].status == 201;
    }
    fprintf(stderr, "load: %zu of %d threads ended on a 201\n", last_ok, nthreads);
    result *all = calloc(total ? total : 1, sizeof *all);
    for (int i = 0, at = 0; i < nthreads; at += (int)args[i].n, i++) {
        memcpy(all + at, args[i].res, args[i].n * sizeof *all);
        free(args[i].res);
    }
    summarize("load", all, total);
    free(all);
    free(args);
    free(threads);
    return 0;
}

/* ---- verify ------------------------------------------------------------------------ */

typedef struct verify_arg {
    const result *items;
    size_t n, stride, first;
    size_t missing;
} verify_arg;

static void *verify_thread(void *p)
{
    verify_arg *a = p;
    for (size_t i = a->first; i < a->n; i += a->stride) {
        char path[64];
        snprintf(path, sizeof path, "/items/%lld", a->items[i].id);
        response rs = request("GET", path, NULL);
        const char *name = json_string_value(json_object_get(rs.body, "name"));
        if (rs.status != 200 || !name || strcmp(name, a->items[i].name) != 0) {
            fprintf(stderr, "verify: %s: %d, name %s (want %s)\n", path, rs.status, name ? name : "-",
                    a->items[i].name);
            a->missing++;
        }
        json_decref(rs.body);
    }
    return NULL;
}

/* Reads "STATUS ID NAME" lines and keeps the 201s. */
static result *read_created(size_t *n)
{
    size_t cap = 1024;
    result *items = malloc(cap * sizeof *items);
    result r;
    *n = 0;
    while (items && scanf("%d %lld %95s", &r.status, &r.id, r.name) == 3) {
        if (r.status != 201)
            continue;
        if (*n == cap) {
            result *bigger = realloc(items, (cap *= 2) * sizeof *items);
            if (!bigger)
                break;
            items = bigger;
        }
        items[(*n)++] = r;
    }
    return items;
}

static int run_verify(int nthreads)
{
    size_t n;
    result *items = read_created(&n);
    verify_arg *args = calloc((size_t)nthreads, sizeof *args);
    pthread_t *threads = calloc((size_t)nthreads, sizeof *threads);
    if (!items || !args || !threads)
        return 2;
    for (int i = 0; i < nthreads; i++) {
        args[i] = (verify_arg){.items = items, .n = n, .stride = (size_t)nthreads, .first = (size_t)i};
        pthread_create(&threads[i], NULL, verify_thread, &args[i]);
    }
    size_t missing = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(threads[i], NULL);
        missing += args[i].missing;
    }
    printf("verified %zu created items, %zu missing or different\n", n, missing);
    free(items);
    free(args);
    free(threads);
    return missing ? 1 : 0;
}

/* ---- main ------------------------------------------------------------------------- */

static int usage(void)
{
    fprintf(stderr, "usage: items_api_client burst PORT N PREFIX\n"
                    "       items_api_client load PORT THREADS SECONDS PAUSE_MS PREFIX\n"
                    "       items_api_client verify PORT THREADS < lines\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    port = (unsigned short)atoi(argv[2]);
    if (strcmp(argv[1], "burst") == 0 && argc == 5 && atoi(argv[3]) > 0)
        return run_burst(atoi(argv[3]), argv[4]);
    if (strcmp(argv[1], "load") == 0 && argc == 7 && atoi(argv[3]) > 0)
        return run_load(atoi(argv[3]), atof(argv[4]), atoi(argv[5]), argv[6]);
    if (strcmp(argv[1], "verify") == 0 && argc == 4 && atoi(argv[3]) > 0)
        return run_verify(atoi(argv[3]));
    return usage();
}
