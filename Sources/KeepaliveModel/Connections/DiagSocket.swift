/// One TCP socket from the kernel's sock_diag dump: its addresses, owner and cgroup, and its
/// ``SocketRecord``. The netlink reader (KeepaliveOS) fills it; tests build it by hand.
public struct DiagSocket: Sendable, Hashable {
    /// `ADDR:PORT`, IPv6 in brackets (`[::1]:41001`).
    public let local: String
    public let remote: String
    /// The socket's owner (`idiag_uid`).
    public let uid: UInt32
    /// The cgroup v2 id (the inode of the cgroup's directory), from `INET_DIAG_CGROUP_ID`.
    public let cgroupID: UInt64?
    public var record: SocketRecord

    public init(local: String, remote: String, uid: UInt32 = 0, cgroupID: UInt64? = nil, record: SocketRecord) {
        self.local = local
        self.remote = remote
        self.uid = uid
        self.cgroupID = cgroupID
        self.record = record
    }

    /// Whether it is an AF_INET6 socket (its addresses are in brackets, v4-mapped ones too).
    public var isIPv6: Bool { local.hasPrefix("[") }

    /// The local port (the number after the last `:`).
    public var localPort: Int { DiagSocket.port(local) }
    /// The remote port.
    public var remotePort: Int { DiagSocket.port(remote) }

    static func port(_ endpoint: String) -> Int {
        guard let colon = endpoint.lastIndex(of: ":") else { return 0 }
        return Int(endpoint[endpoint.index(after: colon)...]) ?? 0
    }
}
