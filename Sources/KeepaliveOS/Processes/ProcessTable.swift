import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// Who holds which socket: every process's descriptors (`/proc/PID/fd/N` → `socket:[INODE]`,
/// as `ss -p` walks them), with each process's command and cgroup.
///
/// One inode can be held by several processes (after fork, or passed over a unix socket).
/// A process whose descriptors cannot be listed (another user's, without CAP_DAC_READ_SEARCH
/// and CAP_SYS_PTRACE) is counted, not guessed at.
public struct ProcessTable: Sendable {
    /// One process.
    public struct Process: Sendable, Hashable {
        public let pid: Int32
        /// Its command name (`/proc/PID/comm`).
        public let command: String
        /// Its cgroup path, and the systemd unit in it.
        public let cgroup: String?
        public let unit: String?
    }

    /// The processes holding each socket inode.
    public let holders: [UInt64: [Int32]]
    /// Every process seen, by pid.
    public let processes: [Int32: Process]
    /// How many processes' descriptors could not be listed (permission).
    public let hidden: Int

    /// Scans `procRoot` (normally `/proc`, of the PID namespace it is mounted for).
    public static func scan(procRoot: String = "/proc", syscalls: Syscalls = .live) -> ProcessTable {
        var holders: [UInt64: [Int32]] = [:]
        var processes: [Int32: Process] = [:]
        var hidden = 0
        guard case .success(let entries) = syscalls.readDirectory(procRoot) else {
            return ProcessTable(holders: [:], processes: [:], hidden: 0)
        }
        for entry in entries {
            guard let pid = Int32(entry) else { continue }
            let base = "\(procRoot)/\(entry)"
            guard let comm = FileReader.smallFile("\(base)/comm", syscalls: syscalls) else { continue }   // gone meanwhile
            let cgroup = FileReader.smallFile("\(base)/cgroup", syscalls: syscalls).flatMap(CgroupUnit.path)
            processes[pid] = Process(pid: pid, command: comm.split(separator: "\n").first.map(String.init) ?? "",
                                     cgroup: cgroup, unit: cgroup.flatMap(CgroupUnit.unit(ofPath:)))
            switch syscalls.readDirectory("\(base)/fd") {
            case .failure(let error) where error.code == EACCES || error.code == EPERM:
                hidden += 1
            case .failure:
                continue
            case .success(let descriptors):
                for descriptor in descriptors {
                    guard case .success(let target) = syscalls.readLink("\(base)/fd/\(descriptor)"),
                          let inode = socketInode(target) else { continue }
                    if holders[inode]?.contains(pid) != true { holders[inode, default: []].append(pid) }
                }
            }
        }
        return ProcessTable(holders: holders, processes: processes, hidden: hidden)
    }

    /// The inode in a `socket:[12345]` link target.
    static func socketInode(_ target: String) -> UInt64? {
        guard target.hasPrefix("socket:["), target.hasSuffix("]") else { return nil }
        return UInt64(target.dropFirst(8).dropLast())
    }
}
