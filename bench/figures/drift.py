"""Drift detection through inotify and through the periodic re-read."""
import os, select, time

from kit import SERVER, KEYS, Sysctls, fresh_network_namespace, now


class Drift:
    # key, label, unit, ratio kind, target text, check(us_median, tuned_median)
    FIGURES = [
        ("drift-inotify", "drift detection, inotify path", "ms", None, "p50 ≤ 10 ms, p99 ≤ 50 ms", None),
        ("drift-poll", "drift detection, poll path (check-interval 1 s)", "ms", None, "≤ 1100 ms", None),
    ]

    def drift(self):
        """inotify path: a write through the same /proc → drift entry logged and value
        restored. Poll path: a write through a second procfs → detected (value restored)."""
        samples = self.runs * 2
        self.progress(f"drift, {samples} samples per path")
        per_daemon = 4   # below the contest threshold (5 corrections in 60 s)
        for path in ("inotify", "poll"):
            taken = 0
            while taken < samples:
                fresh_network_namespace()
                sysctls = Sysctls()
                read_end, write_end = os.pipe()
                daemon = self.ours(check_interval="1s" if path == "poll" else "5s", stderr=write_end)
                os.close(write_end)
                os.set_blocking(read_end, False)
                daemon.notify.wait_for("READY=1", daemon.started + 30)
                log = b""
                target = sysctls.fds if path == "inotify" else \
                    [os.open(f"{self.ws.proc2}/sys/net/ipv4/{KEYS[0]}", os.O_WRONLY)]
                for _ in range(min(per_daemon, samples - taken)):
                    sysctls.drain()
                    drifts, corrections = log.count(b": drift: "), log.count(b": corrected: ")
                    written = now()
                    sysctls.write([7000], fds=target[:1])
                    restored = sysctls.wait_for(SERVER, written + 30)
                    logged = None
                    # Detected = the drift entry is out and the value reads back restored;
                    # then wait for the correction entry, so the next write cannot race the
                    # daemon's own read-back of this one.
                    while log.count(b": corrected: ") == corrections and now() < written + 30:
                        select.select([read_end], [], [], 1)
                        try:
                            log += os.read(read_end, 65536)
                        except BlockingIOError:
                            pass
                        if logged is None and log.count(b": drift: ") > drifts:
                            logged = now()
                    if restored is None or logged is None:
                        raise RuntimeError(f"drift through {path} not corrected within 30 s "
                                           f"(restored: {restored is not None}, logged: {logged is not None}; "
                                           f"values {sysctls.read()}; log: {log.decode()[-500:]})")
                    self.record(f"drift-{path}", "us", (max(restored, logged) - written) * 1000)
                    taken += 1
                    if path == "poll":
                        # The daemon re-checks right after its own correction; a write landing
                        # in that moment would be found by luck, not by the periodic re-read.
                        # Past that, a random pause puts the next write anywhere in the
                        # daemon's check interval, as a real write would land.
                        time.sleep(self.random.uniform(0.1, 1.0))
                if path == "poll":
                    os.close(target[0])
                daemon.stop()
                os.close(read_end)
                sysctls.close()
        # tuned: a value changed behind its back.
        wait = 3 if self.quick else 15
        fresh_network_namespace()
        sysctls = Sysctls()
        daemon = self.tuned()
        sysctls.wait_for(SERVER, daemon.started + 30)
        sysctls.write([7000])
        sysctls.drain()
        fixed = sysctls.wait_for(SERVER, now() + wait)
        self.notes["tuned-drift"] = ("tuned restored it" if fixed else
                                     f"tuned never detects drift: the value was still 7000 after {wait} s, nothing logged")
        daemon.stop()
        sysctls.close()
