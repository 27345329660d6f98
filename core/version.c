#include <dbal.h>

int dbal_version_number(void)
{
    return DBAL_VERSION_NUMBER;
}

const char *dbal_version(void)
{
    return DBAL_VERSION;
}
