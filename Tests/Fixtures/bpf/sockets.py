#!/usr/bin/env python3
"""TCP sockets for the BPF keepalive tests, on loopback, made one command at a time.

Run inside a private network namespace with lo up. The test moves this process between its
cgroups (a socket belongs to the cgroup its creator was in when it was made) and asks for
listeners and connections. Reads commands, one per line; answers each with one JSON line:

  listen NAME {OPTIONS}    a listener on 127.0.0.1 with OPTIONS set on it first (its children
                           inherit them): {"ok": "listen", "port": PORT}
  connect NAME {OPTIONS}   a client with OPTIONS set on it first connects to listener NAME,
                           which accepts: {"ok": "connect", "accepted": {...}, "client": {...}}
                           reporting getsockopt of both ends' five options
  quit                     close everything and exit (so does end of input)

OPTIONS names options by their C names: SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL,
TCP_KEEPCNT, TCP_USER_TIMEOUT. Every socket stays open until the end.
"""
import json
import socket
import sys

OPTIONS = {
    "SO_KEEPALIVE": (socket.SOL_SOCKET, socket.SO_KEEPALIVE),
    "TCP_KEEPIDLE": (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
    "TCP_KEEPINTVL": (socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
    "TCP_KEEPCNT": (socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
    "TCP_USER_TIMEOUT": (socket.IPPROTO_TCP, 18),
}


def configure(sock, options):
    for name, value in options.items():
        level, option = OPTIONS[name]
        sock.setsockopt(level, option, value)


def report(sock):
    return {name: sock.getsockopt(level, option) for name, (level, option) in OPTIONS.items()}


def main():
    listeners, held = {}, []
    for line in sys.stdin:
        words = line.split(" ", 2)
        command = words[0].strip()
        if command == "quit":
            break
        name = words[1].strip()
        options = json.loads(words[2]) if len(words) > 2 else {}
        if command == "listen":
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            configure(server, options)
            server.bind(("127.0.0.1", 0))
            server.listen(64)
            listeners[name] = server
            answer = {"ok": "listen", "port": server.getsockname()[1]}
        elif command == "connect":
            client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            configure(client, options)
            client.connect(listeners[name].getsockname())
            accepted, _ = listeners[name].accept()
            held += [client, accepted]
            answer = {"ok": "connect", "accepted": report(accepted), "client": report(client),
                      "ports": [client.getsockname()[1], accepted.getsockname()[1]]}
        else:
            answer = {"error": "unknown command " + command}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
