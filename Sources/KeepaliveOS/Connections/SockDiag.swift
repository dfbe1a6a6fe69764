import CLinux
import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// The kernel's TCP socket dump (NETLINK_SOCK_DIAG, `inet_diag`): the request, and the
/// parsing of its replies into ``DiagSocket``s, apart from any I/O so that it is tested by
/// replaying recorded dumps (as `ss` replays `TCPDIAG_FILE`).
///
/// The kernel filters first: the request asks for TCP over one address family, every state
/// but LISTEN, with `INET_DIAG_INFO` (`struct tcp_info`). The reply is read by
/// ``NetlinkWalker``: a series of messages ending in NLMSG_DONE, where NLMSG_ERROR and an
/// interrupted dump (NLM_F_DUMP_INTR) are failures. The kernel's structs come from its
/// headers, through the CLinux shim, in host byte order (the ports and addresses of
/// `inet_diag_sockid` are in network order).
public enum SockDiag {
    /// Why a dump could not be used.
    public typealias Failure = NetlinkFailure

    /// Every TCP state but LISTEN, as a state mask (`1 << TCP_STATE`).
    public static let connectionStates: UInt32 = allStates & ~(1 << UInt32(TCP_LISTEN))
    /// Every TCP state, listeners included.
    public static let allStates: UInt32 = (1 << UInt32(TCP_CLOSING + 1)) - 1

    /// The request for TCP sockets of `family` (AF_INET or AF_INET6) in `states`, with
    /// `struct tcp_info`: a `struct inet_diag_req_v2` whose socket id (all zeros) matches all.
    public static func request(family: Int32, sequence: UInt32, states: UInt32 = connectionStates) -> [UInt8] {
        var request = inet_diag_req_v2()
        request.sdiag_family = UInt8(family)
        request.sdiag_protocol = UInt8(IPPROTO_TCP)
        request.idiag_ext = UInt8(1 << (INET_DIAG_INFO - 1))
        request.idiag_states = states
        return NetlinkMessage.bytes(type: UInt16(SOCK_DIAG_BY_FAMILY), flags: UInt16(NLM_F_REQUEST | NLM_F_DUMP),
                                    sequence: sequence, payload: withUnsafeBytes(of: request) { Array($0) })
    }

    /// The sockets in a whole reply to the request numbered `sequence` (every datagram
    /// received, back to back, all from the kernel).
    public static func parse(_ reply: [UInt8], sequence: UInt32) -> Result<[DiagSocket], Failure> {
        var sockets: [DiagSocket] = []
        var walker = NetlinkWalker(sequence: sequence)
        let outcome = reply.withUnsafeBytes { raw in
            Result { () throws(Failure) -> Bool in
                try walker.walk(raw, length: raw.count, sender: 0) { message throws(Failure) in try collect(message, into: &sockets) }
            }
        }
        return outcome.flatMap { done in done ? .success(sockets) : .failure(.truncated) }
    }

    /// Adds the socket a SOCK_DIAG_BY_FAMILY message describes; other messages are skipped.
    static func collect(_ message: NetlinkMessage, into sockets: inout [DiagSocket]) throws(Failure) {
        guard Int32(message.type) == SOCK_DIAG_BY_FAMILY else { return }
        guard let socket = DiagSocket(message.payload) else { throw .malformed("a socket message of \(message.payload.count) bytes") }
        sockets.append(socket)
    }
}

extension DiagSocket {
    /// Where `struct tcp_info`'s fields that the audit reads lie (glibc's layout of the
    /// kernel's struct), and how long an `INET_DIAG_INFO` attribute must be to hold them.
    private static let unacknowledgedOffset = MemoryLayout<tcp_info>.offset(of: \.tcpi_unacked)!
    private static let lastDataReceivedOffset = MemoryLayout<tcp_info>.offset(of: \.tcpi_last_data_recv)!
    private static let lastAckReceivedOffset = MemoryLayout<tcp_info>.offset(of: \.tcpi_last_ack_recv)!
    private static let infoSize = lastAckReceivedOffset + MemoryLayout<UInt32>.size

    /// Parses `struct inet_diag_msg` and its attributes (`INET_DIAG_INFO`, `INET_DIAG_CGROUP_ID`).
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= MemoryLayout<inet_diag_msg>.size else { return nil }
        let message = bytes.loadUnaligned(as: inet_diag_msg.self)
        let family = Int32(message.idiag_family)
        guard let state = SocketRecord.State(rawValue: message.idiag_state) else { return nil }
        let timer = SocketRecord.Timer(rawValue: message.idiag_timer) ?? .none
        var idle: Int?, unacknowledged = 0, cgroup: UInt64?
        let attributes = UnsafeRawBufferPointer(rebasing: bytes[min(bytes.count, Int(kt_nlmsg_align(UInt32(MemoryLayout<inet_diag_msg>.size))))...])
        let wellFormed = NetlinkMessage.attributes(in: attributes) { type, value in
            if Int(type) == INET_DIAG_INFO, value.count >= DiagSocket.infoSize {
                unacknowledged = Int(value.loadUnaligned(fromByteOffset: DiagSocket.unacknowledgedOffset, as: UInt32.self))
                idle = Int(min(value.loadUnaligned(fromByteOffset: DiagSocket.lastDataReceivedOffset, as: UInt32.self),
                               value.loadUnaligned(fromByteOffset: DiagSocket.lastAckReceivedOffset, as: UInt32.self)))
            } else if Int(type) == INET_DIAG_CGROUP_ID, value.count >= MemoryLayout<UInt64>.size {
                cgroup = value.loadUnaligned(as: UInt64.self)
            }
        }
        guard wellFormed else { return nil }
        var record = SocketRecord(state: state, timer: timer, expiresMilliseconds: Int(message.idiag_expires),
                                  retransmits: Int(message.idiag_retrans), inode: UInt64(message.idiag_inode),
                                  idleMilliseconds: idle, unacknowledged: unacknowledged)
        record.keepalive = record.inferredKeepalive
        let id = message.id
        self.init(local: withUnsafeBytes(of: id.idiag_src) { DiagSocket.endpoint(family, $0, Int(UInt16(bigEndian: id.idiag_sport))) },
                  remote: withUnsafeBytes(of: id.idiag_dst) { DiagSocket.endpoint(family, $0, Int(UInt16(bigEndian: id.idiag_dport))) },
                  uid: message.idiag_uid, cgroupID: cgroup, record: record)
    }

    /// `1.2.3.4:80` or `[::1]:80`.
    static func endpoint(_ family: Int32, _ address: UnsafeRawBufferPointer, _ port: Int) -> String {
        if family != AF_INET6 {
            // Dotted quad by hand: inet_ntop and a C string per socket cost more than the rest.
            return "\(address[0]).\(address[1]).\(address[2]).\(address[3]):\(port)"
        }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { text in
            _ = inet_ntop(family, address.baseAddress, text.baseAddress, 64)
            return "[\(String(cString: text.baseAddress!))]:\(port)"
        }
    }
}
