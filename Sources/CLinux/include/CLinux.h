// Linux calls that Swift's Glibc module does not export. Used by KeepaliveOS only.
#pragma once
#include <signal.h>
#include <stdint.h>
#include <malloc.h>   // malloc_trim(3), for CodePages
#include <sys/xattr.h> // getxattr(2), for a socket descriptor's protocol
#include <linux/netlink.h> // sockaddr_nl, for the RTNLGRP_NSID monitor

/// Blocks SIGHUP, SIGTERM and SIGINT in the calling thread (and threads it creates later)
/// and returns a signalfd(2) that reads them, close-on-exec and non-blocking; -1 on error.
int kt_signalfd_for_daemon_signals(void);

/// Blocks SIGHUP, SIGTERM and SIGINT in the calling thread. Returns 0 or -1.
int kt_block_daemon_signals(void);

/// Reads one pending signal from a signalfd: its number, 0 if none is pending, -1 on error.
int kt_signalfd_read(int fd);

/// pidfd_open(2): a descriptor for process `pid`; -1 with errno on failure (Linux 5.3).
int kt_pidfd_open(int pid);

/// pidfd_getfd(2): a duplicate, in this process, of descriptor `targetfd` of the process
/// behind `pidfd`; -1 with errno on failure (Linux 5.6; needs ptrace-attach rights over it).
int kt_pidfd_getfd(int pidfd, int targetfd);

/// setns(2) into the network namespace behind `fd`, for the calling thread only. 0 or -1.
int kt_setns_network(int fd);
