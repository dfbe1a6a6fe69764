import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// Where the ``Originals`` live: `RUNTIME/originals`, written whole (a temp file renamed
/// over it), readable by root only.
///
/// Several daemons may share the file: two daemons with their own configs, each in a network
/// namespace of its own, use one runtime directory. Each changes it only through
/// ``update(boot:_:)``, a read-modify-write under the apply lock, so that each adds and takes
/// out its own entries and none loses another's.
///
/// A file that cannot be trusted (unparsable, another format version or boot, not owned by
/// root, writable by group or others, not a regular file) is renamed aside to
/// `originals.rejected` and reported; the values found now are then taken as the originals.
/// A file that cannot be read at the moment (EMFILE, EIO) is left where it is.
public struct OriginalsStore: Sendable {
    /// The file.
    public let path: String
    let syscalls: Syscalls
    /// Whether ownership and permissions are checked (running as root).
    let strictModes: Bool
    /// The lock that every change of the file is made under (the runtime directory's apply lock).
    let lock: ApplyLock

    /// The store in `directory`; a change waits up to `lockPatience` for the apply lock.
    public init(directory: String, syscalls: Syscalls, strictModes: Bool = geteuid() == 0,
                lockPatience: Interval = .seconds(2)) {
        path = "\(directory)/originals"
        self.syscalls = syscalls
        self.strictModes = strictModes
        lock = ApplyLock(directory: directory, patience: lockPatience, syscalls: syscalls)
    }

    /// What loading found.
    public enum Loaded: Sendable {
        /// No file: the first start of this boot.
        case missing
        case found(Originals)
        /// A file that cannot be trusted: why, and where it was moved (`nil`: left in place,
        /// or it could not be moved).
        case rejected(reason: String, movedTo: String?)
        /// A file that is there but cannot be read now (it cannot be opened, examined or read:
        /// why). It is left as it is: nothing says it is wrong.
        case unreadable(reason: String)
    }

    /// Loads the originals saved in this boot. With `setAside`, a file that cannot be trusted
    /// is renamed aside (the daemon does this; `status` only looks).
    public func load(boot: String, setAside: Bool = true) -> Loaded {
        let fd: Int32
        switch syscalls.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) {
        case .success(let opened): fd = opened
        case .failure(let error) where error.code == ENOENT || error.code == ENOTDIR: return .missing
        case .failure(let error) where error.code == ELOOP: return reject("it is a symbolic link", setAside: setAside)
        case .failure(let error): return .unreadable(reason: "it cannot be opened: \(error)")
        }
        defer { syscalls.close(fd) }
        let status: FileStatus
        switch syscalls.fstat(fd) {
        case .success(let found): status = found
        case .failure(let error): return .unreadable(reason: "it cannot be examined: \(error)")
        }
        if status.kind != .regular { return reject("it is not a regular file", setAside: setAside) }
        if strictModes && status.owner != 0 { return reject("it is owned by uid \(status.owner), not root", setAside: setAside) }
        if status.mode & 0o022 != 0 {
            return reject("it is writable by group or others (mode \(String(status.mode & 0o7777, radix: 8)))", setAside: setAside)
        }
        let bytes: [UInt8]
        switch contents(fd, size: status.size) {
        case .success(let read): bytes = read
        case .failure(let error): return .unreadable(reason: "it cannot be read: \(error)")
        }
        switch Originals.parse(String(decoding: bytes, as: UTF8.self), boot: boot) {
        case .success(let originals): return .found(originals)
        case .failure(let problem): return reject("\(problem)", setAside: setAside)
        }
    }

    /// Everything the open file holds, however large: read on to end of file, in pieces of
    /// whatever size `pread` returns. There is no cap, so that what ``save(_:)`` wrote (any
    /// number of namespaces) is what a restart reads; `size` (from `fstat`) only sizes the
    /// buffer. The file is replaced by rename, never written in place, so the open one stays
    /// as it was.
    private func contents(_ fd: Int32, size: Int) -> Result<[UInt8], Errno> {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size)
        var chunk = [UInt8](repeating: 0, count: min(max(size, 4096), 1 << 20) + 1)
        while true {
            switch chunk.withUnsafeMutableBytes({ syscalls.pread(fd, $0, bytes.count) }) {
            case .success(0): return .success(bytes)
            case .success(let count): bytes += chunk.prefix(count)
            case .failure(let error): return .failure(error)
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
    /// error if it could not be saved. Only for a file no other daemon shares: others change
    /// it with ``update(boot:_:)``.
    public func save(_ originals: Originals) -> Errno? {
        let directory = PathWalk.directory(of: path)
        if case .failure(let error) = syscalls.makeDirectory(directory, 0o755), error.code != EEXIST { return error }
        return WholeFile.replace(path, temporary: path + ".new", with: originals.text, mode: 0o600, syscalls: syscalls)?.errno
    }

    /// A file that ``update(boot:_:)`` found it could not trust, and set aside.
    public struct Rejection: Sendable, Hashable {
        public let reason: String
        /// Where it was moved (`nil`: it could not be).
        public let movedTo: String?
    }

    /// Why ``update(boot:_:)`` changed nothing.
    public enum UpdateFailure: Error, Sendable, CustomStringConvertible {
        /// The apply lock could not be taken.
        case locked(ApplyLock.Failure)
        /// The file is there but cannot be read now; it was left as it is.
        case unreadable(String)
        /// The file could not be written (or removed).
        case notSaved(Errno)

        public var description: String {
            switch self {
            case .locked(let failure): "\(failure)"
            case .unreadable(let reason): "the file is there but \(reason)"
            case .notSaved(let error): "\(error)"
            }
        }
    }

    /// Changes the saved entries as they are in the file now, under the apply lock: loads it
    /// (other daemons' entries included), lets `change` edit the entries, and saves the
    /// result whole, or removes the file when no entry is left.
    ///
    /// A file that cannot be trusted is set aside and counts as empty; the rejection is
    /// returned for the caller to report. A file that cannot be read now is left as it is,
    /// and nothing is written.
    public func update(boot: String, _ change: (inout [Originals.Key: Originals.Record]) -> Void) -> Result<Rejection?, UpdateFailure> {
        let locked = lock.withLock { () -> Result<Rejection?, UpdateFailure> in
            var entries: [Originals.Key: Originals.Record] = [:]
            var rejection: Rejection?
            switch load(boot: boot) {
            case .missing: break
            case .found(let originals): entries = originals.records
            case .rejected(let reason, let movedTo): rejection = Rejection(reason: reason, movedTo: movedTo)
            case .unreadable(let reason): return .failure(.unreadable(reason))
            }
            change(&entries)
            if entries.isEmpty {
                if case .failure(let error) = syscalls.unlink(path), error.code != ENOENT { return .failure(.notSaved(error)) }
            } else if let error = save(Originals(boot: boot, records: entries)) {
                return .failure(.notSaved(error))
            }
            return .success(rejection)
        }
        switch locked {
        case .success(let outcome): return outcome
        case .failure(let failure): return .failure(.locked(failure))
        }
    }

    /// This boot's id (`/proc/sys/kernel/random/boot_id`), or `unknown`.
    public static func bootID(syscalls: Syscalls) -> String {
        FileReader.smallFile("/proc/sys/kernel/random/boot_id", syscalls: syscalls)?
            .split(whereSeparator: { $0 == "\n" || $0 == " " }).first.map(String.init) ?? "unknown"
    }
}
