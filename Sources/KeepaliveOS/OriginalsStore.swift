import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// Where the ``Originals`` live: `RUNTIME/originals`, written whole (a temp file renamed
/// over it), readable by root only.
///
/// A file that cannot be trusted (unparsable, another format version or boot, not owned by
/// root, writable by group or others, not a regular file) is renamed aside to
/// `originals.rejected` and reported; the values found now are then taken as the originals.
public struct OriginalsStore: Sendable {
    /// The file.
    public let path: String
    let syscalls: Syscalls
    /// Whether ownership and permissions are checked (running as root).
    let strictModes: Bool

    public init(directory: String, syscalls: Syscalls = .live, strictModes: Bool = geteuid() == 0) {
        path = "\(directory)/originals"
        self.syscalls = syscalls
        self.strictModes = strictModes
    }

    /// What loading found.
    public enum Loaded: Sendable {
        /// No file: the first start of this boot.
        case missing
        case found(Originals)
        /// A file that cannot be trusted: why, and where it was moved (`nil`: left in place,
        /// or it could not be moved).
        case rejected(reason: String, movedTo: String?)
    }

    /// Loads the originals saved in this boot. With `setAside`, a file that cannot be trusted
    /// is renamed aside (the daemon does this; `status` only looks).
    public func load(boot: String, setAside: Bool = true) -> Loaded {
        let fd: Int32
        switch syscalls.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) {
        case .success(let opened): fd = opened
        case .failure(let error) where error.code == ENOENT: return .missing
        case .failure(let error): return reject("it cannot be opened: \(error)", setAside: setAside)
        }
        defer { syscalls.close(fd) }
        guard case .success(let status) = syscalls.fstat(fd) else { return reject("it cannot be examined", setAside: setAside) }
        if status.kind != .regular { return reject("it is not a regular file", setAside: setAside) }
        if strictModes && status.owner != 0 { return reject("it is owned by uid \(status.owner), not root", setAside: setAside) }
        if status.mode & 0o022 != 0 {
            return reject("it is writable by group or others (mode \(String(status.mode & 0o7777, radix: 8)))", setAside: setAside)
        }
        guard let bytes = contents(fd, size: status.size) else { return reject("it cannot be read whole", setAside: setAside) }
        switch Originals.parse(String(decoding: bytes, as: UTF8.self), boot: boot) {
        case .success(let originals): return .found(originals)
        case .failure(let problem): return reject("\(problem)", setAside: setAside)
        }
    }

    /// Everything the open file holds, however large: read on to end of file, in pieces of
    /// whatever size `pread` returns. There is no cap, so that what ``save(_:)`` wrote (any
    /// number of namespaces) is what a restart reads; `size` (from `fstat`) only sizes the
    /// buffer. The file is replaced by rename, never written in place, so the open one stays
    /// as it was. `nil` on a read error.
    private func contents(_ fd: Int32, size: Int) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size)
        var chunk = [UInt8](repeating: 0, count: min(max(size, 4096), 1 << 20) + 1)
        while true {
            switch chunk.withUnsafeMutableBytes({ syscalls.pread(fd, $0, bytes.count) }) {
            case .success(0): return bytes
            case .success(let count): bytes += chunk.prefix(count)
            case .failure: return nil
            }
        }
    }

    private func reject(_ reason: String, setAside: Bool) -> Loaded {
        guard setAside else { return .rejected(reason: reason, movedTo: nil) }
        let aside = path + ".rejected"
        if case .success = syscalls.rename(path, aside) { return .rejected(reason: reason, movedTo: aside) }
        return .rejected(reason: reason, movedTo: nil)
    }

    /// Saves `originals` whole: a temp file (mode 0600) renamed over the file. Returns the
    /// error if it could not be saved.
    public func save(_ originals: Originals) -> Errno? {
        let directory = PathWalk.directory(of: path)
        if case .failure(let error) = syscalls.makeDirectory(directory, 0o755), error.code != EEXIST { return error }
        return WholeFile.replace(path, temporary: path + ".new", with: originals.text, mode: 0o600, syscalls: syscalls)?.errno
    }

    /// Removes the file (after a clean stop put the originals back).
    public func remove() { _ = syscalls.unlink(path) }

    /// This boot's id (`/proc/sys/kernel/random/boot_id`), or `unknown`.
    public static func bootID(syscalls: Syscalls = .live) -> String {
        FileReader.smallFile("/proc/sys/kernel/random/boot_id", syscalls: syscalls)?
            .split(whereSeparator: { $0 == "\n" || $0 == " " }).first.map(String.init) ?? "unknown"
    }
}
