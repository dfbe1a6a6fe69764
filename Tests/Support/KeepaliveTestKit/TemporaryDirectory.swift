import Foundation

/// A directory under /tmp that a test owns; removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    /// Its absolute path.
    public let path: String

    /// Creates an empty directory.
    public init(_ label: String = "kt") throws {
        var base = NSTemporaryDirectory()
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        var template = Array("\(base)/\(label)-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The absolute path of `relative` inside this directory.
    public func url(_ relative: String) -> String { "\(path)/\(relative)" }

    /// Writes `text` to `relative`, creating parent directories; returns the full path.
    @discardableResult
    public func write(_ relative: String, _ text: String) throws -> String {
        try write(relative, bytes: Array(text.utf8))
    }

    /// Writes raw bytes to `relative`, creating parent directories (mode 0755); returns the
    /// full path.
    @discardableResult
    public func write(_ relative: String, bytes: [UInt8]) throws -> String {
        let full = url(relative)
        try TemporaryDirectory.makeDirectories((full as NSString).deletingLastPathComponent)
        try TemporaryDirectory.replaceContents(of: full, with: bytes)
        return full
    }

    /// Writes `bytes` over the file at `path` in place (open with O_TRUNC, write, close), as
    /// `echo > FILE` or an editor does. A file it creates gets mode 0644 whatever the umask
    /// (fchmod after an O_EXCL create: a root daemon refuses a group-writable config, and a
    /// checkout's umask must not decide a test); an existing file keeps its mode, and a
    /// /proc/sys file is never chmod'ed. The descriptor is close-on-exec, so no child that
    /// another thread starts meanwhile keeps the file open (Foundation's `Data.write` opens
    /// without O_CLOEXEC).
    public static func replaceContents(of path: String, with bytes: [UInt8]) throws {
        var fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd >= 0 {
            guard fchmod(fd, 0o644) == 0 else {
                let error = errno
                close(fd)
                throw POSIXError(POSIXErrorCode(rawValue: error) ?? .EIO)
            }
        } else if errno == EEXIST {
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)   // in place; a dangling link's target is made
        }
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            written += count
        }
    }

    /// The whole file at `path`, read through a close-on-exec descriptor (open O_CLOEXEC,
    /// read to the end, close), so no child that another thread starts meanwhile holds it.
    public static func contents(of path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = Glibc.read(fd, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            if count == 0 { return bytes }
            bytes += chunk.prefix(count)
        }
    }

    /// Creates the directory `relative` (and parents, each with mode 0755 whatever the
    /// umask); returns the full path.
    @discardableResult
    public func makeDirectory(_ relative: String) throws -> String {
        let full = url(relative)
        try TemporaryDirectory.makeDirectories(full)
        return full
    }

    /// `mkdir -p`: creates `path` and the parents it lacks, each chmod'ed to 0755 (mkdir's
    /// mode is less the umask); directories already there are left as they are.
    static func makeDirectories(_ path: String) throws {
        if mkdir(path, 0o755) == 0 {
            guard chmod(path, 0o755) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            return
        }
        switch errno {
        case EEXIST:
            var status = stat()
            guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else { throw POSIXError(.ENOTDIR) }
        case ENOENT where path.count > 1:
            try makeDirectories((path as NSString).deletingLastPathComponent)
            try makeDirectories(path)
        case let error:
            throw POSIXError(POSIXErrorCode(rawValue: error) ?? .EIO)
        }
    }

    /// Copies the tree at `source` (directories and regular files) to `relative`, with modes
    /// 0755 and 0644 whatever the source's: a checkout made with umask 002 has
    /// group-writable fixtures, which a root daemon or command would refuse. Returns the full
    /// path.
    @discardableResult
    public func copy(_ source: String, to relative: String) throws -> String {
        var status = stat()
        guard lstat(source, &status) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        switch status.st_mode & S_IFMT {
        case S_IFDIR:
            let full = try makeDirectory(relative)
            for item in try FileManager.default.contentsOfDirectory(atPath: source) {
                try copy("\(source)/\(item)", to: "\(relative)/\(item)")
            }
            return full
        case S_IFREG:
            return try write(relative, bytes: TemporaryDirectory.contents(of: source))
        default:
            throw POSIXError(.EINVAL)   // no links or devices in a fixture
        }
    }

    /// Reads `relative` as text.
    public func read(_ relative: String) throws -> String {
        try String(contentsOfFile: url(relative), encoding: .utf8)
    }
}
