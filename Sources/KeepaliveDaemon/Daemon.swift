#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS
import Logging
import SystemdKit

/// `keepalived-tune run`: keeps the configured policy in force and reports to systemd.
///
/// One thread runs one loop over parts (``LoopPart``). Each part says when it next needs
/// the loop, by a deadline or by a descriptor it waits on, and what it does when woken; the
/// loop sleeps in poll(2) until the earliest deadline or a ready descriptor, then wakes every
/// part in turn, and knows none of them by name. The parts, in the order they are woken:
/// - ``SignalPart``: SIGHUP, SIGTERM, SIGINT (a signalfd);
/// - ``InotifyPart``: the three keepalive files and the config and profile directories;
/// - ``ReloadPart``: the config watch and the reload timing (``ReloadGate``);
/// - ``NamespaceHintsPart``: mount changes and rtnetlink NSID events, while `[namespaces]`
///   manages any;
/// - ``Enforcer``: the daemon's own namespace, target 0; then ``Fleet``, the others;
/// - ``SocketHooks``: keepalive at connection birth, in the kernel (`[sockets]`);
/// - ``SysctlWrites``: the cgroup_sysctl ring buffer: who wrote a keepalive key (`[bpf]`);
/// - ``WatchdogPart``: the keep-alive pings, sent from the loop that does the work, so a
///   hung daemon stops pinging and systemd kills it;
/// - ``StatusPart`` and ``MetricsPart``: what a turn changed, told to systemd and written
///   for node_exporter.
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
        /// The connections audit, on its own thread (``ConnectionAuditor``).
        let auditor: ConnectionAuditor
        /// The other network namespaces `[namespaces]` selects.
        let fleet: Fleet
        /// Keepalive at connection birth (`[sockets]`).
        let sockets: SocketHooks
        /// Who wrote a keepalive key (`[bpf]`).
        let writes: SysctlWrites
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
        // The kernel hooks, put in force with the start policy before READY=1.
        let notices = BPFNotices()
        var started: Enforcer?
        let sockets = SocketHooks(log: log, syscalls: syscalls, notices: notices) { started!.policy }
        let writes = SysctlWrites(log: log, syscalls: syscalls, notices: notices, policy: { started!.policy }, hint: { started?.hint() })
        let hooks = { (enforcer: Enforcer) -> ExitStatus? in
            started = enforcer
            guard let refused = sockets.start(at: MonotonicClock.now()) ?? writes.start() else { return nil }
            sockets.stop()
            writes.stop()
            return refused
        }
        let enforcer: Enforcer, originals: Remembered?
        switch start(tree: tree, watch: watch, reload: reload, beforeReady: hooks) {
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
                          book: originals?.book,
                          discovery: NamespaceDiscovery(syscalls: syscalls),
                          enter: { [syscalls] in NamespaceEntry.open($0, syscalls: syscalls) }, at: MonotonicClock.now())
        if fleet.isActive { reportNamespaceLimits(enforcer.policy) }
        let running = Running(signals: signals, inotify: inotify, enforcer: enforcer, reload: reload,
                              originals: originals, auditor: auditor, fleet: fleet, sockets: sockets, writes: writes)
        return PartLoop(parts(running, watchdog: watchdog), codePages: codePages, syscalls: syscalls).run {
            sockets.stop()
            writes.stop()
            auditor.stop()
            fleet.shutDown(restore: enforcer.policy.config.restoresOnStop)
            return shutDown(enforcer, originals: originals)
        }
    }

    /// The loop's parts, in the order each turn wakes them.
    private func parts(_ running: Running, watchdog: Watchdog?) -> [any LoopPart] {
        var parts: [any LoopPart] = [
            SignalPart(running.signals, reload: running.reload),
            InotifyPart(running.inotify) { [unowned self] events, now in route(events, to: running, at: now) },
            ReloadPart(running.reload) { [unowned self] now in stepReload(running, at: now) },
            NamespaceHintsPart(running.fleet, syscalls: syscalls),
            running.enforcer,
            running.fleet,
            running.sockets,
            running.writes,
        ]
        if let watchdog { parts.append(WatchdogPart(watchdog) { [notifier] in notifier.watchdog() }) }
        parts.append(StatusPart { [unowned self] now in updateStatus(running, at: now) })
        parts.append(MetricsPart(metrics) { [unowned self] now in metricsSnapshot(running, at: now) })
        return parts
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
