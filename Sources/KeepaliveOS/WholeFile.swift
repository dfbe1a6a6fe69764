#if canImport(Glibc)
import Glibc
#endif

/// Replaces a file whole: the text goes to `temporary` (beside it, created afresh), which
/// gets `mode` and is renamed over the file, so a reader sees the old file or the new one,
/// never part of one. On failure nothing is left at `temporary`. The one writer behind the
/// originals, the daemon's published state and the metrics textfile.
public enum WholeFile {
    /// Which step failed, on which path, and why.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let operation: String
        public let path: String
        public let errno: Errno
        public var description: String { "cannot \(operation) \(path): \(errno)" }
    }

    public static func replace(_ path: String, temporary: String, with text: String, mode: UInt32,
                               syscalls: Syscalls) -> Failure? {
        _ = syscalls.unlink(temporary)   // a leftover of a write cut short
        let fd: Int32
        switch syscalls.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW) {
        case .success(let opened): fd = opened
        case .failure(let error): return Failure(operation: "create", path: temporary, errno: error)
        }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { syscalls.pwrite(fd, $0, 0) }
        let moded = syscalls.changeMode(fd, mode)
        syscalls.close(fd)
        var failure: Failure?
        switch written {
        case .failure(let error): failure = Failure(operation: "write", path: temporary, errno: error)
        case .success(let count) where count != bytes.count: failure = Failure(operation: "write", path: temporary, errno: Errno(EIO))
        case .success: break
        }
        if failure == nil, case .failure(let error) = moded { failure = Failure(operation: "set the mode of", path: temporary, errno: error) }
        if failure == nil, case .failure(let error) = syscalls.rename(temporary, path) {
            failure = Failure(operation: "rename \(temporary) to", path: path, errno: error)
        }
        if failure != nil { _ = syscalls.unlink(temporary) }
        return failure
    }
}
