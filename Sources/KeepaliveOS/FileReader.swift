import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// Reads config and profile files, refusing what is not a plain, small file.
///
/// With ``strictModes`` (the default when running as root, in the manner of sshd's
/// StrictModes), a file, or the directory holding it, that is writable by group or others
/// or owned by anyone but root is refused: whoever can write it controls the kernel's
/// keepalive settings through a root daemon.
public struct FileReader: Sendable {
    let syscalls: Syscalls
    /// Whether ownership and permissions are checked.
    public let strictModes: Bool

    /// A reader making its calls through `syscalls`; `strictModes` checks owners and modes.
    public init(syscalls: Syscalls, strictModes: Bool = geteuid() == 0) {
        self.syscalls = syscalls
        self.strictModes = strictModes
    }

    /// Whether a file was there to read.
    public enum Outcome: Sendable {
        case read(SourceText)
        case missing
        case failed(Diagnostic)
    }

    /// Reads `path`, stopping once more than ``SourceText/maximumSize`` bytes are in (at
    /// most one 16 KiB chunk more): enough to tell a file is too large without reading all
    /// of it, and to name the line where it crosses the limit.
    public func read(_ path: String) -> Outcome {
        let location = SourceLocation(file: path, line: nil)
        let fd: Int32
        switch syscalls.open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK) {
        case .success(let opened): fd = opened
        case .failure(let error) where error.code == ENOENT: return .missing
        case .failure(let error):
            return .failed(.error(.unreadable, at: location, "cannot open: \(error)"))
        }
        defer { syscalls.close(fd) }
        let status: FileStatus
        switch syscalls.fstat(fd) {
        case .success(let found): status = found
        case .failure(let error):
            return .failed(.error(.unreadable, at: location, "cannot stat: \(error)"))
        }
        guard status.kind == .regular else {
            let what = status.kind == .directory ? "a directory" : "not a regular file"
            return .failed(.error(.notARegularFile, at: location, "is \(what); a config or profile must be a regular file"))
        }
        if let problem = insecurity(of: path, status) ?? pathInsecurity(of: path) { return .failed(problem) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while bytes.count <= SourceText.maximumSize {
            switch chunk.withUnsafeMutableBytes({ syscalls.pread(fd, $0, bytes.count) }) {
            case .success(0):
                return .read(SourceText(path: path, bytes: bytes, totalSize: max(status.size, bytes.count)))
            case .success(let count):
                bytes += chunk.prefix(count)
            case .failure(let error):
                return .failed(.error(.unreadable, at: location, "cannot read: \(error)"))
            }
        }
        return .read(SourceText(path: path, bytes: bytes, totalSize: max(status.size, bytes.count)))
    }

    /// Why `status` (of `path`) is unsafe for a root daemon to trust, or `nil`. A directory
    /// others may write is fine when it is sticky (as /tmp is): there only an entry's owner
    /// may rename or remove it, and every entry on the way is checked to be root's.
    func insecurity(of path: String, _ status: FileStatus) -> Diagnostic? {
        guard strictModes else { return nil }
        let location = SourceLocation(file: path, line: nil)
        if status.owner != 0 {
            return .error(.insecurePermissions, at: location,
                "is owned by uid \(status.owner), not root; refusing it, since whoever can write it controls the keepalive settings (fix: chown root '\(path)')")
        }
        let sticky = status.kind == .directory && status.mode & 0o1000 != 0
        if status.mode & 0o022 != 0 && !sticky {
            return .error(.insecurePermissions, at: location,
                "is writable by group or others (mode \(String(status.mode & 0o7777, radix: 8))); refusing it, since whoever can write it controls the keepalive settings (fix: chmod go-w '\(path)')")
        }
        return nil
    }

    /// The same check along the real path of `path`, the way sshd walks up to `/`: every
    /// symlink followed must be root's, and every directory holding an entry on the way, up
    /// to `/`, must be root's and writable by no one else (or sticky). A path that cannot
    /// be resolved is refused (fail closed).
    func pathInsecurity(of path: String) -> Diagnostic? {
        guard strictModes else { return nil }
        let walk = PathWalk.resolve(path, syscalls: syscalls)
        if let failure = walk.failure {
            return .error(.insecurePermissions, at: SourceLocation(file: path, line: nil),
                "cannot be resolved to a real path (\(failure)); refusing it, since its ownership cannot be checked")
        }
        var checked: Set<String> = []
        for step in walk.steps {
            if step.isLink && step.owner != 0 {
                let link = step.directory == "/" ? "/\(step.name)" : "\(step.directory)/\(step.name)"
                return .error(.insecurePermissions, at: SourceLocation(file: link, line: nil),
                    "is a symlink owned by uid \(step.owner), not root; refusing it, since its owner can point it anywhere (fix: replace it with a link owned by root)")
            }
            for directory in [step.directory] + PathWalk.ancestors(of: step.directory) where checked.insert(directory).inserted {
                guard case .success(let status) = syscalls.pathStatus(directory) else { continue }
                if let problem = insecurity(of: directory, status) { return problem }
            }
        }
        return nil
    }

    /// The first 4 KiB of a small state or /proc file as text, or `nil` if it cannot be read
    /// or is not a regular file (opened as ``StateFile`` opens: never blocking, no symlink).
    static func smallFile(_ path: String, syscalls: Syscalls) -> String? {
        guard case .read(let fd) = StateFile.open(path, follow: false, syscalls: syscalls) else { return nil }
        defer { syscalls.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        guard case .success(let count) = buffer.withUnsafeMutableBytes({ syscalls.pread(fd, $0, 0) }) else { return nil }
        return String(decoding: buffer.prefix(count), as: UTF8.self)
    }

    /// A whole file as text (`/proc/self/status`), up to `limit` bytes; `nil` if it cannot be
    /// read, is not a regular file, or is larger (``StateFile/text(_:limit:follow:syscalls:)``
    /// says which). Symlinks are not followed.
    public static func wholeFile(_ path: String, limit: Int = StateFile.documentLimit, syscalls: Syscalls) -> String? {
        StateFile.text(path, limit: limit, syscalls: syscalls).value
    }

    /// The names of the `*.conf` files in `directory`, sorted; empty if it does not exist.
    public func confFiles(in directory: String) -> Result<[String], Diagnostic> {
        switch syscalls.readDirectory(directory) {
        case .success(let names):
            return .success(names.filter { $0.hasSuffix(".conf") && !$0.hasPrefix(".") }.sorted())
        case .failure(let error) where error.code == ENOENT:
            return .success([])
        case .failure(let error):
            return .failure(.error(.unreadable, at: SourceLocation(file: directory, line: nil),
                "cannot list directory: \(error)"))
        }
    }
}
