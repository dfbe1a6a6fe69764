import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// Talks to the service manager through the `NOTIFY_SOCKET` protocol (`sd_notify(3)`):
/// readiness, status, reloading, stopping and watchdog keep-alives.
///
/// It never blocks. libsystemd's `sd_notify` sends with a blocking `sendmsg`, so a receiver
/// that does not read (its queue holds `net.unix.max_dgram_qlen` datagrams, 10 by default)
/// would stop the daemon's loop, drift correction and SIGTERM included. Here one
/// non-blocking socket sends with `MSG_DONTWAIT`: when the receiver's queue is full the
/// message is dropped (the next status says the same thing anew). Outside systemd
/// (NOTIFY_SOCKET unset) every call is a cheap no-op.
public final class Notifier: Sendable {
    /// The socket, or -1 when there is no NOTIFY_SOCKET (or it is not an AF_UNIX address).
    private let fd: Int32
    /// The receiver's address.
    private let address: sockaddr_un
    private let addressLength: socklen_t

    /// A notifier for the `NOTIFY_SOCKET` in the environment now: a path, or `@name` for
    /// the abstract namespace.
    public init() {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = getenv("NOTIFY_SOCKET").map { Array(String(cString: $0).utf8) } ?? []
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard let first = path.first, first == UInt8(ascii: "/") || first == UInt8(ascii: "@"), path.count < capacity else {
            (fd, self.address, addressLength) = (-1, address, 0)
            return
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
            if first == UInt8(ascii: "@") { raw[0] = 0 }   // abstract: a leading NUL, no terminator
        }
        let pathLength = first == UInt8(ascii: "@") ? path.count : path.count + 1
        self.address = address
        addressLength = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + pathLength)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Sends `KEY=VALUE` lines in one datagram; returns > 0 when sent, 0 when there is no
    /// socket, or -errno (-EAGAIN: the receiver's queue is full and the message was dropped).
    ///
    /// The message is put together byte by byte: working on `Character`s would bring the
    /// standard library's Unicode machinery (megabytes of code) into the idle daemon.
    @discardableResult
    public func send(_ fields: [(String, String)]) -> Int32 {
        var message: [UInt8] = []
        for (key, value) in fields {
            if !message.isEmpty { message.append(UInt8(ascii: "\n")) }
            message += key.utf8
            message.append(UInt8(ascii: "="))
            // A newline in a value would start a new field.
            message += value.utf8.map { $0 == UInt8(ascii: "\n") ? UInt8(ascii: " ") : $0 }
        }
        return send(message)
    }

    /// Sends one datagram without blocking.
    private func send(_ message: [UInt8]) -> Int32 {
        guard fd >= 0 else { return 0 }
        var target = address
        let sent = message.withUnsafeBytes { bytes in
            withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL), $0, addressLength)
                }
            }
        }
        return sent >= 0 ? 1 : -errno
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

    /// The watchdog keep-alive, `WATCHDOG=1`: a constant, since the idle loop sends it.
    private static let watchdogMessage = Array("WATCHDOG=1".utf8)

    /// `WATCHDOG=1`.
    @discardableResult
    public func watchdog() -> Int32 { send(Notifier.watchdogMessage) }

    /// The watchdog interval systemd asks this process to honour (`WatchdogSec=`), in µs,
    /// or `nil` when there is none (`sd_watchdog_enabled(3)`).
    public func watchdogInterval() -> UInt64? {
        var usec: UInt64 = 0
        return sd_watchdog_enabled(0, &usec) > 0 && usec > 0 ? usec : nil
    }
}
