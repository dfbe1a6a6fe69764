"""The cost of one drift check at steady state, checks back to back."""
import statistics, time

from kit import SERVER, Daemon, Sysctls, fresh_network_namespace, now


class Checks:
    # key, label, unit, ratio kind, target text, check(us_median, tuned_median)
    FIGURES = [
        ("wakeup-cpu-warm", "CPU per check wake-up at steady state (checks back to back), raw", "µs", None, "report", None),
        ("check", "CPU per drift check at steady state (checks back to back), beyond a bare wake-up", "µs", None,
         "≤ 5 µs", lambda u, t: u <= 5),
        ("check-floor", "floor: the same wake-up and three reads in C, beyond a bare wake-up", "µs", None, "report", None),
        ("check-connections", "the same with `[connections]` enabled (audit-interval = 1min, on its own thread)", "µs", None,
         "≤ 5 µs", lambda u, t: u <= 5),
    ]

    def checks(self):
        """CPU per drift check at steady state, checks back to back: each write of the value
        already in force, through the watched /proc, wakes the process for one check (the
        inotify path). Ours and the C floors (bench/sleeper.c) the same way, one process
        at a time, so that each write wakes only the one measured."""
        seconds = 0.5 if self.quick else 2
        rate = 1000   # writes per second

        def write_once():
            sysctls.write([SERVER[0]])
            time.sleep(1 / rate)

        self.progress(f"check cost, checks back to back: {self.runs} runs of {seconds} s each")
        fresh_network_namespace()
        sysctls = Sysctls()
        kinds = [("us", lambda: self.ours(notify=False)),
                 ("connections", lambda: self.ours(notify=False, extra="[connections]\naudit-interval = 1min\n")),
                 ("floor", lambda: Daemon([self.args.sleeper, "5000"])),
                 ("reads", lambda: Daemon([self.args.sleeper, "5000", "read"]))]
        per_wakeup = {}
        for _ in range(self.runs):
            for who, start in kinds:
                process = start()
                if who in ("us", "connections") and sysctls.wait_for(SERVER, process.started + 30) is None:
                    raise RuntimeError("the profile was not in force within 30 s")
                # Writes until the process has woken for 100 of them: it is watching, and its
                # start-up work is over before the measurement.
                woken = process.context_switches()
                deadline = now() + 30
                while process.context_switches() < woken + 100:
                    if now() > deadline:
                        raise RuntimeError(f"{who}: writes to the watched file did not wake it within 30 s")
                    write_once()
                before = process.accounting()
                started = now()
                while now() - started < seconds:
                    write_once()
                per_wakeup.setdefault(who, []).append(process.cpu_per_wakeup_us(since=before))
                process.stop()
                sysctls.drain()
        bare = self.record_check_cost("check", "wakeup-cpu-warm", per_wakeup)
        for raw in per_wakeup["connections"]:
            self.record("check-connections", "us", max(raw - bare, 0))
        for raw in per_wakeup["reads"]:
            self.record("check-connections-floor", "us", max(raw - bare, 0))   # the same C floor judges both
        self.notes["check-connections"] = (
            f"drift check with [connections] enabled: {statistics.median(self.results['check-connections']['us']):.1f} µs, "
            f"without it {statistics.median(self.results['check']['us']):.1f} µs, in the same runs: the audit thread sleeps "
            "between audits and the loop's check is the same code")
        self.notes["check"] = (
            f"CPU per drift check, checks back to back: {self.runs} runs of {seconds:g} s, writes of the value in force "
            f"about {rate}/s, each waking one check; ours costs {statistics.median(per_wakeup['us']):.1f} µs per wake-up "
            f"(median), the C program waiting the same way {bare:.1f} µs; the check is the difference")
