import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// Who holds which socket: every process's descriptors (`/proc/PID/fd/N` → `socket:[INODE]`,
/// as `ss -p` walks them), with each process's command, unit and network namespace.
///
/// One inode can be held by several processes (after fork, or passed over a unix socket).
/// A process whose descriptors cannot be listed (another user's, without CAP_DAC_READ_SEARCH
/// and CAP_SYS_PTRACE) is counted, not guessed at.
///
/// The kernel spends about 10 µs on each `readlink` of a socket descriptor (a ptrace access
/// check and the link text), so at 100,000 sockets the scan is the audit's cost: the
/// processes are split among one thread per CPU (up to 8).
public struct ProcessTable: Sendable {
    /// The descriptors that refer to each socket inode.
    public internal(set) var holders: [UInt64: [SocketHolder]]
    /// Every process seen, by pid.
    public internal(set) var processes: [Int32: HolderProcess]
    /// Each process's network namespace (the inode of `/proc/PID/ns/net`), where readable.
    public internal(set) var namespaces: [Int32: UInt64]
    /// How many processes' descriptors could not be listed (permission).
    public internal(set) var hidden: Int
    /// Each process's cgroup path, until ``withUnits(_:)`` has read what they say.
    var cgroups: [Int32: String] = [:]

    static let empty = ProcessTable(holders: [:], processes: [:], namespaces: [:], hidden: 0)

    /// Scans `procRoot` (normally `/proc`, of the PID namespace it is mounted for); each
    /// process's unit is read with the ownership of the cgroups on its way (``CgroupOwnership``).
    public static func scan(procRoot: String = "/proc", syscalls: Syscalls, threads: Int = defaultThreads,
                            ownership: CgroupOwnership? = nil) -> ProcessTable {
        let ownership = ownership ?? CgroupOwnership(syscalls: syscalls)
        guard case .success(let entries) = syscalls.readDirectory(procRoot) else { return .empty }
        let pids = entries.compactMap { Int32($0) }
        let count = max(1, min(threads, pids.count / 64 + 1))
        if count == 1 { return scan(pids, procRoot: procRoot, syscalls: syscalls).withUnits(ownership) }
        final class Part: @unchecked Sendable { var table = ProcessTable.empty }
        let parts = (0..<count).map { _ in Part() }
        var running: [OwnThread] = []
        for (index, part) in parts.enumerated() {
            let share = stride(from: index, to: pids.count, by: count).map { pids[$0] }
            switch OwnThread.start({ part.table = scan(share, procRoot: procRoot, syscalls: syscalls) }) {
            case .success(let thread): running.append(thread)
            case .failure: part.table = scan(share, procRoot: procRoot, syscalls: syscalls)
            }
        }
        running.forEach { $0.join() }
        // Merge into the largest share: the fewest dictionary insertions.
        let largest = parts.indices.max { parts[$0].table.holders.count < parts[$1].table.holders.count }!
        var table = parts[largest].table
        for index in parts.indices where index != largest { table.merge(parts[index].table) }
        return table.withUnits(ownership)
    }

    /// The table with each process's unit read from its cgroup path, once per distinct path.
    func withUnits(_ ownership: CgroupOwnership) -> ProcessTable {
        var table = self
        var units: [String: UnitIdentity?] = [:]
        for (pid, path) in cgroups {
            guard let process = processes[pid] else { continue }
            let unit = units[path] ?? {
                let unit = ownership.placement(of: path).unit
                units.updateValue(unit, forKey: path)
                return unit
            }()
            table.processes[pid] = HolderProcess(pid: pid, command: process.command, unit: unit, startTime: process.startTime)
        }
        table.cgroups = [:]
        return table
    }

    /// One CPU's share, by default: every CPU online, up to 8.
    public static var defaultThreads: Int { max(1, min(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 8)) }

    /// The processes in `pids`, on the calling thread.
    static func scan(_ pids: [Int32], procRoot: String, syscalls: Syscalls) -> ProcessTable {
        var table = ProcessTable.empty
        for pid in pids {
            let base = "\(procRoot)/\(pid)"
            let started = startTime(base, syscalls: syscalls)   // first: the descriptors listed below are this process's or a later one's
            guard let comm = FileReader.smallFile("\(base)/comm", syscalls: syscalls) else { continue }   // gone meanwhile
            table.cgroups[pid] = FileReader.smallFile("\(base)/cgroup", syscalls: syscalls).flatMap(CgroupUnit.path)
            table.processes[pid] = HolderProcess(pid: pid, command: comm.split(separator: "\n").first.map(String.init) ?? "", unit: nil,
                                                 startTime: started)
            if case .success(let link) = syscalls.readLink("\(base)/ns/net"), let inode = bracketedInode(link, kind: "net") {
                table.namespaces[pid] = inode
            }
            switch socketDescriptors(in: "\(base)/fd", syscalls: syscalls) {
            case .failure(let error) where error.code == EACCES || error.code == EPERM:
                table.hidden += 1
            case .failure:
                continue
            case .success(let descriptors):
                for descriptor in descriptors {
                    table.holders[descriptor.inode, default: []].append(SocketHolder(pid: pid, fd: descriptor.fd))
                }
            }
        }
        return table
    }

    /// The socket descriptors in a `/proc/PID/fd` directory: each entry's link, read with
    /// `readlinkat(2)` through one directory descriptor into one small buffer, parsed as
    /// `socket:[INODE]`; other descriptors are left out. The audit reads 100,000 of them.
    static func socketDescriptors(in directory: String, syscalls: Syscalls) -> Result<[(fd: Int32, inode: UInt64)], Errno> {
        let descriptor: Int32
        switch syscalls.open(directory, O_RDONLY | O_DIRECTORY) {
        case .success(let opened): descriptor = opened
        case .failure(let error): return .failure(error)
        }
        defer { syscalls.close(descriptor) }
        let names: [String]
        switch syscalls.readDirectory(directory) {
        case .success(let listed): names = listed
        case .failure(let error): return .failure(error)
        }
        return withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { link in
            var found: [(fd: Int32, inode: UInt64)] = []
            for name in names {
                guard let fd = descriptorNumber(name),
                      case .success(let count) = syscalls.readLinkAt(descriptor, name, link),
                      let inode = socketInode(UnsafeRawBufferPointer(rebasing: link[..<min(count, link.count)])) else { continue }
                found.append((fd, inode))
            }
            return .success(found)
        }
    }

    /// The descriptor an entry of `/proc/PID/fd` names: digits only.
    static func descriptorNumber(_ name: String) -> Int32? {
        guard !name.isEmpty, name.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int32(name)
    }

    /// The inode in a descriptor's link text, `socket:[INODE]`; `nil` for anything else
    /// (a file, a pipe, an anonymous inode, or a link cut short by the buffer).
    static func socketInode(_ link: UnsafeRawBufferPointer) -> UInt64? {
        let prefix: [UInt8] = Array("socket:[".utf8)
        guard link.count > prefix.count + 1, link.starts(with: prefix), link[link.count - 1] == 0x5D else { return nil }
        var inode: UInt64 = 0
        for byte in link[prefix.count..<(link.count - 1)] {
            guard (0x30...0x39).contains(byte) else { return nil }
            inode = inode &* 10 &+ UInt64(byte - 0x30)
        }
        return inode
    }

    /// Adds another share's processes (disjoint pids) to this table.
    mutating func merge(_ other: ProcessTable) {
        for (inode, held) in other.holders { holders[inode, default: []] += held }
        processes.merge(other.processes) { mine, _ in mine }
        namespaces.merge(other.namespaces) { mine, _ in mine }
        cgroups.merge(other.cgroups) { mine, _ in mine }
        hidden += other.hidden
    }

    /// The start time of the process at `base` (`/proc/PID`): field 22 of its `stat`, in
    /// clock ticks since boot; `nil` if it is gone.
    static func startTime(_ base: String, syscalls: Syscalls) -> UInt64? {
        guard let stat = FileReader.smallFile("\(base)/stat", syscalls: syscalls), let end = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: end)...].split(separator: " ")   // from field 3, the state
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    /// The inode in a `socket:[12345]` or `net:[4026531840]` link target.
    static func bracketedInode(_ target: String, kind: String) -> UInt64? {
        guard target.hasPrefix(kind + ":["), target.hasSuffix("]") else { return nil }
        return UInt64(target.dropFirst(kind.count + 2).dropLast())
    }
}
