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

    /// What happened, as a clause: `its process exited`.
    public var description: String {
        switch self {
        case .exited: "its process exited"
        case .closed: "the descriptor was closed"
        }
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
    public init(syscalls: Syscalls = .live) { self.syscalls = syscalls }

    /// The socket's keepalive and its own timing (`SO_KEEPALIVE`, `TCP_KEEPIDLE`,
    /// `TCP_KEEPINTVL`, `TCP_KEEPCNT`, `TCP_USER_TIMEOUT`). The TCP_KEEP* the kernel reports
    /// are the sysctls' when the socket set none of its own, so they are not reported as the
    /// socket's (`options` stays empty) unless they differ from `sysctls`.
    public func inspect(pid: Int32, fd: Int32, sysctls: KeepaliveValues) -> Result<(on: Bool, options: SocketRecord.Options), Failure> {
        withDuplicate(pid: pid, fd: fd) { (copy: Int32) throws(Errno) -> (on: Bool, options: SocketRecord.Options) in
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

    /// Turns `SO_KEEPALIVE` on for descriptor `fd` of the process behind `pidfd` (no
    /// per-socket timing: the namespace's sysctls govern it). Returns whether it changed
    /// anything (it was off). Through a pidfd, never a PID: a process that exited is
    /// ESRCH, never another process.
    public func enableKeepalive(pidfd: Int32, fd: Int32) -> Result<Bool, Failure> {
        withDuplicate({ syscalls.duplicateFromProcess(pidfd, fd) }) { (copy: Int32) throws(Errno) -> Bool in
            if try syscalls.socketOption(copy, SOL_SOCKET, SO_KEEPALIVE).get() != 0 { return false }
            try syscalls.setSocketOption(copy, SOL_SOCKET, SO_KEEPALIVE, 1).get()
            return true
        }
    }

    /// `body` on a duplicate of descriptor `fd` of process `pid`, closed afterwards.
    private func withDuplicate<T>(pid: Int32, fd: Int32, _ body: (Int32) throws(Errno) -> T) -> Result<T, Failure> {
        withDuplicate({ syscalls.duplicateDescriptor(pid, fd) }, body)
    }

    /// `body` on the duplicate `duplicate` makes, closed afterwards.
    private func withDuplicate<T>(_ duplicate: () -> Result<Int32, Errno>, _ body: (Int32) throws(Errno) -> T) -> Result<T, Failure> {
        let copy: Int32
        switch duplicate() {
        case .success(let duplicate): copy = duplicate
        case .failure(let error): return .failure(Self.failure(error))
        }
        defer { syscalls.close(copy) }
        do { return .success(try body(copy)) } catch { return .failure(.failed(error)) }
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
