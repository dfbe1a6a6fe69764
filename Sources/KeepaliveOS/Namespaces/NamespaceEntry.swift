#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel

/// The only way into another network namespace for writing: open its nsfs file, check it
/// is the namespace expected, enter it on a thread of its own, open the three keepalive
/// files read-write there, and leave. What remains is three descriptors bound to that
/// namespace (``SysctlTree/init(pinned:syscalls:lock:)``); nothing that keeps it alive
/// (an nsfs descriptor or a bind mount) is held past this call.
public enum NamespaceEntry {
    /// Why a namespace could not be entered.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let path: String
        public let errno: Errno?
        public let detail: String?

        public var description: String {
            let reason = errno.map { error in
                let hint = switch error.code {
                case EPERM: " (entering a network namespace needs CAP_SYS_ADMIN, and RestrictNamespaces= must allow net)"
                case EACCES: " (another user's process: /proc/PID/ns/net needs CAP_SYS_PTRACE)"
                case ENOENT: " (it has gone)"
                default: ""
                }
                return "\(error)\(hint)"
            } ?? detail ?? "unknown error"
            return "cannot enter network namespace \(path): \(reason)"
        }
    }

    /// Opens the three keepalive files inside the namespace at `path` (a bind mount or
    /// `/proc/PID/ns/net`), provided its inode is `inode` (a PID may have been reused).
    public static func openSysctls(at path: String, inode: UInt64?, syscalls: Syscalls = .live) -> Result<[Int32], Failure> {
        let nsfd: Int32
        switch syscalls.open(path, O_RDONLY | O_CLOEXEC) {
        case .success(let fd): nsfd = fd
        case .failure(let error): return .failure(Failure(path: path, errno: error, detail: nil))
        }
        defer { syscalls.close(nsfd) }
        if let inode {
            guard case .success(let status) = syscalls.fstat(nsfd), status.inode == inode else {
                return .failure(Failure(path: path, errno: nil, detail: "it is no longer namespace \(inode) (the process or mount was replaced)"))
            }
        }
        let opened = NetworkNamespace.run(descriptor: nsfd) { () -> Result<[Int32], Failure> in
            var fds: [Int32] = []
            for key in Tunable.allCases {
                let file = "\(SysctlTree.defaultRoot)/\(key.relativePath)"
                switch syscalls.open(file, O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC) {
                case .success(let fd): fds.append(fd)
                case .failure(let error):
                    for fd in fds { syscalls.close(fd) }
                    return .failure(Failure(path: path, errno: error, detail: nil))
                }
            }
            return .success(fds)
        }
        let descriptors: [Int32]
        switch opened {
        case .success(.success(let fds)): descriptors = fds
        case .success(.failure(let failure)): return .failure(failure)
        case .failure(let error): return .failure(Failure(path: path, errno: error, detail: nil))
        }
        // A bind mount over /proc/sys (the default unit's ReadWritePaths= on the three files)
        // pins the files of the namespace it was made in: opened "inside" another namespace,
        // they would still be this one's. Each namespace's sysctl files are inodes of their
        // own, so a file that is this namespace's own is refused, before anything is written.
        for (index, key) in Tunable.allCases.enumerated() {
            guard case .success(let inside) = syscalls.fstat(descriptors[index]),
                  case .success(let own) = syscalls.pathStatus("\(SysctlTree.defaultRoot)/\(key.relativePath)", true),
                  inside.inode != own.inode else {
                for fd in descriptors { syscalls.close(fd) }
                return .failure(Failure(path: path, errno: nil, detail:
                    "its \(key.sysctlName) resolves to this namespace's own file (a bind mount over /proc/sys, such as the default unit's ReadWritePaths=, pins it; the namespaces drop-in lifts it), so nothing was written there"))
            }
        }
        return .success(descriptors)
    }
}
