// The two file-system questions the BPF layer asks: a cgroup directory's id, and which file
// system a path is on.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/vfs.h>
#include "CLibbpf.h"

int kt_cgroup_id(const char *path, uint64_t *id) {
    // On cgroup2 (kernfs) the handle is the node's 64-bit id, what the kernel calls the
    // cgroup id; systemd's cg_path_get_cgroupid() reads it the same way.
    union {
        struct file_handle handle;
        char space[sizeof(struct file_handle) + sizeof(uint64_t)];
    } buffer;
    memset(&buffer, 0, sizeof(buffer));
    buffer.handle.handle_bytes = sizeof(uint64_t);
    int mount_id = 0;
    if (name_to_handle_at(AT_FDCWD, path, &buffer.handle, &mount_id, 0) != 0)
        return -errno;
    if (buffer.handle.handle_bytes != sizeof(uint64_t))
        return -EINVAL;
    memcpy(id, buffer.handle.f_handle, sizeof(uint64_t));
    return 0;
}

int kt_filesystem_type(const char *path, int64_t *type) {
    struct statfs info;
    if (statfs(path, &info) != 0)
        return -errno;
    *type = (int64_t)info.f_type;
    return 0;
}
