#ifndef CFUZZDRIVER_H
#define CFUZZDRIVER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry point for a program that has its own `main` (SwiftPM executables do):
/// it parses libFuzzer's flags from argc/argv and runs `callback` on every input.
/// Defined by libFuzzer only when linked with `-sanitize=fuzzer`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
