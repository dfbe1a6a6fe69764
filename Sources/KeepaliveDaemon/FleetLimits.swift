import KeepaliveModel
import KeepaliveOS

/// What keeps the fleet from knowing or managing every namespace, said once each: a state
/// file refused (``StateFile/Problem``), and the descriptor limit (``FleetCapacity``).
extension Fleet {
    /// The fleet's capacity under the soft RLIMIT_NOFILE now (raised to the hard limit at
    /// start); read at each scan, so that a limit raised meanwhile (prlimit) counts.
    var capacity: FleetCapacity {
        FleetCapacity(limit: DescriptorLimit.current(syscalls: setup.syscalls) ?? Int(Int32.max))
    }

    /// Which of `candidates` (new namespaces the rules select, each with its claim) win a
    /// seat, in the order to adopt them. Members that make way for a rule's namespace are
    /// released as they are (`namespace-released`); when namespaces first stay unmanaged
    /// for want of descriptors, one warning says how many and why (`namespaces-limited`,
    /// fields `LIMIT`, `CAPACITY`, `UNMANAGED`), until none is left out again.
    func seat(_ candidates: [(inode: UInt64, claim: FleetCapacity.Claim)]) -> [UInt64] {
        let capacity = self.capacity
        let admission = capacity.admit(candidates, members: members.values.map(\.seat))
        let room = "the descriptor limit (RLIMIT_NOFILE) is \(capacity.limit), which leaves room for \(capacity.namespaces) namespaces (3 descriptors each, \(capacity.headroom) kept for the daemon itself)"
        for inode in admission.evicted {
            guard let member = members[inode] else { continue }
            drop(inode)
            book?.forget(inode)
            member.log.namespaceReleased(member.identity, because: "a namespace a rule selects needs its place: \(room), and the newest manage = all fallback makes way")
        }
        let unmanaged = admission.left.count + admission.evicted.count
        if unmanaged > 0 && overLimit == 0 {
            log.record(.namespacesLimited, "\(unmanaged) \(unmanaged == 1 ? "namespace" : "namespaces") that [namespaces] selects \(unmanaged == 1 ? "stays" : "stay") unmanaged: \(room). Rule matches take the place of manage = all fallbacks, and the namespaces managed first keep theirs; raise the unit's LimitNOFILE= (the namespaces drop-in sets 524288) and restart",
                       fields: ["LIMIT": String(capacity.limit), "CAPACITY": String(capacity.namespaces), "UNMANAGED": String(unmanaged)])
        }
        overLimit = unmanaged
        return admission.admitted
    }

    /// Reports each problem a scan met that the scan before did not (`namespaces-limited`,
    /// field `FILE`); one that goes away is forgotten, to be reported again if it comes back.
    func report(_ problems: [StateFile.Problem]) {
        var said = fileProblems
        for problem in problems where said.insert(problem).inserted {
            let consequence = problem.path == discovery.roots.mountinfo
                ? "namespaces pinned by a bind mount are found through their processes alone until it can be read"
                : "the containers it describes are not named, so podman:, docker: and k8s: rules cannot match them, until it is a plain file again"
            log.record(.namespacesLimited, "\(problem); \(consequence)", fields: ["FILE": problem.path])
        }
        fileProblems = Set(problems)
    }
}
