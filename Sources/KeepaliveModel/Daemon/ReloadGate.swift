/// When a reload may read the config, and when what it read may be applied: a pure state
/// machine, fed what happened and the time, answering wait, read or apply.
///
/// A half-written file must never be applied. inotify reports a write only after its bytes
/// are visible, so:
/// - a reload waits while a config or profile file is open for writing (modified, not yet
///   closed), for at most ``writeGrace``;
/// - a read that a write disturbed (an event came in while reading) is thrown away and done
///   again;
/// - after a recent in-place write (within ``recentActivity``), what was read must stay
///   undisturbed for ``quietPeriod`` before it is applied. A save that renames a finished
///   file into place cannot be read half-written, so it is applied at once.
///
/// Files rewritten without end cannot hold a reload back: re-reads after a disturbed read
/// are spaced out (``quietPeriod``, doubling up to ``longestRetrySpacing``), and once a
/// reload has been pending for ``writeGrace``, what is read is taken as it is: validation
/// rejects a half-written file, and the last good profile stays.
///
/// Generic over what a read produces (the daemon's `PolicyLoad`; anything in tests).
public struct ReloadGate<Load> {
    /// What to do now.
    public enum Action {
        /// Nothing is pending.
        case idle
        /// Something is pending; look again at this instant (or at the next event).
        case wait(until: Instant)
        /// Read the config and profiles now, then report with ``read(_:at:disturbed:)``.
        case read
        /// Apply this load, read earlier and undisturbed since.
        case apply(Load)
    }

    /// How long a file may stay open for writing before a reload reads anyway.
    public static var writeGrace: Interval { .seconds(2) }
    /// How long a read must stay undisturbed after a recent in-place write.
    public static var quietPeriod: Interval { .milliseconds(10) }
    /// How recent an in-place write has to be for a read to wait for the quiet period.
    public static var recentActivity: Interval { .milliseconds(50) }
    /// The longest wait between two reads that writes keep disturbing.
    public static var longestRetrySpacing: Interval { .milliseconds(320) }

    /// A reload was asked for and has not been read whole yet.
    public private(set) var pending = false
    /// When the reload in progress (pending, or read and waiting as a candidate) was first
    /// asked for: the start of its grace period, which a dropped candidate does not restart.
    private var pendingSince: Instant?
    /// Reads of the pending reload that writes disturbed so far.
    private var disturbedReads = 0
    /// No read before this instant (spacing after a disturbed read).
    private var notBefore: Instant?
    /// Files open for writing, with when their writing was first seen.
    private var writing: [String: Instant] = [:]
    /// The last in-place write seen.
    private var lastInPlaceWrite: Instant?
    /// A load read whole, waiting out its quiet period.
    private var candidate: (load: Load, quietUntil: Instant)?

    public init() {}

    /// Whether nothing is pending: no reload asked for, no candidate waiting.
    public var isIdle: Bool { !pending && candidate == nil }

    /// A reload was asked for (SIGHUP) at `now`.
    public mutating func requested(at now: Instant) { begin(at: now) }

    /// Takes in a batch of file events seen at `now`.
    public mutating func observed(_ change: ConfigChange, at now: Instant) {
        for file in change.writesStarted where writing[file] == nil { writing[file] = now }
        for file in change.writesEnded { writing[file] = nil }
        if change.writtenInPlace { lastInPlaceWrite = now }
        if change.finished { begin(at: now) }
        if change.touched, candidate != nil {   // what was read may be stale or half-written: read again
            candidate = nil
            begin(at: now)
        }
    }

    /// Marks a reload pending, its grace period starting now unless one is in progress.
    private mutating func begin(at now: Instant) {
        if pendingSince == nil { pendingSince = now }
        pending = true
    }

    /// The reload in progress is over: its load goes to be applied.
    private mutating func finish() {
        (pending, pendingSince, disturbedReads, notBefore) = (false, nil, 0, nil)
    }

    /// Whether the pending reload has waited its whole grace period at `now`.
    private func overdue(at now: Instant) -> Bool {
        pendingSince.map { now >= $0 + ReloadGate.writeGrace } ?? false
    }

    /// What to do at `now`.
    public mutating func next(at now: Instant) -> Action {
        if let candidate {
            return now >= candidate.quietUntil ? .apply(candidate.load) : .wait(until: candidate.quietUntil)
        }
        guard pending else { return .idle }
        if let oldest = writing.values.min(), !overdue(at: now) {
            let settled = min(oldest + ReloadGate.writeGrace, pendingSince.map { $0 + ReloadGate.writeGrace } ?? .never)
            if now < settled { return .wait(until: settled) }
        }
        writing = [:]   // none, or a writer that never closes: go ahead, validation does its best
        if let notBefore, now < notBefore, !overdue(at: now) { return .wait(until: notBefore) }
        return .read
    }

    /// Reports a read done at `readAt`, and whether an event disturbed it.
    ///
    /// - Returns: the load to apply now, or `nil`: the read was disturbed (the reload stays
    ///   pending) or it waits out its quiet period (``next(at:)`` says when).
    public mutating func read(_ load: Load, at readAt: Instant, disturbed: Bool) -> Load? {
        if overdue(at: readAt) {   // endless rewrites: take what was read, validation decides
            finish()
            return load
        }
        if disturbed {
            let spacing = ReloadGate.quietPeriod * (1 << min(disturbedReads, 5))
            notBefore = readAt + min(spacing, ReloadGate.longestRetrySpacing)
            disturbedReads += 1
            return nil
        }
        if let last = lastInPlaceWrite, readAt < last + ReloadGate.recentActivity {
            pending = false
            candidate = (load, readAt + ReloadGate.quietPeriod)
            return nil
        }
        finish()
        return load
    }

    /// The candidate from ``next(at:)``'s `.apply` was applied.
    public mutating func applied() {
        candidate = nil
        finish()
    }
}

/// A batch of config and profile file events, as the config watch classified them.
public struct ConfigChange: Sendable, Equatable {
    /// A relevant file was finished (closed after writing), renamed, created as a
    /// directory or removed: the config needs reading again.
    public var finished = false
    /// Any relevant file was touched at all, mid-write included.
    public var touched = false
    /// A relevant file was created, modified or closed after writing in place, so a
    /// reader could have caught it half-written.
    public var writtenInPlace = false
    /// Files now open for writing (modified, not closed).
    public var writesStarted: Set<String> = []
    /// Files whose writing ended (closed, renamed or removed).
    public var writesEnded: Set<String> = []

    public init(finished: Bool = false, touched: Bool = false, writtenInPlace: Bool = false,
                writesStarted: Set<String> = [], writesEnded: Set<String> = []) {
        self.finished = finished
        self.touched = touched
        self.writtenInPlace = writtenInPlace
        self.writesStarted = writesStarted
        self.writesEnded = writesEnded
    }
}
