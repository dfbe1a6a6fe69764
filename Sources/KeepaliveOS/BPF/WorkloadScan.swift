import KeepaliveModel

/// The cgroups under the hooks' attach cgroup, as the socket rules see them
/// (``SocketRules/Workload``): each directory's id, its path from the cgroup2 root, what the
/// path says with its owners checked (``CgroupOwnership``: no unit or container is read below
/// a delegation point), and the containers the runtimes' records give its container id.
public struct WorkloadScan {
    /// The cgroup2 mount the paths are read from.
    public let mount: String
    /// The owner whose cgroups are the system's (root; tests: their own UID).
    public let systemOwner: UInt32
    /// Where the container runtimes keep their state.
    public let runtimes: RuntimeDirectory.Roots
    let syscalls: Syscalls

    /// A scan of the cgroups under `mount`, through `syscalls`.
    public init(mount: String, systemOwner: UInt32 = 0, runtimes: RuntimeDirectory.Roots = .init(), syscalls: Syscalls) {
        self.mount = mount
        self.systemOwner = systemOwner
        self.runtimes = runtimes
        self.syscalls = syscalls
    }

    /// The cgroup2 mount `attach` is a directory of: its highest ancestor on the same file
    /// system (`/sys/fs/cgroup` on a host; a test's own mount elsewhere).
    public static func mount(of attach: String, syscalls: Syscalls) -> String {
        guard case .success(let status) = syscalls.linkStatus(attach) else { return attach }
        var top = attach
        while let slash = top.lastIndex(of: "/"), slash != top.startIndex {
            let parent = String(top[..<slash])
            guard case .success(let above) = syscalls.linkStatus(parent), above.device == status.device else { break }
            top = parent
        }
        return top
    }

    /// The prefixes of cgroup2's interface files (`cgroup.procs`, `memory.max`, ...): not
    /// stat'ed, to keep a scan of a host's tree short. A cgroup named so is still a cgroup
    /// systemd would never make (its names end in .slice, .service, .scope).
    static let interfacePrefixes = ["cgroup.", "cpu.", "cpuset.", "io.", "memory.", "pids.", "hugetlb.", "rdma.", "misc."]

    /// Every cgroup at and below `attach` (a directory of the mount), parents first; the
    /// runtimes' files are read only when a rule names containers (`readContainers`).
    public func workloads(under attach: String, readContainers: Bool) -> [SocketRules.Workload] {
        guard attach == mount || attach.hasPrefix(mount + "/") else { return [] }
        let ownership = CgroupOwnership(root: mount, systemOwner: systemOwner, syscalls: syscalls)
        var containers: [String: [ContainerRecord]] = [:]
        if readContainers {
            for entry in RuntimeDirectory(roots: runtimes, syscalls: syscalls).entries() {
                containers[entry.record.id, default: []].append(entry.record)
            }
        }
        var found: [SocketRules.Workload] = []
        var pending = [String(attach.dropFirst(mount.count))]
        while let relative = pending.popLast() {
            guard case .success(let status) = syscalls.linkStatus(mount + relative), status.kind == .directory else { continue }
            let path = relative.isEmpty ? "/" : relative
            let placement = ownership.placement(of: path)
            found.append(SocketRules.Workload(id: CgroupID(status.inode), path: path, placement: placement,
                                              containers: placement.container.flatMap { containers[$0.id] } ?? []))
            guard case .success(let entries) = syscalls.readDirectory(mount + relative) else { continue }
            // cgroup2 interface files have a dot and are not directories; a cgroup's name may
            // have one too (units), so every entry is checked with lstat above.
            for entry in entries where !Self.interfacePrefixes.contains(where: { entry.hasPrefix($0) }) {
                pending.append(relative + "/" + entry)
            }
        }
        return found
    }
}
