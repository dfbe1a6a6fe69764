#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS
import SystemdKit

/// Drift: reading the kernel's values, reporting what differs, and correcting it.
extension Daemon {
    /// Reads the kernel values, reports new drift and, with `on-drift = enforce`, corrects
    /// it unless the key is contested.
    func check(at now: UInt64) {
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
        // nothing changed since the last check, and no back-off is due to end. (Only a
        // back-off needs the time in seconds: the conversion reads constants from pages
        // that an idle check otherwise never touches.)
        if actual == lastSeen {
            guard let resume = contest.nextResume else { return }
            if Double(now) / 1_000_000 < resume { return }
        }
        let seconds = Double(now) / 1_000_000
        for key in contest.endBackOffs(at: seconds) { sysctlWatch?.resume(key) }
        lastSeen = actual
        codePagesUsed = true   // reporting and correcting run code the fast path does not
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
    func enforce(_ drift: [ValueDifference], actual: KeepaliveValues, seconds: Double) -> [ValueDifference] {
        var target = actual
        for difference in drift {
            switch contest.drifted(difference.key, at: seconds) {
            case .correct:
                target[difference.key] = difference.expected
            case .contested(let resets):
                log.contested(difference, resets: resets, window: Int(contest.window),
                              backoff: Int(contest.backoff), policy: policy)
                // Left alone for the back-off: its writes should not wake the daemon.
                sysctlWatch?.pause(difference.key)
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


    private func updateStatus(drift: [ValueDifference], at seconds: Double) {
        let status = StatusLine.make(policy: policy, drift: drift, contested: contest.heldOff(at: seconds),
                                     rejection: rejection)
        if status != lastStatus {
            notifier.status(status)
            lastStatus = status
        }
    }

    func statusLine(drift: [ValueDifference]) -> String {
        StatusLine.make(policy: policy, drift: drift, contested: [], rejection: rejection)
    }

    func logWarnings(_ diagnostics: [Diagnostic]) {
        for warning in diagnostics where warning.severity == .warning {
            log.rejected(warning, event: .configWarning, consequence: "the file is still used")
        }
    }

    func reportConflicts() {
        for conflict in conflicts.conflicts(with: policy.values) { log.conflict(conflict, policy: policy) }
    }
}
