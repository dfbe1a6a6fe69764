import KeepaliveModel
#if canImport(Glibc)
import Glibc
#endif

/// The kernel's TCP socket dump (NETLINK_SOCK_DIAG, `inet_diag`): the request, and the
/// parsing of its replies into ``DiagSocket``s, apart from any I/O so that it is tested by
/// replaying recorded dumps (as `ss` replays `TCPDIAG_FILE`).
///
/// The kernel filters first: the request asks for TCP over one address family, every state
/// but LISTEN, with `INET_DIAG_INFO` (`struct tcp_info`). The reply is a series of netlink
/// messages ending in NLMSG_DONE; NLMSG_ERROR and an interrupted dump (NLM_F_DUMP_INTR) are
/// errors, as iproute2's `rtnl_dump_filter_l()` treats them.
public enum SockDiag {
    static let sockDiagByFamily: UInt16 = 20
    static let done: UInt16 = 3
    static let error: UInt16 = 2
    static let dumpInterrupted: UInt16 = 0x10
    static let infoAttribute: UInt16 = 2
    static let cgroupAttribute: UInt16 = 21

    /// Why a dump could not be used.
    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// The kernel answered NLMSG_ERROR with this errno.
        case kernel(Int32)
        /// The socket table changed during the dump; dump again.
        case interrupted
        /// The bytes are not a well-formed reply.
        case malformed(String)
        /// The reply ended without NLMSG_DONE.
        case truncated

        public var description: String {
            switch self {
            case .kernel(let code): "the kernel refused the dump: \(Errno(code))"
            case .interrupted: "the dump was interrupted (the socket table changed); dump again"
            case .malformed(let what): "malformed sock_diag reply: \(what)"
            case .truncated: "the sock_diag reply ended without NLMSG_DONE"
            }
        }
    }

    /// Every TCP state but LISTEN, as a state mask (`1 << TCP_STATE`).
    public static let connectionStates: UInt32 = 0xFFF & ~(1 << 10)
    /// Every TCP state, listeners included.
    public static let allStates: UInt32 = 0xFFF

    /// The request for TCP sockets of `family` (AF_INET or AF_INET6) in `states`, with
    /// `struct tcp_info`.
    public static func request(family: Int32, sequence: UInt32, states: UInt32 = connectionStates) -> [UInt8] {
        var bytes: [UInt8] = []
        append(&bytes, UInt32(16 + 56))
        append(&bytes, sockDiagByFamily)
        append(&bytes, UInt16(0x301))   // NLM_F_REQUEST | NLM_F_DUMP
        append(&bytes, sequence)
        append(&bytes, UInt32(0))
        bytes += [UInt8(family), UInt8(IPPROTO_TCP), UInt8(1 << (infoAttribute - 1)), 0]
        append(&bytes, states)
        bytes += [UInt8](repeating: 0, count: 48)   // struct inet_diag_sockid: match all
        return bytes
    }

    /// The sockets in a whole reply (every datagram received, back to back).
    public static func parse(_ reply: [UInt8]) -> Result<[DiagSocket], Failure> {
        var sockets: [DiagSocket] = []
        let outcome = reply.withUnsafeBytes { parse(datagram: $0, into: &sockets) }
        switch outcome {
        case .done: return .success(sockets)
        case .more: return .failure(.truncated)
        case .failed(let failure): return .failure(failure)
        }
    }

    /// Where a reply stands after one datagram.
    enum Progress {
        /// More datagrams follow.
        case more
        /// NLMSG_DONE was seen: the dump is complete.
        case done
        case failed(Failure)
    }

    /// Parses the messages of one datagram (netlink never splits a message across
    /// datagrams), appending the sockets found, so that a dump of 100,000 sockets is never
    /// held whole in memory.
    static func parse(datagram: UnsafeRawBufferPointer, into sockets: inout [DiagSocket]) -> Progress {
        var offset = 0
        while offset + 16 <= datagram.count {
            let length = Int(load(UInt32.self, datagram, offset))
            let type = load(UInt16.self, datagram, offset + 4)
            let flags = load(UInt16.self, datagram, offset + 6)
            guard length >= 16, offset + length <= datagram.count else { return .failed(.malformed("message length \(length) at \(offset)")) }
            if flags & dumpInterrupted != 0 { return .failed(.interrupted) }
            switch type {
            case done:
                return .done
            case error:
                let code = length >= 20 ? -load(Int32.self, datagram, offset + 16) : 0
                return .failed(.kernel(code))
            case sockDiagByFamily:
                guard let socket = DiagSocket(UnsafeRawBufferPointer(rebasing: datagram[(offset + 16)..<(offset + length)])) else {
                    return .failed(.malformed("socket message at \(offset)"))
                }
                sockets.append(socket)
            default:
                break
            }
            offset += (length + 3) & ~3
        }
        return .more
    }

    static func append<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    /// A little-endian integer at `offset` (unaligned).
    static func load<T: FixedWidthInteger>(_ type: T.Type, _ bytes: UnsafeRawBufferPointer, _ offset: Int) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension DiagSocket {
    /// Parses `struct inet_diag_msg` and its attributes.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 72 else { return nil }
        let family = Int32(bytes[0])
        guard let state = SocketRecord.State(rawValue: bytes[1]) else { return nil }
        let timer = SocketRecord.Timer(rawValue: bytes[2]) ?? .none
        let sourcePort = Int(bytes[4]) << 8 | Int(bytes[5])
        let destinationPort = Int(bytes[6]) << 8 | Int(bytes[7])
        let expires = SockDiag.load(UInt32.self, bytes, 52)
        let uid = SockDiag.load(UInt32.self, bytes, 64)
        let inode = SockDiag.load(UInt32.self, bytes, 68)
        var idle: Int?, unacknowledged = 0, cgroup: UInt64?
        var offset = 72
        while offset + 4 <= bytes.count {
            let length = Int(SockDiag.load(UInt16.self, bytes, offset))
            let type = SockDiag.load(UInt16.self, bytes, offset + 2)
            guard length >= 4, offset + length <= bytes.count else { return nil }
            let value = offset + 4, size = length - 4
            if type == SockDiag.infoAttribute, size >= 60 {
                unacknowledged = Int(SockDiag.load(UInt32.self, bytes, value + 24))
                idle = Int(min(SockDiag.load(UInt32.self, bytes, value + 52), SockDiag.load(UInt32.self, bytes, value + 56)))
            } else if type == SockDiag.cgroupAttribute, size >= 8 {
                cgroup = SockDiag.load(UInt64.self, bytes, value)
            }
            offset += (length + 3) & ~3
        }
        var record = SocketRecord(state: state, timer: timer, expiresMilliseconds: Int(expires), retransmits: Int(bytes[3]),
                                  inode: UInt64(inode), idleMilliseconds: idle, unacknowledged: unacknowledged)
        record.keepalive = record.inferredKeepalive
        self.init(local: DiagSocket.endpoint(family, UnsafeRawBufferPointer(rebasing: bytes[8..<24]), sourcePort),
                  remote: DiagSocket.endpoint(family, UnsafeRawBufferPointer(rebasing: bytes[24..<40]), destinationPort),
                  uid: uid, cgroupID: cgroup, record: record)
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
