#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS

/// SIGHUP asks for a reload; SIGTERM and SIGINT stop the daemon (a signalfd).
final class SignalPart: LoopPart {
    private let signals: SignalSource
    private let reload: ReloadController

    init(_ signals: SignalSource, reload: ReloadController) {
        self.signals = signals
        self.reload = reload
    }

    var wakes: [Wake] { [Wake(fd: signals.fd)] }

    func wake(at now: Instant, ready: borrowing Poller, turn: Activity) -> Activity {
        guard ready.isReady(signals.fd) else { return [] }
        var activity: Activity = .ranCode
        for signal in signals.drain() {
            if signal == SIGHUP { reload.requested(at: now) } else { activity.insert(.stop) }
        }
        return activity
    }
}

/// The one inotify descriptor: its events go to the part they belong to (``Daemon/route``).
final class InotifyPart: LoopPart {
    private let inotify: Inotify
    private let route: ([Inotify.Event], Instant) -> Bool

    /// `route` hands the events on and says whether any was for the config.
    init(_ inotify: Inotify, route: @escaping ([Inotify.Event], Instant) -> Bool) {
        self.inotify = inotify
        self.route = route
    }

    var wakes: [Wake] { [Wake(fd: inotify.fd)] }

    func wake(at now: Instant, ready: borrowing Poller, turn: Activity) -> Activity {
        guard ready.isReady(inotify.fd) else { return [] }
        return route(inotify.drain(), now) ? .ranCode : []
    }
}

/// A pending reload, moved on when the ``ReloadGate`` says (``Daemon/stepReload``).
final class ReloadPart: LoopPart {
    private let reload: ReloadController
    private let step: (Instant) -> Activity

    init(_ reload: ReloadController, step: @escaping (Instant) -> Activity) {
        self.reload = reload
        self.step = step
    }

    func deadline(at now: Instant) -> Instant {
        reload.isIdle ? .never : reload.deadline(at: now) ?? .never
    }

    func wake(at now: Instant, ready: borrowing Poller, turn: Activity) -> Activity {
        reload.isIdle ? [] : step(now)
    }
}

/// The hints at new or ended namespaces (``NamespaceHints``), open while the fleet is
/// active; a reload that turns `[namespaces]` on or off opens or closes them.
final class NamespaceHintsPart: LoopPart {
    private let fleet: Fleet
    private let syscalls: Syscalls
    private var hints: NamespaceHints?

    /// The hints of `fleet`, opened through `syscalls` while it is active.
    init(_ fleet: Fleet, syscalls: Syscalls) {
        self.fleet = fleet
        self.syscalls = syscalls
        hints = fleet.isActive ? NamespaceHints(syscalls: syscalls) : nil
    }

    var wakes: [Wake] {
        guard let hints else { return [] }
        return hints.readable.map { Wake(fd: $0) } + [Wake(fd: hints.mountinfo, priority: true)]
    }

    func wake(at now: Instant, ready: borrowing Poller, turn: Activity) -> Activity {
        if let hints {
            if ready.isReady(hints.mountinfo) { fleet.lookSoon(at: now) }
            if let nsid = hints.nsid, ready.isReady(nsid.fd) {
                let seen = nsid.drain()
                if seen.added > 0 { fleet.rescanSoon(at: now) }
                if seen.removed > 0 { fleet.checkAll() }
            }
        }
        guard turn.contains(.reconfigured), fleet.isActive != (hints != nil) else { return [] }
        hints = fleet.isActive ? NamespaceHints(syscalls: syscalls) : nil
        return .rewired
    }
}

/// The daemon's own namespace: target 0.
extension Enforcer: LoopPart {
    func deadline(at now: Instant) -> Instant { deadline }

    func wake(at now: Instant, ready: borrowing Poller, turn: Activity) -> Activity {
        tick(at: now) ? [.ranCode, .changedState] : []
    }
}

/// The other namespaces `[namespaces]` selects.
extension Fleet: LoopPart {
    func deadline(at now: Instant) -> Instant { deadline }

    func wake(at now: Instant, ready: borrowing Poller, turn: Activity) -> Activity {
        tick(at: now) ? [.ranCode, .changedState] : []
    }
}

/// systemd's watchdog pings (``Watchdog``), sent from the loop that does the work.
final class WatchdogPart: LoopPart {
    private var watchdog: Watchdog
    private let ping: () -> Void

    init(_ watchdog: Watchdog, ping: @escaping () -> Void) {
        self.watchdog = watchdog
        self.ping = ping
    }

    func deadline(at now: Instant) -> Instant { watchdog.deadline }

    func wake(at now: Instant, ready: borrowing Poller, turn: Activity) -> Activity {
        // The notify send is code the idle check never runs.
        watchdog.tick(at: now, ping: ping) ? .ranCode : []
    }
}

/// STATUS=, sent once a turn in which a part changed what it shows (``Daemon/updateStatus``).
final class StatusPart: LoopPart {
    private let update: (Instant) -> Void

    init(update: @escaping (Instant) -> Void) { self.update = update }

    func wake(at now: Instant, ready: borrowing Poller, turn: Activity) -> Activity {
        if turn.contains(.changedState) { update(now) }
        return []
    }
}

/// The metrics textfile (``MetricsPublisher``): after a turn that ran more than the idle
/// check, or when the minute is up. An idle turn decides it from the deadline it slept to,
/// without taking the publisher's lock.
final class MetricsPart: LoopPart {
    private let metrics: MetricsPublisher
    private let snapshot: (Instant) -> MetricsSnapshot
    /// The deadline the loop last slept to.
    private var due = Instant(microseconds: 0)

    init(_ metrics: MetricsPublisher, snapshot: @escaping (Instant) -> MetricsSnapshot) {
        self.metrics = metrics
        self.snapshot = snapshot
    }

    func deadline(at now: Instant) -> Instant {
        due = metrics.deadline
        return due
    }

    func wake(at now: Instant, ready: borrowing Poller, turn: Activity) -> Activity {
        guard turn.contains(.ranCode) || now >= due, metrics.isActive else { return [] }
        metrics.publish(snapshot(now), at: now)
        return []
    }
}
