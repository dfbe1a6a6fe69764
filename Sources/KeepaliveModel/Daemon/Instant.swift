/// A reading of CLOCK_MONOTONIC in microseconds: the one way the daemon represents a point in
/// time. Plain integer arithmetic, so the idle loop's deadline sums cost nothing.
public struct Instant: Sendable, Hashable, Comparable {
    /// Microseconds since an arbitrary point (boot, for CLOCK_MONOTONIC).
    public var microseconds: UInt64

    public init(microseconds: UInt64) { self.microseconds = microseconds }

    /// The instant `interval` later (saturating at the far future).
    public static func + (lhs: Instant, rhs: Interval) -> Instant {
        let (sum, overflow) = lhs.microseconds.addingReportingOverflow(rhs.microseconds)
        return Instant(microseconds: overflow ? .max : sum)
    }

    /// How long after `rhs` this instant is; zero if it is not after it.
    public static func - (lhs: Instant, rhs: Instant) -> Interval {
        Interval(microseconds: lhs.microseconds > rhs.microseconds ? lhs.microseconds - rhs.microseconds : 0)
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.microseconds < rhs.microseconds }

    /// Later than any deadline: "nothing due".
    public static let never = Instant(microseconds: .max)
}

/// A span of time in microseconds, for deadlines, windows and back-offs.
public struct Interval: Sendable, Hashable, Comparable {
    public var microseconds: UInt64

    public init(microseconds: UInt64) { self.microseconds = microseconds }

    public static func seconds(_ seconds: Int) -> Interval { Interval(microseconds: UInt64(max(seconds, 0)) * 1_000_000) }
    public static func milliseconds(_ milliseconds: Int) -> Interval { Interval(microseconds: UInt64(max(milliseconds, 0)) * 1_000) }

    /// Whole seconds, rounded down (for messages).
    public var seconds: Int { Int(microseconds / 1_000_000) }

    /// Milliseconds rounded up, as poll(2) takes a timeout, capped at Int32.max.
    public var pollTimeout: Int32 { Int32(min((microseconds + 999) / 1000, UInt64(Int32.max))) }

    public static func < (lhs: Interval, rhs: Interval) -> Bool { lhs.microseconds < rhs.microseconds }

    public static func * (lhs: Interval, rhs: Int) -> Interval { Interval(microseconds: lhs.microseconds * UInt64(max(rhs, 0))) }
}
