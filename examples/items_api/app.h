/* app.h - what every handler shares: the engine (and its pool). */
#ifndef ITEMS_API_APP_H
#define ITEMS_API_APP_H

#include <dbal.h>

typedef struct app {
    dbal_engine *db;
} app;

#endif
