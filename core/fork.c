#include "fork.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

_Atomic pid_t dbal__pid_known;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Runs in the child, alone, right after fork(): getpid() is safe there. */
static void in_child(void)
{
    atomic_store_explicit(&dbal__pid_known, getpid(), memory_order_relaxed);
}

static void start(void)
{
    pthread_atfork(NULL, NULL, in_child);
    atomic_store_explicit(&dbal__pid_known, getpid(), memory_order_relaxed);
}

pid_t dbal__pid_first(void)
{
    pthread_once(&once, start);
    return atomic_load_explicit(&dbal__pid_known, memory_order_relaxed);
}
