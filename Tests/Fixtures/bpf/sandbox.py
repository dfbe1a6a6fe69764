#!/usr/bin/env python3
"""A cgroup2 hierarchy and a bpf file system of the test's own, for the BPF tests.

Run in a private mount namespace (unshare -m --propagation private), so that both mounts
exist only there and vanish with it, even if the test dies:

  sandbox.py DIR NAME

mounts cgroup2 at DIR/cgroup and a new bpffs at DIR/bpf, creates the sub-cgroup
DIR/cgroup/NAME (the only place the tests create cgroups and attach programs: never the
root of the host's tree), prints `ready {"pid": PID}` and waits for end of input (the test
closes it, or died). Then it cleans up what the tests may have left: every process still in
NAME's subtree is killed (cgroup.kill: the tests put only their own processes there), and,
once cgroup.events says the subtree is empty, every cgroup under NAME and NAME itself is
removed, bottom up. The tests reach the mounts through /proc/PID/root/DIR/...
The bpffs goes away with the namespace, and with it any pin a failed test left: an
attached link whose last pin goes is detached.
"""
import json
import os
import select
import subprocess
import sys
import time


def wait_empty(cgroup, limit=60):
    """Waits until cgroup.events says `populated 0` (the kernel signals a change with POLLPRI),
    at most `limit` seconds: a process that cannot die leaves its cgroups behind, and says so."""
    events = os.open(os.path.join(cgroup, "cgroup.events"), os.O_RDONLY)
    deadline = time.monotonic() + limit
    try:
        poller = select.poll()
        poller.register(events, select.POLLPRI)
        while True:
            os.lseek(events, 0, os.SEEK_SET)
            if b"populated 0" in os.read(events, 4096):
                return
            left = deadline - time.monotonic()
            if left <= 0:
                sys.exit(f"sandbox.py: {cgroup} still has processes after {limit} s; its cgroups stay")
            poller.poll(int(left * 1000))
    finally:
        os.close(events)


def remove_tree(root):
    """Removes every cgroup under root, then root: children first."""
    for directory, _, _ in sorted(os.walk(root), key=lambda entry: -entry[0].count("/")):
        os.rmdir(directory)


def main():
    base, name = sys.argv[1], sys.argv[2]
    cgroup_mount, bpf_mount = os.path.join(base, "cgroup"), os.path.join(base, "bpf")
    subprocess.run(["mount", "-t", "cgroup2", "none", cgroup_mount], check=True)
    subprocess.run(["mount", "-t", "bpf", "none", bpf_mount], check=True)
    root = os.path.join(cgroup_mount, name)
    os.mkdir(root)
    print("ready " + json.dumps({"pid": os.getpid()}), flush=True)
    sys.stdin.read()
    kill = os.path.join(root, "cgroup.kill")
    if os.path.exists(kill):
        with open(kill, "w") as handle:
            handle.write("1")
    wait_empty(root)
    remove_tree(root)
    print("clean", flush=True)


if __name__ == "__main__":
    main()
