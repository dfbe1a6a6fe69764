#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS
import SystemdKit

/// Start, reload and stop: how a policy comes into force and goes.
extension Daemon {
    /// Loads and applies the policy; returns an exit code if the daemon cannot start.
    func start() -> Int32? {
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
    /// written in place just before it (µs).
    static let quietPeriod: UInt64 = 10_000
    /// How recent an in-place write has to be for a read to wait for the quiet period (µs).
    static let recentActivity: UInt64 = 50_000

    /// Reads the config and profiles for a pending reload (SIGHUP or an edit).
    ///
    /// A half-written file must never be applied, and inotify reports a write only after
    /// its bytes are visible, so what was read is checked against the events that follow:
    /// if a relevant file was touched while (or, after a recent in-place write, within
    /// ``quietPeriod`` after) it was read, the read is thrown away and done again once the
    /// write is finished. A save that renames a finished file into place (what editors
    /// and config managers do) cannot be read half-written, so it is applied at once.
    func read(_ sources: EventSources, at now: UInt64) {
        if !reloadAnnounced {
            notifier.reloading()
            reloadAnnounced = true
        }
        codePagesUsed = true   // the parser ran, even if what it read is thrown away
        let load = setup.loadPolicy()
        let readAt = MonotonicClock.microseconds()
        if handle(sources, at: readAt) { return }   // touched while reading: stays pending
        reloadPending = false
        if readAt < lastInPlaceWrite + Daemon.recentActivity {
            candidate = Candidate(load, quietUntil: readAt + Daemon.quietPeriod)
        } else {
            reload(with: load)
        }
    }

    /// Applies a reload that was read whole, and answers READY=1.
    func reload(with load: PolicyLoad) {
        reloadAnnounced = false
        checkRequested = true
        codePagesUsed = true
        apply(load)
        readyAfterReload()
    }

    /// Puts a freshly loaded policy in force, or keeps the last good one and says why.
    func apply(_ load: PolicyLoad) {
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
        for key in Tunable.allCases { sysctlWatch?.resume(key) }   // no key is left alone any more
        reportedDrift = [:]
        rejection = nil
        log.applied(next, changes: report.changes, reason: "reload")
        reportConflicts()
    }

    func readyAfterReload() {
        lastStatus = statusLine(drift: [])
        notifier.ready(status: lastStatus)
    }

    /// Sends STOPPING=1, restores the original values if configured, and returns 0.
    func shutDown() -> Int32 {
        notifier.stopping(status: "stopping")
        log.record(.stopping, "keepalived-tune stopping (profile \(policy.profile.name))",
                   fields: ["PROFILE": policy.profile.name.rawValue])
        guard policy.config.restoresOnStop else { return ExitCode.success }
        let (restored, failures) = Applier.restore(Tunable.allCases, to: original, in: tree)
        for failure in failures {
            log.applyFailed(failure, profile: policy.profile.name, consequence: "could not restore the value found at start")
        }
        let outcome = failures.isEmpty
            ? "put back the values found at start, \(original.compact) (\(restored.count) changed)"
            : "could not put back every value found at start (\(original.compact)): \(failures.count) failed, see the apply-failed entries; \(restored.count) restored"
        log.record(.restored, "restore-on-stop: \(outcome)",
                   fields: ["PROFILE": policy.profile.name.rawValue, "EXPECTED": original.compact])
        return ExitCode.success
    }
}
