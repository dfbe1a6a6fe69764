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
    private var policy: Policy!
    /// The values found at start, for `restore-on-stop`.
    private var original: KeepaliveValues!
    private var contest = ContestTracker()
    /// The drift already reported, by key, so an unchanged drift is not logged again.
    private var reportedDrift: [Tunable: Int] = [:]
    /// Why the last reload was refused, until a reload succeeds.
    private var rejection: String?
    private var checkFailing = false
    private var lastStatus = ""
    /// The config files of the last good load; a main file that vanishes is not applied.
    private var configFiles: [String] = []
    /// A reload was asked for (SIGHUP or an edit) and has not completed yet.
    private var reloadPending = false
    /// RELOADING=1 was sent for the pending reload.
    private var reloadAnnounced = false
    /// A drift check is due (timer or inotify hint).
    private var checkRequested = false
    /// The kernel values at the last check that did anything; `nil` forces the next one.
    private var lastSeen: KeepaliveValues?
    /// A reload that was read and waits out its quiet period before being applied.
    private var candidate: (load: PolicyLoad, quietUntil: UInt64)?
    /// When a config or profile file was last touched (CLOCK_MONOTONIC µs).
    private var lastConfigActivity: UInt64 = 0

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
        let sysctlWatches = watchSysctls(inotify)
        if let code = start() { return code }

        let watchdogPeriod = notifier.watchdogInterval().map { $0 / 2 }
        var now = MonotonicClock.microseconds()
        var nextCheck = now + checkInterval
        var lastPing = now
        if watchdogPeriod != nil { notifier.watchdog() }
        let events = EventSources(inotify: inotify, config: watch, sysctls: sysctlWatches)

        while true {
            var deadline = nextCheck
            if let period = watchdogPeriod { deadline = min(deadline, lastPing + period) }
            // A pending reload goes ahead as soon as no relevant file is being written.
            if reloadPending && candidate == nil { deadline = min(deadline, watch.writesSettle(after: now) ?? now) }
            if let candidate { deadline = min(deadline, candidate.quietUntil) }
            let timeout = deadline > now ? Int32(min((deadline - now + 999) / 1000, UInt64(Int32.max))) : 0
            let ready = Poller.wait([signals.fd, inotify.fd], timeoutMilliseconds: timeout)
            now = MonotonicClock.microseconds()

            var stop = false
            if now >= nextCheck { checkRequested = true }
            if ready.contains(signals.fd) {
                for signal in signals.drain() {
                    if signal == SIGHUP { reloadPending = true } else { stop = true }
                }
            }
            if ready.contains(inotify.fd) { _ = handle(events, at: now) }
            if stop { return shutDown() }
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
                nextCheck = MonotonicClock.microseconds() + checkInterval
            }
            // Ping at half the interval; ride along on any wake-up past a quarter, so the
            // pings rarely need wake-ups of their own.
            if let period = watchdogPeriod, now >= lastPing + period / 2 {
                notifier.watchdog()
                lastPing = now
            }
        }
    }

    /// The descriptors and watches the loop reads events from.
    private struct EventSources {
        let inotify: Inotify
        let config: ConfigWatch
        let sysctls: Set<Int32>
    }

    /// Drains and interprets inotify events: drift hints request a check, finished config
    /// edits request a reload, moved directories re-arm the watches.
    ///
    /// - Returns: whether any config or profile file was touched.
    private func handle(_ sources: EventSources, at now: UInt64) -> Bool {
        let events = sources.inotify.drain()
        if events.contains(where: { sources.sysctls.contains($0.watch) }) { checkRequested = true }
        let assessment = sources.config.assess(events, now: now)
        if assessment.rearm { sources.config.arm() }
        if assessment.reload { reloadPending = true }
        if assessment.touched {
            lastConfigActivity = now
            if candidate != nil {   // what was read may be stale or half-written: read again
                candidate = nil
                reloadPending = true
            }
        }
        return assessment.touched
    }

    /// The current check interval in µs (a reload may change it).
    private var checkInterval: UInt64 { UInt64(policy.config.checkIntervalSeconds) * 1_000_000 }

    // MARK: - Start, reload, stop

    /// Loads and applies the policy; returns an exit code if the daemon cannot start.
    private func start() -> Int32? {
        let load = setup.loadPolicy()
        guard let policy = load.policy else {
            for diagnostic in load.diagnostics.errors {
                log.rejected(diagnostic, event: .configRejected, consequence: "keepalived-tune cannot start; fix the config and start it again")
            }
            notifier.status("config invalid: \(load.diagnostics.errors.first?.description ?? "unknown error")")
            return ExitCode.invalidConfig
        }
        logWarnings(load.diagnostics)
        let report = Applier.apply(policy.values, to: tree)
        guard report.succeeded, let before = report.before else {
            for failure in report.failures {
                log.applyFailed(failure, profile: policy.profile.name, consequence: "keepalived-tune cannot start; no value was left changed")
            }
            notifier.status("apply failed: \(report.failures.first?.description ?? "unknown error")")
            return ExitCode.systemFailure
        }
        self.policy = policy
        configFiles = load.configFiles
        original = before
        log.applied(policy, changes: report.changes, reason: "start")
        reportConflicts()
        let status = statusLine(drift: [])
        notifier.ready(status: status)
        lastStatus = status
        log.record(.started, "keepalived-tune started: \(status)", fields: ["PROFILE": policy.profile.name.rawValue])
        return nil
    }

    /// How long a read must stay undisturbed before it is applied, when config files were
    /// touched just before it (µs).
    static let quietPeriod: UInt64 = 10_000
    /// How recent config activity has to be for a read to wait for the quiet period (µs).
    static let recentActivity: UInt64 = 50_000

    /// Reads the config and profiles for a pending reload (SIGHUP or an edit).
    ///
    /// A half-written file must never be applied, and inotify reports a write only after
    /// its bytes are visible, so what was read is checked against the events that follow:
    /// if a relevant file was touched while (or, after recent activity, within
    /// ``quietPeriod`` after) it was read, the read is thrown away and done again once the
    /// write is finished.
    private func read(_ sources: EventSources, at now: UInt64) {
        if !reloadAnnounced {
            notifier.reloading()
            reloadAnnounced = true
        }
        let load = setup.loadPolicy()
        let readAt = MonotonicClock.microseconds()
        if handle(sources, at: readAt) { return }   // touched while reading: stays pending
        reloadPending = false
        if readAt < lastConfigActivity + Daemon.recentActivity {
            candidate = (load, readAt + Daemon.quietPeriod)
        } else {
            reload(with: load)
        }
    }

    /// Applies a reload that was read whole, and answers READY=1.
    private func reload(with load: PolicyLoad) {
        reloadAnnounced = false
        checkRequested = true
        apply(load)
        readyAfterReload()
    }

    /// Puts a freshly loaded policy in force, or keeps the last good one and says why.
    private func apply(_ load: PolicyLoad) {
        let still = "still enforcing profile \(policy.profile.name)"
        var errors = load.diagnostics.errors
        if errors.isEmpty, configFiles.contains(setup.configPath) {
            if !load.configFiles.contains(setup.configPath) {
                errors = [.error(.configRemoved, at: SourceLocation(file: setup.configPath, line: nil),
                    "the config file is gone (removed or renamed while keepalived-tune runs); keeping the last good profile until it is back. To run on the built-in defaults, restart keepalived-tune")]
            } else if load.emptyFiles.contains(setup.configPath) {
                errors = [.error(.configEmpty, at: SourceLocation(file: setup.configPath, line: nil),
                    "the config file is empty, as in the middle of a rewrite; keeping the last good profile until it is written whole. To run on the built-in defaults, remove the file and restart keepalived-tune")]
            }
        }
        guard errors.isEmpty, let next = load.policy else {
            for diagnostic in errors { log.rejected(diagnostic, event: .reloadRejected, consequence: "reload rejected; \(still)") }
            rejection = errors.first?.description ?? "invalid config"
            return
        }
        logWarnings(load.diagnostics)
        let report = Applier.apply(next.values, to: tree)
        guard report.succeeded else {
            for failure in report.failures {
                log.applyFailed(failure, profile: next.profile.name, consequence: "reload rejected; \(still)")
            }
            rejection = "cannot apply profile \(next.profile.name): \(report.failures.first?.description ?? "unknown error")"
            return
        }
        policy = next
        configFiles = load.configFiles
        lastSeen = nil
        contest = ContestTracker()
        reportedDrift = [:]
        rejection = nil
        log.applied(next, changes: report.changes, reason: "reload")
        reportConflicts()
    }

    private func readyAfterReload() {
        lastStatus = statusLine(drift: [])
        notifier.ready(status: lastStatus)
    }

    /// Sends STOPPING=1, restores the original values if configured, and returns 0.
    private func shutDown() -> Int32 {
        notifier.stopping(status: "stopping")
        log.record(.stopping, "keepalived-tune stopping (profile \(policy.profile.name))",
                   fields: ["PROFILE": policy.profile.name.rawValue])
        guard policy.config.restoresOnStop else { return ExitCode.success }
        let (restored, failures) = Applier.restore(Tunable.allCases, to: original, in: tree)
        for failure in failures {
            log.applyFailed(failure, profile: policy.profile.name, consequence: "could not restore the value found at start")
        }
        log.record(.restored, "restore-on-stop: put back the values found at start, \(original.compact) (\(restored.count) changed)",
                   fields: ["PROFILE": policy.profile.name.rawValue, "EXPECTED": original.compact])
        return ExitCode.success
    }

    // MARK: - Drift

    /// Reads the kernel values, reports new drift and, with `on-drift = enforce`, corrects
    /// it unless the key is contested.
    private func check(at now: UInt64) {
        let actual: KeepaliveValues
        do {
            actual = try tree.readAll()
        } catch {
            if !checkFailing {
                log.record(.checkFailed, "drift check failed: \(error); retrying every \(TimeSpan.format(seconds: policy.config.checkIntervalSeconds))",
                           fields: ["SYSCTL": error.key.sysctlName, "PATH": error.path])
            }
            checkFailing = true
            return
        }
        checkFailing = false
        // The common case, and the whole cost of watching a fight during a back-off:
        // nothing changed since the last check, and no back-off is due to end.
        let seconds = Double(now) / 1_000_000
        if actual == lastSeen && contest.nextResume.map({ seconds < $0 }) ?? true { return }
        lastSeen = actual
        let drift = actual.differences(from: policy.values)
        reportedDrift = reportedDrift.filter { key, _ in drift.contains { $0.key == key } }
        for difference in drift where reportedDrift[difference.key] != difference.actual {
            log.drift(difference, policy: policy)
            reportedDrift[difference.key] = difference.actual
        }
        var remaining = drift
        if policy.config.driftPolicy == .enforce && !drift.isEmpty {
            remaining = enforce(drift, actual: actual, seconds: seconds)
        }
        updateStatus(drift: remaining, at: seconds)
    }

    /// Writes the policy back for drifted keys that are not contested; returns the drift
    /// that remains.
    private func enforce(_ drift: [ValueDifference], actual: KeepaliveValues, seconds: Double) -> [ValueDifference] {
        var target = actual
        for difference in drift {
            switch contest.drifted(difference.key, at: seconds) {
            case .correct:
                target[difference.key] = difference.expected
            case .contested(let resets):
                log.contested(difference, resets: resets, window: Int(contest.window),
                              backoff: Int(contest.backoff), policy: policy)
            case .holdOff:
                break
            }
        }
        guard target != actual else { return drift }
        lastSeen = nil   // the next check looks again: at the correction, or to retry a failed one
        let report = Applier.apply(target, to: tree)
        guard report.succeeded else {
            for failure in report.failures {
                log.applyFailed(failure, profile: policy.profile.name, consequence: "the drift remains; retrying at the next check")
            }
            return drift
        }
        for change in report.changes {
            log.corrected(change, policy: policy)
            reportedDrift[change.key] = nil
        }
        return drift.filter { difference in !report.changes.contains { $0.key == difference.key } }
    }

    /// Watches the three keepalive files for writes (the fast drift hint). A file that
    /// cannot be watched is reported: its drift is then found by the re-read alone.
    private func watchSysctls(_ inotify: Inotify) -> Set<Int32> {
        var watches: Set<Int32> = []
        for key in Tunable.allCases {
            do {
                watches.insert(try inotify.add(tree.path(for: key), mask: UInt32(IN_MODIFY)))
            } catch {
                log.record(.checkFailed, "cannot watch \(tree.path(for: key)) with inotify: \(error); its drift is found by the periodic re-read only",
                           fields: ["SYSCTL": key.sysctlName, "PATH": tree.path(for: key)])
            }
        }
        return watches
    }

    // MARK: - Reporting

    private func updateStatus(drift: [ValueDifference], at seconds: Double) {
        let status = StatusLine.make(policy: policy, drift: drift, contested: contest.heldOff(at: seconds),
                                     rejection: rejection)
        if status != lastStatus {
            notifier.status(status)
            lastStatus = status
        }
    }

    private func statusLine(drift: [ValueDifference]) -> String {
        StatusLine.make(policy: policy, drift: drift, contested: [], rejection: rejection)
    }

    private func logWarnings(_ diagnostics: [Diagnostic]) {
        for warning in diagnostics where warning.severity == .warning {
            log.rejected(warning, event: .configWarning, consequence: "the file is still used")
        }
    }

    private func reportConflicts() {
        for conflict in conflicts.conflicts(with: policy.values) { log.conflict(conflict, policy: policy) }
    }
}
