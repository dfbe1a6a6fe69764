import CLibbpf
#if canImport(Glibc)
import Glibc
#endif
import KeepaliveModel

/// Where the hooks go: the cgroup2 directory the programs attach to (every descendant is
/// covered) and the pin directory on a bpf file system that keeps them across a crash.
public struct BPFPlace: Sendable, Hashable {
    /// The cgroup2 directory, e.g. `/sys/fs/cgroup` (production) or a test's own sub-cgroup.
    public let cgroup: String
    /// The pin layout, under e.g. `/sys/fs/bpf/keepalived-tune`.
    public let pins: PinLayout

    /// A place: the cgroup directory and the pin layout (by default under /sys/fs/bpf/keepalived-tune).
    public init(cgroup: String, pins: PinLayout = PinLayout()) {
        self.cgroup = cgroup
        self.pins = pins
    }

    /// statfs(2)'s magic numbers for cgroup2 and the bpf file system.
    static let cgroup2Magic: Int64 = 0x6367_7270
    static let bpfMagic: Int64 = 0xCAFE_4A11

    /// The cgroup directory's id; `.noCgroup2` unless it is a directory of a cgroup2 mount.
    func cgroupID() throws(BPFError) -> CgroupID {
        var type: Int64 = 0
        guard kt_filesystem_type(cgroup, &type) == 0, type == Self.cgroup2Magic else {
            throw BPFError("checking \(cgroup)", unavailable: .noCgroup2(path: cgroup))
        }
        var id: UInt64 = 0
        let result = kt_cgroup_id(cgroup, &id)
        if result < 0 { throw BPFError("reading the cgroup id of \(cgroup)", errno: -result) }
        return CgroupID(id)
    }

    /// Opens the cgroup directory for an attach (read-only, close-on-exec); the caller closes it.
    func openCgroup() throws(BPFError) -> Int32 {
        let fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw BPFError("opening \(cgroup)", errno: errno) }
        return fd
    }

    /// Checks that the pin directory is (or will be, once made) on a bpf file system: the
    /// nearest existing directory on its path must be.
    func checkPinFilesystem() throws(BPFError) {
        var path = pins.directory
        while true {
            var type: Int64 = 0
            let result = kt_filesystem_type(path, &type)
            if result == 0 {
                guard type == Self.bpfMagic else {
                    throw BPFError("checking \(pins.directory)", unavailable: .noBPFFilesystem(path: pins.directory))
                }
                return
            }
            guard result == -ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex else {
                throw BPFError("checking \(pins.directory)", unavailable: .noBPFFilesystem(path: pins.directory))
            }
            path = String(path[..<slash])
        }
    }

    /// Makes the pin directory and the hook's subdirectory (mode 0700) if they are missing.
    func makePinDirectories(for hook: PinLayout.Hook) throws(BPFError) {
        for directory in [pins.directory, pins.directory(for: hook)] {
            if mkdir(directory, 0o700) != 0 && errno != EEXIST {
                throw BPFError("creating the pin directory \(directory)", errno: errno)
            }
        }
    }

    /// Removes the hook's subdirectory, then the pin directory, each only if it is empty
    /// (what someone else put there stays, and so does a directory that is a mount point).
    func removePinDirectories(for hook: PinLayout.Hook) {
        _ = rmdir(pins.directory(for: hook))
        _ = rmdir(pins.directory)
    }

    /// Whether something is pinned (or any file exists) at `path`.
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Removes a pin; one that is already gone is not an error.
    static func unpin(_ path: String) throws(BPFError) {
        if unlink(path) != 0 && errno != ENOENT { throw BPFError("unpinning \(path)", errno: errno) }
    }
}
