#!/usr/bin/env python3
"""Live TCP peers for the connections tests, in two private network namespaces joined by a veth.

Namespace A holds the server (the process the tests audit); namespace B holds the remote
peers. Nothing outside the two namespaces this script creates is touched, and everything is
torn down when stdin closes (the test ended or died).

  peers.py [--connections N] [--classes] [--profile T/I/P] [--join PID] [--unit NAME]

--join PID puts the server in PID's network namespace (a daemon under test's, which the
test made) instead of a new one. --unit NAME moves the server, once it has accepted every
connection, into a new cgroup v2 named NAME (e.g. kt-test-legacy-1234.service), so that it
belongs to that "unit" as far as /proc/PID/cgroup says; the cgroup is removed at the end.
With --unit-from-start the server starts in that cgroup, so its sockets carry the cgroup's
id too (INET_DIAG_CGROUP_ID), as a service's do.

Prints `ready {json}` once set up, then reads commands, one per line, answering `ok ...`:
  cut       the link to B stops carrying anything (B's addresses are flushed): B's peers are
            gone without a FIN or RST, as after a crash or a dead NAT
  send      the server sends data on the connection from B's port 40003 (it stays unacknowledged)
  connect   B opens one more connection, from port 40005, and the server accepts it
  close     the server closes the first two connections it accepted (B's ends stay open)
  replace   the server puts an AF_UNIX socket at the descriptor of the third one it accepted
  unix-keepalive  `ok unix-keepalive FAMILY 0|1`: SO_KEEPALIVE of that descriptor, as the server reads it
  quit      tear down (so does end of input)

With --classes, B also opens: from port 40001 a connection it then closes (CLOSE-WAIT on A);
from 40002 one the server gives TCP_KEEPIDLE 300; from 40003 the one `send` uses; and from
[fd00:231::2]:40004 an IPv6 one. A's server then connects to B's port 7001, which echoes its
close (TIME-WAIT on A), and to 7002, which never closes (an orphaned FIN-WAIT-2 on A).
"""
import json
import os
import select
import socket
import subprocess
import sys
import threading

A4, B4, A6, B6 = "10.231.0.1", "10.231.0.2", "fd00:231::1", "fd00:231::2"
PORT = 31091


def say(*words):
    print(*words, flush=True)


def server(count, classes):
    """In A: accept every connection and hold it; never set SO_KEEPALIVE (but, with --classes, on port 40002's)."""
    listeners = [socket.create_server((A4, PORT), backlog=4096)]
    if classes:
        listeners.append(socket.create_server((A6, PORT), family=socket.AF_INET6, backlog=64))
    held, by_port = [], {}
    expected = count + (4 if classes else 0)
    say("listening")

    def accept_forever():
        while True:
            readable, _, _ = select.select(listeners, [], [])
            for listener in readable:
                connection, peer = listener.accept()
                held.append(connection)
                by_port[peer[1]] = connection
                if classes and peer[1] == 40002:
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 300)
                if len(held) == expected:
                    say("accepted", len(held))
                if peer[1] == 40005:
                    say("accepted-more")

    threading.Thread(target=accept_forever, daemon=True).start()
    outgoing = []
    for line in sys.stdin:
        command = line.strip()
        if command == "outgoing":
            closing = socket.create_connection((B4, 7001))
            silent = socket.create_connection((B4, 7002))
            closing.close()   # B echoes the close: TIME-WAIT here
            silent.close()    # B never closes: FIN-WAIT-2 here, orphaned
            outgoing.append(len(held))
            say("done")
        elif command == "send":
            by_port[40003].send(b"x" * 1000)
            say("sent")
        elif command == "close":
            for connection in held[:2]:
                connection.close()
            say("closed")
        elif command == "replace":
            mine, other = socket.socketpair()
            outgoing.append(other)
            os.dup2(mine.fileno(), held[2].fileno(), inheritable=False)
            mine.close()
            say("replaced")
        elif command == "unix-keepalive":
            probe = socket.socket(fileno=os.dup(held[2].fileno()))
            say("unix-keepalive", probe.family.name, probe.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE))
            probe.close()
        elif command == "quit":
            break


def remote(count, classes):
    """In B: listeners for A's outgoing connections, then the clients of A's server."""
    echo = socket.create_server((B4, 7001))
    silent = socket.create_server((B4, 7002))
    kept = []

    def echo_close():
        while True:
            connection, _ = echo.accept()
            while connection.recv(4096):
                pass
            connection.close()

    def hold():
        while True:
            kept.append(silent.accept()[0])

    threading.Thread(target=echo_close, daemon=True).start()
    threading.Thread(target=hold, daemon=True).start()
    # B is the fixture's own namespace: its ephemeral ports start above the fixed ones
    # (40001-40005), so no plain client ever takes one of them by chance.
    with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as ports:
        ports.write("41000 60999\n")
    clients = [socket.create_connection((A4, PORT)) for _ in range(count)]
    if classes:
        for port in (40001, 40002, 40003):
            clients.append(socket.create_connection((A4, PORT), source_address=(B4, port)))
        clients.append(socket.create_connection((A6, PORT), source_address=(B6, 40004)))
        clients[count].close()   # from 40001: the peer closed, A's application has not
    say("connected")
    for line in sys.stdin:
        if line.strip() == "connect":
            clients.append(socket.create_connection((A4, PORT), source_address=(B4, 40005)))
            say("connected-more")
        elif line.strip() == "quit":
            break


def namespace_holder():
    """A process in a new network namespace, to hold it and to nsenter."""
    holder = subprocess.Popen(["unshare", "-n", "sleep", "infinity"])
    own = os.readlink("/proc/self/ns/net")
    while True:
        try:
            if os.readlink(f"/proc/{holder.pid}/ns/net") != own and open(f"/proc/{holder.pid}/comm").read().strip() == "sleep":
                return holder
        except OSError:
            pass
        os.sched_yield()


class Joined:
    """Another process's network namespace, used in place of a holder of our own."""
    def __init__(self, pid):
        self.pid = pid

    def kill(self):
        pass

    def wait(self):
        pass


def cgroup2_root():
    return "/sys/fs/cgroup" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "/sys/fs/cgroup/unified"


class Cgroup:
    """A cgroup v2 this script creates, and removes once the processes in it are gone."""
    def __init__(self, name, pid):
        self.path = os.path.join(cgroup2_root(), name)
        os.mkdir(self.path)
        if pid is not None:
            with open(os.path.join(self.path, "cgroup.procs"), "w") as procs:
                procs.write(str(pid))

    def kill(self):
        pass

    def wait(self):
        os.rmdir(self.path)


def inside(holder, *command):
    subprocess.run(["nsenter", "-t", str(holder.pid), "-n", *command], check=True)


def expect(process, word):
    line = process.stdout.readline().decode()
    if not line.startswith(word):
        raise SystemExit(f"peers.py: expected {word!r}, got {line!r}")
    return line


def main():
    args = sys.argv[1:]
    count = int(args[args.index("--connections") + 1]) if "--connections" in args else 10
    classes = "--classes" in args
    if "--role" in args:
        role = args[args.index("--role") + 1]
        return server(count, classes) if role == "server" else remote(count, classes)
    profile = args[args.index("--profile") + 1].split("/") if "--profile" in args else None
    a = Joined(int(args[args.index("--join") + 1])) if "--join" in args else namespace_holder()
    b = namespace_holder()
    children = [a, b]
    try:
        inside(a, "ip", "link", "add", "ktA", "type", "veth", "peer", "name", "ktB", "netns", str(b.pid))
        for holder, device, v4, v6 in ((a, "ktA", A4, A6), (b, "ktB", B4, B6)):
            inside(holder, "ip", "link", "set", "lo", "up")
            inside(holder, "ip", "addr", "add", v4 + "/24", "dev", device)
            inside(holder, "ip", "-6", "addr", "add", v6 + "/64", "dev", device, "nodad")
            inside(holder, "ip", "link", "set", device, "up")
        if profile:
            for name, value in zip(("time", "intvl", "probes"), profile):
                inside(a, "sysctl", "-qw", f"net.ipv4.tcp_keepalive_{name}={value}")
        role_args = ["--connections", str(count)] + (["--classes"] if classes else [])
        me = [sys.executable, os.path.abspath(__file__)]
        unit = args[args.index("--unit") + 1] if "--unit" in args else None
        early = Cgroup(unit, None) if unit and "--unit-from-start" in args else None
        join_early = (lambda: open(os.path.join(early.path, "cgroup.procs"), "w").write(str(os.getpid()))) if early else None
        srv = subprocess.Popen(["nsenter", "-t", str(a.pid), "-n", *me, "--role", "server", *role_args],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, preexec_fn=join_early)
        children.append(srv)
        if early:
            children.insert(0, early)
        expect(srv, "listening")
        rem = subprocess.Popen(["nsenter", "-t", str(b.pid), "-n", *me, "--role", "remote", *role_args],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        children.append(rem)
        expect(rem, "connected")
        expect(srv, "accepted")
        if unit and not early:
            children.insert(0, Cgroup(unit, srv.pid))

        def tell(process, command, answer):
            process.stdin.write((command + "\n").encode())
            process.stdin.flush()
            return expect(process, answer)

        if classes:
            tell(srv, "outgoing", "done")
        say("ready", json.dumps({"a": a.pid, "b": b.pid, "server": srv.pid, "remote": rem.pid, "port": PORT}))
        for line in sys.stdin:
            command = line.strip()
            if command == "cut":
                inside(b, "ip", "addr", "flush", "dev", "ktB")
                say("ok cut")
            elif command == "send":
                tell(srv, "send", "sent")
                say("ok send")
            elif command == "close":
                tell(srv, "close", "closed")
                say("ok close")
            elif command == "replace":
                tell(srv, "replace", "replaced")
                say("ok replace")
            elif command == "unix-keepalive":
                say("ok", tell(srv, "unix-keepalive", "unix-keepalive").strip())
            elif command == "connect":
                tell(rem, "connect", "connected-more")
                expect(srv, "accepted-more")
                say("ok connect")
            elif command == "quit":
                break
    finally:
        for child in reversed(children):
            child.kill()
            child.wait()


if __name__ == "__main__":
    main()
