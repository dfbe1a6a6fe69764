#define _GNU_SOURCE
#include <sched.h>
#include "CTestSupport.h"

int kt_unshare_network(void) { return unshare(CLONE_NEWNET); }
