import Foundation

/// The host's own keepalive values, read (never written) so tests can prove they did not
/// change them.
public enum HostKeepalive {
    /// `time/intvl/probes` as the calling thread's network namespace sees them.
    public static func snapshot() -> String {
        ["tcp_keepalive_time", "tcp_keepalive_intvl", "tcp_keepalive_probes"].map {
            (try? String(contentsOfFile: "/proc/sys/net/ipv4/\($0)", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        }.joined(separator: "/")
    }
}
