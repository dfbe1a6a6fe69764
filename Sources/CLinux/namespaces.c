#define _GNU_SOURCE
#include <sched.h>
#include "CLinux.h"

int kt_setns_network(int fd) { return setns(fd, CLONE_NEWNET); }
