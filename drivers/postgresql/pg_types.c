/*
 * The type table of pg_types.h, one object per row, and its lookup.
 */
#include "pg_types.h"

#define PG_TYPE_ROW(id, name, oid, array, type, read_binary, copy_binary) \
    static const pg_type type_##id = {name, oid, array, type, read_binary, copy_binary};
PG_TYPE_MAP(PG_TYPE_ROW)
#undef PG_TYPE_ROW

static const pg_type other = {"", 0, 0, DBAL_TYPE_TEXT, 0, 0};

/* A switch, not a search: col_type asks once per value read. */
const pg_type *pg_type_of(Oid oid)
{
    switch (oid) {
#define PG_TYPE_CASE(id, name, oid, array, type, read_binary, copy_binary) \
    case PG_##id##OID: return &type_##id;
        PG_TYPE_MAP(PG_TYPE_CASE)
#undef PG_TYPE_CASE
    default: return &other;
    }
}

int pg_binary_fits(const dbal_value *v)
{
    if (v->u.i == INT64_MAX || v->u.i == INT64_MIN || v->type == DBAL_TYPE_TIME)
        return 1;
    if (v->type == DBAL_TYPE_DATE)
        return v->u.i > (int64_t)INT32_MIN + PG_EPOCH_DAYS && v->u.i < (int64_t)INT32_MAX + PG_EPOCH_DAYS;
    return v->u.i > INT64_MIN + PG_EPOCH_US;
}
