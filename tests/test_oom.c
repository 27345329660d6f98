/*
 * test_oom.c - out of memory at every allocation.
 *
 * dbal_set_allocator installs an allocator that counts every allocation
 * (malloc and realloc calls: "events") and the blocks alive, and fails the
 * Nth event. A representative scenario on sqlite::memory: (open the engine,
 * a session, create tables, insert with parameters in a transaction, query
 * and read every column, also as text, commit, a batch of 10 rows, a
 * callback batch of 17 columns, dbal_transact, close) runs once per N, for
 * N = 1 .. the number of events an undisturbed run makes, plus a few:
 *
 *   - every step succeeds or fails with DBAL_ENOMEM (or a code whose
 *     message says "out of memory"); no crash; the scenario stops at its
 *     first failure and closes what it opened;
 *   - then nothing dbal allocated is still alive, except the one registry
 *     entry of the loaded driver (drivers stay loaded until exit);
 *   - no directory of the in-memory database is left on disk;
 *   - the same scenario then runs again without failures and fully
 *     succeeds (the failure left no broken state behind, not even in the
 *     process-wide driver registry);
 *   - with N beyond the last event, the scenario fully succeeds.
 * A second pass fails every event from N on (memory stays short), not just
 * the Nth. A third case checks that every such failure came with a message.
 *
 * The allocator must be installed before the first dbal call of a process,
 * and the driver registry lives as long as the process, so each run is a
 * forked child of this (dbal-free) parent: every N starts from a fresh
 * process and also covers the first load of the driver.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_helpers.h"

#include <dbal.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static const char URL[] = "sqlite::memory:";

/* ------------------------------------------------------------ allocator */

enum { FAIL_NONE, FAIL_ONE, FAIL_FROM };
static atomic_long events, live;
static long fail_at;
static int fail_mode;
static atomic_int failed_once;

static int should_fail(long k)
{
    int f = (fail_mode == FAIL_ONE && k == fail_at) || (fail_mode == FAIL_FROM && k >= fail_at);
    if (f)
        atomic_store(&failed_once, 1);
    return f;
}

static void *t_malloc(size_t n)
{
    long k = atomic_fetch_add(&events, 1) + 1;
    if (should_fail(k))
        return NULL;
    void *p = malloc(n);
    if (p)
        atomic_fetch_add(&live, 1);
    return p;
}

static void *t_realloc(void *p, size_t n)
{
    long k = atomic_fetch_add(&events, 1) + 1;
    if (should_fail(k))
        return NULL;
    void *q = realloc(p, n);
    if (q && !p)
        atomic_fetch_add(&live, 1);
    return q;
}

static void t_free(void *p)
{
    if (p) {
        atomic_fetch_sub(&live, 1);
        free(p);
    }
}

/* ------------------------------------------------------------ what a child reports */

typedef struct report {
    long total_events; /* of an undisturbed scenario (set by the first child) */
    int failed_step;   /* the step that failed, or -1 */
    int rc;            /* its code */
    char step[64];
    char message[512];
    char problem[1400]; /* what was wrong, when the child exits non-zero */
    int empty_message;  /* an out-of-memory failure came without a message */
    char empty_step[64];
} report;

static report *shared;

/* ------------------------------------------------------------ scenario */

typedef struct run {
    int failed_step;
    int rc;
    const char *step;
    char message[512];
    int bad; /* a failure that was not out of memory, or a wrong result */
    char problem[600];
} run;

static int says_oom(int rc, const char *msg)
{
    return rc == DBAL_ENOMEM || (msg && strstr(msg, "out of memory"));
}

/* Records the outcome of step `name`; returns 1 to go on, 0 to stop. */
static int step(run *o, int *k, const char *name, int rc, const char *msg)
{
    (*k)++;
    if (rc == DBAL_OK)
        return 1;
    o->failed_step = *k;
    o->rc = rc;
    o->step = name;
    snprintf(o->message, sizeof o->message, "%s", msg ? msg : "");
    if (!says_oom(rc, msg)) {
        o->bad = 1;
        snprintf(o->problem, sizeof o->problem, "step %d (%s) failed with %s: %s", *k, name,
                 dbal_code_name(rc), msg ? msg : "");
    }
    return 0;
}

static int wrong(run *o, const char *what)
{
    o->bad = 1;
    snprintf(o->problem, sizeof o->problem, "wrong result: %s", what);
    return 0;
}

static int add_one(dbal_session *s, void *ud)
{
    (void)ud;
    return dbal_exec(s, "INSERT INTO items(id, name, price) VALUES (?, ?, ?)",
                     DBAL_ARGS(dbal_int64(100), dbal_text("unit of work"), dbal_double(1.25)), NULL);
}

static int wide_rows(void *ud, size_t row, dbal_value *values)
{
    (void)ud;
    if (row >= 3)
        return DBAL_DONE;
    for (int c = 0; c < 17; c++)
        values[c] = dbal_int64((int64_t)(row * 100 + (size_t)c));
    return DBAL_OK;
}

static void scenario(run *o)
{
    memset(o, 0, sizeof *o);
    o->failed_step = -1;
    int k = 0;
    dbal_engine *e = NULL;
    dbal_session *s = NULL;
    dbal_rows *r = NULL;
    dbal_error err;
    memset(&err, 0, sizeof err);
    int rc;

    rc = dbal_engine_open(&e, URL, &err);
    if (!step(o, &k, "dbal_engine_open", rc, err.message))
        goto out;
    rc = dbal_session_open(e, &s, &err);
    if (!step(o, &k, "dbal_session_open", rc, err.message))
        goto out;
#define S(name, call)                                               \
    do {                                                            \
        rc = (call);                                                \
        if (!step(o, &k, name, rc, dbal_session_error(s)->message)) \
            goto out;                                               \
    } while (0)
    S("create items", dbal_exec(s,
                                "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                                "price DOUBLE PRECISION, data BLOB)",
                                DBAL_NOARGS, NULL));
    S("create wide",
      dbal_exec(s,
                "CREATE TABLE wide(c1 INTEGER, c2 INTEGER, c3 INTEGER, c4 INTEGER, c5 INTEGER, "
                "c6 INTEGER, c7 INTEGER, c8 INTEGER, c9 INTEGER, c10 INTEGER, c11 INTEGER, "
                "c12 INTEGER, c13 INTEGER, c14 INTEGER, c15 INTEGER, c16 INTEGER, c17 INTEGER)",
                DBAL_NOARGS, NULL));
    S("begin", dbal_begin(s));
    int64_t affected = 0;
    S("insert with parameters", dbal_exec(s, "INSERT INTO items(id, name, price, data) VALUES (?, ?, ?, ?)",
                                          DBAL_ARGS(dbal_int64(1), dbal_text("widget"), dbal_double(9.5),
                                                    dbal_blob("\x01\x00\x02\x03", 4)),
                                          &affected));
    if (affected != 1 && !wrong(o, "insert affected"))
        goto out;
    S("savepoint", dbal_begin(s));
    S("insert in savepoint", dbal_exec(s, "INSERT INTO items(id, name) VALUES (?, ?)",
                                       DBAL_ARGS(dbal_int64(2), dbal_text("gadget")), NULL));
    S("release savepoint", dbal_commit(s));
    S("query", dbal_query(s, "SELECT id, name, price, data FROM items WHERE price < ?",
                          DBAL_ARGS(dbal_double(10)), &r));
    rc = dbal_rows_next(r);
    if (rc != DBAL_ROW) {
        if (!step(o, &k, "rows_next", rc, dbal_session_error(s)->message))
            goto out;
        wrong(o, "no row");
        goto out;
    }
    int64_t id = 0;
    const char *t = NULL;
    size_t len = 0;
    double d = 0;
    S("col_get_int64", dbal_col_get_int64(r, 0, &id));
    S("col_get_text", dbal_col_get_text(r, 1, &t, &len));
    if ((id != 1 || len != 6 || memcmp(t, "widget", 6) != 0) && !wrong(o, "row values"))
        goto out;
    S("col_get_double", dbal_col_get_double(r, 2, &d));
    S("double as text", dbal_col_get_text(r, 2, &t, &len));
    if ((d != 9.5 || strcmp(t, "9.5") != 0) && !wrong(o, "double"))
        goto out;
    S("blob as text", dbal_col_get_text(r, 3, &t, &len));
    if ((len != 4 || memcmp(t, "\x01\x00\x02\x03", 5) != 0) && !wrong(o, "blob as text"))
        goto out;
    S("int as text", dbal_col_get_text(r, 0, &t, &len));
    if (strcmp(t, "1") != 0 && !wrong(o, "int as text"))
        goto out;
    const void *b = dbal_col_blob(r, 3, &len);
    if ((!b || len != 4) && !wrong(o, "blob"))
        goto out;
    rc = dbal_rows_next(r);
    if (rc != DBAL_DONE) {
        if (!step(o, &k, "rows_next to the end", rc, dbal_session_error(s)->message))
            goto out;
        wrong(o, "more rows");
        goto out;
    }
    dbal_rows_close(r);
    r = NULL;
    S("commit", dbal_commit(s));

    dbal_value rows[10 * 3];
    char names[10][16];
    for (int i = 0; i < 10; i++) {
        snprintf(names[i], sizeof names[i], "item %d", i);
        rows[3 * i] = dbal_int64(10 + i);
        rows[3 * i + 1] = dbal_text(names[i]);
        rows[3 * i + 2] = dbal_double(i * 1.5);
    }
    size_t failed_row = 0;
    S("batch of 10", dbal_exec_batch(s, "INSERT INTO items(id, name, price) VALUES (?, ?, ?)", rows, 3, 10,
                                     &affected, &failed_row));
    if (affected != 10 && !wrong(o, "batch affected"))
        goto out;
    S("batch of 17 columns",
      dbal_exec_batch_fn(s, "INSERT INTO wide VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", 17,
                         wide_rows, NULL, &affected, &failed_row));
    memset(&err, 0, sizeof err);
    rc = dbal_transact(e, add_one, NULL, 2, &err);
    if (!step(o, &k, "dbal_transact", rc, err.message))
        goto out;
    S("count", dbal_query(s, "SELECT count(*), (SELECT count(*) FROM wide) FROM items", DBAL_NOARGS, &r));
    rc = dbal_rows_next(r);
    if (rc != DBAL_ROW) {
        if (!step(o, &k, "count rows_next", rc, dbal_session_error(s)->message))
            goto out;
    }
    if ((dbal_col_int64(r, 0) != 13 || dbal_col_int64(r, 1) != 3) && !wrong(o, "row count"))
        goto out;
#undef S
out:
    dbal_rows_close(r);
    dbal_session_close(s);
    if (e) {
        rc = dbal_engine_close(e);
        if (rc != DBAL_OK && !o->bad) {
            o->bad = 1;
            snprintf(o->problem, sizeof o->problem, "dbal_engine_close: %s", dbal_code_name(rc));
        }
    }
}

/* ------------------------------------------------------------ children */

/* Exit codes of a child. */
enum { C_OK = 0, C_BAD_CODE = 10, C_LEAK = 11, C_NO_RECOVERY = 12, C_FAILED_BEYOND = 13, C_DIR_LEFT = 14 };

static int child(int mode, long n)
{
    dbal_set_allocator(t_malloc, t_realloc, t_free); /* the first dbal call */
    dbal_set_log(NULL, NULL);
    fail_mode = mode;
    fail_at = n;
    run o;
    scenario(&o);
    long used = atomic_load(&events);
    fail_mode = FAIL_NONE;
    shared->failed_step = o.failed_step;
    shared->rc = o.rc;
    snprintf(shared->step, sizeof shared->step, "%s", o.step ? o.step : "");
    snprintf(shared->message, sizeof shared->message, "%s", o.message);
    if (o.failed_step >= 0 && says_oom(o.rc, o.message) && o.message[0] == '\0') {
        shared->empty_message = 1;
        snprintf(shared->empty_step, sizeof shared->empty_step, "%s", o.step);
    }
    if (mode == FAIL_NONE) {
        shared->total_events = used;
        if (o.failed_step >= 0) {
            snprintf(shared->problem, sizeof shared->problem,
                     "step %s failed with no allocation failing: %s %s", o.step, dbal_code_name(o.rc),
                     o.message);
            return C_BAD_CODE;
        }
    }
    if (o.bad) {
        snprintf(shared->problem, sizeof shared->problem, "%s", o.problem);
        return C_BAD_CODE;
    }
    if (mode == FAIL_ONE && n > shared->total_events && (o.failed_step >= 0 || atomic_load(&failed_once))) {
        snprintf(shared->problem, sizeof shared->problem, "failed beyond the last allocation: %s", o.step);
        return C_FAILED_BEYOND;
    }
    long after_failure = atomic_load(&live);
    /* Again, with all the memory it wants. */
    run again;
    scenario(&again);
    if (again.failed_step >= 0 || again.bad) {
        snprintf(shared->problem, sizeof shared->problem,
                 "after the failure, an undisturbed run failed at %s: %s %s", again.step ? again.step : "?",
                 dbal_code_name(again.rc), again.bad ? again.problem : again.message);
        return C_NO_RECOVERY;
    }
    long alive = atomic_load(&live);
    if (alive != 1 || after_failure > 1) {
        snprintf(shared->problem, sizeof shared->problem,
                 "%ld block(s) alive after the failed run, %ld after a second run (expected at most 1, then "
                 "exactly 1: the driver's registry entry)",
                 after_failure, alive);
        return C_LEAK;
    }
    return C_OK;
}

/* Runs child(mode, n) in a fresh process; returns its exit status, or
 * 1000 + the signal that killed it. */
static int spawn(int mode, long n)
{
    fflush(stdout);
    fflush(stderr);
    long total = shared->total_events;
    memset(shared, 0, sizeof *shared);
    shared->total_events = total;
    /* The child waits at a gate until directories a dead process of the
     * same pid left in /dev/shm are gone: pids wrap around (pid_max can be
     * 32768), and one of those would be taken for the child's. */
    int gate[2];
    if (pipe(gate) != 0)
        fail_msg("pipe failed");
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork failed");
    if (pid == 0) {
        /* cmocka catches these to report a test as failed and go on: a
         * crashing child must die of it instead */
        static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            signal(sigs[i], SIG_DFL);
        close(gate[1]);
        char go;
        if (read(gate[0], &go, 1) != 1)
            _exit(C_BAD_CODE);
        close(gate[0]);
        exit(child(mode, n)); /* exit, not _exit: sanitizers check at exit */
    }
    close(gate[0]);
    test_remove_memory_dirs(pid, NULL, 0);
    if (write(gate[1], "g", 1) != 1)
        fail_msg("write to the child failed");
    close(gate[1]);
    int st;
    if (waitpid(pid, &st, 0) != pid)
        fail_msg("waitpid failed");
    char dir[600];
    int left = test_remove_memory_dirs(pid, dir, sizeof dir);
    if (WIFSIGNALED(st))
        return 1000 + WTERMSIG(st);
    if (WEXITSTATUS(st) != C_OK && left) {
        size_t used = strlen(shared->problem);
        snprintf(shared->problem + used, sizeof shared->problem - used, "; and it left %s behind", dir);
    }
    if (WEXITSTATUS(st) == C_OK && left) {
        snprintf(shared->problem, sizeof shared->problem,
                 "%d directory(ies) of in-memory databases left behind, e.g. %s (the failing step: %s: %s)",
                 left, dir, shared->step[0] ? shared->step : "none", shared->message);
        return C_DIR_LEFT;
    }
    return WEXITSTATUS(st);
}

static char empty_messages[4096];

static void sweep(int mode)
{
    int st = spawn(FAIL_NONE, 0);
    if (st != C_OK)
        fail_msg("the undisturbed scenario failed (%d): %s", st, shared->problem);
    long total = shared->total_events;
    assert_true(total > 20);
    print_message("%s: %ld allocations in an undisturbed run\n",
                  mode == FAIL_ONE ? "fail the Nth" : "fail from the Nth on", total);
    int bad = 0;
    long last = mode == FAIL_ONE ? total + 5 : total;
    for (long n = 1; n <= last; n++) {
        st = spawn(mode, n);
        if (shared->empty_message && strlen(empty_messages) + 80 < sizeof empty_messages) {
            char line[128];
            snprintf(line, sizeof line, "  N=%ld (%s): %s without a message\n", n, shared->empty_step,
                     dbal_code_name(shared->rc));
            strcat(empty_messages, line);
        }
        if (st == C_OK)
            continue;
        bad++;
        if (bad <= 10) {
            if (st >= 1000)
                print_error("N=%ld: crashed with signal %d (failing step: %s)\n", n, st - 1000, shared->step);
            else
                print_error("N=%ld: exit %d: %s\n", n, st,
                            shared->problem[0] ? shared->problem : "(see above)");
        }
    }
    if (bad)
        fail_msg("%d of %ld runs went wrong", bad, last);
}

static void oom_fail_each_allocation_once(void **state)
{
    (void)state;
    sweep(FAIL_ONE);
}

static void oom_fail_from_each_allocation_on(void **state)
{
    (void)state;
    sweep(FAIL_FROM);
}

static void oom_failures_have_messages(void **state)
{
    (void)state;
    if (empty_messages[0])
        fail_msg("out-of-memory failures without a message:\n%s", empty_messages);
}

int main(void)
{
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    memset(shared, 0, sizeof *shared);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oom_fail_each_allocation_once),
        cmocka_unit_test(oom_fail_from_each_allocation_on),
        cmocka_unit_test(oom_failures_have_messages),
    };
    return cmocka_run_group_tests_name("oom[sqlite::memory:]", tests, NULL, NULL);
}
