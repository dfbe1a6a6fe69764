import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// Reads and writes the three keepalive sysctls under a root directory (normally
/// `/proc/sys`; a temp dir in tests, or another mount in containers).
///
/// Reads go through descriptors kept open and `pread` at offset 0, about 2 µs for all
/// three, so the daemon can check often. Writes open the file for each write: they are rare.
/// Nothing outside `ROOT/net/ipv4/tcp_keepalive_{time,intvl,probes}` is ever opened.
public final class SysctlTree {
    /// The default root.
    public static let defaultRoot = "/proc/sys"

    /// The directory the sysctl paths are resolved under.
    public let root: String
    private let syscalls: Syscalls
    /// Kept-open read descriptors, by ``slot(_:)``; -1 when not open. The drift check looks
    /// them up on every wake-up, so they sit in three fixed slots behind a constant
    /// pointer: no hashing, and no run-time exclusivity check on each access as a `var`
    /// array in a class gets. The tree belongs to one task at a time.
    private let readers: UnsafeMutablePointer<Int32>

    /// The lock that writers of these values take (``Applier``), if any.
    public let lock: ApplyLock?
    /// The descriptors were opened inside another network namespace (``NamespaceEntry``),
    /// read-write, and are the only way there: they are never reopened by path (the path
    /// would lead to the daemon's own namespace), and writes go through them too.
    public let pinned: Bool

    /// Creates access to the sysctls under `root`; nothing is opened yet.
    public init(root: String = SysctlTree.defaultRoot, syscalls: Syscalls, lock: ApplyLock? = nil) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        self.syscalls = syscalls
        self.lock = lock
        pinned = false
        readers = .allocate(capacity: 3)
        readers.initialize(repeating: -1, count: 3)
    }

    /// Access through three descriptors opened read-write inside another namespace, in
    /// ``Tunable/allCases`` order; the tree owns and closes them.
    public init(pinned descriptors: [Int32], syscalls: Syscalls, lock: ApplyLock? = nil) {
        precondition(descriptors.count == 3, "one descriptor per key")
        root = SysctlTree.defaultRoot
        self.syscalls = syscalls
        self.lock = lock
        pinned = true
        readers = .allocate(capacity: 3)
        for (index, fd) in descriptors.enumerated() { readers[index] = fd }
    }

    deinit {
        closeAll()
        readers.deallocate()
    }

    /// The file for `key`, e.g. `/proc/sys/net/ipv4/tcp_keepalive_time`.
    public func path(for key: Tunable) -> String { "\(root)/\(key.relativePath)" }

    /// The path an inotify watch on `key` is added by: the file itself, or for a pinned tree
    /// its descriptor's `/proc/self/fd/N` link, which leads into the other namespace.
    public func watchPath(for key: Tunable) -> String {
        let fd = readers[SysctlTree.slot(key)]
        return pinned && fd >= 0 ? "/proc/self/fd/\(fd)" : path(for: key)
    }

    /// Reads one value through its kept-open descriptor: one pread(2) into a stack buffer,
    /// parsed in place (this is the drift check's hot path).
    public func read(_ key: Tunable) throws(SysctlFailure) -> Int {
        let fd = try reader(for: key)
        let outcome: Result<Int, SysctlFailure> = withUnsafeTemporaryAllocation(byteCount: 32, alignment: 1) { buffer in
            switch syscalls.pread(fd, buffer, 0) {
            case .failure(let error):
                return .failure(SysctlFailure(key: key, path: path(for: key), operation: .read, errno: error))
            case .success(let count):
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[..<count])
                if let value = SysctlTree.parseValue(bytes) { return .success(value) }
                let text = String(decoding: bytes, as: UTF8.self).trimmed
                return .failure(SysctlFailure(key: key, path: path(for: key), operation: .read,
                                              detail: "unexpected contents '\(text)'"))
            }
        }
        switch outcome {
        case .success(let value):
            return value
        case .failure(let failure):
            // A descriptor whose namespace or file went away stays broken: reopen next time
            // (a pinned one cannot be reopened; it fails until the tree is dropped).
            if failure.errno != nil && !pinned { forget(key) }
            throw failure
        }
    }

    /// Parses `[blanks][-]digits[blanks]`, the way the kernel shows an integer sysctl.
    static func parseValue(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var index = 0, value = 0, negative = false, digits = 0
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A }
        while index < bytes.count, isBlank(bytes[index]) { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { negative = true; index += 1 }
        while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(bytes[index] - 0x30))
            if overflow1 || overflow2 { return nil }
            value = sum
            index += 1
            digits += 1
        }
        while index < bytes.count, isBlank(bytes[index]) { index += 1 }
        guard digits > 0, index == bytes.count else { return nil }
        return negative ? -value : value
    }

    /// Reads all three values, or throws the first failure.
    public func readAll() throws(SysctlFailure) -> KeepaliveValues {
        KeepaliveValues(time: try read(.time), intvl: try read(.intvl), probes: try read(.probes))
    }

    /// Writes one value: open, write the decimal text and a newline at offset 0, cut the
    /// file there, close.
    ///
    /// The cut is a no-op on /proc/sys and keeps a plain-file stand-in exact; the file is
    /// not opened with O_TRUNC, so a write that fails leaves the old value in place, as the
    /// kernel does. A short write is a failure. The caller reads the value back to verify it.
    public func write(_ key: Tunable, _ value: Int) throws(SysctlFailure) {
        let file = path(for: key)
        let fd: Int32
        if pinned {
            fd = readers[SysctlTree.slot(key)]
        } else {
            switch syscalls.open(file, O_WRONLY | O_NOCTTY | O_NOFOLLOW) {
            case .success(let opened): fd = opened
            case .failure(let error):
                throw SysctlFailure(key: key, path: file, operation: .write, value: value, errno: error)
            }
        }
        defer { if !pinned { syscalls.close(fd) } }
        let bytes = Array("\(value)\n".utf8)
        switch bytes.withUnsafeBytes({ syscalls.pwrite(fd, $0, 0) }) {
        case .success(let written) where written == bytes.count:
            // A pinned tree is always the kernel's own files: nothing to cut.
            if !pinned, case .failure(let error) = syscalls.ftruncate(fd, written) {
                throw SysctlFailure(key: key, path: file, operation: .write, value: value, errno: error)
            }
        case .success(let written):
            throw SysctlFailure(key: key, path: file, operation: .write, value: value,
                                detail: "short write: \(written) of \(bytes.count) bytes")
        case .failure(let error):
            throw SysctlFailure(key: key, path: file, operation: .write, value: value, errno: error)
        }
    }

    /// Closes every kept-open descriptor; later reads reopen them.
    public func closeAll() {
        for key in Tunable.allCases { forget(key) }
    }

    private func forget(_ key: Tunable) {
        let fd = readers[SysctlTree.slot(key)]
        guard fd >= 0 else { return }
        readers[SysctlTree.slot(key)] = -1
        syscalls.close(fd)
    }

    /// The index of `key`'s descriptor in ``readers``.
    private static func slot(_ key: Tunable) -> Int {
        switch key {
        case .time: 0
        case .intvl: 1
        case .probes: 2
        }
    }

    private func reader(for key: Tunable) throws(SysctlFailure) -> Int32 {
        let fd = readers[SysctlTree.slot(key)]
        if fd >= 0 || pinned { return fd }
        switch syscalls.open(path(for: key), O_RDONLY | O_NOCTTY | O_NOFOLLOW) {
        case .success(let fd):
            readers[SysctlTree.slot(key)] = fd
            return fd
        case .failure(let error):
            throw SysctlFailure(key: key, path: path(for: key), operation: .read, errno: error)
        }
    }
}

/// One failed sysctl operation, with everything needed to act on it.
public struct SysctlFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was being done.
    public enum Operation: String, Sendable, Hashable {
        case read, write
        case readBack = "read-back"
        case restore
        /// Taking the apply lock (``ApplyLock``).
        case lock
    }

    public let key: Tunable
    public let path: String
    public var operation: Operation
    /// The value being written, for writes.
    public var value: Int?
    public var errno: Errno?
    /// Extra words when there is no errno (short write, read-back mismatch).
    public var detail: String?

    public init(key: Tunable, path: String, operation: Operation, value: Int? = nil,
                errno: Errno? = nil, detail: String? = nil) {
        self.key = key
        self.path = path
        self.operation = operation
        self.value = value
        self.errno = errno
        self.detail = detail
    }

    /// E.g. `cannot write 1800 to /proc/sys/net/ipv4/tcp_keepalive_time: Read-only file system (EROFS)`.
    public var description: String {
        let what = switch operation {
        case .read: "cannot read \(path)"
        case .write: "cannot write \(value.map(String.init) ?? "?") to \(path)"
        case .readBack: "\(path) did not keep \(value.map(String.init) ?? "?")"
        case .restore: "cannot restore \(value.map(String.init) ?? "?") to \(path)"
        case .lock: "cannot take the apply lock \(path), so nothing was written"
        }
        let why = errno?.description ?? detail ?? "unknown error"
        return "\(what): \(why)\(hint)"
    }

    /// What an errno usually means here, for the common cases an admin meets.
    private var hint: String {
        guard operation != .read, operation != .lock, let code = errno?.code else { return "" }
        switch code {
        case EROFS: return "; /proc/sys is mounted read-only here (as in an unprivileged container), so the keepalive values cannot be set"
        case EACCES, EPERM: return "; setting net.ipv4 sysctls needs root (or CAP_NET_ADMIN in the network namespace's owner)"
        default: return ""
        }
    }
}
