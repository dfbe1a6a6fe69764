import KeepaliveModel
import Synchronization

/// One event the metrics count, with the typed values it is counted by. Each is recorded
/// by one ``EventLog`` method that builds the journal entry from the same values, so a
/// counter cannot disagree with the journal, and nothing is parsed back out of an entry.
enum CountedEvent: Sendable, Hashable {
    /// Drift found on a key (`drift`).
    case drifted(Tunable)
    /// A drifted key written back (`corrected`).
    case corrected(Tunable)
    /// Sockets of a unit given keepalive (`keepalive-enabled`).
    case keepaliveGiven(unit: String, count: Int)
    /// The namespace ended or is managed no more (`namespace-gone`, `namespace-released`):
    /// its series go with it.
    case namespaceEnded
    /// A reload, put in force or rejected.
    case reloaded(applied: Bool)
}

/// The daemon's ``MetricCounters``, behind a lock: the loop and the connections audit's
/// thread both count. ``EventLog`` counts each ``CountedEvent`` as it records it, and the
/// idle check (which records nothing) never touches them.
final class MetricsCounterBox: Sendable {
    private let counters = Mutex(MetricCounters())

    /// A copy of the counters now.
    var value: MetricCounters { counters.withLock { $0 } }

    /// Counts `event` of the namespace labelled `netns` (the reload and keepalive counters
    /// have no `netns` label).
    func count(_ event: CountedEvent, netns: String) {
        counters.withLock { counters in
            switch event {
            case .drifted(let key): counters.drifted(netns: netns, key: key)
            case .corrected(let key): counters.corrected(netns: netns, key: key)
            case .keepaliveGiven(let unit, let count): counters.gaveKeepalive(unit: unit, count: count)
            case .namespaceEnded: counters.forget(netns: netns)
            case .reloaded(let applied): counters.reloaded(applied: applied)
            }
        }
    }
}
