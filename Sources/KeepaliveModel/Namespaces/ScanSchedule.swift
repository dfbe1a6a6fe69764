/// When to look for network namespaces: pure, fed hints, what scans found, and the time.
///
/// - A full scan (`/proc` included) every `rescan-interval`, the safety net; at once after an
///   rtnetlink `RTM_NEWNSID` (``rescanHinted(at:)``).
/// - A quick scan (pins and runtimes' files only) soon after a hint: a mount change, an
///   entry in `/run/netns` or `/run/docker/netns` (``hinted(at:)``).
/// - Again shortly while a runtime's pin has no container in its files yet, so that the
///   container's explicit values are known before anything is written: 10 ms, doubling up
///   to a second, for at most ``awaitLimit`` (``awaits(_:at:)``).
/// - A namespace seen only through a process (no pin) on its first sighting is looked at
///   again for ``nameGrace`` before it is adopted: `ip netns add` makes the namespace, then
///   names it by a bind mount, and a scan in between saw it nameless, so a rule or exclusion
///   by name did not hold for it.
/// - A namespace that could not be entered is reported once and tried again only at full
///   scans (``failed(_:)``, ``skips(_:full:)``).
public struct ScanSchedule: Sendable, Hashable {
    /// Which scan is due.
    public enum Scan: Sendable, Hashable {
        /// Pins and runtimes' files.
        case quick
        /// Those and a stat of every `/proc/PID/ns/net`.
        case full
    }

    /// How long a runtime's pin may wait for its container before it is adopted by what is
    /// known (its `/run/netns` name and member processes).
    public static let awaitLimit = Interval.seconds(10)
    /// How long a namespace seen only through a process may wait for a name.
    public static let nameGrace = Interval.seconds(1)
    /// The first wait for an awaited container; it doubles up to ``maximumAwaitStep``.
    public static let firstAwaitStep = Interval.milliseconds(10)
    public static let maximumAwaitStep = Interval.seconds(1)

    /// The next full scan.
    public private(set) var nextRescan: Instant
    /// A quick scan asked for, and when.
    public private(set) var lookAt: Instant?
    /// When a runtime's pin was first seen without its container, by inode.
    public private(set) var awaitingSince: [UInt64: Instant] = [:]
    /// How long to wait before looking again for an awaited container.
    public private(set) var awaitStep = ScanSchedule.firstAwaitStep
    /// Namespaces that could not be entered (reported once), by inode.
    public private(set) var failures: Set<UInt64> = []
    /// Namespaces without a pin whose ``nameGrace`` is over: not held again.
    public private(set) var graced: Set<UInt64> = []

    /// A schedule whose first full scan is due at `now`.
    public init(at now: Instant) { nextRescan = now }

    /// When the next scan is due.
    public var deadline: Instant { lookAt.map { min($0, nextRescan) } ?? nextRescan }

    /// Something hints at a new pinned namespace: a quick scan at once.
    public mutating func hinted(at now: Instant) { lookAt = now }

    /// Something hints at namespaces with no pin: a full scan at once.
    public mutating func rescanHinted(at now: Instant) { nextRescan = now }

    /// The scan due at `now`, if any; the schedule moves on as if it ran (the next full scan
    /// `interval` later, the quick one asked for done).
    public mutating func take(at now: Instant, rescanInterval interval: Interval) -> Scan? {
        let full = now >= nextRescan
        guard full || (lookAt.map { now >= $0 } ?? false) else { return nil }
        if full { nextRescan = now + interval }
        lookAt = nil
        return full ? .full : .quick
    }

    /// A scan found `inode`'s pin without its container (or, with ``nameGrace`` as the
    /// limit, the namespace without a pin): whether to wait for it (a quick scan is then
    /// asked for shortly) rather than adopt it by what is known.
    public mutating func awaits(_ inode: UInt64, at now: Instant, limit: Interval = ScanSchedule.awaitLimit) -> Bool {
        let since = awaitingSince[inode] ?? now
        awaitingSince[inode] = since
        guard now - since < limit else {
            awaitingSince[inode] = nil
            return false
        }
        let step = awaitStep
        awaitStep = min(awaitStep * 2, ScanSchedule.maximumAwaitStep)
        if lookAt == nil || now + step < lookAt! { lookAt = now + step }
        return true
    }

    /// A scan found `inode` only through a process, with no pin: whether to hold it for a
    /// moment longer, as its name may be on the way (once per namespace, ``nameGrace``).
    public mutating func awaitsName(_ inode: UInt64, at now: Instant) -> Bool {
        guard !graced.contains(inode) else { return false }
        if awaits(inode, at: now, limit: ScanSchedule.nameGrace) { return true }
        graced.insert(inode)
        return false
    }

    /// `inode` needs no more waiting (its container is known, or it was never awaited).
    public mutating func settled(_ inode: UInt64) { awaitingSince[inode] = nil }

    /// Entering `inode` failed; returns whether that is new (to be reported).
    public mutating func failed(_ inode: UInt64) -> Bool { failures.insert(inode).inserted }

    /// Whether a scan skips `inode`: one that failed is tried again only at a full scan.
    public func skips(_ inode: UInt64, full: Bool) -> Bool { !full && failures.contains(inode) }

    /// A scan ended, finding the namespaces `present`: what it no longer finds is forgotten,
    /// and the wait step starts afresh once nothing is awaited.
    public mutating func scanned(present: (UInt64) -> Bool) {
        if awaitingSince.isEmpty { awaitStep = ScanSchedule.firstAwaitStep }
        failures = failures.filter(present)
        graced = graced.filter(present)
        awaitingSince = awaitingSince.filter { present($0.key) }
    }

    /// A reload changed the rules: every namespace is decided again by a full scan now, the
    /// failed ones too.
    public mutating func reconfigured(at now: Instant) {
        failures = []
        nextRescan = now
    }
}
