#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel

/// Finds the host's network namespaces and what each one is, as ``NamespaceIdentity``s.
///
/// Three sources, cheapest first:
/// - the nsfs bind mounts in `/proc/self/mountinfo` (`/run/netns/NAME`, docker's and CRI-O's
///   pins): names, and a path to enter them by that needs no ptrace right;
/// - the runtimes' files (``RuntimeDirectory``): container names, pods, explicit values;
/// - with `processes`, a `stat` of every `/proc/PID/ns/net` (as lsns does): namespaces with
///   no pin (nspawn, `unshare -n`, `PrivateNetwork=yes`), and the cgroup paths of up to four
///   member processes each (units, machines, container ids). The result is kept, so a quick
///   scan (pins and runtimes only) still knows the processes the last full one saw.
public final class NamespaceDiscovery {
    /// What a scan found.
    public struct Found: Sendable {
        /// Every namespace, the daemon's own included (``NamespaceIdentity/isOwn``).
        public var identities: [UInt64: NamespaceIdentity] = [:]
        /// A path to enter each by: its pin, or `/proc/PID/ns/net` of a member.
        public var entries: [UInt64: String] = [:]
        /// Namespaces a runtime pinned whose container is not yet in its files (the
        /// runtime writes the bundle after the pin): worth a second look before adopting.
        public var awaiting: Set<UInt64> = []
        /// Processes whose namespace could not be read (another user's, without
        /// CAP_SYS_PTRACE), in the last full scan.
        public var hiddenProcesses = 0
        /// The mount table and runtime files that were refused or not read whole (a FIFO
        /// there, a file too large), for the daemon to report.
        public var problems: [StateFile.Problem] = []
    }

    /// Where to look; tests point these into a temp dir and a private `/proc`.
    public struct Roots: Sendable {
        public var proc = "/proc"
        public var mountinfo = "/proc/self/mountinfo"
        /// Where a pin's path is looked up (tests: a temp dir standing for `/`).
        public var pinRoot = ""
        public var runtimes = RuntimeDirectory.Roots()
        public init() {}
    }

    /// The most member processes whose cgroups are read for each namespace.
    static let membersRead = 4

    public let roots: Roots
    let syscalls: Syscalls
    /// The namespace of the calling process (its main thread).
    public let ownInode: UInt64
    /// From the last full scan: up to ``membersRead`` member PIDs by namespace, and their
    /// cgroup paths.
    private var members: [UInt64: [Int32]] = [:]
    private var cgroups: [Int32: String] = [:]
    private var hidden = 0

    public init(roots: Roots = Roots(), syscalls: Syscalls = .live) {
        self.roots = roots
        self.syscalls = syscalls
        if case .success(let status) = syscalls.pathStatus("\(roots.proc)/self/ns/net", true) {
            ownInode = status.inode
        } else {
            ownInode = 0
        }
    }

    /// Scans: pins and runtimes always, every process with `processes`.
    public func scan(processes: Bool) -> Found {
        if processes { scanProcesses() }
        var found = Found()
        found.hiddenProcesses = hidden
        func identity(_ inode: UInt64) -> NamespaceIdentity {
            found.identities[inode] ?? {
                var fresh = NamespaceIdentity(inode: inode)
                fresh.isOwn = inode == ownInode
                return fresh
            }()
        }
        var pinned: [String: UInt64] = [:]
        // A pin counts only where its path leads to it now: mountinfo also lists mounts that
        // another mount hides (a tmpfs over /run), whose namespaces this process cannot reach
        // by that path and must not take for its own to manage.
        // Line by line, however many mounts there are.
        var mounted: [MountTable.Pin] = []
        let mountinfo = StateFile.lines(roots.mountinfo, syscalls: syscalls) { line in
            if let pin = MountTable.networkPin(line) { mounted.append(pin) }
        }
        if let problem = mountinfo.problem ?? mountinfo.value ?? nil { found.problems.append(problem) }
        let pins = mounted.filter { pin in
            guard case .success(let status) = syscalls.pathStatus(roots.pinRoot + pin.path, true) else { return false }
            return status.inode == pin.inode
        }
        for pin in pins {
            var entry = identity(pin.inode)
            if let name = MountTable.netnsName(pin.path), !entry.netnsNames.contains(name) { entry.netnsNames.append(name) }
            found.identities[pin.inode] = entry
            pinned[pin.path] = pin.inode
            if found.entries[pin.inode] == nil || MountTable.netnsName(pin.path) != nil { found.entries[pin.inode] = pin.path }
        }
        for (inode, pids) in members {
            var entry = identity(inode)
            entry.memberPID = pids.first
            for pid in pids { if let path = cgroups[pid] { entry.add(cgroup: path) } }
            found.identities[inode] = entry
            if found.entries[inode] == nil, let pid = pids.first { found.entries[inode] = "\(roots.proc)/\(pid)/ns/net" }
        }
        // The container ids member processes' cgroups carry, to namespaces.
        var byContainer: [String: UInt64] = [:]
        for identity in found.identities.values {
            for path in identity.cgroups { if let id = CgroupUnit.container(ofPath: path)?.id { byContainer[id] = identity.inode } }
        }
        let runtimes = RuntimeDirectory(roots: roots.runtimes, syscalls: syscalls).read()
        found.problems += runtimes.problems
        for runtimeEntry in runtimes.entries {
            let inode = runtimeEntry.networkPath.flatMap { pinned[$0] } ?? byContainer[runtimeEntry.record.id]
            guard let inode, var entry = found.identities[inode], !entry.isOwn else { continue }
            if !entry.containers.contains(runtimeEntry.record) { entry.containers.append(runtimeEntry.record) }
            if let pod = runtimeEntry.record.pod { entry.pod = pod }
            found.identities[inode] = entry
        }
        if found.identities[ownInode] == nil { found.identities[ownInode] = identity(ownInode) }
        for pin in pins where MountTable.isRuntimePin(pin.path) && found.identities[pin.inode]?.containers.isEmpty == true {
            found.awaiting.insert(pin.inode)
        }
        return found
    }

    /// Stats every `/proc/PID/ns/net`, keeping up to ``membersRead`` PIDs of each namespace
    /// other than the caller's, and reads those processes' cgroup paths.
    private func scanProcesses() {
        guard case .success(let names) = syscalls.readDirectory(roots.proc) else { return }
        var found: [UInt64: [Int32]] = [:]
        var unreadable = 0
        for name in names {
            guard let first = name.utf8.first, (0x30...0x39).contains(first), let pid = Int32(name) else { continue }
            switch syscalls.pathStatus("\(roots.proc)/\(pid)/ns/net", true) {
            case .success(let status):
                guard status.inode != ownInode else { continue }
                if found[status.inode, default: []].count < NamespaceDiscovery.membersRead { found[status.inode, default: []].append(pid) }
            case .failure(let error) where error.code == EACCES || error.code == EPERM:
                unreadable += 1
            case .failure:
                continue   // gone meanwhile
            }
        }
        var paths: [Int32: String] = [:]
        for pid in found.values.joined() {
            if let path = FileReader.smallFile("\(roots.proc)/\(pid)/cgroup", syscalls: syscalls).flatMap(CgroupUnit.path) { paths[pid] = path }
        }
        members = found
        cgroups = paths
        hidden = unreadable
    }
}
