/// The connections audit as pure logic: the kernel's sockets joined with the processes that
/// hold them, each judged by ``Reaping``, and summed up by process.
///
/// The OS layer gathers an ``AuditInput`` (one sock_diag dump, one `/proc` scan, optionally
/// the exact keepalive state read through `pidfd_getfd`); everything after that is here, so
/// that it is tested table by table in microseconds.
public struct AuditInput: Sendable {
    /// The TCP sockets of the audited namespace, in every state (listeners are left out of
    /// the audit, but their inodes are known to be alive).
    public var sockets: [DiagSocket]
    /// The processes holding each socket inode, with the descriptor number in each.
    public var holders: [UInt64: [SocketHolder]]
    /// Every process seen, by pid.
    public var processes: [Int32: HolderProcess]
    /// Units by cgroup id, for sockets whose holders could not be seen.
    public var unitsByCgroupID: [UInt64: UnitIdentity]
    /// Keepalive read from the socket itself, by inode (root only).
    public var exact: [UInt64: ExactKeepalive]
    /// The sysctls of the audited namespace.
    public var sysctls: ReapingSysctls
    /// Sockets the kernel already closed that a process still holds.
    public var dead: [DeadSocket]
    /// What could not be seen, and why.
    public var blindSpots: [String]

    public init(sockets: [DiagSocket], holders: [UInt64: [SocketHolder]] = [:], processes: [Int32: HolderProcess] = [:],
                unitsByCgroupID: [UInt64: UnitIdentity] = [:], exact: [UInt64: ExactKeepalive] = [:],
                sysctls: ReapingSysctls = ReapingSysctls(), dead: [DeadSocket] = [], blindSpots: [String] = []) {
        self.sockets = sockets
        self.holders = holders
        self.processes = processes
        self.unitsByCgroupID = unitsByCgroupID
        self.exact = exact
        self.sysctls = sysctls
        self.dead = dead
        self.blindSpots = blindSpots
    }
}

/// One descriptor of one process that refers to a socket.
public struct SocketHolder: Sendable, Hashable {
    public let pid: Int32
    public let fd: Int32
    public init(pid: Int32, fd: Int32) {
        self.pid = pid
        self.fd = fd
    }
}

/// A process as the audit names it.
public struct HolderProcess: Sendable, Hashable {
    public let pid: Int32
    /// Its command name (`/proc/PID/comm`).
    public let command: String
    /// The unit of its cgroup (``CgroupUnit/placement(ofPath:delegated:)``).
    public let unitIdentity: UnitIdentity?
    /// The unit as shown: the system unit, or `user-unit:UID/NAME`.
    public var unit: String? { unitIdentity?.description }
    /// When it started (`/proc/PID/stat` field 22, clock ticks since boot), read before its
    /// descriptors: with the PID, what tells it from a later process given the same PID.
    public let startTime: UInt64?
    /// A process as the scan saw it.
    public init(pid: Int32, command: String, unit: UnitIdentity?, startTime: UInt64? = nil) {
        self.pid = pid
        self.command = command
        self.unitIdentity = unit
        self.startTime = startTime
    }
}

/// SO_KEEPALIVE and the socket's own timing, read from the socket.
public struct ExactKeepalive: Sendable, Hashable {
    public let on: Bool
    public let options: SocketRecord.Options
    public init(on: Bool, options: SocketRecord.Options = SocketRecord.Options()) {
        self.on = on
        self.options = options
    }
}

/// A socket the kernel has already closed (keepalive, an RST, `ss -K`) that a process still
/// holds: a descriptor leak in the application.
public struct DeadSocket: Sendable, Hashable {
    public let holder: SocketHolder
    public let inode: UInt64
    public init(holder: SocketHolder, inode: UInt64) {
        self.holder = holder
        self.inode = inode
    }
}

/// One connection with its holders and verdict.
public struct AuditedConnection: Sendable, Hashable {
    /// Where the keepalive answer comes from.
    public enum KeepaliveSource: String, Sendable, Hashable {
        /// Read from the socket, which has timing of its own (TCP_KEEP*, TCP_USER_TIMEOUT).
        case socket
        /// Read from the socket; the namespace's sysctls time it.
        case netns
        /// Guessed from the kernel's timer (`idiag_timer`); timed by the namespace's sysctls.
        case inferred
    }

    public let socket: DiagSocket
    public let holders: [SocketHolder]
    /// The PIDs holding it, sorted, each once.
    public let pids: [Int32]
    /// The first holder's command, if any holder was seen.
    public let command: String?
    /// The holder's unit, or the unit of the socket's cgroup.
    public let unitIdentity: UnitIdentity?
    /// The unit as shown: the system unit, or `user-unit:UID/NAME`.
    public var unit: String? { unitIdentity?.description }
    public let keepaliveSource: KeepaliveSource
    public let verdict: Reaping.Verdict

    /// `on`, `off` or `unknown`.
    public var keepalive: String {
        switch socket.record.keepalive {
        case .socket(let on), .inferred(let on): on ? "on" : "off"
        case .unknown: "unknown"
        }
    }

    public var idleSeconds: Int? { socket.record.idleMilliseconds.map { $0 / 1000 } }
    public var neverReaped: Bool { verdict.reapedBy == .never }
    /// Keepalive is off, and only keepalive would reap it: `--enable-keepalive` fixes it.
    public var lacksKeepalive: Bool {
        neverReaped && socket.record.state != .closeWait && keepalive == "off"
    }
}

/// The audit's connections by process.
public struct ProcessSummary: Sendable, Hashable {
    /// `nil` for connections no process holds (orphans, TIME-WAIT) or whose holder is hidden.
    public let pid: Int32?
    public let command: String?
    public let unit: String?
    public var connections = 0
    public var byState: [SocketRecord.State: Int] = [:]
    public var withoutKeepalive = 0
    public var neverReaped = 0
    /// Of the connections without keepalive, those `--enable-keepalive` would fix.
    public var fixable = 0
    public var closeWait = 0
    public var oldestIdleSeconds: Int?
}

/// The joined, judged connections.
public struct ConnectionAudit: Sendable {
    public let connections: [AuditedConnection]
    public let dead: [DeadSocket]
    public let processes: [Int32: HolderProcess]
    public let blindSpots: [String]

    /// Joins and judges `input`. Listening sockets are left out.
    public init(_ input: AuditInput) {
        connections = input.sockets.filter { $0.record.state != .listen }.map { socket in
            var socket = socket
            var source = AuditedConnection.KeepaliveSource.inferred
            if let exact = input.exact[socket.record.inode], socket.record.inode != 0 {
                socket.record.keepalive = .socket(on: exact.on)
                socket.record.options = exact.options
                let own = exact.options != SocketRecord.Options()
                source = own ? .socket : .netns
            } else if socket.record.keepalive == .unknown {
                socket.record.keepalive = socket.record.inferredKeepalive
            }
            let holders = socket.record.inode == 0 ? [] : input.holders[socket.record.inode] ?? []
            let process = holders.first.flatMap { input.processes[$0.pid] }
            let unit = process?.unitIdentity ?? socket.cgroupID.flatMap { input.unitsByCgroupID[$0] }
            let pids = holders.count == 1 ? [holders[0].pid] : Array(Set(holders.map(\.pid))).sorted()
            return AuditedConnection(socket: socket, holders: holders, pids: pids, command: process?.command, unitIdentity: unit,
                                     keepaliveSource: source, verdict: Reaping.verdict(socket.record, sysctls: input.sysctls))
        }
        dead = input.dead
        processes = input.processes
        blindSpots = input.blindSpots
    }

    /// The connections summed up by holding process (a socket held by two processes counts
    /// for each); connections without a known holder are summed up by unit. Sorted by
    /// never-reaped count, then connections, then pid.
    public static func summary(_ connections: [AuditedConnection], processes: [Int32: HolderProcess]) -> [ProcessSummary] {
        struct Key: Hashable { let pid: Int32?; let unit: String? }
        var rows: [Key: ProcessSummary] = [:]
        for connection in connections {
            let keys = connection.pids.isEmpty ? [Key(pid: nil, unit: connection.unit)]
                : connection.pids.map { Key(pid: $0, unit: processes[$0]?.unit) }
            for key in keys {
                var row = rows[key] ?? ProcessSummary(pid: key.pid, command: key.pid.flatMap { processes[$0]?.command }, unit: key.unit)
                row.connections += 1
                row.byState[connection.socket.record.state, default: 0] += 1
                if connection.keepalive == "off" { row.withoutKeepalive += 1 }
                if connection.neverReaped { row.neverReaped += 1 }
                if connection.lacksKeepalive { row.fixable += 1 }
                if connection.socket.record.state == .closeWait { row.closeWait += 1 }
                if let idle = connection.idleSeconds { row.oldestIdleSeconds = max(row.oldestIdleSeconds ?? 0, idle) }
                rows[key] = row
            }
        }
        return rows.values.sorted {
            ($0.neverReaped, $0.connections, -Int($0.pid ?? Int32.max)) > ($1.neverReaped, $1.connections, -Int($1.pid ?? Int32.max))
        }
    }

    /// The one line that says what to do about `summary`.
    public static func advice(_ summary: [ProcessSummary]) -> String {
        if let worst = summary.filter({ $0.pid != nil && $0.fixable > 0 }).max(by: { $0.fixable < $1.fixable }), let pid = worst.pid {
            return "\(worst.fixable) connection\(worst.fixable == 1 ? "" : "s") of \(worst.command ?? "PID \(pid)") will never be reaped: "
                + "give them keepalive with `keepalived-tune connections --enable-keepalive --pid \(pid)`"
        }
        if let worst = summary.filter({ $0.closeWait > 0 }).max(by: { $0.closeWait < $1.closeWait }) {
            let who = worst.pid.map { "\(worst.command ?? "PID") (PID \($0))" } ?? worst.unit ?? "an unknown process"
            return "\(worst.closeWait) CLOSE-WAIT connection\(worst.closeWait == 1 ? "" : "s") of \(who): "
                + "the peer closed and the application has not; only the application can fix it (restart it, or report the leak)"
        }
        if summary.contains(where: { $0.neverReaped > 0 }) {
            return "some connections will never be reaped, but none held by a process this audit could see; run it as root"
        }
        return "every connection will be reaped if its peer vanishes; nothing to do"
    }
}
