/// Where the kernel hooks keep what must outlive the daemon: one directory on a bpf file
/// system, one subdirectory per hook, holding its cgroup link and its maps.
///
///     /sys/fs/bpf/keepalived-tune/            [bpf] pin (the default below)
///       sockops/link                          the keepalive program's cgroup link
///       sockops/workloads  sockops/counters   its maps
///       sysctl/link                           the sysctl program's cgroup link
///       sysctl/policy  sysctl/exempt_cgroups  sysctl/exempt_tgids  sysctl/events  sysctl/counters
///
/// A pinned link keeps its program attached when the daemon dies; a restarted daemon opens
/// the link and the maps from here instead of attaching again. A clean detach removes the
/// hook's files and subdirectory, then the directory itself once it is empty.
public struct PinLayout: Sendable, Hashable {
    /// `/sys/fs/bpf/keepalived-tune`.
    public static let defaultDirectory = "/sys/fs/bpf/keepalived-tune"

    /// One hook's subdirectory.
    public enum Hook: String, Sendable, Hashable, CaseIterable {
        /// The keepalive-at-birth sock_ops program.
        case keepalive = "sockops"
        /// The cgroup_sysctl program.
        case sysctl = "sysctl"
    }

    /// The pin directory, without a trailing slash.
    public let directory: String

    /// A layout under `directory` (trailing slashes dropped).
    public init(directory: String = PinLayout.defaultDirectory) {
        var path = directory
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        self.directory = path
    }

    /// The hook's subdirectory.
    public func directory(for hook: Hook) -> String { "\(directory)/\(hook.rawValue)" }

    /// The hook's pinned cgroup link.
    public func link(for hook: Hook) -> String { "\(directory(for: hook))/link" }

    /// One of the hook's pinned maps, by the map's name in the program.
    public func map(_ name: String, for hook: Hook) -> String { "\(directory(for: hook))/\(name)" }
}
