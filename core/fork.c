#include "fork.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static _Atomic pid_t cached; /* 0 until first asked */
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Runs in the child, alone, right after fork(): getpid() is safe there. */
static void in_child(void)
{
    atomic_store_explicit(&cached, getpid(), memory_order_relaxed);
}

static void start(void)
{
    pthread_atfork(NULL, NULL, in_child);
    atomic_store_explicit(&cached, getpid(), memory_order_relaxed);
}

pid_t dbal__pid(void)
{
    pid_t pid = atomic_load_explicit(&cached, memory_order_relaxed);
    if (pid == 0) {
        pthread_once(&once, start);
        pid = atomic_load_explicit(&cached, memory_order_relaxed);
    }
    return pid;
}
