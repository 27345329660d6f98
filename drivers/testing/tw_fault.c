/*
 * tw_fault.c - fault rules: what fails, where, and how often.
 *
 *   ACTION[:ARG]@POINT[#N][*COUNT][~TEXT]
 *
 * ACTION is one of the table below (ARG: a constraint name, a delay's
 * milliseconds, or error's SQLSTATE); POINT is statement, begin, commit,
 * rollback, connect or checkout. The rule fires at the Nth event at POINT
 * counted from when it was added (default 1: the next), then COUNT times
 * in all (default 1; "always": every event from then on); ~TEXT limits it
 * to statements whose SQL contains TEXT, in any case. TEXT is last, so it
 * may hold any character. README, "Testing your application", has the
 * table with each action's code and SQLSTATE.
 */
#include "tw.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tw_rule {
    tw_rule *next;
    int point;
    long nth;   /* fires from the nth event that matches */
    long times; /* in all; 0 = always */
    char *text; /* NULL: any statement */
    long seen;
    long fired;
    tw_fault fault;
};

enum { ARG_NONE, ARG_CONSTRAINT, ARG_MS, ARG_SQLSTATE };

typedef struct action_def {
    const char *name;
    int action;
    int code;
    const char *sqlstate;
    int arg;
    const char *message; /* a constraint's name follows in quotes */
} action_def;

/* The messages are PostgreSQL's, so code that looks at them sees what
 * the server would say. */
static const action_def actions[] = {
    {"unique", TW_FAIL, DBAL_EUNIQUE, "23505", ARG_CONSTRAINT,
     "duplicate key value violates unique constraint"},
    {"foreignkey", TW_FAIL, DBAL_EFOREIGNKEY, "23503", ARG_CONSTRAINT,
     "insert or update violates foreign key constraint"},
    {"notnull", TW_FAIL, DBAL_ENOTNULL, "23502", ARG_CONSTRAINT, "null value violates not-null constraint"},
    {"check", TW_FAIL, DBAL_ECHECK, "23514", ARG_CONSTRAINT, "new row violates check constraint"},
    {"serialization", TW_FAIL, DBAL_ESERIALIZATION, "40001", ARG_NONE,
     "could not serialize access due to concurrent update"},
    {"deadlock", TW_FAIL, DBAL_EDEADLOCK, "40P01", ARG_NONE, "deadlock detected"},
    {"busy", TW_FAIL, DBAL_EBUSY, "55P03", ARG_NONE, "could not obtain lock"},
    {"timeout", TW_FAIL, DBAL_ETIMEOUT, "57014", ARG_NONE, "canceling statement due to statement timeout"},
    {"canceled", TW_FAIL, DBAL_ECANCELED, "57014", ARG_NONE, "canceling statement due to user request"},
    {"readonly", TW_FAIL, DBAL_EREADONLY, "25006", ARG_NONE, "cannot execute in a read-only transaction"},
    {"lost", TW_LOST, DBAL_ECONNLOST, "08006", ARG_NONE, "server closed the connection unexpectedly"},
    {"lost_after", TW_LOST_AFTER, DBAL_ECONNLOST, "08006", ARG_NONE,
     "server closed the connection unexpectedly"},
    {"refused", TW_FAIL, DBAL_ECONNECT, "08001", ARG_NONE,
     "could not connect to the server: Connection refused"},
    {"pool", TW_FAIL, DBAL_EPOOLTIMEOUT, "", ARG_NONE, "timed out waiting for a pooled connection"},
    {"delay", TW_DELAY, DBAL_OK, "", ARG_MS, ""},
    {"error", TW_FAIL, DBAL_ERROR, "", ARG_SQLSTATE, "an error with SQLSTATE"},
};

static const char *const points[] = {"", "statement", "begin", "commit", "rollback", "connect", "checkout"};

/* The spec is quoted last: an engine's error hides the URL's parameter
 * values when the URL could hold a password, and the reason must stay. */
static int bad_part(dbal_error *err, const char *spec, const char *why, const char *part, size_t len)
{
    tw_host->set_error(err, DBAL_EINVAL, NULL, 0,
                       "testing driver: %s%s%.*s%s (ACTION[:ARG]@POINT[#N][*COUNT][~TEXT]) in rule '%.120s'",
                       why, part ? " '" : "", (int)len, part ? part : "", part ? "'" : "", spec);
    return DBAL_EINVAL;
}

static int bad(dbal_error *err, const char *spec, const char *why)
{
    return bad_part(err, spec, why, NULL, 0);
}

/* A whole decimal number in [min, max], or -1. */
static long number(const char *s, size_t len, long min, long max)
{
    long v = 0;
    if (len == 0 || len > 9)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v < min || v > max ? -1 : v;
}

static const action_def *find_action(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof actions / sizeof *actions; i++)
        if (strlen(actions[i].name) == len && strncmp(actions[i].name, s, len) == 0)
            return &actions[i];
    return NULL;
}

/* The action part, "unique:items_name_key": the fault to inject. */
static int parse_action(const char *spec, const char *s, size_t len, tw_fault *f, dbal_error *err)
{
    const char *colon = memchr(s, ':', len);
    size_t nlen = colon ? (size_t)(colon - s) : len;
    const char *arg = colon ? colon + 1 : NULL;
    size_t alen = colon ? len - nlen - 1 : 0;
    const action_def *a = find_action(s, nlen);
    if (!a)
        return bad_part(err, spec,
                        "unknown action (unique, foreignkey, notnull, check, serialization, deadlock, busy, "
                        "timeout, canceled, readonly, lost, lost_after, refused, pool, delay:MS, "
                        "error:SQLSTATE)",
                        s, nlen);
    if (arg && a->arg == ARG_NONE)
        return bad(err, spec, "this action takes no argument");
    if (!arg && (a->arg == ARG_MS || a->arg == ARG_SQLSTATE))
        return bad(err, spec,
                   a->arg == ARG_MS ? "delay needs milliseconds (delay:200)" : "error needs a SQLSTATE");
    f->action = a->action;
    const char *state = a->sqlstate;
    char sqlstate[6] = "";
    if (a->arg == ARG_MS && (f->delay_ms = (int)number(arg, alen, 0, 3600000)) < 0)
        return bad(err, spec, "a delay is 0 to 3600000 milliseconds");
    if (a->arg == ARG_SQLSTATE) {
        for (size_t i = 0; i < 5; i++)
            if (alen != 5 || !(isdigit((unsigned char)arg[i]) || isupper((unsigned char)arg[i])))
                return bad(err, spec, "a SQLSTATE is five digits or capital letters");
        memcpy(sqlstate, arg, 5);
        state = sqlstate;
    }
    int code = a->arg == ARG_SQLSTATE ? tw_host->code_for_sqlstate(state) : a->code;
    if (a->arg == ARG_CONSTRAINT && alen > 0)
        tw_host->set_error(&f->error, code, state[0] ? state : NULL, 0, "%s \"%.*s\"", a->message, (int)alen,
                           arg);
    else
        tw_host->set_error(&f->error, code, state[0] ? state : NULL, 0, "%s%s%s", a->message,
                           a->arg == ARG_SQLSTATE ? " " : "", a->arg == ARG_SQLSTATE ? state : "");
    if (a->arg == ARG_CONSTRAINT && alen >= sizeof f->error.constraint)
        return bad(err, spec, "the constraint's name is too long");
    if (a->arg == ARG_CONSTRAINT) {
        memcpy(f->error.constraint, arg ? arg : "", alen);
        f->error.constraint[alen] = '\0';
    }
    return DBAL_OK;
}

static int find_point(const char *s, size_t len)
{
    for (int i = 1; i < (int)(sizeof points / sizeof *points); i++)
        if (strlen(points[i]) == len && strncmp(points[i], s, len) == 0)
            return i;
    return TW_AT_NONE;
}

/* The point part, "statement#3*2~INSERT". */
static int parse_point(const char *spec, const char *s, tw_rule *r, dbal_error *err)
{
    const char *tilde = strchr(s, '~');
    size_t head = tilde ? (size_t)(tilde - s) : strlen(s);
    size_t nlen = strcspn(s, "#*~");
    if (!(r->point = find_point(s, nlen)))
        return bad_part(err, spec, "unknown point (statement, begin, commit, rollback, connect, checkout)", s,
                        nlen);
    r->nth = r->times = 1;
    for (const char *p = s + nlen; p < s + head;) {
        size_t len = strcspn(p + 1, "#*~");
        if (*p == '#' && (r->nth = number(p + 1, len, 1, 1000000000)) < 0)
            return bad(err, spec, "#N is a number from 1");
        if (*p == '*' && len == 6 && strncmp(p + 1, "always", 6) == 0)
            r->times = 0;
        else if (*p == '*' && (r->times = number(p + 1, len, 1, 1000000000)) < 0)
            return bad(err, spec, "*COUNT is a number from 1, or always");
        p += len + 1;
    }
    if (tilde && (!tilde[1] || r->point != TW_AT_STATEMENT))
        return bad(err, spec, "~TEXT is for statements, and not empty");
    if (tilde && !(r->text = tw_host->malloc(strlen(tilde)))) {
        tw_host->set_error(err, DBAL_ENOMEM, NULL, 0, "out of memory");
        return DBAL_ENOMEM;
    }
    if (tilde)
        strcpy(r->text, tilde + 1);
    return DBAL_OK;
}

/* What each point allows: a new connection can be refused or slow, not
 * lost; only what reaches the server can be lost after it ran. */
static int check_combination(const char *spec, const tw_rule *r, dbal_error *err)
{
    int early = r->point == TW_AT_CONNECT || r->point == TW_AT_CHECKOUT;
    int code = r->fault.error.code;
    if (early && (r->fault.action == TW_LOST || r->fault.action == TW_LOST_AFTER))
        return bad(err, spec, "a connection being made is refused (refused, pool, error:...), not lost");
    if (!early && (code == DBAL_ECONNECT || code == DBAL_EPOOLTIMEOUT))
        return bad(err, spec, "refused and pool are for connect and checkout");
    return DBAL_OK;
}

static void rule_free(tw_rule *r)
{
    tw_host->free(r->text);
    tw_host->free(r);
}

int tw_rule_add(tw_engine *e, const char *spec, int *id, dbal_error *err)
{
    const char *at = strchr(spec, '@');
    if (!at)
        return bad(err, spec, "no '@POINT'");
    tw_rule *r = tw_host->malloc(sizeof *r);
    if (!r) {
        tw_host->set_error(err, DBAL_ENOMEM, NULL, 0, "out of memory");
        return DBAL_ENOMEM;
    }
    memset(r, 0, sizeof *r);
    int rc = parse_action(spec, spec, (size_t)(at - spec), &r->fault, err);
    if (rc == DBAL_OK)
        rc = parse_point(spec, at + 1, r, err);
    if (rc == DBAL_OK)
        rc = check_combination(spec, r, err);
    if (rc != DBAL_OK) {
        rule_free(r);
        return rc;
    }
    pthread_mutex_lock(&e->lock);
    r->fault.id = e->next_id++;
    size_t n = strlen(r->fault.error.message);
    snprintf(r->fault.error.message + n, sizeof r->fault.error.message - n, " (fault %d of dbal_testing)",
             r->fault.id);
    tw_rule **tail = &e->rules;
    while (*tail)
        tail = &(*tail)->next;
    *tail = r; /* in the order added: the first due fires */
    if (id)
        *id = r->fault.id;
    pthread_mutex_unlock(&e->lock);
    return DBAL_OK;
}

void tw_rules_clear(tw_engine *e)
{
    pthread_mutex_lock(&e->lock);
    tw_rule *r = e->rules;
    e->rules = NULL;
    e->fired_total = 0;
    e->refuse_connect = 0;
    pthread_mutex_unlock(&e->lock);
    while (r) {
        tw_rule *next = r->next;
        rule_free(r);
        r = next;
    }
}

long tw_rule_fired(tw_engine *e, int id)
{
    long n = id == 0 ? 0 : -1;
    pthread_mutex_lock(&e->lock);
    if (id == 0)
        n = e->fired_total;
    for (tw_rule *r = e->rules; r && id; r = r->next)
        if (r->fault.id == id)
            n = r->fired;
    pthread_mutex_unlock(&e->lock);
    return n;
}

/* strstr without regard to case, for ~TEXT. */
static int contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

int tw_fault_take(tw_engine *e, int point, const char *sql, tw_fault *out)
{
    int fired = 0;
    pthread_mutex_lock(&e->lock);
    for (tw_rule *r = e->rules; r; r = r->next) {
        if (r->point != point || (r->text && (!sql || !contains(sql, r->text))))
            continue;
        r->seen++; /* every rule counts the event; the first one due fires */
        if (fired || r->seen < r->nth || (r->times && r->fired >= r->times))
            continue;
        r->fired++;
        e->fired_total++;
        *out = r->fault;
        fired = 1;
    }
    pthread_mutex_unlock(&e->lock);
    return fired;
}

int tw_fault_fail(const tw_fault *f, dbal_error *err)
{
    *err = f->error;
    return err->code;
}
