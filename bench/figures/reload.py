"""Reload: SIGHUP → the profile re-applied."""
import signal

from kit import SERVER, Sysctls, fresh_network_namespace, now


class Reload:
    # key, label, unit, ratio kind, target text, check(us_median, tuned_median)
    FIGURES = [
        ("reload", "reload (SIGHUP → re-applied / READY=1)", "ms", "faster", "≥ 5× faster", lambda u, t: t / u >= 5),
    ]

    def reload(self):
        """SIGHUP → READY=1 with the values in force (us); SIGHUP → values re-applied (tuned,
        which is given something to re-apply: values changed behind its back)."""
        self.progress(f"reload, {self.runs} runs each")
        fresh_network_namespace()
        sysctls = Sysctls()
        ours = self.ours()
        ours.notify.wait_for("READY=1", ours.started + 30)
        for _ in range(self.runs):
            ours.notify.messages()
            sent = now()
            ours.process.send_signal(signal.SIGHUP)
            ready = ours.notify.wait_for("READY=1", sent + 30)
            if ready is None or sysctls.read() != SERVER:
                raise RuntimeError("reload did not end in READY=1 with the profile in force")
            self.record("reload", "us", (ready - sent) * 1000)
        ours.stop()
        sysctls.close()
        fresh_network_namespace()
        sysctls = Sysctls()
        tuned = self.tuned()
        sysctls.wait_for(SERVER, tuned.started + 30)
        for _ in range(self.runs):
            sysctls.write((1000, 10, 2))
            sysctls.drain()
            sent = now()
            tuned.process.send_signal(signal.SIGHUP)
            done = sysctls.wait_for(SERVER, sent + 30)
            if done is None:
                raise RuntimeError("tuned did not re-apply on SIGHUP within 30 s")
            self.record("reload", "tuned", (done - sent) * 1000)
        tuned.stop()
        sysctls.close()
