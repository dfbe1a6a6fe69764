#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS
import Logging
import SystemdKit

/// `keepalived-tune run`: keeps the configured policy in force and reports to systemd.
///
/// One thread runs one loop. It sleeps in poll(2) on a signalfd (SIGHUP, SIGTERM,
/// SIGINT) and an inotify descriptor (the three keepalive files and the config and profile
/// directories), with a timeout for the next periodic check or watchdog ping. Because the
/// watchdog ping comes from the loop that does the work, a hung daemon stops pinging and
/// systemd kills it.
public final class Daemon {
    /// Exit codes of `run`.
    public enum ExitCode {
        public static let success: Int32 = 0
        public static let invalidConfig: Int32 = 2
        public static let systemFailure: Int32 = 3
    }

    let setup: Setup
    let notifier: Notifier
    let log: EventLog
    let conflicts: SysctlConfScanner
    let tree: SysctlTree

    /// The last policy that was valid and applied: what the daemon enforces.
    var policy: Policy! {
        didSet { checkInterval = UInt64(policy.config.checkIntervalSeconds) * 1_000_000 }
    }
    /// The policy's check interval in µs, kept apart from it: the loop reads it on every
    /// wake-up, and reading it through the policy copies the whole policy.
    private(set) var checkInterval: UInt64 = 0
    /// The values found at start, for `restore-on-stop`.
    var original: KeepaliveValues!
    /// Which keys are being fought over, and until when they are left alone. Every drift
    /// check reads it; without a run-time exclusivity check, that read stays a plain load
    /// (one thread owns the daemon, and only ``enforce(_:actual:seconds:)`` writes it).
    @exclusivity(unchecked) var contest = ContestTracker()
    /// The drift already reported, by key, so an unchanged drift is not logged again.
    var reportedDrift: [Tunable: Int] = [:]
    /// Why the last reload was refused, until a reload succeeds.
    var rejection: String?
    /// The last drift check could not read the values (reported once until it works again).
    var checkFailing = false
    /// The STATUS= text last sent, so an unchanged status is not sent again.
    var lastStatus = ""
    /// The config files of the last good load; a main file that vanishes is not applied.
    var configFiles: [String] = []
    /// A reload was asked for (SIGHUP or an edit) and has not completed yet.
    var reloadPending = false
    /// RELOADING=1 was sent for the pending reload.
    var reloadAnnounced = false
    /// A drift check is due (timer or inotify hint).
    var checkRequested = false
    /// A start, a read of the config, a reload, a check that found something or a watchdog
    /// ping ran code that the idle loop does not need; it is handed back (``CodePages``)
    /// before the loop next sleeps.
    var codePagesUsed = true
    /// Hands code and read-only data back to the kernel (see ``codePagesUsed``).
    let codePages = CodePages()
    /// The kernel values at the last check that did anything; `nil` forces the next one.
    var lastSeen: KeepaliveValues?
    /// A reload that was read and waits out its quiet period before being applied.
    var candidate: Candidate?
    /// The inotify watches on the three keepalive files (set once the loop starts).
    var sysctlWatch: SysctlWatch?
    /// When a config or profile file was last written in place (CLOCK_MONOTONIC µs).
    var lastInPlaceWrite: UInt64 = 0

    /// Creates a daemon; nothing happens until ``run()``.
    public init(setup: Setup, logger: Logger, notifier: Notifier = Notifier()) {
        self.setup = setup
        self.notifier = notifier
        self.log = EventLog(logger: logger)
        self.conflicts = setup.sysctlConfScanner()
        self.tree = setup.sysctlTree()
    }

    /// Runs until SIGTERM or SIGINT; returns the process exit code.
    public func run() -> Int32 {
        let signals: SignalSource, inotify: Inotify
        do {
            signals = try SignalSource()
            inotify = try Inotify()
        } catch {
            log.record(.startFailed, "cannot create the signal and inotify descriptors: \(error); keepalived-tune cannot start")
            return ExitCode.systemFailure
        }
        // Watch before the first apply, so that nothing written after READY=1 is missed.
        let watch = ConfigWatch(inotify: inotify, configPath: setup.configPath,
                                dropInDirectory: setup.dropInDirectory,
                                profileDirectories: setup.searchPath.directories)
        watch.arm()
        let sysctlWatch = watchSysctls(inotify)
        self.sysctlWatch = sysctlWatch
        if let code = start() { return code }

        let watchdogPeriod = notifier.watchdogInterval().map { $0 / 2 }
        var now = MonotonicClock.microseconds()
        var nextCheck = now + checkInterval
        var lastPing = now
        if watchdogPeriod != nil { notifier.watchdog() }
        let events = EventSources(inotify: inotify, config: watch, sysctls: sysctlWatch)
        let poller = Poller(watching: [signals.fd, inotify.fd])

        while true {
            var deadline = nextCheck
            if let period = watchdogPeriod { deadline = min(deadline, lastPing + period) }
            // A pending reload goes ahead as soon as no relevant file is being written.
            if reloadPending && candidate == nil { deadline = min(deadline, watch.writesSettle(after: now) ?? now) }
            if let candidate { deadline = min(deadline, candidate.quietUntil) }
            // A back-off ends on time even though the contested key's watch is paused.
            if let resume = contest.nextResume { deadline = min(deadline, UInt64(max(resume, 0) * 1_000_000 + 1)) }
            let timeout = deadline > now ? Int32(min((deadline - now + 999) / 1000, UInt64(Int32.max))) : 0
            // Hand the code back only when the loop is about to sleep: events already
            // queued (such as the daemon's own writes to the sysctls) run code first.
            if codePagesUsed && poller.wait(timeoutMilliseconds: 0) == 0 {
                codePages.release()
                codePagesUsed = false
            }
            let ready = poller.wait(timeoutMilliseconds: timeout)
            now = MonotonicClock.microseconds()

            if now >= nextCheck { checkRequested = true }
            if let resume = contest.nextResume, Double(now) / 1_000_000 >= resume { checkRequested = true }
            if ready > 0 {
                var stop = false
                if poller.isReady(signals.fd) {
                    for signal in signals.drain() {
                        if signal == SIGHUP { reloadPending = true } else { stop = true }
                    }
                }
                if poller.isReady(inotify.fd) { _ = handle(events, at: now) }
                if stop { return shutDown() }
            }
            // A reload waits while a config or profile file is being written.
            if reloadPending && candidate == nil && watch.writesSettle(after: now) == nil {
                read(events, at: now)
            }
            if let ready = candidate, now >= ready.quietUntil {
                candidate = nil
                reload(with: ready.load)
            }
            if checkRequested {
                check(at: now)
                checkRequested = false
                nextCheck = now + checkInterval
            }
            // Ping at half the interval; ride along on any wake-up past a quarter, so the
            // pings rarely need wake-ups of their own.
            if let period = watchdogPeriod, now >= lastPing + period / 2 {
                notifier.watchdog()
                lastPing = now
                codePagesUsed = true   // sd_notify(3) runs libsystemd code the checks never need
            }
        }
    }

    /// The descriptors and watches the loop reads events from.
    struct EventSources {
        let inotify: Inotify
        let config: ConfigWatch
        let sysctls: SysctlWatch
    }

    /// Drains and interprets inotify events: drift hints request a check, finished config
    /// edits request a reload, moved directories re-arm the watches.
    ///
    /// - Returns: whether any config or profile file was touched.
    func handle(_ sources: EventSources, at now: UInt64) -> Bool {
        let events = sources.inotify.drain()
        if events.contains(where: { sources.sysctls.isSysctl($0.watch) }) { checkRequested = true }
        let assessment = sources.config.assess(events, now: now)
        if assessment.rearm { sources.config.arm() }
        if assessment.reload { reloadPending = true }
        if assessment.writtenInPlace { lastInPlaceWrite = now }
        if assessment.touched, candidate != nil {   // what was read may be stale or half-written: read again
            candidate = nil
            reloadPending = true
        }
        return assessment.touched
    }

    /// A reload read whole, waiting out its quiet period. A class, so that the loop's
    /// "is there one?" on every wake-up tests a pointer instead of copying a policy.
    final class Candidate {
        let load: PolicyLoad
        let quietUntil: UInt64
        init(_ load: PolicyLoad, quietUntil: UInt64) {
            self.load = load
            self.quietUntil = quietUntil
        }
    }

    /// Watches the three keepalive files for writes (the fast drift hint). A file that
    /// cannot be watched is reported: its drift is then found by the re-read alone.
    func watchSysctls(_ inotify: Inotify) -> SysctlWatch {
        SysctlWatch(inotify: inotify, tree: tree) { key, error in
            log.record(.checkFailed, "cannot watch \(tree.path(for: key)) with inotify: \(error); its drift is found by the periodic re-read only",
                       fields: ["SYSCTL": key.sysctlName, "PATH": tree.path(for: key)])
        }
    }

}
