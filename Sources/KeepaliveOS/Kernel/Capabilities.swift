/// The capabilities a process holds, as `/proc/self/status` shows them (`CapEff:`, hex).
public struct Capabilities: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// CAP_SYS_PTRACE (19): open another user's `/proc/PID/ns/net`, `pidfd_getfd`.
    public static let sysPtrace = Capabilities(rawValue: 1 << 19)
    /// CAP_SYS_ADMIN (21): `setns(2)` into a network namespace.
    public static let sysAdmin = Capabilities(rawValue: 1 << 21)

    /// The calling process's effective set; `nil` if it cannot be read.
    public static func effective(syscalls: Syscalls) -> Capabilities? {
        guard let status = FileReader.wholeFile("/proc/self/status", syscalls: syscalls) else { return nil }
        return parse(status)
    }

    /// The `CapEff:` line of a status text.
    static func parse(_ status: String) -> Capabilities? {
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            return UInt64(line.dropFirst("CapEff:".count).trimmingPrefix(while: { $0 == "\t" || $0 == " " }), radix: 16)
                .map(Capabilities.init(rawValue:))
        }
        return nil
    }
}
