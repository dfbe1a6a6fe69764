#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS

/// Keeps one target's keepalive values in force: the daemon's own network namespace, or one
/// that `[namespaces]` selects (``Fleet``).
///
/// It owns everything about that target: its sysctl tree (kept-open read descriptors), the
/// inotify watches on its three files, the policy in force there, the values found before
/// the first write (for `restore-on-stop`), the values last seen, the drift already
/// reported and the contest back-off. The loop asks it for its next deadline, tells it
/// when a watched file was written, and lets it check when due.
final class Enforcer {
    let tree: SysctlTree
    let watch: SysctlWatch
    /// The network namespace enforced (its inode; 0 if unknown).
    let netns: UInt64
    private let log: EventLog
    /// The policy in force.
    private(set) var policy: Policy
    /// The values found before the first write in this boot, for `restore-on-stop`.
    let originals: KeepaliveValues
    /// The check interval of ``policy``, kept apart: the loop reads it on every wake-up, and
    /// reading it through the policy would copy the policy.
    private var checkInterval: Interval
    /// When the next periodic re-read is due.
    private var nextCheck: Instant
    /// A watched file was written: check at once.
    private var checkRequested = false
    /// The kernel values at the last check that did anything; `nil` forces the next one.
    private(set) var lastSeen: KeepaliveValues?
    /// The drift already reported, by key, so an unchanged drift is not logged again.
    private var reportedDrift: [Tunable: Int] = [:]
    /// Which keys are being fought over, and until when they are left alone. Every drift
    /// check reads it; without a run-time exclusivity check, that read stays a plain load
    /// (one thread owns the enforcer).
    @exclusivity(unchecked) private var contest = ContestTracker()
    /// The last check could not read the values (reported once until it works again).
    private(set) var checkFailing = false
    /// Keys whose correction failed, reported once until a correction succeeds.
    private var failingWrites: Set<Tunable> = []
    /// The drift left after the last check that did anything (for the status line).
    private(set) var remainingDrift: [ValueDifference] = []
    /// Keys left alone: set explicitly for a container (`explicit-values = keep`). Empty
    /// for the daemon's own namespace.
    let kept: Set<Tunable>
    /// The namespace ended: its pinned descriptors read ENOENT (``SysctlTree/pinned``).
    private(set) var gone = false

    /// Puts `policy` in force through `tree`, all or nothing; returns the enforcer, or the
    /// failed report (nothing left changed).
    /// `originals` are the values to restore on stop when they were found earlier (a
    /// restart in the same boot); by default, the values found now.
    /// `kept` are keys to leave alone (``kept``); `reason` goes into the `applied` entry, and
    /// without one (a namespace's adoption, which says so in an entry of its own) none is
    /// logged. Returns the enforcer and the changes made.
    static func start(_ policy: Policy, tree: SysctlTree, watch: SysctlWatch, log: EventLog,
                      netns: UInt64 = 0, originals: KeepaliveValues? = nil, kept: Set<Tunable> = [],
                      reason: String? = "start", at now: Instant) -> Result<(Enforcer, [ValueDifference]), ApplyReport> {
        let report = Applier.apply(target(policy.values, kept: kept, tree: tree), to: tree)
        guard report.succeeded, let before = report.before else { return .failure(report) }
        let enforcer = Enforcer(policy, tree: tree, watch: watch, log: log, netns: netns, originals: originals ?? before,
                                kept: kept, at: now)
        if let reason { log.applied(policy, changes: report.changes, reason: reason) }
        return .success((enforcer, report.changes))
    }

    /// The values to write: the policy's, with each kept key at what the kernel has now
    /// (so it is not written). With nothing kept, the policy's.
    private static func target(_ values: KeepaliveValues, kept: Set<Tunable>, tree: SysctlTree) -> KeepaliveValues {
        guard !kept.isEmpty, let current = try? tree.readAll() else { return values }
        return values.keeping(kept, from: current)
    }

    private init(_ policy: Policy, tree: SysctlTree, watch: SysctlWatch, log: EventLog,
                 netns: UInt64, originals: KeepaliveValues, kept: Set<Tunable>, at now: Instant) {
        self.policy = policy
        self.kept = kept
        self.netns = netns
        self.tree = tree
        self.watch = watch
        self.log = log
        self.originals = originals
        checkInterval = .seconds(policy.config.checkIntervalSeconds)
        nextCheck = now + checkInterval
    }

    /// Puts a new policy in force (a reload), all or nothing. On success the drift and
    /// contest state start afresh; on failure the old policy stays.
    func reconfigure(_ next: Policy) -> ApplyReport {
        let report = Applier.apply(Enforcer.target(next.values, kept: kept, tree: tree), to: tree)
        guard report.succeeded else { return report }
        policy = next
        checkInterval = .seconds(next.config.checkIntervalSeconds)
        lastSeen = nil
        contest = ContestTracker()
        for key in Tunable.allCases { watch.resume(key) }   // no key is left alone any more
        reportedDrift = [:]
        return report
    }

    /// The values wanted when the kernel holds `actual`: the profile's, but for the kept keys.
    func expected(actual: KeepaliveValues) -> KeepaliveValues {
        kept.isEmpty ? policy.values : policy.values.keeping(kept, from: actual)
    }

    /// A write to one of the three files was seen: check at the next turn of the loop.
    func hint() { checkRequested = true }

    /// When this target next needs the loop: now if a check was asked for, else the next
    /// periodic check or the end of a back-off, whichever is first.
    var deadline: Instant {
        if checkRequested { return Instant(microseconds: 0) }
        guard let resume = contest.nextResume, resume < nextCheck else { return nextCheck }
        return resume
    }

    /// Checks if a check is due at `now`.
    ///
    /// - Returns: whether it ran more than the idle check (it found something to report or
    ///   correct, or a back-off ended).
    func tick(at now: Instant) -> Bool {
        guard checkRequested || now >= deadline else { return false }
        checkRequested = false
        nextCheck = now + checkInterval
        return check(at: now)
    }

    /// Whether the namespace has ended, by one read of a pinned descriptor (ENOENT): an
    /// inode seen again may be a new namespace that reuses a dead one's.
    func probeGone() -> Bool {
        guard tree.pinned, !gone else { return gone }
        do { _ = try tree.read(.time) } catch { if error.errno?.code == ENOENT { gone = true } }
        return gone
    }

    /// The keys left alone at `now` because they are contested.
    func contested(at now: Instant) -> [Tunable] { contest.heldOff(at: now) }

    /// Writes the values found before the first write back where they differ.
    func restoreOriginals() -> (restored: [Tunable], failures: [SysctlFailure]) {
        Applier.restore(Tunable.allCases.filter { !kept.contains($0) }, to: originals, in: tree)
    }

    /// Reads the kernel values, reports new drift and, with `on-drift = enforce`, corrects
    /// it unless the key is contested. Returns whether it did more than the idle check.
    private func check(at now: Instant) -> Bool {
        let actual: KeepaliveValues
        do {
            actual = try tree.readAll()
        } catch {
            if tree.pinned && error.errno?.code == ENOENT {
                gone = true   // the namespace ended; the fleet drops this enforcer
                return true
            }
            defer { checkFailing = true }
            guard !checkFailing else { return false }   // reported already
            let verdict = FailureSeverity.verdict(errno: error.errno?.code, context: .check, target: tree.pinned ? .managed : .own,
                                                  checkEvery: checkInterval.seconds)
            log.record(.checkFailed, "drift check failed: \(error); \(verdict.sentence)",
                       fields: ["SYSCTL": error.key.sysctlName, "PATH": error.path])
            return true
        }
        checkFailing = false
        // The common case, and the whole cost of watching a fight during a back-off:
        // nothing changed since the last check, and no back-off is due to end.
        if actual == lastSeen {
            guard let resume = contest.nextResume, now >= resume else { return false }
        }
        for key in contest.endBackOffs(at: now) { watch.resume(key) }
        lastSeen = actual
        let drift = actual.differences(from: expected(actual: actual))
        reportedDrift = reportedDrift.filter { key, _ in drift.contains { $0.key == key } }
        // A contested key was reported once, as contested; whatever values the other writer
        // gives it during the back-off, nothing more is said until the back-off ends.
        let heldOff = contest.heldOff(at: now)
        for difference in drift where reportedDrift[difference.key] != difference.actual && !heldOff.contains(difference.key) {
            log.drift(difference, policy: policy)
            reportedDrift[difference.key] = difference.actual
        }
        remainingDrift = drift
        if policy.config.driftPolicy == .enforce && !drift.isEmpty {
            remainingDrift = enforce(drift, actual: actual, at: now)
        }
        return true
    }

    /// Writes the policy back for drifted keys that are not contested; returns the drift
    /// that remains.
    private func enforce(_ drift: [ValueDifference], actual: KeepaliveValues, at now: Instant) -> [ValueDifference] {
        var target = actual
        for difference in drift {
            switch contest.drifted(difference.key, at: now) {
            case .correct:
                target[difference.key] = difference.expected
            case .contested(let resets):
                log.contested(difference, resets: resets, window: contest.window.seconds,
                              backoff: contest.backoff.seconds, policy: policy)
                // Left alone for the back-off: its writes should not wake the daemon.
                watch.pause(difference.key)
            case .holdOff:
                break
            }
        }
        guard target != actual else { return drift }
        lastSeen = nil   // the next check looks again: at the correction, or to retry a failed one
        let report = Applier.apply(target, to: tree)
        guard report.succeeded else {
            // Not a contest: reported once (per key) until a correction works again, and
            // retried at every check.
            for failure in report.failures where failingWrites.insert(failure.key).inserted {
                log.failed(failure, profile: policy.profile.name, context: .correction,
                           target: tree.pinned ? .managed : .own, checkEvery: checkInterval.seconds)
            }
            return drift
        }
        // An admin's `keepalived-tune apply` (its record in the lock file matches what was
        // found) is put right, but is not another program fighting over the values.
        let byCommand = tree.lock?.lastWriter().map {
            $0.netns == netns && $0.values == actual && now - $0.at < contest.window
        } ?? false
        for change in report.changes {
            if !byCommand { contest.corrected(change.key, at: now) }
            failingWrites.remove(change.key)
            log.corrected(change, policy: policy)
            reportedDrift[change.key] = nil
        }
        return drift.filter { difference in !report.changes.contains { $0.key == difference.key } }
    }
}
