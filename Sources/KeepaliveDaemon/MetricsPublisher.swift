import KeepaliveModel
import KeepaliveOS
import Synchronization

/// Writes the metrics textfile (`[metrics] textfile`) for node_exporter's textfile
/// collector: after a loop turn that changed something a metric shows, after each
/// connections audit, and at least once a minute (so a stale file can be alerted on);
/// never from the idle drift check. An unchanged snapshot is not written again before the
/// minute is up. A write that fails is logged once (`metrics-failed`) until one succeeds.
///
/// The loop and the connections audit's thread both publish, so the state is behind a lock.
final class MetricsPublisher: Sendable {
    /// The longest time between two writes.
    static let refresh = Interval.seconds(60)

    private struct State {
        var textfile: MetricsTextfile?
        /// The loop's last snapshot; the audit's writes reuse it.
        var snapshot: MetricsSnapshot?
        /// What was last written, timestamp zeroed, to skip writing it again.
        var written: MetricsSnapshot?
        var connections: ConnectionMetrics?
        var lastWrite: Instant?
        /// The failure last logged, until a write succeeds.
        var failure: String?
    }

    private let state = Mutex(State())
    private let counters: MetricsCounterBox
    private let log: EventLog
    private let syscalls: Syscalls

    init(counters: MetricsCounterBox, log: EventLog, syscalls: Syscalls) {
        self.counters = counters
        self.log = log
        self.syscalls = syscalls
    }

    /// Takes the config's `textfile` (at start and after each reload); `nil` writes nothing.
    func configure(_ path: String?) {
        state.withLock { state in
            guard state.textfile?.path != path else { return }
            state.textfile = path.map { MetricsTextfile(path: $0, syscalls: syscalls) }
            state.written = nil
            state.failure = nil
        }
    }

    /// Whether a textfile is configured.
    var isActive: Bool { state.withLock { $0.textfile != nil } }

    /// When the file must be written again even if nothing changed; `.never` without a file.
    var deadline: Instant {
        state.withLock { state in
            guard state.textfile != nil else { return .never }
            return state.lastWrite.map { $0 + MetricsPublisher.refresh } ?? Instant(microseconds: 0)
        }
    }

    /// From the loop: writes `snapshot` (with the last audit's counts) if it differs from
    /// what was written, or the minute is up.
    func publish(_ snapshot: MetricsSnapshot, at now: Instant) {
        state.withLock { state in
            var snapshot = snapshot
            snapshot.connections = state.connections
            state.snapshot = snapshot
            var comparable = snapshot
            comparable.timestamp = 0
            if comparable == state.written, let last = state.lastWrite, now - last < MetricsPublisher.refresh { return }
            write(snapshot, into: &state, at: now)
        }
    }

    /// From the audit's thread: the audit's counts, written at once with the loop's last
    /// snapshot and the counters as they are now.
    func audited(_ connections: ConnectionMetrics) {
        state.withLock { state in
            state.connections = connections
            guard var snapshot = state.snapshot else { return }   // the loop writes it first
            snapshot.connections = connections
            snapshot.counters = counters.value
            snapshot.timestamp = WallClock.now()
            state.snapshot = snapshot
            write(snapshot, into: &state, at: MonotonicClock.now())
        }
    }

    private func write(_ snapshot: MetricsSnapshot, into state: inout State, at now: Instant) {
        guard let textfile = state.textfile else { return }
        var comparable = snapshot
        comparable.timestamp = 0
        state.written = comparable
        state.lastWrite = now
        if let failure = textfile.replace(with: Exposition.render(snapshot)) {
            guard failure != state.failure else { return }
            state.failure = failure
            log.record(.metricsFailed, "cannot write the metrics textfile: \(failure); the values stay in force, and the file is written again at the next change or within a minute",
                       fields: ["PATH": textfile.path])
        } else {
            state.failure = nil
        }
    }
}
