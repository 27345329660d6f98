/* What every target does to start a script on an empty database. */
#include "slt.h"

#include <stdio.h>
#include <unistd.h>

void slt_remove_db_files(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        char p[1100];
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

const char *slt_schema_step(const char *schema, int step, char *buf, size_t cap)
{
    switch (step) {
    case 0: snprintf(buf, cap, "SET client_min_messages = warning"); break;
    case 1: snprintf(buf, cap, "DROP SCHEMA IF EXISTS %s CASCADE", schema); break;
    case 2: snprintf(buf, cap, "CREATE SCHEMA %s", schema); break;
    case 3: snprintf(buf, cap, "SET search_path TO %s", schema); break;
    default: return NULL;
    }
    return buf;
}
