/*
 * Ctrl-C in the interactive shell cancels the running statement instead of
 * ending the program. dbal_session_cancel() takes a lock, so it must not be
 * called from a signal handler: the handler writes a byte to a pipe and a
 * watcher thread makes the call.
 */
#include "dbal_interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static int fds[2] = {-1, -1};
static pthread_t watcher;
static dbal_session *session;
static atomic_int running; /* a statement is running: Ctrl-C cancels it */
static struct sigaction previous;

static void on_sigint(int sig)
{
    (void)sig;
    char one = 1;
    ssize_t n = write(fds[1], &one, 1);
    (void)n;
}

static void *watch(void *arg)
{
    (void)arg;
    char c;
    while (read(fds[0], &c, 1) == 1 && c == 1)
        if (atomic_load(&running))
            dbal_session_cancel(session);
    return NULL;
}

int interrupt_start(dbal_session *s)
{
    if (pipe(fds) != 0)
        return -1;
    session = s;
    /* The watcher must never take the signal itself. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(&watcher, NULL, watch, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        close(fds[0]);
        close(fds[1]);
        fds[0] = fds[1] = -1;
        return -1;
    }
    return 0;
}

void interrupt_arm(void)
{
    if (fds[1] < 0)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    atomic_store(&running, 1);
    sigaction(SIGINT, &sa, &previous);
}

void interrupt_disarm(void)
{
    if (fds[1] < 0)
        return;
    sigaction(SIGINT, &previous, NULL);
    atomic_store(&running, 0);
}

void interrupt_stop(void)
{
    if (fds[1] < 0)
        return;
    char zero = 0;
    ssize_t n = write(fds[1], &zero, 1);
    (void)n;
    pthread_join(watcher, NULL);
    close(fds[0]);
    close(fds[1]);
    fds[0] = fds[1] = -1;
}
