#include <dbal.h>

/* include/dbal.h owns the version (cmake/DbalVersion.cmake reads it). */
_Static_assert(DBAL_VERSION_NUMBER ==
                   DBAL_VERSION_MAJOR * 10000 + DBAL_VERSION_MINOR * 100 + DBAL_VERSION_PATCH,
               "DBAL_VERSION_NUMBER is not major * 10000 + minor * 100 + patch");

int dbal_version_number(void)
{
    return DBAL_VERSION_NUMBER;
}

const char *dbal_version(void)
{
    return DBAL_VERSION;
}
