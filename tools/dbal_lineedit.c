/* Reading the shell's input; see dbal_lineedit.h. */
#include "dbal_lineedit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if defined(DBAL_HAVE_EDITLINE)
#include <editline/readline.h>
#define HAVE_LINE_EDITING 1
#elif defined(DBAL_HAVE_READLINE)
#include <readline/history.h>
#include <readline/readline.h>
#define HAVE_LINE_EDITING 1
#endif

enum { HISTORY_LINES = 1000 };

struct line_reader {
    int interactive;
    int editing;    /* line editing in use */
    char *histfile; /* NULL: no history file */
};

const char *lr_library(void)
{
#if defined(DBAL_HAVE_EDITLINE)
    return "libedit";
#elif defined(DBAL_HAVE_READLINE)
    return "readline";
#else
    return "none";
#endif
}

line_reader *lr_open(int interactive)
{
    line_reader *lr = calloc(1, sizeof *lr);
    if (!lr)
        return NULL;
    lr->interactive = interactive;
#ifdef HAVE_LINE_EDITING
    if (interactive) {
        lr->editing = 1;
        rl_readline_name = "dbal";
        using_history();
        stifle_history(HISTORY_LINES);
        const char *home = getenv("HOME");
        if (home && *home) {
            size_t n = strlen(home) + sizeof "/.dbal_history";
            lr->histfile = malloc(n);
            if (lr->histfile) {
                snprintf(lr->histfile, n, "%s/.dbal_history", home);
                read_history(lr->histfile);
            }
        }
    }
#endif
    return lr;
}

static char *plain_read(const char *prompt)
{
    if (prompt) {
        fputs(prompt, stdout);
        fflush(stdout);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

char *lr_read(line_reader *lr, const char *prompt)
{
#ifdef HAVE_LINE_EDITING
    if (lr->editing)
        return readline(prompt ? prompt : "");
#endif
    return plain_read(lr->interactive ? prompt : NULL);
}

void lr_remember(line_reader *lr, const char *line)
{
#ifdef HAVE_LINE_EDITING
    if (lr->editing && line[strspn(line, " \t")] != '\0')
        add_history(line);
#else
    (void)lr;
    (void)line;
#endif
}

void lr_close(line_reader *lr)
{
    if (!lr)
        return;
#ifdef HAVE_LINE_EDITING
    /* Statements can hold secrets: the history is the user's alone. */
    if (lr->editing && lr->histfile && write_history(lr->histfile) == 0)
        chmod(lr->histfile, 0600);
#endif
    free(lr->histfile);
    free(lr);
}
