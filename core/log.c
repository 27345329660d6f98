#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

/* Info lines only exist when asked for (echo=1), so they are printed too. */
static void to_stderr(void *userdata, dbal_log_level level, const char *line)
{
    static const char *const names[] = {"", "error", "warning", "info", "debug"};
    (void)userdata;
    if (level <= DBAL_LOG_INFO)
        fprintf(stderr, "dbal: %s: %s\n", names[level], line);
}

/* The pair is read and written together, under the lock: a log line must
 * never reach one hook with the other's userdata. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static dbal_log_fn log_fn = to_stderr;
static void *log_userdata;

void dbal_set_log(dbal_log_fn fn, void *userdata)
{
    pthread_mutex_lock(&log_lock);
    log_fn = fn;
    log_userdata = userdata;
    pthread_mutex_unlock(&log_lock);
}

void dbal__log(dbal_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    dbal_log_fn fn = log_fn;
    void *userdata = log_userdata;
    pthread_mutex_unlock(&log_lock);
    if (fn)
        fn(userdata, level, line);
}
