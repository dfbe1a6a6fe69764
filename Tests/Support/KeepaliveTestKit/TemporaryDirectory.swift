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
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        return full
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

/// A temp dir laid out like `/proc/sys` for the three keepalive files, starting at the
/// kernel defaults 7200/75/9.
public final class FakeSysctlRoot: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public var path: String { directory.path }

    public init(time: Int = 7200, intvl: Int = 75, probes: Int = 9) throws {
        directory = try TemporaryDirectory("kt-sysctl")
        try set("tcp_keepalive_time", time)
        try set("tcp_keepalive_intvl", intvl)
        try set("tcp_keepalive_probes", probes)
    }

    /// Writes a value the way the kernel shows it (`1800\n`).
    public func set(_ name: String, _ value: Int) throws {
        try directory.write("net/ipv4/\(name)", "\(value)\n")
    }

    /// Reads a value back.
    public func value(_ name: String) throws -> Int {
        Int(try directory.read("net/ipv4/\(name)").trimmingCharacters(in: .whitespacesAndNewlines))!
    }

    /// `time/intvl/probes`.
    public func compact() throws -> String {
        "\(try value("tcp_keepalive_time"))/\(try value("tcp_keepalive_intvl"))/\(try value("tcp_keepalive_probes"))"
    }
}
