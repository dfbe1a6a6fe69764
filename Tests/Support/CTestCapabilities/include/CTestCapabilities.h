// Per-thread capabilities for tests; Swift's Glibc module does not export capget/capset.
#pragma once
#include <stdint.h>

/// Removes the capabilities in `mask` (bit N: capability N) from the calling thread's
/// effective set only: other threads, and the permitted set, keep them. Returns 0, or -1
/// with errno set.
int kt_drop_effective_capabilities(uint64_t mask);
