"""member.py CGROUP READY [PORT]: a member process for world.sh.

Moves itself into the cgroup directory CGROUP, optionally holds a TCP connection to itself on
127.0.0.1:PORT (made once it is there, so the sockets are the cgroup's too), then writes its
PID to READY and waits until its PID namespace ends.
"""
import os
import signal
import socket
import sys

cgroup, ready = sys.argv[1], sys.argv[2]
descriptor = os.open(os.path.join(cgroup, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC)
os.write(descriptor, b"0")
os.close(descriptor)
held = []
if len(sys.argv) > 3:
    port = int(sys.argv[3])
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen()
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    held = [server, client, accepted]
descriptor = os.open(ready, os.O_WRONLY | os.O_CLOEXEC)
os.write(descriptor, f"{os.getpid()}\n".encode())
os.close(descriptor)
while True:
    signal.pause()
