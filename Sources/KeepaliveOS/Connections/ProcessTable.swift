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
public struct ProcessTable: Sendable {
    /// The descriptors that refer to each socket inode.
    public let holders: [UInt64: [SocketHolder]]
    /// Every process seen, by pid.
    public let processes: [Int32: HolderProcess]
    /// Each process's network namespace (the inode of `/proc/PID/ns/net`), where readable.
    public let namespaces: [Int32: UInt64]
    /// How many processes' descriptors could not be listed (permission).
    public let hidden: Int

    /// Scans `procRoot` (normally `/proc`, of the PID namespace it is mounted for).
    public static func scan(procRoot: String = "/proc", syscalls: Syscalls = .live) -> ProcessTable {
        var holders: [UInt64: [SocketHolder]] = [:]
        var processes: [Int32: HolderProcess] = [:]
        var namespaces: [Int32: UInt64] = [:]
        var hidden = 0
        guard case .success(let entries) = syscalls.readDirectory(procRoot) else {
            return ProcessTable(holders: [:], processes: [:], namespaces: [:], hidden: 0)
        }
        for entry in entries {
            guard let pid = Int32(entry) else { continue }
            let base = "\(procRoot)/\(entry)"
            guard let comm = FileReader.smallFile("\(base)/comm", syscalls: syscalls) else { continue }   // gone meanwhile
            let cgroup = FileReader.smallFile("\(base)/cgroup", syscalls: syscalls).flatMap(CgroupUnit.path)
            processes[pid] = HolderProcess(pid: pid, command: comm.split(separator: "\n").first.map(String.init) ?? "",
                                           unit: cgroup.flatMap(CgroupUnit.unit(ofPath:)))
            if case .success(let link) = syscalls.readLink("\(base)/ns/net"), let inode = bracketedInode(link, kind: "net") {
                namespaces[pid] = inode
            }
            switch syscalls.socketDescriptors("\(base)/fd") {
            case .failure(let error) where error.code == EACCES || error.code == EPERM:
                hidden += 1
            case .failure:
                continue
            case .success(let descriptors):
                for descriptor in descriptors {
                    holders[descriptor.inode, default: []].append(SocketHolder(pid: pid, fd: descriptor.fd))
                }
            }
        }
        return ProcessTable(holders: holders, processes: processes, namespaces: namespaces, hidden: hidden)
    }

    /// The inode in a `socket:[12345]` or `net:[4026531840]` link target.
    static func bracketedInode(_ target: String, kind: String) -> UInt64? {
        guard target.hasPrefix(kind + ":["), target.hasSuffix("]") else { return nil }
        return UInt64(target.dropFirst(kind.count + 2).dropLast())
    }
}
