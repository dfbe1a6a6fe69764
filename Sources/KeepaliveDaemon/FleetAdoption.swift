#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel
import KeepaliveOS

/// Taking in the namespaces a scan found: each entered (``NamespaceEntry``, one thread in
/// turn), its expected values put in force by an ``Enforcer`` of its own, and its watches
/// armed; and letting one go when it ends.
extension Fleet {
    /// Adopts what a scan found and the rules select; updates what is known of members. A
    /// namespace a quick scan found whose members no full scan has read yet waits for one,
    /// asked for at once, when the rules judge members (`exclude = unit:...`).
    func reconcile(_ found: NamespaceDiscovery.Found, full: Bool, at now: Instant) {
        var candidates: [Candidate] = []
        var unread = false
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
            if schedule.skips(inode, full: full) { continue }
            if found.awaiting.contains(inode) {
                if schedule.awaits(inode, at: now) { continue }
            } else if found.entries[inode]?.hasPrefix(discovery.roots.proc + "/") == true {
                // No pin yet: its name may be on the way (``ScanSchedule/nameGrace``).
                if schedule.awaitsName(inode, at: now) { continue }
            } else {
                schedule.settled(inode)
            }
            let expectation = rules.expectation(for: identity, policy: policy)
            if identity.coverage == .unread && rules.memberSelector != nil { unread = true }
            guard let target = expectation.policy, let path = found.entries[inode] else { continue }
            candidates.append(Candidate(identity: identity, path: path, policy: target, because: expectation.decision.reason,
                                        kept: expectation.kept, claim: rules.claim(of: identity)))
        }
        // At the descriptor limit, only those that win a seat.
        let byInode = Dictionary(uniqueKeysWithValues: candidates.map { ($0.identity.inode, $0) })
        adopt(seat(candidates.map { ($0.identity.inode, $0.claim) }).compactMap { byInode[$0] }, at: now)
        if unread && !full { schedule.rescanHinted(at: now) }
        // A member no scan finds any more may have ended: check it now.
        if full { for (inode, member) in members where found.identities[inode] == nil { member.enforcer.hint() } }
        schedule.scanned { found.identities[$0] != nil }
    }

    /// A namespace a scan found that the rules select.
    private struct Candidate {
        let identity: NamespaceIdentity
        let path: String
        let policy: Policy
        let because: String
        let kept: [Tunable: Int]
        let claim: FleetCapacity.Claim
    }

    /// Enters the candidates' namespaces (one thread, in turn) and adopts each.
    private func adopt(_ candidates: [Candidate], at now: Instant) {
        guard !candidates.isEmpty else { return }
        let opened = enter(candidates.map { NamespaceEntry.Target(path: $0.path, inode: $0.identity.inode) })
        for (candidate, result) in zip(candidates, opened) {
            adopt(candidate, opened: result, at: now)
        }
    }

    /// Puts `target` in force in a namespace entered (keys its container set kept apart),
    /// and starts watching it.
    private func adopt(_ candidate: Candidate, opened: Result<NamespaceEntry.Opened, NamespaceEntry.Failure>, at now: Instant) {
        let (identity, target, because, kept) = (candidate.identity, candidate.policy, candidate.because, candidate.kept)
        let inode = identity.inode
        let metricsName = uniqueMetricsName(identity)
        let memberLog = log.with(identity.journalFields, netns: metricsName)
        let descriptors: [Int32], cookie: UInt64
        switch opened {
        case .success(let entered): (descriptors, cookie) = (entered.descriptors, entered.cookie)
        case .failure(let failure):
            if failure.errno?.code == ENOENT { return }   // ended meanwhile
            if schedule.failed(inode) {
                memberLog.record(.namespacesLimited, "cannot manage namespace \(identity.summary): \(failure); it is tried again at the next full scan")
            }
            return
        }
        let tree = SysctlTree(pinned: descriptors, syscalls: setup.syscalls, lock: setup.applyLock())
        let watch = SysctlWatch(inotify: inotify, tree: tree) { key, error in
            memberLog.record(.checkFailed, "cannot watch \(key.sysctlName) in namespace \(inode) with inotify: \(error); its drift is found by the periodic re-read only",
                             fields: ["SYSCTL": key.sysctlName])
        }
        // Keyed by the cookie too: a record of a namespace that had this inode before is not its.
        let originals = book?.recall(Originals.Key(inode: inode, cookie: cookie), tree: tree)?.values
        switch Enforcer.start(target, tree: tree, watch: watch, log: memberLog, netns: inode, originals: originals,
                              kept: Set(kept.keys), reason: nil, at: now) {
        case .failure(let report):
            book?.forget(inode)
            if schedule.failed(inode) {
                for failure in report.failures {
                    memberLog.failed(failure, profile: target.profile.name, context: .start, target: .managed)
                }
            }
        case .success(let (enforcer, changes)):
            adoptions += 1
            members[inode] = Member(enforcer: enforcer, identity: identity, log: memberLog, metricsName: metricsName,
                                    seat: FleetCapacity.Seat(inode: inode, claim: candidate.claim, order: adoptions))
            metricsNames.insert(metricsName)
            for descriptor in watch.descriptors { watchOwners[descriptor] = inode }
            let label = identity.label
            let changed = changes.isEmpty ? "no value needed changing"
                : changes.map { "\($0.key.sysctlName) \($0.actual) -> \($0.expected)" }.joined(separator: ", ")
            memberLog.record(.namespaceAdopted, "namespace \(identity.summary) adopted: profile \(target.profile.name) (\(because)), \(target.values.compact); \(changed)\(kept.isEmpty ? "" : "; kept as the container set them: \(kept.keys.sorted().map { "\($0.sysctlName)=\(kept[$0]!)" }.joined(separator: ", "))")",
                             fields: ["PROFILE": target.profile.name.rawValue, "EXPECTED": target.values.compact,
                                      "KIND": label.kind, "NAME": label.name, "RULE": because, "CHANGES": String(changes.count)])
            for key in kept.keys.sorted() {
                memberLog.record(.explicitValueKept, "\(key.sysctlName) left at \(kept[key]!) in namespace \(identity.summary): its container set it explicitly (explicit-values = keep)",
                                 fields: ["SYSCTL": key.sysctlName, "ACTUAL": String(kept[key]!), "PROFILE": target.profile.name.rawValue,
                                          "KIND": label.kind, "NAME": label.name])
            }
        }
    }

    /// Drops a member whose namespace ended.
    func retire(_ inode: UInt64, _ member: Member) {
        drop(inode)
        book?.forget(inode)
        member.log.namespaceGone(member.identity)
    }
}
