#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "CTestCapabilities.h"

int kt_drop_effective_capabilities(uint64_t mask) {
    // The raw system calls act on the calling thread (glibc has no wrapper that broadcasts).
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &header, data) != 0)
        return -1;
    data[0].effective &= ~(uint32_t)(mask & 0xffffffffu);
    data[1].effective &= ~(uint32_t)(mask >> 32);
    return (int)syscall(SYS_capset, &header, data);
}
