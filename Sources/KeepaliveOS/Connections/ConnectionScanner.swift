import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// Gathers what the connections audit needs, in the network namespace of the calling thread:
/// one `/proc` scan and, at the same time on a thread of its own, one sock_diag dump per
/// address family; the namespace's sysctls; and (where permitted) the exact keepalive state
/// of the sockets that need it.
///
/// A held TCP socket missing from the dump is one the kernel has closed, if the dump was
/// taken after the scan saw it and the socket is this namespace's (see
/// `ConnectionScanner+DeadSockets.swift`).
public struct ConnectionScanner: Sendable {
    /// How keepalive is found out.
    public enum Depth: Sendable {
        /// From the kernel's timer, and from the socket itself only where the timer hides it
        /// (a retransmission is pending): fast, one `getsockopt` set for few sockets.
        case inferred
        /// From every socket itself (`pidfd_getfd` + `getsockopt`): exact, with per-socket
        /// timing; about five system calls per socket.
        case exact
    }

    let syscalls: Syscalls
    let procRoot: String
    let sysctlRoot: String

    /// A scanner of `procRoot` and `sysctlRoot` making its calls through `syscalls`.
    public init(syscalls: Syscalls, procRoot: String = "/proc", sysctlRoot: String = "/proc/sys") {
        self.syscalls = syscalls
        self.procRoot = procRoot
        self.sysctlRoot = sysctlRoot
    }

    /// Everything the audit needs, or why the kernel's dump could not be read.
    public func gather(depth: Depth) -> Result<AuditInput, SockDiag.Failure> {
        final class Dumped: @unchecked Sendable { var result: Result<([DiagSocket], [String]), SockDiag.Failure> = .success(([], [])) }
        let dumped = Dumped()
        let thread = try? OwnThread.start { [self] in dumped.result = dumpBoth() }.get()
        let table = ProcessTable.scan(procRoot: procRoot, syscalls: syscalls)
        if let thread { thread.join() } else { dumped.result = dumpBoth() }
        var sockets: [DiagSocket], blindSpots: [String]
        switch dumped.result {
        case .success(let found): (sockets, blindSpots) = found
        case .failure(let failure): return .failure(failure)
        }
        let sysctls = readSysctls()
        if table.hidden > 0 {
            blindSpots.append("the descriptors of \(table.hidden) processes of other users could not be read (that needs root: "
                + "CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE); their connections are shown by the unit of the socket's cgroup, without a PID, "
                + "and their dead sockets are not found")
        }
        var input = AuditInput(sockets: sockets, holders: table.holders, processes: table.processes,
                               sysctls: sysctls, blindSpots: blindSpots)
        readExact(into: &input, depth: depth)
        let dead = deadSockets(table: table, alive: Set(sockets.map(\.record.inode)))
        input.dead = dead.sockets
        if dead.unchecked > 0 {
            input.blindSpots.append("\(dead.unchecked) held TCP sockets are in no dump of this namespace, but their own namespace could not be "
                + "read (pidfd_getfd needs CAP_SYS_PTRACE; SO_NETNS_COOKIE Linux 5.14): closed by the kernel, or passed in from another "
                + "namespace, they are not listed as dead")
        }
        let unattributed = sockets.contains { $0.record.inode != 0 && table.holders[$0.record.inode] == nil && $0.cgroupID != nil }
        if unattributed { input.unitsByCgroupID = CgroupTree.unitsByID(syscalls: syscalls) }
        return .success(input)
    }

    /// The TCP sockets over IPv4 and IPv6, every state; an IPv6 dump that fails is a blind
    /// spot, not a failure (IPv6 may be disabled).
    func dumpBoth() -> Result<([DiagSocket], [String]), SockDiag.Failure> {
        var sockets: [DiagSocket]
        switch SockDiag.dump(family: AF_INET, states: SockDiag.allStates, syscalls: syscalls) {
        case .success(let found): sockets = found
        case .failure(let failure): return .failure(failure)
        }
        switch SockDiag.dump(family: AF_INET6, states: SockDiag.allStates, syscalls: syscalls) {
        case .success(let found): sockets += found
        case .failure(let failure): return .success((sockets, ["IPv6 sockets: \(failure)"]))
        }
        return .success((sockets, []))
    }

    /// The namespace's sysctls that decide reaping; a value that cannot be read keeps the
    /// kernel's default.
    func readSysctls() -> ReapingSysctls {
        func value(_ name: String) -> Int? {
            FileReader.smallFile("\(sysctlRoot)/net/ipv4/\(name)", syscalls: syscalls)
                .flatMap { Int($0.trimmed) }
        }
        var sysctls = ReapingSysctls()
        let defaults = KeepaliveValues.kernelDefaults
        sysctls.keepalive = KeepaliveValues(time: value("tcp_keepalive_time") ?? defaults.time,
                                            intvl: value("tcp_keepalive_intvl") ?? defaults.intvl,
                                            probes: value("tcp_keepalive_probes") ?? defaults.probes)
        sysctls.retries2 = value("tcp_retries2") ?? sysctls.retries2
        sysctls.finTimeout = value("tcp_fin_timeout") ?? sysctls.finTimeout
        sysctls.synRetries = value("tcp_syn_retries") ?? sysctls.synRetries
        sysctls.synackRetries = value("tcp_synack_retries") ?? sysctls.synackRetries
        return sysctls
    }

    /// Reads keepalive from the sockets themselves: every connection's for `.exact`, else
    /// only those whose timer hides it.
    func readExact(into input: inout AuditInput, depth: Depth) {
        let access = SocketAccess(syscalls: syscalls)
        var refused = 0
        for socket in input.sockets where socket.record.inode != 0 && socket.record.state != .listen {
            guard depth == .exact || socket.record.keepalive == .unknown,
                  let holders = input.holders[socket.record.inode] else { continue }
            for holder in holders {
                switch access.inspect(pid: holder.pid, fd: holder.fd, expecting: SocketIdentity(socket), sysctls: input.sysctls.keepalive) {
                case .success(let found):
                    input.exact[socket.record.inode] = ExactKeepalive(on: found.on, options: found.options)
                case .failure(.failed(let error)) where error.code == EPERM || error.code == EACCES:
                    refused += 1
                case .failure:
                    continue   // the descriptor, its socket or the process is gone; try another holder
                }
                break
            }
        }
        if refused > 0 {
            input.blindSpots.append("keepalive could not be read from \(refused) sockets (pidfd_getfd needs CAP_SYS_PTRACE); "
                + "it is inferred from the kernel's timers")
        }
    }
}
