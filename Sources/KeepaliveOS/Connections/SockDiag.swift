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
        var offset = 0
        while offset + 16 <= reply.count {
            let length = Int(load(UInt32.self, reply, offset))
            let type = load(UInt16.self, reply, offset + 4)
            let flags = load(UInt16.self, reply, offset + 6)
            guard length >= 16, offset + length <= reply.count else { return .failure(.malformed("message length \(length) at \(offset)")) }
            if flags & dumpInterrupted != 0 { return .failure(.interrupted) }
            switch type {
            case done:
                return .success(sockets)
            case error:
                let code = length >= 20 ? -load(Int32.self, reply, offset + 16) : 0
                return .failure(.kernel(code))
            case sockDiagByFamily:
                guard let socket = DiagSocket(reply[(offset + 16)..<(offset + length)]) else {
                    return .failure(.malformed("socket message at \(offset)"))
                }
                sockets.append(socket)
            default:
                break
            }
            offset += (length + 3) & ~3
        }
        return .failure(.truncated)
    }

    static func append<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    static func load<T: FixedWidthInteger>(_ type: T.Type, _ bytes: some Collection<UInt8>, _ offset: Int) -> T {
        var value: T = 0
        let start = bytes.index(bytes.startIndex, offsetBy: offset)
        withUnsafeMutableBytes(of: &value) { raw in
            for (index, byte) in bytes[start...].prefix(MemoryLayout<T>.size).enumerated() { raw[index] = byte }
        }
        return T(littleEndian: value)
    }
}

extension DiagSocket {
    /// Parses `struct inet_diag_msg` and its attributes.
    init?(_ payload: ArraySlice<UInt8>) {
        guard payload.count >= 72 else { return nil }
        let bytes = Array(payload)
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
            let value = Array(bytes[(offset + 4)..<(offset + length)])
            if type == SockDiag.infoAttribute, value.count >= 60 {
                unacknowledged = Int(SockDiag.load(UInt32.self, value, 24))
                idle = Int(min(SockDiag.load(UInt32.self, value, 52), SockDiag.load(UInt32.self, value, 56)))
            } else if type == SockDiag.cgroupAttribute, value.count >= 8 {
                cgroup = SockDiag.load(UInt64.self, value, 0)
            }
            offset += (length + 3) & ~3
        }
        var record = SocketRecord(state: state, timer: timer, expiresMilliseconds: Int(expires), retransmits: Int(bytes[3]),
                                  inode: UInt64(inode), idleMilliseconds: idle, unacknowledged: unacknowledged)
        record.keepalive = record.inferredKeepalive
        self.init(local: DiagSocket.endpoint(family, Array(bytes[8..<24]), sourcePort),
                  remote: DiagSocket.endpoint(family, Array(bytes[24..<40]), destinationPort),
                  uid: uid, cgroupID: cgroup, record: record)
    }

    /// `1.2.3.4:80` or `[::1]:80`.
    static func endpoint(_ family: Int32, _ address: [UInt8], _ port: Int) -> String {
        var text = [CChar](repeating: 0, count: 64)
        let length = family == AF_INET6 ? 16 : 4
        address.prefix(length).withUnsafeBytes { raw in _ = inet_ntop(family, raw.baseAddress, &text, socklen_t(text.count)) }
        let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
