# Booting a real systemd (PID 1, with journald) in a systemd-nspawn container, and
# running commands in it. Sourced by Tests/EndToEnd/run.
#
# Each container boots from a cached debootstrap root with --volatile=overlay (the root
# stays pristine; everything written inside is gone at stop) and --private-network (its
# keepalive sysctls are its own; the host's are never touched).

# The cgroup folders this shell came from, per hierarchy, to return to.
declare -A HOME_CGROUP=()
for hierarchy in systemd unified; do
  if [ -d "/sys/fs/cgroup/$hierarchy" ]; then
    case $hierarchy in
      systemd) HOME_CGROUP[$hierarchy]=$(sed -n 's/^[0-9]*:name=systemd://p' /proc/self/cgroup) ;;
      unified) HOME_CGROUP[$hierarchy]=$(sed -n 's/^0:://p' /proc/self/cgroup) ;;
    esac
  fi
done

CONTAINER_NAME="" NSPAWN_PID="" PID1=""

# Builds the root once: debootstrap minbase plus systemd, into $1 (atomically).
build_root() {
  local root=$1 mirror
  # (sed -n 1p, not head: it reads to the end, so no SIGPIPE for the writer under pipefail.)
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | sed -n 1p)
  mirror=${mirror:-http://deb.debian.org/debian}
  echo "e2e: building the container root in $root (once; about 40 s) from $mirror"
  rm -rf "$root.tmp"
  mkdir -p "$(dirname "$root")"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,iproute2,procps \
    bookworm "$root.tmp" "$mirror" > "$root.log" 2>&1 || { tail -20 "$root.log"; return 1; }
  rm -rf "$root.tmp"/var/cache/apt/archives/*.deb "$root.tmp"/var/lib/apt/lists/*
  mv "$root.tmp" "$root"
}

# Boots a container named $1 from root $2 with $3 bound read-only at /opt/payload, and
# waits (up to E2E_BOOT_SECONDS, 120 by default) until its systemd has finished booting.
# Sets NSPAWN_PID and PID1. On failure it prints why: the nspawn exit status if nspawn
# is gone, and the container's console log.
boot_container() {
  CONTAINER_NAME=$1
  local root=$2 payload=$3 hierarchy state child deadline
  deadline=$((SECONDS + ${E2E_BOOT_SECONDS:-120}))
  # nspawn creates payload/ and supervisor/ folders in the cgroup of whoever starts it:
  # start it from a folder of its own, removed at stop.
  for hierarchy in "${!HOME_CGROUP[@]}"; do
    mkdir -p "/sys/fs/cgroup/$hierarchy/$CONTAINER_NAME"
    echo $$ > "/sys/fs/cgroup/$hierarchy/$CONTAINER_NAME/cgroup.procs"
  done
  systemd-nspawn --quiet -D "$root" -M "$CONTAINER_NAME" --boot --register=no --keep-unit \
    --link-journal=no --console=read-only --volatile=overlay --private-network \
    --bind-ro="$payload:/opt/payload" </dev/null > "$WORK/$CONTAINER_NAME.console" 2>&1 &
  NSPAWN_PID=$!
  for hierarchy in "${!HOME_CGROUP[@]}"; do
    echo $$ > "/sys/fs/cgroup/$hierarchy${HOME_CGROUP[$hierarchy]}/cgroup.procs"
  done
  # The container's PID 1 is nspawn's child in another PID namespace, once it has become
  # systemd. nspawn first forks an "outer child" in its own PID namespace, which clones the
  # real PID 1 and exits; while it is dying its /proc/PID/ns links cannot be read. An
  # unreadable link once passed for "another namespace" here, and on a busy machine the
  # harness adopted the dying outer child as PID 1 (which then vanished): so the link must
  # be readable and differ, and the process must already run systemd.
  PID1=""
  local own_ns ns
  own_ns=$(readlink /proc/self/ns/pid)
  while [ $SECONDS -lt $deadline ]; do
    for child in $(pgrep -P "$NSPAWN_PID"); do
      ns=$(readlink "/proc/$child/ns/pid" 2>/dev/null) && [ -n "$ns" ] && [ "$ns" != "$own_ns" ] \
        && [ "$(cat "/proc/$child/comm" 2>/dev/null)" = systemd ] && PID1=$child
    done
    [ -n "$PID1" ] && break
    kill -0 "$NSPAWN_PID" 2>/dev/null || break
    sleep 0.01
  done
  [ -n "$PID1" ] || { boot_failed "its PID 1 never became systemd"; return 1; }
  # Wait for the boot to finish. `is-system-running --wait` blocks until it has; while
  # systemd's private socket is not up yet it fails at once, printing nothing or "offline"
  # (seen on a loaded machine), so it is retried, as long as PID 1 lives, until the deadline.
  while [ $SECONDS -lt $deadline ]; do
    kill -0 "$PID1" 2>/dev/null || { boot_failed "its PID 1 ($PID1) is gone"; return 1; }
    state=$(timeout $((deadline - SECONDS + 1)) nsenter -t "$PID1" -a -- systemctl is-system-running --wait 2>/dev/null)
    case $state in
      running|degraded) return 0 ;;
      initializing|starting|offline|"") sleep 0.05 ;;
      *) boot_failed "its systemd reports '$state'"; return 1 ;;
    esac
  done
  boot_failed "its systemd did not finish booting within ${E2E_BOOT_SECONDS:-120} s (state: ${state:-none})"
  return 1
}

# Prints why container $CONTAINER_NAME failed to boot: the reason, nspawn's exit status
# if it has exited, and the console log.
boot_failed() {
  echo "    container $CONTAINER_NAME failed to boot: $1"
  if [ -n "$NSPAWN_PID" ] && ! kill -0 "$NSPAWN_PID" 2>/dev/null; then
    wait "$NSPAWN_PID"
    echo "    systemd-nspawn exited with status $?"
  fi
  echo "    ---- console log ($WORK/$CONTAINER_NAME.console) ----"
  sed 's/^/    | /' "$WORK/$CONTAINER_NAME.console" | tail -n 80
}

# Runs a command inside the container (all its namespaces).
inside() {
  nsenter -t "$PID1" -a -- "$@"
}

# Powers the container off, then removes its cgroup folders.
stop_container() {
  [ -n "$NSPAWN_PID" ] || return 0
  if kill -0 "$NSPAWN_PID" 2>/dev/null; then
    kill -TERM "$NSPAWN_PID"
    local i
    for i in $(seq 1000); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.01; done
    kill -KILL "$NSPAWN_PID" 2>/dev/null
  fi
  wait "$NSPAWN_PID" 2>/dev/null
  remove_cgroups "$CONTAINER_NAME"
  NSPAWN_PID="" PID1=""
}

# Removes the cgroup folders of container $1 in every hierarchy, deepest first.
remove_cgroups() {
  local hierarchy
  for hierarchy in /sys/fs/cgroup/*/; do
    [ -d "$hierarchy$1" ] && find "$hierarchy$1" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  return 0
}
