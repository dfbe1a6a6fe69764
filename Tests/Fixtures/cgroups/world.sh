#!/bin/bash
# world.sh OUT SCENARIO BINARY: runs SCENARIO (a bash script) in a world of its own, for tests
# of the units a cgroup path names (issue 32). Run it under `unshare -m --propagation private`.
#
# A cgroup2 hierarchy is mounted in this private mount namespace, and a cgroup of the test's own
# (kt-world-PID-N, under the root) is made there. The scenario runs in new PID, network, mount
# and cgroup namespaces rooted at that cgroup, with the hierarchy mounted again at
# /sys/fs/cgroup/unified as the code under test looks for it: there, its cgroups read
# /system.slice/..., /user.slice/... as on a host, and nothing of the host's tree is in view.
# The scenario's processes end with its PID namespace; then every cgroup it made is removed,
# deepest first, whatever the scenario's outcome. Nothing outside kt-world-PID-N is touched.
#
# The scenario gets $O (OUT), $R (its cgroup root), $B (BINARY), and the functions cg (make
# cgroups) and member (start a process in a cgroup and a network namespace).
set -u
O="$1" SCENARIO="$2" B="$3"
if [ -z "${KT_WORLD_INSIDE:-}" ]; then
    D="$O/cgroup2"
    mkdir -p "$D" && mount -t cgroup2 kt-cgroup2 "$D" || exit 91
    T="$D/kt-world-$$-$RANDOM"
    mkdir "$T" || { umount "$D"; exit 92; }
    cleanup() {
        find "$T" -depth -type d -exec rmdir {} + 2>> "$O/cleanup.err"
        if [ -e "$T" ]; then echo "world.sh: left behind: $T" >&2; rc=95; fi
        umount "$D"
        exit "$rc"
    }
    rc=1
    trap cleanup EXIT
    # A subshell joins the test's cgroup and becomes the root of the world's cgroup namespace.
    ( echo 0 > "$T/cgroup.procs" && KT_WORLD_INSIDE=1 exec unshare -C -p -n -m -f --mount-proc --propagation private bash "$0" "$@" )
    rc=$?
    exit "$rc"
fi

R=/sys/fs/cgroup/unified
mount -t tmpfs kt-cgroup-root /sys/fs/cgroup && mkdir -p "$R" && mount -t cgroup2 kt-cgroupns "$R" || exit 93
mount -t tmpfs tmpfs /run || exit 94
ip link set lo up || exit 94
HERE="$(dirname "$0")"

# cg PATH...: makes the cgroups (and their parents) under the world's root.
cg() { for path in "$@"; do mkdir -p "$R/$path" || exit 96; done; }

# member NAME CGROUP NET [PORT]: starts a process in cgroup CGROUP, in a new network namespace
# (NET = new), that of process NET, or the world's own (NET = here). With PORT it holds a TCP
# connection to itself on 127.0.0.1:PORT. Waits until it is in place; its PID is then in $O/NAME.pid.
member() {
    local name="$1" cgroup="$2" net="$3" port="${4:-}"
    mkfifo "$O/$name.ready" || exit 96
    case "$net" in
        new) unshare -n python3 "$HERE/member.py" "$R/$cgroup" "$O/$name.ready" $port & ;;
        here) python3 "$HERE/member.py" "$R/$cgroup" "$O/$name.ready" $port & ;;
        *) nsenter -t "$net" -n python3 "$HERE/member.py" "$R/$cgroup" "$O/$name.ready" $port & ;;
    esac
    read -r pid < "$O/$name.ready" || exit 96
    echo "$pid" > "$O/$name.pid"
    eval "$name=$pid"
}

. "$SCENARIO"
