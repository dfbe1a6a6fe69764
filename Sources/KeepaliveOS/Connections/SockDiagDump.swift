import CLinux
import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

extension SockDiag {
    /// Dumps the TCP sockets of `family` (AF_INET or AF_INET6) in the network namespace of the
    /// calling thread: a netlink socket sees the namespace it was created in, so to audit
    /// another namespace, call this on a thread that has entered it. An interrupted dump (the
    /// socket table changed meanwhile) is done again, up to three times. Needs no privilege.
    public static func dump(family: Int32, states: UInt32 = connectionStates, syscalls: Syscalls) -> Result<[DiagSocket], Failure> {
        var outcome: Result<[DiagSocket], Failure> = .failure(.interrupted)
        for attempt in 1...3 {
            outcome = dumpOnce(family: family, states: states, sequence: UInt32(attempt), syscalls: syscalls)
            guard case .failure(.interrupted) = outcome else { return outcome }
        }
        return outcome
    }

    /// One request and its reply, each datagram walked as it comes, so that a dump of
    /// 100,000 sockets is never held whole in memory.
    private static func dumpOnce(family: Int32, states: UInt32, sequence: UInt32, syscalls: Syscalls) -> Result<[DiagSocket], Failure> {
        let socket: NetlinkSocket
        switch NetlinkSocket.open(protocol: NETLINK_SOCK_DIAG, syscalls: syscalls) {
        case .success(let opened): socket = opened
        case .failure(let error): return .failure(.kernel(error.code))
        }
        defer { socket.close() }
        if case .failure(let error) = socket.send(request(family: family, sequence: sequence, states: states)) {
            return .failure(.kernel(error.code))
        }
        var sockets: [DiagSocket] = []
        var walker = NetlinkWalker(sequence: sequence)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let step = buffer.withUnsafeMutableBytes { raw -> Result<Bool, Failure> in
                guard case .success(let received) = socket.receive(into: raw), received.length > 0 else { return .failure(.truncated) }
                let datagram = UnsafeRawBufferPointer(rebasing: raw[..<min(received.length, raw.count)])
                return Result { () throws(Failure) -> Bool in
                    try walker.walk(datagram, length: received.length, sender: received.sender) { message throws(Failure) in
                        try collect(message, into: &sockets)
                    }
                }
            }
            switch step {
            case .success(false): continue
            case .success(true): return .success(sockets)
            case .failure(let failure): return .failure(failure)
            }
        }
    }
}
