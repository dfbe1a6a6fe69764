"""A value fought over: another writer resets tcp_keepalive_time 100 times a second, with
two values in turn. Once the key is contested, the daemon backs off; what watching the
fight then costs is measured here (it used to be a test's CPU verdict; the test now counts
wake-ups). tuned, which does not watch, is measured under the same fight for comparison."""
import os, select, time

from kit import SERVER, Sysctls, fresh_network_namespace, now


class Fight:
    # key, label, unit, ratio kind, target text, check(us_median, tuned_median)
    FIGURES = [
        ("fight-cpu", "CPU while a contested value is rewritten 100 times a second (back-off)", "% of a core",
         None, "< 1 %", lambda u, t: u < 1),
        ("fight-wakeups", "wake-ups while a contested value is rewritten 100 times a second", "/s",
         None, "report", None),
    ]

    def fight(self):
        rate = 100
        window = 1 if self.quick else 10
        self.progress(f"a value fought over, {self.runs} runs of {window} s each")
        for _ in range(self.runs):
            for who in ("us", "tuned"):
                fresh_network_namespace()
                sysctls = Sysctls()
                read_end, write_end = os.pipe()
                daemon = self.ours(stderr=write_end) if who == "us" else self.tuned()
                os.close(write_end)
                os.set_blocking(read_end, False)
                if sysctls.wait_for(SERVER, daemon.started + 30) is None:
                    raise RuntimeError(f"{who}: the profile was not in force within 30 s")
                turn = 0

                def write_once():
                    nonlocal turn
                    sysctls.write([7200 + turn % 2])
                    turn += 1
                    time.sleep(1 / rate)

                if who == "us":
                    # Fight until the daemon declares the key contested (its console log).
                    log = b""
                    deadline = now() + 30
                    while b": contested: " not in log:
                        if now() > deadline:
                            raise RuntimeError(f"no contested entry within 30 s; log: {log.decode()[-500:]}")
                        write_once()
                        if select.select([read_end], [], [], 0)[0]:
                            log += os.read(read_end, 65536)
                before = daemon.accounting()
                started = now()
                while now() - started < window:
                    write_once()
                elapsed = now() - started
                switches, cpu = daemon.context_switches(), daemon.cpu_ns()
                self.record("fight-cpu", who, (cpu - before[1]) / 1e9 / elapsed * 100)
                self.record("fight-wakeups", who, (switches - before[0]) / elapsed)
                daemon.stop()
                os.close(read_end)
                sysctls.close()
        self.notes["fight"] = (f"a value fought over: {rate} writes/s alternating 7200 and 7201; ours measured once it "
                               f"reported the key contested (back-off: its watch on that file is paused); tuned does "
                               f"not watch, so its figure is its idle cost under the same writes")
