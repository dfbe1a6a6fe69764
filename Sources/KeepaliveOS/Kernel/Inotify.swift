#if canImport(Glibc)
import Glibc
#endif

/// An inotify(7) instance: watches files and directories and reports what changed.
///
/// Used by the daemon for the keepalive sysctl files (a fast hint of drift) and for the
/// config and profile directories (reload on save).
public final class Inotify {
    /// The descriptor to poll for readability.
    public let fd: Int32
    private let syscalls: Syscalls
    /// One read buffer for the life of the instance: draining is on the daemon's hot path.
    private var buffer = [UInt8](repeating: 0, count: 4096)

    /// One change reported by the kernel.
    public struct Event: Sendable, Hashable {
        /// The watch it belongs to.
        public let watch: Int32
        /// The `IN_*` bits.
        public let mask: UInt32
        /// The name of the entry inside a watched directory; empty for the watched file itself.
        public let name: String
    }

    /// Creates a non-blocking, close-on-exec instance.
    public init(syscalls: Syscalls) throws(Errno) {
        self.fd = try syscalls.inotifyInit().get()
        self.syscalls = syscalls
    }

    deinit { syscalls.close(fd) }

    /// Adds (or updates) a watch on `path` for the `IN_*` events in `mask`; returns its id.
    public func add(_ path: String, mask: UInt32) throws(Errno) -> Int32 {
        try syscalls.inotifyAddWatch(fd, path, mask).get()
    }

    /// Removes a watch; a watch the kernel already dropped is ignored.
    public func remove(_ watch: Int32) {
        syscalls.inotifyRemoveWatch(fd, watch)
    }

    /// Reads every event queued now; empty when there are none.
    public func drain() -> [Event] {
        var events: [Event] = []
        while true {
            guard case .success(let count) = buffer.withUnsafeMutableBytes({ syscalls.read(fd, $0) }), count > 0 else {
                return events
            }
            buffer.withUnsafeBytes { raw in
                var offset = 0
                let header = MemoryLayout<inotify_event>.size
                while offset + header <= count {
                    let watch = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    let nameBytes = raw[(offset + header)..<(offset + header + length)]
                    let name = String(decoding: nameBytes.prefix(while: { $0 != 0 }), as: UTF8.self)
                    events.append(Event(watch: watch, mask: mask, name: name))
                    offset += header + length
                }
            }
        }
    }
}
