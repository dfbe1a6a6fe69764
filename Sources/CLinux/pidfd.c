#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>
#include "CLinux.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

int kt_pidfd_open(int pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int kt_pidfd_getfd(int pidfd, int targetfd) { return (int)syscall(SYS_pidfd_getfd, pidfd, targetfd, 0); }
