/// One write to a keepalive sysctl, seen by the cgroup_sysctl program before it happened:
/// who wrote what, and whether the program let it through.
public struct SysctlWrite: Sendable, Hashable, CustomStringConvertible {
    /// The key written.
    public let key: Tunable
    /// The writer's process id in the host's PID namespace.
    public let pid: Int32
    /// The writer's uid in the host's user namespace.
    public let uid: UInt32
    /// The writer's cgroup, for its unit or container.
    public let cgroup: CgroupID
    /// The writer's command name (at most 15 characters).
    public let command: String
    /// The value before the write, as the kernel prints it.
    public let oldValue: String
    /// The value written, as the writer wrote it (not necessarily a number).
    public let newValue: String
    /// Whether the program refused the write (EPERM): the value did not change.
    public let refused: Bool

    /// A write from its fields.
    public init(key: Tunable, pid: Int32, uid: UInt32, cgroup: CgroupID, command: String,
                oldValue: String, newValue: String, refused: Bool) {
        self.key = key
        self.pid = pid
        self.uid = uid
        self.cgroup = cgroup
        self.command = command
        self.oldValue = oldValue
        self.newValue = newValue
        self.refused = refused
    }

    /// `net.ipv4.tcp_keepalive_time 7200 → 600 by sysctl[4242] (uid 0); refused`.
    public var description: String {
        "\(key.sysctlName) \(oldValue) → \(newValue) by \(command)[\(pid)] (uid \(uid))" + (refused ? "; refused" : "")
    }
}

/// What the sysctl program does with writes to each key: refuse them, or let them through.
/// Either way the write is reported. Exempt writers (the daemon's own cgroup, a process
/// such as `keepalived-tune apply`) pass unseen.
public struct SysctlWritePolicy: Sendable, Hashable {
    /// The keys whose writes are refused with EPERM (`on-drift = deny`).
    public var denied: Set<Tunable>

    /// A policy refusing writes to `denied` (none by default: report only).
    public init(denied: Set<Tunable> = []) { self.denied = denied }
}

/// The sysctl program's own counts, summed over CPUs.
public struct SysctlCounters: Sendable, Hashable {
    /// Writes that changed an owned key, by writers not exempt.
    public var seen: UInt64
    /// Of those, refused.
    public var denied: UInt64
    /// Events lost because the ring buffer was full: the writes happened (or were refused),
    /// but nobody was told; a re-read must find what changed.
    public var dropped: UInt64

    /// Counts from their three fields.
    public init(seen: UInt64 = 0, denied: UInt64 = 0, dropped: UInt64 = 0) {
        self.seen = seen
        self.denied = denied
        self.dropped = dropped
    }
}
