import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// rtnetlink's `RTNLGRP_NSID` group: `RTM_NEWNSID` when a namespace gets an id in ours (a
/// veth, macvlan or tunnel with its peer there, as docker, CNI and podman's bridges make),
/// `RTM_DELNSID` when it loses it (it died). No event exists for the creation of a
/// namespace as such; this is one of the hints that make the daemon look.
///
/// The socket belongs to the network namespace of the thread that opens it. Its events are
/// read by ``NetlinkWalker`` (only the kernel's count) through the seam.
public final class NsidMonitor {
    /// The descriptor to poll for readability.
    public var fd: Int32 { socket.fd }
    private let socket: NetlinkSocket
    private var buffer = [UInt8](repeating: 0, count: 8192)

    /// What a drain saw.
    public struct Seen: Sendable, Hashable {
        /// `RTM_NEWNSID` events, plus one for each time events were lost (ENOBUFS, a
        /// malformed datagram): something may have been missed, so look again.
        public var added = 0
        /// `RTM_DELNSID` events.
        public var removed = 0
        /// The ids the events named (`NETNSA_NSID`), in order.
        public var ids: [Int32] = []
        /// Whether anything was seen.
        public var any: Bool { added + removed > 0 }

        /// Nothing seen yet.
        public init() {}
    }

    /// Opens a non-blocking rtnetlink socket joined to `RTNLGRP_NSID`.
    public init(syscalls: Syscalls) throws(Errno) {
        socket = try NetlinkSocket.open(protocol: NETLINK_ROUTE, nonBlocking: true,
                                        groups: [Int32(RTNLGRP_NSID.rawValue)], syscalls: syscalls).get()
    }

    deinit { socket.close() }

    /// Reads every queued event; how many namespaces got and lost an id. An overflowed
    /// queue (ENOBUFS) counts as a change: something was missed, so look again.
    public func drain() -> Seen {
        var seen = Seen()
        var walker = NetlinkWalker(sequence: nil)
        let socket = self.socket
        while buffer.withUnsafeMutableBytes({ raw -> Bool in
            switch socket.receive(into: raw, flags: Int32(MSG_DONTWAIT)) {
            case .failure(let error) where error.code == ENOBUFS:
                seen.added += 1
                return true
            case .failure:
                return false   // EAGAIN: drained
            case .success(let received) where received.length == 0:
                return false
            case .success(let received):
                let datagram = UnsafeRawBufferPointer(rebasing: raw[..<min(received.length, raw.count)])
                do {
                    _ = try walker.walk(datagram, length: received.length, sender: received.sender) { NsidMonitor.note($0, in: &seen) }
                } catch {
                    seen.added += 1
                }
                return true
            }
        }) {}
        return seen
    }

    /// Counts an `RTM_NEWNSID` or `RTM_DELNSID` (a `struct rtgenmsg`, then attributes), with
    /// the id it names.
    static func note(_ message: NetlinkMessage, in seen: inout Seen) {
        let type = Int(message.type)
        let header = Int(kt_nlmsg_align(UInt32(MemoryLayout<rtgenmsg>.size)))
        guard type == RTM_NEWNSID || type == RTM_DELNSID, message.payload.count >= header else { return }
        if type == RTM_NEWNSID { seen.added += 1 } else { seen.removed += 1 }
        _ = NetlinkMessage.attributes(in: UnsafeRawBufferPointer(rebasing: message.payload[header...])) { attribute, value in
            if Int(attribute) == NETNSA_NSID, value.count >= MemoryLayout<Int32>.size { seen.ids.append(value.loadUnaligned(as: Int32.self)) }
        }
    }
}
