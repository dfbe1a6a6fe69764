/// Decides when to stop fighting over a value that something keeps changing back.
///
/// Pure bookkeeping over the monotonic clock: more than ``limit`` corrections of one key
/// within ``window`` make the key contested, and it is left alone for ``backoff`` before
/// corrections resume.
public struct ContestTracker: Sendable {
    /// What to do about a drifted key now.
    public enum Decision: Sendable, Equatable {
        /// Write the policy's value back.
        case correct
        /// Stop: the key was reset this many times within the window. Report once.
        case contested(resets: Int)
        /// Still backing off; do nothing.
        case holdOff
    }

    /// Corrections allowed per key within ``window``.
    public let limit: Int
    /// The counting window.
    public let window: Interval
    /// How long to leave a contested key alone.
    public let backoff: Interval

    private var corrections: [Tunable: [Instant]] = [:]
    private var holdUntil: [Tunable: Instant] = [:] {
        didSet { nextResume = holdUntil.values.min() }
    }
    /// When the earliest back-off ends, or `nil` if no key is being left alone. Stored,
    /// because every drift check and every turn of the loop asks.
    public private(set) var nextResume: Instant?

    public init(limit: Int = 5, window: Interval = .seconds(60), backoff: Interval = .seconds(300)) {
        self.limit = limit
        self.window = window
        self.backoff = backoff
    }

    /// Says what to do about `key`, which has drifted at `now`: correct it, or leave it
    /// alone because it is held off or has just become contested (which starts its
    /// back-off). Only corrections that succeed count (``corrected(_:at:)``): a write the
    /// kernel refused is not another writer.
    public mutating func drifted(_ key: Tunable, at now: Instant) -> Decision {
        if let until = holdUntil[key] {
            if now < until { return .holdOff }
            holdUntil[key] = nil
        }
        let recent = (corrections[key] ?? []).filter { now - $0 < window }
        corrections[key] = recent
        guard recent.count < limit else {
            corrections[key] = []
            holdUntil[key] = now + backoff
            return .contested(resets: recent.count + 1)
        }
        return .correct
    }

    /// Records that `key` was written back at `now`.
    public mutating func corrected(_ key: Tunable, at now: Instant) {
        corrections[key, default: []].append(now)
    }

    /// Ends the back-offs that are over at `now`; returns their keys (whose corrections
    /// may resume).
    public mutating func endBackOffs(at now: Instant) -> [Tunable] {
        let over = holdUntil.filter { now >= $0.value }.keys.sorted()
        for key in over { holdUntil[key] = nil }
        return over
    }

    /// The keys being left alone at `now`.
    public func heldOff(at now: Instant) -> [Tunable] {
        holdUntil.filter { now < $0.value }.keys.sorted()
    }
}
