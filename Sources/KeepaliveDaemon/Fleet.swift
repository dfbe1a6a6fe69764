#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS

/// The network namespaces besides the daemon's own that `[namespaces]` selects, each kept by
/// an ``Enforcer`` of its own, exactly as the host is: all or nothing, drift found by inotify
/// and by the periodic re-read, enforce or warn, contest back-off, restore-on-stop.
///
/// It also decides when to look for namespaces (``NamespaceDiscovery``):
/// - soon after a hint: a mount change (an nsfs bind mount), an entry in `/run/netns` or
///   `/run/docker/netns`, or an rtnetlink `RTM_NEWNSID`;
/// - again shortly while a runtime's pin has no container in its files yet, so the
///   container's explicit values are known before anything is written;
/// - every `rescan-interval`, with a stat of every `/proc/PID/ns/net`, as the safety net.
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
    }

    private let setup: Setup
    private let log: EventLog
    private let inotify: Inotify
    private let discovery: NamespaceDiscovery
    private let book: OriginalsBook?
    /// The policy of the daemon's own namespace; its config holds the rules, and it
    /// resolved every profile they name.
    private var policy: Policy
    private var rules: NamespaceRules
    /// The managed namespaces, by inode.
    private(set) var members: [UInt64: Member] = [:]
    /// Namespaces that could not be entered, reported once; tried again at each full scan.
    private var failed: Set<UInt64> = []
    /// When a runtime's pin was first seen without its container, by inode.
    private var awaitingSince: [UInt64: Instant] = [:]
    /// The next full scan (`/proc` included).
    private var nextRescan: Instant
    /// A quick scan asked for (a hint, or a pin awaiting its container), and when.
    private var lookAt: Instant?
    /// How long to wait before looking again for an awaited container; doubles to a second.
    private var awaitStep = Interval.milliseconds(10)
    /// The inotify watches on the namespace directories, by watch.
    private var directoryWatches: Set<Int32> = []
    /// Which member each sysctl watch belongs to: an event finds its member without a walk
    /// over them all (adopting 1,000 namespaces makes 3,000 events). Filled at adoption, and
    /// by a walk for a watch added later (a contested key's, when its back-off ends); an
    /// entry goes with its watch's IN_IGNORED.
    private var watchOwners: [Int32: UInt64] = [:]
    /// The members' metrics names (``Member/metricsName``), to keep them unique.
    private var metricsNames: Set<String> = []

    /// How long a runtime's pin may wait for its container before it is adopted by what is
    /// known (its `/run/netns` name and member processes).
    static let awaitLimit = Interval.seconds(10)
    /// How far ahead a member's check is brought forward to share a wake-up with others.
    static let batchWindow = Interval.milliseconds(100)
    /// The directories whose entries hint at a new namespace.
    static let pinDirectories = ["/run/netns", "/run/docker/netns"]

    init(setup: Setup, policy: Policy, log: EventLog, inotify: Inotify, book: OriginalsBook?, at now: Instant) {
        self.setup = setup
        self.policy = policy
        self.rules = policy.config.namespaceRules
        self.log = log
        self.inotify = inotify
        self.book = book
        discovery = NamespaceDiscovery(syscalls: setup.syscalls)
        nextRescan = now
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
        var earliest = nextRescan
        if let lookAt, lookAt < earliest { earliest = lookAt }
        for member in members.values where member.enforcer.deadline < earliest { earliest = member.enforcer.deadline }
        return earliest
    }

    /// Something hints at a new namespace: look at once (pins and runtimes only).
    func lookSoon(at now: Instant) {
        guard isActive else { return }
        lookAt = now
    }

    /// Something hints at namespaces with no pin (an `RTM_NEWNSID`): scan `/proc` at once.
    func rescanSoon(at now: Instant) {
        guard isActive else { return }
        nextRescan = now
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
            book?.flush(log: log)   // a reload that released the last members dropped their originals
            return false
        }
        var busy = false
        if isActive, now >= nextRescan || (lookAt.map { now >= $0 } ?? false) {
            let full = now >= nextRescan
            if full {
                nextRescan = now + .seconds(policy.config.rescanIntervalSeconds)
                watchDirectories()
            }
            lookAt = nil
            reconcile(discovery.scan(processes: full), full: full, at: now)
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
        book?.flush(log: log)
        return busy
    }

    /// A reload put `next` in force for the daemon's own namespace: the rules are evaluated
    /// again for every namespace at the next scan, which is now. A member that no rule
    /// selects any more is left as it is, not restored.
    func reconfigure(_ next: Policy, at now: Instant) {
        policy = next
        rules = next.config.namespaceRules
        failed = []
        for (inode, member) in members {
            switch rules.decide(member.identity, daemonProfile: next.profile.name) {
            case .unmanaged(let because):
                drop(inode)
                book?.forget(inode)   // left as it is: never restored
                member.log.record(.namespaceReleased, "namespace \(describe(member.identity)) is no longer managed: \(because); its values are left as they are")
            case .managed(let profile, _):
                guard let target = next.forNamespace(profile: profile) else { continue }
                let report = member.enforcer.adopt(target)
                if report.succeeded {
                    member.log.applied(target, changes: report.changes, reason: "reload")
                } else {
                    for failure in report.failures { member.log.failed(failure, profile: profile, context: .reload, target: .managed) }
                }
            }
        }
        nextRescan = now
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
                member.log.record(.restored, "restore-on-stop: put back \(member.enforcer.originals.compact) in namespace \(describe(member.identity)) (\(restored.count) changed)",
                                  fields: ["PROFILE": member.enforcer.policy.profile.name.rawValue, "EXPECTED": member.enforcer.originals.compact])
            }
        }
        members = [:]
        watchOwners = [:]
        metricsNames = []
        book?.flush(log: log)
    }

    /// Adopts what a scan found and the rules select; updates what is known of members.
    private func reconcile(_ found: NamespaceDiscovery.Found, full: Bool, at now: Instant) {
        var candidates: [Candidate] = []
        for (inode, identity) in found.identities where !identity.isOwn {
            if var member = members[inode] {
                if member.enforcer.probeGone() {
                    // Ended, and its inode already taken by a new namespace: adopt that one.
                    retire(inode, member)
                } else {
                    member.identity = identity
                    members[inode] = member
                    continue
                }
            }
            if failed.contains(inode) && !full { continue }
            if found.awaiting.contains(inode) {
                let since = awaitingSince[inode] ?? now
                awaitingSince[inode] = since
                if now - since < Fleet.awaitLimit {
                    let step = awaitStep
                    awaitStep = Interval(microseconds: min(awaitStep.microseconds * 2, 1_000_000))
                    if lookAt == nil || now + step < lookAt! { lookAt = now + step }
                    continue
                }
            }
            awaitingSince[inode] = nil
            guard case .managed(let profile, let because) = rules.decide(identity, daemonProfile: policy.profile.name),
                  let target = policy.forNamespace(profile: profile), let path = found.entries[inode] else { continue }
            candidates.append(Candidate(identity: identity, path: path, policy: target, because: because))
        }
        adopt(candidates, at: now)
        if awaitingSince.isEmpty { awaitStep = .milliseconds(10) }
        // A member no scan finds any more may have ended: check it now.
        if full { for (inode, member) in members where found.identities[inode] == nil { member.enforcer.hint() } }
        failed = failed.filter { found.identities[$0] != nil }
        awaitingSince = awaitingSince.filter { found.identities[$0.key] != nil }
    }

    /// A namespace a scan found that the rules select.
    private struct Candidate {
        let identity: NamespaceIdentity
        let path: String
        let policy: Policy
        let because: String
    }

    /// Enters the candidates' namespaces (one thread, in turn) and adopts each.
    private func adopt(_ candidates: [Candidate], at now: Instant) {
        guard !candidates.isEmpty else { return }
        let opened = NamespaceEntry.openSysctls(candidates.map { NamespaceEntry.Target(path: $0.path, inode: $0.identity.inode) },
                                                syscalls: setup.syscalls)
        for (candidate, result) in zip(candidates, opened) {
            adopt(candidate.identity, opened: result, policy: candidate.policy, because: candidate.because, at: now)
        }
    }

    /// Puts `target` in force in a namespace entered (keys its container set kept apart),
    /// and starts watching it.
    private func adopt(_ identity: NamespaceIdentity, opened: Result<[Int32], NamespaceEntry.Failure>, policy target: Policy,
                       because: String, at now: Instant) {
        let inode = identity.inode
        let metricsName = uniqueMetricsName(identity)
        let memberLog = log.with(identity.journalFields, netns: metricsName)
        let descriptors: [Int32]
        switch opened {
        case .success(let fds): descriptors = fds
        case .failure(let failure):
            if failure.errno?.code == ENOENT { return }   // ended meanwhile
            if failed.insert(inode).inserted {
                memberLog.record(.namespacesLimited, "cannot manage namespace \(describe(identity)): \(failure); it is tried again at the next full scan")
            }
            return
        }
        let tree = SysctlTree(pinned: descriptors, syscalls: setup.syscalls, lock: setup.applyLock())
        let watch = SysctlWatch(inotify: inotify, tree: tree) { key, error in
            memberLog.record(.checkFailed, "cannot watch \(key.sysctlName) in namespace \(inode) with inotify: \(error); its drift is found by the periodic re-read only",
                             fields: ["SYSCTL": key.sysctlName])
        }
        let kept = rules.keptKeys(identity)
        let originals = book?.recall(inode, tree: tree)
        switch Enforcer.start(target, tree: tree, watch: watch, log: memberLog, netns: inode, originals: originals,
                              kept: Set(kept.keys), reason: nil, at: now) {
        case .failure(let report):
            book?.forget(inode)
            if failed.insert(inode).inserted {
                for failure in report.failures {
                    memberLog.failed(failure, profile: target.profile.name, context: .start, target: .managed)
                }
            }
        case .success(let (enforcer, changes)):
            members[inode] = Member(enforcer: enforcer, identity: identity, log: memberLog, metricsName: metricsName)
            metricsNames.insert(metricsName)
            for descriptor in watch.descriptors { watchOwners[descriptor] = inode }
            let label = identity.label
            let changed = changes.isEmpty ? "no value needed changing"
                : changes.map { "\($0.key.sysctlName) \($0.actual) -> \($0.expected)" }.joined(separator: ", ")
            memberLog.record(.namespaceAdopted, "namespace \(describe(identity)) adopted: profile \(target.profile.name) (\(because)), \(target.values.compact); \(changed)\(kept.isEmpty ? "" : "; kept as the container set them: \(kept.keys.sorted().map { "\($0.sysctlName)=\(kept[$0]!)" }.joined(separator: ", "))")",
                             fields: ["PROFILE": target.profile.name.rawValue, "EXPECTED": target.values.compact,
                                      "KIND": label.kind, "NAME": label.name, "RULE": because, "CHANGES": String(changes.count)])
            for key in kept.keys.sorted() {
                memberLog.record(.explicitValueKept, "\(key.sysctlName) left at \(kept[key]!) in namespace \(describe(identity)): its container set it explicitly (explicit-values = keep)",
                                 fields: ["SYSCTL": key.sysctlName, "ACTUAL": String(kept[key]!), "PROFILE": target.profile.name.rawValue,
                                          "KIND": label.kind, "NAME": label.name])
            }
        }
    }

    /// Drops a member whose namespace ended.
    private func retire(_ inode: UInt64, _ member: Member) {
        drop(inode)
        book?.forget(inode)
        let label = member.identity.label
        member.log.record(.namespaceGone, "namespace \(describe(member.identity)) has ended; its state was dropped",
                          fields: ["KIND": label.kind, "NAME": label.name])
    }

    /// The namespace's name for the metrics, with `@INODE` added when a member already has
    /// that name (two containers of one name under two runtimes), so that no two members'
    /// series share labels.
    private func uniqueMetricsName(_ identity: NamespaceIdentity) -> String {
        let name = identity.metricsLabel
        return metricsNames.contains(name) || name == MetricsSnapshot.host ? "\(name)@\(identity.inode)" : name
    }

    /// Forgets a member. Its watches stay in ``watchOwners`` until their IN_IGNORED comes,
    /// so that a thousand namespaces ending at once cost no walk over the members each.
    private func drop(_ inode: UInt64) {
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

    /// `4026532179 (podman frontend-1)`.
    private func describe(_ identity: NamespaceIdentity) -> String {
        let label = identity.label
        return "\(identity.inode) (\(label.kind) \(label.name))"
    }
}
