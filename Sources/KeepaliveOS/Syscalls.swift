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

/// The one seam through which the OS layer makes system calls on files.
///
/// ``live`` calls the C library. Tests build a variant that fails chosen calls with a
/// chosen errno, so fault handling is exercised without a broken kernel.
public struct Syscalls: Sendable {
    /// `open(2)`: returns the descriptor.
    public var open: @Sendable (_ path: String, _ flags: Int32) -> Result<Int32, Errno>
    /// `pread(2)`: reads into the buffer at the offset, returns the byte count.
    public var pread: @Sendable (_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int) -> Result<Int, Errno>
    /// `pwrite(2)`: writes the bytes at the offset, returns the byte count.
    public var pwrite: @Sendable (_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ offset: Int) -> Result<Int, Errno>
    /// `ftruncate(2)`: cuts a file to a length.
    public var ftruncate: @Sendable (_ fd: Int32, _ length: Int) -> Result<Void, Errno>
    /// `fstat(2)`: whether the descriptor is a regular file, a directory, and its size.
    public var fstat: @Sendable (_ fd: Int32) -> Result<FileStatus, Errno>
    /// `close(2)`.
    public var close: @Sendable (_ fd: Int32) -> Void
    /// `opendir(3)`/`readdir(3)`: the names in a directory, without `.` and `..`.
    public var readDirectory: @Sendable (_ path: String) -> Result<[String], Errno>
    /// `stat(2)` (`lstat(2)` when `follow` is false) of a path.
    public var pathStatus: @Sendable (_ path: String, _ follow: Bool) -> Result<FileStatus, Errno>
    /// `realpath(3)`: the canonical absolute path, every symlink resolved.
    public var realPath: @Sendable (_ path: String) -> Result<String, Errno>

    public init(open: @escaping @Sendable (String, Int32) -> Result<Int32, Errno>,
                pread: @escaping @Sendable (Int32, UnsafeMutableRawBufferPointer, Int) -> Result<Int, Errno>,
                pwrite: @escaping @Sendable (Int32, UnsafeRawBufferPointer, Int) -> Result<Int, Errno>,
                ftruncate: @escaping @Sendable (Int32, Int) -> Result<Void, Errno>,
                fstat: @escaping @Sendable (Int32) -> Result<FileStatus, Errno>,
                close: @escaping @Sendable (Int32) -> Void,
                readDirectory: @escaping @Sendable (String) -> Result<[String], Errno>,
                pathStatus: @escaping @Sendable (String, Bool) -> Result<FileStatus, Errno>,
                realPath: @escaping @Sendable (String) -> Result<String, Errno>) {
        self.open = open
        self.readDirectory = readDirectory
        self.pathStatus = pathStatus
        self.realPath = realPath
        self.pread = pread
        self.pwrite = pwrite
        self.ftruncate = ftruncate
        self.fstat = fstat
        self.close = close
    }

    /// The real C library calls, retried on EINTR.
    public static let live = Syscalls(
        open: { path, flags in retrying { Glibc.open(path, flags | O_CLOEXEC) }.map { Int32($0) } },
        pread: { fd, buffer, offset in
            retrying { Int(Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset))) }
        },
        pwrite: { fd, bytes, offset in
            retrying { Int(Glibc.pwrite(fd, bytes.baseAddress, bytes.count, off_t(offset))) }
        },
        ftruncate: { fd, length in
            retrying { Glibc.ftruncate(fd, off_t(length)) }.map { _ in () }
        },
        fstat: { fd in
            var info = Glibc.stat()
            guard Glibc.fstat(fd, &info) == 0 else { return .failure(.current) }
            return .success(FileStatus(info))
        },
        close: { fd in _ = Glibc.close(fd) },
        readDirectory: { path in
            guard let directory = opendir(path) else { return .failure(.current) }
            defer { closedir(directory) }
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            return .success(names)
        },
        pathStatus: { path, follow in
            var info = Glibc.stat()
            let result = follow ? stat(path, &info) : lstat(path, &info)
            return result == 0 ? .success(FileStatus(info)) : .failure(.current)
        },
        realPath: { path in
            guard let resolved = Glibc.realpath(path, nil) else { return .failure(.current) }
            defer { free(resolved) }
            return .success(String(cString: resolved))
        })

    /// Runs a call until it does not fail with EINTR.
    private static func retrying<T: BinaryInteger>(_ call: () -> T) -> Result<T, Errno> {
        while true {
            let result = call()
            if result >= 0 { return .success(result) }
            if errno != EINTR { return .failure(.current) }
        }
    }
}

/// What `fstat` says about a file, as far as keepalived-tune cares.
public struct FileStatus: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case regular, directory, symlink, other }
    public let kind: Kind
    public let size: Int
    public let mode: UInt32
    public let owner: UInt32

    public init(kind: Kind, size: Int, mode: UInt32, owner: UInt32) {
        self.kind = kind
        self.size = size
        self.mode = mode
        self.owner = owner
    }

    init(_ info: stat) {
        let type = info.st_mode & S_IFMT
        kind = type == S_IFREG ? .regular : type == S_IFDIR ? .directory : type == S_IFLNK ? .symlink : .other
        size = Int(info.st_size)
        mode = UInt32(info.st_mode)
        owner = UInt32(info.st_uid)
    }
}
