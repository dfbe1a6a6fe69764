import CLinux
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
    public init() throws(Errno) {
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { throw Errno.current }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Adds (or updates) a watch on `path` for the `IN_*` events in `mask`; returns its id.
    public func add(_ path: String, mask: UInt32) throws(Errno) -> Int32 {
        let watch = inotify_add_watch(fd, path, mask)
        guard watch >= 0 else { throw Errno.current }
        return watch
    }

    /// Removes a watch; a watch the kernel already dropped is ignored.
    public func remove(_ watch: Int32) {
        _ = inotify_rm_watch(fd, watch)
    }

    /// Reads every event queued now; empty when there are none.
    public func drain() -> [Event] {
        var events: [Event] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return events }
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

/// A signalfd(2) for SIGHUP, SIGTERM and SIGINT, which are blocked so they arrive here
/// instead of killing the process.
public final class SignalSource {
    /// The descriptor to poll for readability.
    public let fd: Int32

    /// Blocks the three signals and opens the descriptor.
    public init() throws(Errno) {
        let fd = kt_signalfd_for_daemon_signals()
        guard fd >= 0 else { throw Errno.current }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Blocks the daemon's signals in this thread before anything else runs, so a SIGHUP
    /// sent during start-up is kept pending instead of killing the process.
    public static func blockEarly() {
        _ = kt_block_daemon_signals()
    }

    /// Every signal pending now, in arrival order (standard signals do not queue, so a burst
    /// of SIGHUPs reads as one).
    public func drain() -> [Int32] {
        var signals: [Int32] = []
        while case let signal = kt_signalfd_read(fd), signal > 0 { signals.append(signal) }
        return signals
    }
}

/// Waits on descriptors with poll(2).
public enum Poller {
    /// Waits until one of `fds` is readable or `timeoutMilliseconds` pass (-1: no limit).
    ///
    /// - Returns: the readable descriptors; empty on a timeout or an interrupted wait.
    public static func wait(_ fds: [Int32], timeoutMilliseconds: Int32) -> Set<Int32> {
        var entries = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let ready = poll(&entries, nfds_t(entries.count), timeoutMilliseconds)
        guard ready > 0 else { return [] }
        return Set(entries.filter { $0.revents != 0 }.map(\.fd))
    }
}
