/*
 * dbal_interrupt.h - Ctrl-C cancels the shell's running statement.
 */
#ifndef DBAL_INTERRUPT_H
#define DBAL_INTERRUPT_H

#include <dbal.h>

/* Starts watching for Ctrl-C on behalf of session s. 0, or -1 (then Ctrl-C
 * keeps its default effect). */
int interrupt_start(dbal_session *s);
/* From now until interrupt_disarm(), Ctrl-C cancels what s runs. */
void interrupt_arm(void);
void interrupt_disarm(void);
/* Stops the watcher. */
void interrupt_stop(void);

#endif /* DBAL_INTERRUPT_H */
