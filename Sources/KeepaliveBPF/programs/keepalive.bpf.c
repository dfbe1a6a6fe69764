// SPDX-License-Identifier: MIT OR GPL-2.0-only
// Keepalive at connection birth: a cgroup sock_ops program that gives every new TCP
// connection of a selected workload its keepalive options, set in the kernel the moment the
// connection is established (kernel 5.9+ for bpf_setsockopt's SO_KEEPALIVE, TCP_KEEP* and
// TCP_USER_TIMEOUT; CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON to load).
//
// - The workload is the SOCKET's cgroup, recorded when the socket was created (an accepted
//   socket inherits its listener's), or its nearest ancestor in `workloads`. Not the current
//   task's: the passive side runs in softirq, where `current` is whoever the CPU interrupted
//   (over loopback, typically the connecting client). sock_ops has no helper for the
//   socket's cgroup (bpf_sk_cgroup_id: "program of this type cannot use helper"), so it is
//   read through BTF: sk->sk_cgrp_data.cgroup, then up through cgroup->self.parent.
// - An application's own choice stands: an option it set itself is left as it is; only what
//   is missing is given. SO_KEEPALIVE and TCP_USER_TIMEOUT come from bpf_getsockopt (exact).
//   TCP_KEEPIDLE/INTVL/CNT cannot: getsockopt reports the namespace's sysctl when the socket
//   has none of its own. tcp_sock's own fields (keepalive_time, keepalive_intvl,
//   keepalive_probes) are 0 exactly when the socket has no value of its own, so they are read
//   through BTF (CO-RE). Limit: an application that set SO_KEEPALIVE or TCP_USER_TIMEOUT to
//   0 explicitly cannot be told from one that never set it, and is given them.
// - Every connection of a selected workload counts once in `counters`: given, left alone
//   (the application had set everything), or failed.
#include "kt_keepalive.h"

#define SOL_SOCKET 1
#define SO_KEEPALIVE 9
#define SOL_TCP 6
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#define TCP_USER_TIMEOUT 18

/// How many cgroup levels are walked up from the socket's own to find its workload.
#define KT_MAX_DEPTH 32

/// The nearest cgroup, from the socket's own up, that `workloads` names; 0 if none.
static __always_inline __u64 workload_of(struct tcp_sock *tp, struct kt_keepalive_policy **policy) {
    struct cgroup *cgroup = tp->inet_conn.icsk_inet.sk.sk_cgrp_data.cgroup;
    for (int level = 0; level < KT_MAX_DEPTH && cgroup; level++) {
        __u64 id = cgroup->kn->id;
        *policy = bpf_map_lookup_elem(&workloads, &id);
        if (*policy)
            return id;
        struct cgroup_subsys_state *parent = cgroup->self.parent;
        if (!parent)
            return 0;
        cgroup = parent->cgroup;
    }
    return 0;
}

/// Sets one integer option; returns 1 if the kernel refused it.
static __always_inline int set(struct bpf_sock_ops *ctx, int level, int name, __u32 value) {
    int v = (int)value;
    return bpf_setsockopt(ctx, level, name, &v, sizeof(v)) != 0;
}

/// Counts one connection of workload `id` in the field at `offset` of its counters.
static __always_inline void count(__u64 id, int outcome) {
    struct kt_keepalive_counters *c = bpf_map_lookup_elem(&counters, &id);
    if (!c) {
        struct kt_keepalive_counters zero = {};
        bpf_map_update_elem(&counters, &id, &zero, BPF_NOEXIST);
        c = bpf_map_lookup_elem(&counters, &id);
        if (!c)
            return;
    }
    // Per CPU, but a softirq can interrupt a program on the same CPU: add atomically.
    if (outcome == 0)
        __sync_fetch_and_add(&c->given, 1);
    else if (outcome == 1)
        __sync_fetch_and_add(&c->left_alone, 1);
    else
        __sync_fetch_and_add(&c->failed, 1);
}

SEC("sockops")
int keepalive_at_birth(struct bpf_sock_ops *ctx) {
    if (ctx->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && ctx->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
        return 1;
    struct bpf_sock *sk = ctx->sk;
    if (!sk)
        return 1;
    struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
    if (!tp)
        return 1;
    struct kt_keepalive_policy *policy = 0;
    __u64 id = workload_of(tp, &policy);
    if (!id || !policy)
        return 1;

    int given = 0, failed = 0, on = 0;
    if (!tp->keepalive_time) {
        failed |= set(ctx, SOL_TCP, TCP_KEEPIDLE, policy->time);
        given = 1;
    }
    if (!tp->keepalive_intvl) {
        failed |= set(ctx, SOL_TCP, TCP_KEEPINTVL, policy->intvl);
        given = 1;
    }
    if (!tp->keepalive_probes) {
        failed |= set(ctx, SOL_TCP, TCP_KEEPCNT, policy->probes);
        given = 1;
    }
    if (policy->user_timeout_ms) {
        int current = 0;
        if (bpf_getsockopt(ctx, SOL_TCP, TCP_USER_TIMEOUT, &current, sizeof(current)) != 0) {
            failed = 1;
        } else if (current == 0) {
            failed |= set(ctx, SOL_TCP, TCP_USER_TIMEOUT, policy->user_timeout_ms);
            given = 1;
        }
    }
    // SO_KEEPALIVE last: turning it on arms the timer with the idle time just set.
    if (bpf_getsockopt(ctx, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) != 0) {
        failed = 1;
    } else if (!on) {
        failed |= set(ctx, SOL_SOCKET, SO_KEEPALIVE, 1);
        given = 1;
    }
    count(id, failed ? 2 : given ? 0 : 1);
    return 1;
}

// GPL-compatible for the kernel (bpf_skc_to_tcp_sock and BTF reads), MIT like the rest.
char _license[] SEC("license") = "Dual MIT/GPL";
