#pragma once
// The invariant check of the libFuzzer targets: prints the condition and traps, so libFuzzer
// records the input as a crash.

#include <cstdio>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "invariant violated: %s (%s:%d)\n", #cond, __FILE__, __LINE__);   \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)
