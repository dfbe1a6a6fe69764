import KeepaliveModel

/// Whether root alone can add to a cgroup: the delegation points that
/// ``CgroupUnit/placement(ofPath:delegated:)`` stops at, read with `lstat(2)` on the cgroup2
/// mount (``CgroupTree/root(syscalls:)``).
///
/// A cgroup owned by anyone but root, or writable by its group or others, is delegated:
/// whoever may write it can make cgroups of any name below it and move its own processes
/// there. That is how systemd hands `user@UID.service` and a `Delegate=yes` unit's subtree to
/// their users; a cgroup root chowned or chmod-ed by hand counts the same. Each cgroup is
/// looked at once per value: make one per scan.
public final class CgroupOwnership {
    /// The cgroup2 mount the paths are read under.
    public let root: String
    /// The owner whose cgroups are the system's: root (tests: their own UID).
    public let systemOwner: UInt32
    private let syscalls: Syscalls
    private var known: [String: Bool?] = [:]

    /// Reads under `root`, the cgroup2 mount by default.
    public init(root: String? = nil, systemOwner: UInt32 = 0, syscalls: Syscalls) {
        self.root = root ?? CgroupTree.root(syscalls: syscalls)
        self.systemOwner = systemOwner
        self.syscalls = syscalls
    }

    /// Whether a cgroup with this status is delegated: not a directory of the system's
    /// owner, or writable by group or others.
    public static func isDelegated(_ status: FileStatus, systemOwner: UInt32 = 0) -> Bool {
        status.kind != .directory || status.owner != systemOwner || status.mode & 0o022 != 0
    }

    /// Whether someone other than root can add to `cgroup` (`/`, `/system.slice`); `nil` when
    /// its owner could not be read (it is gone, or the tree is not mounted here).
    public func delegated(_ cgroup: String) -> Bool? {
        if let answer = known[cgroup] { return answer }
        let answer: Bool?
        switch syscalls.linkStatus(cgroup == "/" ? root : root + cgroup) {
        case .success(let status): answer = CgroupOwnership.isDelegated(status, systemOwner: systemOwner)
        case .failure: answer = nil
        }
        known.updateValue(answer, forKey: cgroup)
        return answer
    }

    /// What a process's cgroup path says, read with the ownership of the cgroups on its way.
    public func placement(of path: String) -> CgroupPlacement {
        CgroupUnit.placement(ofPath: path, delegated: delegated)
    }
}
