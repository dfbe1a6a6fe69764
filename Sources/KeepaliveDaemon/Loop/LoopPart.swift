import KeepaliveModel
import KeepaliveOS

/// One part of the daemon's loop: it says when it next needs the loop (a deadline, or a
/// descriptor that became readable) and what it does when woken. The loop knows no part by
/// name; a new event source (a BPF ring buffer, say) is one more part in the list.
protocol LoopPart: AnyObject {
    /// The descriptors whose readiness wakes the part. Read when the loop (re)builds its
    /// poller: at start, and after a turn whose activity includes ``Activity/rewired``.
    var wakes: [Wake] { get }
    /// When the part next needs the loop at the latest (``Instant/never``: only for its
    /// descriptors). Asked once a turn, before the loop sleeps: keep it cheap.
    func deadline(at now: Instant) -> Instant
    /// Runs what is due at `now`. `ready` tells which descriptors are ready; `turn` is what
    /// the parts before this one did in the same turn.
    func wake(at now: Instant, ready: borrowing Poller, turn: Activity) -> Activity
}

extension LoopPart {
    var wakes: [Wake] { [] }
    func deadline(at now: Instant) -> Instant { .never }
}

/// A descriptor a part waits on: for readability, or for POLLPRI (how
/// `/proc/self/mountinfo` says the mount table changed).
struct Wake: Hashable {
    let fd: Int32
    var priority = false
}

/// What the parts did in one turn of the loop.
struct Activity: OptionSet {
    let rawValue: UInt8

    /// Ran more than the idle check: the code pages it touched go back to the kernel before
    /// the loop next sleeps (``CodePages``), and the metrics may show something new.
    static let ranCode = Activity(rawValue: 1 << 0)
    /// Changed what the status line shows (drift, contest, namespaces).
    static let changedState = Activity(rawValue: 1 << 1)
    /// A reload put a new policy in force.
    static let reconfigured = Activity(rawValue: 1 << 2)
    /// A part's descriptors changed: the loop rebuilds its poller.
    static let rewired = Activity(rawValue: 1 << 3)
    /// SIGTERM or SIGINT: the loop stops.
    static let stop = Activity(rawValue: 1 << 4)
}
