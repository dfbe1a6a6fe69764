#!/bin/sh
# A sysctl writer for the BPF sysctl tests:  writer.sh CGROUP [--wait] KEY=VALUE...
# Moves itself into CGROUP, then, in a new network namespace (never the host's keepalive
# values), writes each KEY=VALUE with its own `sysctl -w` process. For each it prints
# "pid PID" (the process that will write), with --wait waits for a line on stdin, then
# prints "write STATUS VALUE": sysctl's exit status and the key's value after.
# sysctl's own messages go to stderr.
#
# Only foreground commands: the test runner may start this with SIGCHLD blocked, and dash's
# `wait` builtin then never returns (it sleeps in sigsuspend for a SIGCHLD that never comes).
cgroup=$1
shift
echo $$ > "$cgroup/cgroup.procs" || exit 1
WAIT=
if [ "$1" = --wait ]; then
  WAIT=1
  shift
fi
export WAIT
exec unshare -n sh -c '
exec 4>&1
for pair in "$@"; do
  result=$(sh -c "echo pid \$\$ >&4; [ -z \"\$WAIT\" ] || read -r go; exec sysctl -q -w \"\$0\" 2>&3" "$pair" 3>&2; echo $?)
  echo "write $result $(sysctl -n "${pair%%=*}")"
done' sh "$@"
