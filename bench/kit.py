"""The benchmark's building blocks: namespaces, the three sysctls, an sd_notify socket, the
workspace (a private mount namespace) and a daemon process with its kernel accounting."""
import ctypes, os, select, shutil, signal, socket, subprocess, tempfile, time

CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_REC, MS_PRIVATE, MS_BIND = 0x4000, 1 << 18, 4096
IN_MODIFY = 0x2
KEYS = ("tcp_keepalive_time", "tcp_keepalive_intvl", "tcp_keepalive_probes")
SERVER, WEB = (1800, 30, 3), (1800, 15, 3)
libc = ctypes.CDLL(None, use_errno=True)


def check(result, what):
    if result != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def now():
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def fresh_network_namespace():
    """A new network namespace for this process: the three values start at 7200/75/9."""
    check(libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")


class Sysctls:
    """The three files in the current network namespace, with an inotify watch on them."""

    def __init__(self, root="/proc/sys"):
        self.paths = [f"{root}/net/ipv4/{key}" for key in KEYS]
        self.fds = [os.open(path, os.O_RDWR) for path in self.paths]
        self.inotify = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        for path in self.paths:
            if libc.inotify_add_watch(self.inotify, path.encode(), IN_MODIFY) < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch {path}")

    def read(self):
        return tuple(int(os.pread(fd, 32, 0)) for fd in self.fds)

    def write(self, values, fds=None):
        for fd, value in zip(fds or self.fds, values):
            os.pwrite(fd, f"{value}\n".encode(), 0)

    def drain(self):
        try:
            while os.read(self.inotify, 4096):
                pass
        except BlockingIOError:
            pass

    def wait_for(self, values, deadline, extra=()):
        """Waits on inotify (and `extra` fds) until the values read back as `values`.
        Returns the CLOCK_MONOTONIC time they were seen, or None at the deadline."""
        while True:
            if self.read() == values:
                return now()
            left = deadline - now()
            if left <= 0:
                return None
            select.select([self.inotify, *extra], [], [], left)
            self.drain()

    def close(self):
        for fd in self.fds:
            os.close(fd)
        os.close(self.inotify)


class NotifySocket:
    """An sd_notify socket like systemd's: datagrams of KEY=VALUE lines."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.setblocking(False)

    def messages(self):
        out = []
        while True:
            try:
                out.append(self.sock.recv(65536).decode())
            except BlockingIOError:
                return out

    def wait_for(self, field, deadline):
        """Waits for a datagram containing the line `field`; returns its arrival time."""
        while now() < deadline:
            select.select([self.sock], [], [], max(0, deadline - now()))
            for message in self.messages():
                if field in message.split("\n"):
                    return now()
        return None

    def close(self):
        self.sock.close()
        os.unlink(self.path)


class Workspace:
    """Temp dirs, the private mount namespace, configs for both daemons, the second procfs."""

    def __init__(self, binary):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="keepalived-tune-bench.")   # 0700: strict modes
        self.counter = 0
        check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
        # tuned rewrites /etc/tuned/active_profile and re-applies sysctl.d: give it private
        # copies, so that nothing on the host changes.
        etc_tuned = self.path("etc-tuned")
        shutil.copytree("/etc/tuned", etc_tuned)
        for name, values in (("server", SERVER), ("web", WEB)):
            os.makedirs(f"{etc_tuned}/keepalived-tune-bench-{name}")
            with open(f"{etc_tuned}/keepalived-tune-bench-{name}/tuned.conf", "w") as f:
                f.write(f"[main]\nsummary=keepalived-tune benchmark: {'/'.join(map(str, values))}\n\n[sysctl]\n"
                        + "".join(f"net.ipv4.{k}={v}\n" for k, v in zip(KEYS, values)))
        self.bind(etc_tuned, "/etc/tuned")
        empty = self.path("empty")
        os.makedirs(empty)
        for directory in ("/etc/sysctl.d", "/run/sysctl.d"):
            if os.path.isdir(directory):
                self.bind(empty, directory)
        if os.path.exists("/etc/sysctl.conf"):
            self.bind("/dev/null", "/etc/sysctl.conf")
        # /run is a tmpfs on every systemd host (here it may sit on the root disk, where a
        # file rename costs a journal commit): the daemons' runtime files go there.
        check(libc.mount(b"tmpfs", b"/run", b"tmpfs", 0, b"mode=0755"), "mount tmpfs /run")
        # A second procfs instance: writes through it reach the same namespace's values, but
        # inotify on the first instance does not see them.
        self.proc2 = self.path("proc2")
        os.makedirs(self.proc2)
        check(libc.mount(b"proc", self.proc2.encode(), b"proc", 0, None), "mount proc")

    def path(self, name):
        return os.path.join(self.dir, name)

    def unique(self, stem):
        self.counter += 1
        return self.path(f"{stem}-{self.counter}")

    def bind(self, source, target):
        check(libc.mount(source.encode(), target.encode(), None, MS_BIND, None), f"bind {source} {target}")

    def write_config(self, directory, profile, check_interval="5s", extra=""):
        """Saves the config atomically (write a temp file, rename), as editors do."""
        path = f"{directory}/keepalived-tune.conf"
        with open(path + ".new", "w") as f:
            f.write(f"[daemon]\nprofile = {profile}\ncheck-interval = {check_interval}\n"
                    "on-drift = enforce\nrestore-on-stop = no\n" + extra)
        os.rename(path + ".new", path)
        return path

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Daemon:
    """One daemon process, started in the current network namespace."""
    started_all = []   # stopped at the end of the run even when a step fails midway

    def __init__(self, argv, env=None, stderr=None):
        self.started = now()
        self.process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=stderr or subprocess.DEVNULL)
        self.pid = self.process.pid
        Daemon.started_all.append(self)

    def tasks(self):
        return os.listdir(f"/proc/{self.pid}/task")

    def task_file(self, task, name):
        """The text of /proc/PID/task/TASK/NAME, or "" if that thread has ended meanwhile (the
        connections audit's scan threads come and go)."""
        try:
            with open(f"/proc/{self.pid}/task/{task}/{name}") as f:
                return f.read()
        except (FileNotFoundError, ProcessLookupError):
            return ""

    def context_switches(self):
        total = 0
        for task in self.tasks():
            for line in self.task_file(task, "status").splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
        return total

    def cpu_ns(self):
        """utime+stime of every thread, in nanoseconds (the scheduler's run time)."""
        return sum(int((self.task_file(t, "schedstat") or "0").split()[0]) for t in self.tasks())

    def accounting(self):
        """(context switches, CPU ns) now, for ``cpu_per_wakeup_us``."""
        return self.context_switches(), self.cpu_ns()

    def cpu_per_wakeup_us(self, since):
        """CPU per wake-up (context switch) since an ``accounting()``, in µs."""
        switches = self.context_switches() - since[0]
        return (self.cpu_ns() - since[1]) / 1000 / max(switches, 1)

    def binary_shared_with_others(self):
        """Whether another process maps the same executable file: its pages would then count
        as shared, and the private figure would be too small."""
        exe = os.stat(f"/proc/{self.pid}/exe")
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == self.pid:
                continue
            try:
                other = os.stat(f"/proc/{entry}/exe")
            except OSError:
                continue
            if (other.st_dev, other.st_ino) == (exe.st_dev, exe.st_ino):
                return int(entry)
        return None

    def memory_kb(self):
        rss = next(int(l.split()[1]) for l in open(f"/proc/{self.pid}/status") if l.startswith("VmRSS:"))
        private = 0
        for line in open(f"/proc/{self.pid}/smaps_rollup"):
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                private += int(line.split()[1])
        return rss, private

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def percentile(values, p):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def median_of(results, key, who):
    """The median of one figure's samples for one program, or None if there are none."""
    import statistics
    values = results.get(key, {}).get(who)
    return statistics.median(values) if values else None


def fmt_figure(value):
    """A figure for the tables: three significant places or so, an em dash for none."""
    return ("—" if value is None else f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 10
            else f"{value:.1f}" if value < 100 else f"{value:.0f}")
