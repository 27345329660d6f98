/* The entry points of a fuzz target: libFuzzer calls them, and so does
 * fuzz/replay.c, the plain main() of the fuzz_replay_* tests. */
#ifndef DBAL_FUZZ_TARGET_H
#define DBAL_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

/* Runs the target on one input; returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional: set-up before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
