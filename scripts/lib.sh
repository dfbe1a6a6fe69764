# Shared helpers for scripts/*. Sourced, not run.

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages named, if any is missing (apt-get update first).
ensure_packages() {
  local missing=() state
  for package in "$@"; do
    # Captured, then matched: `dpkg-query | grep -q` under the callers' pipefail would fail
    # when grep's early exit kills dpkg-query with SIGPIPE.
    state=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)
    grep -q 'install ok installed' <<<"$state" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# A test process that dies before its tests end (a sanitizer's halt_on_error, a crash)
# cannot stop the daemons those tests started: they are left to PID 1. They are the tests'
# own (their config lies in a kt-daemon-* directory a test made), so the script that ran
# the tests stops them; a daemon whose test process still runs is never touched.
stop_orphaned_test_daemons() {
  local pass pid
  for pass in 1 2; do   # the second: daemons whose orphaned `unshare --fork` the first stopped
    for pid in $(pgrep -f -- "/kt-daemon-[^ ]*/keepalived-tune.conf" || true); do
      if [ "$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')" = 1 ]; then
        echo "stopping a test daemon its test process left behind: $(ps -o args= -p "$pid" | cut -c1-120)" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done
    sleep 0.2
  done
}

# Puts the Swift toolchain on PATH if it is installed in a usual place but not on PATH
# (sudo resets PATH).
ensure_swift() {
  command -v swift >/dev/null 2>&1 && return 0
  for dir in /opt/swift/usr/bin /usr/share/swift/usr/bin /usr/local/swift/usr/bin; do
    if [ -x "$dir/swift" ]; then PATH="$dir:$PATH"; export PATH; return 0; fi
  done
  echo "error: swift is not on PATH; install the Swift toolchain (https://swift.org/install)" >&2
  exit 1
}

# The packages needed to build: libsystemd through pkg-config; the static libstdc++ that the
# release binary links in (scripts/build-release); libbpf's headers for the dlopen shim
# (Sources/CLibbpf) and for scripts/build-bpf (libbpf itself, libbpf1, is dlopened at run time).
BUILD_PACKAGES=(libsystemd-dev pkg-config libstdc++-12-dev libbpf-dev)
# The packages scripts/build-deb uses: Debian's packaging tools.
DEB_PACKAGES=(debhelper dpkg-dev)
# The packages the tests use: journald and systemd-analyze, sysctl, unshare/nsenter/setpriv, for
# the connections tests ip and ss (iproute2) and the live TCP peers (python3), and for the
# namespaces tests real podman containers (podman, run by runc from a busybox root) and a
# dockerd of their own (docker.io); for the metrics tests promtool (prometheus), a real
# node_exporter and curl to scrape it; for the man pages mandoc and man; the three shells
# whose completions are tested; for the BPF tests libbpf1 (dlopened) and bpftool (what is
# attached); and what the package build needs.
TEST_PACKAGES=(systemd procps util-linux iproute2 python3 podman runc busybox-static docker.io
               prometheus prometheus-node-exporter curl mandoc man-db bash fish zsh libbpf1 bpftool
               "${DEB_PACKAGES[@]}")
# The packages the benchmark uses: the peer it is measured against, a bus for tuned-adm.
BENCH_PACKAGES=(tuned dbus-daemon python3 lsof iproute2 podman runc busybox-static)
# The packages the end-to-end tests use to boot a systemd container (root only), and
# lintian for the package they install there.
E2E_PACKAGES=(systemd-container debootstrap lintian)
# The package the stress run (scripts/test --stress) keeps every core busy with.
STRESS_PACKAGES=(stress-ng)
