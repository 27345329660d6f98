/* The one-shot commands: query, exec, ping. */
#include "dbal_cli.h"
#include "dbal_params.h"

/* [URL] SQL [PARAM...] */
typedef struct statement_args {
    const char *url;
    const char *sql;
    cli_params params;
} statement_args;

static int statement_args_parse(const cli_args *a, statement_args *s)
{
    int i = 0;
    s->url = NULL;
    if (a->npos > 0 && cli_is_url(a->pos[0]))
        s->url = a->pos[i++];
    if (i >= a->npos) {
        report_usage("%s needs SQL: dbal %s [URL] SQL [PARAM...]", a->command, a->command);
        return EXIT_USAGE;
    }
    s->sql = a->pos[i++];
    if (!(s->url = cli_url(s->url)))
        return EXIT_USAGE;
    if (params_parse(a->pos + i, a->npos - i, &s->params) != 0)
        return EXIT_USAGE;
    return EXIT_OK;
}

static dbal_params as_params(const cli_params *p)
{
    return dbal_params_array(p->values, p->count);
}

int cmd_query(const cli_args *a)
{
    statement_args s;
    int code = statement_args_parse(a, &s);
    if (code != EXIT_OK)
        return code;
    cli_db db;
    code = db_open(&db, s.url);
    if (code == EXIT_OK) {
        if (run_query(&db, s.sql, as_params(&s.params), &a->out, stdout) != DBAL_OK)
            code = report_db_error(&db);
        db_close(&db);
    }
    params_free(&s.params);
    return code;
}

int cmd_exec(const cli_args *a)
{
    statement_args s;
    int code = statement_args_parse(a, &s);
    if (code != EXIT_OK)
        return code;
    cli_db db;
    code = db_open(&db, s.url);
    if (code == EXIT_OK) {
        int64_t affected = 0;
        if (run_exec(&db, s.sql, as_params(&s.params), &affected) == DBAL_OK)
            out_affected(stdout, &a->out, affected);
        else
            code = report_db_error(&db);
        db_close(&db);
    }
    params_free(&s.params);
    return code;
}

/* Connects and runs SELECT 1 twice: the first answer includes loading the
 * driver and connecting, the second is one round trip. */
int cmd_ping(const cli_args *a)
{
    if (a->npos > 1) {
        report_usage("ping takes only a URL: dbal ping [URL]");
        return EXIT_USAGE;
    }
    const char *url = cli_url(a->npos ? a->pos[0] : NULL);
    if (!url)
        return EXIT_USAGE;
    cli_db db;
    double t0 = now_ms();
    int code = db_open(&db, url);
    if (code != EXIT_OK)
        return code;
    double connect = 0, rtt = 0;
    int rc = run_exec(&db, "SELECT 1", DBAL_NOARGS, NULL);
    if (rc == DBAL_OK) {
        double t1 = now_ms();
        connect = t1 - t0;
        rc = run_exec(&db, "SELECT 1", DBAL_NOARGS, NULL);
        rtt = now_ms() - t1;
    }
    if (rc != DBAL_OK) {
        code = report_db_error(&db);
        db_close(&db);
        return code;
    }
    const char *driver = dbal_engine_driver(db.engine);
    switch (a->out.format) {
    case OUT_TABLE:
        printf("ok (%s): connected in %.3g ms, round trip %.3g ms\n", driver, connect, rtt);
        break;
    case OUT_CSV:
        printf("status,driver,connect_ms,round_trip_ms\nok,%s,%.6f,%.6f\n", driver, connect, rtt);
        break;
    case OUT_JSON:
        printf("{\"status\": \"ok\", \"driver\": \"%s\", \"connect_ms\": %.6f, \"round_trip_ms\": %.6f}\n",
               driver, connect, rtt);
        break;
    }
    db_close(&db);
    return EXIT_OK;
}
