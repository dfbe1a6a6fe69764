// SPDX-License-Identifier: MIT OR GPL-2.0-only
// Every write to a keepalive sysctl seen at the source: a cgroup/sysctl program that runs on
// each read and write of /proc/sys by a process under its cgroup, before the write happens
// (kernel 6.1+ for the pid, uid and cgroup helpers in this program type; CAP_BPF,
// CAP_NET_ADMIN and CAP_PERFMON for the command name).
//
// - It runs on every /proc/sys access under its cgroup, so it returns at once for reads and
//   for names it does not own; only writes to net/ipv4/tcp_keepalive_{time,intvl,probes} go on.
// - Writers exempt by cgroup (`exempt_cgroups`: the daemon's own unit) or by process
//   (`exempt_tgids`) pass unseen. A write that leaves the value as it is passes unseen too.
// - Any other write is sent to the `events` ring buffer (pid, uid, cgroup id, comm, key,
//   old and new value) and refused with EPERM if the key's `policy` says KT_SYSCTL_DENY.
//   A full ring buffer loses the event, never the verdict: `counters` counts the loss.
// - It cannot tell which network namespace's table is written (no netns for this type).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "kt_bpf_layout.h"

/// Per key (enum kt_sysctl_key): flags, KT_SYSCTL_DENY.
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, KT_SYSCTL_KEYS);
    __type(key, __u32);
    __type(value, __u32);
} policy SEC(".maps");

/// Writers whose cgroup id is here pass unseen.
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u64);
    __type(value, __u8);
} exempt_cgroups SEC(".maps");

/// Writers whose process (thread-group) id is here pass unseen.
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u8);
} exempt_tgids SEC(".maps");

/// The writes seen, for the daemon (its size is set at load: a power of two, at least a page).
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} events SEC(".maps");

/// enum kt_sysctl_counter, per CPU.
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, KT_SYSCTL_COUNTERS);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

/// The owned names share this prefix; what follows it picks the key.
static const char prefix[] = "net/ipv4/tcp_keepalive_";
#define PREFIX_LEN (sizeof(prefix) - 1)

/// The key `name` is, or -1 for a name this program does not own.
static __always_inline int key_of(const char *name) {
    for (int i = 0; i < PREFIX_LEN; i++)
        if (name[i] != prefix[i])
            return -1;
    const char *rest = name + PREFIX_LEN;
    if (rest[0] == 't' && rest[1] == 'i' && rest[2] == 'm' && rest[3] == 'e' && rest[4] == 0)
        return KT_SYSCTL_TIME;
    if (rest[0] == 'i' && rest[1] == 'n' && rest[2] == 't' && rest[3] == 'v' && rest[4] == 'l' && rest[5] == 0)
        return KT_SYSCTL_INTVL;
    if (rest[0] == 'p' && rest[1] == 'r' && rest[2] == 'o' && rest[3] == 'b' && rest[4] == 'e' && rest[5] == 's'
        && rest[6] == 0)
        return KT_SYSCTL_PROBES;
    return -1;
}

/// Adds one to a counter.
static __always_inline void bump(__u32 index) {
    __u64 *value = bpf_map_lookup_elem(&counters, &index);
    if (value)
        __sync_fetch_and_add(value, 1);
}

/// Cuts the trailing newline (and anything after it) of a value.
static __always_inline void chop(char *value) {
    for (int i = 0; i < KT_VALUE_LEN; i++) {
        if (value[i] == '\n') {
            value[i] = 0;
            return;
        }
        if (value[i] == 0)
            return;
    }
}

SEC("cgroup/sysctl")
int keepalive_sysctl_writes(struct bpf_sysctl *ctx) {
    if (!ctx->write)
        return 1;
    char name[32] = {};
    if (bpf_sysctl_get_name(ctx, name, sizeof(name), 0) < 0)
        return 1;   // longer than any owned name (-E2BIG): not ours
    int key = key_of(name);
    if (key < 0)
        return 1;

    __u64 cgroup_id = bpf_get_current_cgroup_id();
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    if (bpf_map_lookup_elem(&exempt_cgroups, &cgroup_id) || bpf_map_lookup_elem(&exempt_tgids, &tgid))
        return 1;

    struct kt_sysctl_event event = {};
    bpf_sysctl_get_current_value(ctx, event.old_value, sizeof(event.old_value));
    bpf_sysctl_get_new_value(ctx, event.new_value, sizeof(event.new_value));
    unsigned long old_number = 0, new_number = 0;
    if (bpf_strtoul(event.old_value, sizeof(event.old_value), 0, &old_number) > 0
        && bpf_strtoul(event.new_value, sizeof(event.new_value), 0, &new_number) > 0
        && old_number == new_number)
        return 1;   // rewrites the value it has: no change to see or refuse

    __u32 index = (__u32)key;
    __u32 *flags = bpf_map_lookup_elem(&policy, &index);
    int deny = flags && (*flags & KT_SYSCTL_DENY);
    event.cgroup_id = cgroup_id;
    event.pid = tgid;
    event.uid = (__u32)bpf_get_current_uid_gid();
    event.key = index;
    event.verdict = deny ? KT_SYSCTL_REFUSED : KT_SYSCTL_ALLOWED;
    bpf_get_current_comm(event.comm, sizeof(event.comm));
    chop(event.old_value);
    chop(event.new_value);
    bump(KT_SYSCTL_SEEN);
    if (deny)
        bump(KT_SYSCTL_DENIED);
    if (bpf_ringbuf_output(&events, &event, sizeof(event), 0) != 0)
        bump(KT_SYSCTL_DROPPED);
    return deny ? 0 : 1;
}

// GPL-compatible for the kernel, MIT like the rest.
char _license[] SEC("license") = "Dual MIT/GPL";
