import KeepaliveModel

/// The one-line `STATUS=` text that `systemctl status` shows.
public enum StatusLine {
    /// `profile server in force: 1800/30/3, dead peers found within 31min 30s`, with any
    /// unresolved drift, contested keys or a rejected reload said first.
    /// With `namespaces` (``Fleet``), the line ends `; 12 namespaces managed, 0 drifting`.
    public static func make(policy: Policy, drift: [ValueDifference], contested: [Tunable],
                            rejection: String?, namespaces: (managed: Int, drifting: Int)? = nil) -> String {
        let line = ownLine(policy: policy, drift: drift, contested: contested, rejection: rejection)
        guard let namespaces else { return line }
        let noun = namespaces.managed == 1 ? "namespace" : "namespaces"
        return "\(line); \(namespaces.managed) \(noun) managed, \(namespaces.drifting) drifting"
    }

    private static func ownLine(policy: Policy, drift: [ValueDifference], contested: [Tunable], rejection: String?) -> String {
        let name = policy.profile.name
        if let rejection { return "reload rejected: \(rejection) (still enforcing \(name))" }
        if !contested.isEmpty {
            return "profile \(name) contested: \(contested.map(\.sysctlName).joined(separator: ", ")) keep being reset by something else; backing off"
        }
        if !drift.isEmpty {
            let keys = drift.map { "\($0.key.sysctlName) is \($0.actual), wants \($0.expected)" }
            return "DRIFT from profile \(name): \(keys.joined(separator: "; ")) (on-drift = \(policy.config.driftPolicy.rawValue))"
        }
        return "profile \(name) in force: \(policy.values.compact), dead peers found within \(TimeSpan.format(seconds: policy.values.detectionSeconds))"
    }
}
