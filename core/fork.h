/*
 * fork(): a connection belongs to the process that opened it, the rule
 * libpq and SQLAlchemy document. A child inherits copies of its parent's
 * engines, sessions and connections, but a copied connection still speaks
 * for the parent: its socket is the parent's, its SQLite locks are the
 * parent's. The core records which process opened each connection and
 * never lets another process send on it, end it or remove what it uses.
 */
#ifndef DBAL_CORE_FORK_H
#define DBAL_CORE_FORK_H

#include <stdatomic.h>
#include <sys/types.h>

/* The calling process's id. Cheap enough for every statement and every
 * row: getpid() is a system call, so the value is kept and renewed in a
 * child by a pthread_atfork() handler (a child made without fork(), by a
 * raw clone, is not seen); inline, one load once known. Any thread. */
extern _Atomic pid_t dbal__pid_known; /* 0 until first asked */
pid_t dbal__pid_first(void);
static inline pid_t dbal__pid(void)
{
    pid_t pid = atomic_load_explicit(&dbal__pid_known, memory_order_relaxed);
    return pid ? pid : dbal__pid_first();
}

#endif
