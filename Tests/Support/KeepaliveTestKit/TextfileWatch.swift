import Foundation

/// An inotify watch on one directory (inotify_init1 with IN_CLOEXEC and IN_NONBLOCK, and
/// inotify_add_watch), reporting the events on its entries as they come.
public final class DirectoryWatch: @unchecked Sendable {
    /// One event: its mask and the name of the entry it concerns (empty for the directory).
    public struct Event: Sendable, CustomStringConvertible {
        /// The `IN_*` bits.
        public let mask: UInt32
        /// The entry's name.
        public let name: String
        /// `NAME 0xMASK`, for failure messages.
        public var description: String { "\(name) 0x\(String(mask, radix: 16))" }
    }

    private let fd: Int32

    /// Watches `directory` for the events in `mask` from now on.
    public init(_ directory: String, mask: UInt32) throws {
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EMFILE) }
        guard inotify_add_watch(fd, directory, mask) >= 0 else {
            let error = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: error) ?? .EIO)
        }
    }

    /// Closes the inotify descriptor, which ends the watch.
    deinit { close(fd) }

    /// Waits (in poll(2)) until events are queued or `deadline` passes; returns every event
    /// queued by then, in order, or none at the deadline.
    public func events(until deadline: Date) -> [Event] {
        while true {
            let queued = drain()
            if !queued.isEmpty { return queued }
            let milliseconds = (deadline.timeIntervalSinceNow * 1000).rounded(.up)
            guard milliseconds > 0 else { return [] }
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&ready, 1, Int32(min(milliseconds, Double(Int32.max))))   // EINTR: look again
        }
    }

    /// Every event queued now, without waiting.
    public func pendingEvents() -> [Event] { events(until: .distantPast) }

    /// Reads the queue until it is empty (EAGAIN) and decodes each `struct inotify_event`.
    private func drain() -> [Event] {
        var events: [Event] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let header = MemoryLayout<inotify_event>.size
        while case let count = read(fd, &buffer, buffer.count), count > 0 {
            var offset = 0
            while offset + header <= count {
                let (mask, length) = buffer.withUnsafeBytes { raw in
                    (raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                     Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
                }
                let name = buffer[(offset + header)..<(offset + header + length)].prefix { $0 != 0 }
                events.append(Event(mask: mask, name: String(decoding: name, as: UTF8.self)))
                offset += header + length
            }
        }
        return events
    }
}

/// Waits for a file that its writer replaces whole, as the daemon does its metrics textfile:
/// it writes `PATH.tmp` and renames it over `PATH`, so each new version arrives as an
/// `IN_MOVED_TO` of the file's name in its directory. No polling: the waits are in poll(2)
/// on the inotify descriptor, bounded by a timeout.
public final class TextfileWatch: @unchecked Sendable {
    /// The file's path.
    public let path: String
    private let name: String
    private let watch: DirectoryWatch
    /// The contents last read, for failure messages (`nil` before any, or if it was missing).
    public private(set) var last: String?

    /// Arms the watch: every version renamed over `path` from now on is seen.
    public init(_ path: String) throws {
        self.path = path
        name = (path as NSString).lastPathComponent
        watch = try DirectoryWatch((path as NSString).deletingLastPathComponent, mask: UInt32(IN_MOVED_TO))
    }

    /// The contents once the next version is renamed over the path (since the watch was
    /// armed, or since the version a call before returned); at least as new as that version.
    /// `nil` if none came within `timeout` seconds.
    public func next(timeout: Double = MessageLog.defaultTimeout) -> String? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while replaced(before: deadline) {
            if let text = read() { return text }
        }
        return nil
    }

    /// The contents once `predicate` holds for them: the file as it is now, then each new
    /// version as it is renamed over the path. `nil` if none held within `timeout` seconds
    /// (``last`` then holds the last version read).
    public func wait(timeout: Double = MessageLog.defaultTimeout, until predicate: (String) -> Bool) -> String? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var text = read()
        while true {
            if let text, predicate(text) { return text }
            guard replaced(before: deadline) else { return nil }
            text = read()
        }
    }

    /// Waits for an `IN_MOVED_TO` of the file's name (or a queue overflow, which may have
    /// hidden one); whether one came before `deadline`.
    private func replaced(before deadline: Date) -> Bool {
        while case let events = watch.events(until: deadline), !events.isEmpty {
            if events.contains(where: { $0.name == name || $0.mask & UInt32(IN_Q_OVERFLOW) != 0 }) { return true }
        }
        return false
    }

    /// The file's contents now (read with O_CLOEXEC), kept in ``last``.
    private func read() -> String? {
        last = (try? TemporaryDirectory.contents(of: path)).map { String(decoding: $0, as: UTF8.self) }
        return last
    }
}
