#!/usr/bin/env python3
"""keepalived-tune and tuned, measured side by side in one run (see README.md, "Benchmarks").

Run by bench/run as root. Everything happens in a private mount namespace and in private
network namespaces, so the host's keepalive values, /etc/tuned and sysctl.d are never
changed. All figures come from the kernel's accounting (/proc, CLOCK_MONOTONIC), read by
this process; neither daemon grades itself. Each figure lives in bench/figures/.
"""
import argparse, datetime, os, platform, random, statistics, subprocess, sys

from kit import Daemon, NotifySocket, Workspace, percentile
from figures.startup import Startup
from figures.reload import Reload
from figures.switch import Switch
from figures.drift import Drift
from figures.checks import Checks
from figures.fight import Fight
from figures.idle import Idle
from figures.size import Size
from figures.connections import Connections
from figures.namespaces import Namespaces

FIGURE_CLASSES = [Startup, Idle, Drift, Reload, Switch, Checks, Fight, Size, Connections, Namespaces]


class Bench(*FIGURE_CLASSES):
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.runs = 3 if self.quick else args.runs
        self.ws = Workspace(args.binary)
        self.results = {}   # figure -> {"us": [..], "tuned": [..]}
        self.notes = {}
        self.bus = None
        self.random = random.Random(6)   # the poll-path pauses: varied, and the same in every run

    # --- launching ----------------------------------------------------------------------

    def ours(self, profile="server", check_interval="5s", watchdog=False, notify=True, stderr=None, extra=""):
        directory = self.ws.unique("config")   # each daemon its own (0700, as strict modes want)
        os.makedirs(directory, mode=0o700)
        config = self.ws.write_config(directory, profile, check_interval, extra)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        sock = None
        if notify:
            sock = NotifySocket(self.ws.unique("notify"))
            env["NOTIFY_SOCKET"] = sock.path
        if watchdog:
            env["WATCHDOG_USEC"] = "30000000"   # the shipped unit's WatchdogSec=30s
        daemon = Daemon([self.args.binary, "run", "--config", config, "--log-target", "console"],
                        env=env, stderr=stderr)
        daemon.notify = sock
        daemon.config_dir = directory
        return daemon

    def tuned(self, profile="server", dbus=False):
        argv = ["tuned", "-p", f"keepalived-tune-bench-{profile}", "-l", self.ws.unique("tuned.log"),
                "-P", self.ws.unique("tuned.pid")]
        env = dict(os.environ)
        if dbus:
            env["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus_address
        else:
            argv.insert(1, "--no-dbus")
        daemon = Daemon(argv, env=env)
        daemon.notify = None
        return daemon

    def start_bus(self):
        """A private system bus for tuned and tuned-adm (tuned falls back to checking for
        uid 0 when polkit is absent)."""
        socket_path = self.ws.path("system_bus_socket")
        config = self.ws.path("bus.conf")
        with open(config, "w") as f:
            f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path={socket_path}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/>
<allow receive_sender="*"/></policy></busconfig>
""")
        self.bus = subprocess.Popen(["dbus-daemon", "--config-file", config, "--nofork", "--print-address"],
                                    stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.bus_address = self.bus.stdout.readline().decode().strip()   # printed once listening

    def record(self, figure, who, value):
        self.results.setdefault(figure, {"us": [], "tuned": []})[who].append(value)

    def progress(self, text):
        print(f"bench: {text}", file=sys.stderr, flush=True)

    def record_check_cost(self, figure, raw_figure, per_wakeup):
        """Records the CPU per wake-up of ours ("us") as `raw_figure`, and ours and that of
        the C program that also reads ("reads"), each less the median bare wake-up
        ("floor"), as `figure` and `figure`-floor; returns that bare wake-up."""
        bare = statistics.median(per_wakeup["floor"])
        for raw in per_wakeup["us"]:
            self.record(raw_figure, "us", raw)
            self.record(figure, "us", max(raw - bare, 0))
        for raw in per_wakeup["reads"]:
            self.record(f"{figure}-floor", "us", max(raw - bare, 0))
        return bare

    # --- report ------------------------------------------------------------------------

    # Targets that are absolute, not ratios against tuned.
    ABSOLUTE = ("private", "check", "check-cold", "fight-cpu", "check-connections")

    def table(self):
        def fmt(values):
            if not values:
                return "—"
            digits = 2 if max(values) < 10 else 1 if max(values) < 100 else 0
            return (f"{statistics.median(values):.{digits}f} "
                    f"({min(values):.{digits}f}–{max(values):.{digits}f})")
        lines = ["| figure | unit | keepalived-tune median (min–max) | tuned median (min–max) | ratio | target | met |",
                 "|---|---|---|---|---|---|---|"]
        for key, label, unit, kind, target, test in [row for cls in FIGURE_CLASSES for row in cls.FIGURES]:
            if key not in self.results:
                continue
            us, them = self.results[key]["us"], self.results[key]["tuned"]
            if not us:
                continue
            u = statistics.median(us)
            t = statistics.median(them) if them else None
            ratio = "—"
            if t is not None and u > 0 and kind:
                ratio = f"{int(t / u * 10) / 10:.1f}× {kind}"   # truncated: 14.97 must not read 15.0
            met = "report"
            if key == "drift-inotify":
                p = percentile(us, 50), percentile(us, 99)
                met = "yes" if p[0] <= 10 and p[1] <= 50 else "NO"
                target = f"{target} (p50 {p[0]:.2f}, p99 {p[1]:.2f})"
                them_text = "never detects"
            elif key == "drift-poll":
                met = "yes" if max(us) <= 1100 else "NO"
                them_text = "never detects"
            else:
                them_text = fmt(them) if them else "n/a (does not check)" if key.startswith("check") else "—"
                if test:
                    met = "—" if t is None and key not in self.ABSOLUTE else "yes" if test(u, t) else "NO"
                floor = self.results.get(f"{key}-floor", {}).get("us")
                if met == "NO" and floor and not test(statistics.median(floor), None):
                    # No program that does the same work can meet it here: say so, with the proof.
                    met = f"out of reach here: the C floor alone is {statistics.median(floor):.1f} µs"
            lines.append(f"| {label} | {unit} | {fmt(us)} | {them_text} | {ratio} | {target} | {met} |")
        return "\n".join(lines)

    def report(self):
        versions = {
            "keepalived-tune": subprocess.run([self.args.binary, "--version"], capture_output=True, text=True).stdout.strip(),
            "tuned": subprocess.run(["dpkg-query", "-W", "-f=${Version}", "tuned"], capture_output=True, text=True).stdout.strip(),
            "swift": self.args.swift_version,
            "python3": platform.python_version(),
        }
        cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        header = [
            "# Benchmarks: keepalived-tune and tuned, side by side",
            "",
            f"Measured by `bench/run{' --quick' if self.quick else ''}` on {datetime.date.today().isoformat()}"
            f" ({self.runs} runs per figure; drift: {self.runs * 2} samples per path).",
            "",
            f"- machine: {os.cpu_count()} cores ({cpu_model}), {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 2**30} GiB,"
            f" kernel {platform.release()}",
            "- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
            "",
            self.table(),
            *self.connections_table(),
            *self.namespaces_table(),
            "",
            "Notes:",
        ]
        notes = [f"- {v}" for v in self.notes.values()]
        notes += [f"- **FAILED** {failure.splitlines()[0]}" for failure in self.failures]
        return "\n".join(header + notes) + "\n"

    def run(self):
        steps = [self.startup, self.reload, self.switch, self.drift, self.checks, self.fight, self.idle, self.sizes,
                 self.connections, self.namespaces]
        self.failures = []
        try:
            for step in steps:
                if not self.args.only or step.__name__ in self.args.only:
                    try:
                        step()
                    except Exception as error:   # a broken figure is reported, the others still run
                        self.failures.append(f"{step.__name__}: {error}")
                        self.progress(f"FAILED {step.__name__}: {error}")
        finally:
            for daemon in Daemon.started_all:
                daemon.stop()
            if self.bus:
                self.bus.terminate()
                self.bus.wait()
            self.ws.cleanup()
        return self.report()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--swift-version", default="?")
    parser.add_argument("--sleeper", required=True, help="bench/sleeper.c, built")
    parser.add_argument("--out")
    parser.add_argument("--only", action="append", help="run only this step (repeatable; for debugging)")
    args = parser.parse_args()
    args.binary = os.path.abspath(args.binary)
    args.sleeper = os.path.abspath(args.sleeper)
    if os.geteuid() != 0:
        sys.exit("bench: run as root (network and mount namespaces, tuned)")
    bench = Bench(args)
    report = bench.run()
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report)
    if bench.failures:
        sys.exit(f"bench: {len(bench.failures)} step(s) failed: the benchmark or the daemon is broken (timing alone never fails it)")


if __name__ == "__main__":
    main()
