import CLinux
#if canImport(Glibc)
import Glibc
#endif

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
