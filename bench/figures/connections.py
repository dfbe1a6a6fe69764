"""The connections audit at scale, side by side with ss and lsof on the same sockets:
100,000 loopback TCP sockets held by 10 processes (bench/holder.py) in a private network
namespace, and --enable-keepalive on the 702 sockets of the project's story. Wall time and
peak RSS of each command come from wait4(2)."""
import os, statistics, subprocess, time

from kit import fmt_figure, median_of, fresh_network_namespace


def measure(argv):
    """Runs argv with its output thrown away; returns (wall seconds, peak RSS MB, exit status)."""
    actions = [(os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)]
    started = time.monotonic()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    return time.monotonic() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


class Holders:
    """Processes holding loopback connections (both ends), none with SO_KEEPALIVE."""

    def __init__(self, processes, connections_each, first_port):
        self.processes = [subprocess.Popen(["python3", os.path.join(os.path.dirname(__file__), "..", "holder.py"),
                                            str(connections_each), str(first_port + index)],
                                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                          for index in range(processes)]
        for process in self.processes:
            if process.stdout.readline().strip() != b"ready":
                raise RuntimeError("bench/holder.py did not get ready")

    def stop(self):
        for process in self.processes:
            process.stdin.close()
            process.wait()


class Connections:
    # Rows of the connections table: key, label, unit, target text, check(ours, ss, lsof).
    CONNECTION_ROWS = [
        ("audit", "audit of {n} TCP sockets held by 10 processes, with process attribution (`connections --all`; `ss -tanoip`; `lsof -nP -iTCP`)",
         "s", "≥ 2× faster than ss, ≥ 3× faster than lsof", lambda u, s, l: s / u >= 2 and l / u >= 3),
        ("audit-rss", "peak RSS of that audit", "MB", "report", None),
        ("audit-exact", "the same with exact per-socket keepalive state (`--all --exact`)", "s", "report", None),
        ("audit-summary", "the default summary by process (`connections`)", "s", "report", None),
        ("audit-json", "the same as JSON (`connections --json`)", "s", "report", None),
        ("enable-702", "`--enable-keepalive --pid P` on 702 sockets (scan included)", "ms", "≤ 50 ms", lambda u, s, l: u <= 50),
    ]
    FIGURES = []

    def connections(self):
        sockets = 10_000 if self.quick else 100_000
        runs = 1 if self.quick else 3
        binary = self.args.binary
        self.connection_results = {}

        def keep(key, who, value):
            self.connection_results.setdefault(key, {}).setdefault(who, []).append(value)

        self.progress(f"connections audit: {sockets} sockets held by 10 processes, {runs} runs per command")
        fresh_network_namespace()
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        holders = Holders(10, sockets // 20, 21000)
        try:
            commands = [("audit", "us", [binary, "connections", "--all"]),
                        ("audit", "ss", ["ss", "-tanoip"]),
                        ("audit", "lsof", ["lsof", "-nP", "-iTCP"]),
                        ("audit-exact", "us", [binary, "connections", "--all", "--exact"]),
                        ("audit-summary", "us", [binary, "connections"]),
                        ("audit-json", "us", [binary, "connections", "--json"]),
                        ("audit-summary", "ss", ["ss", "-tanoi"])]
            for _ in range(runs):
                for key, who, argv in commands:
                    wall, rss, status = measure(argv)
                    if status != 0:
                        raise RuntimeError(f"{' '.join(argv)} exited {status}")
                    keep(key, who, wall)
                    if key == "audit":
                        keep("audit-rss", who, rss)
        finally:
            holders.stop()
        # The 100,000 sockets just closed linger in TIME-WAIT for 60 s: the story's 702 get a
        # namespace of their own.
        fresh_network_namespace()
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        for _ in range(runs * 3):
            story = Holders(1, 351, 22000)   # 351 connections, both ends held: 702 sockets
            try:
                pid = str(story.processes[0].pid)
                wall, _, status = measure([binary, "connections", "--enable-keepalive", "--pid", pid])
                if status != 0:
                    raise RuntimeError(f"--enable-keepalive exited {status}")
                keep("enable-702", "us", wall * 1000)
                done = subprocess.run([binary, "connections", "--pid", pid, "--json"], capture_output=True, text=True).stdout
                if '"keepalive" : "off"' in done:
                    raise RuntimeError("--enable-keepalive left a socket without keepalive")
            finally:
                story.stop()
        self.notes["connections"] = (
            f"connections: {sockets} loopback TCP sockets ({sockets // 2} connections, both ends) held by 10 Python processes "
            f"in a private network namespace; {runs} runs per command, wall time and peak RSS from wait4(2); "
            "`ss -tanoi` (no process attribution) for reference: "
            f"{statistics.median(self.connection_results['audit-summary']['ss']):.2f} s")
        self.connection_sockets = sockets

    def connections_table(self):
        results = getattr(self, "connection_results", None)
        if not results:
            return []

        def median(key, who):
            return median_of(results, key, who)

        fmt = fmt_figure

        lines = ["", "Connections audit, side by side with `ss` and `lsof` on the same sockets:", "",
                 "| figure | unit | keepalived-tune | ss | lsof | ratio | target | met |", "|---|---|---|---|---|---|---|---|"]
        for key, label, unit, target, test in self.CONNECTION_ROWS:
            ours, ss, lsof = median(key, "us"), median(key, "ss"), median(key, "lsof")
            if ours is None:
                continue
            ratio = "—"
            if key == "audit" and ss and lsof:
                ratio = f"{int(ss / ours * 10) / 10:.1f}× vs ss, {int(lsof / ours * 10) / 10:.1f}× vs lsof"
            met = "report" if test is None else "yes" if test(ours, ss or 0, lsof or 0) else "NO"
            lines.append(f"| {label.format(n=f'{self.connection_sockets:,}')} | {unit} | {fmt(ours)} | {fmt(ss)} | {fmt(lsof)} | {ratio} | {target} | {met} |")
        return lines
