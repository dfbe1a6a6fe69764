"""Start-up: launch → the profile in force (and READY=1 for us)."""

from kit import SERVER, Sysctls, fresh_network_namespace


class Startup:
    # key, label, unit, ratio kind, target text, check(us_median, tuned_median)
    FIGURES = [
        ("start", "start to profile in force", "ms", "faster", "≥ 15× faster", lambda u, t: t / u >= 15),
    ]

    def startup(self):
        """Launch → all three values read back (and READY=1 for us)."""
        self.progress(f"start-up, {self.runs} runs each")
        for _ in range(self.runs):
            for who in ("us", "tuned"):
                fresh_network_namespace()
                sysctls = Sysctls()
                daemon = self.ours() if who == "us" else self.tuned()
                deadline = daemon.started + 30
                in_force = sysctls.wait_for(SERVER, deadline)
                ready = daemon.notify.wait_for("READY=1", deadline) if daemon.notify else in_force
                if in_force is None or ready is None:
                    raise RuntimeError(f"{who}: the profile was not in force within 30 s")
                self.record("start", who, (max(in_force, ready) - daemon.started) * 1000)
                daemon.stop()
                sysctls.close()
