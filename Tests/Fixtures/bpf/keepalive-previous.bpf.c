// SPDX-License-Identifier: MIT OR GPL-2.0-only
// A stand-in for an older release's keepalive program, for the tests of adoption: a sock_ops
// program of the same name and maps, with other instructions (so another tag) that gives
// nothing, and a `counters` map of another size (so a layout the loader must replace).
// Built by scripts/build-bpf beside the real programs; never shipped.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "kt_bpf_layout.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u64);
    __type(value, struct kt_keepalive_policy);
} workloads SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 1024);
    __type(key, __u64);
    __type(value, struct kt_keepalive_counters);
} counters SEC(".maps");

SEC("sockops")
int keepalive_at_birth(struct bpf_sock_ops *ctx) {
    __u64 none = 0;
    return bpf_map_lookup_elem(&workloads, &none) ? 1 : 1;
}

char _license[] SEC("license") = "Dual MIT/GPL";
