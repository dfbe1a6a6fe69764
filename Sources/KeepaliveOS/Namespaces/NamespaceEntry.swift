#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel

/// The only way into another network namespace for writing: open its nsfs file, check it
/// is the namespace expected, enter it on a thread of its own, open the three keepalive
/// files read-write there, and leave. What remains is three descriptors bound to that
/// namespace (``SysctlTree/init(pinned:syscalls:lock:)``); nothing that keeps it alive
/// (an nsfs descriptor or a bind mount) is held past this call. Many namespaces are entered
/// in turn by one thread (``openSysctls(_:syscalls:)``): a thousand at a daemon's start cost
/// one thread, not a thousand.
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

    /// One namespace to enter: the path of its nsfs file (a bind mount or
    /// `/proc/PID/ns/net`) and the inode it must have (a PID may have been reused).
    public struct Target: Sendable {
        public let path: String
        public let inode: UInt64?
        public init(path: String, inode: UInt64?) {
            self.path = path
            self.inode = inode
        }
    }

    /// What entering a namespace leaves: its three keepalive files, open read-write in
    /// ``Tunable/allCases`` order, and its cookie (``NetworkNamespace/cookie(syscalls:)``,
    /// read inside it; 0 if the kernel has none), which tells it from a namespace that had
    /// its inode before.
    public struct Opened: Sendable {
        public let descriptors: [Int32]
        public let cookie: UInt64
        public init(descriptors: [Int32], cookie: UInt64) {
            self.descriptors = descriptors
            self.cookie = cookie
        }
    }

    /// Opens the three keepalive files inside the namespace at `path`.
    public static func openSysctls(at path: String, inode: UInt64?, syscalls: Syscalls) -> Result<[Int32], Failure> {
        openSysctls([Target(path: path, inode: inode)], syscalls: syscalls)[0]
    }

    /// Opens the three keepalive files inside each namespace of `targets`, on one thread
    /// that enters them in turn; one result per target, in order.
    public static func openSysctls(_ targets: [Target], syscalls: Syscalls) -> [Result<[Int32], Failure>] {
        open(targets, syscalls: syscalls).map { $0.map(\.descriptors) }
    }

    /// Enters each namespace of `targets` in turn on one thread, opens its three keepalive
    /// files there and reads its cookie; one result per target, in order.
    public static func open(_ targets: [Target], syscalls: Syscalls) -> [Result<Opened, Failure>] {
        // This namespace's own files, for the bind-mount check below.
        let own = Tunable.allCases.map { key -> UInt64? in
            guard case .success(let status) = syscalls.pathStatus("\(SysctlTree.defaultRoot)/\(key.relativePath)") else { return nil }
            return status.inode
        }
        final class Results: @unchecked Sendable { var values: [Result<Opened, Failure>] = [] }
        let results = Results()
        let entering = OwnThread.start {
            for target in targets { results.values.append(enter(target, own: own, syscalls: syscalls)) }
        }
        switch entering {
        case .success(let thread): thread.join()
        case .failure(let error):
            return targets.map { .failure(Failure(path: $0.path, errno: error, detail: nil)) }
        }
        return results.values
    }

    /// On the entering thread: moves it into `target`, opens the files there and reads the
    /// namespace's cookie.
    private static func enter(_ target: Target, own: [UInt64?], syscalls: Syscalls) -> Result<Opened, Failure> {
        let path = target.path
        let nsfd: Int32
        switch syscalls.open(path, O_RDONLY | O_CLOEXEC) {
        case .success(let fd): nsfd = fd
        case .failure(let error): return .failure(Failure(path: path, errno: error, detail: nil))
        }
        defer { syscalls.close(nsfd) }
        if let inode = target.inode {
            guard case .success(let status) = syscalls.fstat(nsfd), status.inode == inode else {
                return .failure(Failure(path: path, errno: nil, detail: "it is no longer namespace \(inode) (the process or mount was replaced)"))
            }
        }
        if case .failure(let error) = syscalls.enterNetworkNamespace(nsfd) { return .failure(Failure(path: path, errno: error, detail: nil)) }
        var fds: [Int32] = []
        for (index, key) in Tunable.allCases.enumerated() {
            let file = "\(SysctlTree.defaultRoot)/\(key.relativePath)"
            let failure: Failure?
            switch syscalls.open(file, O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC) {
            case .success(let fd):
                fds.append(fd)
                // A bind mount over /proc/sys (the default unit's ReadWritePaths= on the three
                // files) pins the files of the namespace it was made in: opened "inside"
                // another namespace, they would still be this one's. Each namespace's sysctl
                // files are inodes of their own, so this namespace's own file is refused,
                // before anything is written.
                if case .success(let inside) = syscalls.fstat(fd), let mine = own[index], inside.inode != mine {
                    failure = nil
                } else {
                    failure = Failure(path: path, errno: nil, detail:
                        "its \(key.sysctlName) resolves to the daemon's own file (a bind mount over /proc/sys, such as the default unit's ReadWritePaths=, pins it; the namespaces drop-in lifts it), so nothing was written there")
                }
            case .failure(let error):
                failure = Failure(path: path, errno: error, detail: nil)
            }
            if let failure {
                for fd in fds { syscalls.close(fd) }
                return .failure(failure)
            }
        }
        return .success(Opened(descriptors: fds, cookie: NetworkNamespace.cookie(syscalls: syscalls)))
    }
}
