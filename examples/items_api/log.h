/* log.h - one line per call to stderr, whole lines even from many threads. */
#ifndef ITEMS_API_LOG_H
#define ITEMS_API_LOG_H

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
void log_line(const char *fmt, ...);

#endif
