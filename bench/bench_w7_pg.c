/*
 * W7 through raw libpq, and through pgbench itself. The raw side is what
 * `pgbench -M prepared` does, written by hand: one connection per client,
 * made before the clock starts, every statement of the script (BEGIN and
 * END too) prepared once per connection; its parameters and the balance it
 * reads go in binary.
 */
#include "bench.h"
#include "bench_w7.h"

#include <libpq-fe.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { ST_COUNT = W7_STEPS, MAX_CONNS = 64 };

static const struct {
    const char *name, *sql;
} stmts[ST_COUNT] = {
    {"w7_begin", "BEGIN"},
    {"w7_account", "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2"},
    {"w7_select", "SELECT abalance FROM pgbench_accounts WHERE aid = $1"},
    {"w7_teller", "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2"},
    {"w7_branch", "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2"},
    {"w7_history",
     "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)"},
    {"w7_end", "END"},
};

typedef struct w7pg {
    PGconn *conn[MAX_CONNS];
    int nconn;
    int prepared[MAX_CONNS];
} w7pg;

static int fail_res(PGconn *c, PGresult *res, const char *what)
{
    bench_fail("libpq", what, res ? PQresultErrorMessage(res) : PQerrorMessage(c));
    PQclear(res);
    return -1;
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg, (void)message;
}

static void w7pg_close(void *ctx)
{
    w7pg *p = ctx;
    for (int i = 0; i < p->nconn; i++)
        PQfinish(p->conn[i]);
    free(p);
}

int bench_w7_pg_open(const char *conninfo, int clients, void **ctx)
{
    w7pg *p = calloc(1, sizeof *p);
    if (!p)
        return bench_fail("libpq", "W7 open", "out of memory");
    for (; p->nconn < clients && p->nconn < MAX_CONNS; p->nconn++) {
        PGconn *c = p->conn[p->nconn] = PQconnectdb(conninfo);
        if (PQstatus(c) != CONNECTION_OK) {
            bench_fail("libpq", "W7 connect", PQerrorMessage(c));
            p->nconn++;
            w7pg_close(p);
            return -1;
        }
        PQsetNoticeProcessor(c, ignore_notice, NULL); /* DROP TABLE IF EXISTS */
    }
    *ctx = p;
    return 0;
}

int bench_w7_pg_exec(void *ctx, const char *sql)
{
    PGconn *c = ((w7pg *)ctx)->conn[0];
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return fail_res(c, res, sql);
    PQclear(res);
    return 0;
}

/* Prepares the script on a client's connection (after the set-up). */
static int prepare(w7pg *p, int client)
{
    for (int i = 0; i < ST_COUNT && !p->prepared[client]; i++) {
        PGresult *res = PQprepare(p->conn[client], stmts[i].name, stmts[i].sql, 0, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            return fail_res(p->conn[client], res, stmts[i].sql);
        PQclear(res);
    }
    p->prepared[client] = 1;
    return 0;
}

static void put_be32(char *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    p[0] = (char)(u >> 24), p[1] = (char)(u >> 16), p[2] = (char)(u >> 8), p[3] = (char)u;
}

static int32_t get_be32(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

/* Runs a prepared statement with up to four int4 parameters in binary;
 * returns the rows it gave, or -1. */
static int run(void *conn, int which, int nparams, const int32_t *params)
{
    PGconn *c = conn;
    char buf[4][4];
    const char *values[4];
    static const int lengths[4] = {4, 4, 4, 4}, formats[4] = {1, 1, 1, 1};
    for (int i = 0; i < nparams; i++) {
        put_be32(buf[i], params[i]);
        values[i] = buf[i];
    }
    PGresult *res = PQexecPrepared(c, stmts[which].name, nparams, values, lengths, formats, 1);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return fail_res(c, res, stmts[which].sql);
    int rows = PQntuples(res);
    for (int i = 0; i < rows; i++)
        (void)get_be32(PQgetvalue(res, i, 0));
    PQclear(res);
    return rows;
}

static int w7pg_client(void *ctx, int client, long count, int scale, uint64_t *sum)
{
    w7pg *p = ctx;
    if (client >= p->nconn)
        return bench_fail("libpq", "W7", "more clients than connections");
    if (prepare(p, client))
        return -1;
    return bench_w7_script(run, p->conn[client], client, count, scale, sum);
}

static int w7pg_state(void *ctx, int64_t st[W7_STATE_FIELDS])
{
    PGconn *c = ((w7pg *)ctx)->conn[0];
    PGresult *res = PQexec(c, W7_SQL_STATE);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        return fail_res(c, res, "W7 state");
    for (int i = 0; i < W7_STATE_FIELDS; i++)
        st[i] = strtoll(PQgetvalue(res, 0, i), NULL, 10);
    PQclear(res);
    return 0;
}

const w7_side_ops bench_w7_pg_ops = {
    .exec = bench_w7_pg_exec,
    .run_client = w7pg_client,
    .state = w7pg_state,
    .close = w7pg_close,
};

/* ---- pgbench ------------------------------------------------------------------- */

typedef struct w7pgbench {
    char *conninfo;
    void *raw; /* reads the state */
} w7pgbench;

const char *bench_w7_pgbench_path(void)
{
    const char *env = getenv("DBAL_BENCH_PGBENCH");
    if (env && *env)
        return access(env, X_OK) == 0 ? env : NULL;
    const char *path = getenv("PATH");
    static char found[1024];
    for (const char *p = path ? path : "/usr/bin"; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(found, sizeof found, "%.*s/pgbench", (int)n, p);
        if (n && access(found, X_OK) == 0)
            return found;
        p += n + (p[n] == ':');
    }
    return NULL;
}

int bench_w7_pgbench_open(const char *conninfo, void *raw, void **ctx)
{
    w7pgbench *b = calloc(1, sizeof *b);
    if (!b || !(b->conninfo = strdup(conninfo))) {
        free(b);
        return bench_fail("pgbench", "open", "out of memory");
    }
    b->raw = raw;
    *ctx = b;
    return 0;
}

static void w7pgbench_close(void *ctx)
{
    w7pgbench *b = ctx;
    free(b->conninfo);
    free(b);
}

/* Runs pgbench and reads its output: the transactions processed and its tps
 * without the initial connection time. */
static int w7pgbench_run(void *ctx, int clients, long per_client, double *seconds)
{
    w7pgbench *b = ctx;
    char c_s[16], t_s[32], out[8192];
    snprintf(c_s, sizeof c_s, "%d", clients);
    snprintf(t_s, sizeof t_s, "%ld", per_client);
    const char *prog = bench_w7_pgbench_path();
    char *const argv[] = {"pgbench", "-n", "-M", "prepared", "-b", "tpcb-like", "-c",
                          c_s,       "-j", c_s,  "-t",       t_s,  b->conninfo, NULL};
    int fds[2];
    if (!prog || pipe(fds))
        return bench_fail("pgbench", "run", prog ? strerror(errno) : "not found");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(prog, argv);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t got;
    while (pid > 0 && (got = read(fds[0], out + len, sizeof out - 1 - len)) != 0)
        if (got > 0)
            len += (size_t)got;
        else if (errno != EINTR)
            break;
    out[len] = '\0';
    close(fds[0]);
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    long done = -1, want = clients * per_client;
    double tps = 0;
    const char *p = strstr(out, "number of transactions actually processed:");
    if (p)
        done = strtol(p + strlen("number of transactions actually processed:"), NULL, 10);
    if ((p = strstr(out, "tps = ")) && strstr(p, "without initial connection time"))
        tps = strtod(p + strlen("tps = "), NULL);
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || done != want || tps <= 0) {
        fprintf(stderr, "bench: pgbench: %ld of %ld transactions, its output:\n%s\n", done, want, out);
        return -1;
    }
    *seconds = (double)want / tps;
    return 0;
}

static int w7pgbench_state(void *ctx, int64_t st[W7_STATE_FIELDS])
{
    return bench_w7_pg_ops.state(((w7pgbench *)ctx)->raw, st);
}

const w7_side_ops bench_w7_pgbench_ops = {
    .run_all = w7pgbench_run,
    .state = w7pgbench_state,
    .close = w7pgbench_close,
};
