import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// The sockets the kernel closed that a process still holds: held TCP sockets of the
/// audited namespace that its dump lacks.
///
/// Two things make a held socket look dead when it is not:
/// - The scan and the dump run together, so a socket opened meanwhile can be missing from
///   the dump: when any is, the dump is taken again (now surely after the scan), and only
///   sockets missing from that one too count.
/// - A socket belongs to the namespace it was created in, not to its holder's: one passed
///   in over SCM_RIGHTS from another namespace (socket activation) is in that namespace's
///   dump, alive. So the socket's own namespace is read from it (`SO_NETNS_COOKIE` on a
///   duplicate, checked to be that socket) and compared with the audited namespace's (the
///   cookie of a socket made here). A socket whose namespace cannot be read is not called
///   dead; it is counted, for a blind spot.
extension ConnectionScanner {
    /// What was found: the dead sockets, and how many candidates could not be checked.
    struct DeadSockets {
        var sockets: [DeadSocket] = []
        var unchecked = 0
    }

    /// The held TCP sockets that `alive` (the dump's inodes) lacks and a second dump lacks
    /// too, of this namespace's processes, that are this namespace's sockets.
    func deadSockets(table: ProcessTable, alive: Set<UInt64>) -> DeadSockets {
        var found = missing(table: table, alive: alive)
        guard !found.sockets.isEmpty, case .success(let again) = dumpBoth() else { return found }
        let aliveNow = Set(again.0.map(\.record.inode))
        found.sockets.removeAll { aliveNow.contains($0.inode) }
        return found
    }

    /// The held TCP sockets of the namespace's processes that `alive` lacks, whose own
    /// namespace is this one.
    func missing(table: ProcessTable, alive: Set<UInt64>) -> DeadSockets {
        guard let namespace = NetworkNamespace.current(syscalls: syscalls) else { return DeadSockets() }
        var found = DeadSockets()
        var here: UInt64?? = .none   // the audited namespace's cookie, read at the first candidate
        let access = SocketAccess(syscalls: syscalls)
        for (inode, holders) in table.holders where !alive.contains(inode) {
            for holder in holders where table.namespaces[holder.pid] == namespace {
                let path = "\(procRoot)/\(holder.pid)/fd/\(holder.fd)"
                guard case .success(let name) = syscalls.extendedAttribute(path, "system.sockprotoname"),
                      name == "TCP" || name == "TCPv6",
                      case .success(let link) = syscalls.readLink(path),
                      ProcessTable.bracketedInode(link, kind: "socket") == inode else { continue }
                if here == nil { here = .some(ownCookie()) }
                let identity = SocketIdentity(inode: inode, family: name == "TCP" ? AF_INET : AF_INET6)
                switch (here!, access.networkNamespace(pid: holder.pid, fd: holder.fd, expecting: identity)) {
                case (let own?, .success(let cookie)) where cookie == own:
                    found.sockets.append(DeadSocket(holder: holder, inode: inode))
                case (_?, .success), (_, .failure(.vanished)):
                    continue   // another namespace's socket, or gone meanwhile
                case (nil, _), (_, .failure(.failed)):
                    found.unchecked += 1
                }
            }
        }
        found.sockets.sort { ($0.holder.pid, $0.holder.fd) < ($1.holder.pid, $1.holder.fd) }
        return found
    }

    /// The cookie of the calling thread's network namespace; nil if it cannot be read.
    func ownCookie() -> UInt64? {
        let cookie = NetworkNamespace.cookie(syscalls: syscalls)
        return cookie == 0 ? nil : cookie
    }
}
