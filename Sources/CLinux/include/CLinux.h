// Linux calls that Swift's Glibc module does not export. Used by KeepaliveOS only.
#pragma once
#include <signal.h>
#include <stdint.h>
#include <malloc.h>   // malloc_trim(3), for CodePages
#include <sys/xattr.h> // getxattr(2), for a socket descriptor's protocol
#include <linux/netlink.h> // nlmsghdr, nlmsgerr, sockaddr_nl, NLMSG_DONE, NLM_F_*
#include <linux/rtnetlink.h> // rtattr, rtgenmsg, RTM_NEWNSID, RTNLGRP_NSID
#include <linux/net_namespace.h> // NETNSA_NSID
#include <linux/sock_diag.h> // SOCK_DIAG_BY_FAMILY
#include <linux/inet_diag.h> // inet_diag_req_v2, inet_diag_msg, INET_DIAG_INFO

/// NLMSG_ALIGN: a netlink message's length rounded up to the 4-byte boundary the next starts on.
static inline unsigned kt_nlmsg_align(unsigned length) { return NLMSG_ALIGN(length); }

/// RTA_ALIGN: a netlink attribute's length rounded up to the boundary the next starts on.
static inline unsigned kt_rta_align(unsigned length) { return RTA_ALIGN(length); }

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

/// pipe2(2) with O_CLOEXEC and O_NONBLOCK: ends[0] reads, ends[1] writes. 0 or -1.
int kt_pipe(int ends[2]);
