"""Profile switch: config saved (ours) or tuned-adm started → new values in force."""
import os, statistics, subprocess

from kit import SERVER, WEB, Sysctls, fresh_network_namespace, now


class Switch:
    # key, label, unit, ratio kind, target text, check(us_median, tuned_median)
    FIGURES = [
        ("switch", "profile switch (config saved / tuned-adm → in force)", "ms", "faster", "≥ 20× faster", lambda u, t: t / u >= 20),
    ]

    def switch(self):
        """Config saved → new values in force (us); `tuned-adm profile` → new values in force."""
        self.progress(f"profile switch, {self.runs} runs each")
        fresh_network_namespace()
        sysctls = Sysctls()
        log_path = self.ws.path("switch.log")
        ours = self.ours(stderr=open(log_path, "w"))
        ours.notify.wait_for("READY=1", ours.started + 30)
        profiles = [("web", WEB), ("server", SERVER)]
        for run in range(self.runs):
            name, values = profiles[run % 2]
            sysctls.drain()
            saved = now()
            self.ws.write_config(ours.config_dir, name)
            done = sysctls.wait_for(values, saved + 30)
            if done is None:
                raise RuntimeError(f"switch to {name} not in force within 30 s (values {sysctls.read()});"
                                   f" daemon log:\n{open(log_path).read()[-1500:]}")
            self.record("switch", "us", (done - saved) * 1000)
            # Read the reload's READY=1, as systemd would: an unread notify socket fills
            # (net.unix.max_dgram_qlen is 10 in a fresh namespace) and sd_notify(3) blocks.
            if ours.notify.wait_for("READY=1", saved + 30) is None:
                raise RuntimeError(f"switch to {name}: no READY=1 within 30 s")
        ours.stop()
        sysctls.close()
        if self.bus is None:
            self.start_bus()
        fresh_network_namespace()
        sysctls = Sysctls()
        tuned = self.tuned(dbus=True)
        sysctls.wait_for(SERVER, tuned.started + 30)
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus_address)
        run_times = []
        for run in range(self.runs):
            name, values = profiles[run % 2]
            sysctls.drain()
            started = now()
            adm = subprocess.Popen(["tuned-adm", "profile", f"keepalived-tune-bench-{name}"], env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            in_force = sysctls.wait_for(values, started + 60)
            _, err = adm.communicate(timeout=60)
            finished = now()
            if in_force is None or adm.returncode != 0 or sysctls.read() != values:
                raise RuntimeError(f"tuned-adm profile {name} failed ({adm.returncode}): {err.decode().strip()}")
            # The figure is the same end point as ours: the new values in force. tuned-adm
            # itself returns much later (it waits for tuned over D-Bus); that is a note.
            self.record("switch", "tuned", (in_force - started) * 1000)
            run_times.append((finished - started) * 1000)
        self.notes["tuned-adm"] = (f"profile switch, tuned: the figure is tuned-adm started → new values in force; "
                                   f"tuned-adm itself returned after {statistics.median(run_times):.0f} ms (median)")
        tuned.stop()
        sysctls.close()
