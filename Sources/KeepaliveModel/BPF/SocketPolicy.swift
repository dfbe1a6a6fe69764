/// What the keepalive-at-birth program gives each new TCP connection of one workload: the
/// keepalive values and, optionally, TCP_USER_TIMEOUT. One entry of the `workloads` map.
///
/// The program sets only what the application has not set itself; see
/// Sources/KeepaliveBPF/programs/keepalive.bpf.c.
public struct SocketPolicy: Sendable, Hashable, CustomStringConvertible {
    /// TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT (always within the kernel's per-socket
    /// limits: ``Tunable``'s ranges are those limits).
    public let keepalive: KeepaliveValues
    /// TCP_USER_TIMEOUT in milliseconds; 0 leaves the socket's own (or none) alone.
    public let userTimeoutMilliseconds: UInt32

    /// A profile's `[socket] user-timeout`.
    public enum UserTimeout: Sendable, Hashable {
        /// Not set: the kernel's retransmission limits decide (about 924 s with data in flight).
        case off
        /// `time + intvl × probes`, so a connection with unacknowledged data ends when an
        /// idle one would.
        case auto
        /// A span in milliseconds.
        case milliseconds(Int)
    }

    /// The policy for a profile's values and user timeout; `nil` if a value is outside the
    /// kernel's per-socket limits (TCP_KEEPIDLE/INTVL 1...32767 s, TCP_KEEPCNT 1...127,
    /// TCP_USER_TIMEOUT up to 2^31 - 1 ms).
    public init?(keepalive: KeepaliveValues, userTimeout: UserTimeout) {
        for key in Tunable.allCases where !key.spec.range.contains(keepalive[key]) { return nil }
        let milliseconds: Int
        switch userTimeout {
        case .off: milliseconds = 0
        case .auto: milliseconds = min(keepalive.detectionSeconds * 1000, Int(Int32.max))
        case .milliseconds(let value): milliseconds = value
        }
        guard (0...Int(Int32.max)).contains(milliseconds) else { return nil }
        self.keepalive = keepalive
        self.userTimeoutMilliseconds = UInt32(milliseconds)
    }

    /// `1800/30/3` or `1800/30/3 user-timeout 1890000ms`, for logs.
    public var description: String {
        keepalive.compact + (userTimeoutMilliseconds == 0 ? "" : " user-timeout \(userTimeoutMilliseconds)ms")
    }
}

/// A cgroup v2 id: the kernel's 64-bit id of a cgroup directory, the key the programs look
/// workloads up by (what `bpf_get_current_cgroup_id()` and `bpftool cgroup` report).
public struct CgroupID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64

    /// The id the kernel gave a cgroup.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// Ids in numeric order (the order of creation).
    public static func < (lhs: CgroupID, rhs: CgroupID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The id in decimal, as bpftool prints it.
    public var description: String { String(rawValue) }
}

/// What the keepalive program did with one workload's new connections, summed over CPUs.
/// Every established connection of a workload in the map counts in exactly one field.
public struct SocketCounters: Sendable, Hashable {
    /// Connections given at least one option, with no failure.
    public var given: UInt64
    /// Connections whose application had set every option itself: nothing was changed.
    public var leftAlone: UInt64
    /// Connections for which the kernel refused an option.
    public var failed: UInt64

    /// Counts from their three fields.
    public init(given: UInt64 = 0, leftAlone: UInt64 = 0, failed: UInt64 = 0) {
        self.given = given
        self.leftAlone = leftAlone
        self.failed = failed
    }

    /// All connections counted.
    public var total: UInt64 { given &+ leftAlone &+ failed }

    /// The sum of two counts (CPUs, or workloads).
    public static func + (lhs: SocketCounters, rhs: SocketCounters) -> SocketCounters {
        SocketCounters(given: lhs.given &+ rhs.given, leftAlone: lhs.leftAlone &+ rhs.leftAlone,
                       failed: lhs.failed &+ rhs.failed)
    }
}
