"""Other network namespaces under `[namespaces]`: how soon a new one is in force, 1,000 at
once against the naive `ip netns exec ... sysctl -w` loop, the idle cost of 1,000 managed
ones, and the /proc rescan among 10,000 processes. Everything happens in the harness's
private mount namespace (its own /run, so its own /run/netns) and in namespaces it makes;
podman's containers are made in the host's mount namespace and removed."""
import ctypes, os, shutil, statistics, subprocess, time

from kit import fmt_figure, median_of, CLONE_NEWNET, KEYS, WEB, check, fresh_network_namespace, libc, now, percentile

IN_MODIFY = 0x2


def values_in(path):
    """Opens the three files inside the namespace at `path` (setns there and back); returns
    (fds, inotify fd) to wait on."""
    target = os.open(path, os.O_RDONLY)
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        check(libc.setns(target, CLONE_NEWNET), "setns")
        fds = [os.open(f"/proc/sys/net/ipv4/{key}", os.O_RDONLY) for key in KEYS]
        inotify = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        for key in KEYS:
            libc.inotify_add_watch(inotify, f"/proc/sys/net/ipv4/{key}".encode(), IN_MODIFY)
    finally:
        check(libc.setns(own, CLONE_NEWNET), "setns back")
        os.close(target)
        os.close(own)
    return fds, inotify


def wait_values(fds, inotify, values, deadline):
    """The time the files read `values`, or None at the deadline."""
    import select
    try:
        while True:
            if tuple(int(os.pread(fd, 32, 0)) for fd in fds) == values:
                return now()
            if now() >= deadline:
                return None
            select.select([inotify], [], [], min(0.05, max(0, deadline - now())))
            try:
                while os.read(inotify, 4096):
                    pass
            except BlockingIOError:
                pass
    finally:
        for fd in fds + [inotify]:
            os.close(fd)


class Namespaces:
    # key, label, unit, target text, check(ours, naive)
    NAMESPACE_ROWS = [
        ("netns-add", "`ip netns add` → profile in force (p50; p99 in the target cell)", "ms", "p50 ≤ 20, p99 ≤ 100", None),
        ("podman-run", "`podman run` returns → profile in force in the container (p50)", "ms", "p50 ≤ 50", lambda u, n: u <= 50),
        ("many-start", "1,000 existing namespaces: daemon start → all in force (naive: the `ip netns exec … sysctl -w` loop)",
         "ms", "≥ 50× faster than the loop", lambda u, n: n / u >= 50),
        ("many-cpu", "idle, 1,000 managed namespaces, 5 s checks: CPU", "% of a core", "≤ 0.1 %", lambda u, n: u <= 0.1),
        ("many-rss", "the same: RSS (VmRSS)", "MB", "≤ 8 MB", lambda u, n: u <= 8),
        ("many-wakeups", "the same: wake-ups (context switches)", "/s", "report", None),
        ("rescan", "the periodic /proc rescan with 10,000 processes: CPU per rescan", "ms", "report", None),
    ]
    FIGURES = []

    def namespaces(self):
        self.namespace_results = {}
        quick = self.quick

        def keep(key, who, value):
            self.namespace_results.setdefault(key, {}).setdefault(who, []).append(value)

        rules = "[namespaces]\nmanage = matching\nrescan-interval = {rescan}\n[namespaces.rules]\nweb = netns:kt-bench-* podman:kt-bench-*\n"

        # 1. ip netns add → in force.
        fresh_network_namespace()
        daemon = self.ours(extra=rules.format(rescan="30s"))
        daemon.notify.wait_for("READY=1", now() + 30)
        samples = 5 if quick else 40
        self.progress(f"namespaces: ip netns add → in force, {samples} times")
        for index in range(samples):
            name = f"kt-bench-add-{index}"
            started = now()
            subprocess.run(["ip", "netns", "add", name], check=True)
            fds, inotify = values_in(f"/run/netns/{name}")
            seen = wait_values(fds, inotify, WEB, started + 10)
            if seen is None:
                raise RuntimeError(f"{name} never came under the profile")
            keep("netns-add", "us", (seen - started) * 1000)
        daemon.stop()
        for index in range(samples):
            subprocess.run(["ip", "netns", "delete", f"kt-bench-add-{index}"], check=True)

        # 2. podman run → in force (the daemon's mount namespace a slave of the host's, as a
        # systemd service's is; podman in the host's).
        if shutil.which("podman") and shutil.which("runc") and os.path.exists("/bin/busybox"):
            try:
                self.podman_figure(rules, keep)
            except (OSError, RuntimeError, subprocess.CalledProcessError) as error:
                # podman that cannot run containers here is the machine's limit, not the daemon's.
                self.notes["namespaces-podman"] = f"namespaces: the podman figure could not be measured here: {error}"
        else:
            self.notes["namespaces-podman"] = "namespaces: podman, runc or busybox-static is missing: no podman figure"

        # 3. 1,000 namespaces at once, against the naive loop.
        count = 100 if quick else 1000
        self.progress(f"namespaces: {count} namespaces, daemon start → all in force, and the naive loop")
        names = [f"kt-bench-many-{index}" for index in range(count)]
        for name in names:
            subprocess.run(["ip", "netns", "add", name], check=True)
        fresh_network_namespace()
        started = now()
        daemon = self.ours(extra=rules.format(rescan="30s"))
        done = daemon.notify.wait_for(f"STATUS=profile server in force: 1800/30/3, dead peers found within 31min 30s; {count} namespaces managed, 0 drifting",
                                      started + 120)
        if done is None:
            raise RuntimeError(f"the {count} namespaces never all came under the profile")
        keep("many-start", "us", (done - started) * 1000)
        # Idle with them all managed.
        window = 10 if quick else 60
        time.sleep(2)   # let start-up settle before the window opens
        switches, cpu = daemon.accounting()
        time.sleep(window)   # the figure is defined over a window of idle time
        switches2, cpu2 = daemon.accounting()
        keep("many-cpu", "us", (cpu2 - cpu) / 1e9 / window * 100)
        keep("many-wakeups", "us", (switches2 - switches) / window)
        keep("many-rss", "us", daemon.memory_kb()[0] / 1024)
        daemon.stop()
        script = "for n in \"$@\"; do ip netns exec \"$n\" sysctl -qw net.ipv4.tcp_keepalive_time=1800 net.ipv4.tcp_keepalive_intvl=15 net.ipv4.tcp_keepalive_probes=3; done"
        started = now()
        subprocess.run(["sh", "-c", script, "sh", *names], check=True)
        keep("many-start", "naive", (now() - started) * 1000)
        # The kernel's floor on the same namespaces: only the system calls, from C.
        floor = dict(line.split() for line in subprocess.run(
            [os.path.join(os.path.dirname(self.args.sleeper), "netns-floor"), "20", *[f"/run/netns/{name}" for name in names]],
            capture_output=True, text=True, check=True).stdout.splitlines())
        keep("many-start", "floor", float(floor["start-ms"]))
        keep("many-cpu", "floor", float(floor["round-us"]) / 5e6 * 100)   # one round every 5 s
        for name in names:
            subprocess.run(["ip", "netns", "delete", name], check=True)

        # 4. The /proc rescan among 10,000 processes: the daemon's CPU over rescans every
        # second, less its CPU over the same time with no extra processes.
        processes = 1000 if quick else 10000
        self.progress(f"namespaces: /proc rescan among {processes} processes")
        fresh_network_namespace()
        rescans = 5 if quick else 20

        def rescan_cpu():
            daemon = self.ours(extra=rules.format(rescan="1s"))
            daemon.notify.wait_for("READY=1", now() + 30)
            time.sleep(1.5)   # past the first scan at start
            _, cpu = daemon.accounting()
            time.sleep(rescans)   # `rescans` rescans, one a second
            _, cpu2 = daemon.accounting()
            daemon.stop()
            return (cpu2 - cpu) / 1e6 / rescans
        baseline = rescan_cpu()
        crowd = subprocess.Popen(["python3", "-c", CROWD, str(processes)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            if crowd.stdout.readline().strip() != b"ready":
                raise RuntimeError("the crowd of processes did not start")
            keep("rescan", "us", max(rescan_cpu() - baseline, 0))
        finally:
            crowd.stdin.close()
            crowd.wait()
        self.notes["namespaces"] = (
            f"namespaces: `ip netns add` in the harness's private mount namespace; {count} namespaces for the start and idle figures "
            f"({window} s window); the naive loop is `ip netns exec NAME sysctl -qw` with the three keys, once per namespace; "
            f"the rescan figure is the daemon's CPU with `rescan-interval = 1s` among {processes} sleeping processes, less the same without them")

    def podman_figure(self, rules, keep):
        runs = 2 if self.quick else 6
        self.progress(f"namespaces: podman run → in force, {runs} times")
        root = self.ws.unique("podman-root")
        for directory in ("bin", "proc", "sys", "dev", "etc", "tmp"):
            os.makedirs(f"{root}/{directory}")
        shutil.copy("/bin/busybox", f"{root}/bin/busybox")
        os.symlink("busybox", f"{root}/bin/sleep")
        # The host's mount namespace: the one the harness was started in (its parent's).
        host = ["nsenter", f"--mount=/proc/{os.getppid()}/ns/mnt", "--"]
        directory = self.ws.unique("podman-config")
        os.makedirs(directory, mode=0o700)
        config = self.ws.write_config(directory, "server", "5s", rules.format(rescan="30s"))
        runtime = self.ws.unique("podman-runtime")
        os.makedirs(runtime, mode=0o755)
        fresh_network_namespace()
        from kit import Daemon, NotifySocket
        sock = NotifySocket(self.ws.unique("notify"))
        # In a mount namespace of its own that receives the host's mounts (podman's pins),
        # with its runtime files in the workspace (a directory under /tmp, the same in both
        # mount namespaces).
        daemon = Daemon(host + ["unshare", "-m", "--propagation", "slave", "--", self.args.binary, "run",
                                "--config", config, "--runtime-dir", runtime, "--log-target", "console"],
                        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NOTIFY_SOCKET": sock.path},
                        stderr=open(self.ws.unique("podman-daemon.log"), "w"))
        daemon.notify = sock
        try:
            if sock.wait_for("READY=1", now() + 30) is None:
                raise RuntimeError("the daemon for the podman figure did not start")
            for index in range(runs):
                name = f"kt-bench-podman-{os.getpid()}-{index}"
                # --pidfile, read in microseconds, and not `podman inspect`, whose own start-up
                # (tens of ms) would count against the daemon.
                pidfile = self.ws.unique(f"{name}.pid")
                subprocess.run(host + ["podman", "--runtime", "runc", "run", "-d", "--ulimit", "nofile=20000:20000",
                                       "--ulimit", "nproc=1000:1000", "--name", name, "--pidfile", pidfile, "--rootfs", root,
                                       "/bin/sleep", "600"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                returned = now()
                try:
                    with open(pidfile) as file:
                        pid = file.read().strip()
                    fds, inotify = values_in(f"/proc/{pid}/ns/net")
                    seen = wait_values(fds, inotify, WEB, returned + 30)
                    if seen is None:
                        raise RuntimeError(f"podman container {name} never came under the profile")
                    keep("podman-run", "us", max(seen - returned, 0) * 1000)
                finally:
                    subprocess.run(host + ["podman", "rm", "-f", "-t", "0", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            daemon.stop()

    def namespaces_table(self):
        results = getattr(self, "namespace_results", None)
        if not results:
            return []

        def median(key, who):
            return median_of(results, key, who)

        fmt = fmt_figure

        lines = ["", "Other network namespaces (`[namespaces]`):", "",
                 "| figure | unit | keepalived-tune | naive loop | kernel floor | ratio | target | met |",
                 "|---|---|---|---|---|---|---|---|"]
        for key, label, unit, target, test in self.NAMESPACE_ROWS:
            ours, naive, floor = median(key, "us"), median(key, "naive"), median(key, "floor")
            if ours is None:
                continue
            ratio = f"{int(naive / ours * 10) / 10:.1f}× faster" if naive and ours else "—"
            if key == "netns-add":
                values = results[key]["us"]
                p50, p99 = percentile(values, 50), percentile(values, 99)
                met = "yes" if p50 <= 20 and p99 <= 100 else "NO"
                target = f"{target} (p50 {p50:.2f}, p99 {p99:.2f})"
            else:
                met = "report" if test is None else "yes" if test(ours, naive or 0) else "NO"
            if floor and naive and key == "many-start":
                target = f"{target} (the floor is {int(naive / floor * 10) / 10:.1f}× faster)"
            lines.append(f"| {label} | {unit} | {fmt(ours)} | {fmt(naive)} | {fmt(floor)} | {ratio} | {target} | {met} |")
        lines += ["", "The kernel floor is `bench/netns-floor.c` on the same namespaces: only the system calls any "
                  "such program must make (setns, three opens, read, write, read back; then one pread of each file per "
                  "check), from C. Each open of a namespace's sysctl file walks a dentry hash chain that holds that "
                  "file of every namespace, so starting 1,000 costs the kernel time that grows with their square."]
        return lines


# Forks N children that sleep until their parent's stdin closes: a crowd of processes for
# the rescan to stat.
CROWD = """
import os, sys, signal
count = int(sys.argv[1])
children = []
for _ in range(count):
    pid = os.fork()
    if pid == 0:
        signal.pause()
        os._exit(0)
    children.append(pid)
print("ready", flush=True)
sys.stdin.read()
for pid in children:
    os.kill(pid, signal.SIGKILL)
for pid in children:
    os.waitpid(pid, 0)
"""
