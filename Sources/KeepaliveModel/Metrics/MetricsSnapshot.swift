/// Everything one exposition shows, gathered by the daemon (or the `status --prometheus`
/// command) and rendered by ``Exposition``.
public struct MetricsSnapshot: Sendable, Hashable {
    /// One network namespace's keys.
    public struct Target: Sendable, Hashable {
        /// The `netns` label: `host` for the daemon's own namespace, else the namespace's
        /// name (its `/run/netns` name, container, pod or unit, or its inode).
        public var netns: String
        /// The kernel's values as last read (but for the ``unread`` keys).
        public var actual: KeepaliveValues
        /// What the profile wants (a kept explicit value counts as wanted).
        public var expected: KeepaliveValues
        /// Keys left alone for a back-off.
        public var contested: Set<Tunable> = []
        /// Keys whose read failed: their `read_ok` is 0, and their ``actual`` and
        /// ``expected`` values stand for nothing and are never exported (nor is the
        /// namespace's detection time, which needs every key).
        public var unread: Set<Tunable> = []

        /// One namespace's keys; every key read unless `unread` says otherwise.
        public init(netns: String, actual: KeepaliveValues, expected: KeepaliveValues, contested: Set<Tunable> = [],
                    unread: Set<Tunable> = []) {
            self.netns = netns
            self.actual = actual
            self.expected = expected
            self.contested = contested
            self.unread = unread
        }
    }

    /// The `netns` label of the daemon's own namespace.
    public static let host = "host"

    public var version: String
    /// The profile in force in the daemon's own namespace.
    public var profile: String
    public var configValid = true
    /// The daemon's own namespace first.
    public var targets: [Target] = []
    /// The daemon's counters; `nil` where no daemon counted (a one-shot command).
    public var counters: MetricCounters?
    public var namespacesManaged: Int?
    /// Namespaces selected but left unmanaged at the descriptor limit.
    public var namespacesOverLimit: Int?
    /// The last connections audit, if the daemon audits.
    public var connections: ConnectionMetrics?
    /// Unix time, in seconds.
    public var timestamp: Double

    public init(version: String, profile: String, timestamp: Double) {
        self.version = version
        self.profile = profile
        self.timestamp = timestamp
    }
}
