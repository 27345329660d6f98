/*
 * Parameter values as the core checks them before any driver sees them,
 * on every path (statements, batches, the asynchronous API), so that a
 * value refused on one driver is refused on all with the same code.
 */
#ifndef DBAL_CORE_VALUES_H
#define DBAL_CORE_VALUES_H

#include <dbal/driver.h>

/* Whether driver d may be given v: DBAL_OK, or the code with *why (static
 * text to follow "parameter N ") and *sqlstate (NULL when none):
 * DBAL_EINVAL (no valid type, a NULL pointer, a UUID not of 16 bytes),
 * DBAL_EUNSUPPORTED (a type the driver's ABI version predates), DBAL_EDATA
 * (numeric text that is no number, a time out of its day). */
int dbal__value_check(const dbal_driver *d, const dbal_value *v, const char **why, const char **sqlstate);

/* The text of v into buf (48 bytes, DBAL_VALUE_TEXT_MAX) for the types
 * whose text is bounded: bools "t"/"f", numbers, dates and times, UUIDs,
 * as the text getter gives them. DBAL_ETYPE for others (text-like bytes
 * are their own text) and for a time out of its day. */
int dbal__value_text(const dbal_value *v, char *buf, size_t *n);

#endif
