/// The counters behind the `_total` families, kept by the daemon as events happen: drift
/// found and corrections made per namespace and key, reloads by result, and sockets given
/// keepalive per unit. Pure; the daemon holds it behind a lock, since the connections
/// audit's thread counts too.
public struct MetricCounters: Sendable, Hashable {
    /// A series: the `netns` label and the key.
    public struct Series: Sendable, Hashable, Comparable {
        public let netns: String
        public let key: Tunable
        public init(netns: String, key: Tunable) {
            self.netns = netns
            self.key = key
        }
        public static func < (lhs: Series, rhs: Series) -> Bool {
            (lhs.netns, lhs.key.rawValue) < (rhs.netns, rhs.key.rawValue)
        }
    }

    /// The most units the per-unit counter labels by name; later ones count as `other`.
    /// A counter's label must not move once given, so the first units seen keep theirs.
    public static let unitLabels = ConnectionMetrics.topUnits

    public private(set) var driftEvents: [Series: Int] = [:]
    public private(set) var corrections: [Series: Int] = [:]
    public private(set) var reloadsApplied = 0
    public private(set) var reloadsRejected = 0
    public private(set) var keepaliveEnabled: [String: Int] = [:]

    public init() {}

    public mutating func drifted(netns: String, key: Tunable) { driftEvents[Series(netns: netns, key: key), default: 0] += 1 }
    public mutating func corrected(netns: String, key: Tunable) { corrections[Series(netns: netns, key: key), default: 0] += 1 }

    public mutating func reloaded(applied: Bool) {
        if applied { reloadsApplied += 1 } else { reloadsRejected += 1 }
    }

    public mutating func gaveKeepalive(unit: String, count: Int) {
        let label = keepaliveEnabled[unit] != nil || keepaliveEnabled.count < MetricCounters.unitLabels ? unit : ConnectionMetrics.other
        keepaliveEnabled[label, default: 0] += count
    }

    /// A namespace ended: its series go with it, so ended namespaces do not pile up.
    public mutating func forget(netns: String) {
        driftEvents = driftEvents.filter { $0.key.netns != netns }
        corrections = corrections.filter { $0.key.netns != netns }
    }
}
