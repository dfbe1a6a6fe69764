import KeepaliveModel

/// Finds the sysctl.d files that `sysctl --system` and systemd-sysctl would apply, in
/// their order, and reports where they set a keepalive key against the policy.
public struct SysctlConfScanner: Sendable {
    /// The sysctl.d directories, most important first: a file name in an earlier one masks
    /// the same name in later ones.
    public static let directories = ["/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d"]

    /// A prefix for every path; `/` on a real system, a temp dir in tests.
    public let root: String
    let reader: FileReader

    /// A scanner of the sysctl.d files under `root`, read with `reader`.
    public init(root: String = "/", reader: FileReader) {
        self.root = root.hasSuffix("/") ? String(root.dropLast()) : root
        self.reader = reader
    }

    /// The files in the order they are applied: sysctl.d files sorted by name (first
    /// directory wins for a name), then /etc/sysctl.conf.
    public func files() -> [SourceText] {
        var byName: [String: String] = [:]
        for directory in SysctlConfScanner.directories {
            guard case .success(let names) = reader.confFiles(in: root + directory) else { continue }
            for name in names where byName[name] == nil { byName[name] = "\(root)\(directory)/\(name)" }
        }
        let paths = byName.keys.sorted().map { byName[$0]! } + ["\(root)/etc/sysctl.conf"]
        return paths.compactMap { path in
            if case .read(let source) = reader.read(path) { return source }
            return nil
        }
    }

    /// The conflicts between those files and `expected`.
    public func conflicts(with expected: KeepaliveValues) -> [SysctlConf.Conflict] {
        SysctlConf.conflicts(files: files(), expected: expected)
    }
}
