// libbpf, dlopened: the C side of KeepaliveOS's BPF layer (Sources/KeepaliveOS/BPF).
//
// keepalived-tune does not link libbpf. kt_libbpf_load() dlopens Debian's libbpf1
// (`libbpf.so.1`) the way systemd's src/shared/bpf-dlopen.c does, resolves every function
// below, and only then lets them be called: a host without libbpf1 runs the daemon with the
// kernel hooks off, and says why. The prototypes come from <bpf/libbpf.h> and <bpf/bpf.h>
// (libbpf-dev, at build time only), so a mismatch is a compile error in libbpf.c.
//
// Each kt_bpf_* function calls the libbpf function of the same name (without `kt_`), with
// the same arguments and results: libbpf 1.x returns a negative errno, or NULL with errno
// set. Calling one before a successful kt_libbpf_load() returns -ENOSYS (or NULL, ENOSYS).
// What libbpf prints (a verifier log, a CO-RE failure) is kept per thread: kt_libbpf_log().
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>   // the UAPI constants (attach types) Swift uses
#include "kt_bpf_layout.h"

struct bpf_object;
struct bpf_program;
struct bpf_map;
struct bpf_link;
struct ring_buffer;

/// Opens the shared library `soname` and resolves every function this header wraps. Returns
/// 0, or -1 with a sentence in `error` (the dlerror() text, or the first missing function).
/// Once one call succeeded, the table stays as it is: later calls only say whether `soname`
/// can be opened too (so a probe for another name answers truthfully).
int kt_libbpf_load(const char *soname, char *error, size_t error_size);

/// What libbpf printed on the calling thread since kt_libbpf_log_clear() (warnings and
/// information, not debug output), at most the last 16 KiB; "" if nothing.
const char *kt_libbpf_log(void);
/// Forgets what libbpf printed on the calling thread.
void kt_libbpf_log_clear(void);
/// libbpf_version_string(), or "" before a successful load.
const char *kt_libbpf_version(void);

struct bpf_object *kt_bpf_object__open_mem(const void *bytes, size_t size, const char *object_name);
int kt_bpf_object__load(struct bpf_object *object);
void kt_bpf_object__close(struct bpf_object *object);
struct bpf_program *kt_bpf_object__find_program_by_name(const struct bpf_object *object, const char *name);
struct bpf_map *kt_bpf_object__find_map_by_name(const struct bpf_object *object, const char *name);

int kt_bpf_program__fd(const struct bpf_program *program);
struct bpf_link *kt_bpf_program__attach_cgroup(const struct bpf_program *program, int cgroup_fd);

int kt_bpf_map__fd(const struct bpf_map *map);
int kt_bpf_map__reuse_fd(struct bpf_map *map, int fd);
int kt_bpf_map__set_max_entries(struct bpf_map *map, uint32_t max_entries);
/// The map's definition in the object: type, key and value sizes, entries and flags.
void kt_bpf_map__definition(const struct bpf_map *map, uint32_t *type, uint32_t *key_size,
                            uint32_t *value_size, uint32_t *max_entries, uint32_t *flags);

struct bpf_link *kt_bpf_link__open(const char *path);
int kt_bpf_link__fd(const struct bpf_link *link);
int kt_bpf_link__update_program(struct bpf_link *link, struct bpf_program *program);
/// bpf_link__destroy(): frees the link and closes this process's descriptor. A cgroup link
/// stays attached while it is pinned (or another descriptor holds it); else it detaches.
void kt_bpf_link__close(struct bpf_link *link);
/// bpf_link_detach(): detaches the link's program now, whoever holds or pins the link.
int kt_bpf_link_detach(int link_fd);

int kt_bpf_obj_pin(int fd, const char *path);
int kt_bpf_obj_get(const char *path);
int kt_bpf_prog_get_fd_by_id(uint32_t id);

/// A link's program id, the cgroup id it is attached to (0 if it is no longer attached: its
/// cgroup went away, or `bpftool link detach`) and its attach type. 0 or a negative errno.
int kt_bpf_link_info(int link_fd, uint32_t *link_id, uint32_t *program_id, uint64_t *cgroup_id,
                     uint32_t *attach_type);
/// A program's id and tag (the kernel's hash of its instructions, map references left out).
int kt_bpf_program_info(int program_fd, uint32_t *program_id, uint8_t tag[8]);
/// A map's kernel definition: type, key and value sizes, entries, flags.
int kt_bpf_map_info(int map_fd, uint32_t *type, uint32_t *key_size, uint32_t *value_size,
                    uint32_t *max_entries, uint32_t *flags);

int kt_bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags);
int kt_bpf_map_lookup_elem(int fd, const void *key, void *value);
int kt_bpf_map_delete_elem(int fd, const void *key);
int kt_bpf_map_get_next_key(int fd, const void *key, void *next_key);
int kt_libbpf_num_possible_cpus(void);

/// Called for each ring-buffer record; returning non-zero stops the consumption.
typedef int (*kt_ring_sample_fn)(void *context, void *data, size_t size);
struct ring_buffer *kt_ring_buffer__new(int map_fd, kt_ring_sample_fn sample, void *context);
int kt_ring_buffer__consume(struct ring_buffer *ring);
int kt_ring_buffer__epoll_fd(const struct ring_buffer *ring);
void kt_ring_buffer__free(struct ring_buffer *ring);

/// The cgroup v2 id of the cgroup directory at `path` (its kernfs node id, what
/// bpf_get_current_cgroup_id() and link info report), from name_to_handle_at(2). 0 or -errno.
int kt_cgroup_id(const char *path, uint64_t *id);
/// statfs(2)'s f_type of the file system holding `path`; 0 or -errno.
int kt_filesystem_type(const char *path, int64_t *type);
