import KeepaliveModel
import KeepaliveOS

extension Daemon {
    /// Everything the metrics show now: the daemon's own namespace, then each managed
    /// namespace, the counters, the config's state.
    func metricsSnapshot(_ running: Running, at now: Instant) -> MetricsSnapshot {
        let enforcer = running.enforcer
        var snapshot = MetricsSnapshot(version: ProductVersion.current, profile: enforcer.policy.profile.name.rawValue,
                                       timestamp: WallClock.now())
        snapshot.configValid = configValid
        snapshot.targets = [enforcer.metricsTarget(netns: MetricsSnapshot.host, at: now)]
            + running.fleet.members.values.map { $0.enforcer.metricsTarget(netns: $0.metricsName, at: now) }
                .sorted { $0.netns < $1.netns }
        snapshot.counters = counters.value
        snapshot.namespacesManaged = running.fleet.members.count
        snapshot.namespacesOverLimit = running.fleet.overLimit
        return snapshot
    }

}

extension Enforcer {
    /// This target's keys for the metrics: the values last read, those wanted, and those
    /// left alone for a back-off. Where nothing was read since a write, or the last check
    /// failed, each key is read now; a key that cannot be read is exported as unread, never
    /// as in force.
    func metricsTarget(netns: String, at now: Instant) -> MetricsSnapshot.Target {
        var actual = lastSeen ?? policy.values
        var unread: Set<Tunable> = []
        if lastSeen == nil || checkFailing {
            for key in Tunable.allCases {
                do { actual[key] = try tree.read(key) } catch { unread.insert(key) }
            }
        }
        return MetricsSnapshot.Target(netns: netns, actual: actual, expected: expected(actual: actual),
                                      contested: Set(contested(at: now)), unread: unread)
    }
}
