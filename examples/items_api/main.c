/*
 * items_api - an HTTP JSON service over dbal: the same binary on SQLite and
 * PostgreSQL, chosen by DATABASE_URL. See README.md.
 *
 * Startup: read the settings, open the engine (pool_pre_ping on), apply the
 * schema's migrations (migrations/, dbal_migrate_up), start the HTTP daemon. Then wait for SIGINT or SIGTERM;
 * stop the daemon (requests in flight finish) and close the engine.
 */
#include "app.h"
#include "config.h"
#include "http_server.h"
#include "item_store.h"
#include "log.h"
#include "unit_of_work.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>

static int check_schema_unit(dbal_session *s, void *ctx)
{
    (void)ctx;
    return item_store_check_schema(s);
}

static void log_migration(void *userdata, dbal_migrate_event ev, const dbal_migration *m)
{
    (void)userdata;
    if (ev == DBAL_MIGRATE_APPLIED)
        log_line("migrated: applied %lld %s (%s, %lld ms)", (long long)m->version, m->name, m->file,
                 (long long)m->duration_ms);
}

/* The schema: every pending migration applied (several instances starting
 * at once wait for one another), then the table checked. */
static int migrate(const config *cfg, dbal_engine *db)
{
    dbal_migrate_options mo;
    dbal_migrate_options_init(&mo);
    mo.progress = log_migration;
    dbal_error err;
    const char *driver = dbal_engine_driver(db);
    if (dbal_migrate_up(db, cfg->migrations_dir, 0, &mo, &err) != DBAL_OK) {
        log_line("cannot migrate the database (%s): %s (%s)", driver, err.message, dbal_code_name(err.code));
        return -1;
    }
    if (unit_of_work(db, "startup: schema", UNIT_READ_ONLY, check_schema_unit, NULL, &err) != DBAL_OK) {
        log_line("the items table is not the service's on %s: %s (%s)", driver, err.message,
                 dbal_code_name(err.code));
        return -1;
    }
    return 0;
}

/* The engine, with the options this service relies on set in code. */
static int open_engine(const config *cfg, dbal_engine **db)
{
    dbal_engine_options opts;
    dbal_engine_options_init(&opts);
    opts.pool_pre_ping = 1; /* a restarted database costs no failed request */
    dbal_error err;
    if (dbal_engine_open_with(db, cfg->database_url, &opts, &err) != DBAL_OK) {
        log_line("cannot open the database: %s", err.message); /* never holds the password */
        return -1;
    }
    if (migrate(cfg, *db) != 0) {
        dbal_engine_close(*db);
        *db = NULL;
        return -1;
    }
    return 0;
}

/* SIGINT and SIGTERM are blocked in every thread (the daemon's threads
 * inherit the mask) and taken by sigwait() in main. */
static void block_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int wait_for_stop_signal(const sigset_t *set)
{
    int sig = 0;
    while (sigwait(set, &sig) != 0)
        ;
    return sig;
}

int main(void)
{
    config cfg;
    char msg[256];
    if (config_from_env(&cfg, msg, sizeof msg)) {
        log_line("%s", msg);
        return 2;
    }
    sigset_t stop_signals;
    block_stop_signals(&stop_signals);
    json_object_seed(0); /* before any thread: jansson's hash seed */

    app a = {0};
    if (open_engine(&cfg, &a.db))
        return 1;
    http_server srv;
    if (http_server_start(&srv, &a, &cfg, msg, sizeof msg)) {
        log_line("%s", msg);
        dbal_engine_close(a.db);
        return 1;
    }
    printf("items_api: listening on http://%s:%u (database: %s)\n", cfg.host, srv.port,
           dbal_engine_driver(a.db));
    fflush(stdout);

    int sig = wait_for_stop_signal(&stop_signals);
    log_line("signal %d: stopping", sig);
    http_server_stop(&srv);
    int rc = dbal_engine_close(a.db);
    log_line("stopped%s", rc == DBAL_OK ? "" : " (sessions were still open)");
    return rc == DBAL_OK ? 0 : 1;
}
