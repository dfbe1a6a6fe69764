import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_MONOTONIC, read through the vDSO (no system call).
public enum MonotonicClock {
    /// Now, as an ``Instant``; never goes backwards.
    public static func now() -> Instant {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Instant(microseconds: UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000)
    }
}
