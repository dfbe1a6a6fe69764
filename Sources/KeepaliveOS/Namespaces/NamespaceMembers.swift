#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel

/// What one full scan of `/proc` read of the network namespaces' member processes: a `stat`
/// of every `/proc/PID/ns/net` (as lsns does) and, for every process in a namespace other
/// than the caller's, its cgroup (``CgroupOwnership``).
///
/// Every member is read, however many a namespace has: an `exclude = unit:critical.service`
/// must hold in a namespace where that unit's process comes after any number of others.
/// What is kept is bounded: one PID to enter by, and at most ``cgroupsPerNamespace`` distinct
/// cgroup paths per namespace. A namespace past that bound, or with a member whose cgroup
/// could not be read, has a ``MemberCoverage/partial(_:)`` coverage, and the rules leave it
/// alone rather than decide on part of its members (``NamespaceRules/decide(_:daemonProfile:)``).
struct NamespaceMembers {
    /// One namespace's members.
    struct Members {
        /// The lowest PID: `/proc/PID/ns/net` enters the namespace.
        var first: Int32
        /// The distinct cgroup paths, first seen first.
        var cgroups: [String] = []
        var seen: Set<String> = []
        var coverage = MemberCoverage.complete
    }

    /// The most distinct cgroup paths kept for one namespace.
    static let cgroupsPerNamespace = 256

    /// By namespace inode.
    var byNamespace: [UInt64: Members] = [:]
    /// What each cgroup path says, ownership included.
    var placements: [String: CgroupPlacement] = [:]
    /// Processes whose namespace could not be read (another user's, without CAP_SYS_PTRACE).
    var hidden = 0

    /// How well this scan knew the namespace `inode`: what its members' reads say, and
    /// partial for every namespace when some process's namespace could not be read at all
    /// (it may be a member of any of them).
    func coverage(of inode: UInt64) -> MemberCoverage {
        if hidden > 0 {
            return .partial("the namespaces of \(hidden) processes could not be read: another user's, without CAP_SYS_PTRACE")
        }
        return byNamespace[inode]?.coverage ?? .complete
    }

    /// Reads every process under `proc` outside the namespace `own`.
    static func scan(proc: String, own: UInt64, ownership: CgroupOwnership, syscalls: Syscalls) -> NamespaceMembers {
        var scanned = NamespaceMembers()
        guard case .success(let names) = syscalls.readDirectory(proc) else { return scanned }
        for name in names {
            guard let first = name.utf8.first, (0x30...0x39).contains(first), let pid = Int32(name) else { continue }
            switch syscalls.pathStatus("\(proc)/\(pid)/ns/net") {
            case .success(let status):
                guard status.inode != own else { continue }
                scanned.add(pid, namespace: status.inode, proc: proc, ownership: ownership, syscalls: syscalls)
            case .failure(let error) where error.code == EACCES || error.code == EPERM:
                scanned.hidden += 1
            case .failure:
                continue   // gone meanwhile
            }
        }
        return scanned
    }

    /// Reads the cgroup of `pid`, a member of `namespace`, into what is known of it.
    private mutating func add(_ pid: Int32, namespace inode: UInt64, proc: String, ownership: CgroupOwnership, syscalls: Syscalls) {
        guard let text = FileReader.smallFile("\(proc)/\(pid)/cgroup", syscalls: syscalls) else {
            // Gone meanwhile, or not readable: then the namespace's members are not all known.
            guard case .success = syscalls.linkStatus("\(proc)/\(pid)") else { return }
            update(inode, pid) { $0.coverage = .partial("the cgroup of PID \(pid) could not be read") }
            return
        }
        guard let path = CgroupUnit.path(text) else {
            update(inode, pid) { $0.coverage = .partial("the cgroup of PID \(pid) could not be read") }
            return
        }
        let placement = placements[path] ?? ownership.placement(of: path)
        placements[path] = placement
        update(inode, pid) { members in
            if let why = placement.unverified, members.coverage == .complete { members.coverage = .partial(why) }
            guard !members.seen.contains(path) else { return }
            guard members.cgroups.count < NamespaceMembers.cgroupsPerNamespace else {
                members.coverage = .partial("its processes are in more than \(NamespaceMembers.cgroupsPerNamespace) cgroups")
                return
            }
            members.seen.insert(path)
            members.cgroups.append(path)
        }
    }

    private mutating func update(_ inode: UInt64, _ pid: Int32, _ change: (inout Members) -> Void) {
        var members = byNamespace[inode] ?? Members(first: pid)
        members.first = min(members.first, pid)
        change(&members)
        byNamespace[inode] = members
    }
}
