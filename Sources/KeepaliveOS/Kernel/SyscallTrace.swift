import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The system calls made through a recording seam, in order (see
/// ``Syscalls/recording(into:)``). For tests: "an unchanged check makes exactly three
/// `pread`s" is a statement about this list.
public final class SyscallTrace: Sendable {
    /// One call: its name (`pread`, `open`, `poll`, ...) and what it was made on.
    public struct Call: Sendable, Hashable, CustomStringConvertible {
        public let name: String
        /// The descriptor, path or size the call was made with, as text.
        public let subject: String
        public var description: String { "\(name)(\(subject))" }
    }

    private let recorded = Mutex<[Call]>([])

    public init() {}

    /// Every call so far.
    public var calls: [Call] { recorded.withLock { $0 } }

    /// The names of the calls so far, in order.
    public var names: [String] { calls.map(\.name) }

    /// Forgets the calls so far (to trace one step).
    public func clear() { recorded.withLock { $0.removeAll() } }

    func record(_ name: String, _ subject: String) {
        recorded.withLock { $0.append(Call(name: name, subject: subject)) }
    }
}

extension Syscalls {
    /// This seam, with every call also recorded in `trace`.
    public func recording(into trace: SyscallTrace) -> Syscalls {
        let base = self
        var seam = self
        seam.open = { path, flags in trace.record("open", path); return base.open(path, flags) }
        seam.pread = { fd, buffer, offset in trace.record("pread", "\(fd)"); return base.pread(fd, buffer, offset) }
        seam.pwrite = { fd, bytes, offset in trace.record("pwrite", "\(fd)"); return base.pwrite(fd, bytes, offset) }
        seam.read = { fd, buffer in trace.record("read", "\(fd)"); return base.read(fd, buffer) }
        seam.ftruncate = { fd, length in trace.record("ftruncate", "\(fd)"); return base.ftruncate(fd, length) }
        seam.fstat = { fd in trace.record("fstat", "\(fd)"); return base.fstat(fd) }
        seam.close = { fd in trace.record("close", "\(fd)"); base.close(fd) }
        seam.readDirectory = { path in trace.record("readdir", path); return base.readDirectory(path) }
        seam.pathStatus = { path, follow in trace.record(follow ? "stat" : "lstat", path); return base.pathStatus(path, follow) }
        seam.realPath = { path in trace.record("realpath", path); return base.realPath(path) }
        seam.readLink = { path in trace.record("readlink", path); return base.readLink(path) }
        seam.poll = { entries, count, timeout in trace.record("poll", "\(timeout)"); return base.poll(entries, count, timeout) }
        seam.inotifyInit = { trace.record("inotify_init1", ""); return base.inotifyInit() }
        seam.inotifyAddWatch = { fd, path, mask in trace.record("inotify_add_watch", path); return base.inotifyAddWatch(fd, path, mask) }
        seam.inotifyRemoveWatch = { fd, watch in trace.record("inotify_rm_watch", "\(watch)"); base.inotifyRemoveWatch(fd, watch) }
        seam.signalFD = { trace.record("signalfd", ""); return base.signalFD() }
        seam.readSignal = { fd in trace.record("read", "\(fd)"); return base.readSignal(fd) }
        seam.adviseDontNeed = { address, length in trace.record("madvise", "\(length)"); return base.adviseDontNeed(address, length) }
        seam.makeDirectory = { path, mode in trace.record("mkdir", path); return base.makeDirectory(path, mode) }
        seam.lockFile = { fd in trace.record("flock", "\(fd)"); return base.lockFile(fd) }
        seam.rename = { from, to in trace.record("rename", to); return base.rename(from, to) }
        seam.unlink = { path in trace.record("unlink", path); return base.unlink(path) }
        seam.changeMode = { fd, mode in trace.record("fchmod", "\(fd)"); return base.changeMode(fd, mode) }
        seam.socket = { domain, type, proto in trace.record("socket", "\(domain)"); return base.socket(domain, type, proto) }
        seam.send = { fd, bytes in trace.record("send", "\(fd)"); return base.send(fd, bytes) }
        seam.duplicateDescriptor = { pid, fd in trace.record("pidfd_getfd", "\(pid)/\(fd)"); return base.duplicateDescriptor(pid, fd) }
        seam.openProcess = { pid in trace.record("pidfd_open", "\(pid)"); return base.openProcess(pid) }
        seam.duplicateFromProcess = { pidfd, fd in trace.record("pidfd_getfd", "\(pidfd):\(fd)"); return base.duplicateFromProcess(pidfd, fd) }
        seam.socketOption = { fd, level, name in trace.record("getsockopt", "\(fd)"); return base.socketOption(fd, level, name) }
        seam.networkNamespaceCookie = { fd in trace.record("getsockopt", "\(fd)"); return base.networkNamespaceCookie(fd) }
        seam.socketDescriptors = { path in trace.record("readlinkat", path); return base.socketDescriptors(path) }
        seam.extendedAttribute = { path, name in trace.record("getxattr", path); return base.extendedAttribute(path, name) }
        seam.setSocketOption = { fd, level, name, value in trace.record("setsockopt", "\(fd)"); return base.setSocketOption(fd, level, name, value) }
        return seam
    }
}
