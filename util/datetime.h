/*
 * datetime.h - dates and times without the C library's clock: the
 * proleptic Gregorian calendar by arithmetic on day numbers, and the text
 * forms dbal writes and reads. Nothing here looks at TZ, the locale or
 * the time zone database, so a value means the same in every process.
 *
 * Day numbers count from 1970-01-01 (day 0); years are astronomical (year
 * 0 is 1 BC). Timestamps are microseconds since 1970-01-01 00:00:00, with
 * INT64_MAX and INT64_MIN for +infinity and -infinity (dates too).
 */
#ifndef DBAL_UTIL_DATETIME_H
#define DBAL_UTIL_DATETIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DBAL__US_PER_DAY INT64_C(86400000000)
/* Room for any text this file writes, with its NUL. */
#define DBAL__DT_BUF 48

/* Day numbers the arithmetic below takes (beyond, its sums overflow): far
 * past any calendar's use. */
#define DBAL__MAX_DAYS (INT64_C(1) << 62)

/* The day number of y-m-d; the fields must be valid (dbal__valid_ymd). */
int64_t dbal__days_from_civil(int64_t y, int m, int d);
/* The date of day number z. */
void dbal__civil_from_days(int64_t z, int64_t *y, int *m, int *d);
/* Whether m and d name a day of year y. */
bool dbal__valid_ymd(int64_t y, int m, int d);

/* Splits a timestamp into its day number and the microseconds since that
 * day's midnight (floor division: before 1970 too). */
void dbal__split_timestamp(int64_t us, int64_t *days, int64_t *tod);

/*
 * The text forms, written to buf (DBAL__DT_BUF bytes) with a NUL; each
 * returns the length. Fractions always have six digits, so that text
 * order is time order for years 0 to 9999; years beyond take more digits,
 * years before 0 a minus sign.
 *   date         "YYYY-MM-DD", "infinity", "-infinity" (0 returned past
 *                DBAL__MAX_DAYS)
 *   time         "HH:MM:SS.ffffff" (0 to 24:00:00; 0 returned outside)
 *   timestamp    "YYYY-MM-DD HH:MM:SS.ffffff", and "+00:00" after it when
 *                tz is set (the instant in UTC)
 * dbal__format_day_time is a timestamp given as day number and time of
 * day, for instants an int64 of microseconds since 1970 cannot hold.
 */
size_t dbal__format_date(int64_t days, char *buf);
size_t dbal__format_time(int64_t us, char *buf);
size_t dbal__format_timestamp(int64_t us, bool tz, char *buf);
size_t dbal__format_day_time(int64_t days, int64_t tod, bool tz, char *buf);

/* What a date/time text says, before it is made one number. */
typedef struct dbal__dt {
    int inf;         /* +1 "infinity", -1 "-infinity", else 0 */
    bool has_date;   /* a date came first */
    bool has_time;   /* a time of day came (after the date, or alone) */
    bool has_offset; /* a UTC offset or Z followed the time */
    int64_t days;    /* the date's day number */
    int64_t tod;     /* microseconds since midnight, up to 24:00:00 */
    int32_t offset;  /* seconds east of UTC */
} dbal__dt;

/*
 * Reads ISO 8601 as dbal, PostgreSQL (DateStyle ISO) and SQLite write it:
 * [-]YYYY-MM-DD, then optionally 'T' or ' ' and HH:MM[:SS[.f...]] (up to
 * six fraction digits), then optionally Z or +-HH[:MM[:SS]] (a space may
 * come before it), then optionally " BC"; a time alone; "infinity",
 * "-infinity". Returns DBAL_OK, DBAL_ETYPE (not such a text) or DBAL_ERANGE
 * (a year of more than seven digits).
 */
int dbal__parse_dt(const char *s, size_t len, dbal__dt *out);

/* The instant of a parsed text with a date: offsets applied, a date alone
 * at midnight. DBAL_ETYPE without a date, DBAL_ERANGE past int64. */
int dbal__dt_timestamp(const dbal__dt *dt, int64_t *us);

/* The date of a parsed text: a date alone, or a timestamp at exactly
 * midnight (after its offset is applied); the infinities. DBAL_ETYPE
 * otherwise. */
int dbal__dt_date(const dbal__dt *dt, int64_t *days);
/* The time of day of a parsed text that is a time alone, without an
 * offset; DBAL_ETYPE otherwise. */
int dbal__dt_time(const dbal__dt *dt, int64_t *us);
/* The day of a timestamp that is exactly a midnight (an infinity stays
 * one); DBAL_ETYPE otherwise. */
int dbal__timestamp_date(int64_t us, int64_t *days);

/* Text read as the int64 of a dbal type: DBAL_TYPE_DATE (dbal__dt_date),
 * DBAL_TYPE_TIME (dbal__dt_time), else a timestamp (dbal__dt_timestamp).
 * DBAL_OK, DBAL_ETYPE or DBAL_ERANGE. */
int dbal__dt_read(int kind, const char *s, size_t len, int64_t *out);

/* UUIDs: 36 lower-case characters and a NUL into buf (37 bytes), returns
 * 36; reading takes 32 hex digits in either case, a hyphen allowed after
 * any group of four, the whole optionally in braces, as PostgreSQL does.
 * DBAL_OK or DBAL_ETYPE. */
size_t dbal__format_uuid(const unsigned char u[16], char *buf);
int dbal__parse_uuid(const char *s, size_t len, unsigned char out[16]);

#endif
