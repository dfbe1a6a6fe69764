#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS

/// The network namespaces besides the daemon's own that `[namespaces]` selects, each kept by
/// an ``Enforcer`` of its own, exactly as the host is: all or nothing, drift found by inotify
/// and by the periodic re-read, enforce or warn, contest back-off, restore-on-stop.
///
/// When it looks for namespaces (``NamespaceDiscovery``) is the pure ``ScanSchedule``'s
/// decision; what a namespace must hold is the rules' (``NamespaceRules/expectation(for:policy:)``).
///
/// It holds no nsfs descriptor or bind mount: only three sysctl descriptors per namespace,
/// which read ENOENT once the namespace ends (then `namespace-gone`).
final class Fleet {
    /// One managed namespace.
    struct Member {
        let enforcer: Enforcer
        var identity: NamespaceIdentity
        let log: EventLog
        /// Its `netns` label in the metrics, fixed at adoption and unique among members.
        let metricsName: String
        /// Whether a rule selects it or `manage = all` took it in, and when it was adopted
        /// (higher is newer): who keeps a seat at the descriptor limit (``FleetCapacity``).
        var seat: FleetCapacity.Seat
    }

    let setup: Setup
    let log: EventLog
    let inotify: Inotify
    let discovery: NamespaceDiscovery
    let book: OriginalsBook?
    /// The policy of the daemon's own namespace; its config holds the rules, and it
    /// resolved every profile they name.
    private(set) var policy: Policy
    private(set) var rules: NamespaceRules
    /// The managed namespaces, by inode.
    var members: [UInt64: Member] = [:]
    /// When to scan, and the namespaces awaited or failed.
    var schedule: ScanSchedule
    /// The inotify watches on the namespace directories, by watch.
    var directoryWatches: Set<Int32> = []
    /// Which member each sysctl watch belongs to: an event finds its member without a walk
    /// over them all (adopting 1,000 namespaces makes 3,000 events). Filled at adoption, and
    /// by a walk for a watch added later (a contested key's, when its back-off ends); an
    /// entry goes with its watch's IN_IGNORED.
    var watchOwners: [Int32: UInt64] = [:]
    /// The members' metrics names (``Member/metricsName``), to keep them unique.
    var metricsNames: Set<String> = []
    /// The state files refused at the last scan (``StateFile/Problem``), each reported once
    /// while it lasts.
    var fileProblems: Set<StateFile.Problem> = []
    /// How many namespaces have been adopted so far: the next one's ``Member/seat`` order.
    var adoptions = 0
    /// How many namespaces the rules select stayed unmanaged at the last scan, for want of
    /// descriptors (``FleetCapacity``); reported when it first rises above 0.
    var overLimit = 0

    /// How far ahead a member's check is brought forward to share a wake-up with others.
    static let batchWindow = Interval.milliseconds(100)
    /// The directories whose entries hint at a new namespace.
    static let pinDirectories = ["/run/netns", "/run/docker/netns"]

    /// Enters namespaces, opens their three keepalive files and reads their cookies
    /// (``NamespaceEntry``): one result per target, in order.
    typealias Opener = ([NamespaceEntry.Target]) -> [Result<NamespaceEntry.Opened, NamespaceEntry.Failure>]
    /// How namespaces are entered.
    let enter: Opener

    /// A fleet that finds namespaces with `discovery` and enters them with `enter`; the
    /// daemon gives it the host's, tests their own.
    init(setup: Setup, policy: Policy, log: EventLog, inotify: Inotify, book: OriginalsBook?,
         discovery: NamespaceDiscovery, enter: @escaping Opener, at now: Instant) {
        self.setup = setup
        self.policy = policy
        self.rules = policy.config.namespaceRules
        self.log = log
        self.inotify = inotify
        self.book = book
        self.discovery = discovery
        self.enter = enter
        schedule = ScanSchedule(at: now)
        watchDirectories()
    }

    /// Whether the config asks for other namespaces at all.
    var isActive: Bool { rules.reach != .none }

    /// How many namespaces are managed, and how many of them drift now.
    var counts: (managed: Int, drifting: Int) {
        (members.count, members.values.filter { !$0.enforcer.remainingDrift.isEmpty }.count)
    }

    /// When the fleet next needs the loop: a due scan, or the earliest member's check.
    var deadline: Instant {
        guard isActive || !members.isEmpty else { return .never }
        var earliest = schedule.deadline
        for member in members.values where member.enforcer.deadline < earliest { earliest = member.enforcer.deadline }
        return earliest
    }

    /// Something hints at a new namespace: look at once (pins and runtimes only).
    func lookSoon(at now: Instant) {
        guard isActive else { return }
        schedule.hinted(at: now)
    }

    /// Something hints at namespaces with no pin (an `RTM_NEWNSID`): scan `/proc` at once.
    func rescanSoon(at now: Instant) {
        guard isActive else { return }
        schedule.rescanHinted(at: now)
    }

    /// Whether `watch` is one of the fleet's: a member's sysctl file (that member checks at
    /// once) or a namespace directory (a quick scan).
    func route(_ event: Inotify.Event, at now: Instant) -> Bool {
        if directoryWatches.contains(event.watch) {
            lookSoon(at: now)
            return true
        }
        if let inode = watchOwners[event.watch] {
            if let member = members[inode], member.enforcer.watch.isSysctl(event.watch) {
                member.enforcer.hint()
                return true
            }
            // A watch of ours that is gone (its member dropped, or its key paused): this is
            // its IN_IGNORED, the last event it gets. (Watch numbers are not reused soon.)
            watchOwners[event.watch] = nil
            return true
        }
        for (inode, member) in members where member.enforcer.watch.isSysctl(event.watch) {
            watchOwners[event.watch] = inode
            member.enforcer.hint()
            return true
        }
        return false
    }

    /// Checks every member now (an `RTM_DELNSID`: one of them may have ended).
    func checkAll() {
        for member in members.values { member.enforcer.hint() }
    }

    /// Runs what is due at `now`: scans, adoptions and members' checks. Returns whether it
    /// did more than idle checks.
    func tick(at now: Instant) -> Bool {
        guard isActive || !members.isEmpty else {
            book?.flush()   // a reload that released the last members dropped their originals
            return false
        }
        var busy = false
        if isActive, let scan = schedule.take(at: now, rescanInterval: .seconds(policy.config.rescanIntervalSeconds)) {
            if scan == .full { watchDirectories() }
            let found = discovery.scan(processes: scan == .full)
            report(found.problems)
            reconcile(found, full: scan == .full, at: now)
            busy = true
        }
        // Members whose checks fall due within a moment are checked together: namespaces
        // adopted in one scan then share their wake-ups instead of taking one each.
        let soon = now + Fleet.batchWindow
        for (inode, member) in members where member.enforcer.tick(at: member.enforcer.deadline <= soon ? max(now, member.enforcer.deadline) : now) {
            busy = true
            if member.enforcer.gone {
                retire(inode, member)
                lookSoon(at: now)   // a new namespace may already have its inode
            }
        }
        book?.flush()
        return busy
    }

    /// A reload put `next` in force for the daemon's own namespace: the rules are evaluated
    /// again for every namespace at the next scan, which is now. A member that no rule
    /// selects any more is left as it is, not restored.
    func reconfigure(_ next: Policy, at now: Instant) {
        policy = next
        rules = next.config.namespaceRules
        for (inode, member) in members {
            let expectation = rules.expectation(for: member.identity, policy: next)
            guard let held = expectation.policy else {
                if expectation.decision.profile != nil { continue }   // a profile the config never resolved
                drop(inode)
                book?.forget(inode)   // left as it is: never restored
                member.log.namespaceReleased(member.identity, because: expectation.decision.reason)
                continue
            }
            let report = member.enforcer.reconfigure(held)
            if report.succeeded {
                member.log.applied(held, changes: report.changes, reason: "reload")
            } else {
                for failure in report.failures { member.log.failed(failure, profile: held.profile.name, context: .reload, target: .managed) }
            }
        }
        schedule.reconfigured(at: now)
    }

    /// On stop: with `restore-on-stop`, each member's values found before its first write
    /// are put back (keys kept for the container were never written).
    func shutDown(restore: Bool) {
        guard restore else { return }
        for (inode, member) in members {
            let (restored, failures) = member.enforcer.restoreOriginals()
            for failure in failures { member.log.failed(failure, profile: member.enforcer.policy.profile.name, context: .restore, target: .managed) }
            if failures.isEmpty {
                book?.forget(inode)
                member.log.record(.restored, "restore-on-stop: put back \(member.enforcer.originals.compact) in namespace \(member.identity.summary) (\(restored.count) changed)",
                                  fields: ["PROFILE": member.enforcer.policy.profile.name.rawValue, "EXPECTED": member.enforcer.originals.compact])
            }
        }
        members = [:]
        watchOwners = [:]
        metricsNames = []
        book?.flush()
    }

    /// The namespace's name for the metrics, with `@INODE` added when a member already has
    /// that name (two containers of one name under two runtimes), or it is a label the
    /// metrics keep (`host`, `other`), so that no two members' series share labels.
    func uniqueMetricsName(_ identity: NamespaceIdentity) -> String {
        let name = identity.metricsLabel
        return metricsNames.contains(name) || name == MetricsSnapshot.host || name == MetricCounters.otherNamespaces
            ? "\(name)@\(identity.inode)" : name
    }

    /// Forgets a member. Its watches stay in ``watchOwners`` until their IN_IGNORED comes,
    /// so that a thousand namespaces ending at once cost no walk over the members each.
    func drop(_ inode: UInt64) {
        guard let member = members.removeValue(forKey: inode) else { return }
        metricsNames.remove(member.metricsName)
    }

    /// Watches the namespace directories that exist (again at each full scan: `ip netns`
    /// makes `/run/netns` on first use).
    private func watchDirectories() {
        guard isActive, directoryWatches.count < Fleet.pinDirectories.count else { return }
        for directory in Fleet.pinDirectories {
            if let watch = try? inotify.add(directory, mask: UInt32(IN_CREATE | IN_DELETE | IN_MOVED_TO)) {
                directoryWatches.insert(watch)
            }
        }
    }
}
