/*
 * dbal_params.h - PARAM arguments to dbal_value: text unless the argument
 * starts with one of the type prefixes int:, float:, bool:, null:, text:,
 * blob:, ts:, tstz:, date:, time:, num:, uuid:, json: (see --help).
 */
#ifndef DBAL_PARAMS_H
#define DBAL_PARAMS_H

#include <dbal.h>

typedef struct cli_params {
    dbal_value *values;
    size_t count;
    void **owned; /* decoded blobs and UUIDs, one slot per value (NULL when none) */
} cli_params;

/* Parses n arguments. Returns 0, or -1 after reporting a usage error. */
int params_parse(const char *const *args, int n, cli_params *out);
void params_free(cli_params *p);

#endif /* DBAL_PARAMS_H */
