import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// Reads config and profile files, refusing what is not a plain, small file.
public struct FileReader: Sendable {
    let syscalls: Syscalls

    public init(syscalls: Syscalls = .live) { self.syscalls = syscalls }

    /// Whether a file was there to read.
    public enum Outcome: Sendable {
        case read(SourceText)
        case missing
        case failed(Diagnostic)
    }

    /// Reads at most ``SourceText/maximumSize`` + 1 bytes of `path`, enough to tell a file
    /// is too large without reading all of it.
    public func read(_ path: String) -> Outcome {
        let fd: Int32
        switch syscalls.open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK) {
        case .success(let opened): fd = opened
        case .failure(let error) where error.code == ENOENT: return .missing
        case .failure(let error):
            return .failed(.error(.unreadable, at: SourceLocation(file: path, line: nil),
                "cannot open: \(error)"))
        }
        defer { syscalls.close(fd) }
        let status: FileStatus
        switch syscalls.fstat(fd) {
        case .success(let found): status = found
        case .failure(let error):
            return .failed(.error(.unreadable, at: SourceLocation(file: path, line: nil), "cannot stat: \(error)"))
        }
        guard status.kind == .regular else {
            let what = status.kind == .directory ? "a directory" : "not a regular file"
            return .failed(.error(.notARegularFile, at: SourceLocation(file: path, line: nil),
                "is \(what); a config or profile must be a regular file"))
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while bytes.count <= SourceText.maximumSize {
            switch chunk.withUnsafeMutableBytes({ syscalls.pread(fd, $0, bytes.count) }) {
            case .success(0):
                return .read(SourceText(path: path, bytes: bytes, totalSize: max(status.size, bytes.count)))
            case .success(let count):
                bytes += chunk.prefix(count)
            case .failure(let error):
                return .failed(.error(.unreadable, at: SourceLocation(file: path, line: nil), "cannot read: \(error)"))
            }
        }
        return .read(SourceText(path: path, bytes: bytes, totalSize: max(status.size, bytes.count)))
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
