/*
 * dbal_lineedit.h - reading the shell's input: with line editing and history
 * (libedit, or GNU readline when the build asks for it) on a terminal, plain
 * lines from stdin otherwise.
 */
#ifndef DBAL_LINEEDIT_H
#define DBAL_LINEEDIT_H

typedef struct line_reader line_reader;

/* interactive: stdin is a terminal (prompts are shown, history is kept in
 * ~/.dbal_history when line editing is built in). NULL when out of memory. */
line_reader *lr_open(int interactive);
/* The next line without its newline, to free(); NULL at end of input.
 * prompt may be NULL (none). */
char *lr_read(line_reader *lr, const char *prompt);
/* Adds a line to the history (interactive line editing only). */
void lr_remember(line_reader *lr, const char *line);
/* Saves the history and frees. Accepts NULL. */
void lr_close(line_reader *lr);
/* What line editing this build has: "libedit", "readline" or "none". */
const char *lr_library(void);

#endif /* DBAL_LINEEDIT_H */
