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
///   no pin (nspawn, `unshare -n`, `PrivateNetwork=yes`), and the cgroups of all their member
///   processes (units, machines, container ids; ``NamespaceMembers``). The result is kept, so
///   a quick scan (pins and runtimes only) still knows the processes the last full one saw;
///   a namespace it had not seen is ``MemberCoverage/unread``.
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
        /// The cgroup2 mount whose owners say where root's names end (``CgroupOwnership``);
        /// `nil`: ``CgroupTree/root(syscalls:)``.
        public var cgroup: String?
        /// The owner of the system's cgroups: root (tests: their own UID).
        public var cgroupOwner: UInt32 = 0
        public init() {}
    }

    public let roots: Roots
    let syscalls: Syscalls
    /// The namespace of the calling process (its main thread).
    public let ownInode: UInt64
    /// What the last full scan read of the member processes.
    private var members = NamespaceMembers()
    /// How well the last full scan knew each namespace it found, pins included.
    private var coverage: [UInt64: MemberCoverage] = [:]

    /// A discovery under `roots`, making its calls through `syscalls`.
    public init(roots: Roots = Roots(), syscalls: Syscalls) {
        self.roots = roots
        self.syscalls = syscalls
        if case .success(let status) = syscalls.pathStatus("\(roots.proc)/self/ns/net") {
            ownInode = status.inode
        } else {
            ownInode = 0
        }
    }

    /// Scans: pins and runtimes always, every process with `processes`.
    public func scan(processes: Bool) -> Found {
        if processes {
            let ownership = CgroupOwnership(root: roots.cgroup, systemOwner: roots.cgroupOwner, syscalls: syscalls)
            members = NamespaceMembers.scan(proc: roots.proc, own: ownInode, ownership: ownership, syscalls: syscalls)
        }
        var found = Found()
        found.hiddenProcesses = members.hidden
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
            guard case .success(let status) = syscalls.pathStatus(roots.pinRoot + pin.path) else { return false }
            return status.inode == pin.inode
        }
        for pin in pins {
            var entry = identity(pin.inode)
            if let name = MountTable.netnsName(pin.path), !entry.netnsNames.contains(name) { entry.netnsNames.append(name) }
            found.identities[pin.inode] = entry
            pinned[pin.path] = pin.inode
            if found.entries[pin.inode] == nil || MountTable.netnsName(pin.path) != nil { found.entries[pin.inode] = pin.path }
        }
        for (inode, read) in members.byNamespace {
            var entry = identity(inode)
            entry.memberPID = read.first
            for path in read.cgroups { entry.add(cgroup: path, placement: members.placements[path]) }
            found.identities[inode] = entry
            if found.entries[inode] == nil { found.entries[inode] = "\(roots.proc)/\(read.first)/ns/net" }
        }
        // The container ids member processes' cgroups carry, to namespaces.
        var byContainer: [String: UInt64] = [:]
        for identity in found.identities.values {
            for path in identity.cgroups { if let id = members.placements[path]?.container?.id { byContainer[id] = identity.inode } }
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
        if processes { coverage = found.identities.mapValues { members.coverage(of: $0.inode) } }
        for inode in found.identities.keys { found.identities[inode]?.coverage = coverage[inode] ?? .unread }
        return found
    }
}
