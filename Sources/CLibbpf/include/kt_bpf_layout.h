// The layout of every map key, value and ring-buffer record that keepalived-tune's kernel
// programs (Sources/KeepaliveBPF/programs/*.bpf.c) share with the daemon. One header, included
// by the BPF C and imported by Swift through CLibbpf, so the two sides cannot disagree.
//
// A change here changes the maps' value sizes: a restarted daemon then finds pinned maps it
// cannot reuse and replaces them (their counters start again at zero). Keep the sizes stable.
#pragma once
#include <linux/types.h>

/// What the keepalive program gives a new connection of one workload (the `workloads` map's
/// value, keyed by the workload's cgroup id, a `__u64`).
struct kt_keepalive_policy {
    /// TCP_KEEPIDLE, in seconds (1..32767).
    __u32 time;
    /// TCP_KEEPINTVL, in seconds (1..32767).
    __u32 intvl;
    /// TCP_KEEPCNT (1..127).
    __u32 probes;
    /// TCP_USER_TIMEOUT, in milliseconds; 0 leaves it alone.
    __u32 user_timeout_ms;
};

/// What the keepalive program did with the connections of one workload (the `counters`
/// map's per-CPU value, keyed by the workload's cgroup id). Every established connection of
/// a workload in the map counts exactly once.
struct kt_keepalive_counters {
    /// Connections that were given at least one option, with no failure.
    __u64 given;
    /// Connections whose application had already set every option the policy names.
    __u64 left_alone;
    /// Connections for which the kernel refused an option (bpf_setsockopt failed).
    __u64 failed;
};

/// The sysctl program's keys: an index into `policy`, and the `key` of an event.
enum kt_sysctl_key {
    KT_SYSCTL_TIME = 0,    // net/ipv4/tcp_keepalive_time
    KT_SYSCTL_INTVL = 1,   // net/ipv4/tcp_keepalive_intvl
    KT_SYSCTL_PROBES = 2,  // net/ipv4/tcp_keepalive_probes
    KT_SYSCTL_KEYS = 3,
};

/// A `policy` entry's flag: writes to this key by writers not exempt are refused (EPERM).
#define KT_SYSCTL_DENY 1u

/// The sysctl program's counters: indexes into its per-CPU `counters` array.
enum kt_sysctl_counter {
    KT_SYSCTL_SEEN = 0,      // writes to an owned key that change it, by writers not exempt
    KT_SYSCTL_DENIED = 1,    // of those, refused
    KT_SYSCTL_DROPPED = 2,   // events lost because the ring buffer was full
    KT_SYSCTL_COUNTERS = 3,
};

/// An event's `verdict`.
#define KT_SYSCTL_ALLOWED 0u
#define KT_SYSCTL_REFUSED 1u

/// The sizes of an event's text fields (each NUL-terminated, trailing newline cut).
#define KT_COMM_LEN 16
#define KT_VALUE_LEN 24

/// One write to an owned key, as the sysctl program sends it through the `events` ring buffer.
struct kt_sysctl_event {
    /// The writer's cgroup id (cgroup v2), from bpf_get_current_cgroup_id.
    __u64 cgroup_id;
    /// The writer's process id (thread-group id) in the initial PID namespace.
    __u32 pid;
    /// The writer's uid in the initial user namespace.
    __u32 uid;
    /// Which key (enum kt_sysctl_key).
    __u32 key;
    /// KT_SYSCTL_ALLOWED or KT_SYSCTL_REFUSED.
    __u32 verdict;
    /// The writer's command name.
    char comm[KT_COMM_LEN];
    /// The value before the write, as the kernel prints it.
    char old_value[KT_VALUE_LEN];
    /// The value being written, as the writer wrote it.
    char new_value[KT_VALUE_LEN];
};
