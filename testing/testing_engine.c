/*
 * testing_engine.c - the testing driver's URLs and engines, and its
 * commands (dbal_engine_control) behind the isolation and fault calls.
 */
#include <dbal/testing.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(dbal_error *err, int code, const char *why)
{
    if (err) {
        memset(err, 0, sizeof *err);
        err->code = code;
        snprintf(err->message, sizeof err->message, "%s", why);
    }
    return code;
}

int dbal_testing_url(const char *url, char *out, size_t cap)
{
    if (!url || !out || cap == 0)
        return DBAL_EURL;
    out[0] = '\0';
    size_t slen = strcspn(url, ":+");
    if (slen == 0 || url[slen] == '\0')
        return DBAL_EURL;
    const char *rest = url + slen;
    const char *inner = NULL;
    size_t ilen = 0;
    if (*rest == '+') {
        inner = rest + 1;
        ilen = strcspn(inner, ":");
        rest = inner + ilen;
        if (*rest != ':' ||
            (ilen == strlen(DBAL_TESTING_DRIVER) && strncmp(inner, DBAL_TESTING_DRIVER, ilen) == 0))
            return DBAL_EURL;
    }
    const char *sep = strchr(rest, '?') ? "&" : "?";
    int n = inner ? snprintf(out, cap, "%.*s+" DBAL_TESTING_DRIVER "%s%sinner=%.*s", (int)slen, url, rest,
                             sep, (int)ilen, inner)
                  : snprintf(out, cap, "%.*s+" DBAL_TESTING_DRIVER "%s", (int)slen, url, rest);
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
        return DBAL_ERANGE;
    }
    return DBAL_OK;
}

int dbal_testing_engine_open(dbal_engine **out, const char *url, const dbal_engine_options *opts,
                             dbal_error *err)
{
    if (out)
        *out = NULL;
    size_t cap = url ? strlen(url) + 64 : 1;
    char *turl = malloc(cap);
    if (!turl)
        return fail(err, DBAL_ENOMEM, "out of memory");
    int rc = dbal_testing_url(url, turl, cap);
    if (rc == DBAL_OK)
        rc = dbal_engine_open_with(out, turl, opts, err);
    else
        fail(err, rc, "dbal_testing_engine_open: the URL has no scheme, or names the testing driver already");
    free(turl);
    return rc;
}

static int command(dbal_engine *e, const char *cmd, char *reply, size_t cap, dbal_error *err)
{
    return dbal_engine_control(e, cmd, reply, cap, err);
}

int dbal_testing_isolate(dbal_engine *e, dbal_error *err)
{
    return command(e, "isolate begin", NULL, 0, err);
}

int dbal_testing_mark(dbal_engine *e, dbal_error *err)
{
    return command(e, "isolate mark", NULL, 0, err);
}

int dbal_testing_rollback(dbal_engine *e, dbal_error *err)
{
    return command(e, "isolate rollback", NULL, 0, err);
}

int dbal_testing_end(dbal_engine *e, dbal_error *err)
{
    return command(e, "isolate end", NULL, 0, err);
}

int dbal_testing_fault_add(dbal_engine *e, const char *spec, int *id, dbal_error *err)
{
    if (id)
        *id = 0;
    if (!spec)
        return fail(err, DBAL_EINVAL, "dbal_testing_fault_add: spec is NULL");
    size_t len = strlen(spec) + 8;
    char *cmd = malloc(len);
    if (!cmd)
        return fail(err, DBAL_ENOMEM, "out of memory");
    snprintf(cmd, len, "fault %s", spec);
    char reply[32];
    int rc = command(e, cmd, reply, sizeof reply, err);
    free(cmd);
    if (rc == DBAL_OK && id)
        *id = atoi(reply);
    return rc;
}

int dbal_testing_fault_clear(dbal_engine *e, dbal_error *err)
{
    return command(e, "fault clear", NULL, 0, err);
}

long dbal_testing_fault_fired(dbal_engine *e, int id)
{
    char cmd[32], reply[32];
    snprintf(cmd, sizeof cmd, "fired %d", id);
    if (command(e, id ? cmd : "fired", reply, sizeof reply, NULL) != DBAL_OK)
        return -1;
    return atol(reply);
}
