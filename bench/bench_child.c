/*
 * Measurements that need a fresh process (W6's peak RSS, W8's memory per
 * connection and statement): this program exec'd again with a --wN-child
 * argument, which prints its numbers on one line of its standard output.
 */
#include "bench_run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int bench_child(const char *self, char *const argv[], long *vals, int nvals)
{
    int fds[2];
    if (pipe(fds))
        return bench_fail("bench", "pipe", strerror(errno));
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return bench_fail("bench", "fork", strerror(errno));
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        /* argv[0] rather than /proc/self/exe, which is valgrind itself
         * when the parent runs under it. */
        if (strchr(self, '/'))
            execv(self, argv);
        else
            execvp(self, argv);
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    int got = 0;
    while (f && got < nvals && fscanf(f, "%ld", &vals[got]) == 1)
        got++;
    if (f)
        fclose(f);
    else
        close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return got == nvals && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

long bench_status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            kb = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}
