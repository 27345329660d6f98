/* The checks of parameter values (values.h). */
#include "values.h"

#include "decimal.h"
#include "datetime.h"

int dbal__value_check(const dbal_driver *d, const dbal_value *v, const char **why, const char **sqlstate)
{
    *sqlstate = NULL;
    if ((unsigned)v->type > DBAL_TYPE_JSON) {
        *why = "has no valid type";
        return DBAL_EINVAL;
    }
    if (v->type >= DBAL_TYPE_TEXT && v->type != DBAL_TYPE_TIMESTAMP && v->type != DBAL_TYPE_TIMESTAMPTZ &&
        v->type != DBAL_TYPE_DATE && v->type != DBAL_TYPE_TIME && !v->u.p) {
        *why = "has bytes at a NULL pointer";
        return DBAL_EINVAL;
    }
    if (v->type <= DBAL_TYPE_BLOB)
        return DBAL_OK;
    /* A driver built before these types would take the value for one it
     * knows and read u.i as a pointer: refuse before it is called. */
    if (d->abi_version < DBAL_DRIVER_TYPES_SINCE) {
        *why = "has a type its driver's ABI version predates (pass it as text)";
        return DBAL_EUNSUPPORTED;
    }
    dbal__num n;
    switch (v->type) {
    case DBAL_TYPE_UUID:
        if (v->len != 16) {
            *why = "is a UUID of other than 16 bytes";
            return DBAL_EINVAL;
        }
        break;
    case DBAL_TYPE_NUMERIC:
        if (dbal__num_scan(v->u.s, v->len, &n) != DBAL_OK) {
            *why = "is not numeric text";
            *sqlstate = "22P02";
            return DBAL_EDATA;
        }
        break;
    case DBAL_TYPE_TIME:
        if (v->u.i < 0 || v->u.i > DBAL__US_PER_DAY) {
            *why = "is a time out of 00:00:00 to 24:00:00";
            *sqlstate = "22008";
            return DBAL_EDATA;
        }
        break;
    default: break;
    }
    return DBAL_OK;
}
