#if canImport(Glibc)
import Glibc
#endif

/// Waits on a fixed set of descriptors with poll(2).
///
/// The `pollfd` entries are built once, in memory of their own that only this value owns,
/// and reused: waiting is the idle loop's every wake-up, so it allocates nothing and makes
/// no copy-on-write check. Not copyable, so that one owner frees the entries.
public struct Poller: ~Copyable {
    private let entries: UnsafeMutableBufferPointer<pollfd>
    private let syscalls: Syscalls

    /// A poller for readability of `fds`, and for the exceptional condition (POLLPRI) of
    /// `priority`, which is how `/proc/self/mountinfo` says the mount table changed.
    public init(watching fds: [Int32], priority: [Int32] = [], syscalls: Syscalls) {
        self.syscalls = syscalls
        entries = .allocate(capacity: fds.count + priority.count)
        for (index, fd) in fds.enumerated() {
            entries.initializeElement(at: index, to: pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
        }
        for (index, fd) in priority.enumerated() {
            entries.initializeElement(at: fds.count + index, to: pollfd(fd: fd, events: Int16(POLLPRI), revents: 0))
        }
    }

    deinit { entries.deallocate() }

    /// Waits until a descriptor is readable or `timeoutMilliseconds` pass (-1: no limit).
    ///
    /// - Returns: how many descriptors are ready; 0 on a timeout or an interrupted wait.
    @discardableResult
    public func wait(timeoutMilliseconds: Int32) -> Int {
        let ready = syscalls.poll(entries.baseAddress!, entries.count, timeoutMilliseconds)
        if ready <= 0 {
            for index in entries.indices { entries[index].revents = 0 }
            return 0
        }
        return ready
    }

    /// Whether the last ``wait(timeoutMilliseconds:)`` found `fd` ready (readable, or
    /// in an error state that a read will report).
    public func isReady(_ fd: Int32) -> Bool {
        entries.contains { $0.fd == fd && $0.revents != 0 }
    }
}
