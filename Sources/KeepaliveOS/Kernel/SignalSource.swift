import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// A signalfd(2) for SIGHUP, SIGTERM and SIGINT, which are blocked so they arrive here
/// instead of killing the process.
public final class SignalSource {
    /// The descriptor to poll for readability.
    public let fd: Int32
    private let syscalls: Syscalls

    /// Blocks the three signals and opens the descriptor.
    public init(syscalls: Syscalls) throws(Errno) {
        self.fd = try syscalls.signalFD().get()
        self.syscalls = syscalls
    }

    deinit { syscalls.close(fd) }

    /// Blocks the daemon's signals in this thread before anything else runs, so a SIGHUP
    /// sent during start-up is kept pending instead of killing the process.
    public static func blockEarly() {
        _ = kt_block_daemon_signals()
    }

    /// Every signal pending now, in arrival order (standard signals do not queue, so a burst
    /// of SIGHUPs reads as one).
    public func drain() -> [Int32] {
        var signals: [Int32] = []
        while case let signal = syscalls.readSignal(fd), signal > 0 { signals.append(signal) }
        return signals
    }
}
