#if canImport(Glibc)
import Glibc
#endif

/// The `.prom` file node_exporter's textfile collector serves (`[metrics] textfile`),
/// replaced whole each time: the text goes to `PATH.tmp` in the same directory (a name the
/// collector does not read, as it reads only `*.prom`), which is then renamed over `PATH`,
/// so a scrape sees the old file or the new one, never part of one. Readable by all
/// (node_exporter runs as its own user).
public struct MetricsTextfile: Sendable {
    public let path: String
    let syscalls: Syscalls

    public init(path: String, syscalls: Syscalls = .live) {
        self.path = path
        self.syscalls = syscalls
    }

    /// Writes `text` in place of the file; on failure, why, with nothing left behind.
    public func replace(with text: String) -> String? {
        let temporary = path + ".tmp"
        _ = syscalls.unlink(temporary)   // a leftover of a write cut short
        let fd: Int32
        switch syscalls.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW) {
        case .success(let opened): fd = opened
        case .failure(let error): return "cannot create \(temporary): \(error)"
        }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { syscalls.pwrite(fd, $0, 0) }
        _ = fchmod(fd, 0o644)
        syscalls.close(fd)
        guard case .success(bytes.count) = written else {
            _ = syscalls.unlink(temporary)
            if case .failure(let error) = written { return "cannot write \(temporary): \(error)" }
            return "cannot write \(temporary): short write"
        }
        if case .failure(let error) = syscalls.rename(temporary, path) {
            _ = syscalls.unlink(temporary)
            return "cannot rename \(temporary) to \(path): \(error)"
        }
        return nil
    }
}
