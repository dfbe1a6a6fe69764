#!/usr/bin/env python3
"""Races between the connections audit's scan and its action, made deterministic.

  unshare -mpn --fork --mount-proc --propagation private races.py SCENARIO TOOL DIR

The test starts it so: it is PID 1 of a new PID namespace, in a new network and mount
namespace (a tmpfs over /run hides the host's namespace pins), and everything it starts dies
with it. Its processes are the only ones /proc shows, and its listeners and connections
(127.0.0.1) are the only ones the kernel's dump has. TOOL is keepalived-tune, DIR a
directory of the test's for the pause FIFO.

A holder is a process of this script (`--holder`) that makes and changes its descriptors on
command. Where a scenario needs the tool to stop between its plan and its action, the tool is
run with KEEPALIVED_TUNE_TEST_PAUSE=POINT:FIFO (debug builds only): at POINT it opens the
FIFO to read and waits for end of file. This script's open of the FIFO to write returns
exactly when the tool waits there; it changes the world, then closes its end, and the tool
goes on. No sleep anywhere.

Prints one line of JSON: {"tool": {"status", "stdout", "stderr", "paused"}, ...facts}.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading

LISTEN_PORTS = (5001, 5002)


class Holder:
    """A process holding descriptors on command (see holder_loop)."""

    def __init__(self, *prefix, channel=None):
        """Starts it (after `prefix`, such as `unshare -n`); `channel`, one end of a socketpair,
        is what `receive` reads descriptors from."""
        extra, fds = (["--channel", str(channel.fileno())], [channel.fileno()]) if channel else ([], [])
        self.process = subprocess.Popen([*prefix, sys.executable, os.path.abspath(__file__), "--holder", *extra],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, pass_fds=fds)
        self.pid = self.process.pid
        self.ask("ready")

    def ask(self, *words):
        """Sends a command; returns the words of its answer after `ok`."""
        if words != ("ready",):
            self.process.stdin.write((" ".join(str(word) for word in words) + "\n").encode())
            self.process.stdin.flush()
        line = self.process.stdout.readline().decode().split()
        if not line or line[0] != "ok":
            raise SystemExit(f"races.py: holder {self.pid}: {words} answered {line}")
        return line[1:]

    def exit(self):
        """Ends the holder and reaps it: its PID is free again."""
        self.ask("exit")
        self.process.wait()

    def keepalive(self, fd):
        """What the holder itself reads of descriptor `fd`: its address family and SO_KEEPALIVE."""
        family, on = self.ask("keepalive", fd)
        return {"family": family, "keepalive": int(on)}


def holder_loop(channel):
    """A holder: answers each command on stdout with `ok ...`.

    connect PORT FD   a connection to 127.0.0.1:PORT, placed at descriptor FD
    unix FD           an AF_UNIX socket (one end of a socketpair) placed at FD
    close FD          closes FD
    fork              a child that holds every descriptor too, and does nothing: `ok PID`
    keepalive FD      `ok FAMILY 0|1`, SO_KEEPALIVE of FD as this process reads it
    netns             `ok INODE` of this process's network namespace
    receive FD        one descriptor from the channel (SCM_RIGHTS), placed at FD
    exit              ends the process
    """
    kept = []

    def place(sock, fd):
        os.dup2(sock.fileno(), fd, inheritable=False)
        sock.close()

    print("ok", flush=True)
    for line in sys.stdin:
        words = line.split()
        command, args = words[0], [int(word) for word in words[1:]]
        answer = ""
        if command == "connect":
            place(socket.create_connection(("127.0.0.1", args[0])), args[1])
        elif command == "unix":
            mine, other = socket.socketpair()
            kept.append(other)
            place(mine, args[0])
        elif command == "close":
            os.close(args[0])
        elif command == "fork":
            child = os.fork()
            if child == 0:
                os.close(0)
                os.close(1)
                while True:
                    signal.pause()
            answer = str(child)
        elif command == "keepalive":
            probe = socket.socket(fileno=os.dup(args[0]))
            answer = f"{probe.family.name} {probe.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)}"
            probe.close()
        elif command == "netns":
            answer = str(os.stat("/proc/self/ns/net").st_ino)
        elif command == "receive":
            _, fds, _, _ = socket.recv_fds(channel, 16, 1)
            os.dup2(fds[0], args[0], inheritable=False)
            os.close(fds[0])
        elif command == "exit":
            print("ok", flush=True)
            os._exit(0)
        print("ok", answer, flush=True)


class World:
    """This namespace's listeners, which accept and hold every connection made to them."""

    def __init__(self):
        subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True)
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        self.accepted = []
        for port in LISTEN_PORTS:
            listener = socket.create_server(("127.0.0.1", port))
            threading.Thread(target=self.accept, args=(listener,), daemon=True).start()

    def accept(self, listener):
        while True:
            self.accepted.append(listener.accept()[0])


def run_tool(tool, directory, arguments, pause=None, during=None):
    """Runs TOOL ARGUMENTS; with `pause`, runs `during()` while the tool waits at that point."""
    environment = dict(os.environ)
    fifo = os.path.join(directory, "pause")
    if pause:
        os.mkfifo(fifo)
        environment["KEEPALIVED_TUNE_TEST_PAUSE"] = f"{pause}:{fifo}"
    process = subprocess.Popen([tool, *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
    result = {"paused": False}
    ended = threading.Event()   # set before `paused` is read, after the tool ended

    def collect():
        out, err = process.communicate()
        result.update(status=process.returncode, stdout=out.decode(), stderr=err.decode())
        ended.set()
        if pause and not result["paused"]:   # a tool that never paused: release the open below
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))

    collector = threading.Thread(target=collect)
    collector.start()
    if pause:
        writer = os.open(fifo, os.O_WRONLY)   # returns once the tool waits at the point (or ended)
        if not ended.is_set():   # the tool cannot end while it waits for this end to close
            result["paused"] = True
            during()
        os.close(writer)
        os.unlink(fifo)
    collector.join()
    return result


def shared(tool, directory):
    """Finding 3: a connection a parent and its child share; the child is selected."""
    parent = Holder()
    parent.ask("connect", 5001, 40)
    child = int(parent.ask("fork")[0])
    tool_result = run_tool(tool, directory, ["connections", "--enable-keepalive", "--pid", str(child), "--json"])
    return {"tool": tool_result, "parent": parent.pid, "child": child, "socket": parent.keepalive(40)}


def vanished(tool, directory):
    """Finding 14: between plan and act, one planned descriptor is closed and one planned
    process exits; a third socket is still there."""
    first, second = Holder(), Holder()
    first.ask("connect", 5001, 40)
    first.ask("connect", 5001, 41)
    second.ask("connect", 5001, 40)

    def meanwhile():
        first.ask("close", 40)
        second.exit()

    tool_result = run_tool(tool, directory, ["connections", "--enable-keepalive", "--pid", str(first.pid), "--pid", str(second.pid), "--json"],
                           pause="before-retrofit", during=meanwhile)
    return {"tool": tool_result, "first": first.pid, "second": second.pid, "kept": first.keepalive(41)}


def reused_pid(tool, directory):
    """Finding 2: between plan and act the planned process exits and its PID goes to a new
    process (ns_last_pid of this script's own PID namespace), which holds another connection
    at the planned descriptor number."""
    planned = Holder()
    planned.ask("connect", 5001, 40)
    facts = {"planned": planned.pid}

    def meanwhile():
        planned.exit()
        with open("/proc/sys/kernel/ns_last_pid", "w") as last:
            last.write(str(planned.pid - 1))
        successor = Holder()
        successor.ask("connect", 5001, 40)
        facts["successor"] = successor

    facts["tool"] = run_tool(tool, directory, ["connections", "--enable-keepalive", "--pid", str(planned.pid), "--json"],
                             pause="before-retrofit", during=meanwhile)
    successor = facts.pop("successor")
    facts.update(successor_pid=successor.pid, successor_socket=successor.keepalive(40))
    return facts


def replaced(tool, directory):
    """Finding 1: between plan and act the planned process puts other sockets at the planned
    descriptor numbers: an AF_UNIX socket at 40, a connection to a port the selector excludes
    (5002) at 41. A third planned connection, at 42, stays."""
    holder = Holder()
    for fd in (40, 41, 42):
        holder.ask("connect", 5001, fd)

    def meanwhile():
        holder.ask("unix", 40)
        holder.ask("connect", 5002, 41)

    tool_result = run_tool(tool, directory, ["connections", "--enable-keepalive", "--pid", str(holder.pid), "--port", "5001", "--json"],
                           pause="before-retrofit", during=meanwhile)
    return {"tool": tool_result, "holder": holder.pid,
            "unix": holder.keepalive(40), "excluded": holder.keepalive(41), "kept": holder.keepalive(42)}


def passed(tool, directory):
    """Finding 11: a process in network namespace B holds a live connection of this
    namespace, received over SCM_RIGHTS (as with socket activation), and nothing else does."""
    mine, theirs = socket.socketpair()
    holder = Holder("unshare", "-n", channel=theirs)
    theirs.close()
    connection = socket.create_connection(("127.0.0.1", 5001))
    socket.send_fds(mine, [b"x"], [connection.fileno()])
    holder.ask("receive", 40)
    connection.close()
    there = run_tool(tool, directory, ["connections", "--netns", str(holder.pid), "--json"])
    here = run_tool(tool, directory, ["connections", "--pid", str(holder.pid), "--json"])
    return {"tool": there, "here": here, "holder": holder.pid, "netns": int(holder.ask("netns")[0])}


def ended(tool, directory):
    """Finding 15: `--all-namespaces` finds this namespace and two of holders' own; the one
    audited first (the lower inode) ends (its only process exits) after discovery, before
    its turn. For the text report a new one ends the same way."""
    ending, staying = sorted((Holder("unshare", "-n"), Holder("unshare", "-n")), key=lambda holder: int(holder.ask("netns")[0]))
    facts = {"ending": int(ending.ask("netns")[0]), "staying": int(staying.ask("netns")[0])}
    for arguments in (["--json"], []):
        facts["tool" if arguments else "text"] = run_tool(tool, directory, ["connections", "--all-namespaces", *arguments],
                                                          pause="after-discovery", during=ending.exit)
        if arguments:
            ending = Holder("unshare", "-n")
            facts["ending_again"] = int(ending.ask("netns")[0])
    return facts


SCENARIOS = {"shared": shared, "vanished": vanished, "reused-pid": reused_pid, "replaced": replaced, "passed": passed,
             "ended": ended}


def main():
    if sys.argv[1:2] == ["--holder"]:
        channel = socket.socket(fileno=int(sys.argv[3])) if sys.argv[2:3] == ["--channel"] else None
        return holder_loop(channel)
    scenario, tool, directory = sys.argv[1:4]
    World()
    print(json.dumps(SCENARIOS[scenario](tool, directory)), flush=True)


if __name__ == "__main__":
    main()
