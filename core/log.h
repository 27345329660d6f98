/* The process-wide log hook. */
#ifndef DBAL_CORE_LOG_H
#define DBAL_CORE_LOG_H

#include <dbal.h>

void dbal__log(dbal_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
