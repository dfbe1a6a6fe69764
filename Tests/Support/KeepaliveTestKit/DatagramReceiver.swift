import Foundation

/// An AF_UNIX datagram socket bound at a path, drained by a thread of its own, that
/// keeps every message so tests can wait for the one they expect.
///
/// Serves as NOTIFY_SOCKET (sd_notify's `KEY=VALUE` lines) and as a stand-in for
/// journald's native socket (`KEY=VALUE\n` fields, or `KEY\n` + 64-bit LE length +
/// bytes + `\n` for values with newlines).
public final class DatagramReceiver: @unchecked Sendable {
    /// The socket's path.
    public let path: String
    /// What has arrived so far.
    public let messages = MessageLog()
    private let inbox: Inbox

    /// Binds the socket and starts draining it.
    public init(path: String) throws {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        precondition(bytes.count < MemoryLayout.size(ofValue: address.sun_path), "socket path too long")
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var size: Int32 = 4 * 1024 * 1024
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        let inbox = Inbox(fd: fd, log: messages)
        self.inbox = inbox
        Thread { inbox.drain() }.start()
    }

    deinit {
        inbox.close()
        unlink(path)
    }

    /// The socket's reading side, owned by the draining thread so it outlives the receiver.
    private final class Inbox: @unchecked Sendable {
        let fd: Int32
        let log: MessageLog

        init(fd: Int32, log: MessageLog) {
            self.fd = fd
            self.log = log
        }

        func drain() {
            var buffer = [UInt8](repeating: 0, count: 256 * 1024)
            while case let count = buffer.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, 0) }), count > 0 {
                log.append(DatagramReceiver.decode(Array(buffer.prefix(count))))
            }
            Glibc.close(fd)
        }

        /// Ends the draining thread: recv returns 0 after a shutdown.
        func close() { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// Decodes one datagram's fields (both the notify and the journal native format).
    static func decode(_ bytes: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        var index = 0
        while index < bytes.count {
            guard let end = bytes[index...].firstIndex(where: { $0 == 0x0A || $0 == 0x3D }) else { break }
            let name = String(decoding: bytes[index..<end], as: UTF8.self)
            if bytes[end] == 0x3D {   // NAME=value\n
                let valueEnd = bytes[(end + 1)...].firstIndex(of: 0x0A) ?? bytes.count
                fields[name] = String(decoding: bytes[(end + 1)..<valueEnd], as: UTF8.self)
                index = valueEnd + 1
            } else {                  // NAME\n <u64 LE length> value \n
                guard end + 9 <= bytes.count else { break }
                var length = 0
                for shift in 0..<8 { length |= Int(bytes[end + 1 + shift]) << (8 * shift) }
                let start = end + 9
                fields[name] = String(decoding: bytes[start..<min(start + length, bytes.count)], as: UTF8.self)
                index = start + length + 1
            }
        }
        return fields
    }

    /// Every message received so far.
    public var all: [[String: String]] { messages.all }

    /// Waits for a message; see ``MessageLog/wait(from:timeout:_:)``.
    public func wait(from: Int = 0, timeout: Double = MessageLog.defaultTimeout,
                     _ predicate: ([String: String]) -> Bool) -> (message: [String: String], index: Int)? {
        messages.wait(from: from, timeout: timeout, predicate)
    }
}
