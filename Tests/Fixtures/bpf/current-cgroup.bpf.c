// SPDX-License-Identifier: MIT OR GPL-2.0-only
// A witness for the tests, never shipped: on each passive establishment, records the cgroup
// of `current` (seen[0]) and of the socket itself, read as keepalive.bpf.c reads it (seen[1]).
// The test shows the two differ: sock_ops allows bpf_get_current_cgroup_id(), but in the
// passive callback `current` is whatever task the softirq interrupted, not the server.
#include "kt_keepalive.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
} seen SEC(".maps");

SEC("sockops")
int current_cgroup(struct bpf_sock_ops *ctx) {
    if (ctx->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB || !ctx->sk)
        return 1;
    struct tcp_sock *tp = bpf_skc_to_tcp_sock(ctx->sk);
    if (!tp)
        return 1;
    __u32 current_index = 0, socket_index = 1;
    __u64 current = bpf_get_current_cgroup_id();
    __u64 socket = tp->inet_conn.icsk_inet.sk.sk_cgrp_data.cgroup->kn->id;
    bpf_map_update_elem(&seen, &current_index, &current, BPF_ANY);
    bpf_map_update_elem(&seen, &socket_index, &socket, BPF_ANY);
    return 1;
}

char _license[] SEC("license") = "Dual MIT/GPL";
