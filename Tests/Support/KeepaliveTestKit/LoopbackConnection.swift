import CTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A listener on 127.0.0.1:PORT and one connection to it, made with plain socket calls in the
/// calling thread's namespace, each close-on-exec (a child the test spawns holds none);
/// `close()` closes all three.
public struct LoopbackConnection: Sendable {
    /// The listening socket, the connecting one, and the one `accept` gave.
    public let listener: Int32, client: Int32, server: Int32

    /// Listens on 127.0.0.1:`port`, connects to it and accepts the connection.
    public init(port: UInt16) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        /// `result`, or the errno of `what` as an error.
        func call(_ result: Int32, _ what: String) throws -> Int32 {
            guard result >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO, userInfo: ["call": what]) }
            return result
        }
        let listening = try call(socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0), "socket")
        _ = try withUnsafePointer(to: &address) { try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try call(bind(listening, $0, length), "bind") } }
        _ = try call(listen(listening, 4), "listen")
        let connecting = try call(socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0), "socket")
        _ = try withUnsafePointer(to: &address) { try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try call(connect(connecting, $0, length), "connect") } }
        (listener, client, server) = (listening, connecting, try call(kt_accept_cloexec(listening), "accept"))
    }

    /// Closes the three sockets.
    public func close() {
        for fd in [client, server, listener] { Glibc.close(fd) }
    }
}
