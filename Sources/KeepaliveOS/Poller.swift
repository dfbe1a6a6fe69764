#if canImport(Glibc)
import Glibc
#endif

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
