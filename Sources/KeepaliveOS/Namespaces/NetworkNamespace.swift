#if canImport(Glibc)
import Glibc
#endif

/// Another network namespace, entered by one thread of this process: a netlink socket and
/// `/proc/sys/net` belong to the namespace of the thread that opens them, so a thread that
/// `setns(2)`s there sees the target's sockets and sysctls while the rest of the process
/// stays where it is.
public enum NetworkNamespace {
    /// Why a namespace could not be entered.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let target: String
        public let path: String
        public let errno: Errno

        /// `target` (as the user named it) could not be entered by `path`.
        public init(target: String, path: String, errno: Errno) {
            self.target = target
            self.path = path
            self.errno = errno
        }

        public var description: String {
            let hint = errno.code == EPERM ? " (entering a network namespace needs CAP_SYS_ADMIN)" : ""
            return "cannot enter network namespace \(target) (\(path)): \(errno)\(hint)"
        }
    }

    /// The namespace file a user's `--netns` names: a PID (`/proc/PID/ns/net`), a path, or a
    /// name under `/run/netns` (as `ip netns` makes them).
    public static func path(for target: String) -> String {
        if !target.isEmpty, target.allSatisfy(\.isNumber) { return "/proc/\(target)/ns/net" }
        if target.contains("/") { return target }
        return "/run/netns/\(target)"
    }

    /// The namespace of the calling thread (the inode of `/proc/thread-self/ns/net`).
    public static func current(syscalls: Syscalls) -> UInt64? {
        guard case .success(let link) = syscalls.readLink("/proc/thread-self/ns/net") else { return nil }
        return ProcessTable.bracketedInode(link, kind: "net")
    }

    /// `SO_NETNS_COOKIE`, in case the C library does not name it.
    static let cookieOption: Int32 = 71

    /// The cookie of the calling thread's network namespace: `SO_NETNS_COOKIE` (kernel 5.14+)
    /// of an AF_UNIX socket made for the purpose and closed. The kernel gives every namespace
    /// of a boot a cookie of its own and never reuses one, unlike the nsfs inode, which a new
    /// namespace gets as soon as the old one has ended. 0 if it cannot be read (an older kernel).
    public static func cookie(syscalls: Syscalls) -> UInt64 {
        guard case .success(let fd) = syscalls.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0) else { return 0 }
        defer { syscalls.close(fd) }
        guard case .success(let cookie) = syscalls.socketOption64(fd, SOL_SOCKET, cookieOption) else { return 0 }
        return cookie
    }

    /// Runs `body` on a new thread that has entered the namespace `target` names, and
    /// returns its result; the calling thread waits and never moves.
    public static func run<T>(in target: String, syscalls: Syscalls, _ body: @escaping () -> T) -> Result<T, Failure> {
        let path = path(for: target)
        let fd: Int32
        switch syscalls.open(path, O_RDONLY) {
        case .success(let opened): fd = opened
        case .failure(let error): return .failure(Failure(target: target, path: path, errno: error))
        }
        defer { syscalls.close(fd) }
        return run(descriptor: fd, syscalls: syscalls, body).mapError { Failure(target: target, path: path, errno: $0) }
    }

    /// Runs `body` on a new thread that has entered the namespace of the open nsfs
    /// descriptor `fd`; the caller keeps (and closes) `fd`.
    public static func run<T>(descriptor fd: Int32, syscalls: Syscalls, _ body: @escaping () -> T) -> Result<T, Errno> {
        let box = ResultBox<T>()
        let job = Job(fd: fd, syscalls: syscalls) { box.value = body() }
        if let error = job.runOnOwnThread() { return .failure(error) }
        return .success(box.value!)
    }

    /// Where the thread leaves its result; read after the join.
    private final class ResultBox<T>: @unchecked Sendable {
        var value: T?
    }

    /// The thread's work and its outcome; written by the thread, read after the join.
    private final class Job: @unchecked Sendable {
        let fd: Int32
        let syscalls: Syscalls
        let body: () -> Void
        var failure: Errno?

        /// The work `body`, to run once the thread has entered the namespace of `fd`.
        init(fd: Int32, syscalls: Syscalls, body: @escaping () -> Void) {
            self.fd = fd
            self.syscalls = syscalls
            self.body = body
        }

        /// Runs on a new thread, waits for it; the error of pthread_create or setns, if any.
        func runOnOwnThread() -> Errno? {
            switch OwnThread.start({ [self] in
                switch syscalls.enterNetworkNamespace(fd) {
                case .success: body()
                case .failure(let error): failure = error
                }
            }) {
            case .success(let thread): thread.join()
            case .failure(let error): return error
            }
            return failure
        }
    }
}
