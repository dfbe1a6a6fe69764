import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// Talks to the service manager through `sd_notify(3)`: readiness, status, reloading,
/// stopping and watchdog keep-alives.
///
/// Outside systemd (NOTIFY_SOCKET unset) every call is a cheap no-op.
public struct Notifier: Sendable {
    public init() {}

    /// Sends `KEY=VALUE` lines in one datagram; returns `sd_notify`'s result (> 0 sent,
    /// 0 no socket, < 0 -errno).
    ///
    /// The message is put together byte by byte: working on `Character`s would bring the
    /// standard library's Unicode machinery (megabytes of code) into the idle daemon.
    @discardableResult
    public func send(_ fields: [(String, String)]) -> Int32 {
        var state: [UInt8] = []
        for (key, value) in fields {
            if !state.isEmpty { state.append(UInt8(ascii: "\n")) }
            state += key.utf8
            state.append(UInt8(ascii: "="))
            // A newline in a value would start a new field.
            state += value.utf8.map { $0 == UInt8(ascii: "\n") ? UInt8(ascii: " ") : $0 }
        }
        state.append(0)
        return state.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { sd_notify(0, $0.baseAddress) }
        }
    }

    /// `READY=1` with a `STATUS=` line.
    @discardableResult
    public func ready(status: String) -> Int32 { send([("READY", "1"), ("STATUS", status)]) }

    /// `STATUS=` alone.
    @discardableResult
    public func status(_ text: String) -> Int32 { send([("STATUS", text)]) }

    /// `RELOADING=1` with `MONOTONIC_USEC=` (CLOCK_MONOTONIC in µs, read by the caller), as
    /// systemd expects.
    @discardableResult
    public func reloading(monotonicMicroseconds: UInt64) -> Int32 {
        send([("RELOADING", "1"), ("MONOTONIC_USEC", String(monotonicMicroseconds))])
    }

    /// `STOPPING=1` with a `STATUS=` line.
    @discardableResult
    public func stopping(status: String) -> Int32 { send([("STOPPING", "1"), ("STATUS", status)]) }

    /// `WATCHDOG=1`: a constant, since the idle loop sends it.
    @discardableResult
    public func watchdog() -> Int32 { sd_notify(0, "WATCHDOG=1") }

    /// The watchdog interval systemd asks this process to honour (`WatchdogSec=`), in µs,
    /// or `nil` when there is none (`sd_watchdog_enabled(3)`).
    public func watchdogInterval() -> UInt64? {
        var usec: UInt64 = 0
        return sd_watchdog_enabled(0, &usec) > 0 && usec > 0 ? usec : nil
    }
}
