import KeepaliveModel
import Synchronization

/// The daemon's ``MetricCounters``, behind a lock: the loop and the connections audit's
/// thread both count. ``EventLog`` counts each event it records as it records it, so the
/// counters cannot disagree with the journal, and the idle check (which records nothing)
/// never touches them.
final class MetricsCounterBox: Sendable {
    private let counters = Mutex(MetricCounters())

    /// A copy of the counters now.
    var value: MetricCounters { counters.withLock { $0 } }

    /// Counts a recorded event of the namespace labelled `netns`.
    func count(_ event: DaemonEvent, netns: String, fields: [String: String]) {
        switch event {
        case .drift, .corrected:
            guard let key = fields["SYSCTL"].flatMap(Tunable.init(sysctlKey:)) else { return }
            counters.withLock { event == .drift ? $0.drifted(netns: netns, key: key) : $0.corrected(netns: netns, key: key) }
        case .keepaliveEnabled:
            guard let unit = fields["UNIT"], let count = fields["COUNT"].flatMap({ Int($0) }) else { return }
            counters.withLock { $0.gaveKeepalive(unit: unit, count: count) }
        case .namespaceGone, .namespaceReleased:
            counters.withLock { $0.forget(netns: netns) }
        default:
            return
        }
    }

    /// Counts a reload, applied or rejected.
    func reloaded(applied: Bool) { counters.withLock { $0.reloaded(applied: applied) } }
}
