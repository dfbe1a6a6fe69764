#!/usr/bin/env python3
"""Holds N loopback TCP connections (both ends, 2N sockets) to its own listener on PORT, none
with SO_KEEPALIVE, for the connections figures; prints `ready` and waits for stdin to close."""
import resource, socket, sys

count, port = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (2 * count + 64, 2 * count + 64))
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(4096)
held = []
for _ in range(count):
    client = socket.create_connection(("127.0.0.1", port))
    held += [client, listener.accept()[0]]
print("ready", flush=True)
sys.stdin.read()
