#if canImport(Glibc)
import Glibc
#endif

/// The wall clock, for what people read (when originals were saved).
public enum WallClock {
    /// `2026-12-02 10:50` in local time, for seconds since the epoch.
    public static func format(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
