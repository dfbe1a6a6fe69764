import CLinux

/// Why a netlink reply could not be used.
public enum NetlinkFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kernel answered NLMSG_ERROR (or NLMSG_DONE with an error) with this errno.
    case kernel(Int32)
    /// The table changed during the dump (NLM_F_DUMP_INTR); dump again.
    case interrupted
    /// The bytes are not a well-formed reply.
    case malformed(String)
    /// The reply ended without NLMSG_DONE.
    case truncated

    /// A sentence for the journal or the terminal.
    public var description: String {
        switch self {
        case .kernel(let code): "the kernel refused the dump: \(Errno(code))"
        case .interrupted: "the dump was interrupted (the table changed); dump again"
        case .malformed(let what): "malformed netlink reply: \(what)"
        case .truncated: "the netlink reply ended without NLMSG_DONE"
        }
    }
}

/// One netlink message, as the walker hands it on: its header's fields (host byte order,
/// as netlink is) and its payload, valid only during the call it is handed to.
public struct NetlinkMessage {
    /// `nlmsg_type`: e.g. SOCK_DIAG_BY_FAMILY, RTM_NEWNSID.
    public let type: UInt16
    /// `nlmsg_flags`.
    public let flags: UInt16
    /// The bytes after the header, up to `nlmsg_len`.
    public let payload: UnsafeRawBufferPointer

    /// The bytes of a message: a `struct nlmsghdr` for `type`, `flags` and `sequence`
    /// (port 0: the kernel fills in the sender's), then `payload`, padded to NLMSG_ALIGN.
    public static func bytes(type: UInt16, flags: UInt16, sequence: UInt32, payload: [UInt8]) -> [UInt8] {
        let header = nlmsghdr(nlmsg_len: UInt32(MemoryLayout<nlmsghdr>.size + payload.count), nlmsg_type: type,
                              nlmsg_flags: flags, nlmsg_seq: sequence, nlmsg_pid: 0)
        let bytes = withUnsafeBytes(of: header) { Array($0) } + payload
        return bytes + [UInt8](repeating: 0, count: Int(kt_nlmsg_align(UInt32(bytes.count))) - bytes.count)
    }

    /// The attributes (`struct rtattr`, type and value) that fill `bytes`, in order; `false`
    /// if one overruns them.
    public static func attributes(in bytes: UnsafeRawBufferPointer, _ each: (_ type: UInt16, _ value: UnsafeRawBufferPointer) -> Void) -> Bool {
        let headerSize = MemoryLayout<rtattr>.size
        var offset = 0
        while offset + headerSize <= bytes.count {
            let attribute = bytes.loadUnaligned(fromByteOffset: offset, as: rtattr.self)
            let length = Int(attribute.rta_len)
            guard length >= headerSize, offset + length <= bytes.count else { return false }
            each(attribute.rta_type, UnsafeRawBufferPointer(rebasing: bytes[(offset + headerSize)..<(offset + length)]))
            offset += Int(kt_rta_align(UInt32(length)))
        }
        return true
    }
}

/// The one reader of netlink replies, for every netlink socket of the daemon (the
/// sock_diag dump, the RTNLGRP_NSID monitor): it walks the messages of each datagram as
/// iproute2's `rtnl_dump_filter_l()` does.
///
/// - A datagram from anyone but the kernel (sender port 0) is passed over, whole.
/// - Every message's length is checked against the datagram; a message that overruns it,
///   or a datagram cut short by the buffer (MSG_TRUNC), is malformed.
/// - A message of another sequence number than the request's is passed over.
/// - NLM_F_DUMP_INTR is a failure (`interrupted`: dump again); NLMSG_ERROR, and NLMSG_DONE
///   carrying a negative errno, are the kernel's refusal; NLMSG_DONE ends the dump.
/// - Every other message is handed to the caller.
public struct NetlinkWalker {
    /// The sequence number replies must carry; `nil` for multicast events (any).
    public let sequence: UInt32?
    /// Datagrams passed over because another process, not the kernel, sent them.
    public private(set) var foreignDatagrams = 0
    /// Messages passed over because they answer another request (sequence number).
    public private(set) var strayMessages = 0

    /// A walker for the replies to the request numbered `sequence` (`nil`: events).
    public init(sequence: UInt32?) { self.sequence = sequence }

    /// Walks one datagram, handing each message to `each`: `true` once NLMSG_DONE is seen.
    ///
    /// - Parameters:
    ///   - datagram: the bytes received (the buffer's part that holds them).
    ///   - length: the datagram's whole length, which exceeds `datagram.count` when the
    ///     buffer cut it (as `recvfrom(2)` with MSG_TRUNC reports it).
    ///   - sender: the port id of the sender's address (`nl_pid`); 0 is the kernel.
    public mutating func walk(_ datagram: UnsafeRawBufferPointer, length: Int, sender: UInt32,
                              _ each: (NetlinkMessage) throws(NetlinkFailure) -> Void) throws(NetlinkFailure) -> Bool {
        guard length <= datagram.count else {
            throw .malformed("a datagram of \(length) bytes was cut to the buffer's \(datagram.count)")
        }
        guard sender == 0 else {
            foreignDatagrams += 1
            return false
        }
        let headerSize = MemoryLayout<nlmsghdr>.size
        var offset = 0
        while offset < datagram.count {
            guard offset + headerSize <= datagram.count else { throw .malformed("\(datagram.count - offset) stray bytes at \(offset)") }
            let header = datagram.loadUnaligned(fromByteOffset: offset, as: nlmsghdr.self)
            let size = Int(header.nlmsg_len)
            guard size >= headerSize, offset + size <= datagram.count else { throw .malformed("message length \(size) at \(offset)") }
            let payload = UnsafeRawBufferPointer(rebasing: datagram[(offset + headerSize)..<(offset + size)])
            let start = offset
            offset = min(offset + Int(kt_nlmsg_align(UInt32(size))), datagram.count)
            if let sequence, header.nlmsg_seq != sequence {
                strayMessages += 1
                continue
            }
            if Int32(header.nlmsg_flags) & NLM_F_DUMP_INTR != 0 { throw .interrupted }
            switch Int32(header.nlmsg_type) {
            case NLMSG_DONE:
                let code = payload.count >= 4 ? payload.loadUnaligned(as: Int32.self) : 0
                if code < 0 { throw .kernel(-code) }
                return true
            case NLMSG_ERROR:
                guard payload.count >= 4 else { throw .malformed("NLMSG_ERROR of \(payload.count) bytes at \(start)") }
                throw .kernel(-payload.loadUnaligned(fromByteOffset: MemoryLayout<nlmsgerr>.offset(of: \.error)!, as: Int32.self))
            case NLMSG_NOOP:
                continue
            default:
                try each(NetlinkMessage(type: header.nlmsg_type, flags: header.nlmsg_flags, payload: payload))
            }
        }
        return false
    }
}
