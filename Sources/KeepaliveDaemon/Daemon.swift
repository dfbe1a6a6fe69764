#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS
import Logging
import SystemdKit

/// `keepalived-tune run`: keeps the configured policy in force and reports to systemd.
///
/// One thread runs one loop. It sleeps in poll(2) on a signalfd (SIGHUP, SIGTERM, SIGINT)
/// and an inotify descriptor (the three keepalive files, the config and profile
/// directories), until the earliest deadline any part asks for: the enforcer's next check
/// or end of a back-off, a pending reload's next step, the watchdog's next ping. Then it
/// hands each event to the part it belongs to. The parts own their state:
/// - ``Enforcer``: one target's values, drift and contest;
/// - ``ReloadController``: the config watch and the reload timing (``ReloadGate``);
/// - ``Watchdog``: the keep-alive pings, sent from the loop that does the work, so a hung
///   daemon stops pinging and systemd kills it.
/// The loop alone decides when code pages go back to the kernel (``CodePages``): after a
/// turn that ran more than the idle check, just before it sleeps.
public final class Daemon {
    let setup: Setup
    let notifier: Notifier
    let log: EventLog
    let conflicts: SysctlConfScanner
    let syscalls: Syscalls
    /// Hands code and read-only data back to the kernel when the loop is about to sleep.
    let codePages: CodePages
    /// The STATUS= text last sent, so an unchanged status is not sent again.
    var lastStatus = ""
    /// What was last published in the runtime directory (``DaemonState``).
    var published: DaemonState?
    /// The counters behind the metrics' `_total` families; ``log`` counts into them.
    let counters = MetricsCounterBox()
    /// The metrics textfile (`[metrics] textfile`).
    let metrics: MetricsPublisher
    /// Whether the config was valid when last read (a rejected reload makes it not).
    var configValid = true

    /// Creates a daemon; nothing happens until ``run()``.
    public init(setup: Setup, logger: Logger, notifier: Notifier = Notifier()) {
        self.setup = setup
        self.notifier = notifier
        self.log = EventLog(logger: logger, counters: counters)
        self.conflicts = setup.sysctlConfScanner()
        self.syscalls = setup.syscalls
        self.metrics = MetricsPublisher(counters: counters, log: log, syscalls: setup.syscalls)
        self.codePages = CodePages(syscalls: setup.syscalls)
    }

    /// What a daemon that has started holds: its event sources and its parts.
    struct Running {
        let signals: SignalSource
        let inotify: Inotify
        let enforcer: Enforcer
        let reload: ReloadController
        /// The values found at the first start of this boot, and where they are kept.
        let originals: Remembered?
        var watchdog: Watchdog?
        /// The connections audit, on its own thread (``ConnectionAuditor``).
        let auditor: ConnectionAuditor
        /// The other network namespaces `[namespaces]` selects.
        let fleet: Fleet
        /// Hints at new namespaces, while the fleet is active.
        var hints: NamespaceHints?
    }

    /// Runs until SIGTERM or SIGINT; returns the process exit status.
    public func run() -> Int32 {
        let signals: SignalSource, inotify: Inotify
        do {
            signals = try SignalSource(syscalls: syscalls)
            inotify = try Inotify(syscalls: syscalls)
        } catch {
            log.record(.startFailed, "cannot create the signal and inotify descriptors: \(error); keepalived-tune cannot start")
            return ExitStatus.systemFailure.rawValue
        }
        // Watch before the first apply, so that nothing written after READY=1 is missed.
        let reload = ReloadController(setup: setup, inotify: inotify)
        let tree = setup.sysctlTree()
        let watch = SysctlWatch(inotify: inotify, tree: tree) { key, error in
            log.record(.checkFailed, "cannot watch \(tree.path(for: key)) with inotify: \(error); its drift is found by the periodic re-read only",
                       fields: ["SYSCTL": key.sysctlName, "PATH": tree.path(for: key)])
        }
        let enforcer: Enforcer, originals: Remembered?
        switch start(tree: tree, watch: watch, reload: reload) {
        case .success(let started): (enforcer, originals) = started
        case .failure(let status): return status.rawValue
        }
        let interval = notifier.watchdogInterval()
        let watchdog = Watchdog(interval: interval, at: MonotonicClock.now())
        if let watchdog {
            if watchdog.clamped {
                log.record(.watchdogClamped, "WATCHDOG_USEC=\(interval ?? 0) asks for a ping every \((interval ?? 0) / 2) µs; pinging every \(watchdog.period.microseconds / 1000) ms instead (set WatchdogSec= to a sane value, such as 30s)")
            }
            notifier.watchdog()
        }
        metrics.configure(enforcer.policy.config.metricsTextfile)
        let auditor = ConnectionAuditor(log: log, setup: setup, metrics: metrics)
        auditor.configure(enforcer.policy.config)
        let fleet = Fleet(setup: setup, policy: enforcer.policy, log: log, inotify: inotify,
                          book: originals.map { OriginalsBook(store: $0.store, syscalls: syscalls) }, at: MonotonicClock.now())
        if fleet.isActive { reportNamespaceLimits(enforcer.policy) }
        return loop(Running(signals: signals, inotify: inotify, enforcer: enforcer, reload: reload,
                            originals: originals, watchdog: watchdog, auditor: auditor, fleet: fleet,
                            hints: fleet.isActive ? NamespaceHints() : nil))
    }

    /// The loop: wait for the earliest deadline or event, dispatch, repeat until a stop signal.
    private func loop(_ running: Running) -> Int32 {
        var running = running
        let enforcer = running.enforcer, reload = running.reload, fleet = running.fleet
        func makePoller() -> Poller {
            Poller(watching: [running.signals.fd, running.inotify.fd] + (running.hints?.readable ?? []),
                   priority: running.hints.map { [$0.mountinfo] } ?? [], syscalls: syscalls)
        }
        var poller = makePoller()
        var now = MonotonicClock.now()
        var busy = true   // start-up ran code the idle loop does not need
        while true {
            if fleet.isActive != (running.hints != nil) {
                // A reload turned [namespaces] on or off: open or close its hints.
                running.hints = fleet.isActive ? NamespaceHints() : nil
                poller = makePoller()
            }
            var deadline = enforcer.deadline
            let namespacesDue = fleet.deadline   // a walk over the members: once a turn
            if namespacesDue < deadline { deadline = namespacesDue }
            if let ping = running.watchdog?.deadline, ping < deadline { deadline = ping }
            let metricsDue = metrics.deadline
            if metricsDue < deadline { deadline = metricsDue }
            if !reload.isIdle, let step = reload.deadline(at: now), step < deadline { deadline = step }
            // Hand the code back only when the loop is about to sleep: events already
            // queued (such as the daemon's own writes to the sysctls) run code first.
            // What that look finds is handled now: a mountinfo change is reported once.
            var ready = 0
            if busy {
                ready = poller.wait(timeoutMilliseconds: 0)
                if ready == 0 {
                    codePages.release()
                    busy = false
                }
            }
            if ready == 0 { ready = poller.wait(timeoutMilliseconds: (deadline - now).pollTimeout) }
            now = MonotonicClock.now()

            if ready > 0 {
                if poller.isReady(running.signals.fd) {
                    busy = true
                    var stop = false
                    for signal in running.signals.drain() {
                        if signal == SIGHUP { reload.requested(at: now) } else { stop = true }
                    }
                    if stop {
                        running.auditor.stop()
                        fleet.shutDown(restore: enforcer.policy.config.restoresOnStop)
                        return shutDown(enforcer, originals: running.originals)
                    }
                }
                if poller.isReady(running.inotify.fd) {
                    busy = route(running.inotify.drain(), to: running, at: now) || busy
                }
                if let hints = running.hints {
                    if poller.isReady(hints.mountinfo) { fleet.lookSoon(at: now) }
                    if let nsid = hints.nsid, poller.isReady(nsid.fd) {
                        let seen = nsid.drain()
                        if seen.added > 0 { fleet.rescanSoon(at: now) }
                        if seen.removed > 0 { fleet.checkAll() }
                    }
                }
            }
            if !reload.isIdle, stepReload(running, at: now) { busy = true }
            if enforcer.tick(at: now) {
                busy = true
                updateStatus(running, at: now)
            }
            if fleet.tick(at: now) {
                busy = true
                updateStatus(running, at: now)
            }
            if running.watchdog?.tick(at: now, ping: { notifier.watchdog() }) == true {
                busy = true   // the notify send is code the idle check never runs
            }
            publishMetrics(running, busy: busy, due: metricsDue, at: now)
        }
    }

    /// Hands inotify events to their parts: a write to a keepalive file asks the enforcer
    /// for a check; config and profile events go to the reload controller.
    ///
    /// An overflow of the inotify queue means events were lost: the config is read again and
    /// every value re-checked.
    ///
    /// - Returns: whether any event was for the config (code beyond the idle check ran).
    @discardableResult
    func route(_ events: [Inotify.Event], to running: Running, at now: Instant) -> Bool {
        var config: [Inotify.Event] = []
        for event in events {
            if event.mask & UInt32(IN_Q_OVERFLOW) != 0 {
                // Events were lost, a config edit or a drift hint among them perhaps: read
                // the config again and re-check every value.
                log.record(.eventsLost, "the kernel's inotify queue overflowed (the daemon fell behind: stopped, or starved of CPU) and events were lost; reading the config again and re-checking every value")
                running.reload.requested(at: now)
                running.enforcer.hint()
            } else if running.enforcer.watch.isSysctl(event.watch) {
                running.enforcer.hint()
            } else if running.fleet.route(event, at: now) {
                continue
            } else {
                config.append(event)
            }
        }
        guard !config.isEmpty else { return false }
        running.reload.observe(config, at: now)
        return true
    }

    /// The fleet's counts for the status line, when `[namespaces]` manages any.
    func namespaceCounts(_ fleet: Fleet) -> (managed: Int, drifting: Int)? {
        fleet.isActive || !fleet.members.isEmpty ? fleet.counts : nil
    }

    /// Sends STATUS= if the enforcer's state changed what it says.
    func updateStatus(_ running: Running, at now: Instant) {
        let status = StatusLine.make(policy: running.enforcer.policy, drift: running.enforcer.remainingDrift,
                                     contested: running.enforcer.contested(at: now),
                                     rejection: running.reload.rejection, namespaces: namespaceCounts(running.fleet))
        if status != lastStatus {
            notifier.status(status)
            lastStatus = status
        }
    }
}
