import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// A netlink socket, through the seam, in the network namespace of the thread that opens
/// it: it sends requests and receives datagrams with their sender, for ``NetlinkWalker``.
struct NetlinkSocket {
    /// The socket's descriptor (to poll, for a multicast listener).
    let fd: Int32
    let syscalls: Syscalls

    /// Opens a netlink socket of `protocol` (NETLINK_SOCK_DIAG, NETLINK_ROUTE), close-on-exec,
    /// non-blocking if asked, bound and joined to the multicast `groups` if any are given.
    static func open(protocol: Int32, nonBlocking: Bool = false, groups: [Int32] = [], syscalls: Syscalls) -> Result<NetlinkSocket, Errno> {
        let type = Int32(SOCK_RAW.rawValue) | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0)
        let socket: NetlinkSocket
        switch syscalls.socket(AF_NETLINK, type, `protocol`) {
        case .success(let fd): socket = NetlinkSocket(fd: fd, syscalls: syscalls)
        case .failure(let error): return .failure(error)
        }
        guard !groups.isEmpty else { return .success(socket) }
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        var joined = withUnsafeBytes(of: &address) { syscalls.bind(socket.fd, $0) }
        for group in groups {
            joined = joined.flatMap { syscalls.setSocketOption(socket.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group) }
        }
        if case .failure(let error) = joined {
            socket.close()
            return .failure(error)
        }
        return .success(socket)
    }

    /// Sends one request to the kernel.
    func send(_ request: [UInt8]) -> Result<Void, Errno> {
        request.withUnsafeBytes { syscalls.send(fd, $0) }.map { _ in () }
    }

    /// Receives one datagram into `buffer` (`flags`: MSG_DONTWAIT, say): its whole length,
    /// which exceeds the buffer's if the buffer cut it, and the sender's port id (0: the
    /// kernel).
    func receive(into buffer: UnsafeMutableRawBufferPointer, flags: Int32 = 0) -> Result<(length: Int, sender: UInt32), Errno> {
        var address = sockaddr_nl()
        let received = withUnsafeMutableBytes(of: &address) { syscalls.receive(fd, buffer, $0, flags | Int32(MSG_TRUNC)) }
        return received.map { ($0, address.nl_pid) }
    }

    /// Closes the socket.
    func close() { syscalls.close(fd) }
}
