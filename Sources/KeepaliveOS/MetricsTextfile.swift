/// The `.prom` file node_exporter's textfile collector serves (`[metrics] textfile`),
/// replaced whole each time: the text goes to `PATH.tmp` in the same directory (a name the
/// collector does not read, as it reads only `*.prom`), which is then renamed over `PATH`,
/// so a scrape sees the old file or the new one, never part of one. Readable by all
/// (node_exporter runs as its own user).
public struct MetricsTextfile: Sendable {
    public let path: String
    let syscalls: Syscalls

    /// The textfile at `path`, written through `syscalls`.
    public init(path: String, syscalls: Syscalls) {
        self.path = path
        self.syscalls = syscalls
    }

    /// Writes `text` in place of the file; on failure, why, with nothing left behind.
    public func replace(with text: String) -> String? {
        WholeFile.replace(path, temporary: path + ".tmp", with: text, mode: 0o644, syscalls: syscalls)?.description
    }
}
