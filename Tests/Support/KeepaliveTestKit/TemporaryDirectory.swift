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

    /// Writes raw bytes to `relative`, creating parent directories; returns the full path.
    @discardableResult
    public func write(_ relative: String, bytes: [UInt8]) throws -> String {
        let full = url(relative)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try TemporaryDirectory.replaceContents(of: full, with: bytes)
        return full
    }

    /// Writes `bytes` over the file at `path` in place (open with O_TRUNC, write, close), as
    /// `echo > FILE` or an editor does, creating it with mode 0644 (less the umask). The
    /// descriptor is close-on-exec, so no child that another thread starts meanwhile keeps
    /// the file open (Foundation's `Data.write` opens without O_CLOEXEC).
    public static func replaceContents(of path: String, with bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
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

    /// Creates the directory `relative` (and parents); returns the full path.
    @discardableResult
    public func makeDirectory(_ relative: String) throws -> String {
        let full = url(relative)
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        return full
    }

    /// Reads `relative` as text.
    public func read(_ relative: String) throws -> String {
        try String(contentsOfFile: url(relative), encoding: .utf8)
    }
}
