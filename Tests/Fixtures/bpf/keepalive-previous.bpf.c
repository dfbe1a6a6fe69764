// SPDX-License-Identifier: MIT OR GPL-2.0-only
// A stand-in for an older release's keepalive program, for the tests of adoption: a sock_ops
// program of the same name and maps, with other instructions (so another tag) that gives
// nothing, and a `counters` map of another size (so a layout the loader must replace).
// Built by scripts/build-bpf beside the real programs; never shipped.
#define KT_COUNTERS_ENTRIES 1024
#include "kt_keepalive.h"

SEC("sockops")
int keepalive_at_birth(struct bpf_sock_ops *ctx) {
    __u64 none = 0;
    return bpf_map_lookup_elem(&workloads, &none) ? 1 : 1;
}

char _license[] SEC("license") = "Dual MIT/GPL";
