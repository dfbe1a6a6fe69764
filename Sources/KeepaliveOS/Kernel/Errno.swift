#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An errno value with its C name and text, e.g. `EACCES (Permission denied)`.
public struct Errno: Error, Sendable, Hashable, CustomStringConvertible {
    public let code: Int32

    public init(_ code: Int32) { self.code = code }

    /// The errno of the last failed call on this thread.
    public static var current: Errno { Errno(errno) }

    /// The symbolic name for common codes, e.g. `EACCES`.
    public var name: String {
        switch code {
        case EPERM: "EPERM"
        case ENOENT: "ENOENT"
        case EIO: "EIO"
        case EACCES: "EACCES"
        case EBUSY: "EBUSY"
        case EEXIST: "EEXIST"
        case ENOTDIR: "ENOTDIR"
        case EISDIR: "EISDIR"
        case EINVAL: "EINVAL"
        case EMFILE: "EMFILE"
        case ENOSPC: "ENOSPC"
        case EROFS: "EROFS"
        case ELOOP: "ELOOP"
        case ENAMETOOLONG: "ENAMETOOLONG"
        case EAGAIN: "EAGAIN"
        case EINTR: "EINTR"
        default: "errno \(code)"
        }
    }

    /// The C library's text, e.g. `Permission denied`.
    public var text: String { String(cString: strerror(code)) }

    public var description: String { "\(text) (\(name))" }
}
