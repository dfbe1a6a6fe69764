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

    /// The most namespaces besides the host whose drift and correction counters carry their
    /// own `netns` label; later ones count as ``otherNamespaces``. As with units, a label is
    /// given at the first count and kept while the namespace lives, so that no counter moves.
    public static let namespaceLabels = MetricsSnapshot.listedNamespaces
    /// The `netns` label of the namespaces past ``namespaceLabels``.
    public static let otherNamespaces = "other"

    /// The most units the per-unit counter labels by name; later ones count as `other`.
    /// A counter's label must not move once given, so the first units seen keep theirs.
    public static let unitLabels = ConnectionMetrics.topUnits

    public private(set) var driftEvents: [Series: Int] = [:]
    public private(set) var corrections: [Series: Int] = [:]
    public private(set) var reloadsApplied = 0
    public private(set) var reloadsRejected = 0
    public private(set) var keepaliveEnabled: [String: Int] = [:]
    /// The namespaces (not the host) that hold a label of their own.
    public private(set) var labelledNamespaces: Set<String> = []

    public init() {}

    /// The label a count for `netns` goes to now: the host's and a labelled namespace's own,
    /// a new namespace's own while labels are left, else ``otherNamespaces``.
    public func label(netns: String) -> String {
        netns == MetricsSnapshot.host || labelledNamespaces.contains(netns) || !namespaceLabelsFull ? netns : MetricCounters.otherNamespaces
    }

    /// Whether every namespace label is given, so that new namespaces count as ``otherNamespaces``.
    public var namespaceLabelsFull: Bool { labelledNamespaces.count >= MetricCounters.namespaceLabels }

    public mutating func drifted(netns: String, key: Tunable) { driftEvents[series(netns, key), default: 0] += 1 }
    public mutating func corrected(netns: String, key: Tunable) { corrections[series(netns, key), default: 0] += 1 }

    /// The series a count for `netns` goes to, its label given if it is new.
    private mutating func series(_ netns: String, _ key: Tunable) -> Series {
        let label = label(netns: netns)
        if label != MetricsSnapshot.host && label != MetricCounters.otherNamespaces { labelledNamespaces.insert(label) }
        return Series(netns: label, key: key)
    }

    public mutating func reloaded(applied: Bool) {
        if applied { reloadsApplied += 1 } else { reloadsRejected += 1 }
    }

    public mutating func gaveKeepalive(unit: String, count: Int) {
        let label = keepaliveEnabled[unit] != nil || keepaliveEnabled.count < MetricCounters.unitLabels ? unit : ConnectionMetrics.other
        keepaliveEnabled[label, default: 0] += count
    }

    /// A namespace ended: its series go with it (and its label, for a namespace to come), so
    /// ended namespaces do not pile up; what it counted under `other` stays there.
    public mutating func forget(netns: String) {
        labelledNamespaces.remove(netns)
        driftEvents = driftEvents.filter { $0.key.netns != netns }
        corrections = corrections.filter { $0.key.netns != netns }
    }
}
