import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

extension SockDiag {
    /// Dumps the TCP sockets of `family` (AF_INET or AF_INET6) in the network namespace of the
    /// calling thread: a netlink socket sees the namespace it was created in, so to audit
    /// another namespace, call this on a thread that has entered it. An interrupted dump (the
    /// socket table changed meanwhile) is done again, up to three times. Needs no privilege.
    public static func dump(family: Int32, states: UInt32 = connectionStates, syscalls: Syscalls = .live) -> Result<[DiagSocket], Failure> {
        var outcome: Result<[DiagSocket], Failure> = .failure(.interrupted)
        for attempt in 1...3 {
            outcome = dumpOnce(family: family, states: states, sequence: UInt32(attempt), syscalls: syscalls)
            guard case .failure(.interrupted) = outcome else { return outcome }
        }
        return outcome
    }

    private static func dumpOnce(family: Int32, states: UInt32, sequence: UInt32, syscalls: Syscalls) -> Result<[DiagSocket], Failure> {
        let fd: Int32
        switch syscalls.socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue), 4 /* NETLINK_SOCK_DIAG */) {
        case .success(let opened): fd = opened
        case .failure(let error): return .failure(.kernel(error.code))
        }
        defer { syscalls.close(fd) }
        let request = SockDiag.request(family: family, sequence: sequence, states: states)
        if case .failure(let error) = request.withUnsafeBytes({ syscalls.send(fd, $0) }) { return .failure(.kernel(error.code)) }
        var sockets: [DiagSocket] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let progress = buffer.withUnsafeMutableBytes { raw -> Progress in
                guard case .success(let count) = syscalls.read(fd, raw), count > 0 else { return .failed(.truncated) }
                return parse(datagram: UnsafeRawBufferPointer(rebasing: raw[0..<count]), into: &sockets)
            }
            switch progress {
            case .more: continue
            case .done: return .success(sockets)
            case .failed(let failure): return .failure(failure)
            }
        }
    }
}
