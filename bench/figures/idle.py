"""Idle: memory, wake-ups and CPU at the shipped defaults, and the cold check cost."""
import statistics, time

from kit import SERVER, Daemon, Sysctls, fresh_network_namespace, now


class Idle:
    # key, label, unit, ratio kind, target text, check(us_median, tuned_median)
    FIGURES = [
        ("rss", "idle RSS (VmRSS)", "MB", "smaller", "≤ 1/3 of tuned", lambda u, t: u <= t / 3),
        ("private", "idle private memory", "MB", "smaller", "≤ 2 MB", lambda u, t: u <= 2),
        ("wakeups", "idle wake-ups (context switches)", "/s", "smaller", "≤ 1/8 of tuned", lambda u, t: u <= t / 8),
        ("cpu", "idle CPU (utime+stime)", "ms/min", "smaller", "report", None),
        ("wakeup-cpu", "CPU per check wake-up after 1 s asleep, raw", "µs", None, "report", None),
        ("check-cold", "CPU per drift check after 1 s asleep (cold caches), beyond a bare wake-up", "µs", None,
         "≤ 5 µs", lambda u, t: u <= 5),
        ("check-cold-floor", "floor: the same three reads in C after 1 s asleep, beyond a bare wake-up", "µs", None,
         "report", None),
    ]

    def idle_daemon(self, who):
        """One daemon at the shipped defaults in a fresh namespace, once its profile is in force."""
        fresh_network_namespace()
        sysctls = Sysctls()
        daemon = self.ours(watchdog=True) if who == "us" else self.tuned()
        if sysctls.wait_for(SERVER, daemon.started + 30) is None:
            raise RuntimeError(f"{who}: not in force")
        sysctls.close()
        return daemon

    def idle(self):
        """Memory after 10 s idle (one daemon of each kind at a time: several instances of one
        program would share their pages), then wake-ups and CPU of all runs together over 60 s."""
        idle = 2 if self.quick else 10
        window = 5 if self.quick else 60
        self.progress(f"idle memory, {self.runs} runs of {idle} s")
        for _ in range(self.runs):
            pair = []
            for who in ("us", "tuned"):
                pair.append((who, self.idle_daemon(who)))
            time.sleep(idle)   # the figure is defined as "after 10 s idle"
            for who, daemon in pair:
                other = daemon.binary_shared_with_others()
                if other and who == "us":
                    raise RuntimeError(f"process {other} runs the same binary; stop it, or private memory reads low")
                rss, private = daemon.memory_kb()
                self.record("rss", who, rss / 1024)
                self.record("private", who, private / 1024)
                daemon.stop()
        self.progress(f"idle wake-ups and CPU, {self.runs} of each over {window} s")
        daemons = []
        for _ in range(self.runs):
            for who in ("us", "tuned"):
                daemons.append((who, self.idle_daemon(who)))
        # Check cost, cold: more of ours checking every second, without a watchdog, so that
        # every wake-up is exactly one check after a second asleep; beside them the C floors
        # (bench/sleeper.c): a bare wake-up from the same wait, and the same wake-up plus the
        # same three reads. Several of each, started a moment apart so that their wake-ups
        # do not coincide.
        fresh_network_namespace()
        kinds = [("us", lambda: self.ours(check_interval="1s", notify=False)),
                 ("floor", lambda: Daemon([self.args.sleeper, "1000"])),
                 ("reads", lambda: Daemon([self.args.sleeper, "1000", "read"]))]
        sysctls = Sysctls()
        checkers = []
        for _ in range(self.runs):
            for who, start in kinds:
                checkers.append((who, start()))
                time.sleep(1 / (self.runs * len(kinds)))
        sysctls.wait_for(SERVER, now() + 30)
        sysctls.close()
        time.sleep(1)   # let start-up settle (first release of start-up pages, first checks)
        watched = daemons + checkers
        before = {d.pid: d.accounting() for _, d in watched}
        started = now()
        time.sleep(window)
        elapsed = now() - started
        for who, daemon in daemons:
            switches, cpu = daemon.context_switches(), daemon.cpu_ns()
            self.record("wakeups", who, (switches - before[daemon.pid][0]) / elapsed)
            self.record("cpu", who, (cpu - before[daemon.pid][1]) / 1e6 / elapsed * 60)
            daemon.stop()

        per_wakeup = {}
        for who, daemon in checkers:
            per_wakeup.setdefault(who, []).append(daemon.cpu_per_wakeup_us(since=before[daemon.pid]))
            daemon.stop()
        bare = self.record_check_cost("check-cold", "wakeup-cpu", per_wakeup)
        self.notes["check-cold"] = (
            f"CPU per drift check, cold: {self.runs} daemons checking every second for {elapsed:.0f} s cost "
            f"{statistics.median(per_wakeup['us']):.1f} µs per wake-up (median); a C program waiting the same "
            f"way costs {bare:.1f} µs per bare wake-up (bench/sleeper.c); the check is the difference. "
            f"The same C program also reading the three values costs "
            f"{statistics.median(per_wakeup['reads']) - bare:.1f} µs more per wake-up: after a second asleep, caches "
            f"and TLBs are cold, and that is the kernel's side of any check that reads the values")
