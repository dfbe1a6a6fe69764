// libbpf through dlopen(3): the function table, the loader and the log capture.
// See include/CLibbpf.h for why and for the calling convention.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "CLibbpf.h"

// Every libbpf function used, once: X(name). The table's types are the header's own.
#define KT_LIBBPF_FUNCTIONS(X) \
    X(libbpf_set_print) X(libbpf_version_string) X(libbpf_num_possible_cpus) \
    X(bpf_object__open_mem) X(bpf_object__load) X(bpf_object__close) \
    X(bpf_object__find_program_by_name) X(bpf_object__find_map_by_name) \
    X(bpf_program__fd) X(bpf_program__attach_cgroup) \
    X(bpf_map__fd) X(bpf_map__reuse_fd) X(bpf_map__set_max_entries) X(bpf_map__type) \
    X(bpf_map__key_size) X(bpf_map__value_size) X(bpf_map__max_entries) X(bpf_map__map_flags) \
    X(bpf_link__open) X(bpf_link__fd) X(bpf_link__update_program) \
    X(bpf_link__destroy) X(bpf_link_detach) \
    X(bpf_obj_pin) X(bpf_obj_get) X(bpf_prog_get_fd_by_id) X(bpf_obj_get_info_by_fd) \
    X(bpf_map_update_elem) X(bpf_map_lookup_elem) X(bpf_map_delete_elem) X(bpf_map_get_next_key) \
    X(ring_buffer__new) X(ring_buffer__consume) X(ring_buffer__epoll_fd) X(ring_buffer__free)

static struct {
#define X(name) __typeof__(name) *name;
    KT_LIBBPF_FUNCTIONS(X)
#undef X
} sym;

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
// Set once, after the table is complete; read without the lock.
static bool loaded_flag;

/// Whether the table is complete and its functions may be called.
static inline bool loaded(void) { return __atomic_load_n(&loaded_flag, __ATOMIC_ACQUIRE); }

// The calling thread's capture of what libbpf printed: the last LOG_SIZE - 1 bytes.
#define LOG_SIZE 16384
static _Thread_local char log_text[LOG_SIZE];
static _Thread_local size_t log_length;

/// libbpf's print callback: appends warnings and information to the thread's capture.
static int capture(enum libbpf_print_level level, const char *format, va_list arguments) {
    if (level == LIBBPF_DEBUG)
        return 0;
    char line[2048];
    int length = vsnprintf(line, sizeof(line), format, arguments);
    if (length <= 0)
        return 0;
    size_t count = (size_t)length < sizeof(line) ? (size_t)length : sizeof(line) - 1;
    if (count >= LOG_SIZE - 1)
        count = LOG_SIZE - 2;
    if (log_length + count >= LOG_SIZE - 1) {   // keep the tail: the verifier's verdict is last
        size_t drop = log_length + count - (LOG_SIZE - 1) + 1;
        if (drop > log_length)
            drop = log_length;
        memmove(log_text, log_text + drop, log_length - drop);
        log_length -= drop;
    }
    memcpy(log_text + log_length, line, count);
    log_length += count;
    log_text[log_length] = 0;
    return length;
}

const char *kt_libbpf_log(void) { return log_text; }

void kt_libbpf_log_clear(void) {
    log_length = 0;
    log_text[0] = 0;
}

int kt_libbpf_load(const char *soname, char *error, size_t error_size) {
    pthread_mutex_lock(&load_lock);
    if (loaded()) {   // the table stays; say only whether `soname` can be opened too
        void *other = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (!other)
            snprintf(error, error_size, "%s", dlerror());
        else
            dlclose(other);
        pthread_mutex_unlock(&load_lock);
        return other ? 0 : -1;
    }
    void *library = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!library) {
        snprintf(error, error_size, "%s", dlerror());
        pthread_mutex_unlock(&load_lock);
        return -1;
    }
#define X(name) \
    sym.name = (__typeof__(name) *)dlsym(library, #name); \
    if (!sym.name) { \
        snprintf(error, error_size, "%s has no function %s (libbpf 1.0 or later is needed)", soname, #name); \
        dlclose(library); \
        memset(&sym, 0, sizeof(sym)); \
        pthread_mutex_unlock(&load_lock); \
        return -1; \
    }
    KT_LIBBPF_FUNCTIONS(X)
#undef X
    sym.libbpf_set_print(capture);
    __atomic_store_n(&loaded_flag, true, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&load_lock);
    return 0;
}

// Calls sym.name, or fails with ENOSYS before a successful load.
#define CALL_INT(name, ...) \
    do { if (!loaded()) { errno = ENOSYS; return -ENOSYS; } return sym.name(__VA_ARGS__); } while (0)
#define CALL_POINTER(name, ...) \
    do { if (!loaded()) { errno = ENOSYS; return NULL; } return sym.name(__VA_ARGS__); } while (0)

const char *kt_libbpf_version(void) { return loaded() ? sym.libbpf_version_string() : ""; }

struct bpf_object *kt_bpf_object__open_mem(const void *bytes, size_t size, const char *object_name) {
    LIBBPF_OPTS(bpf_object_open_opts, options, .object_name = object_name);
    CALL_POINTER(bpf_object__open_mem, bytes, size, &options);
}

int kt_bpf_object__load(struct bpf_object *object) { CALL_INT(bpf_object__load, object); }

void kt_bpf_object__close(struct bpf_object *object) {
    if (loaded())
        sym.bpf_object__close(object);
}

struct bpf_program *kt_bpf_object__find_program_by_name(const struct bpf_object *object, const char *name) {
    CALL_POINTER(bpf_object__find_program_by_name, object, name);
}

struct bpf_map *kt_bpf_object__find_map_by_name(const struct bpf_object *object, const char *name) {
    CALL_POINTER(bpf_object__find_map_by_name, object, name);
}

int kt_bpf_program__fd(const struct bpf_program *program) { CALL_INT(bpf_program__fd, program); }

struct bpf_link *kt_bpf_program__attach_cgroup(const struct bpf_program *program, int cgroup_fd) {
    CALL_POINTER(bpf_program__attach_cgroup, program, cgroup_fd);
}

int kt_bpf_map__fd(const struct bpf_map *map) { CALL_INT(bpf_map__fd, map); }
int kt_bpf_map__reuse_fd(struct bpf_map *map, int fd) { CALL_INT(bpf_map__reuse_fd, map, fd); }
int kt_bpf_map__set_max_entries(struct bpf_map *map, uint32_t max_entries) {
    CALL_INT(bpf_map__set_max_entries, map, max_entries);
}

void kt_bpf_map__definition(const struct bpf_map *map, uint32_t *type, uint32_t *key_size,
                            uint32_t *value_size, uint32_t *max_entries, uint32_t *flags) {
    if (!loaded()) {
        *type = *key_size = *value_size = *max_entries = *flags = 0;
        return;
    }
    *type = (uint32_t)sym.bpf_map__type(map);
    *key_size = sym.bpf_map__key_size(map);
    *value_size = sym.bpf_map__value_size(map);
    *max_entries = sym.bpf_map__max_entries(map);
    *flags = sym.bpf_map__map_flags(map);
}

struct bpf_link *kt_bpf_link__open(const char *path) { CALL_POINTER(bpf_link__open, path); }
int kt_bpf_link__fd(const struct bpf_link *link) { CALL_INT(bpf_link__fd, link); }
int kt_bpf_link__update_program(struct bpf_link *link, struct bpf_program *program) {
    CALL_INT(bpf_link__update_program, link, program);
}

void kt_bpf_link__close(struct bpf_link *link) {
    if (loaded() && link)
        sym.bpf_link__destroy(link);
}

int kt_bpf_link_detach(int link_fd) { CALL_INT(bpf_link_detach, link_fd); }

int kt_bpf_obj_pin(int fd, const char *path) { CALL_INT(bpf_obj_pin, fd, path); }
int kt_bpf_obj_get(const char *path) { CALL_INT(bpf_obj_get, path); }
int kt_bpf_prog_get_fd_by_id(uint32_t id) { CALL_INT(bpf_prog_get_fd_by_id, id); }

/// bpf_obj_get_info_by_fd() into `info`, zeroed first, of `size` bytes.
static int info_by_fd(int fd, void *info, __u32 size) {
    if (!loaded())
        return -ENOSYS;
    memset(info, 0, size);
    return sym.bpf_obj_get_info_by_fd(fd, info, &size);
}

int kt_bpf_link_info(int link_fd, uint32_t *link_id, uint32_t *program_id, uint64_t *cgroup_id,
                     uint32_t *attach_type) {
    struct bpf_link_info info;
    int result = info_by_fd(link_fd, &info, sizeof(info));
    if (result < 0)
        return result;
    *link_id = info.id;
    *program_id = info.prog_id;
    *cgroup_id = info.type == BPF_LINK_TYPE_CGROUP ? info.cgroup.cgroup_id : 0;
    *attach_type = info.type == BPF_LINK_TYPE_CGROUP ? info.cgroup.attach_type : 0;
    return 0;
}

int kt_bpf_program_info(int program_fd, uint32_t *program_id, uint8_t tag[8]) {
    struct bpf_prog_info info;
    int result = info_by_fd(program_fd, &info, sizeof(info));
    if (result < 0)
        return result;
    *program_id = info.id;
    memcpy(tag, info.tag, 8);
    return 0;
}

int kt_bpf_map_info(int map_fd, uint32_t *type, uint32_t *key_size, uint32_t *value_size,
                    uint32_t *max_entries, uint32_t *flags) {
    struct bpf_map_info info;
    int result = info_by_fd(map_fd, &info, sizeof(info));
    if (result < 0)
        return result;
    *type = info.type;
    *key_size = info.key_size;
    *value_size = info.value_size;
    *max_entries = info.max_entries;
    *flags = info.map_flags;
    return 0;
}

int kt_bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags) {
    CALL_INT(bpf_map_update_elem, fd, key, value, flags);
}
int kt_bpf_map_lookup_elem(int fd, const void *key, void *value) { CALL_INT(bpf_map_lookup_elem, fd, key, value); }
int kt_bpf_map_delete_elem(int fd, const void *key) { CALL_INT(bpf_map_delete_elem, fd, key); }
int kt_bpf_map_get_next_key(int fd, const void *key, void *next_key) {
    CALL_INT(bpf_map_get_next_key, fd, key, next_key);
}
int kt_libbpf_num_possible_cpus(void) { CALL_INT(libbpf_num_possible_cpus); }

struct ring_buffer *kt_ring_buffer__new(int map_fd, kt_ring_sample_fn sample, void *context) {
    CALL_POINTER(ring_buffer__new, map_fd, sample, context, NULL);
}
int kt_ring_buffer__consume(struct ring_buffer *ring) { CALL_INT(ring_buffer__consume, ring); }
int kt_ring_buffer__epoll_fd(const struct ring_buffer *ring) { CALL_INT(ring_buffer__epoll_fd, ring); }
void kt_ring_buffer__free(struct ring_buffer *ring) {
    if (loaded())
        sym.ring_buffer__free(ring);
}
