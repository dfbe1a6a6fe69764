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
    /// The most managed namespaces whose keys have series of their own (beside the host's):
    /// those in trouble first (a key unread, drifting or contested), then by label. The rest
    /// are counted (``namespacesManaged``, `namespaces_unlisted`, `namespaces_drifting`), so
    /// a fleet of thousands costs a few hundred series, and the ones worth a look (the
    /// alerts' drift, read and contest series) are still named.
    public static let listedNamespaces = 20

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

    /// What the exposition lists: the host and up to ``listedNamespaces`` other targets
    /// (troubled first, then by label), in label order after the host's; how many others
    /// are left out, and how many others drift now, listed or not.
    public var listing: (targets: [Target], unlisted: Int, drifting: Int) {
        let hosts = targets.filter { $0.netns == MetricsSnapshot.host }
        let others = targets.filter { $0.netns != MetricsSnapshot.host }
        let chosen = others.sorted { ($0.isTroubled ? 0 : 1, $0.netns) < ($1.isTroubled ? 0 : 1, $1.netns) }
            .prefix(MetricsSnapshot.listedNamespaces).sorted { $0.netns < $1.netns }
        return (hosts + chosen, others.count - chosen.count, others.filter(\.isDrifting).count)
    }
}

extension MetricsSnapshot.Target {
    /// Whether a key that was read differs from what is wanted.
    public var isDrifting: Bool { Tunable.allCases.contains { !unread.contains($0) && actual[$0] != expected[$0] } }

    /// Whether anything here wants a look: a key unread, drifting or contested.
    public var isTroubled: Bool { !unread.isEmpty || !contested.isEmpty || isDrifting }
}
