import KeepaliveModel

/// systemd's watchdog (`WatchdogSec=`): a `WATCHDOG=1` at least every half interval, sent
/// from the loop that does the work, so that a hung loop stops pinging and is killed.
struct Watchdog {
    /// Half of the interval systemd asked for: the longest gap between two pings.
    let period: Interval
    /// The shortest period honoured: `WATCHDOG_USEC=1` would otherwise mean a ping on every
    /// turn of the loop, thousands a second.
    static let minimumPeriod = Interval.milliseconds(50)
    /// The interval asked for was below twice ``minimumPeriod``, and the period was raised.
    let clamped: Bool
    /// When the last ping went out.
    private(set) var lastPing: Instant

    /// The watchdog for `interval` (µs, from `WATCHDOG_USEC`), or `nil` when there is none.
    init?(interval: UInt64?, at now: Instant) {
        guard let interval else { return nil }
        let half = Interval(microseconds: interval / 2)
        clamped = half < Watchdog.minimumPeriod
        period = clamped ? Watchdog.minimumPeriod : half
        lastPing = now
    }

    /// When the next ping is due at the latest.
    var deadline: Instant { lastPing + period }

    /// Pings if half a period has passed: any wake-up past a quarter of the interval takes
    /// the ping along, so pings rarely need wake-ups of their own. Returns whether it pinged.
    mutating func tick(at now: Instant, ping: () -> Void) -> Bool {
        guard now >= lastPing + Interval(microseconds: period.microseconds / 2) else { return false }
        ping()
        lastPing = now
        return true
    }
}
