#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS
import SystemdKit

/// Start, reload and stop: how a policy comes into force and goes.
extension Daemon {
    /// Loads and applies the policy, then sends READY=1; returns the enforcer, or the exit
    /// status if the daemon cannot start.
    func start(tree: SysctlTree, watch: SysctlWatch, reload: ReloadController,
               beforeReady: (Enforcer) -> ExitStatus? = { _ in nil }) -> Result<(Enforcer, Remembered?), ExitStatus> {
        let load = setup.loadPolicy()
        guard let policy = load.policy else {
            // A file that could not be read (EMFILE, EIO) is the system's failure, not the
            // config's: exit 3, which systemd restarts, not 2, which blames the config.
            let systemError = load.diagnostics.errors.allSatisfy { $0.code == .unreadable }
            let consequence = systemError
                ? "keepalived-tune cannot start: a system error, not the config's contents (exit 3; systemd restarts it)"
                : "keepalived-tune cannot start; fix the config and start it again"
            for diagnostic in load.diagnostics.errors {
                log.rejected(diagnostic, event: .configRejected, consequence: consequence)
            }
            notifier.status("\(systemError ? "config unreadable" : "config invalid"): \(load.diagnostics.errors.first?.description ?? "unknown error")")
            return .failure(systemError ? .systemFailure : .invalid)
        }
        logWarnings(load.diagnostics)
        let netns = DaemonState.ownNetworkNamespace(syscalls: syscalls)
        let remembered = recallOriginals(tree: tree, netns: netns)
        switch Enforcer.start(policy, tree: tree, watch: watch, log: log, netns: netns,
                              originals: remembered?.values, at: MonotonicClock.now()) {
        case .failure(let report):
            var status = ExitStatus.systemFailure
            for failure in report.failures {
                if case .exit(let code) = log.failed(failure, profile: policy.profile.name, context: .start).consequence { status = code }
            }
            notifier.status("apply failed: \(report.failures.first?.description ?? "unknown error")")
            return .failure(status)
        case .success(let (enforcer, _)):
            reload.remember(load)
            publishState(enforcer)
            reportConflicts(policy)
            // What else must be in force before READY=1 (the kernel hooks), or why not.
            if let refused = beforeReady(enforcer) { return .failure(refused) }
            lastStatus = StatusLine.make(policy: policy, drift: [], contested: [], rejection: nil)
            notifier.ready(status: lastStatus)
            log.record(.started, "keepalived-tune started: \(lastStatus)", fields: ["PROFILE": policy.profile.name.rawValue])
            return .success((enforcer, remembered))
        }
    }

    /// Moves a pending reload on: reads when due (RELOADING=1 first), and puts what was
    /// read whole in force, answering READY=1. Says whether it read or applied anything (a
    /// reload that only waits runs no code beyond the loop's), and whether a new policy is
    /// in force.
    func stepReload(_ running: Running, at now: Instant) -> Activity {
        let reload = running.reload
        var worked = false
        let load = reload.step(at: now,
                               announce: { notifier.reloading(monotonicMicroseconds: MonotonicClock.now().microseconds) },
                               drain: {
                                   worked = true
                                   route(running.inotify.drain(), to: running, at: MonotonicClock.now())
                               })
        guard let load else { return worked ? .ranCode : [] }
        reload.rejection = apply(load, running)
        running.enforcer.hint()
        if reload.rejection == nil {
            let wasActive = running.fleet.isActive
            running.fleet.reconfigure(running.enforcer.policy, at: now)
            if running.fleet.isActive && !wasActive { reportNamespaceLimits(running.enforcer.policy) }
        }
        lastStatus = StatusLine.make(policy: running.enforcer.policy, drift: [], contested: [], rejection: reload.rejection,
                                     namespaces: namespaceCounts(running.fleet))
        notifier.ready(status: lastStatus)
        // Reporting only, so after READY=1: the sysctl.d scan reads a dozen files, and the
        // state file's rename is slow on some disks.
        if reload.rejection == nil {
            reportConflicts(running.enforcer.policy)
            running.auditor.configure(running.enforcer.policy.config)
            metrics.configure(running.enforcer.policy.config.metricsTextfile)
        }
        publishState(running.enforcer)
        return reload.rejection == nil ? [.ranCode, .reconfigured] : .ranCode
    }

    /// Puts a freshly loaded policy in force, or keeps the last good one; the log counts
    /// the reload, applied or rejected.
    ///
    /// - Returns: why the reload was refused, or `nil` if it is in force.
    private func apply(_ load: PolicyLoad, _ running: Running) -> String? {
        let enforcer = running.enforcer
        let still = "still enforcing profile \(enforcer.policy.profile.name)"
        var errors = load.diagnostics.errors
        let lastGood = running.reload.configFiles
        if errors.isEmpty, lastGood.contains(setup.configPath), !load.configFiles.contains(setup.configPath) {
            errors = [.error(.configRemoved, at: SourceLocation(file: setup.configPath, line: nil),
                "the config file is gone (removed or renamed while keepalived-tune runs); keeping the last good profile until it is back. To run on the built-in defaults, restart keepalived-tune")]
        }
        // A config file or drop-in that had content and reads empty now is taken for a
        // rewrite in progress, the main file and drop-ins alike.
        if errors.isEmpty, let emptied = load.emptyFiles.first(where: { running.reload.nonEmptyFiles.contains($0) }) {
            errors = [.error(.configEmpty, at: SourceLocation(file: emptied, line: nil),
                "the file is empty, as in the middle of a rewrite; keeping the last good profile until it is written whole. To drop it for good, remove the file")]
        }
        configValid = errors.isEmpty && load.policy != nil
        guard errors.isEmpty, let next = load.policy else {
            log.reloadRejected(errors, consequence: "reload rejected; \(still)")
            return errors.first?.description ?? "invalid config"
        }
        logWarnings(load.diagnostics)
        let report = enforcer.reconfigure(next)
        guard report.succeeded else {
            log.reloadFailed(report.failures, profile: enforcer.policy.profile.name)
            return "cannot apply profile \(next.profile.name): \(report.failures.first?.description ?? "unknown error")"
        }
        running.reload.remember(load)
        log.reloadApplied(next, changes: report.changes)
        return nil
    }

    /// Sends STOPPING=1, withdraws the state this daemon published, restores the original
    /// values if configured (then takes its own entry out of the originals file, leaving any
    /// other daemon's), and returns 0. With `restore-on-stop = no` the saved originals are
    /// kept, so that a later start in this boot, with the setting switched, still knows them.
    func shutDown(_ enforcer: Enforcer, originals remembered: Remembered?) -> Int32 {
        let policy = enforcer.policy
        notifier.stopping(status: "stopping")
        DaemonState.withdraw(pid: getpid(), netns: enforcer.netns, from: setup.runtimeDirectory, syscalls: syscalls)
        log.record(.stopping, "keepalived-tune stopping (profile \(policy.profile.name))",
                   fields: ["PROFILE": policy.profile.name.rawValue])
        guard policy.config.restoresOnStop else { return ExitStatus.success.rawValue }
        let original = enforcer.originals
        let (restored, failures) = enforcer.restoreOriginals()
        for failure in failures { log.failed(failure, profile: policy.profile.name, context: .restore) }
        let found = remembered.map { "the values found at first start (\(WallClock.format($0.foundAt)), saved in \($0.book.path))" }
            ?? "the values found at start"
        let outcome = failures.isEmpty
            ? "put back \(found), \(original.compact) (\(restored.count) changed)"
            : "could not put back every one of \(found), \(original.compact): \(failures.count) failed, see the apply-failed entries; \(restored.count) restored"
        if failures.isEmpty, let remembered { forgetOriginals(remembered) }
        var fields = ["PROFILE": policy.profile.name.rawValue, "EXPECTED": original.compact]
        fields["ORIGINALS_FILE"] = remembered?.book.path
        log.record(.restored, "restore-on-stop: \(outcome)", fields: fields)
        return ExitStatus.success.rawValue
    }

    /// Publishes what this daemon enforces, for `apply` to explain itself (``DaemonState``),
    /// when it differs from what was published last.
    func publishState(_ enforcer: Enforcer) {
        let state = DaemonState(pid: getpid(), netns: enforcer.netns, profile: enforcer.policy.profile.name.rawValue,
                                values: enforcer.policy.values)
        guard state != published else { return }
        state.publish(in: setup.runtimeDirectory, syscalls: syscalls)
        published = state
    }

    func logWarnings(_ diagnostics: [Diagnostic]) {
        for warning in diagnostics where warning.severity == .warning {
            log.rejected(warning, event: .configWarning, consequence: "the file is still used")
        }
    }

    func reportConflicts(_ policy: Policy) {
        for conflict in conflicts.conflicts(with: policy.values) { log.conflict(conflict, policy: policy) }
    }
}
