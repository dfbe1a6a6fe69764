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

        while true {
            var deadline = nextCheck
            if let period = watchdogPeriod { deadline = min(deadline, lastPing + period) }
            let timeout = deadline > now ? Int32(min((deadline - now + 999) / 1000, UInt64(Int32.max))) : 0
            let ready = Poller.wait([signals.fd, inotify.fd], timeoutMilliseconds: timeout)
            now = MonotonicClock.microseconds()

            var reload = false, rearm = false, stop = false, checkNow = now >= nextCheck
            if ready.contains(signals.fd) {
                for signal in signals.drain() {
                    if signal == SIGHUP { reload = true } else { stop = true }
                }
            }
            if ready.contains(inotify.fd) {
                let events = inotify.drain()
                if events.contains(where: { sysctlWatches.contains($0.watch) }) { checkNow = true }
                let (changed, directoriesMoved) = watch.assess(events)
                reload = reload || changed
                rearm = directoriesMoved
            }
            if stop { return shutDown() }
            if reload {
                self.reload()
                checkNow = true
            }
            // A reload may follow a directory that appeared since the watches were set.
            if reload || rearm { watch.arm() }
            if checkNow {
                check(at: now)
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
        original = before
        log.applied(policy, changes: report.changes, reason: "start")
        reportConflicts()
        let status = statusLine(drift: [])
        notifier.ready(status: status)
        lastStatus = status
        log.record(.started, "keepalived-tune started: \(status)", fields: ["PROFILE": policy.profile.name.rawValue])
        return nil
    }

    /// Reloads the config and profiles and applies them; on any error the last good policy
    /// stays in force. Always ends with READY=1.
    private func reload() {
        notifier.reloading()
        let still = "still enforcing profile \(policy.profile.name)"
        let load = setup.loadPolicy()
        guard let next = load.policy else {
            let errors = load.diagnostics.errors
            for diagnostic in errors { log.rejected(diagnostic, event: .reloadRejected, consequence: "reload rejected; \(still)") }
            rejection = errors.first?.description ?? "invalid config"
            readyAfterReload()
            return
        }
        logWarnings(load.diagnostics)
        let report = Applier.apply(next.values, to: tree)
        guard report.succeeded else {
            for failure in report.failures {
                log.applyFailed(failure, profile: next.profile.name, consequence: "reload rejected; \(still)")
            }
            rejection = "cannot apply profile \(next.profile.name): \(report.failures.first?.description ?? "unknown error")"
            readyAfterReload()
            return
        }
        policy = next
        contest = ContestTracker()
        reportedDrift = [:]
        rejection = nil
        log.applied(next, changes: report.changes, reason: "reload")
        reportConflicts()
        readyAfterReload()
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
        let drift = actual.differences(from: policy.values)
        reportedDrift = reportedDrift.filter { key, _ in drift.contains { $0.key == key } }
        for difference in drift where reportedDrift[difference.key] != difference.actual {
            log.drift(difference, policy: policy)
            reportedDrift[difference.key] = difference.actual
        }
        var remaining = drift
        if policy.config.driftPolicy == .enforce && !drift.isEmpty {
            remaining = enforce(drift, actual: actual, seconds: Double(now) / 1_000_000)
        }
        updateStatus(drift: remaining, at: Double(now) / 1_000_000)
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
