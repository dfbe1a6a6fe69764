import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// Why a socket planned at the scan is not there to act on: the benign races between a scan
/// and an action, nothing left to give keepalive to.
public enum Vanished: String, Sendable, Hashable, CustomStringConvertible {
    /// The process exited (`pidfd_getfd`: ESRCH).
    case exited
    /// The process closed the descriptor (EBADF).
    case closed
    /// The descriptor number holds another socket now (closed, then reused): left alone.
    case replaced

    /// What happened, as a clause: `its process exited`.
    public var description: String {
        switch self {
        case .exited: "its process exited"
        case .closed: "the descriptor was closed"
        case .replaced: "the descriptor holds another socket now, which was left alone"
        }
    }
}

/// What a descriptor must hold to be read or changed: the socket the scan saw, checked on
/// the duplicate itself at the moment of action (a descriptor number is only a name, which
/// the process may give to another socket at any time).
public struct SocketIdentity: Sendable, Hashable {
    /// The socket's inode (`idiag_inode`, `fstat`'s `st_ino` on the duplicate).
    public let inode: UInt64
    /// AF_INET or AF_INET6.
    public let family: Int32

    /// The identity of a socket with this inode and family.
    public init(inode: UInt64, family: Int32) {
        self.inode = inode
        self.family = family
    }

    /// The identity of a socket of the kernel's dump.
    public init(_ socket: DiagSocket) {
        self.init(inode: socket.record.inode, family: socket.isIPv6 ? AF_INET6 : AF_INET)
    }
}

/// Another process's socket, reached through a `pidfd_getfd(2)` duplicate: the same socket,
/// so what is read is exact and what is set is seen by its owner. Needs ptrace-attach rights
/// over the owner (root, or CAP_SYS_PTRACE); EPERM otherwise.
public struct SocketAccess: Sendable {
    /// Why a socket could not be read or changed.
    public enum Failure: Error, Sendable, Hashable {
        /// It is not there any more: not a failure of this tool's.
        case vanished(Vanished)
        /// The kernel refused with this errno.
        case failed(Errno)
    }

    let syscalls: Syscalls

    /// Access through `syscalls`.
    public init(syscalls: Syscalls) { self.syscalls = syscalls }

    /// The socket's keepalive and its own timing (`SO_KEEPALIVE`, `TCP_KEEPIDLE`,
    /// `TCP_KEEPINTVL`, `TCP_KEEPCNT`, `TCP_USER_TIMEOUT`). The TCP_KEEP* the kernel reports
    /// are the sysctls' when the socket set none of its own, so they are not reported as the
    /// socket's (`options` stays empty) unless they differ from `sysctls`.
    public func inspect(pid: Int32, fd: Int32, expecting identity: SocketIdentity,
                        sysctls: KeepaliveValues) -> Result<(on: Bool, options: SocketRecord.Options), Failure> {
        withDuplicate({ duplicate(pid: pid, fd: fd) }, expecting: identity) { (copy: Int32) throws(Errno) -> (on: Bool, options: SocketRecord.Options) in
            let on = try syscalls.socketOption(copy, SOL_SOCKET, SO_KEEPALIVE).get() != 0
            let idle = Int(try syscalls.socketOption(copy, Int32(IPPROTO_TCP), TCP_KEEPIDLE).get())
            let intvl = Int(try syscalls.socketOption(copy, Int32(IPPROTO_TCP), TCP_KEEPINTVL).get())
            let count = Int(try syscalls.socketOption(copy, Int32(IPPROTO_TCP), TCP_KEEPCNT).get())
            let timeout = Int(try syscalls.socketOption(copy, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT).get())
            return (on, SocketRecord.Options(idle: idle == sysctls.time ? nil : idle,
                                             interval: intvl == sysctls.intvl ? nil : intvl,
                                             count: count == sysctls.probes ? nil : count,
                                             userTimeoutMilliseconds: timeout == 0 ? nil : timeout))
        }
    }

    /// Turns `SO_KEEPALIVE` on for descriptor `fd` of the process behind `pidfd`, if it still
    /// holds `identity` (no per-socket timing: the namespace's sysctls govern it). Returns
    /// whether it changed anything (it was off). Through a pidfd, never a PID: a process
    /// that exited is ESRCH, never another process.
    public func enableKeepalive(pidfd: Int32, fd: Int32, expecting identity: SocketIdentity) -> Result<Bool, Failure> {
        withDuplicate({ syscalls.duplicateFromProcess(pidfd, fd) }, expecting: identity) { (copy: Int32) throws(Errno) -> Bool in
            if try syscalls.socketOption(copy, SOL_SOCKET, SO_KEEPALIVE).get() != 0 { return false }
            try syscalls.setSocketOption(copy, SOL_SOCKET, SO_KEEPALIVE, 1).get()
            return true
        }
    }

    /// The cookie of the network namespace the socket belongs to (`SO_NETNS_COOKIE`): a
    /// socket passed in from another namespace (SCM_RIGHTS, socket activation) keeps its own.
    public func networkNamespace(pid: Int32, fd: Int32, expecting identity: SocketIdentity) -> Result<UInt64, Failure> {
        withDuplicate({ duplicate(pid: pid, fd: fd) }, expecting: identity) { (copy: Int32) throws(Errno) -> UInt64 in
            try syscalls.socketOption64(copy, SOL_SOCKET, NetworkNamespace.cookieOption).get()
        }
    }

    /// A duplicate of descriptor `fd` of process `pid`: `pidfd_open(2)`, then `pidfd_getfd(2)`,
    /// the pidfd closed again (for reads, where a PID reused meanwhile fails the identity check).
    private func duplicate(pid: Int32, fd: Int32) -> Result<Int32, Errno> {
        syscalls.openProcess(pid).flatMap { pidfd in
            defer { syscalls.close(pidfd) }
            return syscalls.duplicateFromProcess(pidfd, fd)
        }
    }

    /// `body` on the duplicate `duplicate` makes, closed afterwards, once it is checked to
    /// hold `identity`: `.replaced` otherwise, and `body` never runs.
    private func withDuplicate<T>(_ duplicate: () -> Result<Int32, Errno>, expecting identity: SocketIdentity,
                                  _ body: (Int32) throws(Errno) -> T) -> Result<T, Failure> {
        let copy: Int32
        switch duplicate() {
        case .success(let duplicate): copy = duplicate
        case .failure(let error): return .failure(Self.failure(error))
        }
        defer { syscalls.close(copy) }
        do {
            guard try holds(copy, identity) else { return .failure(.vanished(.replaced)) }
            return .success(try body(copy))
        } catch {
            return .failure(.failed(error))
        }
    }

    /// Whether `copy` is the socket `identity` names: its inode, and a TCP stream socket of
    /// its family (`SO_DOMAIN`, `SO_TYPE`, `SO_PROTOCOL`).
    func holds(_ copy: Int32, _ identity: SocketIdentity) throws(Errno) -> Bool {
        guard try syscalls.fstat(copy).get().inode == identity.inode else { return false }
        let domain = try syscalls.socketOption(copy, SOL_SOCKET, SO_DOMAIN).get()
        let type = try syscalls.socketOption(copy, SOL_SOCKET, SO_TYPE).get()
        let proto = try syscalls.socketOption(copy, SOL_SOCKET, SO_PROTOCOL).get()
        return domain == identity.family && type == Int32(SOCK_STREAM.rawValue) && proto == Int32(IPPROTO_TCP)
    }

    /// ESRCH and EBADF are a socket that went away; anything else is the kernel refusing.
    static func failure(_ error: Errno) -> Failure {
        switch error.code {
        case ESRCH: .vanished(.exited)
        case EBADF: .vanished(.closed)
        default: .failed(error)
        }
    }
}
