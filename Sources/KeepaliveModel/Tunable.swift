/// One of the three kernel keepalive sysctls: the only keys keepalived-tune ever touches.
///
/// This enum and ``TunableSpec`` are the single table that drives parsing, validation,
/// `show`, `status`, the docs and the tests.
public enum Tunable: String, CaseIterable, Sendable, Hashable, Comparable {
    /// Idle seconds before the first probe (`net.ipv4.tcp_keepalive_time`).
    case time = "tcp_keepalive_time"
    /// Seconds between unanswered probes (`net.ipv4.tcp_keepalive_intvl`).
    case intvl = "tcp_keepalive_intvl"
    /// Unanswered probes before the connection is dropped (`net.ipv4.tcp_keepalive_probes`).
    case probes = "tcp_keepalive_probes"

    /// The dotted sysctl name, e.g. `net.ipv4.tcp_keepalive_time`.
    public var sysctlName: String { "net.ipv4.\(rawValue)" }

    /// The path below the sysctl root (normally `/proc/sys`), e.g. `net/ipv4/tcp_keepalive_time`.
    public var relativePath: String { "net/ipv4/\(rawValue)" }

    /// The row of the tunables table for this key.
    public var spec: TunableSpec {
        switch self {
        case .time:
            TunableSpec(unit: .seconds, range: 1...32767, kernelDefault: 7200,
                        summary: "idle time before the first keepalive probe")
        case .intvl:
            TunableSpec(unit: .seconds, range: 1...32767, kernelDefault: 75,
                        summary: "time between unanswered keepalive probes")
        case .probes:
            TunableSpec(unit: .count, range: 1...127, kernelDefault: 9,
                        summary: "unanswered probes before the peer is declared dead")
        }
    }

    /// Finds the tunable for a sysctl key as written in a file or on the command line.
    ///
    /// Keys are normalised once, here: `net.ipv4.tcp_keepalive_time` and
    /// `net/ipv4/tcp_keepalive_time` are the same key; anything else is not a tunable.
    public init?(sysctlKey: String) {
        let normalised = String(decoding: sysctlKey.utf8.map { $0 == UInt8(ascii: "/") ? UInt8(ascii: ".") : $0 }, as: UTF8.self)
        guard let tunable = Tunable.allCases.first(where: { $0.sysctlName == normalised }) else {
            return nil
        }
        self = tunable
    }

    public static func < (lhs: Tunable, rhs: Tunable) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The unit, bounds and meaning of one tunable.
public struct TunableSpec: Sendable, Hashable {
    /// How a value is written and shown.
    public enum Unit: String, Sendable { case seconds, count }

    /// Whether values are whole seconds (time spans accepted) or a plain count.
    public let unit: Unit
    /// The accepted values: the kernel's per-socket limits (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT).
    ///
    /// The sysctls themselves accept nonsense such as 0 and -1, so the range is enforced here.
    public let range: ClosedRange<Int>
    /// The value a fresh network namespace starts with.
    public let kernelDefault: Int
    /// A short phrase saying what the value controls.
    public let summary: String
}
