// Namespace calls for tests; Swift's Glibc module does not export unshare(2).
#pragma once

/// Moves the calling thread into a new, private network namespace (needs CAP_SYS_ADMIN).
/// Returns 0, or -1 with errno set.
int kt_unshare_network(void);
