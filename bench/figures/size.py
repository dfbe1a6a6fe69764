"""Install size."""
import os, subprocess


class Size:
    # key, label, unit, ratio kind, target text, check(us_median, tuned_median)
    FIGURES = [
        ("size", "install size", "MB", None, "report", None),
    ]

    def sizes(self):
        ours = os.path.getsize(self.args.binary)
        for pattern in ("profiles", "etc", "systemd"):
            for name in os.listdir(pattern):
                ours += os.path.getsize(os.path.join(pattern, name))
        self.record("size", "us", ours / 1024 / 1024)
        installed = subprocess.run(["dpkg-query", "-W", "-f=${Installed-Size}", "tuned"],
                                   capture_output=True, text=True).stdout.strip()
        self.record("size", "tuned", int(installed) / 1024)
        self.notes["size"] = "ours: binary (static Swift runtime) + profiles + config + unit + catalog; tuned: its package's Installed-Size, without python3 and its other dependencies"
