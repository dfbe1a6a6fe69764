#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel

/// The cgroup v2 tree by directory inode: what `INET_DIAG_CGROUP_ID` names. Used when the
/// holders of a socket cannot be seen (not root): the socket's cgroup still says its unit.
public enum CgroupTree {
    /// The cgroup v2 mount: `/sys/fs/cgroup` (unified layout), else `/sys/fs/cgroup/unified`
    /// (hybrid layout).
    public static func root(syscalls: Syscalls) -> String {
        if case .success = syscalls.pathStatus("/sys/fs/cgroup/cgroup.controllers") { return "/sys/fs/cgroup" }
        return "/sys/fs/cgroup/unified"
    }

    /// The unit of every cgroup directory under `root` (by default the mount ``root(syscalls:)``
    /// finds), by inode; cgroups without a unit in their path are left out, and so is everything below a delegation point
    /// (``CgroupOwnership``), judged by the owners the walk reads (`systemOwner`: root; tests,
    /// their own UID).
    public static func unitsByID(root: String? = nil, systemOwner: UInt32 = 0, syscalls: Syscalls) -> [UInt64: UnitIdentity] {
        let root = root ?? self.root(syscalls: syscalls)
        guard case .success(let top) = syscalls.linkStatus(root) else { return [:] }
        var statuses = ["/": top]
        var units: [UInt64: UnitIdentity] = [:]
        var pending = [""]
        while let relative = pending.popLast() {
            let path = root + relative
            guard case .success(let entries) = syscalls.readDirectory(path) else { continue }
            for entry in entries where !entry.contains(".") || entry.hasSuffix(".service") || entry.hasSuffix(".scope") || entry.hasSuffix(".slice") {
                let child = relative + "/" + entry
                guard case .success(let status) = syscalls.linkStatus(root + child), status.kind == .directory else { continue }
                statuses[child] = status
                let placement = CgroupUnit.placement(ofPath: child) { statuses[$0].map { CgroupOwnership.isDelegated($0, systemOwner: systemOwner) } }
                if let unit = placement.unit { units[status.inode] = unit }
                pending.append(child)
            }
        }
        return units
    }
}
