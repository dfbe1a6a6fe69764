import KeepaliveModel

/// Decides when to stop fighting over a value that something keeps changing back.
///
/// Pure bookkeeping over a monotonic clock (seconds): more than ``limit`` corrections of
/// one key within ``window`` make the key contested, and it is left alone for ``backoff``
/// before corrections resume.
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
    /// The counting window, in seconds.
    public let window: Double
    /// How long to leave a contested key alone, in seconds.
    public let backoff: Double

    private var corrections: [Tunable: [Double]] = [:]
    private var holdUntil: [Tunable: Double] = [:] {
        didSet { nextResume = holdUntil.values.min() }
    }
    /// When the earliest back-off ends, or `nil` if no key is being left alone. Stored,
    /// because every drift check asks.
    public private(set) var nextResume: Double?

    public init(limit: Int = 5, window: Double = 60, backoff: Double = 300) {
        self.limit = limit
        self.window = window
        self.backoff = backoff
    }

    /// Records that `key` has drifted at `now` and says whether to correct it.
    public mutating func drifted(_ key: Tunable, at now: Double) -> Decision {
        if let until = holdUntil[key] {
            if now < until { return .holdOff }
            holdUntil[key] = nil
        }
        var recent = (corrections[key] ?? []).filter { now - $0 < window }
        guard recent.count < limit else {
            corrections[key] = []
            holdUntil[key] = now + backoff
            return .contested(resets: recent.count + 1)
        }
        recent.append(now)
        corrections[key] = recent
        return .correct
    }

    /// Ends the back-offs that are over at `now`; returns their keys (whose corrections
    /// may resume).
    public mutating func endBackOffs(at now: Double) -> [Tunable] {
        let over = holdUntil.filter { now >= $0.value }.keys.sorted()
        for key in over { holdUntil[key] = nil }
        return over
    }

    /// The keys being left alone at `now`.
    public func heldOff(at now: Double) -> [Tunable] {
        holdUntil.filter { now < $0.value }.keys.sorted()
    }
}
