/*
 * The home of sqlite::memory: a private directory on tmpfs (RAM), made with
 * mkdtemp (0700, so no other user can plant files in it) and removed when
 * the engine closes.
 *
 * A process that dies without closing its engine leaves its directory
 * behind, and pids are reused, so the pid in the name cannot tell a stale
 * directory from a live one. Each directory holds a file `lock` that its
 * engine keeps open with flock(LOCK_EX): the lock lives as long as some
 * process has that open file description (a forked child shares it, so a
 * child still running keeps its parent's directory), and the kernel drops
 * it when the last one exits, however it exits. Opening a memory engine
 * sweeps the base directory: a dbal-memory-* directory of this user whose
 * lock nobody holds, untouched for a minute (a directory being made has no
 * lock yet), is removed. Directories of dbal versions without the lock file
 * are removed only when the process named in them is gone.
 */
#include "sqlite_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PREFIX "dbal-memory-"
/* How long a directory must have been left alone before a sweep may take
 * it: a directory being made is new, and its lock comes microseconds later. */
#define STALE_SECONDS 60

static const char *const files[] = {"memory.db", "memory.db-wal", "memory.db-shm", "memory.db-journal",
                                    "lock"};

static void remove_files(const char *dir)
{
    char path[640];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* One candidate of the sweep; dir is base/name. */
static void sweep_one(const char *dir, const char *name)
{
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
        time(NULL) - st.st_mtime < STALE_SECONDS)
        return;
    char path[640];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        /* No lock file: an older dbal's, removable once its process is
         * gone (a reused pid keeps it: the safe side). */
        long pid = strtol(name + sizeof PREFIX - 1, NULL, 10);
        if (errno == ENOENT && pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            remove_files(dir);
        return;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        remove_files(dir); /* under the lock: no engine can take it now */
    close(fd);
}

void sq_memdir_sweep(const char *base)
{
    DIR *d = opendir(base);
    if (!d)
        return;
    char dir[600];
    for (struct dirent *ent; (ent = readdir(d)) != NULL;)
        if (strncmp(ent->d_name, PREFIX, sizeof PREFIX - 1) == 0 &&
            snprintf(dir, sizeof dir, "%s/%s", base, ent->d_name) < (int)sizeof dir)
            sweep_one(dir, ent->d_name);
    closedir(d);
}

/* The directory and its lock, held on *lock_fd. */
static int make_in(const char *base, char *dir, size_t cap, int *lock_fd)
{
    /* The pid in the name tells whose it is, to a person looking. */
    if (snprintf(dir, cap, "%s/" PREFIX "%ld-XXXXXX", base, (long)getpid()) >= (int)cap ||
        access(base, W_OK) != 0 || !mkdtemp(dir))
        return -1;
    char path[640];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (fd >= 0)
            close(fd);
        remove_files(dir);
        return -1;
    }
    *lock_fd = fd;
    return 0;
}

char *sq_memdir_make(int *lock_fd, int *oom)
{
    const char *tmp = getenv("TMPDIR");
    const char *bases[] = {"/dev/shm", tmp && *tmp ? tmp : "/tmp", "/tmp"};
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        char dir[512];
        if (make_in(bases[i], dir, sizeof dir, lock_fd) != 0)
            continue;
        sq_memdir_sweep(bases[i]);
        size_t n = strlen(dir) + 1;
        char *copy = sq_host->malloc(n);
        if (!copy) {
            close(*lock_fd);
            remove_files(dir);
            *oom = 1;
            return NULL;
        }
        memcpy(copy, dir, n);
        return copy;
    }
    return NULL;
}

void sq_memdir_remove(const char *dir, int lock_fd)
{
    remove_files(dir);
    if (lock_fd >= 0)
        close(lock_fd);
}

int sq_memdir_in_ram(const sq_engine *e)
{
    return e->memory && e->memdir && strncmp(e->memdir, "/dev/shm/", 9) == 0;
}
