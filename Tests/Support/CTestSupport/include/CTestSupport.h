// Namespace calls for tests; Swift's Glibc module does not export unshare(2).
#pragma once

/// Moves the calling thread into a new, private network namespace (needs CAP_SYS_ADMIN).
/// Returns 0, or -1 with errno set.
int kt_unshare_network(void);

#include <sys/types.h>

/// Starts `argv[0]` (an absolute path) with `envp` as a child that gets exactly three
/// descriptors: `in`, `out` and `err` become its 0, 1 and 2, and every other descriptor of
/// this process is closed in the child before it runs (posix_spawn's closefrom action), so
/// nothing another thread opens at the same moment can leak into it. Its signal mask is
/// empty and every signal has its default action. Returns 0 and sets `*pid`, or an errno.
int kt_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], int in, int out, int err);

/// pipe2(2) with O_CLOEXEC (Swift's Glibc module does not export pipe2): `fds[0]` reads,
/// `fds[1]` writes. Returns 0, or -1 with errno set.
int kt_pipe_cloexec(int fds[2]);

/// accept4(2) with SOCK_CLOEXEC, the peer's address not asked for. Returns the descriptor, or
/// -1 with errno set.
int kt_accept_cloexec(int listener);
