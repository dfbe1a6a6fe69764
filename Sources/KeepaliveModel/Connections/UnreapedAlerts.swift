/// When the daemon's audit warns about never-reaped connections (`alert-never-reaped`): once
/// when a unit's count rises above the threshold, and again only after it has fallen back to
/// or below it, so that a steady leak is one warning, not one per audit.
public struct UnreapedAlerts: Sendable {
    /// One warning: the unit (or `PID N` for a process outside any unit), the process holding
    /// the most of them, the count, and the count by state.
    public struct Alert: Sendable, Hashable {
        public let unit: String
        public let pid: Int32?
        public let count: Int
        public let states: [SocketRecord.State: Int]

        public init(unit: String, pid: Int32?, count: Int, states: [SocketRecord.State: Int]) {
            self.unit = unit
            self.pid = pid
            self.count = count
            self.states = states
        }
    }

    /// The units above the threshold at the last audit.
    public private(set) var over: Set<String> = []

    public init() {}

    /// The warnings for one audit's connections.
    public mutating func audit(_ connections: [AuditedConnection], threshold: Int) -> [Alert] {
        var counts: [String: (count: Int, states: [SocketRecord.State: Int], pids: [Int32: Int])] = [:]
        for connection in connections where connection.neverReaped {
            guard let key = connection.unit ?? connection.pids.first.map({ "PID \($0)" }) else { continue }
            var entry = counts[key] ?? (0, [:], [:])
            entry.count += 1
            entry.states[connection.socket.record.state, default: 0] += 1
            for pid in connection.pids { entry.pids[pid, default: 0] += 1 }
            counts[key] = entry
        }
        let now = Set(counts.filter { $0.value.count > threshold }.keys)
        let alerts = now.subtracting(over).sorted().map { unit in
            let entry = counts[unit]!
            let pid = entry.pids.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key
            return Alert(unit: unit, pid: pid, count: entry.count, states: entry.states)
        }
        over = now
        return alerts
    }
}
