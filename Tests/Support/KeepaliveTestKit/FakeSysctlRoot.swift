import Foundation

/// A temp dir laid out like `/proc/sys` for the three keepalive files, starting at the
/// kernel defaults 7200/75/9. Values are written in place, as the kernel's files are, so an
/// inotify watch on them sees each write.
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
