#!/usr/bin/env python3
"""Records raw NETLINK_SOCK_DIAG dump replies for the parser's tests (run as root; it makes a
private network namespace of its own, so nothing outside it is seen or touched):

    unshare -n python3 Tests/Fixtures/sockdiag/record.py Tests/Fixtures/sockdiag

Connections made, on loopback (ports fixed, so the tests know what to expect):
  41000 <- a client without SO_KEEPALIVE, idle          (ESTABLISHED, no timer)
  41000 <- a client with SO_KEEPALIVE                    (ESTABLISHED, keepalive timer)
  41000 <- a client that closed; the server has not      (CLOSE-WAIT / FIN-WAIT-2)
  41002 <- a server that closed first                    (TIME-WAIT on the server's side)
  [::1]:41001 <- a client without SO_KEEPALIVE           (IPv6 ESTABLISHED)
Writes inet.bin and inet6.bin: every datagram of each dump, as received, back to back.
"""
import os, socket, struct, subprocess, sys, time

out = sys.argv[1]
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
keep = []

def listener(family, address, port):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port)); s.listen(16); keep.append(s)
    return s

def connect(family, address, port, keepalive=False):
    c = socket.socket(family, socket.SOCK_STREAM)
    if keepalive:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    c.connect((address, port)); keep.append(c)
    return c

server = listener(socket.AF_INET, "127.0.0.1", 41000)
connect(socket.AF_INET, "127.0.0.1", 41000); keep.append(server.accept()[0])
connect(socket.AF_INET, "127.0.0.1", 41000, keepalive=True); keep.append(server.accept()[0])
closing = connect(socket.AF_INET, "127.0.0.1", 41000); keep.append(server.accept()[0]); closing.close()
first = listener(socket.AF_INET, "127.0.0.1", 41002)
c = connect(socket.AF_INET, "127.0.0.1", 41002); a = first.accept()[0]; a.close(); time.sleep(0.05); c.close()
server6 = listener(socket.AF_INET6, "::1", 41001)
connect(socket.AF_INET6, "::1", 41001); keep.append(server6.accept()[0])
time.sleep(0.2)

def dump(family):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 4)   # NETLINK_SOCK_DIAG
    states = 0xFFF & ~(1 << 10)                                 # every state but LISTEN
    ext = 1 << (2 - 1)                                          # INET_DIAG_INFO
    req = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, ext, 0, states) + b"\0" * 48
    hdr = struct.pack("=IHHII", 16 + len(req), 20, 0x301, 7, 0)  # SOCK_DIAG_BY_FAMILY, REQUEST|DUMP
    s.send(hdr + req)
    data = b""
    while True:
        chunk = s.recv(65536)
        data += chunk
        if struct.unpack_from("=H", chunk, 4)[0] in (2, 3):      # NLMSG_ERROR, NLMSG_DONE
            break
    return data

with open(os.path.join(out, "inet.bin"), "wb") as f:
    f.write(dump(socket.AF_INET))
with open(os.path.join(out, "inet6.bin"), "wb") as f:
    f.write(dump(socket.AF_INET6))
