#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel

/// Files other programs write that the daemon reads on its one loop: the container
/// runtimes' state (podman's `containers.json`, the OCI bundles, docker's `daemon.json`,
/// `config.v2.json` and `hostconfig.json`) and `/proc/self/mountinfo`.
///
/// Nothing found at such a path can block the reader: each is opened with O_NONBLOCK (an
/// open(2) of a FIFO for reading would wait for a writer, forever) and O_NOFOLLOW unless the
/// file is a config its program follows links for, then fstat(2)ed, and anything but a
/// regular file (a FIFO, a socket, a device, a directory) is refused, as ``FileReader``
/// refuses them for the config. Reads are streamed in chunks, so a large file is read
/// whole without a cap; where a cap stays (a document parsed whole), its refusal is a
/// ``Problem`` too, for the caller to report.
public enum StateFile {
    /// Why a state file was not read, or not whole.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public enum Reason: Sendable, Hashable {
            /// Not a regular file: what it is (`a FIFO`, `a directory`, ...).
            case notRegular(String)
            /// A symlink, where none is followed.
            case symlink
            /// Larger than the most read of such a file, in bytes.
            case tooLarge(limit: Int)
            /// Parts larger than the most read of one (a line, a JSON array item), skipped.
            case partsTooLarge(count: Int, limit: Int)
            /// open(2), fstat(2) or read(2) failed.
            case unreadable(Errno)
        }

        public let path: String
        public let reason: Reason

        public init(path: String, reason: Reason) {
            self.path = path
            self.reason = reason
        }

        public var description: String {
            switch reason {
            case .notRegular(let what): "\(path) is \(what), not a regular file: refused, since opening it could block the daemon"
            case .symlink: "\(path) is a symlink: refused, since such files are not read through links"
            case .tooLarge(let limit): "\(path) is larger than \(StateFile.size(limit)), the most read of it: ignored"
            case .partsTooLarge(let count, let limit): "\(path) has \(count) \(count == 1 ? "part" : "parts") (lines or items) larger than \(StateFile.size(limit)), the most read of one: \(count == 1 ? "it was" : "they were") skipped, the rest read"
            case .unreadable(let error): "\(path) cannot be read: \(error)"
            }
        }
    }

    /// What a read found.
    public enum Outcome<Value> {
        case read(Value)
        /// Nothing there (ENOENT, ENOTDIR): a runtime that is not installed, a file not yet written.
        case missing
        case refused(Problem)

        /// The value read, if any.
        public var value: Value? {
            if case .read(let value) = self { return value }
            return nil
        }

        /// The problem, if the file was refused.
        public var problem: Problem? {
            if case .refused(let problem) = self { return problem }
            return nil
        }

        /// The same outcome with `transform` applied to the value read.
        func map<Other>(_ transform: (Value) -> Other) -> Outcome<Other> {
            switch self {
            case .read(let value): .read(transform(value))
            case .missing: .missing
            case .refused(let problem): .refused(problem)
            }
        }
    }

    /// The most read of a document that is parsed whole (an OCI bundle, docker's JSON).
    public static let documentLimit = 4 << 20
    /// The most read of one part of a streamed file: a line, a JSON array's item.
    public static let itemLimit = 1 << 20
    /// The size of each read(2).
    static let chunkSize = 64 << 10

    /// Opens `path` for reading without blocking and checks it is a regular file; the
    /// descriptor (close-on-exec) is the caller's to close.
    static func open(_ path: String, follow: Bool, syscalls: Syscalls) -> Outcome<Int32> {
        let fd: Int32
        switch syscalls.open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW)) {
        case .success(let opened): fd = opened
        case .failure(let error) where error.code == ENOENT || error.code == ENOTDIR: return .missing
        case .failure(let error) where error.code == ELOOP && !follow: return .refused(Problem(path: path, reason: .symlink))
        case .failure(let error): return .refused(Problem(path: path, reason: .unreadable(error)))
        }
        switch syscalls.fstat(fd) {
        case .success(let status) where status.kind == .regular:
            return .read(fd)
        case .success(let status):
            syscalls.close(fd)
            return .refused(Problem(path: path, reason: .notRegular(kindName(status))))
        case .failure(let error):
            syscalls.close(fd)
            return .refused(Problem(path: path, reason: .unreadable(error)))
        }
    }

    /// Reads `path` chunk by chunk, handing each to `body` (which returns `false` to stop).
    public static func stream(_ path: String, follow: Bool = false, syscalls: Syscalls,
                              _ body: (UnsafeRawBufferPointer) -> Bool) -> Outcome<Void> {
        let fd: Int32
        switch open(path, follow: follow, syscalls: syscalls) {
        case .read(let opened): fd = opened
        case .missing: return .missing
        case .refused(let problem): return .refused(problem)
        }
        defer { syscalls.close(fd) }
        return withUnsafeTemporaryAllocation(byteCount: chunkSize, alignment: 1) { chunk in
            while true {
                switch syscalls.read(fd, chunk) {
                case .success(0): return .read(())
                case .success(let count):
                    if !body(UnsafeRawBufferPointer(rebasing: chunk[..<count])) { return .read(()) }
                case .failure(let error): return .refused(Problem(path: path, reason: .unreadable(error)))
                }
            }
        }
    }

    /// The whole file as text, if it holds at most `limit` bytes.
    public static func text(_ path: String, limit: Int = documentLimit, follow: Bool = false,
                            syscalls: Syscalls) -> Outcome<String> {
        var bytes: [UInt8] = []
        var over = false
        let read = stream(path, follow: follow, syscalls: syscalls) { chunk in
            guard bytes.count + chunk.count <= limit else {
                over = true
                return false
            }
            bytes += chunk
            return true
        }
        if over, case .read = read { return .refused(Problem(path: path, reason: .tooLarge(limit: limit))) }
        return read.map { String(decoding: bytes, as: UTF8.self) }
    }

    /// Reads `path` line by line, handing each line (without its newline) to `each`; a line
    /// longer than `lineLimit` is skipped, and the skipped ones are the outcome's problem.
    public static func lines(_ path: String, lineLimit: Int = itemLimit, syscalls: Syscalls,
                             _ each: (Substring) -> Void) -> Outcome<Problem?> {
        var line: [UInt8] = []
        var tooLong = false, skipped = 0
        func end() {
            if tooLong { skipped += 1 } else { each(Substring(decoding: line, as: UTF8.self)) }
            line.removeAll(keepingCapacity: true)
            tooLong = false
        }
        let read = stream(path, syscalls: syscalls) { chunk in
            for byte in chunk {
                if byte == 0x0A { end() } else if line.count < lineLimit { line.append(byte) } else { tooLong = true }
            }
            return true
        }
        return read.map {
            if !line.isEmpty || tooLong { end() }   // a last line without its newline
            return skipped == 0 ? nil : Problem(path: path, reason: .partsTooLarge(count: skipped, limit: lineLimit))
        }
    }

    /// Reads a JSON array at `path` item by item (``JSONArrayStream``), handing each to
    /// `each`; an item longer than `itemLimit` is skipped, and the skipped ones are the
    /// outcome's problem.
    public static func arrayItems(_ path: String, itemLimit: Int = itemLimit, syscalls: Syscalls,
                                  _ each: (JSONValue) -> Void) -> Outcome<Problem?> {
        var array = JSONArrayStream(itemLimit: itemLimit)
        return stream(path, syscalls: syscalls, { array.feed($0, each); return true }).map {
            array.oversized == 0 ? nil : Problem(path: path, reason: .partsTooLarge(count: array.oversized, limit: itemLimit))
        }
    }

    /// What `status` is, in words.
    static func kindName(_ status: FileStatus) -> String {
        switch status.mode & UInt32(S_IFMT) {
        case UInt32(S_IFIFO): "a FIFO"
        case UInt32(S_IFSOCK): "a socket"
        case UInt32(S_IFCHR), UInt32(S_IFBLK): "a device"
        case UInt32(S_IFDIR): "a directory"
        default: "not a plain file"
        }
    }

    /// A byte count in words: `4 MiB`, `64 KiB`.
    static func size(_ bytes: Int) -> String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : bytes % 1024 == 0 ? "\(bytes >> 10) KiB" : "\(bytes) bytes"
    }
}
