#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What `fstat` says about a file, as far as keepalived-tune cares.
public struct FileStatus: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case regular, directory, symlink, other }
    public let kind: Kind
    public let size: Int
    public let mode: UInt32
    public let owner: UInt32
    /// The inode number (for a `/proc/PID/ns/net` link: the namespace's identity).
    public let inode: UInt64
    /// The device of the file system it is on (where a mount begins, this changes).
    public let device: UInt64

    public init(kind: Kind, size: Int, mode: UInt32, owner: UInt32, inode: UInt64 = 0, device: UInt64 = 0) {
        self.kind = kind
        self.size = size
        self.mode = mode
        self.owner = owner
        self.inode = inode
        self.device = device
    }

    init(_ info: stat) {
        let type = info.st_mode & S_IFMT
        kind = type == S_IFREG ? .regular : type == S_IFDIR ? .directory : type == S_IFLNK ? .symlink : .other
        size = Int(info.st_size)
        mode = UInt32(info.st_mode)
        owner = UInt32(info.st_uid)
        inode = UInt64(info.st_ino)
        device = UInt64(info.st_dev)
    }
}
