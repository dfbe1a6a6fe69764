// The kernel structures keepalived-tune's programs read through BTF, and the keepalive
// program's maps: shared by keepalive.bpf.c and the test programs in Tests/Fixtures/bpf.
#pragma once
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "kt_bpf_layout.h"

// CO-RE views of the kernel structures read: only the fields used, relocated by libbpf
// against the running kernel's BTF (/sys/kernel/btf/vmlinux).
struct kernfs_node {
    __u64 id;
} __attribute__((preserve_access_index));

struct cgroup;

struct cgroup_subsys_state {
    struct cgroup *cgroup;
    struct cgroup_subsys_state *parent;
} __attribute__((preserve_access_index));

struct cgroup {
    struct cgroup_subsys_state self;
    struct kernfs_node *kn;
} __attribute__((preserve_access_index));

struct sock_cgroup_data {
    struct cgroup *cgroup;
} __attribute__((preserve_access_index));

struct sock {
    struct sock_cgroup_data sk_cgrp_data;
} __attribute__((preserve_access_index));

struct inet_sock {
    struct sock sk;
} __attribute__((preserve_access_index));

struct inet_connection_sock {
    struct inet_sock icsk_inet;
} __attribute__((preserve_access_index));

struct tcp_sock {
    struct inet_connection_sock inet_conn;
    unsigned int keepalive_time;
    unsigned int keepalive_intvl;
    __u8 keepalive_probes;
} __attribute__((preserve_access_index));

/// The `counters` map's entries (a test's stand-in for an older release sets another).
#ifndef KT_COUNTERS_ENTRIES
#define KT_COUNTERS_ENTRIES 4096
#endif

/// The selected workloads: cgroup id -> what their new connections get. Written by the daemon.
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u64);
    __type(value, struct kt_keepalive_policy);
} workloads SEC(".maps");

/// What was done, per workload (cgroup id of the matching `workloads` entry), per CPU.
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, KT_COUNTERS_ENTRIES);
    __type(key, __u64);
    __type(value, struct kt_keepalive_counters);
} counters SEC(".maps");

