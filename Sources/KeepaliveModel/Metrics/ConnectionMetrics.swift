/// The connections audit, counted for metrics: connections by unit, state and keepalive,
/// and never-reaped connections by unit.
///
/// Per-unit labels are capped: the ``topUnits`` units holding the most connections keep
/// their names, the rest are summed as `other`. Ten keeps a host at a few hundred series
/// at most (10 units × 11 states × 3 keepalive values, and far fewer in practice), so a
/// fleet of thousands stays cheap to scrape, while the units worth a look (the ones with
/// the most connections) are still named. Connections no process holds (orphans, TIME-WAIT)
/// count under `none`.
public struct ConnectionMetrics: Sendable, Hashable {
    /// How many units keep their own label.
    public static let topUnits = 10
    /// The label of the units past the top ones.
    public static let other = "other"
    /// The label of connections no unit holds.
    public static let noUnit = "none"

    public struct Key: Sendable, Hashable, Comparable {
        public let unit: String
        public let state: String
        public let keepalive: String
        public init(unit: String, state: String, keepalive: String) {
            self.unit = unit
            self.state = state
            self.keepalive = keepalive
        }
        public static func < (lhs: Key, rhs: Key) -> Bool {
            (lhs.unit, lhs.state, lhs.keepalive) < (rhs.unit, rhs.state, rhs.keepalive)
        }
    }

    public private(set) var connections: [Key: Int] = [:]
    public private(set) var neverReaped: [String: Int] = [:]

    public init() {}

    /// Counts an audit's connections.
    public init(_ audited: [AuditedConnection]) {
        var perUnit: [String: Int] = [:]
        for connection in audited { perUnit[connection.unit ?? ConnectionMetrics.noUnit, default: 0] += 1 }
        let named = Set(perUnit.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(ConnectionMetrics.topUnits).map(\.key))
        for connection in audited {
            let unit = connection.unit ?? ConnectionMetrics.noUnit
            let label = named.contains(unit) ? unit : ConnectionMetrics.other
            let state = String(connection.socket.record.state.name.lowercased().map { $0 == "-" ? "_" : $0 })
            connections[Key(unit: label, state: state, keepalive: connection.keepalive), default: 0] += 1
            if connection.neverReaped { neverReaped[label, default: 0] += 1 }
        }
        for unit in named where neverReaped[unit] == nil { neverReaped[unit] = 0 }
    }
}
